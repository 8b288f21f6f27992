/**
 * The cost model (shared/core/cost): figures scaled to a batch size, samples per batch, the bill
 * by component checked against hand computations from the price constants, fixed charges, the
 * comparisons, and errors naming the bad field.
 */
import { describe, expect, it } from 'vitest';
import {
  CostInputError,
  customMetricsMonthly,
  DEFAULT_FIGURES,
  estimateMonthlyCost,
  parseCapacityFigures,
  samplesPerSeriesPerBatch,
  unitsPerSample,
  type CapacityFigures,
  type DeploymentShape,
  type Scenario,
} from '../../shared/core/cost/index.ts';

const SHAPE: DeploymentShape = {
  memoryMb: { evaluator: 1024, timers: 512, dispatch: 512, channel: 256 },
  evaluatorBatchSize: 1000,
  timersEveryMinutes: 1,
  polledQueues: 4,
  secrets: 2,
  alarms: 10,
  dashboards: 1,
};

/** Every kind costs 1 RRU and 3 WRU per batch per item, and its item is 900 bytes. */
const FLAT: CapacityFigures = {
  source: 'test',
  kinds: Object.fromEntries(
    (['threshold-for-1m', 'avg-5m', 'quantile-15m', 'avg-1h'] as const).map((k) => [k, { rru: { batch1: 1000, batch6: 1000 / 6 }, wru: { batch1: 3000, batch6: 500 }, itemBytes: 900 }]),
  ) as CapacityFigures['kinds'],
};

const BASE: Scenario = {
  series: 100,
  rulesPerSeries: 2,
  mix: { 'threshold-for-1m': 1 },
  sampleIntervalSeconds: 60,
  batchingWindowSeconds: 1,
  alertsPerMonth: 0,
  notificationsPerMonth: 0,
  msk: 'on-demand',
};

const line = (e: ReturnType<typeof estimateMonthlyCost>, c: string) => e.lines.find((l) => l.component === c)!;

describe('unitsPerSample', () => {
  it.each([
    // one sample per batch: one read per sample
    [{ batch1: 1000, batch6: 1000 / 6 }, 1, 1],
    // six per batch: the item is read once for six samples
    [{ batch1: 1000, batch6: 1000 / 6 }, 6, 1 / 6],
    // in between, the per-batch cost is interpolated (here constant: 1 per batch)
    [{ batch1: 1000, batch6: 1000 / 6 }, 3, 1 / 3],
    // a per-batch cost that grows with the samples (2 at one, 3 at six) extrapolates beyond six: 4 at eleven
    [{ batch1: 2000, batch6: 500 }, 11, 4 / 11],
    // fewer than one sample of a series per batch is still one read and write per batch
    [{ batch1: 1000, batch6: 1000 / 6 }, 0.2, 1],
  ])('%o at %d samples per batch → %d units per sample', (u, k, expected) => {
    expect(unitsPerSample(u, k)).toBeCloseTo(expected, 9);
  });
});

describe('samplesPerSeriesPerBatch', () => {
  it.each([
    // the deployed 1 s window at 10 s samples: one sample per batch
    [{ series: 10_000, sampleIntervalSeconds: 10, batchingWindowSeconds: 1, partitions: 10, batchSize: 1000 }, 1],
    // a 60 s window holds 6 samples, but 1,000 series per partition × 6 exceed a 1,000-record batch
    [{ series: 10_000, sampleIntervalSeconds: 10, batchingWindowSeconds: 60, partitions: 10, batchSize: 1000 }, 1],
    // with 10,000-record batches the 6 samples of each series stay in one batch
    [{ series: 10_000, sampleIntervalSeconds: 10, batchingWindowSeconds: 60, partitions: 10, batchSize: 10_000 }, 6],
    // partly: 3,000 series per partition, 10,000 records per batch → 3.33 samples of each
    [{ series: 30_000, sampleIntervalSeconds: 10, batchingWindowSeconds: 60, partitions: 10, batchSize: 10_000 }, 10 / 3],
  ])('%o → %d', (s, expected) => {
    expect(samplesPerSeriesPerBatch(s)).toBeCloseTo(expected, 9);
  });
});

