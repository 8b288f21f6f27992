/** Reads a queue to the end (receive, delete) in the emulator. */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Receives and deletes every message currently on the queue; returns the parsed bodies. */
export async function drainQueue<T = unknown>(sqs: SQSClient, queueUrl: string): Promise<T[]> {
  const out: T[] = [];
  let empty = 0;
  while (empty < 2) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    for (const m of msgs) out.push(JSON.parse(m.Body ?? 'null') as T);
    const del = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    // A message left in flight would hold back the rest of its FIFO group: a drain must not leave one.
    if (del.Failed?.length) throw new Error(`drainQueue: could not delete ${del.Failed.length} message(s): ${JSON.stringify(del.Failed)}`);
  }
  return out;
}
