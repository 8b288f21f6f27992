/**
 * The cost model: a deployment scenario plus the measured capacity figures give a monthly bill by
 * component, beside what CloudWatch alarms and a self-hosted Prometheus + Alertmanager would cost
 * for the same rules. Pure: every price is a named constant in ./prices.ts, every assumption that
 * is not a price is a named default here, and docs/cost.md explains each.
 */
import {
  CLOUDWATCH_LOGS_PER_GB,
  CLOUDWATCH_METRIC_TIERS,
  CLOUDWATCH_PER_DASHBOARD,
  CLOUDWATCH_PER_STANDARD_ALARM_METRIC,
  DYNAMODB_ITEM_OVERHEAD_BYTES,
  DYNAMODB_PER_GB_MONTH,
  DYNAMODB_PER_MILLION_RRU,
  DYNAMODB_PER_MILLION_WRU,
  EBS_GP3_PER_GB_MONTH,
  EC2_T4G_SMALL_PER_HOUR,
  HOURS_PER_MONTH,
  LAMBDA_ARM_PER_GB_SECOND,
  LAMBDA_KAFKA_PER_EPU_HOUR,
  LAMBDA_KAFKA_POLLERS_PER_EPU,
  LAMBDA_PER_MILLION_REQUESTS,
  SCHEDULER_PER_MILLION,
  SECONDS_PER_MONTH,
  SECRETS_MANAGER_PER_SECRET,
  SELF_HOSTED_INSTANCE,
  SES_PER_1000_EMAILS,
  SQS_FIFO_PER_MILLION,
} from './prices.ts';
import { CostInputError, RULE_KINDS, unitsPerSample, type CapacityFigures, type RuleKind } from './figures.ts';

export * from './prices.ts';
export * from './figures.ts';

/** How the MSK event source mapping polls: on-demand (no charge of its own) or provisioned (EPU-hours). */
export const MSK_MODES = ['on-demand', 'provisioned'] as const;
/** One of {@link MSK_MODES}. */
export type MskMode = (typeof MSK_MODES)[number];

/** The mix of the issue's cost table: per 5 rules, 2 thresholds, avg over 5m, quantile over 15m, avg over 1h. */
export const ISSUE_MIX: Readonly<Record<RuleKind, number>> = { 'threshold-for-1m': 2, 'avg-5m': 1, 'quantile-15m': 1, 'avg-1h': 1 };

/** Memory and trigger of the deployed functions (from infra/topology.ts, passed in by the caller). */
export interface DeploymentShape {
  readonly memoryMb: { readonly evaluator: number; readonly timers: number; readonly dispatch: number; readonly channel: number };
  /** Records per evaluator invocation at most (the Kafka event source's batch size). */
  readonly evaluatorBatchSize: number;
  /** Minutes between timers runs. */
  readonly timersEveryMinutes: number;
  /** Queues a Lambda event source polls (alert events, group flushes, one per channel); their empty receives are priced as FIFO requests (the standard queue's are a little cheaper). */
  readonly polledQueues: number;
  /** Secrets the stack creates. */
  readonly secrets: number;
  /** Alarms and dashboards the stack creates. */
  readonly alarms: number;
  readonly dashboards: number;
}

/** A deployment to estimate. */
export interface Scenario {
  /** Series (distinct metric name + labels) sending samples. */
  readonly series: number;
  /** Rules that evaluate each series. */
  readonly rulesPerSeries: number;
  /** Relative weights of the rule kinds (normalised); default {@link ISSUE_MIX}. */
  readonly mix?: Readonly<Partial<Record<RuleKind, number>>>;
  /** Seconds between two samples of a series. */
  readonly sampleIntervalSeconds: number;
  /** The Kafka event source's batching window, seconds. */
  readonly batchingWindowSeconds: number;
  /** Partitions of the topic, series keyed to them; default {@link DEFAULT_PARTITIONS}. */
  readonly partitions?: number;
  /** Records per evaluator invocation at most; default the deployment's (infra/topology.ts). */
  readonly evaluatorBatchSize?: number;
  /** Alerts that fire (and later resolve) per month: two transitions each. */
  readonly alertsPerMonth: number;
  /** Notifications delivered per month (one per channel per transition routed). */
  readonly notificationsPerMonth: number;
  /** Share of notifications that are emails (SES); default 1/3. */
  readonly emailShare?: number;
  readonly msk: MskMode;
  /** Provisioned mode only: minimum event pollers (always billed); default 1. */
  readonly mskMinimumPollers?: number;
  readonly assumptions?: Partial<Assumptions>;
}

