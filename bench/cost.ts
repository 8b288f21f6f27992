/**
 * Cost benchmark (issue 9): DynamoDB read and write request units per 1,000 samples for each rule
 * kind of the cost table, measured with the REAL evaluator handler against DynamoDB Local at steady
 * state (every series' window already full, no alert), at 1 and at 6 samples of each series per
 * batch; the same for the issue's mix (5 rules per series), measured and computed from the kinds;
 * then the monthly cost of the issue's two scenarios from the cost model, beside CloudWatch alarms.
 * Writes the per-kind figures to docs/cost-figures.json for `klaxon cost`.
 *
 * Measured vs computed: reads, and writes other than TransactWriteItems, are DynamoDB Local's
 * ConsumedCapacity; TransactWriteItems writes are computed from the written items by AWS's rules
 * (DynamoDB Local misreports them), see shared/adapters/dynamodb/capacity.ts. Series are scaled
 * down (the units per item do not depend on how many series there are, only the number of
 * requests does, and DynamoDB bills units, not requests).
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { benchHandler, withLocalAws } from './eval-io.ts';
import { formatCapacity, itemBytes, meterCapacity, type CapacityMeter } from '../shared/adapters/dynamodb/capacity.ts';
import { TABLES } from '../infra/topology.ts';
import type { MskEvent, MskRecord } from '../shared/adapters/kafka/index.ts';
import { estimateMonthlyCost, ISSUE_MIX, RULE_KINDS, type CapacityFigures, type KindFigures, type RuleKind, type Scenario } from '../shared/core/cost/index.ts';
import { deploymentShape, FIGURES_FILE } from '../cli/cost.ts';

const T0 = 1_795_300_000_000;
const INTERVAL_MS = 10_000;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Series per kind (scaled down; see the module comment). */
const SERIES = 40;
/** Series of the mix (10,000 in the issue's scenario, scaled down). */
const MIX_SERIES = 20;
/** Measured batches at 1 and at 6 samples per series per batch. */
const BATCHES = { 1: 6, 6: 3 } as const;

/** Window of each kind (the `for` of the threshold), and its rule. */
const KINDS: Record<RuleKind, { windowMs: number; rule: (id: string, metric: string) => string }> = {
  'threshold-for-1m': { windowMs: 60_000, rule: (id, m) => `  - { id: ${id}, metric: ${m}, condition: '> 1000000', for: 1m, severity: low }` },
  'avg-5m': { windowMs: 300_000, rule: (id, m) => `  - { id: ${id}, metric: ${m}, aggregate: { fn: avg, window: 5m }, condition: '> 1000000', severity: low }` },
  'quantile-15m': { windowMs: 900_000, rule: (id, m) => `  - { id: ${id}, metric: ${m}, aggregate: { fn: quantile, q: 0.99, window: 15m }, condition: '> 1000000', severity: low }` },
  'avg-1h': { windowMs: 3_600_000, rule: (id, m) => `  - { id: ${id}, metric: ${m}, aggregate: { fn: avg, window: 1h }, condition: '> 1000000', severity: low }` },
};
const MIX_RULES = (m: string): string =>
  ['rules:', KINDS['threshold-for-1m'].rule('mix_thr_a', m), KINDS['threshold-for-1m'].rule('mix_thr_b', m), KINDS['avg-5m'].rule('mix_avg5m', m), KINDS['quantile-15m'].rule('mix_q15m', m), KINDS['avg-1h'].rule('mix_avg1h', m)].join(
    '\n',
  );

function log(msg: string): void {
  process.stderr.write(`[bench:cost] ${msg}\n`);
}

/** An MSK event: `perSeries` samples of each of `series` series of `metric`, starting at sample index `from`. */
function event(metric: string, series: number, from: number, perSeries: number): MskEvent {
  const records: Record<string, MskRecord[]> = {};
  const offsets = [0, 0, 0, 0];
  for (let j = 0; j < perSeries; j++) {
    const t = T0 + (from + j) * INTERVAL_MS;
    for (let s = 0; s < series; s++) {
      const partition = s % 4;
      const value = Buffer.from(JSON.stringify({ name: metric, value: 40 + ((s + j) % 20), timestamp: t, labels: { instance: `i-${s}`, environment: 'production', region: 'eu-west-1' } })).toString(
        'base64',
      );
      (records[`cost-${partition}`] ??= []).push({ topic: 'cost', partition, offset: (from + j) * 1000 + offsets[partition]!++, timestamp: t, timestampType: 'CREATE_TIME', key: null, value, headers: [] });
    }
  }
  return { eventSource: 'aws:kafka', records };
}

