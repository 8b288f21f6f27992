/**
 * Sends rejected records (undecodable values, invalid samples) to the rejected queue, one message
 * per rejected item with its Kafka coordinates, the reason and the raw value (both bounded by
 * decode: REJECTED_REASON_MAX_CHARS and REJECTED_RAW_MAX_CHARS, far below SQS's 256 KiB message
 * limit, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 *
 * Batches go out concurrently (at most `concurrency` SendMessageBatch requests in flight) within a
 * time budget the caller passes as an AbortSignal: when it fires, requests in flight are aborted and
 * no new ones start, and the send fails with a {@link RejectedSendError} listing exactly the records
 * not sent, so the caller redelivers only their partitions. An aborted request may still have reached
 * SQS: a redelivered record can then appear twice on the (standard, at-least-once) rejected queue;
 * its topic, partition and offset identify the duplicate.
 */
import { EVALUATOR_REJECTED_BUDGET_MS } from '../../config/timing.ts';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RejectedRecord } from '../../core/model/index.ts';
import { TransientError } from '../../core/errors/index.ts';
import { DEFAULT_CONCURRENCY, isTransientError, mapLimit, type RetryPolicy } from '../dynamodb/batch.ts';
import { SqsSendError, sendBatch, sqsSafeBody, toSendBatches } from './transition-publisher.ts';

/** The message body on the rejected queue. */
export interface RejectedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
  readonly reason: string;
  readonly raw: string;
  readonly rawTruncated: boolean;
}

/** Options of one {@link RejectedSink.send}. */
export interface RejectedSendOptions {
  /** The time budget: when it aborts, what is not sent yet is given up (and reported). */
  readonly signal?: AbortSignal;
}

/** The port. */
export interface RejectedSink {
  /**
   * Sends every rejected item, or throws a {@link RejectedSendError} naming the ones not sent (time
   * budget spent, or SQS still failing after retries). Any other error is a bug or a misconfiguration.
   */
  send(rejected: readonly RejectedRecord[], opts?: RejectedSendOptions): Promise<void>;
}

/**
 * The evaluator's default budget for sending one batch's rejected records: a fifth of its function
 * timeout (shared/config/timing.ts), leaving the rest for evaluation.
 */
export const DEFAULT_REJECTED_SEND_BUDGET_MS = EVALUATOR_REJECTED_BUDGET_MS;

/** Some rejected records could not be sent (transient): their partitions must be delivered again. */
export class RejectedSendError extends TransientError {
  constructor(
    /** The records not sent. */
    readonly unsent: readonly RejectedRecord[],
    total: number,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(`${unsent.length} of ${total} rejected records not sent to the rejected queue: ${why}`, options);
  }
}

/** Flattens a {@link RejectedRecord} into the queue's message body. */
export function rejectedMessage(r: RejectedRecord): RejectedMessage {
  return {
    topic: r.source.topic,
    partition: r.source.partition,
    offset: r.source.offset,
    timestampMs: r.source.timestampMs,
    reason: r.reason,
    raw: r.raw,
    rawTruncated: r.rawTruncated,
  };
}

/** {@link RejectedSink} on a standard SQS queue. */
export class SqsRejectedSink implements RejectedSink {
  constructor(
    private readonly deps: {
      readonly client: SQSClient;
      readonly queueUrl: string;
      readonly retry?: RetryPolicy;
      /** SendMessageBatch requests in flight at once (default DEFAULT_CONCURRENCY, 4). */
      readonly concurrency?: number;
    },
  ) {}

  async send(rejected: readonly RejectedRecord[], opts: RejectedSendOptions = {}): Promise<void> {
    if (rejected.length === 0) return;
    const { signal } = opts;
    const entries = rejected.map((r, i) => ({
      Id: String(i),
      MessageBody: sqsSafeBody(JSON.stringify(rejectedMessage(r))),
      MessageAttributes: { topic: { DataType: 'String', StringValue: r.source.topic } },
    }));
    const unsent: RejectedRecord[] = [];
    let transientCause: unknown;
    let fatal: { err: unknown } | undefined;
    await mapLimit(toSendBatches(entries), this.deps.concurrency ?? DEFAULT_CONCURRENCY, async (batch) => {
      const records = batch.map((e) => rejected[Number(e.Id)]!);
      if (signal?.aborted || fatal) {
        unsent.push(...records);
        return;
      }
      try {
        await sendBatch(this.deps.client, this.deps.queueUrl, batch, this.deps.retry, signal);
      } catch (err) {
        unsent.push(...records);
        // Out of time, or SQS still failing for its own reasons: redeliver these. Anything else
        // (a sender fault, access denied) is not cured by redelivery and fails the invocation.
        if (signal?.aborted || isTransientError(err) || (err instanceof SqsSendError && !err.senderFault)) transientCause ??= err;
        else fatal ??= { err };
      }
    });
    if (fatal) throw fatal.err;
    if (unsent.length > 0) {
      const why = signal?.aborted ? 'time budget spent' : 'SQS still failing after retries';
      throw new RejectedSendError(unsent, rejected.length, why, { cause: transientCause ?? signal?.reason });
    }
  }
}
