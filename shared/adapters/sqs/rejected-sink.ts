/**
 * Sends rejected records (undecodable values, invalid samples) to the rejected queue, one message
 * per record with its Kafka coordinates, the reason and the raw value (truncated by decode to
 * REJECTED_RAW_MAX_CHARS, far below SQS's 256 KiB message limit).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RejectedRecord } from '../../core/model/index.ts';
import type { RetryPolicy } from '../dynamodb/batch.ts';
import { sendAllBatched, sqsSafeBody } from './transition-publisher.ts';

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

/** The port. */
export interface RejectedSink {
  send(rejected: readonly RejectedRecord[]): Promise<void>;
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
  constructor(private readonly deps: { readonly client: SQSClient; readonly queueUrl: string; readonly retry?: RetryPolicy }) {}

  async send(rejected: readonly RejectedRecord[]): Promise<void> {
    if (rejected.length === 0) return;
    const entries = rejected.map((r, i) => ({
      Id: String(i),
      MessageBody: sqsSafeBody(JSON.stringify(rejectedMessage(r))),
      MessageAttributes: { topic: { DataType: 'String', StringValue: r.source.topic } },
    }));
    await sendAllBatched(this.deps.client, this.deps.queueUrl, entries, this.deps.retry);
  }
}
