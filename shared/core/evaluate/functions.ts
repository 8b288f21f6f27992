/**
 * Window functions, computed exactly as Prometheus computes them (promql/functions.go):
 * `<fn>_over_time` aggregations, `quantile_over_time`, `rate` / `increase` / `delta`
 * (`extrapolatedRate`) and `deriv` (`linearRegression`). Every function takes the samples of the
 * window `(t - range, t]` in time order as parallel arrays (times in ms, values) and the evaluation
 * time `t`; it returns `undefined` where PromQL returns no sample (e.g. rate over fewer than two).
 */
import type { AggregateFn } from '../rules/schema.ts';

/** Kahan-Babuška summation step (promql/functions.go `kahanSumInc`). Returns [sum, compensation]. */
function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** `sum_over_time` with Kahan summation (inlined: no tuple allocation per element in the hot path). */
export function sumOver(v: readonly number[], from = 0): number {
  let sum = 0;
  let c = 0;
  for (let i = from; i < v.length; i++) {
    const inc = v[i]!;
    const t = sum + inc;
    if (t === Infinity || t === -Infinity) c = 0;
    else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
    else c += inc - t + sum;
    sum = t;
  }
  return sum === Infinity || sum === -Infinity ? sum : sum + c;
}

/** `avg_over_time`: Kahan sum over count, switching to an incremental mean on overflow (as Prometheus 3). */
export function avgOver(v: readonly number[], from = 0): number {
  let sum = v[from]!;
  let c = 0;
  let count = 1;
  for (let i = from + 1; i < v.length; i++) {
    const x = v[i]!;
    count = i - from + 1;
    const t = sum + x;
    if (t === Infinity || t === -Infinity) return avgIncremental(v, from);
    if (Math.abs(sum) >= Math.abs(x)) c += sum - t + x;
    else c += x - t + sum;
    sum = t;
  }
  return sum / count + c / count;
}

/** Prometheus's overflow path of avg_over_time: an incremental mean with Kahan compensation. */
function avgIncremental(v: readonly number[], from: number): number {
  let sum = v[from]!;
  let c = 0;
  let mean = 0;
  let incremental = false;
  for (let i = from + 1; i < v.length; i++) {
    const x = v[i]!;
    const count = i - from + 1;
    if (!incremental) {
      const [ns, nc] = kahanSumInc(x, sum, c);
      if (ns !== Infinity && ns !== -Infinity) {
        sum = ns;
        c = nc;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [mean, c] = kahanSumInc(x / count, q * mean, q * c);
  }
  return incremental ? mean + c : sum / (v.length - from) + c / (v.length - from);
}

/** `stddev_over_time`: population standard deviation, Welford's algorithm with Kahan (as Prometheus). */
export function stddevOver(v: readonly number[], from = 0): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = from; i < v.length; i++) {
    const x = v[i]!;
    count++;
    const delta = x - (mean + cMean);
    // kahanSumInc, inlined twice (no tuple allocation per element in the hot path).
    const incM = delta / count;
    const tM = mean + incM;
    if (tM === Infinity || tM === -Infinity) cMean = 0;
    else if (Math.abs(mean) >= Math.abs(incM)) cMean += mean - tM + incM;
    else cMean += incM - tM + mean;
    mean = tM;
    const incA = delta * (x - (mean + cMean));
    const tA = aux + incA;
    if (tA === Infinity || tA === -Infinity) cAux = 0;
    else if (Math.abs(aux) >= Math.abs(incA)) cAux += aux - tA + incA;
    else cAux += incA - tA + aux;
    aux = tA;
  }
  return Math.sqrt((aux + cAux) / count);
}

const numeric = (a: number, b: number): number => a - b;

/** `quantile_over_time` (promql/quantile.go `quantile`): linear interpolation between closest ranks. */
export function quantileOf(q: number, values: readonly number[]): number {
  return quantileSorted(q, [...values].sort(numeric));
}

