/** Kafka (MSK) adapter: the Lambda event and the partial batch response. */
export * from './msk-event.ts';
