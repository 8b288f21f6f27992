/**
 * The logs query cache and the in-flight slots (shared/core/enrich/logs.ts ports) as items of the
 * delivery table, so every channel function instance shares them:
 *
 * - `logsq#<fingerprint>#<bucket>`: one query per alert and time bucket. The first caller creates
 *   it (conditional put), starts the query and stores its id; whoever sees the query end stores
 *   the outcome (lines or the reason). Expires with `expiresAt` (TTL) an hour after its bucket.
 * - `logslot#<0..maxInFlight-1>`: a slot per query in flight, held with a lease so a query nobody
 *   polls to the end (its caller died) frees its slot when the lease ends. Acquiring reads every
 *   slot in one BatchGetItem (at most 30: the account's concurrent-query quota) and takes a free
 *   one with a conditional put, so a full house costs one read.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LogsCache, LogsCacheEntry, QuerySlots } from '../../core/enrich/logs.ts';
import type { LogsEnrichment } from '../../core/enrich/types.ts';

/** Partition key of a query's cache item. */
export const logsQueryKey = (key: string): string => `logsq#${key}`;
/** Partition key of slot `i`. */
export const logsSlotKey = (i: number): string => `logslot#${i}`;

/** The most slots (the account's default quota of concurrent Logs Insights queries, https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html). */
export const MAX_SLOTS = 30;

const isConditionFailed = (err: unknown): boolean => err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';

/** {@link LogsCache} and {@link QuerySlots} on the delivery table. */
export class DynamoLogsStore implements LogsCache, QuerySlots {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, table: string) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = table;
  }

  async get(key: string): Promise<LogsCacheEntry | undefined> {
    const r = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { pk: logsQueryKey(key) }, ConsistentRead: true }));
    if (!r.Item) return undefined;
    const item = r.Item as { queryId?: string; result?: string };
    let result: LogsCacheEntry['result'];
    if (typeof item.result === 'string') {
      try {
        result = JSON.parse(item.result) as LogsCacheEntry['result'];
      } catch {
        result = { state: 'unavailable', reason: 'error' };
      }
    }
    return { key, ...(item.queryId ? { queryId: item.queryId } : {}), ...(result ? { result } : {}) };
  }

  async claim(key: string, nowMs: number, expiresAtMs: number): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: logsQueryKey(key), kind: 'logs-query', startedAtMs: nowMs, expiresAt: Math.ceil(expiresAtMs / 1000) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async setQuery(key: string, queryId: string): Promise<void> {
    await this.#doc.send(new UpdateCommand({ TableName: this.#table, Key: { pk: logsQueryKey(key) }, UpdateExpression: 'SET queryId = :q', ExpressionAttributeValues: { ':q': queryId } }));
  }

  async setResult(key: string, result: Exclude<LogsEnrichment, { state: 'pending' }>): Promise<void> {
    await this.#doc.send(new UpdateCommand({ TableName: this.#table, Key: { pk: logsQueryKey(key) }, UpdateExpression: 'SET #r = :r', ExpressionAttributeNames: { '#r': 'result' }, ExpressionAttributeValues: { ':r': JSON.stringify(result) } }));
  }

  async #slots(n: number): Promise<Map<number, { holder?: string; leaseUntilMs?: number }>> {
    const keys = Array.from({ length: n }, (_, i) => ({ pk: logsSlotKey(i) }));
    const r = await this.#doc.send(new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } }));
    const out = new Map<number, { holder?: string; leaseUntilMs?: number }>();
    for (const item of r.Responses?.[this.#table] ?? []) out.set(Number(String(item.pk).slice('logslot#'.length)), item as { holder?: string; leaseUntilMs?: number });
    // Keys left unprocessed (throttling) count as taken: the caller reports "query limit reached" rather than overrun the quota.
    for (const k of (r.UnprocessedKeys?.[this.#table]?.Keys ?? []) as { pk: string }[]) out.set(Number(k.pk.slice('logslot#'.length)), { leaseUntilMs: Number.MAX_SAFE_INTEGER });
    return out;
  }

  async acquire(holder: string, nowMs: number, leaseMs: number, maxInFlight: number): Promise<boolean> {
    const n = Math.max(0, Math.min(MAX_SLOTS, Math.trunc(maxInFlight)));
    if (n === 0) return false;
    const slots = await this.#slots(n);
    const free = Array.from({ length: n }, (_, i) => i).filter((i) => (slots.get(i)?.leaseUntilMs ?? 0) <= nowMs);
    for (const i of free) {
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: { pk: logsSlotKey(i), kind: 'logs-slot', holder, leaseUntilMs: nowMs + leaseMs, expiresAt: Math.ceil((nowMs + leaseMs) / 1000) + 3600 },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntilMs <= :now',
            ExpressionAttributeValues: { ':now': nowMs },
          }),
        );
        return true;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
    return false;
  }

  async release(holder: string): Promise<void> {
    const slots = await this.#slots(MAX_SLOTS);
    for (const [i, s] of slots) {
      if (s.holder !== holder) continue;
      try {
        await this.#doc.send(new DeleteCommand({ TableName: this.#table, Key: { pk: logsSlotKey(i) }, ConditionExpression: 'holder = :h', ExpressionAttributeValues: { ':h': holder } }));
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
  }
}
