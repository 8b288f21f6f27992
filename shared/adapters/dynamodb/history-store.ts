/**
 * The alert history in DynamoDB (the `history` table of infra/topology.ts), docs/incidents.md
 * ("History and analytics").
 *
 * Item layout (one item per {@link HistoryEvent}):
 * | attribute   | type | what |
 * |-------------|------|------|
 * | `pk`        | S    | `h#<yyyy-mm-dd>#<shard>`: the event's UTC day and a shard 0..3 from a hash of its id |
 * | `sk`        | S    | `<atMs, 15 digits zero-padded>#<id>`: string order is time order, the id makes it unique |
 * | event       |      | every field of the event as it is (`id`, `kind`, `atMs`, `fingerprint`, `ruleId`, ...) |
 * | `expiresAt` | N    | TTL, epoch seconds: atMs + the retention ({@link HISTORY_RETENTION_MS} by default) |
 *
 * Why days and shards. A report reads a time range: one partition per day makes that a handful of
 * Query requests with `sk BETWEEN`, never a Scan. Four shards per day spread a burst (an outage
 * firing hundreds of alerts at once) over four partitions, each good for 1,000 write units a
 * second (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html);
 * a reader queries the four and merges them. The shard comes from the id, so the same event always
 * lands on the same item: writing it again (a retried batch, a redelivered message) overwrites it
 * with itself, which makes {@link DynamoHistoryStore.record} idempotent by id.
 *
 * Reads are eventually consistent (half the read units of a strongly consistent read,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html):
 * a report may miss an event written within the last second, which a report of days does not notice.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, type BatchWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { PermanentError, TransientError } from '../../core/errors/index.ts';
import { matchesQuery, type HistoryEvent, type HistoryQuery, type HistoryStore } from '../../core/history/types.ts';
import { backoff, DEFAULT_CONCURRENCY, DEFAULT_RETRY, mapLimit, type RetryPolicy } from './batch.ts';

/** How long an event is kept by default: 90 days (a quarter: a month's report beside the previous month's, with room to spare). */
export const HISTORY_RETENTION_MS = 90 * 86_400_000;

/** Shards per day (pk suffix 0..3). Changing it strands the events written under the old count: a reader queries 0..N-1. */
export const HISTORY_SHARDS = 4;

/**
 * The longest range one query may read: 400 days (a year plus its previous-period margin is the most
 * a report needs; beyond the retention there is nothing anyway). 400 days are 1,600 Query requests.
 */
export const MAX_QUERY_DAYS = 400;

/** The most events one query returns by default (a few hundred bytes each: about 200 MB at most in memory). */
export const DEFAULT_MAX_EVENTS = 500_000;

/**
 * BatchWriteItem takes at most 25 put or delete requests per call.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
 */
export const BATCH_WRITE_MAX_ITEMS = 25;

/** Digits of the zero-padded time in the sort key: epoch ms has 13 digits until the year 2286; 15 go past year 30000. */
const TIME_DIGITS = 15;

/** A query the store refuses (a range too long, an impossible range): the caller's mistake, not the table's. */
export class HistoryQueryError extends PermanentError {}

/** An event the store refuses to write (a time that is not a whole epoch ms). */
export class InvalidHistoryEventError extends PermanentError {}

/** DynamoDB still left items unprocessed after every retry (throughput exhausted): try again later. */
export class UnprocessedItemsError extends TransientError {
  constructor(readonly remaining: number) {
    super(`BatchWriteItem left ${remaining} history items unprocessed after retries`);
  }
}

/** `yyyy-mm-dd` of an epoch ms, UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The shard (0..{@link HISTORY_SHARDS}-1) of an event id: the first byte of its SHA-256, so the same id always maps to the same shard. */
export function historyShard(id: string): number {
  return createHash('sha256').update(id).digest()[0]! % HISTORY_SHARDS;
}

