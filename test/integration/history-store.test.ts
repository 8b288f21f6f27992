/**
 * The history table (shared/adapters/dynamodb/history-store.ts) on DynamoDB Local: round trip,
 * idempotency by id, UTC day boundaries and shards, filters, paging, the retention's TTL, the
 * bounded range, and UnprocessedItems retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  daysOf,
  DynamoHistoryStore,
  HistoryQueryError,
  historyPartitionKey,
  historyShard,
  historySortKey,
  InvalidHistoryEventError,
  MAX_QUERY_DAYS,
  UnprocessedItemsError,
  HISTORY_RETENTION_MS,
} from '../../shared/adapters/dynamodb/history-store.ts';
import type { HistoryEvent } from '../../shared/core/history/types.ts';
import { dynamoClient, provisionFresh } from '../support/aws.ts';

type Fresh = Awaited<ReturnType<typeof provisionFresh>>;
let p: Fresh;
let table: string;

const MIN = 60_000;
const D = 86_400_000;
/** Midnight UTC, 2027-01-05. */
const MIDNIGHT = Date.UTC(2027, 0, 5);

function event(id: string, atMs: number, extra: Partial<HistoryEvent> = {}): HistoryEvent {
  return { id, kind: 'fired', atMs, fingerprint: `fp-${id}`, firedAtMs: atMs, ruleId: 'cpu_high', severity: 'high', team: 'web', ...extra };
}

/** Every item of one partition, raw. */
async function partition(pk: string): Promise<Record<string, unknown>[]> {
  const r = await p.dynamodb.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } }));
  return (r.Items ?? []).map((i) => Object.fromEntries(Object.entries(i).map(([k, v]) => [k, v.S ?? (v.N !== undefined ? Number(v.N) : v)])));
}

beforeAll(async () => {
  p = await provisionFresh();
  table = p.tables.history;
});
afterAll(() => p.dynamodb.destroy());

