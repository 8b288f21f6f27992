/**
 * The series-state store against DynamoDB Local: batched reads, conditional writes (version guard),
 * one conditional write per series (no transaction), the sparse by-due index. Plus the small pure helpers of the
 * adapters (Kafka partial batch response, transient error classification).
 */
import { GetItemCommand, type BatchGetItemCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoSeriesStateStore, dueShardOf, DUE_SHARDS, physicalKey, type SeriesWrite } from '../../shared/adapters/dynamodb/series-state-store.ts';
import { batchGetByKey, isTransientError, UnprocessedKeysError } from '../../shared/adapters/dynamodb/batch.ts';
import { headerText, kafkaBatchResponse, recordsOf } from '../../shared/adapters/kafka/index.ts';
import { provisionFresh } from '../support/aws.ts';
import { countRequests } from './eval-helpers/clients.ts';
import { mskEvent } from './eval-helpers/msk.ts';

const clock = { now: () => 1_795_300_000_000 };

function put(key: string, expectedVersion: number | undefined, extra: Partial<{ dueAt: number; lastSampleMs: number; state: unknown }> = {}): SeriesWrite {
  return { kind: 'put', key, ruleId: 'r1', labels: { instance: key }, state: extra.state ?? { n: key }, expectedVersion, ...extra };
}

/** Every due key, page by page. */
async function allDue(s: DynamoSeriesStateStore, nowMs: number): Promise<string[]> {
  const out: string[] = [];
  let cursor: unknown;
  do {
    const page = await s.duePage(nowMs, 100, cursor);
    out.push(...page.keys);
    cursor = page.next;
  } while (cursor !== undefined);
  return out;
}