/** The partition key of an event. */
export function historyPartitionKey(e: Pick<HistoryEvent, 'id' | 'atMs'>): string {
  return `h#${utcDay(e.atMs)}#${historyShard(e.id)}`;
}

/** The sort key of an event. */
export function historySortKey(e: Pick<HistoryEvent, 'id' | 'atMs'>): string {
  return `${timePrefix(e.atMs)}#${e.id}`;
}

function timePrefix(ms: number): string {
  return String(ms).padStart(TIME_DIGITS, '0');
}

/** The UTC days a range `[fromMs, toMs)` touches, oldest first. */
export function daysOf(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  if (toMs <= fromMs) return days;
  // Epoch ms has no leap seconds: every UTC day starts at a multiple of 86,400,000.
  for (let d = fromMs - (fromMs % 86_400_000); d < toMs; d += 86_400_000) days.push(utcDay(d));
  return days;
}

/** Options of {@link DynamoHistoryStore}. */
export interface DynamoHistoryStoreOptions {
  readonly client: DynamoDBClient;
  /** The history table's physical name. */
  readonly table: string;
  /** How long an event is kept (TTL after its time), ms; default {@link HISTORY_RETENTION_MS}. */
  readonly retentionMs?: number;
  /** Retry of UnprocessedItems; default {@link DEFAULT_RETRY}. */
  readonly retry?: RetryPolicy;
  /** Requests in flight at once; default {@link DEFAULT_CONCURRENCY}. */
  readonly concurrency?: number;
  /** Most events one query may return (bounded memory); default {@link DEFAULT_MAX_EVENTS}. */
  readonly maxEvents?: number;
  /** Items per Query page (`Limit`); default none (pages of 1 MB). Tests lower it to page through a few items. */
  readonly pageSize?: number;
}

const KEY_ATTRIBUTES = ['pk', 'sk', 'expiresAt'] as const;

