import { describe, expect, it } from 'vitest';
import { parseRules } from '../../shared/core/rules/index.ts';
import type { SeriesState } from '../../shared/core/evaluate/index.ts';
import { canSkipWrite, QUIET_DELETE_GRACE_MS, QUIET_REFRESH_MS, storedDueAt } from '../../shared/core/sequence/index.ts';
import { InMemoryEvaluator } from '../../shared/core/replay/index.ts';
import { nextDueMs } from '../../shared/core/evaluate/index.ts';

const [threshold, windowed, absence] = parseRules(
  `rules:
  - { id: t, metric: m, condition: '> 80', for: 1m, severity: high }
  - { id: w, metric: m, aggregate: { fn: avg, window: 5m }, condition: '> 80', severity: high }
  - { id: a, metric: hb, absent: {}, for: 5m, severity: high }
`,
  'r.yaml',
);
const T = 1_795_300_000_000;
const inactive = (t: number): SeriesState => ({ v: 1, lastSampleMs: t, state: 'inactive', value: 10 });
const pending = (t: number): SeriesState => ({ v: 1, lastSampleMs: t, state: 'pending', activeAtMs: t, value: 90 });
const opts = { staleAfterMs: 300_000 };

describe('canSkipWrite', () => {
  it.each([
    // a quiet threshold series a minute later: only the last-sample time changed
    ['threshold, inactive → inactive, 1 min later', threshold!, inactive(T), inactive(T + 60_000), 0, true],
    // the stored item must be refreshed before it could be taken for stale
    ['threshold, inactive → inactive, at the refresh interval', threshold!, inactive(T), inactive(T + QUIET_REFRESH_MS), 0, false],
    // any state change is written
    ['threshold, inactive → pending', threshold!, inactive(T), pending(T + 60_000), 1, false],
    ['threshold, pending → pending', threshold!, pending(T), pending(T + 60_000), 0, false],
    // windows change with every sample
    ['windowed, inactive → inactive', windowed!, inactive(T), inactive(T + 60_000), 0, false],
    // absence moves its due time with every sample
    ['absence, inactive → inactive', absence!, inactive(T), inactive(T + 60_000), 0, false],
    // an expected series that never reported gets its first sample: written
    ['threshold, no sample yet → inactive', threshold!, { ...inactive(T), noSample: true }, inactive(T + 60_000), 0, false],
  ])('%s: %s', (_name, rule, prev, next, changes, skip) => {
    expect(canSkipWrite(rule, prev as SeriesState, next as SeriesState, changes as number)).toBe(skip);
  });
});

const hourAfter = (ms: number): number => Math.ceil(ms / 3_600_000) * 3_600_000;

describe('storedDueAt', () => {
  it('moves the due time of a reporting inactive series at most once an hour', () => {
    const dues = new Set(Array.from({ length: 60 }, (_, i) => storedDueAt(windowed!, { ...inactive(T + i * 60_000), wt: [T + i * 60_000], wv: [10] }, opts)));
    expect(dues.size).toBeLessThanOrEqual(2);
  });

  it.each([
    // a quiet series may be deleted only after the grace: it is refreshed well before
    // an inactive series may be deleted only after the grace (a quiet one is refreshed well before), on an hour boundary
    ['inactive threshold', threshold!, inactive(T), hourAfter(nextDueMs(threshold!, inactive(T), opts)! + QUIET_DELETE_GRACE_MS)],
    ['inactive windowed', windowed!, { ...inactive(T), wt: [T], wv: [10] }, hourAfter(nextDueMs(windowed!, { ...inactive(T), wt: [T], wv: [10] }, opts)! + QUIET_DELETE_GRACE_MS)],
    // the timers act on these at their exact time
    ['pending threshold', threshold!, pending(T), nextDueMs(threshold!, pending(T), opts)],
    ['absence', absence!, inactive(T), nextDueMs(absence!, inactive(T), opts)],
  ])('%s', (_name, rule, state, due) => {
    expect(storedDueAt(rule, state as SeriesState, opts)).toBe(due);
  });
});

describe('quiet series in the evaluation sequence', () => {
  it('writes a quiet series once per refresh interval, not once per batch, and still alerts on the first true sample', async () => {
    const ev = new InMemoryEvaluator([threshold!]);
    // 60 batches of one sample a minute, all below the threshold: first write, then one per 30 min.
    for (let i = 0; i < 60; i++) await ev.ingestBatch([{ name: 'm', value: 10, timestampMs: T + i * 60_000, labels: { host: 'a' } }]);
    expect(ev.writes).toBe(2);
    const changes = await ev.ingestBatch([{ name: 'm', value: 95, timestampMs: T + 60 * 60_000, labels: { host: 'a' } }]);
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual(['inactive>pending']);
    expect(ev.writes).toBe(3);
  });
});

describe('evaluateBatch: skipped samples', () => {
  it('names the series that skipped samples (for the log line behind the SamplesSkipped alarm)', async () => {
    const { evaluateBatch, InMemorySeriesStateStore, InMemorySeriesBudget, CollectingPublisher } = await import('../../shared/core/sequence/index.ts');
    const { RuleIndex } = await import('../../shared/core/rules/index.ts');
    const ports = { states: new InMemorySeriesStateStore<SeriesState>(), budget: new InMemorySeriesBudget(), publisher: new CollectingPublisher() };
    const index = new RuleIndex([windowed!]);
    const batch = [{ name: 'm', value: 10, timestampMs: T, labels: { host: 'a' } }];
    const opts = { nowMs: T, staleAfterMs: 300_000, maxFutureSkewMs: 600_000, seriesLimitPerRule: 100 };
    expect((await evaluateBatch(ports, index, batch, opts)).skippedSeries).toEqual([]);
    // The same batch again (a redelivery): its sample is skipped, and the series is named.
    const again = await evaluateBatch(ports, index, batch, opts);
    expect(again.skipped).toBe(1);
    expect(again.skippedSeries).toEqual(['w#m{host="a"}']);
  });
});
