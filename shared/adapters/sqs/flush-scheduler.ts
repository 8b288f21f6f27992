/**
 * Group flushes scheduled as delayed messages on the group-flush queue (a standard queue: FIFO
 * queues have no per-message delay). SQS delays a message at most 15 minutes: a later due time is
 * delivered early and scheduled again by the flush (`flushGroup`'s `early` outcome).
 * `speed` serves local mode, whose clock may run faster than the wall clock (a delay is given in
 * the clock's milliseconds and waited in real seconds).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FlushMessage, FlushScheduler } from '../../core/dispatch/group/ports.ts';
import type { RetryPolicy } from '../dynamodb/batch.ts';
import { sendAllBatched } from './transition-publisher.ts';

/** SQS's longest message delay. */
export const MAX_DELAY_SECONDS = 900;

/** The delay (whole seconds, 0..900) of a message due at `dueAtMs`, sent at `nowMs` on a clock running `speed` times real time. */
export function delaySecondsFor(dueAtMs: number, nowMs: number, speed = 1): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAtMs - nowMs) / speed / 1000)));
}

/** {@link FlushScheduler} on the group-flush queue. */
export class SqsFlushScheduler implements FlushScheduler {
  constructor(private readonly deps: { readonly client: SQSClient; readonly queueUrl: string; readonly speed?: number; readonly retry?: RetryPolicy }) {}

  /** The same scheduler on a clock running `speed` times real time (local mode). */
  withSpeed(speed: number): SqsFlushScheduler {
    return new SqsFlushScheduler({ ...this.deps, speed });
  }

  async schedule(messages: readonly FlushMessage[], nowMs: number): Promise<void> {
    const entries = messages.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m), DelaySeconds: delaySecondsFor(m.dueAtMs, nowMs, this.deps.speed) }));
    if (entries.length > 0) await sendAllBatched(this.deps.client, this.deps.queueUrl, entries, this.deps.retry);
  }
}