/** {@link HistoryStore} on DynamoDB (see the module comment). */
export class DynamoHistoryStore implements HistoryStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retentionMs: number;
  readonly #retry: RetryPolicy;
  readonly #concurrency: number;
  readonly #maxEvents: number;
  readonly #pageSize: number | undefined;

  constructor(options: DynamoHistoryStoreOptions) {
    this.#doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = options.table;
    this.#retentionMs = options.retentionMs ?? HISTORY_RETENTION_MS;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.#maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.#pageSize = options.pageSize;
    if (!Number.isSafeInteger(this.#retentionMs) || this.#retentionMs <= 0) throw new RangeError(`DynamoHistoryStore: retentionMs must be a positive whole number, got ${this.#retentionMs}`);
  }

  /**
   * Writes the events, 25 per BatchWriteItem, UnprocessedItems retried with backoff; the same id
   * written twice (in one call or two) is one item. Throws {@link InvalidHistoryEventError} before
   * writing anything if an event's time is not a whole epoch ms, {@link UnprocessedItemsError}
   * when DynamoDB keeps refusing items.
   */
  async record(events: readonly HistoryEvent[]): Promise<void> {
    for (const e of events) {
      if (!Number.isSafeInteger(e.atMs) || e.atMs < 0) throw new InvalidHistoryEventError(`history event ${e.id}: atMs must be a whole epoch ms, got ${e.atMs}`);
    }
    // One request may not name the same key twice (a ValidationException): the last write of an id wins.
    const byKey = new Map<string, Record<string, unknown>>();
    for (const e of events) {
      const pk = historyPartitionKey(e);
      const sk = historySortKey(e);
      byKey.set(`${pk}\u0000${sk}`, { ...e, pk, sk, expiresAt: Math.floor((e.atMs + this.#retentionMs) / 1000) });
    }
    const items = [...byKey.values()];
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += BATCH_WRITE_MAX_ITEMS) chunks.push(items.slice(i, i + BATCH_WRITE_MAX_ITEMS));
    await mapLimit(chunks, this.#concurrency, async (chunk) => {
      let pending: NonNullable<BatchWriteCommandInput['RequestItems']>[string] = chunk.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > this.#retry.maxAttempts) throw new UnprocessedItemsError(pending.length);
        if (attempt > 1) await backoff(attempt - 1, this.#retry);
        const res = await this.#doc.send(new BatchWriteCommand({ RequestItems: { [this.#table]: pending } }));
        pending = res.UnprocessedItems?.[this.#table] ?? [];
      }
    });
  }

  /**
   * Events with `fromMs <= atMs < toMs` matching the query, oldest first (ties by id): one Query per
   * UTC day and shard, `sk BETWEEN` the range, paged; rule, team and fingerprint filtered by the
   * table (FilterExpression: fewer bytes back, the same read units). Throws {@link HistoryQueryError}
   * for a range longer than {@link MAX_QUERY_DAYS} days or a result beyond the store's `maxEvents`.
   */
  async query(q: HistoryQuery): Promise<HistoryEvent[]> {
    if (!Number.isFinite(q.fromMs) || !Number.isFinite(q.toMs)) throw new HistoryQueryError(`history query: fromMs and toMs must be epoch ms, got ${q.fromMs} and ${q.toMs}`);
    const fromMs = Math.max(0, Math.ceil(q.fromMs));
    const toMs = Math.ceil(q.toMs);
    if (toMs <= fromMs) return [];
    const days = daysOf(fromMs, toMs);
    if (days.length > MAX_QUERY_DAYS) {
      throw new HistoryQueryError(`history query: ${days.length} days from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}; at most ${MAX_QUERY_DAYS} days per query`);
    }
    const filters: [string, string | undefined][] = [
      ['ruleId', q.ruleId],
      ['team', q.team],
      ['fingerprint', q.fingerprint],
    ];
    const used = filters.filter((f): f is [string, string] => f[1] !== undefined);
    const filter = used.length
      ? {
          FilterExpression: used.map((_, i) => `#f${i} = :f${i}`).join(' AND '),
          ExpressionAttributeNames: Object.fromEntries(used.map(([name], i) => [`#f${i}`, name])),
          filterValues: Object.fromEntries(used.map(([, v], i) => [`:f${i}`, v])),
        }
      : undefined;
    // `<from>#` sorts before every key at fromMs; `<to-1>$` after every key at toMs-1 ('$' follows '#').
    const lo = `${timePrefix(fromMs)}#`;
    const hi = `${timePrefix(toMs - 1)}$`;
    const partitions = days.flatMap((day) => Array.from({ length: HISTORY_SHARDS }, (_, shard) => `h#${day}#${shard}`));
    const out: HistoryEvent[] = [];
    await mapLimit(partitions, this.#concurrency, async (pk) => {
      let start: Record<string, unknown> | undefined;
      do {
        const res = await this.#doc.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
            ExpressionAttributeValues: { ':pk': pk, ':lo': lo, ':hi': hi, ...filter?.filterValues },
            ...(filter ? { FilterExpression: filter.FilterExpression, ExpressionAttributeNames: filter.ExpressionAttributeNames } : {}),
            ...(this.#pageSize ? { Limit: this.#pageSize } : {}),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of res.Items ?? []) {
          const e = toEvent(item);
          if (matchesQuery(e, q)) out.push(e);
        }
        if (out.length > this.#maxEvents) throw new HistoryQueryError(`history query: more than ${this.#maxEvents} events from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}; narrow the range or filter by rule or team`);
        start = res.LastEvaluatedKey;
      } while (start);
    });
    return out.sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** The event of an item: every attribute but the keys and the TTL. */
function toEvent(item: Record<string, unknown>): HistoryEvent {
  const e: Record<string, unknown> = { ...item };
  for (const k of KEY_ATTRIBUTES) delete e[k];
  return e as unknown as HistoryEvent;
}
