/**
 * Cost benchmark (issue 9): DynamoDB read and write request units, measured with the REAL evaluator
 * handler against DynamoDB Local at steady state (every series' window already full, no alert),
 * with windows derived (the default layout, docs/design.md *Windows as derived data*):
 * - per rule kind and for the issue's mix (5 rules per series): state-table units per 1,000
 *   samples at 1 and at 6 samples of each series per batch (a short run: memory current, nothing
 *   written but the sample log), and the state-table write units per (rule, series) per hour over
 *   two hours of event time (the quiet refreshes and their due-index moves);
 * - the sample log: write units as measured here (bench scale: a few series per segment), the
 *   stored bytes per sample of a production-sized segment (1,000 series; the codec's own output,
 *   computed, not a DynamoDB figure) and the read units per 1,000 samples of a rebuild (a fresh
 *   handler reading a partition's log back);
 * then the monthly cost of the issue's scenarios from the cost model, beside CloudWatch alarms.
 * Writes the figures to docs/cost-figures.json for `klaxon cost`.
 *
 * Every DynamoDB figure is DynamoDB Local's ConsumedCapacity (no transaction is left to compute;
 * see shared/adapters/dynamodb/capacity.ts). Series are scaled down: units per item do not depend
 * on how many series there are, only the number of requests does.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { benchHandler, withLocalAws } from './eval-io.ts';
import { formatCapacity, itemBytes, meterCapacity, type CapacityMeter } from '../shared/adapters/dynamodb/capacity.ts';
import { encodeSamples } from '../shared/adapters/dynamodb/segment-codec.ts';
import type { MetricSample } from '../shared/core/model/index.ts';
import { TABLES } from '../infra/topology.ts';
import type { MskEvent, MskRecord } from '../shared/adapters/kafka/index.ts';
import { estimateMonthlyCost, ISSUE_MIX, RULE_KINDS, type CapacityFigures, type KindFigures, type LogFigures, type RuleKind, type Scenario } from '../shared/core/cost/index.ts';
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
/** Hours of event time of the refresh run (6 samples per series per batch, one batch a minute). */
const REFRESH_HOURS = 2;
/** Series of a production-sized segment (the codec's bytes per sample). */
const SEGMENT_SERIES = 1000;
/** Partitions of the bench's events. */
const PARTITIONS = 4;

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
  // Contiguous offsets per partition, as Kafka gives them (no transaction markers in this topic).
  const perPartition = Math.ceil(series / PARTITIONS);
  for (let j = 0; j < perSeries; j++) {
    const t = T0 + (from + j) * INTERVAL_MS;
    for (let s = 0; s < series; s++) {
      // Keyed records: a series stays on its partition (derived windows need it).
      const partition = s % PARTITIONS;
      const value = Buffer.from(JSON.stringify(sampleOf(metric, s, from + j))).toString('base64');
      // One topic per workload: its sample log is its own.
      (records[`${metric}-${partition}`] ??= []).push({ topic: metric, partition, offset: (from + j) * perPartition + Math.floor(s / PARTITIONS), timestamp: t, timestampType: 'CREATE_TIME', key: null, value, headers: [] });
    }
  }
  return { eventSource: 'aws:kafka', records };
}

/** Sample `i` of series `s`: the bench's three labels, a value that moves. */
function sampleOf(metric: string, s: number, i: number): { name: string; value: number; timestamp: number; labels: Record<string, string> } {
  return { name: metric, value: 40 + ((s + i) % 20) + ((s * 7 + i * 13) % 100) / 100, timestamp: T0 + i * INTERVAL_MS, labels: { instance: `i-${s}`, environment: 'production', region: 'eu-west-1' } };
}

/** Read and write units of one table (its indexes included) since the meter's last reset. */
function unitsOf(meter: CapacityMeter, table: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const l of meter.lines()) {
    if (l.table !== table) continue;
    read += l.read.measured + l.read.computed;
    write += l.write.measured + l.write.computed;
  }
  return { read, write };
}

/** State-table and sample-log units per 1,000 samples of one run. */
interface Measured {
  readonly rru: number;
  readonly wru: number;
  readonly logWru: number;
}

/** Runs `batches` batches of `perSeries` samples of each series and returns the units per 1,000 samples. */
async function measure(handler: ReturnType<typeof benchHandler>, meter: CapacityMeter, tables: { state: string; samples: string }, metric: string, series: number, from: number, perSeries: number, batches: number): Promise<Measured> {
  meter.reset();
  for (let b = 0; b < batches; b++) {
    const res = await handler(event(metric, series, from + b * perSeries, perSeries));
    if (res.batchItemFailures.length) throw new Error(`cost bench: batch failed (${metric})`);
  }
  const samples = series * perSeries * batches;
  const state = unitsOf(meter, tables.state);
  const log = unitsOf(meter, tables.samples);
  return { rru: (state.read / samples) * 1000, wru: (state.write / samples) * 1000, logWru: (log.write / samples) * 1000 };
}