describe('estimateMonthlyCost', () => {
  it('prices DynamoDB reads, writes and storage from the figures (hand computation)', () => {
    const e = estimateMonthlyCost(BASE, FLAT, SHAPE);
    // 100 series × 2,628,000 s / 60 s = 4,380,000 samples, × 2 rules = 8,760,000 item-samples.
    expect(e.quantities.samplesPerMonth).toBe(4_380_000);
    expect(e.quantities.rruPerMonth).toBeCloseTo(8_760_000, 3);
    expect(e.quantities.wruPerMonth).toBeCloseTo(26_280_000, 3);
    // reads: 8,760,000 + timers 43,800 runs × 16 queries × 0.5 = 350,400 → 9,110,400 × $0.125 / 1e6
    expect(line(e, 'dynamodb.reads').monthly).toBe(Math.round(9_110_400 * 0.125e-4) / 100);
    // writes: 26,280,000 × $0.625 / 1e6 = $16.425
    expect(line(e, 'dynamodb.writes').monthly).toBe(16.43);
    // storage: 200 items × (900 + 100 bytes) = 0.0002 GB × $0.25
    expect(line(e, 'dynamodb.storage').monthly).toBe(0);
    expect(estimateMonthlyCost({ ...BASE, series: 1_000_000 }, FLAT, SHAPE).lines.find((l) => l.component === 'dynamodb.storage')!.monthly).toBe(0.5);
  });

  it.each([
    // timers: 43,800 runs: requests 43,800 × $0.2 / 1e6 + 43,800 × 0.2 s × 0.5 GB × $0.0000133334
    ['lambda.timers', 0.07],
    // 4 polled FIFO queues × 5 long polls of 20 s all month = 2,628,000 requests × $0.50 / 1e6
    ['sqs', 1.31],
    // 8 custom metrics × $0.30
    ['cloudwatch.metrics', 2.4],
    // 10 alarms × $0.10
    ['cloudwatch.alarms', 1],
    // 1 dashboard × $3
    ['cloudwatch.dashboards', 3],
    // 2 secrets × $0.40
    ['secretsManager', 0.8],
    // 43,800 schedules × $1 / 1e6
    ['scheduler', 0.04],
    // on-demand event source: nothing of its own
    ['msk.eventSource', 0],
  ])('charges %s with no traffic: $%d', (component, fixed) => {
    const e = estimateMonthlyCost(BASE, FLAT, SHAPE);
    expect(line(e, component).fixed).toBe(fixed);
  });

  it('sums the fixed charges into fixedTotal, and they do not grow with traffic', () => {
    const small = estimateMonthlyCost(BASE, FLAT, SHAPE);
    const big = estimateMonthlyCost({ ...BASE, series: 100_000, alertsPerMonth: 1000, notificationsPerMonth: 3000 }, FLAT, SHAPE);
    // 0.04 reads (timers) + 0.07 + 1.31 + 2.40 + 1.00 + 3.00 + 0.03 logs (timers) + 0.80 + 0.04
    expect(small.fixedTotal).toBe(8.69);
    expect(big.fixedTotal).toBe(small.fixedTotal);
    expect(big.total).toBeGreaterThan(small.total + 100);
  });

  it.each([
    // provisioned with the default minimum of 1 poller: one EPU all month, 730 h × $0.185
    [{ msk: 'provisioned' as const }, 135.05],
    // 11 minimum pollers need 2 EPUs (10 pollers each)
    [{ msk: 'provisioned' as const, mskMinimumPollers: 11 }, 270.1],
    // on-demand: none
    [{ msk: 'on-demand' as const, mskMinimumPollers: 11 }, 0],
  ])('MSK event source %o: $%d a month, all fixed', (msk, dollars) => {
    const e = estimateMonthlyCost({ ...BASE, ...msk }, FLAT, SHAPE);
    expect(line(e, 'msk.eventSource')).toMatchObject({ monthly: dollars, fixed: dollars });
  });

  it('compares with one standard CloudWatch alarm per series-rule, plus the series as custom metrics', () => {
    const e = estimateMonthlyCost({ ...BASE, series: 10_000, rulesPerSeries: 5 }, FLAT, SHAPE);
    expect(e.comparisons.cloudWatchAlarms).toMatchObject({ alarms: 5000, seriesMetrics: 3000, total: 8000 });
    expect(e.comparisons.selfHostedPrometheus).toMatchObject({ instance: 't4g.small + 20 GB gp3', monthly: 13.86, fits: true });
    expect(estimateMonthlyCost({ ...BASE, series: 200_000 }, FLAT, SHAPE).comparisons.selfHostedPrometheus.fits).toBe(false);
  });

  it.each([
    // within the first tier
    [10, 3],
    // 10,000 at $0.30 + 240,000 at $0.10 + 50,000 at $0.05
    [300_000, 29_500],
    // up to 1,000,000, then $0.02
    [1_100_000, 3000 + 24_000 + 37_500 + 2000],
  ])('custom metrics: %d metrics cost $%d a month', (n, dollars) => {
    expect(customMetricsMonthly(n)).toBeCloseTo(dollars, 6);
  });

  it('charges SES per email and channels per notification', () => {
    const e = estimateMonthlyCost({ ...BASE, alertsPerMonth: 1500, notificationsPerMonth: 30_000, emailShare: 0.5 }, FLAT, SHAPE);
    // 15,000 emails × $0.10 / 1,000
    expect(line(e, 'ses').monthly).toBe(1.5);
    // 3,000 transitions + 30,000 notifications × 3 requests (send, receive, delete) on FIFO queues, + the idle polls
    expect(line(e, 'sqs').monthly).toBe(Math.round(((33_000 * 3 + 2_628_000) * 0.5e-6) * 100) / 100);
  });

  it.each([
    ['series', { series: -5 }],
    ['rulesPerSeries', { rulesPerSeries: 0 }],
    ['sampleIntervalSeconds', { sampleIntervalSeconds: Number.NaN }],
    ['mix', { mix: { 'avg-5m': 0 } }],
    ['mix.avg-1h', { mix: { 'avg-1h': -1 } }],
    ['emailShare', { emailShare: 2 }],
  ])('rejects a bad %s, naming it', (where, bad) => {
    expect(() => estimateMonthlyCost({ ...BASE, ...bad }, FLAT, SHAPE)).toThrow(CostInputError);
    expect(() => estimateMonthlyCost({ ...BASE, ...bad }, FLAT, SHAPE)).toThrow(new RegExp(`^${where.replace('.', '\\.')}: `));
  });
});

describe('parseCapacityFigures', () => {
  const good = { measuredAt: '2026-11-29', kinds: DEFAULT_FIGURES.kinds };
  it('accepts the figures file shape and keeps its origin as the source', () => {
    expect(parseCapacityFigures(good, 'f.json')).toEqual({ source: 'f.json', measuredAt: '2026-11-29', kinds: DEFAULT_FIGURES.kinds });
  });
  it.each([
    // a kind missing
    [{ kinds: { ...DEFAULT_FIGURES.kinds, 'avg-1h': undefined } }, 'f.json: kinds.avg-1h: expected an object'],
    // a negative figure
    [{ kinds: { ...DEFAULT_FIGURES.kinds, 'avg-5m': { ...DEFAULT_FIGURES.kinds['avg-5m'], wru: { batch1: -1, batch6: 1 } } } }, 'f.json: kinds.avg-5m.wru.batch1: expected a finite number >= 0, got -1'],
    // not an object at all
    [[], 'f.json: expected an object'],
  ])('rejects %o naming the path', (json, message) => {
    expect(() => parseCapacityFigures(json, 'f.json')).toThrow(message);
  });
});
