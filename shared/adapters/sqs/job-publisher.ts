/**
 * Puts notification jobs on the channel FIFO queues, and bad transitions on the alert-events
 * dead-letter queue.
 *
 * Jobs: MessageGroupId = the alert's fingerprint (a resolution never overtakes its firing on a
 * channel), MessageDeduplicationId = SHA-256 hex of the job's idempotency key (64 characters: the
 * key itself may exceed SQS's 128-character limit,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
 * A job published twice within SQS's 5-minute deduplication interval is dropped by SQS; after it,
 * the channel function's idempotency on the same key takes over.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sha256Hex } from '../../core/dispatch/hash.ts';
import type { DeadLetterExtra, DeadLetterSender, JobPublisher } from '../../core/dispatch/ports.ts';
import type { Channel, NotificationJob } from '../../core/model/index.ts';
import { sendAllBatched, sqsSafeBody } from './transition-publisher.ts';

// The ports are declared in core (shared/core/dispatch/ports.ts); re-exported for callers of this adapter.
export type { DeadLetterExtra, DeadLetterSender, JobPublisher };

/** The SQS deduplication id of a job: a hash of its idempotency key (fits SQS's 128-character limit). */
export function jobDeduplicationId(job: Pick<NotificationJob, 'idempotencyKey'>): string {
  return sha256Hex(job.idempotencyKey);
}

/** {@link JobPublisher} on the per-channel SQS FIFO queues. */
export class SqsJobPublisher implements JobPublisher {
  readonly #sqs: SQSClient;
  readonly #queueUrls: Readonly<Record<Channel, string>>;

  constructor(sqs: SQSClient, queueUrls: Readonly<Record<Channel, string>>) {
    this.#sqs = sqs;
    this.#queueUrls = queueUrls;
  }

  async publish(jobs: readonly NotificationJob[]): Promise<void> {
    const byChannel = new Map<Channel, NotificationJob[]>();
    for (const j of jobs) byChannel.set(j.channel, [...(byChannel.get(j.channel) ?? []), j]);
    await Promise.all(
      [...byChannel].map(([channel, js]) =>
        sendAllBatched(
          this.#sqs,
          this.#queueUrls[channel],
          js.map((j, i) => ({
            Id: String(i),
            MessageBody: sqsSafeBody(JSON.stringify(j)),
            MessageGroupId: j.transition.fingerprint,
            MessageDeduplicationId: jobDeduplicationId(j),
          })),
        ),
      ),
    );
  }
}

/** SQS message attribute values are part of the 256 KiB message; keep the reason short. */
const REASON_MAX_CHARS = 1024;

/** A String message attribute, cut to {@link REASON_MAX_CHARS}; SQS refuses an empty value. */
const attr = (v: string) => ({ DataType: 'String', StringValue: v.slice(0, REASON_MAX_CHARS) || '-' });

/**
 * {@link DeadLetterSender} on an SQS queue (FIFO when the URL ends in `.fifo`: then the group is
 * the alert's fingerprint where known, and the deduplication id a hash of the body or of
 * `extra.dedupId`, so a redelivered bad message is dead-lettered once). Used by dispatch and, for
 * permanently failed jobs, by the channel functions.
 */
export class SqsDeadLetterSender implements DeadLetterSender {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
  }

  async send(body: string, reason: string, groupId: string, extra: DeadLetterExtra = {}): Promise<void> {
    const fifo = this.#queueUrl.endsWith('.fifo');
    const attributes: Record<string, { DataType: string; StringValue: string }> = { reason: attr(reason) };
    for (const [k, v] of Object.entries(extra.attributes ?? {})) attributes[k] = attr(v);
    await this.#sqs.send(
      new SendMessageCommand({
        QueueUrl: this.#queueUrl,
        // SQS refuses an empty body.
        MessageBody: sqsSafeBody(body === '' ? '(empty body)' : body),
        MessageAttributes: attributes,
        ...(fifo ? { MessageGroupId: groupId.slice(0, 128) || 'invalid', MessageDeduplicationId: sha256Hex(extra.dedupId ?? body) } : {}),
      }),
    );
  }
}
