/**
 * Dispatch: the pipeline from an alert transition to notification jobs (`pipeline.ts`), its stages
 * (one folder each), its ports and their in-memory implementations. docs/design.md, "The
 * notification pipeline".
 */
export * from './channels/index.ts';
export * from './context.ts';
export * from './dedup/index.ts';
export * from './duration.ts';
export * from './flapping/index.ts';
export * from './group/index.ts';
export * from './hash.ts';
export * from './in-memory.ts';
export * from './inhibit/index.ts';
export * from './pipeline.ts';
export * from './ports.ts';
export * from './record/index.ts';
export * from './repeat/index.ts';
export * from './route/index.ts';
export * from './silence/index.ts';
export * from './throttle/index.ts';
export * from './time-intervals/index.ts';
export * from './lower/index.ts';
export * from './transition-schema.ts';
