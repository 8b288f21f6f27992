import { describe, expect, it, vi } from 'vitest';
import type { MSKEvent } from 'aws-lambda';
import { MskBatcher, partitionFor, seriesKeyOf, type KafkaBatchResponse } from '../../local/runtime/msk-batcher.ts';

const sample = (name: string, labels: Record<string, string>, value = 1, timestamp = 1_000): string => JSON.stringify({ name, value, timestamp, labels });
const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/** Collects the events a batcher invokes, answering with `answer` (default: success). */
function recorder(answer: (event: MSKEvent, n: number) => KafkaBatchResponse | Promise<KafkaBatchResponse> = () => ({ batchItemFailures: [] })) {
  const events: MSKEvent[] = [];
  return {
    events,
    invoke: async (event: MSKEvent) => {
      events.push(structuredClone(event));
      return await answer(event, events.length);
    },
  };
}

describe('seriesKeyOf', () => {
  it.each([
    // label order does not change the key
    [sample('cpu', { b: '2', a: '1' }), sample('cpu', { a: '1', b: '2' }), true],
    // the seed format's instance_id is the instance label
    [JSON.stringify({ metric_name: 'cpu', value: 1, instance_id: 'i-1', tags: {} }), sample('cpu', { instance: 'i-1' }), true],
    // an array is keyed by its first sample
    [JSON.stringify([JSON.parse(sample('cpu', { a: '1' })), JSON.parse(sample('mem', {}))]), sample('cpu', { a: '1' }), true],
    // different label values are different series
    [sample('cpu', { a: '1' }), sample('cpu', { a: '2' }), false],
    // a timestamp or value is not part of the series
    [sample('cpu', { a: '1' }, 5, 1), sample('cpu', { a: '1' }, 9, 2), true],
  ])('keys %s and %s equally: %s', (a, b, same) => {
    expect(seriesKeyOf(a) === seriesKeyOf(b)).toBe(same);
  });

  it('keys a malformed record by its text', () => {
    expect(seriesKeyOf('not json')).toBe('not json');
  });
});

describe('MskBatcher', () => {
  it('puts every record of one series on the same partition, in offset order', async () => {
    const r = recorder();
    const b = new MskBatcher({ topic: 'm', partitions: 4, batchSize: 1000, maxBatchingWindowMs: 5, invoke: r.invoke });
    const series = [{ instance: 'a' }, { instance: 'b' }, { instance: 'c' }, { instance: 'd' }, { instance: 'e' }];
    for (let t = 0; t < 5; t++) for (const s of series) b.push({ value: sample('cpu', s, t, t) });
    await b.drain();
    await b.stop();
    const records = r.events.flatMap((e) => Object.values(e.records).flat());
    expect(records).toHaveLength(25);
    for (const s of series) {
      const mine = records.filter((x) => JSON.parse(decode(x.value)).labels.instance === s.instance);
      expect(new Set(mine.map((x) => x.partition)).size).toBe(1);
      expect(mine[0]!.partition).toBe(partitionFor(seriesKeyOf(sample('cpu', s)), 4));
      const offsets = mine.map((x) => x.offset);
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    }
    // The map key is "<topic>-<partition>", as Lambda sends it.
    for (const e of r.events) for (const [k, list] of Object.entries(e.records)) for (const x of list) expect(k).toBe(`m-${x.partition}`);
  });

  it('invokes with at most batchSize records', async () => {
    const r = recorder();
    const b = new MskBatcher({ topic: 'm', partitions: 2, batchSize: 3, maxBatchingWindowMs: 5, invoke: r.invoke });
    for (let i = 0; i < 10; i++) b.push({ value: sample('cpu', { i: String(i) }) });
    await b.drain();
    await b.stop();
    const sizes = r.events.map((e) => Object.values(e.records).flat().length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.reduce((a, n) => a + n, 0)).toBe(10);
  });

  it('waits for the batching window before invoking a partial batch', async () => {
    vi.useFakeTimers();
    try {
      const r = recorder();
      const b = new MskBatcher({ topic: 'm', partitions: 1, batchSize: 100, maxBatchingWindowMs: 150, invoke: r.invoke });
      b.push({ value: sample('cpu', {}) });
      await vi.advanceTimersByTimeAsync(149);
      expect(r.events).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      await b.drain();
      expect(r.events).toHaveLength(1);
      await b.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('redelivers a partition from the reported offset and commits what came before', async () => {
    // First call fails partition 0 from offset 2; later calls succeed.
    const r = recorder((event, n) => {
      if (n > 1) return { batchItemFailures: [] };
      const key = Object.keys(event.records)[0]!;
      return { batchItemFailures: [{ itemIdentifier: { partition: key, offset: 2 } }] };
    });
    const b = new MskBatcher({ topic: 'm', partitions: 1, batchSize: 100, maxBatchingWindowMs: 5, retryDelayMs: 5, invoke: r.invoke });
    for (let i = 0; i < 5; i++) b.push({ value: sample('cpu', {}, i, i) });
    await b.drain();
    await b.stop();
    expect(r.events).toHaveLength(2);
    expect(r.events[1]!.records['m-0']!.map((x) => x.offset)).toEqual([2, 3, 4]);
  });

  it('retries the whole batch when the function throws or names an unknown record', async () => {
    let calls = 0;
    const r = recorder((_e, n) => {
      calls = n;
      if (n === 1) throw new Error('boom');
      if (n === 2) return { batchItemFailures: [{ itemIdentifier: { partition: 'm-0', offset: 999 } }] };
      return { batchItemFailures: [] };
    });
    const b = new MskBatcher({ topic: 'm', partitions: 1, batchSize: 100, maxBatchingWindowMs: 5, retryDelayMs: 5, invoke: r.invoke });
    for (let i = 0; i < 3; i++) b.push({ value: sample('cpu', {}, i, i) });
    await b.drain();
    await b.stop();
    expect(calls).toBe(3);
    for (const e of r.events) expect(e.records['m-0']!.map((x) => x.offset)).toEqual([0, 1, 2]);
  });

  it('drops a record after the maximum retries and says so', async () => {
    const dropped: number[] = [];
    const b = new MskBatcher({
      topic: 'm',
      partitions: 1,
      batchSize: 10,
      maxBatchingWindowMs: 1,
      retryDelayMs: 1,
      maxRetries: 2,
      invoke: () => Promise.reject(new Error('always')),
      onDrop: (rec) => dropped.push(rec.offset),
    });
    b.push({ value: 'x' });
    await b.drain();
    await b.stop();
    expect(dropped).toEqual([0]);
  });

  it('keeps the partition and offset a real Kafka consumer gives', async () => {
    const r = recorder();
    const b = new MskBatcher({ topic: 't', partitions: 1, batchSize: 10, maxBatchingWindowMs: 1, invoke: r.invoke });
    b.push({ value: 'a', partition: 5, offset: 42, key: 'k' });
    await b.drain();
    await b.stop();
    const rec = r.events[0]!.records['t-5']![0]!;
    expect([rec.partition, rec.offset, decode(rec.key)]).toEqual([5, 42, 'k']);
  });
});
