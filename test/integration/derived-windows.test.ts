/**
 * Windows as derived data against DynamoDB Local and fauxqs: two evaluator handlers (two Lambda
 * execution environments, each with its own memory) take a partition's batches in turn, and an
 * average over a window that spans their batches decides the same way as one handler would. The
 * environment that was not current catches up from the sample log or rebuilds it, and says so in
 * its WindowsRebuilt metric.
 */
import { describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { createEvaluatorHandler } from '../../functions/evaluator/app.ts';
import { capturedMetrics, evalHarness, metricSum, plumbed, uniqueTransitions } from './eval-helpers/harness.ts';
import { mskEvent, sample } from './eval-helpers/msk.ts';

const T0 = 1_795_300_000_000;
const RULES = `
rules:
  - id: load_avg
    metric: load
    aggregate: { fn: avg, window: 3m }
    condition: '> 50'
    severity: medium
`;

const load = (host: string, value: number, t: number) => sample('load', value, t, { host });

/** Minute `m`'s record on partition 0 (one series) and on partition 1 (another), offsets = minute. */
function minute(m: number, v0: number, v1: number) {
  return mskEvent([
    { partition: 0, offset: m, value: load('a', v0, T0 + m * 60_000) },
    { partition: 1, offset: m, value: load('b', v1, T0 + m * 60_000) },
  ]);
}

// The average of host a crosses 50 only with its first samples in the window: 90, 90, 0, 0 → 60,
// then 30 once the first 90 has left; host b: 0, 0, 0, 200 → 50 (not above), then 66.7 (fires).
const A = [90, 90, 0, 0, 0];
const B = [0, 0, 0, 200, 0];

describe('derived windows across two instances', () => {
  it('decides as one instance would when batches alternate between instances', async () => {
    const single = await evalHarness(RULES);
    for (let m = 0; m < A.length; m++) expect((await single.evaluator(minute(m, A[m]!, B[m]!))).batchItemFailures).toEqual([]);
    const expected = uniqueTransitions(await single.transitions()).map((t) => [t.kind, t.labels.host, (t.atMs - T0) / 60_000]);
    expect(expected.length).toBeGreaterThan(0);

    const h = await evalHarness(RULES);
    const other = capturedMetrics('evaluator');
    const second = plumbed(createEvaluatorHandler({ ...h.deps, metrics: other.metrics, logger: new Logger({ serviceName: 'evaluator', logLevel: 'SILENT' }) }), { ...h.deps, metrics: other.metrics });
    // minute 0 on the first instance, 1 and 2 on the second (rebuilt), 3 on the first (caught up), 4 on the first (current)
    const order = [h.evaluator, second, second, h.evaluator, h.evaluator];
    for (let m = 0; m < A.length; m++) expect((await order[m]!(minute(m, A[m]!, B[m]!))).batchItemFailures).toEqual([]);
    expect(uniqueTransitions(await h.transitions()).map((t) => [t.kind, t.labels.host, (t.atMs - T0) / 60_000])).toEqual(expected);

    // Both partitions: rebuilt on first sight by each instance, caught up once by the first.
    expect(metricSum(h.evalEmf, 'WindowsRebuilt', { how: 'rebuilt' })).toBe(2);
    expect(metricSum(h.evalEmf, 'WindowsRebuilt', { how: 'caught-up' })).toBe(2);
    expect(metricSum(other.emf, 'WindowsRebuilt', { how: 'rebuilt' })).toBe(2);
  });

  it('reads nothing from the state table at steady state, and writes only the sample log', async () => {
    const h = await evalHarness(RULES);
    await h.evaluator(minute(0, 10, 10));
    h.ddbCount.reset();
    for (let m = 1; m <= 5; m++) await h.evaluator(minute(m, 10, 10));
    // One segment per partition and batch; no read: memory is current, nothing changed.
    expect(Object.fromEntries(h.ddbCount.counts)).toEqual({ PutItemCommand: 10 });
  });
});
