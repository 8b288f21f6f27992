/**
 * The port each channel implements: render a job into the channel's payload (pure) and send it,
 * answering with a classified {@link SendResult}. The shared channel handler (shared/adapters/channel)
 * does everything else: idempotency, breaker, retries, DLQ.
 */
import { errorMessage, PermanentError } from '../errors/index.ts';
import type { Channel, NotificationJob } from '../model/index.ts';
import type { SendResult } from './classify.ts';

/** A channel's notifier. `R` is its rendered payload. */
export interface Notifier<R> {
  readonly channel: Channel;
  /** Renders the payload; may throw on a template bug or content it cannot render (see {@link renderJob}). */
  render(job: NotificationJob): R;
  /** Sends; resolves with a classified result (transport errors included), rejects only on bugs. */
  send(job: NotificationJob, rendered: R, nowMs: number): Promise<SendResult>;
}

/**
 * Rendering this job failed. Rendering is pure, so the same job fails the same way on every
 * attempt: permanent (dead-lettered at once with the reason), and never a failure of the
 * destination (the breaker does not count it).
 */
export class RenderError extends PermanentError {}

/**
 * Renders a job, turning any throw of the channel's formatter into a {@link RenderError} naming
 * the channel and the job, with the original error as `cause`.
 */
export function renderJob<R>(notifier: Notifier<R>, job: NotificationJob): R {
  try {
    return notifier.render(job);
  } catch (err) {
    throw new RenderError(`${notifier.channel} message could not be rendered for job ${job.idempotencyKey}: ${errorMessage(err, 300)}`, { cause: err });
  }
}
