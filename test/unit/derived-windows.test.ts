/**
 * Windows as derived data (shared/core/sequence/derived.ts), against the reference: windows stored
 * in every item. The same sample stream, batched per partition, goes through both; in the derived
 * run each batch lands on one of two instances (a partition moving between Lambda execution
 * environments), any I/O call may fail (the function dies there; the batch is delivered again,
 * maybe to the other instance), batches are delivered again after they succeeded (a rewind), and
 * the timers run between batches on the table both runs share with their evaluators. The
 * transitions published, deduplicated by transition id as FIFO and dispatch do, must be the same.
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

async function reference(batches: readonly Batch[], timersAfter: ReadonlySet<number>): Promise<string[]> {
  const states = new InMemorySeriesStateStore<SeriesState>(isFiring);
  const publisher = new CollectingPublisher();
  const budget = new InMemorySeriesBudget();
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    await evaluateBatch({ states, publisher, budget }, INDEX, b.samples, { ...OPTS, nowMs: b.nowMs });
    if (timersAfter.has(i)) await advanceTimers({ states, publisher, budget, clock: { now: () => b.nowMs }, knownExpected: new Set() }, INDEX, { nowMs: b.nowMs, staleAfterMs: STALE });
  }
  return publisher.published.map(key).sort();
}

interface Plan {
  readonly instanceOf: readonly boolean[];
  readonly faults: readonly { batch: number; call: number; after: boolean }[];
  readonly rewinds: readonly { after: number; back: number }[];
  readonly timersAfter: ReadonlySet<number>;
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
  const deliver = async (i: number) => {
    const b = batches[i]!;
    for (let attempt = 0; ; attempt++) {
      const inst = instances[plan.instanceOf[(delivery++) % plan.instanceOf.length]! ? 1 : 0]!;
      const fault = attempt === 0 ? plan.faults.find((x) => x.batch === i) : undefined;
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
    for (const r of plan.rewinds) {
      if (r.after !== i) continue;
      // Kafka rewinds this partition and delivers forward again.
      const p = batches[i]!.partition;
      const mine = batches.map((b, k) => ({ b, k })).filter((x) => x.b.partition === p && x.k <= i);
      for (const x of mine.slice(Math.max(0, mine.length - 1 - r.back))) await deliver(x.k);
    }
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
        async (values, cuts, instanceOf, faults, rewinds, timers) => {
          const batches = batchesOf(values, cuts);
          const timersAfter = new Set(timers);
          const expected = await reference(batches, timersAfter);
          const got = await derived(batches, { instanceOf, faults, rewinds, timersAfter });
          for (const s of got.statuses) seen.add(s);
          if (expected.length > 0) withTransitions++;
          expect(got.published).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
    expect(withTransitions).toBeGreaterThan(50);
    expect(Faults.fired).toBeGreaterThan(30);
    expect([...seen].sort()).toEqual(['caught-up', 'current', 'rebuilt']);
  }, 60_000);
});