/**
 * What the model assumes beyond prices (each overridable in a scenario). Lambda durations are
 * estimates of DynamoDB round trips and CPU on arm64, not measurements on AWS.
 */
export interface Assumptions {
  /** Evaluator: fixed milliseconds per invocation (decode, one BatchGetItem and one write round trip). */
  readonly evaluatorMsPerInvocation: number;
  /** Evaluator: milliseconds per 1,000 state items read and written in a batch. */
  readonly evaluatorMsPer1000Items: number;
  readonly timersMsPerRun: number;
  readonly dispatchMsPerTransition: number;
  readonly channelMsPerNotification: number;
  /** Log bytes per invocation (START/END/REPORT lines and one EMF metrics line). */
  readonly logBytesPerInvocation: number;
  /** Custom metrics published every hour at steady state (Klaxon's EMF metrics per function and dimension). */
  readonly customMetrics: number;
  /** Empty long polls (20 s) a Lambda SQS event source makes per queue and month while idle: 5 pollers. */
  readonly idleReceivesPerQueuePerMonth: number;
  /** DynamoDB units of dispatch and delivery per notification (alert record, cooldown, idempotency, delivery record). */
  readonly rruPerNotification: number;
  readonly wruPerNotification: number;
  /** Timers: Query requests per run (by-due and by-firing, 8 shards each), 0.5 RRU each when nothing is due. */
  readonly timersQueriesPerRun: number;
  /**
   * Derived windows: times per hour a partition reaches an instance whose memory of it is not
   * current (a cold start, another execution environment taking the batch), each a rebuild that
   * reads the partition's log over the rebuild horizon.
   */
  readonly partitionRebuildsPerHour: number;
  /** Derived windows: days a sample stays in the log (its TTL). */
  readonly logRetentionDays: number;
}

/** Defaults of {@link Assumptions}; docs/cost.md gives the reasoning for each. */
export const DEFAULT_ASSUMPTIONS: Assumptions = {
  evaluatorMsPerInvocation: 30,
  evaluatorMsPer1000Items: 100,
  timersMsPerRun: 200,
  dispatchMsPerTransition: 150,
  channelMsPerNotification: 300,
  logBytesPerInvocation: 1500,
  customMetrics: 8,
  // 5 long polls of 20 s for a whole month: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
  idleReceivesPerQueuePerMonth: (5 * SECONDS_PER_MONTH) / 20,
  rruPerNotification: 3,
  wruPerNotification: 4,
  timersQueriesPerRun: 16,
  partitionRebuildsPerHour: 2,
  logRetentionDays: 8,
};

/** The window each kind keeps (the rebuild horizon depends on the longest in the mix). */
export const KIND_WINDOW_MS: Readonly<Record<RuleKind, number>> = { 'threshold-for-1m': 0, 'avg-5m': 300_000, 'quantile-15m': 900_000, 'avg-1h': 3_600_000 };
/** What a rebuild reads besides the longest window: staleness (5 min) + future skew (10 min) + lateness (1 h), the defaults of shared/core/sequence/derived.ts. */
export const REBUILD_EXTRA_MS = (5 + 10 + 60) * 60_000;

/** Components of the bill. */
export const COMPONENTS = [
  'dynamodb.reads',
  'dynamodb.writes',
  'dynamodb.storage',
  'lambda.evaluator',
  'lambda.timers',
  'lambda.dispatch',
  'lambda.channels',
  'sqs',
  'cloudwatch.metrics',
  'cloudwatch.alarms',
  'cloudwatch.dashboards',
  'cloudwatch.logs',
  'secretsManager',
  'scheduler',
  'msk.eventSource',
  'ses',
] as const;
/** One of {@link COMPONENTS}. */
export type Component = (typeof COMPONENTS)[number];

