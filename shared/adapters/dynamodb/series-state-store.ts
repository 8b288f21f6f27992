/**
 * Series state in DynamoDB (the `state` table of infra/topology.ts), one item per (rule, series).
 *
 * Item layout (pk = the core's stateKey):
 * | attribute     | type | what |
 * |---------------|------|------|
 * | `pk`          | S    | stateKey from the core (rule id + series identity) |
 * | `ruleId`      | S    | the rule, so the timers function can find it without parsing pk |
 * | `labels`      | S    | series labels, JSON (the timers function needs them for advanceClock) |
 * | `state`       | S    | the core's SeriesState, JSON (while firing it includes the alert's identity, `alert`, so the timers function can resolve it if its rule is deleted) |
 * | `version`     | N    | optimistic-lock counter: every write is conditional on the version read |
 * | `tok`         | S    | content token of `state` (shared/core/sequence/writes.ts `stateToken`): a write that carries `expectedToken` also requires it (versions restart at 1 when an item is deleted and created again) |
 * | `lastSampleMs`| N    | event time of the newest sample seen (informational; the core keeps its own guard) |
 * | `expiresAt`   | N    | TTL, epoch seconds: newest of (last sample, write time) + {@link STATE_TTL_DAYS} days, so dead series vanish |
 * | `dueShard`    | S    | `due#<0..7>`, only when `dueAt` is set: the sparse `by-due` index's partition |
 * | `dueAt`       | N    | the core's nextDueMs (epoch ms), only when defined |
 * | `firingShard` | S    | `firing#<0..7>` (same shard number as `dueShard`), only while the series' alert is firing: the sparse `by-firing` index's partition |
 *
 * Size bound: the state's sample window holds at most MAX_WINDOW_SAMPLES (720) samples per series
 * and rule (shared/core/evaluate), about 28 KB of JSON at worst; labels are capped by decode (64
 * labels of at most 1,024 characters, 8,192 characters in all), stored in `labels` and, while firing, once
 * more as alert labels in the state; so an item stays well under 100 KB, far below DynamoDB's
 * 400 KB item limit (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items).
 * A write whose item would still exceed {@link MAX_ITEM_BYTES} is not sent: it is returned in
 * `tooLarge` (the caller logs it) rather than failing the batch, so it can never block a partition.
 *
 * Keys: DynamoDB caps a partition key at 2,048 bytes, and a state key carries the series labels
 * (up to 64 values of 1,024 characters). Keys longer than {@link MAX_PLAIN_KEY_BYTES} are stored as
 * `<rule id>#sha256:<hex of the state key>`; callers keep using the state key.
 *
 * Writes are one conditional PutItem (or DeleteItem) per series, many in flight: each series has
 * its own version guard, so a transaction would add nothing but its price (every item billed twice).
 * A series whose condition fails (another invocation got there first) is returned as a conflict and
 * holds back nothing else.
 *
 * Firing count: every write is a whole-item Put, so `firingShard` is set when the written state is
 * firing and simply absent otherwise (a resolved or deleted series leaves the index in the same
 * write, no extra request). {@link DynamoSeriesStateStore.countFiring} then counts the keys-only
 * `by-firing` index with one `Select: COUNT` Query per shard, without reading any series.
 */
import {
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  type QueryCommandInput,
  type QueryCommandOutput,
  type DeleteItemCommandInput,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import type { Clock, Labels } from '../../core/model/index.ts';
import type { SeriesState } from '../../core/evaluate/index.ts';
import { PermanentError } from '../../core/errors/index.ts';
import type { CommitResult, DueCursor, DuePage, FiringCounter, SeriesPut, SeriesStateStore, SeriesWrite, StoredSeries } from '../../core/sequence/ports.ts';
import { batchGetByKey, mapLimit, type Item, type RetryPolicy } from './batch.ts';
import { compactState, expandState } from './window-codec.ts';
import { stateToken } from '../../core/sequence/writes.ts';

/** Number of `dueShard` partitions of the by-due index (spreads timer writes; the timers function queries each). */
export const DUE_SHARDS = 8;
/** Name of the sparse index of items with a due time. */
export const DUE_INDEX = 'by-due';
/** Name of the sparse index of items whose alert is firing (partitions `firing#0..7`, {@link DUE_SHARDS} of them). */
export const FIRING_INDEX = 'by-firing';
/** The core's alert state of a firing series (typed against SeriesState so a rename there fails to compile here). */
const FIRING: SeriesState['state'] = 'firing';
/** Days a series item outlives its last sample or write (TTL). */
export const STATE_TTL_DAYS = 7;
/** State keys up to this many UTF-8 bytes are the item's pk as they are; longer ones are hashed. */
export const MAX_PLAIN_KEY_BYTES = 1024;
/** Refuse items above this size (DynamoDB's limit is 400 KB). */
export const MAX_ITEM_BYTES = 350_000;
/** Conditional writes in flight at once (the SDK's HTTP agent keeps 50 sockets). */
export const WRITE_CONCURRENCY = 32;

export type { CommitResult, DueCursor, DuePage, FiringCounter, SeriesBudget, SeriesDelete, SeriesPut, SeriesStateStore, SeriesWrite, StoredSeries } from '../../core/sequence/ports.ts';

/** Thrown for an item that would approach DynamoDB's 400 KB limit. */
export class StateItemTooLargeError extends PermanentError {
  constructor(
    readonly key: string,
    readonly bytes: number,
    options?: { cause?: unknown },
  ) {
    super(`series state item ${key} would be ${bytes} bytes (limit ${MAX_ITEM_BYTES})`, options);
  }
}

/** The pk of a state key (see the module comment); idempotent on its own output. */
export function physicalKey(stateKey: string): string {
  if (Buffer.byteLength(stateKey, 'utf8') <= MAX_PLAIN_KEY_BYTES) return stateKey;
  const ruleId = stateKey.slice(0, Math.max(0, stateKey.indexOf('#'))).slice(0, 128);
  return `${ruleId}#sha256:${createHash('sha256').update(stateKey).digest('hex')}`;
}

/** FNV-1a 32-bit: a cheap stable hash to pick a shard number in 0..DUE_SHARDS-1. */
function shardNumberOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % DUE_SHARDS;
}

