/**
 * Action messages (a person acknowledged an alert or took it back: shared/core/lifecycle/action.ts)
 * on the alert-events FIFO queue, beside the alert's transitions: MessageGroupId = the alert's
 * fingerprint, so an action stays in order with its alert's firing and resolution, and
 * MessageDeduplicationId = `actionDedupId` (the same request sent twice within SQS's 5-minute
 * deduplication interval is received once; after it, dispatch refuses it as already applied).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { actionDedupId, type ActionMessage } from '../../core/lifecycle/action.ts';
import type { RetryPolicy } from '../dynamodb/batch.ts';
import { sendAllBatched } from './transition-publisher.ts';

/** Publishes action messages (all or throw). */
export interface ActionPublisher {
  publish(actions: readonly ActionMessage[]): Promise<void>;
}

/** {@link ActionPublisher} on the alert-events FIFO queue. */
export class SqsActionPublisher implements ActionPublisher {
  constructor(private readonly deps: { readonly client: SQSClient; readonly queueUrl: string; readonly retry?: RetryPolicy }) {}

  async publish(actions: readonly ActionMessage[]): Promise<void> {
    const unique = [...new Map(actions.map((a) => [actionDedupId(a), a])).entries()];
    const entries = unique.map(([dedupId, a], i) => ({ Id: String(i), MessageBody: JSON.stringify(a), MessageGroupId: a.fingerprint, MessageDeduplicationId: dedupId }));
    if (entries.length > 0) await sendAllBatched(this.deps.client, this.deps.queueUrl, entries, this.deps.retry);
  }
}
