/**
 * Error alerts in the errors table (docs/events.md, "How error alerts live"), one item per error
 * fingerprint (`fingerprint`):
 *
 * | attribute     | type | what |
 * |---------------|------|------|
 * | `fingerprint` | S    | the error fingerprint (16 hex digits), the key |
 * | `state`       | S    | the {@link ErrorAlertState} as JSON |
 * | `ver`         | N    | optimistic-lock counter; every write is conditional on the version read |
 * | `off`         | S    | JSON: per Kafka partition, the last position applied, `[offset, index in record]` (redelivery is skipped) |
 * | `taskKey`     | S    | only while firing: the sparse `by-task` index (a success finds its task's alerts) |
 * | `quietShard`  | S    | `q#<0..3>`, only while firing with a quiet period: the sparse `by-quiet` index |
 * | `quietDueAt`  | N    | when the quiet period resolves it (its sort key) |
 * | `lastSeenAt`  | N    | the newest failure's time (listing) |
 * | `expiresAt`   | N    | resolved items only: TTL, {@link RESOLVED_RETENTION_MS} after the resolution |
 *
 * A write is one conditional PutItem (1-2 WRU for a typical 1-2 KB item): a batch's events of one
 * fingerprint are applied in memory and written once. A resolved item stays (TTL) so that a late
 * or replayed failure older than its resolution is recognised and does not reopen it.
 */
