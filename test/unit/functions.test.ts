import { describe, expect, it } from 'vitest';
import { aggregate, deriv, extrapolatedRate, quantileOf, stddevOver, zScore } from '../../shared/core/evaluate/functions.ts';
import { evaluateSeries, seriesKey } from '../../shared/core/evaluate/index.ts';
import { parseRule } from '../../shared/core/rules/index.ts';

const S = 1000;

describe('window aggregations (as Prometheus <fn>_over_time)', () => {
  const v = [2, 4, 4, 4, 5, 5, 7, 9];
  const t = v.map((_, i) => i * S);
  it.each([
    // arithmetic mean
    ['avg', 5],
    ['sum', 40],
    ['count', 8],
    ['min', 2],
    ['max', 9],
    // population standard deviation (stddev_over_time), not the sample one (2.138...)
    ['stddev', 2],
  ] as const)('%s', (fn, expected) => {
    expect(aggregate(fn, t, v, 8 * S, 10 * S)).toBeCloseTo(expected, 12);
  });

  it('keeps sums exact where naive summation drifts (Kahan, as Prometheus)', () => {
    const vals = [1e16, 1, -1e16, 1];
    expect(aggregate('sum', [0, 1, 2, 3], vals, 3, 10)).toBe(2);
  });

  it('returns nothing for an empty window', () => {
    expect(aggregate('avg', [], [], 0, 10)).toBeUndefined();
  });
});

describe('quantile_over_time interpolation', () => {
  it.each([
    // rank = q·(n-1) = 2.85: 3·0.15 + 4·0.85
    [0.95, [4, 1, 3, 2], 3.85],
    // median of an even count interpolates halfway
    [0.5, [1, 2, 3, 4], 2.5],
    [0, [3, 1, 2], 1],
    [1, [3, 1, 2], 3],
    // a single value is every quantile
    [0.9, [7], 7],
    // out of range q: ±Inf as Prometheus
    [-0.1, [1, 2], -Infinity],
    [1.1, [1, 2], Infinity],
  ])('q=%d of %j is %d', (q, values, expected) => {
    expect(quantileOf(q, values)).toBeCloseTo(expected, 12);
  });
});

describe('rate, increase, delta (Prometheus extrapolatedRate)', () => {
  it.each([
    // steady counter +10/min, window (300s, 600s] holds 360..600: extrapolated to the window start (60s < 1.1·60s)
    ['rate steady', [360, 420, 480, 540, 600], [60, 70, 80, 90, 100], 600, 300, true, true, 10 / 60],
    ['increase steady', [360, 420, 480, 540, 600], [60, 70, 80, 90, 100], 600, 300, true, false, 50],
    // a counter reset (10 → 2) adds the value before the reset: raw increase 6, extrapolated ×180/120
    ['increase with reset', [60, 120, 180], [10, 2, 6], 180, 180, true, false, 9],
    ['rate with reset', [60, 120, 180], [10, 2, 6], 180, 180, true, true, 9 / 180],
    // delta is for gauges: no reset handling
    ['delta gauge', [60, 120, 180], [10, 2, 6], 180, 180, false, false, -6],
    // first sample far from the window start (200s ≥ 1.1·60s): extrapolate by half an interval,
    // but a counter starting at 0 is not extrapolated below zero; end gap 40s < 66s is extrapolated fully
    ['zero-point limit', [200, 260], [0, 6], 300, 300, true, false, 10],
    // gauge with the same gaps extrapolates half an interval (30s) at the start: 6·(60+30+40)/60
    ['half interval', [200, 260], [0, 6], 300, 300, false, false, 13],
  ])('%s', (_name, ts, vs, evalS, rangeS, isCounter, isRate, expected) => {
    expect(extrapolatedRate(ts.map((x) => x * S), vs, evalS * S, rangeS * S, isCounter, isRate)).toBeCloseTo(expected, 10);
  });

  it('needs two samples', () => {
    expect(extrapolatedRate([1000], [1], 1000, 60_000, true, true)).toBeUndefined();
  });
});

describe('deriv (least-squares slope per second)', () => {
  it.each([
    // a line of slope 1/s
    [[0, 60, 120], [0, 60, 120], 1],
    // constant: exactly 0
    [[0, 1, 2], [5, 5, 5], 0],
    // noisy: cov 1 / var 2
    [[0, 1, 2], [1, 3, 2], 0.5],
  ])('times %j values %j → %d', (ts, vs, expected) => {
    expect(deriv(ts.map((x) => x * S), vs)).toBeCloseTo(expected, 12);
  });
});

describe('z-score (anomaly)', () => {
  it.each([
    // baseline mean 10, population stddev 2: x = 16 is 3 deviations above
    [16, [8, 12, 8, 12], 2, 3],
    [4, [8, 12, 8, 12], 2, -3],
    // a flat baseline: equal is 0, anything else infinitely anomalous
    [5, [5, 5, 5], 2, 0],
    [6, [5, 5, 5], 2, Infinity],
    // too few baseline samples: no value
    [6, [5], 2, undefined],
  ])('x=%d against %j (min %d) → %s', (x, base, min, expected) => {
    const z = zScore(x, base, min);
    if (expected === undefined) expect(z).toBeUndefined();
    else expect(z).toBeCloseTo(expected, 12);
  });

  it('excludes the evaluated sample from its own baseline in a rule', () => {
    const r = parseRule({ id: 'z', metric: 'q', severity: 'low', anomaly: { window: '1h', minSamples: 4 }, condition: '> 2.9' }, 't');
    const base = [8, 12, 8, 12];
    const samples = [...base, 16].map((value, i) => ({ name: 'q', value, timestampMs: 1_795_300_000_000 + i * 60_000, labels: {} }));
    const res = evaluateSeries({ stateKey: `z#${seriesKey('q', {})}`, rule: r, metric: 'q', labels: {}, samples }, undefined);
    expect(res.changes.map((c) => [c.to, c.value])).toEqual([
      ['pending', 3],
      ['firing', 3],
    ]);
    expect(stddevOver(base)).toBe(2);
  });
});