/** The by-due partition (`due#<n>`) of an item's pk. */
export function dueShardOf(key: string): string {
  return `due#${shardNumberOf(key)}`;
}

/** The by-firing partition (`firing#<n>`, same n as {@link dueShardOf}) of an item's pk. */
export function firingShardOf(key: string): string {
  return `firing#${shardNumberOf(key)}`;
}

/**
 * Whether a stored state is firing. The state table holds the core's {@link SeriesState}, whose
 * `state` field is the series' alert state; other shapes (tests) are never firing.
 */
export function isFiringState(state: unknown): boolean {
  return typeof state === 'object' && state !== null && (state as { state?: unknown }).state === FIRING;
}

function itemBytes(item: Item): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += k.length + Buffer.byteLength(v.S ?? v.N ?? '', 'utf8');
  return n;
}

/** Where a by-due page stopped: the shard, and the key to continue after inside it. */
interface DynamoDueCursor {
  readonly shard: number;
  readonly start: Item | undefined;
}

/** {@link SeriesStateStore} on DynamoDB (low-level client injected; works against DynamoDB Local). */
export class DynamoSeriesStateStore<S = unknown> implements SeriesStateStore<S>, FiringCounter {
  constructor(
    private readonly deps: { readonly client: DynamoDBClient; readonly table: string; readonly clock: Clock; readonly retry?: RetryPolicy },
  ) {}

  async getMany(keys: readonly string[]): Promise<Map<string, StoredSeries<S>>> {
    const byPk = new Map(keys.map((k) => [physicalKey(k), k]));
    const items = await batchGetByKey(this.deps.client, this.deps.table, 'pk', [...byPk.keys()], this.deps.retry ? { retry: this.deps.retry } : {});
    const out = new Map<string, StoredSeries<S>>();
    for (const [pk, item] of items) {
      const key = byPk.get(pk) ?? pk;
      out.set(key, { ...this.fromItem(item), key });
    }
    return out;
  }

  private fromItem(item: Item): StoredSeries<S> {
    const lastSampleMs = item.lastSampleMs?.N;
    const dueAt = item.dueAt?.N;
    return {
      key: item.pk!.S!,
      ruleId: item.ruleId?.S ?? '',
      labels: JSON.parse(item.labels?.S ?? '{}') as Labels,
      state: expandState(JSON.parse(item.state?.S ?? 'null')) as S,
      version: Number(item.version?.N ?? '0'),
      ...(item.tok?.S !== undefined ? { token: item.tok.S } : {}),
      ...(lastSampleMs !== undefined ? { lastSampleMs: Number(lastSampleMs) } : {}),
      ...(dueAt !== undefined ? { dueAt: Number(dueAt) } : {}),
    };
  }

  private toItem(w: SeriesPut<S>): Item {
    const now = this.deps.clock.now();
    const expiresAt = Math.ceil((Math.max(now, w.lastSampleMs ?? 0) + STATE_TTL_DAYS * 86_400_000) / 1000);
    const item: Item = {
      pk: { S: physicalKey(w.key) },
      ruleId: { S: w.ruleId },
      labels: { S: JSON.stringify(w.labels) },
      // Window times as runs of equal gaps (./window-codec.ts): most of a windowed item's size.
      state: { S: JSON.stringify(compactState(w.state)) },
      version: { N: String((w.expectedVersion ?? 0) + 1) },
      tok: { S: stateToken(w.state) },
      expiresAt: { N: String(expiresAt) },
    };
    if (w.lastSampleMs !== undefined && Number.isFinite(w.lastSampleMs)) item.lastSampleMs = { N: String(w.lastSampleMs) };
    if (w.dueAt !== undefined && Number.isFinite(w.dueAt)) {
      item.dueShard = { S: dueShardOf(physicalKey(w.key)) };
      item.dueAt = { N: String(Math.round(w.dueAt)) };
    }
    // A Put replaces the whole item: leaving the attribute out is what removes a resolved series from the index.
    if (isFiringState(w.state)) item.firingShard = { S: firingShardOf(physicalKey(w.key)) };
    const bytes = itemBytes(item);
    if (bytes > MAX_ITEM_BYTES) throw new StateItemTooLargeError(w.key, bytes);
    return item;
  }

