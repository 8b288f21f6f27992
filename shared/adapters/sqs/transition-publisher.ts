/**
 * Puts alert transitions on the alert-events FIFO queue: SendMessageBatch of at most 10 entries,
 * MessageGroupId = fingerprint (a resolution never overtakes its firing), MessageDeduplicationId =
 * transitionId (a re-sent transition within SQS's 5-minute deduplication interval is dropped by SQS;
 * after that, downstream idempotency on the same id takes over).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { AlertTransition } from '../../core/model/index.ts';
import { KlaxonError } from '../../core/errors/index.ts';
import type { TransitionPublisher } from '../../core/sequence/ports.ts';
import { backoff, DEFAULT_RETRY, type RetryPolicy } from '../dynamodb/batch.ts';

/** SendMessageBatch: at most 10 entries per request. */
export const SQS_BATCH_MAX_ENTRIES = 10;
/** SendMessageBatch: at most 256 KiB for the whole request; keep a margin for attributes. */
export const SQS_BATCH_MAX_BYTES = 250_000;

/**
 * Thrown when entries still fail after retries. `senderFault` entries are refused for their content
 * (SQS's SenderFault: the same entries fail the same way again, so permanent); the others failed on
 * SQS's side (transient).
 */
export class SqsSendError extends KlaxonError {
  readonly transient: boolean;
  constructor(
    message: string,
    readonly failedIds: readonly string[],
    readonly senderFault: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.transient = !senderFault;
  }
}

/**
 * SQS accepts only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF in a body. JSON already
 * escapes control characters and lone surrogates; U+FFFE and U+FFFF are left, so replace them.
 */
export function sqsSafeBody(text: string): string {
  return text.replace(/[\uFFFE\uFFFF]/g, '\uFFFD');
}

/** Groups entries into SendMessageBatch requests of at most 10 entries and 250 KB. */
export function toSendBatches(entries: readonly SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let cur: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(e.MessageBody ?? '', 'utf8') + 200;
    if (cur.length >= SQS_BATCH_MAX_ENTRIES || (cur.length > 0 && bytes + size > SQS_BATCH_MAX_BYTES)) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += size;
  }
  if (cur.length) batches.push(cur);
  return batches;
}

/**
 * Sends one batch (from {@link toSendBatches}); entries that fail for a service reason are retried
 * with backoff, SenderFault entries are not. `signal` aborts the request in flight and any retry.
 * @throws SqsSendError when entries are still failing; the SDK's AbortError when aborted
 */
export async function sendBatch(client: SQSClient, queueUrl: string, batch: readonly SendMessageBatchRequestEntry[], retry: RetryPolicy = DEFAULT_RETRY, signal?: AbortSignal): Promise<void> {
  let pending = [...batch];
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) await backoff(attempt - 1, retry);
    signal?.throwIfAborted();
    const res = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }), signal ? { abortSignal: signal } : {});
    const failed = res.Failed ?? [];
    if (failed.length === 0) return;
    const sender = failed.filter((f) => f.SenderFault);
    if (sender.length > 0) {
      throw new SqsSendError(`SQS refused ${sender.length} entries: ${sender.map((f) => `${f.Id}: ${f.Code} ${f.Message ?? ''}`).join('; ')}`, sender.map((f) => f.Id ?? ''), true);
    }
    const ids = new Set(failed.map((f) => f.Id));
    pending = pending.filter((e) => ids.has(e.Id));
    if (attempt >= retry.maxAttempts) {
      throw new SqsSendError(`SQS failed ${pending.length} entries after ${attempt} attempts`, [...ids].map(String), false);
    }
  }
}

export type { TransitionPublisher } from '../../core/sequence/ports.ts';
/**
 * Sends entries in batches of at most 10 and 250 KB, one batch after the other (see {@link sendBatch}).
 * @throws SqsSendError when entries are still failing
 */
export async function sendAllBatched(client: SQSClient, queueUrl: string, entries: readonly SendMessageBatchRequestEntry[], retry: RetryPolicy = DEFAULT_RETRY): Promise<void> {
  for (const batch of toSendBatches(entries)) await sendBatch(client, queueUrl, batch, retry);
}


/** JSON of a transition: NaN values are sent as null (JSON has no NaN). */
export function transitionBody(t: AlertTransition): string {
  return sqsSafeBody(JSON.stringify(t, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

/** {@link TransitionPublisher} on an SQS FIFO queue. */
export class SqsTransitionPublisher implements TransitionPublisher {
  constructor(private readonly deps: { readonly client: SQSClient; readonly queueUrl: string; readonly retry?: RetryPolicy }) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    if (transitions.length === 0) return;
    // The same transition twice in one batch would be two entries with one dedup id; send it once.
    const unique = [...new Map(transitions.map((t) => [t.transitionId, t])).values()];
    const entries = unique.map((t, i) => ({
      Id: String(i),
      MessageBody: transitionBody(t),
      MessageGroupId: t.fingerprint,
      // MessageDeduplicationId: at most 128 characters.
      MessageDeduplicationId: t.transitionId.slice(0, 128),
    }));
    await sendAllBatched(this.deps.client, this.deps.queueUrl, entries, this.deps.retry);
  }
}