/** Units per 1,000 samples at one batch size, with how much of the writes was computed. */
interface Measured {
  readonly rru: number;
  readonly wru: number;
  readonly wruComputedShare: number;
}

/** Runs `batches` batches of `perSeries` samples of each series and returns the units per 1,000 samples. */
async function measure(handler: ReturnType<typeof benchHandler>, meter: CapacityMeter, metric: string, series: number, from: number, perSeries: number, batches: number): Promise<Measured> {
  meter.reset();
  for (let b = 0; b < batches; b++) {
    const res = await handler(event(metric, series, from + b * perSeries, perSeries));
    if (res.batchItemFailures.length) throw new Error(`cost bench: batch failed (${metric})`);
  }
  const t = meter.totals();
  const samples = series * perSeries * batches;
  const wru = t.write.measured + t.write.computed;
  return { rru: ((t.read.measured + t.read.computed) / samples) * 1000, wru: (wru / samples) * 1000, wruComputedShare: wru ? t.write.computed / wru : 0 };
}

/** One workload (a rules file on its own metric): warm up to a full window, then measure at 1 and 6 samples per batch. */
async function workload(
  dynamodb: DynamoDBClient,
  sqs: SQSClient,
  p: Parameters<typeof benchHandler>[2],
  meter: CapacityMeter,
  endpoint: string,
  rules: string,
  rulePrefix: string,
  metric: string,
  series: number,
  windowMs: number,
): Promise<{ batch1: Measured; batch6: Measured; itemBytes: number }> {
  const handler = benchHandler(dynamodb, sqs, p, rules);
  // Warm-up: one batch carrying a full window of history for every series (and then some).
  const warm = Math.ceil(windowMs / INTERVAL_MS) + 6;
  await handler(event(metric, series, 0, warm));
  const batch1 = await measure(handler, meter, metric, series, warm, 1, BATCHES[1]);
  const batch6 = await measure(handler, meter, metric, series, warm + BATCHES[1], 6, BATCHES[6]);
  log(`  ${metric}, 6 samples per batch, units by table and index:\n${formatCapacity(meter.lines()).replace(/^/gm, '    ')}`);
  // Average state item of the workload's rules at the end (a separate, unmetered scan).
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  const scan = await raw.send(new ScanCommand({ TableName: p.tables.state, FilterExpression: 'begins_with(ruleId, :r)', ExpressionAttributeValues: { ':r': { S: rulePrefix } } }));
  raw.destroy();
  const items = scan.Items ?? [];
  const bytes = items.length ? items.reduce((a, i) => a + itemBytes(i), 0) / items.length : 0;
  return { batch1, batch6, itemBytes: bytes };
}

const r2 = (n: number): number => Math.round(n * 100) / 100;

/** The issue's two scenarios, as deployed (batching 1 s) and with a 60 s window and 10,000-record batches. */
export const ISSUE_SCENARIOS: readonly { readonly name: string; readonly scenario: Scenario }[] = [
  { name: '50,000 series-rules at 10 s (10,000 series × 5)', scenario: { series: 10_000, rulesPerSeries: 5, sampleIntervalSeconds: 10, batchingWindowSeconds: 1, alertsPerMonth: 300, notificationsPerMonth: 600, msk: 'on-demand', mix: ISSUE_MIX } },
  {
    name: '50,000 series-rules at 10 s, 60 s batching, 10,000-record batches',
    scenario: { series: 10_000, rulesPerSeries: 5, sampleIntervalSeconds: 10, batchingWindowSeconds: 60, evaluatorBatchSize: 10_000, alertsPerMonth: 300, notificationsPerMonth: 600, msk: 'on-demand', mix: ISSUE_MIX },
  },
  { name: '1,000 series-rules at 1 min (200 series × 5)', scenario: { series: 200, rulesPerSeries: 5, sampleIntervalSeconds: 60, batchingWindowSeconds: 1, alertsPerMonth: 30, notificationsPerMonth: 60, msk: 'on-demand', mix: ISSUE_MIX } },
];

