/**
 * Dispatch: alert records, routing (label routes + the severity matrix), escalation, throttling,
 * and the one decision that combines them ({@link decideDispatch}).
 */
export * from './alert-record.ts';
export * from './decide.ts';
export * from './duration.ts';
export * from './escalation.ts';
export * from './hash.ts';
export * from './routes-config.ts';
export * from './routing.ts';
export * from './throttle.ts';
export * from './transition-schema.ts';
