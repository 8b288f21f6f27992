/**
 * The per-partition sample log: one behavioural table run against both implementations (DynamoDB
 * Local and in memory), then what only the DynamoDB log has: chunks, crashes while a segment is
 * written, leftover chunks, 1 MB query pages, TTL, consistent reads, error classes.
 */
import { PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { meterCapacity } from '../../shared/adapters/dynamodb/capacity.ts';
import { CHUNK_MAX_BYTES, DynamoSampleLog, SAMPLE_LOG_RETENTION_SECONDS, SampleLogUnavailableError, sampleLogSortKey } from '../../shared/adapters/dynamodb/sample-log.ts';
import { CorruptSegmentError, encodeSamples } from '../../shared/adapters/dynamodb/segment-codec.ts';
import { DEFAULT_MAX_SAMPLE_AGE_MS } from '../../shared/core/decode/index.ts';
import type { MetricSample } from '../../shared/core/model/index.ts';
import { InMemorySampleLog, InvalidSegmentError, type LogSegment, type SampleLog } from '../../shared/core/sequence/index.ts';
import { dynamoClient, provisionFresh } from '../support/aws.ts';
import { countRequests, injectFaults } from './eval-helpers/clients.ts';

const T = 1_795_300_000_000;

let p: Awaited<ReturnType<typeof provisionFresh>>;
beforeAll(async () => {
  p = await provisionFresh();
});

/** A partition name no other test uses (the tests share one table). */
const partition = (): string => `metrics-${randomUUID().slice(0, 8)}`;

/** A small deterministic PRNG (mulberry32): values that do not compress, the same every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` samples of 20 series, 10 s apart per series, with values that barely compress. */
function samples(n: number, seed = 1): MetricSample[] {
  const rnd = prng(seed);
  return Array.from({ length: n }, (_, i) => ({
    name: 'cpu_usage_percent',
    value: rnd() * 100,
    timestampMs: T + Math.floor(i / 20) * 10_000,
    labels: { instance: `web-${i % 20}`, environment: 'production' },
  }));
}

const segment = (part: string, startOffset: number, extra: Partial<LogSegment> = {}): LogSegment => ({
  partition: part,
  startOffset,
  endOffset: startOffset + 10,
  writtenAtMs: T + startOffset,
  samples: samples(3, startOffset + 1),
  ...extra,
});

const starts = (segments: readonly LogSegment[]): number[] => segments.map((s) => s.startOffset);

/** The implementations the behavioural table runs against. */
const IMPLEMENTATIONS: [string, () => SampleLog][] = [
  ['DynamoDB', () => new DynamoSampleLog({ client: p.dynamodb, table: p.tables.samples })],
  ['in memory', () => new InMemorySampleLog()],
];

/** Behaviour both implementations share: [what, scenario]. */
const BEHAVIOUR: [string, (log: SampleLog, part: string) => Promise<void>][] = [
  [
    'reads what was appended, oldest first, exactly the segments with from <= startOffset < before',
    async (log, part) => {
      const [a, b, c] = [segment(part, 0), segment(part, 10), segment(part, 20)];
      // Appended out of order: the log orders by offset, not by arrival.
      for (const s of [c, a, b]) await log.append(s);
      expect(await log.read(part, 0, 30)).toEqual([a, b, c]);
      expect(starts(await log.read(part, 10, 20))).toEqual([10]);
      expect(starts(await log.read(part, 1, 21))).toEqual([10, 20]);
      expect(starts(await log.read(part, 0, Number.MAX_SAFE_INTEGER))).toEqual([0, 10, 20]);
      expect(starts(await log.read(part, -5, Infinity))).toEqual([0, 10, 20]);
      // Empty ranges, and another partition.
      expect(await log.read(part, 30, 100)).toEqual([]);
      expect(await log.read(part, 20, 20)).toEqual([]);
      expect(await log.read(part, 20, 10)).toEqual([]);
      expect(await log.read(`${part}-other`, 0, 100)).toEqual([]);
    },
  ],
  [
    'replaces a segment whole when one with the same start offset is appended (a shorter redelivery)',
    async (log, part) => {
      await log.append(segment(part, 100, { endOffset: 200, samples: samples(50) }));
      const shorter = segment(part, 100, { endOffset: 150, writtenAtMs: T + 5000, samples: samples(2, 7) });
      await log.append(shorter);
      expect(await log.read(part, 0, 1000)).toEqual([shorter]);
    },
  ],
  [
    'keeps a segment without samples (every record of the batch rejected)',
    async (log, part) => {
      const empty = segment(part, 5, { samples: [] });
      await log.append(empty);
      expect(await log.read(part, 0, 10)).toEqual([empty]);
    },
  ],
  [
    'keeps special values and odd labels exactly',
    async (log, part) => {
      const odd: MetricSample[] = [NaN, Infinity, -Infinity, -0, Number.MIN_VALUE].map((value, i) => ({
        name: 'x',
        value,
        timestampMs: T - i,
        labels: Object.fromEntries([['__proto__', 'p'], ['lone', 'a\ud800'], ['', ''], ['q', '"=,\n']]) as Record<string, string>,
      }));
      await log.append(segment(part, 0, { samples: odd }));
      const [got] = await log.read(part, 0, 1);
      expect(got!.samples).toEqual(odd);
      expect(Object.is(got!.samples[3]!.value, -0)).toBe(true);
    },
  ],
  [
    'reads back newest first from before the offset, down to the first segment written before the bound, returned oldest first',
    async (log, part) => {
      for (const [start, written] of [[0, 1000], [10, 2000], [20, 3000], [30, 4000]] as const) await log.append(segment(part, start, { writtenAtMs: written }));
      expect(starts(await log.readBack(part, 40, 2500))).toEqual([20, 30]);
      // beforeOffset is exclusive.
      expect(starts(await log.readBack(part, 30, 2500))).toEqual([20]);
      // A segment written exactly at the bound is included.
      expect(starts(await log.readBack(part, 40, 2000))).toEqual([10, 20, 30]);
      expect(starts(await log.readBack(part, 40, 0))).toEqual([0, 10, 20, 30]);
      expect(await log.readBack(part, 40, 4001)).toEqual([]);
      expect(await log.readBack(part, 0, 0)).toEqual([]);
      expect(starts(await log.readBack(part, Infinity, 0))).toEqual([0, 10, 20, 30]);
    },
  ],
  [
    'stops reading back at the first segment written before the bound, even if older offsets were written later',
    async (log, part) => {
      // Offset 0 was rewritten late (a redelivery); offset 10 is older than the bound: the reading stops there.
      for (const [start, written] of [[0, 5000], [10, 1000], [20, 3000]] as const) await log.append(segment(part, start, { writtenAtMs: written }));
      expect(starts(await log.readBack(part, 30, 2000))).toEqual([20]);
    },
  ],
  [
    'returns copies: changing what was appended or what was read changes nothing stored',
    async (log, part) => {
      const s = segment(part, 0);
      const appended = structuredClone(s);
      await log.append(s);
      (s.samples as MetricSample[]).pop();
      const [first] = await log.read(part, 0, 1);
      (first!.samples as MetricSample[]).length = 0;
      const [back] = await log.readBack(part, 1, 0);
      expect(back).toEqual(appended);
    },
  ],
  [
    'refuses a segment it could not store, naming the segment and the field',
    async (log, part) => {
      const bad: [Partial<LogSegment>, RegExp][] = [
        [{ startOffset: -1 }, /segment .*@-1: startOffset must be a non-negative safe integer/],
        [{ startOffset: 1.5, endOffset: 3 }, /startOffset must be a non-negative safe integer, got 1.5/],
        [{ startOffset: 5, endOffset: 5 }, /@5: endOffset must be a safe integer above startOffset, got 5/],
        [{ writtenAtMs: NaN }, /writtenAtMs must be whole epoch milliseconds, got NaN/],
        [{ samples: [{ name: 'x', value: 1, timestampMs: T + 0.5, labels: {} }] }, /samples\[0\]\.timestampMs .* is not a whole number of milliseconds/],
        [{ partition: '' }, /partition must be a non-empty string/],
      ];
      for (const [extra, message] of bad) {
        const s = segment(part, 0, extra);
        await expect(log.append(s)).rejects.toThrow(InvalidSegmentError);
        await expect(log.append(s)).rejects.toThrow(message);
      }
      await expect(log.read(part, NaN, 10)).rejects.toThrow(/fromOffset must be a number, got NaN/);
      await expect(log.readBack(part, NaN, 0)).rejects.toThrow(/beforeOffset must be a number, got NaN/);
      expect(await log.read(part, 0, 100)).toEqual([]);
    },
  ],
];

describe.each(IMPLEMENTATIONS)('sample log (%s)', (_, make) => {
  it.each(BEHAVIOUR)('%s', async (_what, scenario) => {
    await scenario(make(), partition());
  });
});

describe('DynamoDB sample log: storage', () => {
  /** Every item of a partition, in key order. */
  async function items(client: DynamoDBClient, part: string): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page: QueryCommandOutput = await client.send(
        new QueryCommand({ TableName: p.tables.samples, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: part } }, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
  const small = (options: { client?: DynamoDBClient; chunkMaxBytes?: number } = {}) =>
    new DynamoSampleLog({ client: options.client ?? p.dynamodb, table: p.tables.samples, chunkMaxBytes: options.chunkMaxBytes ?? 4_000 });

  it('splits a segment whose encoding exceeds 350 KB into chunks, chunk 0 carrying count, end offset and write time, and reads it back equal', async () => {
    const part = partition();
    const log = new DynamoSampleLog({ client: p.dynamodb, table: p.tables.samples });
    const big = segment(part, 1000, { endOffset: 2000, samples: samples(60_000) });
    expect(encodeSamples(big.samples, 'x').length).toBeGreaterThan(CHUNK_MAX_BYTES);
    await log.append(big);
    const stored = await items(p.dynamodb, part);
    expect(stored.map((i) => i.sk?.S)).toEqual([sampleLogSortKey(1000, 0), sampleLogSortKey(1000, 1)]);
    expect(stored[0]!.sk?.S).toBe('00000000000000001000#000');
    for (const i of stored) expect(i.b!.B!.length).toBeLessThanOrEqual(CHUNK_MAX_BYTES);
    expect(stored[0]).toMatchObject({ chunks: { N: '2' }, endOffset: { N: '2000' }, writtenAtMs: { N: String(big.writtenAtMs) } });
    expect(stored[1]!.chunks).toBeUndefined();
    expect(await log.read(part, 0, 2000)).toEqual([big]);
    expect(await log.readBack(part, 2000, 0)).toEqual([big]);
  });

  it('does not read a segment whose chunk 0 was never written (a crash mid-write); the redelivered batch rewrites it', async () => {
    const part = partition();
    const client = dynamoClient();
    const faults = injectFaults(client);
    const log = small({ client });
    const before = segment(part, 0);
    await log.append(before);
    const s = segment(part, 10, { samples: samples(2000) });
    // How many chunks the segment takes: the same samples appended elsewhere.
    await small().append(segment(`${part}-probe`, 10, { samples: s.samples }));
    const chunkCount = (await items(p.dynamodb, `${part}-probe`)).length;
    expect(chunkCount).toBeGreaterThan(2);
    // Chunk 0 is the last PutItem of an append: fail it.
    faults.arm({ command: 'PutItemCommand', nth: chunkCount, when: 'before' });
    const err = await log.append(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SampleLogUnavailableError);
    expect((err as Error).message).toContain(`append segment ${part}@10`);
    expect(faults.seen.get('PutItemCommand')).toBe(chunkCount);
    // Chunks 1.. are there, chunk 0 is not: the segment does not exist for readers.
    expect((await items(p.dynamodb, part)).map((i) => i.sk?.S)).toEqual([sampleLogSortKey(0, 0), ...Array.from({ length: chunkCount - 1 }, (_, k) => sampleLogSortKey(10, k + 1))]);
    expect(await log.read(part, 0, 100)).toEqual([before]);
    expect(await log.readBack(part, 100, 0)).toEqual([before]);
    faults.arm(undefined);
    await log.append(s);
    expect(await log.read(part, 0, 100)).toEqual([before, s]);
  });

  it('does not read a segment torn by a crash while it was rewritten (the old chunk 0 beside new chunks)', async () => {
    const part = partition();
    const client = dynamoClient();
    const faults = injectFaults(client);
    const log = small({ client });
    const old = segment(part, 10, { samples: samples(2000, 1) });
    await log.append(old);
    const chunkCount = (await items(p.dynamodb, part)).length;
    expect(chunkCount).toBeGreaterThan(2);
    faults.arm({ command: 'PutItemCommand', nth: chunkCount, when: 'before' });
    const rewrite = segment(part, 10, { writtenAtMs: T + 99, samples: samples(2000, 2) });
    await expect(log.append(rewrite)).rejects.toThrow(SampleLogUnavailableError);
    // Neither the old segment nor a mix of both.
    expect(await log.read(part, 0, 100)).toEqual([]);
    expect(await log.readBack(part, 100, 0)).toEqual([]);
    faults.arm(undefined);
    await log.append(rewrite);
    expect(await log.read(part, 0, 100)).toEqual([rewrite]);
  });

  it('ignores the chunks a longer earlier write left behind, reading forward and back', async () => {
    const part = partition();
    const log = small();
    await log.append(segment(part, 0));
    await log.append(segment(part, 10, { samples: samples(3000) }));
    await log.append(segment(part, 20));
    const longCount = (await items(p.dynamodb, part)).length - 2;
    expect(longCount).toBeGreaterThan(2);
    const shorter = segment(part, 10, { endOffset: 15, writtenAtMs: T + 50, samples: samples(4, 9) });
    await log.append(shorter);
    // The leftover chunks are still stored (TTL removes them) ...
    expect((await items(p.dynamodb, part)).length).toBe(2 + longCount);
    // ... and read by nobody: backward, they come before the shorter segment's chunk 0.
    expect(await log.read(part, 0, 100)).toEqual([segment(part, 0), shorter, segment(part, 20)]);
    expect(await log.readBack(part, 100, 0)).toEqual([segment(part, 0), shorter, segment(part, 20)]);
  });

  it('pages through more than 1 MB of segments, forward and back, and reads back only as far as the bound', async () => {
    const part = partition();
    const log = new DynamoSampleLog({ client: p.dynamodb, table: p.tables.samples });
    // Six segments of about 250 KB (one chunk each): 1.5 MB, at least two 1 MB query pages.
    const segs = Array.from({ length: 6 }, (_, i) => segment(part, i * 1000, { endOffset: i * 1000 + 1000, writtenAtMs: T + i * 60_000, samples: samples(40_000, i + 1) }));
    for (const s of segs) await log.append(s);
    const stored = await items(p.dynamodb, part);
    expect(stored).toHaveLength(6);
    expect(stored.reduce((n, i) => n + i.b!.B!.length, 0)).toBeGreaterThan(1024 * 1024);
    const client = dynamoClient();
    const queries: unknown[] = [];
    countRequests(client, (name, input) => void (name === 'QueryCommand' && queries.push(input)));
    const reader = new DynamoSampleLog({ client, table: p.tables.samples });
    expect(await reader.read(part, 0, 6000)).toEqual(segs);
    expect(queries.length).toBeGreaterThanOrEqual(2);
    queries.length = 0;
    const back = await reader.readBack(part, 6000, 0);
    expect(back.map((x) => [x.startOffset, x.samples.length])).toEqual(segs.map((x) => [x.startOffset, x.samples.length]));
    expect(queries.length).toBeGreaterThanOrEqual(2);
    // Only the newest two are needed: they fit in the first page, so one Query is enough.
    queries.length = 0;
    expect(starts(await reader.readBack(part, 6000, T + 4 * 60_000))).toEqual([4000, 5000]);
    expect(queries).toHaveLength(1);
    // Every read was strongly consistent.
    expect(queries.every((q) => (q as { ConsistentRead?: boolean }).ConsistentRead === true)).toBe(true);
  });

  it('sets expiresAt on every chunk: the write time plus the retention (8 days by default, more than the 7-day sample age)', async () => {
    expect(SAMPLE_LOG_RETENTION_SECONDS).toBe(8 * 86_400);
    expect(SAMPLE_LOG_RETENTION_SECONDS * 1000).toBeGreaterThan(DEFAULT_MAX_SAMPLE_AGE_MS);
    const part = partition();
    await small().append(segment(part, 0, { writtenAtMs: T + 999, samples: samples(2000) }));
    await new DynamoSampleLog({ client: p.dynamodb, table: p.tables.samples, retentionSeconds: 3600 }).append(segment(part, 10, { writtenAtMs: T + 1999 }));
    const stored = await items(p.dynamodb, part);
    expect(stored.length).toBeGreaterThan(2);
    for (const i of stored) {
      const expected = i.sk!.S!.startsWith(sampleLogSortKey(0, 0).slice(0, 21)) ? T / 1000 + SAMPLE_LOG_RETENTION_SECONDS : T / 1000 + 1 + 3600;
      expect(Number(i.expiresAt?.N), i.sk?.S).toBe(expected);
    }
  });

  it('sends every request through client.send, so the capacity meter counts it', async () => {
    const client = dynamoClient();
    const meter = meterCapacity(client);
    const log = new DynamoSampleLog({ client, table: p.tables.samples });
    const part = partition();
    await log.append(segment(part, 0));
    await log.read(part, 0, 10);
    await log.readBack(part, 10, 0);
    expect(meter.requests.get('PutItemCommand')).toBe(1);
    expect(meter.requests.get('QueryCommand')).toBe(2);
    const [line] = meter.lines().filter((l) => l.table === p.tables.samples);
    expect(line!.write.measured).toBeGreaterThan(0);
    expect(line!.read.measured).toBeGreaterThan(0);
  });

  it('names the segment of a stored chunk that does not decode', async () => {
    const part = partition();
    await p.dynamodb.send(
      new PutItemCommand({
        TableName: p.tables.samples,
        Item: {
          pk: { S: part },
          sk: { S: sampleLogSortKey(7, 0) },
          b: { B: Buffer.from([1, 0xff, 0xff]) },
          wid: { S: 'w' },
          chunks: { N: '1' },
          endOffset: { N: '8' },
          writtenAtMs: { N: String(T) },
          expiresAt: { N: String(T / 1000) },
        },
      }),
    );
    const log = small();
    await expect(log.read(part, 0, 10)).rejects.toThrow(CorruptSegmentError);
    await expect(log.read(part, 0, 10)).rejects.toThrow(new RegExp(`segment ${part}@7 chunk 0: does not inflate`));
  });

  it('lets errors that retrying cannot fix through as they are (a missing table)', async () => {
    const log = new DynamoSampleLog({ client: p.dynamodb, table: `${p.prefix}-no-such-table` });
    const err = await log.read('x', 0, 10).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(SampleLogUnavailableError);
    expect((err as Error).name).toBe('ResourceNotFoundException');
  });

  it('refuses a retention or chunk size it cannot honour', () => {
    expect(() => new DynamoSampleLog({ client: p.dynamodb, table: 't', retentionSeconds: 0 })).toThrow(/retentionSeconds must be a positive whole number, got 0/);
    expect(() => new DynamoSampleLog({ client: p.dynamodb, table: 't', chunkMaxBytes: 500_000 })).toThrow(/chunkMaxBytes must be in \(0, 350000\], got 500000/);
  });
});
