/**
 * Windows as derived data (shared/core/sequence/derived.ts), against the reference: windows stored
 * in every item. The same sample stream, batched per partition, goes through both; in the derived
 * run each batch lands on one of two instances (a partition moving between Lambda execution
 * environments), any I/O call may fail (the function dies there; the batch is delivered again,
 * maybe to the other instance), batches are delivered again after they succeeded (a rewind), and
 * the timers run between batches on the table both runs share with their evaluators. The
 * reference gets the same deliveries (rewinds and batches delivered again with other bounds
 * included: a rewind past a series the timers deleted
 * creates it again in either layout) and the same timer runs, on one instance, without faults.
 * The transitions published, deduplicated by transition id as FIFO and dispatch do, must be the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertTransition, MetricSample } from '../../shared/core/model/index.ts';
import { parseRules, RuleIndex } from '../../shared/core/rules/index.ts';
import type { SeriesState } from '../../shared/core/evaluate/index.ts';
import {
  advanceTimers,
  CollectingPublisher,
  evaluateBatch,
  evaluatePartitionBatch,
  InMemorySampleLog,
  InMemorySeriesBudget,
  InMemorySeriesStateStore,
  PartitionMemory,
  type LogSegment,
  type SampleLog,
  type SeriesStateStore,
  type SeriesWrite,
} from '../../shared/core/sequence/index.ts';

const T0 = 1_795_300_000_000;
const S = 1000;
const STALE = 60 * S;
const OPTS = { staleAfterMs: STALE, maxFutureSkewMs: 600 * S, seriesLimitPerRule: 1000 };

const INDEX = new RuleIndex(
  parseRules(
    `
rules:
  - id: hot
    metric: temp
    condition: '> 50'
    for: 30s
    keepFiringFor: 15s
    severity: high
  - id: hot_max
    metric: temp
    aggregate: { fn: max, window: 45s }
    condition: '> 70'
    clearCondition: '< 40'
    severity: low
  - id: warm_avg
    metric: temp
    aggregate: { fn: avg, window: 2m }
    condition: '> 60'
    for: 20s
    severity: medium
  - id: odd
    metric: temp
    anomaly: { window: 2m, minSamples: 4 }
    condition: '> 1.5'
    severity: low
`,
    'rules.yaml',
  ),
);

const HOSTS = ['a', 'b', 'c', 'd'];
/** Series `i` lives on partition `i % 2`, as keyed records do. */
const partitionOf = (i: number) => `metrics-${i % 2}`;

interface Batch {
  readonly partition: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly samples: MetricSample[];
  /** The virtual clock when it is evaluated (the newest event time so far). */
  readonly nowMs: number;
}

/** Samples every 10 s per host (with gaps: a value of -1 is no sample), cut into per-partition batches. */
function batchesOf(values: number[][], cuts: number[]): Batch[] {
  const records: { partition: string; t: number; sample: MetricSample }[] = [];
  values.forEach((vs, i) =>
    vs.forEach((v, j) => {
      if (v < 0) return;
      const t = T0 + j * 10 * S + i * 100;
      records.push({ partition: partitionOf(i), t, sample: { name: 'temp', value: v, timestampMs: t, labels: { host: HOSTS[i]! } } });
    }),
  );
  records.sort((a, b) => a.t - b.t);
  const cutSet = new Set(cuts.map((c) => c % Math.max(1, records.length)));
  const out: Batch[] = [];
  const open = new Map<string, { start: number; samples: MetricSample[] }>();
  const offsets = new Map<string, number>();
  let maxT = 0;
  const flush = (p: string) => {
    const o = open.get(p);
    if (!o || o.samples.length === 0) return;
    out.push({ partition: p, startOffset: o.start, endOffset: offsets.get(p)!, samples: o.samples, nowMs: maxT + 1 });
    open.delete(p);
  };
  records.forEach((r, k) => {
    if (cutSet.has(k)) for (const p of [...open.keys()]) flush(p);
    const off = offsets.get(r.partition) ?? 0;
    offsets.set(r.partition, off + 1);
    let o = open.get(r.partition);
    if (!o) open.set(r.partition, (o = { start: off, samples: [] }));
    o.samples.push(r.sample);
    maxT = Math.max(maxT, r.t);
  });
  for (const p of [...open.keys()]) flush(p);
  return out;
}

