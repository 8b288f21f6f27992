/**
 * One error family for the whole pipeline, and one decision of what a function does with an error.
 *
 * Every error Klaxon raises on purpose extends {@link KlaxonError}: it says whether trying again
 * can help (`transient`) and keeps the error that caused it (`cause`). Branch on `instanceof` or
 * on `transient`, never on `error.name` strings.
 *
 * {@link failureAction} is the single policy every handler applies (evaluator, timers, dispatch,
 * channels), instead of one policy per function:
 * - `retry`: the work is fine, the world was not (a throttled call, a conflict, a destination
 *   down): leave the message or partition to be delivered again;
 * - `dead-letter`: the work itself can never succeed (a malformed job, a template that throws, a
 *   destination that refuses the payload): set it aside at once with the reason, never retry it,
 *   and never count it against a destination;
 * - `fail-batch`: a bug or an unknown failure outside any one item: let the invocation fail so
 *   Lambda's own retry, bisect and on-failure destination take over (nothing is acknowledged).
 */

/** Options of every {@link KlaxonError}. */
export interface KlaxonErrorOptions {
  readonly cause?: unknown;
}

/** Base of Klaxon's errors: `transient` says whether the same work may succeed if tried again. */
export abstract class KlaxonError extends Error {
  /** True when trying the same work again may succeed. */
  abstract readonly transient: boolean;
  constructor(message: string, options?: KlaxonErrorOptions) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
  }
}

/** A failure of the world (throttling, conflict, timeout, a destination down): try again later. */
export class TransientError extends KlaxonError {
  readonly transient = true;
}

/**
 * A failure of the work itself (invalid input, a rendering bug for this item, a payload the
 * destination refuses): trying again gives the same answer, so it is set aside with its reason.
 */
export class PermanentError extends KlaxonError {
  readonly transient = false;
}

/** What a handler does with an error (see the module comment). */
export const FAILURE_ACTIONS = ['retry', 'dead-letter', 'fail-batch'] as const;
/** One of {@link FAILURE_ACTIONS}. */
export type FailureAction = (typeof FAILURE_ACTIONS)[number];

/** Readable text of each action, for logs. */
export const FAILURE_ACTION_TEXT: Readonly<Record<FailureAction, string>> = {
  retry: 'transient failure: delivered again later',
  'dead-letter': 'permanent failure of this item: set aside with its reason',
  'fail-batch': 'unexpected failure: the invocation fails and Lambda retries it',
};

/**
 * The one decision: {@link TransientError}-like errors are retried, {@link PermanentError}-like
 * errors are dead-lettered when they concern one item, and anything else (a bug, an unknown
 * throw) fails the batch. `isTransient` lets an adapter classify errors of a library it wraps
 * (the AWS SDK's throttling errors, say) without core knowing the library.
 */
export function failureAction(err: unknown, isTransient: (e: unknown) => boolean = () => false): FailureAction {
  if (err instanceof KlaxonError) return err.transient ? 'retry' : 'dead-letter';
  if (isTransient(err)) return 'retry';
  return 'fail-batch';
}

/** Message of any thrown value, bounded (for logs and dead-letter reasons). */
export function errorMessage(err: unknown, max = 1000): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
