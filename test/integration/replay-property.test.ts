/**
 * Property (fast-check, against DynamoDB Local and fauxqs): however a sample stream is split into
 * batches, and however those batches are duplicated or redelivered (Kafka rewinds to an earlier
 * offset and delivers forward again), the transitions delivered (deduplicated by transition id)
 * are those of one clean, in-order run.
 *
 * Runs share the emulators; each uses its own `run` label, removed before comparing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../shared/core/model/index.ts';
import { evalHarness, uniqueTransitions } from './eval-helpers/harness.ts';
import { deliverUntilDone, mskEvent, sample, type RecordSpec } from './eval-helpers/msk.ts';

const T0 = 1_795_300_000_000;
const RULES = `
rules:
  - id: hot
    metric: temp
    condition: '> 50'
    for: 30s
    keepFiringFor: 15s
    severity: high
  - id: hot_avg
    metric: temp
    aggregate: { fn: max, window: 45s }
    condition: '> 70'
    clearCondition: '< 40'
    severity: low
`;

const SERIES = ['a', 'b', 'c'];

/** Records in time order: one sample each, series `i` on partition `i % 2`. */
function records(values: number[][], run: string): Omit<RecordSpec, 'offset'>[] {
  const out: (Omit<RecordSpec, 'offset'> & { t: number })[] = [];
  values.forEach((vs, i) => vs.forEach((v, j) => out.push({ partition: i % 2, t: j * 15_000 + i * 1000, value: sample('temp', v, T0 + j * 15_000 + i * 1000, { host: SERIES[i]!, run }) })));
  return out.sort((x, y) => x.t - y.t);
}

/** Splits the records into batches at the given cut points, numbering offsets per partition. */
function toBatches(recs: Omit<RecordSpec, 'offset'>[], cuts: number[]) {
  const offsets = new Map<number, number>();
  const withOffsets = recs.map((r) => {
    const o = (offsets.get(r.partition) ?? 0) + 1;
    offsets.set(r.partition, o);
    return { ...r, offset: o };
  });
  const points = [...new Set(cuts.map((c) => c % withOffsets.length))].filter((c) => c > 0).sort((x, y) => x - y);
  const out = [];
  let start = 0;
  for (const p of [...points, withOffsets.length]) {
    out.push(mskEvent(withOffsets.slice(start, p)));
    start = p;
  }
  return out;
}

/** Delivery order: forward, with rewinds to an earlier batch (each rewind delivers forward again). */
function schedule(n: number, rewinds: { at: number; back: number }[]): number[] {
  const order: number[] = [];
  const byPos = new Map<number, number[]>();
  for (const r of rewinds) byPos.set(r.at % n, [...(byPos.get(r.at % n) ?? []), r.back]);
  for (let i = 0; i < n; i++) {
    order.push(i);
    for (const back of byPos.get(i) ?? []) {
      for (let j = Math.max(0, i - (back % (i + 1))); j <= i; j++) order.push(j);
    }
  }
  return order;
}

function normalise(ts: readonly AlertTransition[], run: string): string[] {
  return uniqueTransitions(ts.filter((t) => t.labels.run === run))
    .map((t) => {
      const { run: _r, ...labels } = t.labels;
      return JSON.stringify({ kind: t.kind, ruleId: t.ruleId, labels, atMs: t.atMs, activeAtMs: t.activeAtMs, value: t.value });
    })
    .sort();
}

describe('replay property: duplication and redelivery change nothing', () => {
  let h: Awaited<ReturnType<typeof evalHarness>>;
  const received: AlertTransition[] = [];
  let runs = 0;
  let withTransitions = 0;

  beforeAll(async () => {
    h = await evalHarness(RULES);
  });

  it('yields the transitions of one clean run for any batching and redelivery', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.constantFrom(10, 45, 60, 75, 95), { minLength: 4, maxLength: 10 }), { minLength: SERIES.length, maxLength: SERIES.length }),
        fc.array(fc.nat(100), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ at: fc.nat(20), back: fc.nat(3) }), { maxLength: 4 }),
        async (values, cuts, rewinds) => {
          const id = ++runs;
          const clean = `clean-${id}`;
          const messy = `messy-${id}`;
          for (const b of toBatches(records(values, clean), [])) await deliverUntilDone(h.evaluator, b);
          const messyBatches = toBatches(records(values, messy), cuts);
          for (const i of schedule(messyBatches.length, rewinds)) await deliverUntilDone(h.evaluator, messyBatches[i]!);
          received.push(...(await h.transitions()).splice(0));
          const expected = normalise(received, clean);
          if (expected.length > 0) withTransitions++;
          expect(normalise(received, messy)).toEqual(expected);
        },
      ),
      { numRuns: 20 },
    );
    // The generator must exercise alerts, not only quiet streams.
    expect(withTransitions).toBeGreaterThan(10);
  }, 180_000);
});
