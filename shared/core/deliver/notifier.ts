/**
 * The port each channel implements: render a job into the channel's payload (pure, never fails for
 * any alert content) and send it, answering with a classified {@link SendResult}. The shared channel
 * handler (shared/adapters/channel) does everything else: idempotency, breaker, retries, DLQ.
 */
import type { Channel, NotificationJob } from '../model/index.ts';
import type { SendResult } from './classify.ts';

/** A channel's notifier. `R` is its rendered payload. */
export interface Notifier<R> {
  readonly channel: Channel;
  render(job: NotificationJob): R;
  /** Sends; resolves with a classified result (transport errors included), rejects only on bugs. */
  send(job: NotificationJob, rendered: R, nowMs: number): Promise<SendResult>;
}