/** One line of the bill. */
export interface CostLine {
  readonly component: Component;
  /** Dollars per month. */
  readonly monthly: number;
  /** Part of `monthly` charged with no traffic at all (the deployment standing still). */
  readonly fixed: number;
  /** How it was computed, with the quantities. */
  readonly detail: string;
}

/** The estimate. */
export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly total: number;
  /** Sum of the fixed parts: what an idle deployment costs. */
  readonly fixedTotal: number;
  readonly quantities: {
    readonly seriesRules: number;
    readonly samplesPerMonth: number;
    readonly samplesPerSeriesPerBatch: number;
    readonly rruPerMonth: number;
    readonly wruPerMonth: number;
    readonly evaluatorInvocations: number;
  };
  readonly comparisons: {
    readonly cloudWatchAlarms: {
      /** Standard alarms, one per series and rule. */
      readonly alarms: number;
      /** Custom metrics for the series when they are not already CloudWatch metrics. */
      readonly seriesMetrics: number;
      readonly total: number;
      readonly note: string;
    };
    readonly selfHostedPrometheus: {
      readonly instance: string;
      readonly monthly: number;
      readonly fits: boolean;
      readonly note: string;
    };
  };
  readonly figuresSource: string;
}

/** Topic partitions assumed when a scenario does not say. */
export const DEFAULT_PARTITIONS = 10;

/**
 * Samples of each series one evaluator batch carries. A batching window holds `window / interval`
 * samples of each series; a batch keeps a partition's records together, so a series' samples of
 * one window stay in one batch unless one partition's records of the window exceed the batch size
 * (then each batch carries about `batchSize / (series / partitions)` samples of each of its series).
 */
export function samplesPerSeriesPerBatch(s: { series: number; sampleIntervalSeconds: number; batchingWindowSeconds: number; partitions: number; batchSize: number }): number {
  const perWindow = s.batchingWindowSeconds / s.sampleIntervalSeconds;
  const seriesPerPartition = s.series / s.partitions;
  return Math.max(1, Math.min(perWindow, s.batchSize / seriesPerPartition));
}

/** Active series one t4g.small (2 GiB) runs Prometheus + Alertmanager for, with headroom (a few KB of head memory per series). */
export const SELF_HOSTED_MAX_SERIES = 100_000;
/** EBS volume of the self-hosted comparison (15 days of TSDB for up to {@link SELF_HOSTED_MAX_SERIES} series at 10 s fits). */
export const SELF_HOSTED_DISK_GB = 20;

function positive(v: number, where: string, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new CostInputError(where, `expected a ${allowZero ? 'number >= 0' : 'positive number'}, got ${v}`);
  return v;
}

/** Monthly price of `n` custom metrics by CloudWatch's tiers. */
export function customMetricsMonthly(n: number): number {
  let left = n;
  let below = 0;
  let dollars = 0;
  for (const tier of CLOUDWATCH_METRIC_TIERS) {
    const inTier = Math.min(left, tier.upTo - below);
    dollars += inTier * tier.perMetricMonth;
    left -= inTier;
    below = tier.upTo;
    if (left <= 0) break;
  }
  return dollars;
}

/** Normalised weights of the mix (kinds absent weigh 0); throws when no weight is positive. */
export function normaliseMix(mix: Readonly<Partial<Record<RuleKind, number>>>): Record<RuleKind, number> {
  let sum = 0;
  for (const k of RULE_KINDS) sum += positive(mix[k] ?? 0, `mix.${k}`, true);
  if (sum === 0) throw new CostInputError('mix', `no rule kind has a positive weight (kinds: ${RULE_KINDS.join(', ')})`);
  return Object.fromEntries(RULE_KINDS.map((k) => [k, (mix[k] ?? 0) / sum])) as Record<RuleKind, number>;
}

const round = (n: number): number => Math.round(n * 100) / 100;
const lambdaCost = (invocations: number, ms: number, memoryMb: number): number =>
  (invocations * LAMBDA_PER_MILLION_REQUESTS) / 1e6 + invocations * (ms / 1000) * (memoryMb / 1024) * LAMBDA_ARM_PER_GB_SECOND;