describe('DynamoHistoryStore', () => {
  it('writes every field of an event and reads it back, oldest first, across days', async () => {
    const store = new DynamoHistoryStore({ client: p.dynamodb, table });
    const events: HistoryEvent[] = [
      event('rt-3', MIDNIGHT + D + 5 * MIN, { kind: 'acknowledged', by: 'U123', reason: 'slack', firedAtMs: MIDNIGHT - 1 }),
      event('rt-1', MIDNIGHT - 1),
      event('rt-2', MIDNIGHT + 5 * MIN, { kind: 'notified', receiver: 'web-team', channel: 'slack' }),
      // No team, no firedAtMs: optional fields stay absent.
      { id: 'rt-4', kind: 'suppressed', atMs: MIDNIGHT + 6 * MIN, fingerprint: 'fp-x', ruleId: 'disk', severity: 'low', reason: 'throttle' },
    ];
    await store.record(events);
    const back = await store.query({ fromMs: MIDNIGHT - D, toMs: MIDNIGHT + 2 * D });
    expect(back).toEqual([events[1], events[2], events[3], events[0]]);
    // The item: keys from the UTC day and the id's shard, time-ordered sort key, TTL = time + 90 days in seconds.
    const [item] = (await partition(historyPartitionKey(events[1]!))).filter((i) => i.id === 'rt-1');
    expect(item).toMatchObject({
      pk: `h#2027-01-04#${historyShard('rt-1')}`,
      sk: `00${MIDNIGHT - 1}#rt-1`,
      expiresAt: Math.floor((MIDNIGHT - 1 + HISTORY_RETENTION_MS) / 1000),
      kind: 'fired',
      ruleId: 'cpu_high',
    });
  });

  it('is idempotent by id: the same event written twice, in one call or two, is one item', async () => {
    const store = new DynamoHistoryStore({ client: p.dynamodb, table });
    const e = event('idem-1', MIDNIGHT + 3 * D);
    await store.record([e, e]);
    await store.record([e]);
    expect(await store.query({ fromMs: MIDNIGHT + 3 * D, toMs: MIDNIGHT + 4 * D })).toEqual([e]);
    expect((await partition(historyPartitionKey(e))).filter((i) => i.id === 'idem-1')).toHaveLength(1);
    expect(historySortKey(e)).toBe(`00${MIDNIGHT + 3 * D}#idem-1`);
  });

  it('writes more than one batch (25 items per BatchWriteItem) and pages through a day', async () => {
    const store = new DynamoHistoryStore({ client: p.dynamodb, table, pageSize: 3 });
    const day = MIDNIGHT + 10 * D;
    const events = Array.from({ length: 60 }, (_, i) => event(`many-${String(i).padStart(2, '0')}`, day + i * MIN));
    await store.record(events);
    expect(await store.query({ fromMs: day, toMs: day + D })).toEqual(events);
  });

  describe('day boundaries: fromMs inclusive, toMs exclusive', () => {
    const day = MIDNIGHT + 20 * D;
    const before = event('edge-before', day - 1); // 23:59:59.999 of the day before
    const at = event('edge-at', day); // 00:00:00.000
    const after = event('edge-after', day + 1);
    beforeAll(async () => new DynamoHistoryStore({ client: p.dynamodb, table }).record([before, at, after]));

    it.each([
      // the whole second around midnight
      [day - 1000, day + 1000, ['edge-before', 'edge-at', 'edge-after']],
      // up to midnight: the event at midnight is not in
      [day - 1000, day, ['edge-before']],
      // from midnight: the last millisecond of the day before is not in
      [day, day + 1000, ['edge-at', 'edge-after']],
      // one millisecond
      [day, day + 1, ['edge-at']],
      // empty and reversed ranges: nothing, no request needed
      [day, day, []],
      [day + 1, day, []],
    ])('[%d, %d) → %j', async (fromMs, toMs, ids) => {
      const store = new DynamoHistoryStore({ client: p.dynamodb, table });
      expect((await store.query({ fromMs, toMs })).map((e) => e.id)).toEqual(ids);
    });
  });

  describe('filters', () => {
    const day = MIDNIGHT + 30 * D;
    const events = [
      event('flt-1', day + 1 * MIN, { ruleId: 'cpu_high', team: 'web', fingerprint: 'a' }),
      event('flt-2', day + 2 * MIN, { ruleId: 'cpu_high', team: 'db', fingerprint: 'b' }),
      event('flt-3', day + 3 * MIN, { ruleId: 'disk_full', team: 'db', fingerprint: 'c' }),
      { ...event('flt-4', day + 4 * MIN, { ruleId: 'disk_full', fingerprint: 'c' }), team: undefined },
    ];
    beforeAll(async () => new DynamoHistoryStore({ client: p.dynamodb, table }).record(events));

    it.each([
      // by rule
      [{ ruleId: 'cpu_high' }, ['flt-1', 'flt-2']],
      // by team (an event without a team matches no team)
      [{ team: 'db' }, ['flt-2', 'flt-3']],
      // by alert
      [{ fingerprint: 'c' }, ['flt-3', 'flt-4']],
      // all at once
      [{ ruleId: 'disk_full', team: 'db', fingerprint: 'c' }, ['flt-3']],
      // nothing matches
      [{ ruleId: 'nope' }, []],
    ])('%j → %j', async (filter, ids) => {
      const store = new DynamoHistoryStore({ client: p.dynamodb, table });
      expect((await store.query({ fromMs: day, toMs: day + D, ...filter })).map((e) => e.id)).toEqual(ids);
    });
  });

  it('keeps events for the retention it is given (TTL attribute)', async () => {
    const store = new DynamoHistoryStore({ client: p.dynamodb, table, retentionMs: 7 * D });
    const e = event('ttl-1', MIDNIGHT + 40 * D + 123);
    await store.record([e]);
    const [item] = (await partition(historyPartitionKey(e))).filter((i) => i.id === 'ttl-1');
    // (atMs + 7 days) in epoch seconds, rounded down
    expect(item!.expiresAt).toBe(Math.floor((MIDNIGHT + 47 * D + 123) / 1000));
  });

  it('refuses a range longer than the bound, an event time that is not whole, and a retention of nothing', async () => {
    const store = new DynamoHistoryStore({ client: p.dynamodb, table });
    // 400 days exactly is the most (1,600 Query requests: counted, not run here); one millisecond more touches a 401st day.
    expect(daysOf(MIDNIGHT, MIDNIGHT + MAX_QUERY_DAYS * D)).toHaveLength(400);
    expect(daysOf(MIDNIGHT - 1, MIDNIGHT + 1)).toEqual(['2027-01-04', '2027-01-05']);
    await expect(store.query({ fromMs: MIDNIGHT, toMs: MIDNIGHT + MAX_QUERY_DAYS * D + 1 })).rejects.toThrow(HistoryQueryError);
    await expect(store.query({ fromMs: MIDNIGHT, toMs: MIDNIGHT + MAX_QUERY_DAYS * D + 1 })).rejects.toThrow(/401 days .* at most 400 days/);
    await expect(store.record([event('ok', MIDNIGHT), event('bad', MIDNIGHT + 0.5)])).rejects.toThrow(InvalidHistoryEventError);
    // Nothing of the refused batch was written.
    expect(await store.query({ fromMs: MIDNIGHT, toMs: MIDNIGHT + 1 })).toEqual([]);
    expect(() => new DynamoHistoryStore({ client: p.dynamodb, table, retentionMs: 0 })).toThrow(RangeError);
  });

  it('refuses a result larger than its bound', async () => {
    const store = new DynamoHistoryStore({ client: p.dynamodb, table, maxEvents: 10 });
    const day = MIDNIGHT + 10 * D;
    await expect(store.query({ fromMs: day, toMs: day + D })).rejects.toThrow(/more than 10 events/);
  });

  describe('UnprocessedItems', () => {
    /**
     * A stand-in for throttling, which DynamoDB Local never does: a middleware lets only the first
     * item of each of the next `times` BatchWriteItem requests through and answers the rest as
     * UnprocessedItems, as DynamoDB does when a partition is over its throughput.
     */
    function throttleBatchWrites(client: DynamoDBClient, times: number): { calls: () => number } {
      let left = times;
      let calls = 0;
      client.middlewareStack.add(
        (next) => async (args) => {
          const input = args.input as { RequestItems?: Record<string, unknown[]> };
          const [name, reqs] = Object.entries(input.RequestItems ?? {})[0] ?? [];
          if (!name || !reqs || !reqs.length || !(reqs[0] as { PutRequest?: unknown }).PutRequest) return next(args);
          calls++;
          if (left <= 0 || reqs.length < 2) return next(args);
          left--;
          const out = await next({ ...args, input: { ...input, RequestItems: { [name]: reqs.slice(0, 1) } } });
          (out.output as { UnprocessedItems?: Record<string, unknown[]> }).UnprocessedItems = { [name]: reqs.slice(1) };
          return out;
        },
        { step: 'serialize', priority: 'high', name: 'throttle-batch-writes' },
      );
      return { calls: () => calls };
    }

    it('retries the unprocessed items until all are written', async () => {
      const client = dynamoClient();
      const throttle = throttleBatchWrites(client, 3);
      const store = new DynamoHistoryStore({ client, table, retry: { maxAttempts: 6, baseDelayMs: 1 } });
      const day = MIDNIGHT + 50 * D;
      const events = Array.from({ length: 5 }, (_, i) => event(`unp-${i}`, day + i));
      await store.record(events);
      // 1 item each of 3 throttled requests, then the last 2 at once.
      expect(throttle.calls()).toBe(4);
      expect(await store.query({ fromMs: day, toMs: day + D })).toEqual(events);
      client.destroy();
    });

    it('gives up with a transient error when DynamoDB keeps refusing', async () => {
      const client = dynamoClient();
      throttleBatchWrites(client, 100);
      const store = new DynamoHistoryStore({ client, table, retry: { maxAttempts: 2, baseDelayMs: 1 } });
      const day = MIDNIGHT + 60 * D;
      const err = await store.record([event('give-up-1', day), event('give-up-2', day + 1), event('give-up-3', day + 2)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnprocessedItemsError);
      expect(err).toMatchObject({ transient: true, remaining: 1 });
      client.destroy();
    });
  });
});
