/**
 * Drives a channel handler the way Lambda's SQS event source does, against fauxqs: receive up to
 * 10 messages (with their system attributes), build the SQS event, call the real handler, delete
 * the successes. The handler's own ChangeMessageVisibility calls are observed (an SDK middleware
 * that records the requested seconds, not a mock: the call still reaches fauxqs). To simulate
 * minutes without waiting, the harness keeps each failed message's "visible again at" in simulated
 * time and, once the injected clock passes it, makes the message visible with
 * ChangeMessageVisibility 0.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { ChannelHandler } from '../../shared/adapters/channel/handler.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { LOCAL_REGION, sqsClient } from '../support/aws.ts';
import type { TestClock } from './deliver-fixtures.ts';

/** A logger that prints nothing (tests assert on effects, not logs). */
export const silentLogger = (): Logger => new Logger({ serviceName: 'test', logLevel: 'SILENT' });

/** An SQS client for the handler whose visibility changes are recorded (receipt handle → seconds). */
export function observedSqsClient(): { sqs: SQSClient; visibility: Map<string, number> } {
  const sqs = sqsClient();
  const visibility = new Map<string, number>();
  sqs.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Entries?: { ReceiptHandle?: string; VisibilityTimeout?: number }[] };
      for (const e of input.Entries ?? []) if (e.ReceiptHandle && e.VisibilityTimeout !== undefined) visibility.set(e.ReceiptHandle, e.VisibilityTimeout);
      return next(args);
    },
    { step: 'initialize', name: 'recordVisibility' },
  );
  return { sqs, visibility };
}

/** Sends a job as dispatch does (group = fingerprint, dedup id = hash of the idempotency key + a salt for deliberate redelivery). */
export async function enqueue(sqs: SQSClient, queueUrl: string, job: NotificationJob, salt = ''): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(job),
      MessageGroupId: job.transition.fingerprint,
      MessageDeduplicationId: createHash('sha256').update(job.idempotencyKey + salt).digest('hex'),
    }),
  );
}

/** The result of one {@link QueueDriver.step}. */
export interface StepResult {
  readonly received: number;
  readonly failed: number;
  /** Requested visibility (s) per failed message id. */
  readonly visibility: ReadonlyMap<string, number>;
}

/** Feeds a queue to a handler in simulated time. */
export class QueueDriver {
  readonly #pending = new Map<string, { receiptHandle: string; dueMs: number }>();
  readonly events: SQSEvent[] = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly handler: ChannelHandler,
    private readonly clock: TestClock,
    private readonly observed: Map<string, number>,
  ) {}

  /** Makes held messages whose simulated time has come visible again. */
  async release(): Promise<void> {
    for (const [id, p] of this.#pending) {
      if (p.dueMs > this.clock.now()) continue;
      await this.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: p.receiptHandle, VisibilityTimeout: 0 }));
      this.#pending.delete(id);
    }
  }

  /** Messages currently held (failed, waiting for their simulated visibility to end). */
  held(): number {
    return this.#pending.size;
  }

  /** Receives one batch (up to 10) and runs the handler on it. */
  async step(): Promise<StepResult> {
    await this.release();
    const res = await this.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }),
    );
    const msgs = res.Messages ?? [];
    if (!msgs.length) return { received: 0, failed: 0, visibility: new Map() };
    const records: SQSRecord[] = msgs.map((m) => toSqsRecord(m, `arn:aws:sqs:${LOCAL_REGION}:000000000000:queue`, LOCAL_REGION));
    const event: SQSEvent = { Records: records };
    this.events.push(event);
    const out = await this.handler(event);
    const failedIds = new Set((out.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    const ok = records.filter((r) => !failedIds.has(r.messageId));
    if (ok.length) {
      await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: ok.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }));
    }
    const visibility = new Map<string, number>();
    for (const r of records) {
      if (!failedIds.has(r.messageId)) continue;
      const seconds = this.observed.get(r.receiptHandle) ?? 30;
      visibility.set(r.messageId, seconds);
      this.#pending.set(r.messageId, { receiptHandle: r.receiptHandle, dueMs: this.clock.now() + seconds * 1000 });
    }
    return { received: records.length, failed: failedIds.size, visibility };
  }

  /** Steps until the queue yields nothing and nothing is held, advancing the clock by `tickMs` per idle step. */
  async drain(opts: { tickMs: number; maxSimMs: number; onTick?: () => void }): Promise<void> {
    const end = this.clock.now() + opts.maxSimMs;
    while (this.clock.now() <= end) {
      const r = await this.step();
      if (r.received === 0) {
        if (this.#pending.size === 0) return;
        this.clock.advance(opts.tickMs);
        opts.onTick?.();
      }
    }
    throw new Error(`queue not drained within ${opts.maxSimMs} simulated ms (${this.#pending.size} held)`);
  }
}

/** Receives everything currently visible on a queue (e.g. a DLQ) without deleting it. */
export async function peekAll(sqs: SQSClient, queueUrl: string): Promise<{ body: string; attributes: Record<string, string> }[]> {
  const out: { body: string; attributes: Record<string, string> }[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], VisibilityTimeout: 60 }));
    const msgs = res.Messages ?? [];
    if (!msgs.length) return out;
    for (const m of msgs) out.push({ body: m.Body ?? '', attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ''])) });
  }
}
