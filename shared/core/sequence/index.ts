/**
 * The evaluation sequence (decode happens before, at the edge): one core function for a batch of
 * samples ({@link evaluateBatch}) and one for what time alone decides ({@link advanceTimers}),
 * over ports ({@link ./ports.ts}) with DynamoDB/SQS adapters for the functions and in-memory
 * implementations for replays and tests.
 */
export * from './ports.ts';
export * from './evaluate-batch.ts';
export * from './advance-timers.ts';
export * from './in-memory.ts';
export * from './writes.ts';
export * from './derived.ts';
export * from './sample-log.ts';