/** Fails the k-th call (counted across the wrapped ports) after or before it takes effect. */
class Faults {
  static fired = 0;
  calls = 0;
  failAt = -1;
  after = false;
  async around<T>(fn: () => Promise<T>): Promise<T> {
    const n = ++this.calls;
    if (n === this.failAt && !this.after) {
      Faults.fired++;
      throw new Error(`fault before call ${n}`);
    }
    const r = await fn();
    if (n === this.failAt && this.after) {
      Faults.fired++;
      throw new Error(`fault after call ${n}`);
    }
    return r;
  }
}

function faultyStore(inner: SeriesStateStore<SeriesState>, f: Faults): SeriesStateStore<SeriesState> {
  return {
    getMany: (keys) => f.around(() => inner.getMany(keys)),
    commit: (writes: readonly SeriesWrite<SeriesState>[]) => f.around(() => inner.commit(writes)),
    duePage: (now, limit, cursor) => inner.duePage(now, limit, cursor),
  };
}

function faultyLog(inner: SampleLog, f: Faults): SampleLog {
  return {
    append: (seg: LogSegment) => f.around(() => inner.append(seg)),
    read: (p, a, b) => f.around(() => inner.read(p, a, b)),
    readBack: (p, b, since) => f.around(() => inner.readBack(p, b, since)),
  };
}

const isFiring = (s: SeriesState) => s.state === 'firing';

function key(t: AlertTransition): string {
  return JSON.stringify({ id: t.transitionId, kind: t.kind, ruleId: t.ruleId, labels: t.labels, atMs: t.atMs, activeAtMs: t.activeAtMs });
}

/** The partition's batches up to `i` that a rewind after batch `i` delivers again, `back` of them before it. */
function rewound(batches: readonly Batch[], i: number, back: number): number[] {
  const p = batches[i]!.partition;
  const mine = batches.map((b, k) => ({ b, k })).filter((x) => x.b.partition === p && x.k <= i);
  return mine.slice(Math.max(0, mine.length - 1 - back)).map((x) => x.k);
}

/**
 * A batch delivered again with other bounds: the partition's last two batches up to `i` as one
 * (Kafka's at-least-once delivery after a success whose offsets were not committed).
 */
function merged(batches: readonly Batch[], i: number): Batch | undefined {
  const ks = rewound(batches, i, 1);
  if (ks.length < 2) return undefined;
  const [a, b] = [batches[ks[0]!]!, batches[ks[1]!]!];
  return { partition: a.partition, startOffset: a.startOffset, endOffset: b.endOffset, samples: [...a.samples, ...b.samples], nowMs: b.nowMs };
}

/** Stored windows, one instance, no fault: the same deliveries (rewinds included) and timer runs. */
async function reference(batches: readonly Batch[], timersAfter: ReadonlySet<number>, rewinds: Plan['rewinds'] = [], merges: ReadonlySet<number> = new Set()): Promise<string[]> {
  const states = new InMemorySeriesStateStore<SeriesState>(isFiring);
  const publisher = new CollectingPublisher();
  const budget = new InMemorySeriesBudget();
  const deliver = async (b: Batch) => await evaluateBatch({ states, publisher, budget }, INDEX, b.samples, { ...OPTS, nowMs: b.nowMs });
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    await deliver(b);
    for (const r of rewinds) if (r.after === i) for (const k of rewound(batches, i, r.back)) await deliver(batches[k]!);
    const m = merges.has(i) ? merged(batches, i) : undefined;
    if (m) await deliver(m);
    if (timersAfter.has(i)) await advanceTimers({ states, publisher, budget, clock: { now: () => b.nowMs }, knownExpected: new Set() }, INDEX, { nowMs: b.nowMs, staleAfterMs: STALE });
  }
  return publisher.published.map(key).sort();
}