describe('series state store (DynamoDB Local)', () => {
  let p: Awaited<ReturnType<typeof provisionFresh>>;
  let store: DynamoSeriesStateStore;
  beforeAll(async () => {
    p = await provisionFresh();
    store = new DynamoSeriesStateStore({ client: p.dynamodb, table: p.tables.state, clock });
  });

  it('creates items that did not exist and reads them back with version 1', async () => {
    const res = await store.commit([put('a', undefined, { lastSampleMs: 5 }), put('b', undefined)]);
    expect(res.conflicts).toEqual([]);
    const got = await store.getMany(['a', 'b', 'missing']);
    expect([...got.keys()].sort()).toEqual(['a', 'b']);
    expect(got.get('a')).toMatchObject({ key: 'a', ruleId: 'r1', labels: { instance: 'a' }, state: { n: 'a' }, version: 1, lastSampleMs: 5 });
  });

  it('refuses a write whose version guard is stale and applies the rest of the commit', async () => {
    await store.commit([put('c', undefined), put('d', undefined)]);
    // c moves to version 2 (another invocation); our write still expects version 1.
    await store.commit([put('c', 1, { state: { n: 'other' } })]);
    const res = await store.commit([put('c', 1, { state: { n: 'mine' } }), put('d', 1, { state: { n: 'd2' } }), put('e', undefined)]);
    expect(res.conflicts).toEqual(['c']);
    const got = await store.getMany(['c', 'd', 'e']);
    expect(got.get('c')?.state).toEqual({ n: 'other' });
    expect(got.get('d')).toMatchObject({ state: { n: 'd2' }, version: 2 });
    expect(got.get('e')?.version).toBe(1);
  });

  it('refuses to create an item that already exists (attribute_not_exists)', async () => {
    await store.commit([put('f', undefined)]);
    expect((await store.commit([put('f', undefined, { state: { n: 'again' } })])).conflicts).toEqual(['f']);
  });

  it('deletes only with the version read', async () => {
    await store.commit([put('g', undefined)]);
    expect((await store.commit([{ kind: 'delete', key: 'g', expectedVersion: 7 }])).conflicts).toEqual(['g']);
    expect((await store.commit([{ kind: 'delete', key: 'g', expectedVersion: 1 }])).conflicts).toEqual([]);
    expect((await store.getMany(['g'])).size).toBe(0);
  });

  it('reads 250 keys in 3 BatchGetItem requests and writes them as 250 conditional puts, no transaction', async () => {
    const client = (await provisionFresh()).dynamodb as DynamoDBClient;
    const counter = countRequests(client);
    const s = new DynamoSeriesStateStore({ client, table: p.tables.state, clock });
    const keys = Array.from({ length: 250 }, (_, i) => `bulk-${i}`);
    await s.commit(keys.map((k) => put(k, undefined)));
    expect(counter.counts.get('PutItemCommand')).toBe(250);
    expect(counter.counts.get('TransactWriteItemsCommand') ?? 0).toBe(0);
    counter.reset();
    const got = await s.getMany(keys);
    expect(got.size).toBe(250);
    expect(counter.counts.get('BatchGetItemCommand')).toBe(3);
  });

  it('puts only items with a due time in the sparse by-due index, and finds those due', async () => {
    const q = await provisionFresh();
    const s = new DynamoSeriesStateStore({ client: q.dynamodb, table: q.tables.state, clock });
    await s.commit([put('due-1', undefined, { dueAt: 1000 }), put('due-2', undefined, { dueAt: 2000 }), put('later', undefined, { dueAt: 9000 }), put('never', undefined)]);
    expect((await allDue(s, 2000)).sort()).toEqual(['due-1', 'due-2']);
    // Rewriting without a due time removes the item from the index.
    await s.commit([put('due-1', 1)]);
    expect(await allDue(s, 2000)).toEqual(['due-2']);
    const raw = await q.dynamodb.send(new GetItemCommand({ TableName: q.tables.state, Key: { pk: { S: 'due-2' } } }));
    expect(raw.Item?.dueShard?.S).toBe(dueShardOf('due-2'));
    expect(Number(raw.Item?.expiresAt?.N)).toBe(Math.ceil((clock.now() + 7 * 86_400_000) / 1000));
  });

  it('pages through the due items in bounded chunks, each once, and stops at nowMs', async () => {
    const q = await provisionFresh();
    const s = new DynamoSeriesStateStore({ client: q.dynamodb, table: q.tables.state, clock });
    const keys = Array.from({ length: 45 }, (_, i) => `page-${i}`);
    await s.commit([...keys.map((k, i) => put(k, undefined, { dueAt: 1000 + i })), put('not-yet', undefined, { dueAt: 5000 })]);
    const pages: string[][] = [];
    let cursor: unknown;
    do {
      const page = await s.duePage(2000, 10, cursor);
      pages.push(page.keys);
      cursor = page.next;
    } while (cursor !== undefined);
    expect(Math.max(...pages.map((p) => p.length))).toBe(10);
    expect(pages.flat().sort()).toEqual([...keys].sort());
  });

  it('spreads keys over every due shard', () => {
    const shards = new Set(Array.from({ length: 200 }, (_, i) => dueShardOf(`rule#${i}`)));
    expect(shards.size).toBe(DUE_SHARDS);
  });

  it('does not send an item that would approach the 400 KB limit, and writes the others', async () => {
    const res = await store.commit([put('huge', undefined, { state: { blob: 'x'.repeat(400_000) } }), put('small', undefined)]);
    expect(res).toEqual({ conflicts: [], tooLarge: ['huge'] });
    expect([...(await store.getMany(['huge', 'small'])).keys()]).toEqual(['small']);
  });

  it('stores a state key longer than DynamoDB allows for a partition key under its hash', async () => {
    const long = `r1#metric{${Array.from({ length: 8 }, (_, i) => `l${i}="${'é'.repeat(400)}"`).join(',')}}`;
    expect(Buffer.byteLength(long)).toBeGreaterThan(2048);
    expect(physicalKey(long)).toMatch(/^r1#sha256:[0-9a-f]{64}$/);
    expect(physicalKey(physicalKey(long))).toBe(physicalKey(long));
    expect((await store.commit([put(long, undefined, { dueAt: 5 })])).conflicts).toEqual([]);
    const got = await store.getMany([long]);
    expect(got.get(long)).toMatchObject({ key: long, version: 1 });
    expect((await store.commit([put(long, 1)])).conflicts).toEqual([]);
    expect((await store.commit([put(long, 1)])).conflicts).toEqual([long]);
  });

  it('retries UnprocessedKeys until every key is read', async () => {
    // DynamoDB Local never returns UnprocessedKeys; this middleware drops all but the first key of
    // the first two responses, as DynamoDB does under throttling.
    const client = (await provisionFresh()).dynamodb as DynamoDBClient;
    let calls = 0;
    (client.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
      (next: (a: { input: unknown }) => Promise<unknown>) => async (args: { input: unknown }) => {
        const out = (await next(args)) as { output: { Responses?: Record<string, unknown[]>; UnprocessedKeys?: Record<string, { Keys: unknown[] }> } };
        calls++;
        const input = (args.input as BatchGetItemCommandInput).RequestItems!;
        const table = Object.keys(input)[0]!;
        if (calls <= 2 && input[table]!.Keys!.length > 1) {
          const keys = input[table]!.Keys!;
          const kept = String(keys[0]!.pk!.S);
          out.output.Responses![table] = out.output.Responses![table]!.filter((it) => (it as { pk: { S: string } }).pk.S === kept);
          out.output.UnprocessedKeys = { [table]: { Keys: keys.slice(1) } };
        }
        return out;
      },
      { step: 'initialize', name: 'unprocessed' },
    );
    await store.commit(['u1', 'u2', 'u3'].map((k) => put(k, undefined)));
    const got = await batchGetByKey(client, p.tables.state, 'pk', ['u1', 'u2', 'u3'], { retry: { maxAttempts: 5, baseDelayMs: 1 } });
    expect([...got.keys()].sort()).toEqual(['u1', 'u2', 'u3']);
    expect(calls).toBe(3);
    calls = 0;
    await expect(batchGetByKey(client, p.tables.state, 'pk', ['u1', 'u2', 'u3'], { retry: { maxAttempts: 2, baseDelayMs: 1 } })).rejects.toBeInstanceOf(UnprocessedKeysError);
  });
});

describe('kafka partial batch response', () => {
  it.each([
    // nothing failed: empty list (Lambda commits every offset)
    [[], []],
    // one partition: the lowest failed offset
    [[{ topic: 't', partition: 0, offset: 12 }, { topic: 't', partition: 0, offset: 10 }], [{ itemIdentifier: { partition: 't-0', offset: 10 } }]],
    // several partitions, topic names with dashes: one entry each
    [
      [{ topic: 'my-topic', partition: 1, offset: 5 }, { topic: 'my-topic', partition: 0, offset: 7 }, { topic: 'my-topic', partition: 1, offset: 3 }],
      [{ itemIdentifier: { partition: 'my-topic-0', offset: 7 } }, { itemIdentifier: { partition: 'my-topic-1', offset: 3 } }],
    ],
  ])('reports the lowest failed offset per partition (%#)', (failed, expected) => {
    expect(kafkaBatchResponse(failed).batchItemFailures).toEqual(expected);
  });

  it('flattens an MSK event into records in offset order per partition', () => {
    const ev = mskEvent([{ partition: 1, offset: 9, value: 1 }, { partition: 0, offset: 4, value: 2 }, { partition: 1, offset: 8, value: 3 }]);
    expect(recordsOf(ev).map((r) => `${r.partition}:${r.offset}`)).toEqual(['1:8', '1:9', '0:4']);
    expect(Buffer.from(recordsOf(ev)[0]!.value, 'base64').toString()).toBe('3');
  });

  it('decodes header bytes sent as Java signed bytes', () => {
    expect(headerText([104, 101, 108, 108, 111, 45, 119, 111, 114, 108, 100, 45, -61, -85])).toBe('hello-world-ë');
  });
});

describe('transient error classification', () => {
  it.each([
    // DynamoDB throttling
    [{ name: 'ProvisionedThroughputExceededException' }, true],
    // SQS / generic throttling flagged by the SDK
    [{ name: 'Whatever', $retryable: { throttling: true } }, true],
    // a 5xx
    [{ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }, true],
    // network failure nested as a cause
    [{ name: 'Error', cause: { code: 'ECONNRESET' } }, true],
    // validation: a bug or bad config, not retried
    [{ name: 'ValidationException', $metadata: { httpStatusCode: 400 } }, false],
    // access denied
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }, false],
    // a plain bug
    [new TypeError('x is undefined'), false],
  ])('classifies %o as transient=%s', (err, expected) => {
    expect(isTransientError(err)).toBe(expected);
  });
});
