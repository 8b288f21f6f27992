/**
 * An SQS event source for the local runtime, as Lambda's SQS event source mapping behaves:
 * long-polls the queue, hands batches of at most `batchSize` messages to the function as an
 * `SQSEvent`, deletes only the messages that succeeded (partial batch response), and leaves the
 * failed ones to reappear when their visibility timeout ends. The queue's redrive policy (fauxqs
 * moves a message to the DLQ after maxReceiveCount receives) does the dead-lettering.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** What happened in one invocation (for logs and the console). */
export interface SqsInvocation {
  readonly queue: string;
  readonly event: SQSEvent;
  readonly durationMs: number;
  readonly response?: SQSBatchResponse | void;
  readonly error?: unknown;
  /** Message ids that succeeded (deleted). */
  readonly succeeded: readonly string[];
  /** Message ids left on the queue for redelivery. */
  readonly failed: readonly string[];
}

/** Options of {@link SqsPoller}. */
export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  /** Logical name, for logs. */
  readonly queue: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  /** Parallel pollers (the mapping's maximum concurrency); default 1. */
  readonly concurrency?: number;
  /** Long-poll wait (seconds); small so stop() is quick. Default 1. */
  readonly waitTimeSeconds?: number;
  readonly invoke: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  /** Called with each batch before the function runs (the console taps transitions here). */
  readonly onBatch?: (event: SQSEvent) => void;
  readonly onInvoke?: (info: SqsInvocation) => void;
  /** Called when the poller itself fails (the emulator went away); the loop keeps going. */
  readonly onError?: (err: unknown) => void;
  readonly region?: string;
}

/** Turns a received SQS message into the record Lambda would pass. */
export function toSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
    ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
  };
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
    messageAttributes[k] = {
      dataType: v.DataType ?? 'String',
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
    };
  }
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes,
    messageAttributes,
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which messages of a batch succeeded, as Lambda reads a partial batch response: no response or an
 * empty list is full success; a thrown error, or an identifier that is empty or not in the batch,
 * fails the whole batch.
 */
export function succeededIds(event: SQSEvent, response: SQSBatchResponse | void, error: unknown): { succeeded: string[]; failed: string[] } {
  const all = event.Records.map((r) => r.messageId);
  if (error !== undefined) return { succeeded: [], failed: all };
  const failures = response?.batchItemFailures ?? [];
  const failed = new Set<string>();
  for (const f of failures) {
    const id = f?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !all.includes(id)) return { succeeded: [], failed: all };
    failed.add(id);
  }
  return { succeeded: all.filter((id) => !failed.has(id)), failed: all.filter((id) => failed.has(id)) };
}

/** Polls one queue and invokes one function with its messages. */
export class SqsPoller {
  private stopped = false;
  private loops: Promise<void>[] = [];
  private abort = new AbortController();

  constructor(private readonly opts: SqsPollerOptions) {}

  /** Starts the poll loops. */
  start(): void {
    const n = Math.max(1, this.opts.concurrency ?? 1);
    for (let i = 0; i < n; i++) this.loops.push(this.loop());
  }

  /** Stops polling and waits for invocations in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all(this.loops);
  }

  /** Receives one batch and processes it; returns the number of messages received. */
  async pollOnce(waitTimeSeconds = this.opts.waitTimeSeconds ?? 1): Promise<number> {
    const res = await this.opts.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.opts.queueUrl,
        MaxNumberOfMessages: Math.min(10, this.opts.batchSize),
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) return 0;
    const region = this.opts.region ?? 'us-east-1';
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, this.opts.queueArn, region)) };
    this.opts.onBatch?.(event);
    const started = Date.now();
    let response: SQSBatchResponse | void = undefined;
    let error: unknown;
    try {
      response = await this.opts.invoke(event);
    } catch (err) {
      error = err;
    }
    const { succeeded, failed } = succeededIds(event, response, error);
    if (succeeded.length > 0) {
      const byId = new Map(event.Records.map((r) => [r.messageId, r.receiptHandle]));
      await this.opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: succeeded.map((id, i) => ({ Id: String(i), ReceiptHandle: byId.get(id)! })),
        }),
      );
    }
    this.opts.onInvoke?.({ queue: this.opts.queue, event, durationMs: Date.now() - started, response, error, succeeded, failed });
    return messages.length;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pollOnce();
      } catch (err) {
        if (this.stopped) return;
        this.opts.onError?.(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