interface Plan {
  readonly instanceOf: readonly boolean[];
  readonly faults: readonly { batch: number; call: number; after: boolean }[];
  readonly rewinds: readonly { after: number; back: number }[];
  readonly timersAfter: ReadonlySet<number>;
  readonly merges: ReadonlySet<number>;
}

async function derived(batches: readonly Batch[], plan: Plan): Promise<{ published: string[]; statuses: Set<string> }> {
  const table = new InMemorySeriesStateStore<SeriesState>(isFiring);
  const log = new InMemorySampleLog();
  const publisher = new CollectingPublisher();
  const budget = new InMemorySeriesBudget();
  const f = new Faults();
  const instances = [0, 1].map(() => new PartitionMemory({ log: faultyLog(log, f), table: faultyStore(table, f) }));
  const statuses = new Set<string>();
  let delivery = 0;
  const deliver = async (i: number, given?: Batch) => {
    const b = given ?? batches[i]!;
    for (let attempt = 0; ; attempt++) {
      const inst = instances[plan.instanceOf[(delivery++) % plan.instanceOf.length]! ? 1 : 0]!;
      const fault = attempt === 0 && i >= 0 ? plan.faults.find((x) => x.batch === i) : undefined;
      f.calls = 0;
      f.failAt = fault ? fault.call : -1;
      f.after = fault?.after ?? false;
      try {
        const r = await evaluatePartitionBatch({ log: faultyLog(log, f), memory: inst, publisher, budget }, INDEX, b, { ...OPTS, nowMs: b.nowMs });
        statuses.add(r.view.status);
        return;
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('fault')) throw err;
        expect(attempt).toBe(0);
      }
    }
  };
  for (let i = 0; i < batches.length; i++) {
    await deliver(i);
    // Kafka rewinds this partition and delivers forward again.
    for (const r of plan.rewinds) if (r.after === i) for (const k of rewound(batches, i, r.back)) await deliver(k);
    const m = plan.merges.has(i) ? merged(batches, i) : undefined;
    if (m) await deliver(-1, m);
    if (plan.timersAfter.has(i)) {
      const b = batches[i]!;
      await advanceTimers({ states: table, publisher, budget, clock: { now: () => b.nowMs }, knownExpected: new Set() }, INDEX, { nowMs: b.nowMs, staleAfterMs: STALE });
    }
  }
  return { published: publisher.published.map(key).sort(), statuses };
}

const value = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(10, 45, 55, 65, 75, 95) }, { weight: 1, arbitrary: fc.constant(-1) });

