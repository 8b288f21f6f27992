/**
 * Release messages (docs/routing.md, "Inhibition") on the alert-events FIFO queue, beside the
 * evaluator's transitions: MessageGroupId = the held alert's fingerprint, so a release stays in
 * order with that alert's own transitions; MessageDeduplicationId = `releaseDedupId` (a release
 * re-sent by a redelivered resolution within SQS's 5-minute deduplication interval is received once;
 * after it, the second one finds nothing held and does nothing).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { releaseDedupId, type ReleaseMessage } from '../../core/dispatch/inhibit/release.ts';
import type { ReleasePublisher } from '../../core/dispatch/ports.ts';
import type { RetryPolicy } from '../dynamodb/batch.ts';
import { sendAllBatched } from './transition-publisher.ts';

/** {@link ReleasePublisher} on the alert-events FIFO queue. */
export class SqsReleasePublisher implements ReleasePublisher {
  constructor(private readonly deps: { readonly client: SQSClient; readonly queueUrl: string; readonly retry?: RetryPolicy }) {}

  async publish(releases: readonly ReleaseMessage[]): Promise<void> {
    const unique = [...new Map(releases.map((r) => [releaseDedupId(r), r])).entries()];
    const entries = unique.map(([dedupId, r], i) => ({ Id: String(i), MessageBody: JSON.stringify(r), MessageGroupId: r.fingerprint, MessageDeduplicationId: dedupId }));
    if (entries.length > 0) await sendAllBatched(this.deps.client, this.deps.queueUrl, entries, this.deps.retry);
  }
}