/** One workload (a rules file on its own metric and topic): warm up to a full window, measure short runs, then the refresh run. */
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
  rulesPerSeries: number,
  windowMs: number,
): Promise<{ batch1: Measured; batch6: Measured; wruPerSeriesHour: number; itemBytes: number; samplesSent: number; next: number; handler: ReturnType<typeof benchHandler> }> {
  const handler = benchHandler(dynamodb, sqs, p, rules);
  const tables = { state: p.tables.state, samples: p.tables.samples };
  // Warm-up: one batch carrying a full window of history for every series (and then some).
  const warm = Math.ceil(windowMs / INTERVAL_MS) + 6;
  await handler(event(metric, series, 0, warm));
  let at = warm;
  const batch1 = await measure(handler, meter, tables, metric, series, at, 1, BATCHES[1]);
  at += BATCHES[1];
  const batch6 = await measure(handler, meter, tables, metric, series, at, 6, BATCHES[6]);
  at += 6 * BATCHES[6];
  // Refresh run: REFRESH_HOURS of event time, a batch of 6 samples per series each minute.
  const refreshBatches = (REFRESH_HOURS * 3_600_000) / (6 * INTERVAL_MS);
  meter.reset();
  for (let b = 0; b < refreshBatches; b++) {
    const res = await handler(event(metric, series, at, 6));
    if (res.batchItemFailures.length) throw new Error(`cost bench: refresh batch failed (${metric})`);
    at += 6;
  }
  const wruPerSeriesHour = unitsOf(meter, tables.state).write / (series * rulesPerSeries * REFRESH_HOURS);
  log(`  ${metric}, refresh run, units by table and index:\n${formatCapacity(meter.lines()).replace(/^/gm, '    ')}`);
  // Average state item of the workload's rules at the end (a separate, unmetered scan).
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  const scan = await raw.send(new ScanCommand({ TableName: p.tables.state, FilterExpression: 'begins_with(ruleId, :r)', ExpressionAttributeValues: { ':r': { S: rulePrefix } } }));
  raw.destroy();
  const items = scan.Items ?? [];
  const bytes = items.length ? items.reduce((a, i) => a + itemBytes(i), 0) / items.length : 0;
  return { batch1, batch6, wruPerSeriesHour, itemBytes: bytes, samplesSent: series * at, next: at, handler };
}

