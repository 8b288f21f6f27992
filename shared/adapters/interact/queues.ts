/**
 * The interactions side of SQS (issue 12): the endpoint puts verified work on the `interactions`
 * queue (a standard queue: the worker is idempotent, and a click needs no order), and the worker
 * puts action and note messages on the alert-events FIFO queue, group = the alert's fingerprint
 * (in order with its transitions), dedup = actionDedupId / noteDedupId (the same click or event
 * twice within SQS's 5-minute deduplication interval is one message; dispatch refuses the rest).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { actionDedupId, noteDedupId, type ActionMessage, type NoteMessage } from '../../core/lifecycle/action.ts';
import type { ActionPublisher, InteractionQueue } from '../../core/interact/ports.ts';
import type { InteractionWork } from '../../core/interact/work.ts';
import { sendBatch, sqsSafeBody, toSendBatches } from '../sqs/transition-publisher.ts';

/** {@link InteractionQueue} on SQS. */
export class SqsInteractionQueue implements InteractionQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(work: InteractionWork, signal?: AbortSignal): Promise<void> {
    // No SDK retry beyond the client's own: the endpoint's budget decides how long to try.
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: sqsSafeBody(JSON.stringify(work)) }), signal ? { abortSignal: signal } : {});
  }
}

/** {@link ActionPublisher} on the alert-events FIFO queue. */
export class SqsActionPublisher implements ActionPublisher {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(messages: readonly (ActionMessage | NoteMessage)[]): Promise<void> {
    const entries = messages.map((m, i) => ({
      Id: String(i),
      MessageBody: sqsSafeBody(JSON.stringify(m)),
      MessageGroupId: m.fingerprint,
      MessageDeduplicationId: m.action === 'note' ? noteDedupId(m) : actionDedupId(m),
    }));
    for (const batch of toSendBatches(entries)) await sendBatch(this.client, this.queueUrl, batch);
  }
}
