/**
 * Small DynamoDB helpers shared by the series-state store: batched reads with UnprocessedKeys
 * retried, backoff, and the classification of AWS errors into transient (retry the Kafka batch)
 * and everything else.
 */
import { BatchGetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransientError } from '../../core/errors/index.ts';

/** A DynamoDB item in the low-level attribute-value format. */
export type Item = Record<string, AttributeValue>;

/**
 * BatchGetItem accepts at most 100 keys per request.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 */
export const BATCH_GET_MAX_KEYS = 100;

/** Retry policy for partial results (UnprocessedKeys, failed batch entries). */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  readonly maxAttempts: number;
  /** First backoff delay (ms); doubled each attempt, full jitter. */
  readonly baseDelayMs: number;
}

/** Default: 6 attempts, 20 ms doubling (about 1.3 s worst case), as AWS recommends for UnprocessedKeys. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 20 };

/** Thrown when DynamoDB still leaves keys unprocessed after every retry (throughput exhausted: transient). */
export class UnprocessedKeysError extends TransientError {
  constructor(
    readonly remaining: number,
    options?: { cause?: unknown },
  ) {
    super(`BatchGetItem left ${remaining} keys unprocessed after retries`, options);
  }
}

/** Requests of one batched operation in flight at once (a 10,000-record batch reads ~20 chunks). */
export const DEFAULT_CONCURRENCY = 4;

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all settle. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError) throw firstError.err;
  return results;
}

/** Sleeps for an exponential, fully jittered delay (attempt 1 = first retry). */
export async function backoff(attempt: number, policy: RetryPolicy = DEFAULT_RETRY): Promise<void> {
  const cap = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  await new Promise((r) => setTimeout(r, Math.random() * cap));
}

/**
 * Reads items by partition key, at most 100 keys per request, strongly consistent (the version
 * guard would catch a stale read, but a fresh one avoids a needless conflict round).
 * UnprocessedKeys (throttling, 16 MB response cap) are retried with backoff.
 * @returns items by key value
 */
export async function batchGetByKey(
  client: DynamoDBClient,
  table: string,
  keyName: string,
  keys: readonly string[],
  opts: { projection?: readonly string[]; retry?: RetryPolicy; concurrency?: number } = {},
): Promise<Map<string, Item>> {
  const out = new Map<string, Item>();
  const unique = [...new Set(keys)];
  const retry = opts.retry ?? DEFAULT_RETRY;
  const projection = opts.projection
    ? { ProjectionExpression: opts.projection.map((_, i) => `#p${i}`).join(','), ExpressionAttributeNames: Object.fromEntries(opts.projection.map((n, i) => [`#p${i}`, n])) }
    : {};
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += BATCH_GET_MAX_KEYS) chunks.push(unique.slice(i, i + BATCH_GET_MAX_KEYS));
  await mapLimit(chunks, opts.concurrency ?? DEFAULT_CONCURRENCY, async (chunk) => {
    let pending: Item[] = chunk.map((k) => ({ [keyName]: { S: k } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > retry.maxAttempts) throw new UnprocessedKeysError(pending.length);
      if (attempt > 1) await backoff(attempt - 1, retry);
      const res = await client.send(
        new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true, ...projection } } }),
      );
      for (const item of res.Responses?.[table] ?? []) {
        const k = item[keyName]?.S;
        if (k !== undefined) out.set(k, item);
      }
      pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
    }
  });
  return out;
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TransactionConflictException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
  'KMSThrottlingException',
  'OverLimit',
  'UnprocessedKeysError',
]);
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

/**
 * True for failures worth retrying the same batch for: throttling, timeouts, 5xx, network errors
 * (SDK v3 error names and `$retryable`; https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 * Everything else (validation, access denied, a bug) is not transient.
 */
export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
    if (x.$retryable) return true;
    if (x.name && TRANSIENT_NAMES.has(x.name)) return true;
    if (x.code && TRANSIENT_CODES.has(x.code)) return true;
    const status = x.$metadata?.httpStatusCode;
    if (status !== undefined && (status >= 500 || status === 429)) return true;
  }
  return false;
}