import { ConditionalCheckFailedException, PutItemCommand, QueryCommand, ScanCommand, type DynamoDBClient, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { ErrorAlertState } from '../../core/events/alerting.ts';
import { taskKeyOf, type ErrorAlertStore, type ErrorAlertWrite, type EventPosition, type StoredErrorAlert } from '../../core/events/sequence.ts';
import { batchGetByKey, mapLimit, type Item } from './batch.ts';
import { itemBytes } from './capacity.ts';

/** Partitions of the by-quiet index (spreads the index writes of busy error streams; the timers query each). */
export const QUIET_SHARDS = 4;
/** The by-task index. */
export const TASK_INDEX = 'by-task';
/** The by-quiet index. */
export const QUIET_INDEX = 'by-quiet';
/**
 * How long a resolved item is kept: past the evaluator's event-age bound (7 days), so a late
 * failure older than the resolution always finds it.
 */
export const RESOLVED_RETENTION_MS = 8 * 86_400_000;
/** Writes in flight per commit. */
const WRITE_CONCURRENCY = 8;
/** An item past this is refused (DynamoDB's limit is 400 KB; states are a few KB). */
const MAX_ITEM_BYTES = 350_000;

/** The by-quiet partition of a fingerprint. */
export function quietShardOf(fingerprint: string): string {
  return `q#${parseInt(fingerprint.slice(0, 4), 16) % QUIET_SHARDS || 0}`;
}

/** A state too large to store (cannot happen within the validation bounds: a bug). */
export class ErrorItemTooLargeError extends Error {
  constructor(
    readonly fingerprint: string,
    readonly bytes: number,
  ) {
    super(`error alert ${fingerprint} would be ${bytes} bytes, past ${MAX_ITEM_BYTES}`);
  }
}

/** The errors table. */
export class DynamoErrorAlertStore implements ErrorAlertStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async getMany(fingerprints: readonly string[]): Promise<Map<string, StoredErrorAlert>> {
    const items = await batchGetByKey(this.client, this.table, 'fingerprint', fingerprints);
    const out = new Map<string, StoredErrorAlert>();
    for (const [fp, item] of items) out.set(fp, fromItem(item));
    return out;
  }

  async firingOfTasks(taskKeys: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    await mapLimit(taskKeys, 4, async (taskKey) => {
      let start: Item | undefined;
      do {
        const r = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: TASK_INDEX,
            KeyConditionExpression: 'taskKey = :t',
            ExpressionAttributeValues: { ':t': { S: taskKey } },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const it of r.Items ?? []) if (it.fingerprint?.S) out.push(it.fingerprint.S);
        start = r.LastEvaluatedKey;
      } while (start);
    });
    return out;
  }

  async commit(writes: readonly ErrorAlertWrite[]): Promise<{ conflicts: string[] }> {
    const results = await mapLimit(writes, WRITE_CONCURRENCY, async (w) => {
      try {
        await this.client.send(new PutItemCommand(this.request(w)));
        return undefined;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return w.fingerprint;
        throw err;
      }
    });
    return { conflicts: results.filter((x): x is string => x !== undefined) };
  }

  async quietDue(nowMs: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (let shard = 0; shard < QUIET_SHARDS && out.length < limit; shard++) {
      let start: Item | undefined;
      do {
        const r = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: QUIET_INDEX,
            KeyConditionExpression: 'quietShard = :s AND quietDueAt <= :now',
            ExpressionAttributeValues: { ':s': { S: `q#${shard}` }, ':now': { N: String(nowMs) } },
            Limit: limit - out.length,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const it of r.Items ?? []) if (it.fingerprint?.S) out.push(it.fingerprint.S);
        start = out.length < limit ? r.LastEvaluatedKey : undefined;
      } while (start);
    }
    return out;
  }

  /**
   * Firing error alerts, newest failure first: the by-task index holds exactly the firing ones
   * (keys only), read with a Scan of the index (an operator's command: bounded by `limit` pages of
   * keys), then their items.
   */
  async listFiring(limit: number): Promise<StoredErrorAlert[]> {
    const fps: string[] = [];
    let start: Item | undefined;
    do {
      const r = await this.client.send(new ScanCommand({ TableName: this.table, IndexName: TASK_INDEX, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const it of r.Items ?? []) if (it.fingerprint?.S) fps.push(it.fingerprint.S);
      start = r.LastEvaluatedKey;
    } while (start && fps.length < 10_000);
    const items = await this.getMany(fps);
    return [...items.values()]
      .filter((s) => s.state.status === 'firing')
      .sort((a, b) => b.state.lastSeenMs - a.state.lastSeenMs)
      .slice(0, limit);
  }

  private request(w: ErrorAlertWrite): PutItemCommandInput {
    const s = w.state;
    const item: Item = {
      fingerprint: { S: w.fingerprint },
      state: { S: JSON.stringify(s) },
      ver: { N: String((w.expectedVersion ?? 0) + 1) },
      off: { S: JSON.stringify(w.offsets) },
      lastSeenAt: { N: String(s.lastSeenMs) },
    };
    // A Put replaces the whole item: leaving an index attribute out removes the item from that index.
    if (s.status === 'firing') item.taskKey = { S: taskKeyOf(s) };
    if (w.quietDueAtMs !== undefined && Number.isFinite(w.quietDueAtMs)) {
      item.quietShard = { S: quietShardOf(w.fingerprint) };
      item.quietDueAt = { N: String(Math.round(w.quietDueAtMs)) };
    }
    if (s.status === 'resolved') item.expiresAt = { N: String(Math.ceil(((s.resolvedAtMs ?? s.lastSeenMs) + RESOLVED_RETENTION_MS) / 1000)) };
    const bytes = itemBytes(item);
    if (bytes > MAX_ITEM_BYTES) throw new ErrorItemTooLargeError(w.fingerprint, bytes);
    return {
      TableName: this.table,
      Item: item,
      ...(w.expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(fingerprint)' }
        : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'ver' }, ExpressionAttributeValues: { ':v': { N: String(w.expectedVersion) } } }),
    };
  }
}

function fromItem(item: Item): StoredErrorAlert {
  return {
    state: JSON.parse(item.state?.S ?? 'null') as ErrorAlertState,
    version: Number(item.ver?.N ?? '0'),
    offsets: JSON.parse(item.off?.S ?? '{}') as Record<string, EventPosition>,
  };
}
