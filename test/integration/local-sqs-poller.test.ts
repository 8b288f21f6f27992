/**
 * The local SQS event source against the real SQS emulator (fauxqs): partial batch responses,
 * redelivery after the visibility timeout, and the queue's redrive to the DLQ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SqsPoller, succeededIds } from '../../local/runtime/sqs-poller.ts';
import { sqsClient } from '../support/aws.ts';
import { waitFor } from '../support/wait.ts';

let sqs: SQSClient;

async function queue(opts: { visibility: number; maxReceiveCount?: number }): Promise<{ url: string; arn: string; dlqUrl?: string }> {
  const name = `poll-${randomUUID().slice(0, 8)}`;
  let dlq: { url: string; arn: string } | undefined;
  if (opts.maxReceiveCount) {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    dlq = { url, arn };
  }
  const url = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(opts.visibility),
          ...(dlq ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: opts.maxReceiveCount }) } : {}),
        },
      }),
    )
  ).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  return { url, arn, ...(dlq ? { dlqUrl: dlq.url } : {}) };
}

async function send(url: string, bodies: string[]): Promise<void> {
  await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })) }));
}

async function count(url: string): Promise<number> {
  const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
}

beforeAll(() => {
  sqs = sqsClient();
});
afterAll(() => sqs.destroy());

describe('succeededIds', () => {
  const event = { Records: [{ messageId: 'a' }, { messageId: 'b' }, { messageId: 'c' }] } as SQSEvent;
  it.each([
    // no response: everything succeeded
    [undefined, undefined, ['a', 'b', 'c']],
    // an empty list: everything succeeded
    [{ batchItemFailures: [] }, undefined, ['a', 'b', 'c']],
    // one failure: the others succeeded
    [{ batchItemFailures: [{ itemIdentifier: 'b' }] }, undefined, ['a', 'c']],
    // an identifier not in the batch fails the whole batch (as Lambda does)
    [{ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, undefined, []],
    // an empty identifier fails the whole batch
    [{ batchItemFailures: [{ itemIdentifier: '' }] }, undefined, []],
    // a thrown error fails the whole batch
    [undefined, new Error('x'), []],
  ])('response %j, error %s → %j succeeded', (response, error, expected) => {
    expect(succeededIds(event, response as SQSBatchResponse | undefined, error).succeeded).toEqual(expected);
  });
});

describe('SqsPoller', () => {
  it('builds SQS events and deletes only the messages that succeeded', async () => {
    const q = await queue({ visibility: 30 });
    await send(q.url, ['ok-1', 'fail-1', 'ok-2']);
    const seen: SQSEvent[] = [];
    const poller = new SqsPoller({
      sqs,
      queue: 'test',
      queueUrl: q.url,
      queueArn: q.arn,
      batchSize: 10,
      invoke: async (event) => {
        seen.push(event);
        return { batchItemFailures: event.Records.filter((r) => r.body.startsWith('fail')).map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    let received = 0;
    while (received < 3) received += await poller.pollOnce(1);
    const records = seen.flatMap((e) => e.Records);
    expect(records.map((r) => r.body).sort()).toEqual(['fail-1', 'ok-1', 'ok-2']);
    expect(records[0]!.eventSource).toBe('aws:sqs');
    expect(records[0]!.eventSourceARN).toBe(q.arn);
    expect(records[0]!.attributes.ApproximateReceiveCount).toBe('1');
    // The failed one is still on the queue (in flight until its visibility timeout ends).
    expect(await count(q.url)).toBe(1);
  });

  it('leaves a failed message for redelivery after its visibility timeout', async () => {
    const q = await queue({ visibility: 1 });
    await send(q.url, ['flaky']);
    const counts: string[] = [];
    const poller = new SqsPoller({
      sqs,
      queue: 'test',
      queueUrl: q.url,
      queueArn: q.arn,
      batchSize: 10,
      invoke: async (event) => {
        counts.push(event.Records[0]!.attributes.ApproximateReceiveCount);
        // Fails the first time, succeeds the second.
        return counts.length === 1 ? { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] } : { batchItemFailures: [] };
      },
    });
    poller.start();
    await waitFor('a second delivery', () => counts.length, (n) => n >= 2, { timeoutMs: 10_000, everyMs: 50 });
    await poller.stop();
    expect(counts).toEqual(['1', '2']);
    expect(await count(q.url)).toBe(0);
  });

  it('lets the queue move a message that keeps failing to its DLQ', async () => {
    const q = await queue({ visibility: 1, maxReceiveCount: 2 });
    await send(q.url, ['poison']);
    let attempts = 0;
    const poller = new SqsPoller({
      sqs,
      queue: 'test',
      queueUrl: q.url,
      queueArn: q.arn,
      batchSize: 10,
      invoke: async () => {
        attempts++;
        throw new Error('always fails');
      },
    });
    poller.start();
    await waitFor('the message on the DLQ', () => count(q.dlqUrl!), (n) => n > 0, { timeoutMs: 12_000, everyMs: 200 });
    await poller.stop();
    expect(attempts).toBe(2);
    const dlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.dlqUrl!, WaitTimeSeconds: 0 }));
    expect(dlq.Messages?.map((m) => m.Body)).toEqual(['poison']);
  });
});
