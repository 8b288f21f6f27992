/**
 * The channel queue operations the handler needs beyond Lambda's own delete-on-success: extending
 * the visibility of held or failed messages, and sending a permanently failed job to the channel's
 * dead-letter queue at once (with the reason as message attributes).
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetterSender } from '../sqs/job-publisher.ts';
import { TransientError } from '../../core/errors/index.ts';
import type { ChannelQueue, DeadLetterMeta } from '../../core/deliver/ports.ts';

// The port is declared in core (shared/core/deliver/ports.ts); re-exported for callers of this adapter.
export type { ChannelQueue };

/** A ChangeMessageVisibilityBatch entry failed (the message stays with its default visibility): transient. */
export class VisibilityChangeError extends TransientError {}

/** {@link ChannelQueue} on SQS. */
export class SqsChannelQueue implements ChannelQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;
  readonly #dlq: SqsDeadLetterSender;

  constructor(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl: string) {
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
    this.#dlq = new SqsDeadLetterSender(sqs, deadLetterQueueUrl);
  }

  async changeVisibility(entries: readonly { readonly receiptHandle: string; readonly seconds: number }[]): Promise<void> {
    // ChangeMessageVisibilityBatch takes at most 10 entries.
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      const res = await this.#sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: chunk.map((e, j) => ({ Id: String(i + j), ReceiptHandle: e.receiptHandle, VisibilityTimeout: Math.max(0, Math.min(43_200, Math.ceil(e.seconds))) })),
        }),
      );
      if (res.Failed?.length) throw new VisibilityChangeError(`visibility change failed for ${res.Failed.length} message(s): ${res.Failed.map((f) => f.Code).join(', ')}`);
    }
  }

  async deadLetter(body: string, meta: DeadLetterMeta): Promise<void> {
    await this.#dlq.send(body, meta.reason, meta.groupId, {
      dedupId: meta.dedupId,
      attributes: { detail: meta.detail, channel: meta.channel, destinationId: meta.destinationId },
    });
  }
}
