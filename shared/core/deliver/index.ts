/**
 * The deliver stage: error classification, the per-job decisions and the alert facts every
 * channel formats. See classify.ts, decide.ts and alert-view.ts.
 */
export * from './classify.ts';
export * from './decide.ts';
export * from './alert-view.ts';
export * from './notifier.ts';
export * from './job.ts';
export * from './redact.ts';