function quantileSorted(q: number, s: readonly number[]): number {
  if (s.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const n = s.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return s[lower]! * (1 - weight) + s[upper]! * weight;
}

/**
 * Prometheus `extrapolatedRate` (rate, increase, delta) over `(t - rangeMs, t]`: counter resets
 * for rate/increase, extrapolation to the window edges when the first/last sample is within 1.1 ×
 * the average interval of them (else by half an interval), never extrapolating a counter below zero.
 */
export function extrapolatedRate(t: readonly number[], v: readonly number[], evalMs: number, rangeMs: number, isCounter: boolean, isRate: boolean, from = 0): number | undefined {
  const n = t.length - from;
  if (n < 2) return undefined;
  const rangeStart = evalMs - rangeMs;
  const rangeEnd = evalMs;
  const firstT = t[from]!;
  const lastT = t[t.length - 1]!;
  let result = v[v.length - 1]! - v[from]!;
  if (isCounter) {
    let prev = v[from]!;
    for (let i = from + 1; i < v.length; i++) {
      const cur = v[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  if (isCounter && result > 0 && v[from]! >= 0) {
    // Counters cannot be negative: do not extrapolate below the counter's zero point.
    const durationToZero = sampledInterval * (v[from]! / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  extrapolateToInterval += durationToStart;
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** Prometheus `deriv`: least-squares slope per second (`linearRegression` with the first sample as intercept time). */
export function deriv(t: readonly number[], v: readonly number[], from = 0): number | undefined {
  if (t.length - from < 2) return undefined;
  const interceptTime = t[from]!;
  const initY = v[from]!;
  let constY = true;
  let n = 0;
  let sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  for (let i = from; i < t.length; i++) {
    const y = v[i]!;
    if (constY && i > from && y !== initY) constY = false;
    n += 1;
    const x = (t[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(y, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) return Number.isFinite(initY) ? 0 : NaN;
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  return covXY / varX;
}

/**
 * Applies an aggregation to the window samples `t[from..]`, `v[from..]` at evaluation time
 * `evalMs` with range `rangeMs`. Undefined when PromQL would return nothing.
 */
export function aggregate(fn: AggregateFn, t: readonly number[], v: readonly number[], evalMs: number, rangeMs: number, q = 0.5, from = 0): number | undefined {
  const n = v.length - from;
  if (n <= 0) return undefined;
  switch (fn) {
    case 'avg':
      return avgOver(v, from);
    case 'sum':
      return sumOver(v, from);
    case 'count':
      return n;
    case 'min': {
      let m = v[from]!;
      for (let i = from + 1; i < v.length; i++) {
        const x = v[i]!;
        // Prometheus: NaN is replaced by any number.
        if (x < m || Number.isNaN(m)) m = x;
      }
      return m;
    }
    case 'max': {
      let m = v[from]!;
      for (let i = from + 1; i < v.length; i++) {
        const x = v[i]!;
        if (x > m || Number.isNaN(m)) m = x;
      }
      return m;
    }
    case 'stddev':
      return stddevOver(v, from);
    case 'quantile':
      return quantileSorted(q, v.slice(from).sort(numeric));
    case 'rate':
      return extrapolatedRate(t, v, evalMs, rangeMs, true, true, from);
    case 'increase':
      return extrapolatedRate(t, v, evalMs, rangeMs, true, false, from);
    case 'delta':
      return extrapolatedRate(t, v, evalMs, rangeMs, false, false, from);
    case 'deriv':
      return deriv(t, v, from);
  }
}

/**
 * z-score of `x` against a baseline (population mean and standard deviation of `v[from..]`).
 * A flat baseline (stddev 0) gives 0 when x equals it, else ±Infinity. Undefined when the
 * baseline has fewer than `minSamples` values.
 */
export function zScore(x: number, v: readonly number[], minSamples: number, from = 0): number | undefined {
  if (v.length - from < minSamples || v.length - from === 0) return undefined;
  const mean = avgOver(v, from);
  const sd = stddevOver(v, from);
  if (sd === 0) return x === mean ? 0 : x > mean ? Infinity : -Infinity;
  return (x - mean) / sd;
}