/** Stored bytes per sample of a production-sized segment (SEGMENT_SERIES series, `perSeries` samples each): the codec's output. */
function codecBytesPerSample(perSeries: number): number {
  const samples: MetricSample[] = [];
  for (let j = 0; j < perSeries; j++) for (let s = 0; s < SEGMENT_SERIES; s++) samples.push({ ...sampleOf('http_requests_per_second', s, j), timestampMs: T0 + j * INTERVAL_MS });
  return encodeSamples(samples, 'bench').length / samples.length;
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
  kinds: Record<RuleKind, KindFigures & { logWru: { batch1: number; batch6: number } }>;
  mix: { measured: { rru: { batch1: number; batch6: number }; wru: { batch1: number; batch6: number }; wruPerSeriesHour: number }; computedFromKinds: { wruPerSeriesHour: number } };
  log: LogFigures & { benchWruPer1000: { batch1: number; batch6: number }; rebuild: { samplesReadBack: number; rru: number; stateRru: number } };
  scenarios: { name: string; klaxon: number; fixed: number; cloudWatchAlarms: number; cloudWatchAlarmsOnly: number; selfHostedPrometheus: number }[];
}> {
  return await withLocalAws('cost', async ({ dynamodb, sqs, p, endpoints }) => {
    const state = TABLES.state;
    const samplesTable = TABLES.samples;
    const meter = meterCapacity(dynamodb, {
      tables: {
        [p.tables.state]: { keys: [state.partitionKey.name], indexes: state.globalIndexes.map((g) => ({ name: g.name, keys: [g.partitionKey.name, ...('sortKey' in g ? [g.sortKey.name] : [])] })) },
        [p.tables.samples]: { keys: [samplesTable.partitionKey.name, samplesTable.sortKey.name], indexes: [] },
      },
    });

    const kinds = {} as Record<RuleKind, KindFigures & { logWru: { batch1: number; batch6: number } }>;
    for (const kind of RULE_KINDS) {
      const metric = `cost_${kind.replace(/-/g, '_')}`;
      const id = `k_${kind.replace(/-/g, '_')}`;
      const w = await workload(dynamodb, sqs, p, meter, endpoints.dynamodb, `rules:\n${KINDS[kind].rule(id, metric)}`, id, metric, SERIES, 1, KINDS[kind].windowMs);
      kinds[kind] = {
        rru: { batch1: r2(w.batch1.rru), batch6: r2(w.batch6.rru) },
        wru: { batch1: r2(w.batch1.wru), batch6: r2(w.batch6.wru) },
        itemBytes: Math.round(w.itemBytes),
        wruPerSeriesHour: r2(w.wruPerSeriesHour),
        logWru: { batch1: r2(w.batch1.logWru), batch6: r2(w.batch6.logWru) },
      };
      log(`  ${kind}: state RRU/1k ${kinds[kind].rru.batch1} / ${kinds[kind].rru.batch6}, WRU/1k ${kinds[kind].wru.batch1} / ${kinds[kind].wru.batch6}; WRU per series-hour ${kinds[kind].wruPerSeriesHour}; item ${kinds[kind].itemBytes} B`);
    }
    const m = await workload(dynamodb, sqs, p, meter, endpoints.dynamodb, MIX_RULES('cost_mix'), 'mix_', 'cost_mix', MIX_SERIES, 5, KINDS['avg-1h'].windowMs);
    // A rebuild: a fresh handler (another execution environment) takes the next batch of every partition.
    meter.reset();
    const fresh = benchHandler(dynamodb, sqs, p, MIX_RULES('cost_mix'));
    const res = await fresh(event('cost_mix', MIX_SERIES, m.next, 1));
    if (res.batchItemFailures.length) throw new Error('cost bench: rebuild batch failed');
    const rebuild = { samplesReadBack: m.samplesSent, rru: unitsOf(meter, p.tables.samples).read, stateRru: unitsOf(meter, p.tables.state).read };
    const logFigures: LogFigures = {
      bytesPerSample: { batch1: r2(codecBytesPerSample(1)), batch6: r2(codecBytesPerSample(6)) },
      // pk (topic-partition), sk (20 digits # 3), chunk count, end offset, written at, expiresAt, write id, format: names and values.
      segmentOverheadBytes: 140,
      rebuildRruPer1000Samples: r2((rebuild.rru / rebuild.samplesReadBack) * 1000),
      rebuildStateRruPerSeriesRule: r2(rebuild.stateRru / (MIX_SERIES * 5)),
    };
    const mix = {
      measured: { rru: { batch1: r2(m.batch1.rru), batch6: r2(m.batch6.rru) }, wru: { batch1: r2(m.batch1.wru), batch6: r2(m.batch6.wru) }, wruPerSeriesHour: r2(m.wruPerSeriesHour) },
      computedFromKinds: { wruPerSeriesHour: r2(RULE_KINDS.reduce((a, k) => a + ISSUE_MIX[k] * kinds[k].wruPerSeriesHour!, 0) / 5) },
    };
    const logOut = { ...logFigures, benchWruPer1000: { batch1: r2(m.batch1.logWru), batch6: r2(m.batch6.logWru) }, rebuild };
    log(`  mix (5 rules): state RRU/1k ${mix.measured.rru.batch1} / ${mix.measured.rru.batch6}, WRU/1k ${mix.measured.wru.batch1} / ${mix.measured.wru.batch6}; WRU per series-rule-hour ${mix.measured.wruPerSeriesHour} (from the kinds: ${mix.computedFromKinds.wruPerSeriesHour})`);
    log(`  sample log: ${logFigures.bytesPerSample.batch1} / ${logFigures.bytesPerSample.batch6} bytes per sample (1,000-series segments); bench-scale WRU/1k ${logOut.benchWruPer1000.batch1} / ${logOut.benchWruPer1000.batch6}; rebuild ${rebuild.rru} RRU for ${rebuild.samplesReadBack} samples (${logFigures.rebuildRruPer1000Samples} per 1,000) + ${rebuild.stateRru} RRU of state reads (${logFigures.rebuildStateRruPerSeriesRule} per series-rule)`);

    const measuredAt = new Date().toISOString().slice(0, 10);
    const method =
      'derived windows; every unit measured (DynamoDB Local ConsumedCapacity, shared/adapters/dynamodb/capacity.ts) except the sample log bytes per sample, which are the codec output for 1,000-series segments';
    const figures: CapacityFigures = { source: FIGURES_FILE, measuredAt, method, kinds, log: logFigures };
    if (opts.writeFigures ?? true) {
      const file = join(dirname(fileURLToPath(import.meta.url)), '..', FIGURES_FILE);
      await writeFile(file, `${JSON.stringify({ measuredAt, method, series: SERIES, kinds, log: logOut, mix }, null, 2)}\n`);
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
    return { kinds, mix, log: logOut, scenarios };
  });
}