/**
 * Monthly cost of a deployment, by component, with the comparisons.
 * @throws CostInputError for a scenario field that is not a valid number (naming the field)
 */
export function estimateMonthlyCost(scenario: Scenario, figures: CapacityFigures, shape: DeploymentShape): CostEstimate {
  const a: Assumptions = { ...DEFAULT_ASSUMPTIONS, ...scenario.assumptions };
  const series = positive(scenario.series, 'series');
  const rulesPerSeries = positive(scenario.rulesPerSeries, 'rulesPerSeries');
  const interval = positive(scenario.sampleIntervalSeconds, 'sampleIntervalSeconds');
  const batching = positive(scenario.batchingWindowSeconds, 'batchingWindowSeconds', true);
  const alerts = positive(scenario.alertsPerMonth, 'alertsPerMonth', true);
  const notifications = positive(scenario.notificationsPerMonth, 'notificationsPerMonth', true);
  const emailShare = scenario.emailShare ?? 1 / 3;
  if (!(emailShare >= 0 && emailShare <= 1)) throw new CostInputError('emailShare', `expected a share between 0 and 1, got ${emailShare}`);
  const weights = normaliseMix(scenario.mix ?? ISSUE_MIX);

  const seriesRules = series * rulesPerSeries;
  const samplesPerMonth = (series * SECONDS_PER_MONTH) / interval;
  const partitions = positive(scenario.partitions ?? DEFAULT_PARTITIONS, 'partitions');
  const batchSize = positive(scenario.evaluatorBatchSize ?? shape.evaluatorBatchSize, 'evaluatorBatchSize');
  const perBatch = samplesPerSeriesPerBatch({ series, sampleIntervalSeconds: interval, batchingWindowSeconds: batching, partitions, batchSize });
  let rruPerMonth = 0;
  let wruPerMonth = 0;
  let storageBytes = 0;
  let refreshWru = 0;
  let longestWindowMs = 0;
  for (const kind of RULE_KINDS) {
    const f = figures.kinds[kind];
    const ruleSamples = samplesPerMonth * rulesPerSeries * weights[kind];
    rruPerMonth += ruleSamples * unitsPerSample(f.rru, perBatch);
    wruPerMonth += ruleSamples * unitsPerSample(f.wru, perBatch);
    refreshWru += seriesRules * weights[kind] * (f.wruPerSeriesHour ?? 0) * HOURS_PER_MONTH;
    storageBytes += seriesRules * weights[kind] * (f.itemBytes + DYNAMODB_ITEM_OVERHEAD_BYTES);
    if (weights[kind] > 0) longestWindowMs = Math.max(longestWindowMs, KIND_WINDOW_MS[kind]);
  }
  wruPerMonth += refreshWru;
  const timersRuns = (HOURS_PER_MONTH * 60) / shape.timersEveryMinutes;
  const timersRru = timersRuns * a.timersQueriesPerRun * 0.5;
  const notifyRru = notifications * a.rruPerNotification;
  const notifyWru = notifications * a.wruPerNotification;
  const transitions = alerts * 2;

  // The evaluator is invoked once per batching window, or more often when a window holds more records than a batch.
  const windows = batching > 0 ? SECONDS_PER_MONTH / batching : samplesPerMonth;
  const evaluatorInvocations = Math.min(samplesPerMonth, Math.max(windows, samplesPerMonth / batchSize));
  const itemsPerInvocation = Math.min(seriesRules, (samplesPerMonth / evaluatorInvocations / perBatch) * rulesPerSeries);
  const evaluatorMs = a.evaluatorMsPerInvocation + (itemsPerInvocation / 1000) * a.evaluatorMsPer1000Items;

  // Derived windows: one log segment per partition per invocation (at least a write unit each, one
  // per started KB), the log's storage, and the rebuilds' reads over the rebuild horizon.
  let logWru = 0;
  let rebuildRru = 0;
  let logBytes = 0;
  if (figures.log) {
    const l = figures.log;
    const segments = Math.min(samplesPerMonth, evaluatorInvocations * partitions);
    const samplesPerSegment = samplesPerMonth / segments;
    const bytesPerSample = Math.max(0, l.bytesPerSample.batch1 + ((l.bytesPerSample.batch6 - l.bytesPerSample.batch1) * (Math.min(perBatch, 6) - 1)) / 5);
    logWru = segments * Math.max(1, Math.ceil((samplesPerSegment * bytesPerSample + l.segmentOverheadBytes) / 1024));
    logBytes = (samplesPerMonth / (SECONDS_PER_MONTH / 86_400)) * a.logRetentionDays * bytesPerSample;
    const samplesPerPartitionHorizon = (series / partitions) * ((longestWindowMs + REBUILD_EXTRA_MS) / 1000 / interval);
    const rebuilds = partitions * a.partitionRebuildsPerHour * HOURS_PER_MONTH;
    // Each rebuild reads the partition's log over the horizon, then each of its (rule, series) once from the table.
    rebuildRru = rebuilds * ((samplesPerPartitionHorizon / 1000) * l.rebuildRruPer1000Samples + (seriesRules / partitions) * l.rebuildStateRruPerSeriesRule);
  }
  rruPerMonth += rebuildRru;
  wruPerMonth += logWru;
  storageBytes += logBytes;
  const invocations = evaluatorInvocations + timersRuns + transitions + notifications;

  const fifoRequests = transitions * 3 + notifications * 3;
  const idleFifo = shape.polledQueues * a.idleReceivesPerQueuePerMonth;
  const epus = Math.ceil((scenario.mskMinimumPollers ?? 1) / LAMBDA_KAFKA_POLLERS_PER_EPU);
  const mskFixed = scenario.msk === 'provisioned' ? epus * HOURS_PER_MONTH * LAMBDA_KAFKA_PER_EPU_HOUR : 0;
  const logGb = (invocations * a.logBytesPerInvocation) / 1e9;
  const emails = notifications * emailShare;

  const line = (component: Component, monthly: number, fixed: number, detail: string): CostLine => ({ component, monthly: round(monthly), fixed: round(fixed), detail });
  const timersLambda = lambdaCost(timersRuns, a.timersMsPerRun, shape.memoryMb.timers);
  const lines: CostLine[] = [
    line(
      'dynamodb.reads',
      ((rruPerMonth + timersRru + notifyRru) * DYNAMODB_PER_MILLION_RRU) / 1e6,
      (timersRru * DYNAMODB_PER_MILLION_RRU) / 1e6,
      `${fmt(rruPerMonth)} RRU evaluating${figures.log ? ` (${fmt(rebuildRru)} of them rebuilding partitions' windows, ${a.partitionRebuildsPerHour} per partition per hour)` : ''} + ${fmt(timersRru)} timers + ${fmt(notifyRru)} notifying`,
    ),
    line(
      'dynamodb.writes',
      ((wruPerMonth + notifyWru) * DYNAMODB_PER_MILLION_WRU) / 1e6,
      0,
      `${fmt(wruPerMonth)} WRU evaluating${figures.log ? ` (${fmt(logWru)} sample log, ${fmt(refreshWru)} quiet refreshes)` : ''} + ${fmt(notifyWru)} notifying`,
    ),
    line('dynamodb.storage', (storageBytes / 1e9) * DYNAMODB_PER_GB_MONTH, 0, `${fmt(storageBytes / 1e6)} MB of series state${figures.log ? ` and sample log (${a.logRetentionDays} days)` : ''}`),
    line(
      'lambda.evaluator',
      lambdaCost(evaluatorInvocations, evaluatorMs, shape.memoryMb.evaluator),
      0,
      `${fmt(evaluatorInvocations)} invocations × ${fmt(evaluatorMs)} ms at ${shape.memoryMb.evaluator} MB`,
    ),
    line('lambda.timers', timersLambda, timersLambda, `${fmt(timersRuns)} runs × ${a.timersMsPerRun} ms at ${shape.memoryMb.timers} MB`),
    line('lambda.dispatch', lambdaCost(transitions, a.dispatchMsPerTransition, shape.memoryMb.dispatch), 0, `${fmt(transitions)} transitions`),
    line('lambda.channels', lambdaCost(notifications, a.channelMsPerNotification, shape.memoryMb.channel), 0, `${fmt(notifications)} notifications`),
    line(
      'sqs',
      ((fifoRequests + idleFifo) * SQS_FIFO_PER_MILLION) / 1e6,
      (idleFifo * SQS_FIFO_PER_MILLION) / 1e6,
      `${fmt(fifoRequests)} FIFO requests + ${fmt(idleFifo)} empty long polls on ${shape.polledQueues} polled queues`,
    ),
    line('cloudwatch.metrics', customMetricsMonthly(a.customMetrics), customMetricsMonthly(a.customMetrics), `${a.customMetrics} custom metrics (EMF)`),
    line('cloudwatch.alarms', shape.alarms * CLOUDWATCH_PER_STANDARD_ALARM_METRIC, shape.alarms * CLOUDWATCH_PER_STANDARD_ALARM_METRIC, `${shape.alarms} alarms`),
    line('cloudwatch.dashboards', shape.dashboards * CLOUDWATCH_PER_DASHBOARD, shape.dashboards * CLOUDWATCH_PER_DASHBOARD, `${shape.dashboards} dashboard(s)`),
    line('cloudwatch.logs', logGb * CLOUDWATCH_LOGS_PER_GB, (timersRuns * a.logBytesPerInvocation * CLOUDWATCH_LOGS_PER_GB) / 1e9, `${fmt(logGb)} GB ingested`),
    line('secretsManager', shape.secrets * SECRETS_MANAGER_PER_SECRET, shape.secrets * SECRETS_MANAGER_PER_SECRET, `${shape.secrets} secrets`),
    line('scheduler', (timersRuns * SCHEDULER_PER_MILLION) / 1e6, (timersRuns * SCHEDULER_PER_MILLION) / 1e6, `${fmt(timersRuns)} timers invocations`),
    line(
      'msk.eventSource',
      mskFixed,
      mskFixed,
      scenario.msk === 'provisioned' ? `provisioned: ${epus} EPU × ${HOURS_PER_MONTH} h × $${LAMBDA_KAFKA_PER_EPU_HOUR}` : 'on-demand: no charge of its own',
    ),
    line('ses', (emails * SES_PER_1000_EMAILS) / 1000, 0, `${fmt(emails)} emails`),
  ];
  const total = lines.reduce((s, l) => s + l.monthly, 0);
  const fixedTotal = lines.reduce((s, l) => s + l.fixed, 0);

  const alarms = seriesRules * CLOUDWATCH_PER_STANDARD_ALARM_METRIC;
  const seriesMetrics = customMetricsMonthly(series);
  const selfHosted = EC2_T4G_SMALL_PER_HOUR * HOURS_PER_MONTH + SELF_HOSTED_DISK_GB * EBS_GP3_PER_GB_MONTH;
  return {
    lines,
    total: round(total),
    fixedTotal: round(fixedTotal),
    quantities: { seriesRules, samplesPerMonth, samplesPerSeriesPerBatch: perBatch, rruPerMonth, wruPerMonth, evaluatorInvocations },
    comparisons: {
      cloudWatchAlarms: {
        alarms: round(alarms),
        seriesMetrics: round(seriesMetrics),
        total: round(alarms + seriesMetrics),
        note:
          'one standard alarm per series and rule ($0.10; a period under 60 s needs high-resolution alarms at $0.30); ' +
          'plus one custom metric per series unless the series already are CloudWatch metrics (AWS service metrics are free)',
      },
      selfHostedPrometheus: {
        instance: `${SELF_HOSTED_INSTANCE} + ${SELF_HOSTED_DISK_GB} GB gp3`,
        monthly: round(selfHosted),
        fits: series <= SELF_HOSTED_MAX_SERIES,
        note:
          `one instance, no high availability, operated by you (patching, upgrades, disk), plus a bridge from Kafka to Prometheus; ` +
          `sized for up to ${fmt(SELF_HOSTED_MAX_SERIES)} active series`,
      },
    },
    figuresSource: figures.source,
  };
}

/** A number for a detail string: integers with thousands separators, small numbers with 2 decimals. */
function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 100) / 100);
}