/** Runs the benchmark (see the module comment) and writes docs/cost-figures.json. */
export async function benchCost(opts: { writeFigures?: boolean } = {}): Promise<{
  kinds: Record<RuleKind, KindFigures & { wruComputedShare: number }>;
  mix: { measured: { rru: { batch1: number; batch6: number }; wru: { batch1: number; batch6: number } }; computedFromKinds: { rru: { batch1: number; batch6: number }; wru: { batch1: number; batch6: number } } };
  scenarios: { name: string; klaxon: number; fixed: number; cloudWatchAlarms: number; cloudWatchAlarmsOnly: number; selfHostedPrometheus: number }[];
}> {
  return await withLocalAws('cost', async ({ dynamodb, sqs, p, endpoints }) => {
    const state = TABLES.state;
    const meter = meterCapacity(dynamodb, {
      tables: { [p.tables.state]: { keys: [state.partitionKey.name], indexes: state.globalIndexes.map((g) => ({ name: g.name, keys: [g.partitionKey.name, ...('sortKey' in g ? [g.sortKey.name] : [])] })) } },
    });

    const kinds = {} as Record<RuleKind, KindFigures & { wruComputedShare: number }>;
    for (const kind of RULE_KINDS) {
      const metric = `cost_${kind.replace(/-/g, '_')}`;
      const id = `k_${kind.replace(/-/g, '_')}`;
      const w = await workload(dynamodb, sqs, p, meter, endpoints.dynamodb, `rules:\n${KINDS[kind].rule(id, metric)}`, id, metric, SERIES, KINDS[kind].windowMs);
      kinds[kind] = {
        rru: { batch1: r2(w.batch1.rru), batch6: r2(w.batch6.rru) },
        wru: { batch1: r2(w.batch1.wru), batch6: r2(w.batch6.wru) },
        itemBytes: Math.round(w.itemBytes),
        wruComputedShare: r2((w.batch1.wruComputedShare + w.batch6.wruComputedShare) / 2),
      };
      log(`  ${kind}: RRU/1k ${kinds[kind].rru.batch1} (1/batch) ${kinds[kind].rru.batch6} (6/batch); WRU/1k ${kinds[kind].wru.batch1} / ${kinds[kind].wru.batch6}; item ${kinds[kind].itemBytes} B`);
    }
    const m = await workload(dynamodb, sqs, p, meter, endpoints.dynamodb, MIX_RULES('cost_mix'), 'mix_', 'cost_mix', MIX_SERIES, KINDS['avg-1h'].windowMs);
    const sumKinds = (name: 'rru' | 'wru', b: 'batch1' | 'batch6'): number => r2(RULE_KINDS.reduce((a, k) => a + ISSUE_MIX[k] * kinds[k][name][b], 0));
    const mix = {
      measured: { rru: { batch1: r2(m.batch1.rru), batch6: r2(m.batch6.rru) }, wru: { batch1: r2(m.batch1.wru), batch6: r2(m.batch6.wru) } },
      computedFromKinds: { rru: { batch1: sumKinds('rru', 'batch1'), batch6: sumKinds('rru', 'batch6') }, wru: { batch1: sumKinds('wru', 'batch1'), batch6: sumKinds('wru', 'batch6') } },
    };
    log(`  mix (5 rules): measured RRU/1k ${mix.measured.rru.batch1} / ${mix.measured.rru.batch6}, WRU/1k ${mix.measured.wru.batch1} / ${mix.measured.wru.batch6}; computed from kinds WRU/1k ${mix.computedFromKinds.wru.batch1} / ${mix.computedFromKinds.wru.batch6}`);

    const measuredAt = new Date().toISOString().slice(0, 10);
    const method = 'reads and non-transaction writes measured (DynamoDB Local ConsumedCapacity); TransactWriteItems writes computed from item sizes by AWS rules (shared/adapters/dynamodb/capacity.ts)';
    const figures: CapacityFigures = { source: FIGURES_FILE, measuredAt, method, kinds };
    if (opts.writeFigures ?? true) {
      const file = join(dirname(fileURLToPath(import.meta.url)), '..', FIGURES_FILE);
      await writeFile(file, `${JSON.stringify({ measuredAt, method, series: SERIES, kinds, mix }, null, 2)}\n`);
      log(`  wrote ${FIGURES_FILE}`);
    }
    const shape = deploymentShape();
    const scenarios = ISSUE_SCENARIOS.map(({ name, scenario }) => {
      const e = estimateMonthlyCost(scenario, figures, shape);
      return {
        name,
        klaxon: e.total,
        fixed: e.fixedTotal,
        cloudWatchAlarms: e.comparisons.cloudWatchAlarms.total,
        cloudWatchAlarmsOnly: e.comparisons.cloudWatchAlarms.alarms,
        selfHostedPrometheus: e.comparisons.selfHostedPrometheus.monthly,
      };
    });
    for (const s of scenarios) log(`  ${s.name}: Klaxon $${s.klaxon}/month (fixed $${s.fixed}) vs CloudWatch alarms $${s.cloudWatchAlarmsOnly} (+ series metrics: $${s.cloudWatchAlarms})`);
    return { kinds, mix, scenarios };
  });
}