  /** The conditional Put or Delete of one write. */
  private request(w: SeriesWrite<S>): PutItemCommandInput | DeleteItemCommandInput {
    const { table } = this.deps;
    if (w.kind === 'delete') {
      return {
        TableName: table,
        Key: { pk: { S: physicalKey(w.key) } },
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': { N: String(w.expectedVersion) } },
      };
    }
    const item = this.toItem(w);
    const cond: Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> =
      w.expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : w.expectedToken !== undefined
          ? {
              ConditionExpression: '#v = :v AND #t = :t',
              ExpressionAttributeNames: { '#v': 'version', '#t': 'tok' },
              ExpressionAttributeValues: { ':v': { N: String(w.expectedVersion) }, ':t': { S: w.expectedToken } },
            }
          : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': { N: String(w.expectedVersion) } } };
    return { TableName: table, Item: item, ...cond };
  }

  /**
   * One conditional PutItem / DeleteItem per write, {@link WRITE_CONCURRENCY} in flight. Not a
   * transaction: each series is guarded by its own version, nothing needs two series to change
   * together, and a transaction bills every item twice.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
   */
  async commit(writes: readonly SeriesWrite<S>[]): Promise<CommitResult> {
    const tooLarge: string[] = [];
    const requests: { w: SeriesWrite<S>; input: PutItemCommandInput | DeleteItemCommandInput }[] = [];
    for (const w of writes) {
      // Nothing the table must hold changed (ports.ts SeriesPut.skippable): no request.
      if (w.kind === 'put' && w.skippable) continue;
      try {
        requests.push({ w, input: this.request(w) });
      } catch (err) {
        if (!(err instanceof StateItemTooLargeError)) throw err;
        tooLarge.push(w.key);
      }
    }
    const { client } = this.deps;
    const results = await mapLimit(requests, WRITE_CONCURRENCY, async ({ w, input }) => {
      try {
        if (w.kind === 'delete') await client.send(new DeleteItemCommand(input as DeleteItemCommandInput));
        else await client.send(new PutItemCommand(input as PutItemCommandInput));
        return undefined;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return w.key;
        throw err;
      }
    });
    return { conflicts: results.filter((k): k is string => k !== undefined), tooLarge };
  }

  /**
   * One page of the by-due index: up to `limit` keys with `dueAt <= nowMs`, taken shard by shard
   * (oldest due first within a shard), continuing after `cursor`. Each page is one Query.
   */
  async duePage(nowMs: number, limit: number, cursor?: DueCursor): Promise<DuePage> {
    let { shard, start } = (cursor as DynamoDueCursor | undefined) ?? { shard: 0, start: undefined };
    const keys: string[] = [];
    while (shard < DUE_SHARDS && keys.length < limit) {
      const res = await this.deps.client.send(
        new QueryCommand({
          TableName: this.deps.table,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'dueShard = :s AND dueAt <= :now',
          ExpressionAttributeValues: { ':s': { S: `due#${shard}` }, ':now': { N: String(nowMs) } },
          Limit: limit - keys.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const it of res.Items ?? []) if (it.pk?.S) keys.push(it.pk.S);
      start = res.LastEvaluatedKey;
      if (!start) shard++;
    }
    return { keys, ...(shard < DUE_SHARDS ? { next: { shard, start } satisfies DynamoDueCursor } : {}) };
  }

  /**
   * One `Select: COUNT` Query per by-firing shard (in parallel, paginated): a keys-only item is
   * well under 1 KB, so a count reads about 0.5 RCU per 4 KB of index, whatever the number of series.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html#Query.Count
   */
  async countFiring(): Promise<number> {
    const counts = await this.queryEachShard(
      (shard) => ({
        IndexName: FIRING_INDEX,
        Select: 'COUNT',
        KeyConditionExpression: 'firingShard = :s',
        ExpressionAttributeValues: { ':s': { S: `firing#${shard}` } },
      }),
      () => 0,
      (n, page) => n + (page.Count ?? 0),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Queries shard 0..DUE_SHARDS-1 of a sharded index in parallel, every page, folding each shard's pages. */
  private async queryEachShard<A>(
    input: (shard: number) => Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
    init: () => A,
    fold: (acc: A, page: QueryCommandOutput) => A,
  ): Promise<A[]> {
    return await Promise.all(
      Array.from({ length: DUE_SHARDS }, async (_, shard) => {
        let acc = init();
        let start: Item | undefined;
        do {
          const res = await this.deps.client.send(new QueryCommand({ TableName: this.deps.table, ...input(shard), ...(start ? { ExclusiveStartKey: start } : {}) }));
          acc = fold(acc, res);
          start = res.LastEvaluatedKey;
        } while (start);
        return acc;
      }),
    );
  }
}
