/**
 * The deliver stage: the channel pipeline (`pipeline.ts`), its decisions (`decide.ts`), its ports
 * and their in-memory implementations, error classification and the alert facts every channel
 * formats. docs/design.md, "The channel pipeline".
 */
export * from './classify.ts';
export * from './decide.ts';
export * from './alert-view.ts';
export * from './in-memory.ts';
export * from './notifier.ts';
export * from './job.ts';
export * from './pipeline.ts';
export * from './ports.ts';
export * from './redact.ts';
