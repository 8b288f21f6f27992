/** Rule sources (file, SSM, DynamoDB) and the validated, cached rule set the functions use. */
export * from './sources.ts';
export * from './cached-rules.ts';
export * from './from-config.ts';