describe('windows as derived data', () => {
  it('publish what stored windows publish, whatever instance takes a batch, with crashes, rewinds and timers', async () => {
    let withTransitions = 0;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(value, { minLength: 6, maxLength: 30 }), { minLength: HOSTS.length, maxLength: HOSTS.length }),
        fc.array(fc.nat(200), { maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        fc.array(fc.record({ batch: fc.nat(30), call: fc.integer({ min: 1, max: 8 }), after: fc.boolean() }), { maxLength: 6 }),
        fc.array(fc.record({ after: fc.nat(30), back: fc.nat(3) }), { maxLength: 3 }),
        fc.array(fc.nat(30), { maxLength: 10 }),
        fc.array(fc.nat(30), { maxLength: 3 }),
        async (values, cuts, instanceOf, faults, rewinds, timers, merge) => {
          const batches = batchesOf(values, cuts);
          const timersAfter = new Set(timers);
          const merges = new Set(merge);
          const expected = await reference(batches, timersAfter, rewinds, merges);
          const got = await derived(batches, { instanceOf, faults, rewinds, timersAfter, merges });
          for (const s of got.statuses) seen.add(s);
          if (expected.length > 0) withTransitions++;
          expect(got.published).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
    expect(withTransitions).toBeGreaterThan(50);
    expect(Faults.fired).toBeGreaterThan(30);
    expect([...seen].sort()).toEqual(['caught-up', 'current', 'rebuilt']);
  }, 60_000);
});

describe('PartitionMemory: when is memory current', () => {
  const sample = (host: string, t: number): MetricSample => ({ name: 'temp', value: 20, timestampMs: T0 + t, labels: { host } });
  const OTHER = new RuleIndex(parseRules(`rules:\n  - { id: hot_max, metric: temp, aggregate: { fn: max, window: 10m }, condition: '> 70', severity: low }\n`, 'other.yaml'));

  async function memoryAfter(steps: readonly (readonly ['begin', number, number] | readonly ['drop'] | readonly ['rules'])[], maxBytes?: number) {
    const log = new InMemorySampleLog();
    const table = new InMemorySeriesStateStore<SeriesState>(isFiring);
    const memory = new PartitionMemory({ log, table }, maxBytes);
    let index = INDEX;
    const statuses: string[] = [];
    for (const step of steps) {
      if (step[0] === 'drop') memory.drop('metrics-0');
      else if (step[0] === 'rules') index = OTHER;
      else {
        const [, start, end] = step;
        await log.append({ partition: 'metrics-0', startOffset: start, endOffset: end, writtenAtMs: T0, samples: [sample('a', start * 1000)] });
        const r = await memory.begin('metrics-0', start, index, { nowMs: T0, horizonMs: 3_600_000 });
        statuses.push(r.status);
        memory.end('metrics-0', end);
      }
    }
    return { statuses, memory };
  }

  it.each([
    ['a first batch: no memory', [['begin', 0, 5]], ['rebuilt']],
    ['the next batch: current', [['begin', 0, 5], ['begin', 5, 9]], ['rebuilt', 'current']],
    ['batches in between went elsewhere: caught up', [['begin', 0, 5], ['begin', 9, 12]], ['rebuilt', 'caught-up']],
    ['a batch before memory (a rewind): rebuilt', [['begin', 0, 5], ['begin', 5, 9], ['begin', 5, 9]], ['rebuilt', 'current', 'rebuilt']],
    ['after a failure: rebuilt', [['begin', 0, 5], ['drop'], ['begin', 0, 5]], ['rebuilt', 'rebuilt']],
    ['new rules with other windows: rebuilt', [['begin', 0, 5], ['rules'], ['begin', 5, 9]], ['rebuilt', 'rebuilt']],
  ] as const)('%s', async (_what, steps, expected) => {
    expect((await memoryAfter(steps)).statuses).toEqual(expected);
  });

  it('forgets the least recently used partitions past its memory budget, never the one in use', async () => {
    const log = new InMemorySampleLog();
    const table = new InMemorySeriesStateStore<SeriesState>(isFiring);
    const states = { getMany: table.getMany.bind(table), commit: table.commit.bind(table), duePage: table.duePage.bind(table) };
    const memory = new PartitionMemory({ log, table: states }, 3 * 400);
    const publisher = new CollectingPublisher();
    const budget = new InMemorySeriesBudget();
    for (const [p, host] of [['metrics-0', 'a'], ['metrics-1', 'b'], ['metrics-0', 'c']] as const) {
      await evaluatePartitionBatch({ log, memory, publisher, budget }, new RuleIndex(parseRules(`rules:\n  - { id: hot, metric: temp, condition: '> 50', severity: low }\n`, 'r.yaml')), { partition: p, startOffset: host.charCodeAt(0), endOffset: host.charCodeAt(0) + 1, samples: [sample(host, 0)] }, { ...OPTS, nowMs: T0 });
    }
    // Three threshold states would fit; partition 0's two and partition 1's one make three: all kept.
    expect(memory.partitions().sort()).toEqual(['metrics-0', 'metrics-1']);
    await evaluatePartitionBatch({ log, memory, publisher, budget }, new RuleIndex(parseRules(`rules:\n  - { id: hot, metric: temp, condition: '> 50', severity: low }\n`, 'r.yaml')), { partition: 'metrics-0', startOffset: 100, endOffset: 101, samples: [sample('d', 0)] }, { ...OPTS, nowMs: T0 });
    // A fourth state in partition 0: partition 1 (least recently used) is forgotten.
    expect(memory.partitions()).toEqual(['metrics-0']);
  });
});
