/**
 * Watching the pipeline itself: the CloudWatch dashboard (ingest, evaluation, delivery per channel,
 * queues, functions, DynamoDB capacity, Logs Insights) and the pipeline-level alarms (evaluator errors, OffsetLag
 * growing, the deadman on RecordsIn, records rejected). Per-channel alarms live in {@link Channel}.
 */
import { Aws, Duration, Fn } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CHANNELS, type Channel as DeliveryChannel } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import { TABLES, type FunctionName, type QueueName, type TableName, type TableSpec } from '../topology.ts';
import type { KlaxonFunction } from './klaxon-function.ts';
import { klaxonMetric, klaxonSearch, type KlaxonMetricName } from './klaxon-metrics.ts';
import type { WorkQueue } from './work-queue.ts';

/** The deadman: no records evaluated for this long alarms (issue 4: 10 min). */
export const DEADMAN_MINUTES = 10;
/** SamplesSkipped must be non-zero for this many consecutive 5-minute periods to alarm (a redelivery alone does not). */
const SKIPPED_PERIODS = 3;
/** OffsetLag must grow for this many consecutive 5-minute periods to alarm. */
export const OFFSET_LAG_GROWTH_PERIODS = 3;

/** Props of {@link PipelineObservability}. */
export interface PipelineObservabilityProps {
  readonly functions: Readonly<Record<FunctionName, KlaxonFunction>>;
  readonly queues: Readonly<Record<QueueName, WorkQueue>>;
  /** The tables (their consumed capacity is charted: on-demand tables bill per request unit). */
  readonly tables: Readonly<Record<TableName, dynamodb.ITableV2>>;
  /** The function that delivers each channel. */
  readonly deliveryFunctions: Readonly<Record<DeliveryChannel, FunctionName>>;
  readonly alarmTopic: sns.ITopic;
  /** OffsetLag must exceed this for the growth alarm (small lags grow and shrink all the time). */
  readonly offsetLagAlarmFloor: number;
  /** Alarms created elsewhere (channels) to show in the alarm status widget. */
  readonly otherAlarms: readonly cw.IAlarm[];
  readonly productName: string;
}

const wide = 24;
const half = 12;
const third = 8;

/**
 * Consumed capacity of every table and of each of its global secondary indexes, one line each
 * (Sum per period): the request units on-demand tables are billed for. Dimensions TableName, and
 * GlobalSecondaryIndexName for an index
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html).
 */
export function consumedCapacityMetrics(
  tables: Readonly<Record<TableName, dynamodb.ITableV2>>,
  kind: 'Read' | 'Write',
  period: Duration,
): cw.Metric[] {
  const metric = (table: dynamodb.ITableV2, label: string, index?: string) =>
    new cw.Metric({
      namespace: 'AWS/DynamoDB',
      metricName: `Consumed${kind}CapacityUnits`,
      dimensionsMap: { TableName: table.tableName, ...(index ? { GlobalSecondaryIndexName: index } : {}) },
      statistic: 'Sum',
      period,
      label,
    });
  return (Object.entries(TABLES) as [TableName, TableSpec][]).flatMap(([name, spec]) => [
    metric(tables[name], name),
    ...(spec.globalIndexes ?? []).map((gsi) => metric(tables[name], `${name} ${gsi.name}`, gsi.name)),
  ]);
}

/** Dashboard + pipeline alarms. */
export class PipelineObservability extends Construct {
  /** The dashboard. */
  readonly dashboard: cw.Dashboard;
  /** Its console URL (the default `DASHBOARD_URL` of notifications). */
  readonly dashboardUrl: string;
  /** Pipeline-level alarms. */
  readonly alarms: {
    readonly evaluatorErrors: cw.Alarm;
    readonly offsetLagGrowing: cw.Alarm;
    readonly deadman: cw.Alarm;
    readonly recordsRejected: cw.Alarm;
    readonly samplesSkipped: cw.Alarm;
    readonly seriesLimited: cw.Alarm;
    readonly timersBacklog: cw.Alarm;
  };

  constructor(scope: Construct, id: string, props: PipelineObservabilityProps) {
    super(scope, id);
    const { functions, queues } = props;
    const evaluator = functions.evaluator.fn;
    const action = new cwActions.SnsAction(props.alarmTopic);
    const withActions = (a: cw.Alarm): cw.Alarm => {
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };

    // OffsetLag: "the difference in offset between the last record written to a topic and the last
    // record that your function's consumer group processed" (function metric, no opt-in).
    // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
    const offsetLag = (period: Duration) =>
      new cw.Metric({ namespace: 'AWS/Lambda', metricName: 'OffsetLag', dimensionsMap: { FunctionName: evaluator.functionName }, statistic: 'Maximum', period });

    const recordsIn = klaxonMetric(METRIC.recordsIn, 'evaluator', { period: Duration.minutes(DEADMAN_MINUTES) });
    this.alarms = {
      evaluatorErrors: withActions(
        new cw.Alarm(this, 'EvaluatorErrors', {
          alarmDescription: 'Klaxon: the evaluator failed invocations (its Kafka batches are being retried, then sent to the failed-records bucket).',
          metric: evaluator.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      ),
      offsetLagGrowing: withActions(
        new cw.Alarm(this, 'OffsetLagGrowing', {
          alarmDescription: `Klaxon: the evaluator is falling behind the topic: OffsetLag above ${props.offsetLagAlarmFloor} and growing for ${OFFSET_LAG_GROWTH_PERIODS * 5} minutes.`,
          // DIFF: change from the previous period; only counted once the lag is above the floor.
          metric: new cw.MathExpression({
            expression: `IF(lag > ${props.offsetLagAlarmFloor}, DIFF(lag), 0)`,
            usingMetrics: { lag: offsetLag(Duration.minutes(5)) },
            period: Duration.minutes(5),
            label: 'OffsetLag growth',
          }),
          threshold: 0,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: OFFSET_LAG_GROWTH_PERIODS,
          datapointsToAlarm: OFFSET_LAG_GROWTH_PERIODS,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      ),
      // The deadman: silence is the failure. No RecordsIn datapoint at all also alarms.
      deadman: withActions(
        new cw.Alarm(this, 'NoRecordsEvaluated', {
          alarmDescription: `Klaxon deadman: the evaluator received no records for ${DEADMAN_MINUTES} minutes (topic idle, event source disabled, or broken).`,
          metric: recordsIn,
          threshold: 1,
          comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cw.TreatMissingData.BREACHING,
        }),
      ),
      recordsRejected: withActions(
        new cw.Alarm(this, 'RecordsRejected', {
          alarmDescription: 'Klaxon: records were rejected (undecodable or invalid) and put on the rejected queue with their Kafka coordinates.',
          metric: queues.rejected.queue.metricNumberOfMessagesSent({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      ),
      // Redeliveries skip a few samples now and then; a steady stream of skips means a series is
      // blind (a producer's clock behind the others, duplicated topics): it must not go unnoticed.
      samplesSkipped: withActions(
        new cw.Alarm(this, 'SamplesSkipped', {
          alarmDescription: `Klaxon: samples were skipped as out of order or duplicate for ${SKIPPED_PERIODS * 5} minutes running (a producer's clock or a duplicated stream); the evaluator log names the series.`,
          metric: klaxonMetric(METRIC.samplesSkipped, 'evaluator', { period: Duration.minutes(5) }),
          threshold: 1,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: SKIPPED_PERIODS,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      ),
      seriesLimited: withActions(
        new cw.Alarm(this, 'SeriesLimited', {
          alarmDescription: 'Klaxon: a rule reached its series limit and new series are refused (a label with unbounded values, such as a request id); the evaluator log names the rule and the label.',
          metric: klaxonMetric(METRIC.seriesLimited, 'evaluator', { period: Duration.minutes(5) }),
          threshold: 1,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      ),
      timersBacklog: withActions(
        new cw.Alarm(this, 'TimersBacklog', {
          alarmDescription: 'Klaxon: timers runs end with due items left (staleness, absence and keep_firing_for are late); the timers log says how many.',
          metric: klaxonMetric(METRIC.timersBacklog, 'timers', { period: Duration.minutes(5), statistic: 'Maximum' }),
          threshold: 1,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 2,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      ),
    };

    const dashboardName = Fn.join('-', [Aws.STACK_NAME, 'pipeline']);
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboardUrl = Fn.join('', [
      'https://',
      Aws.REGION,
      '.console.aws.amazon.com/cloudwatch/home?region=',
      Aws.REGION,
      '#dashboards:name=',
      dashboardName,
    ]);

    const p5 = Duration.minutes(5);
    const text = (markdown: string) => new cw.TextWidget({ markdown, width: wide, height: 1 });
    const allAlarms = [...Object.values(this.alarms), ...props.otherAlarms];

    // Alarms first: the question on opening the dashboard is "is anything wrong?".
    this.dashboard.addWidgets(new cw.AlarmStatusWidget({ title: `${props.productName}: pipeline alarms`, alarms: allAlarms, width: wide, height: 4 }));

    this.dashboard.addWidgets(text('## Ingest (MSK → evaluator)'));
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Records in / rejected',
        left: [
          klaxonMetric(METRIC.recordsIn, 'evaluator', { period: p5, label: 'records in' }),
          klaxonMetric(METRIC.recordsRejected, 'evaluator', { period: p5, label: 'rejected' }),
        ],
        width: third,
      }),
      new cw.GraphWidget({ title: 'OffsetLag (max)', left: [offsetLag(p5)], width: third }),
      new cw.GraphWidget({
        title: 'Batch duration',
        left: [
          klaxonMetric(METRIC.batchDuration, 'evaluator', { statistic: 'p50', period: p5, label: 'p50' }),
          klaxonMetric(METRIC.batchDuration, 'evaluator', { statistic: 'p99', period: p5, label: 'p99' }),
          evaluator.metricDuration({ statistic: 'Maximum', period: p5, label: 'invocation max' }),
        ],
        width: third,
      }),
    );

    this.dashboard.addWidgets(text('## Evaluation'));
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Transitions by kind (evaluator and timers)',
        left: [klaxonSearch(METRIC.transitions, ['kind'], { label: '' })],
        stacked: true,
        width: third,
      }),
      new cw.GraphWidget({
        title: 'Alerts firing',
        left: [klaxonSearch(METRIC.alertsFiring, [], { statistic: 'Maximum' })],
        width: third,
      }),
      new cw.GraphWidget({
        title: 'Samples evaluated / skipped / in the future',
        left: [
          klaxonMetric(METRIC.samplesEvaluated, 'evaluator', { period: p5, label: 'evaluated' }),
          klaxonMetric(METRIC.samplesSkipped, 'evaluator', { period: p5, label: 'skipped (late or duplicate)' }),
          klaxonMetric(METRIC.samplesFuture, 'evaluator', { period: p5, label: 'not evaluated: stamped in the future' }),
        ],
        width: third,
      }),
    );
    // Limits at work (both alarmed): series a rule may not hold, timers runs that could not finish.
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'New series refused (series limit)',
        left: [klaxonMetric(METRIC.seriesLimited, 'evaluator', { period: p5, label: 'refused' })],
        width: half,
      }),
      new cw.GraphWidget({
        title: 'Timers backlog (1 = a run ended with due items left)',
        left: [klaxonMetric(METRIC.timersBacklog, 'timers', { statistic: 'Maximum', period: p5, label: 'backlog' })],
        leftYAxis: { min: 0, max: 1 },
        width: half,
      }),
    );

    this.dashboard.addWidgets(text('## Delivery'));
    this.dashboard.addWidgets(
      new cw.GraphWidget({ title: 'Routed to no channel (low severity / no receiver)', left: [klaxonSearch(METRIC.notificationsThrottled, [])], width: half }),
      new cw.GraphWidget({ title: 'Suppressed by throttle windows, by channel', left: [klaxonSearch(METRIC.notificationsSuppressed, ['channel'])], width: half }),
    );
    for (const channel of CHANNELS) {
      const service = props.deliveryFunctions[channel];
      const dims = { channel };
      this.dashboard.addWidgets(
        new cw.GraphWidget({
          title: `${channel}: sent, deferred, dead-lettered`,
          left: [
            klaxonMetric(METRIC.notificationsSent, service, { dimensions: dims, period: p5, label: 'sent' }),
            klaxonMetric(METRIC.notificationsDeferred, service, { dimensions: dims, period: p5, label: 'deferred (breaker / Retry-After)' }),
            klaxonMetric(METRIC.notificationsDeadLettered, service, { dimensions: dims, period: p5, label: 'dead-lettered' }),
          ],
          width: 6,
        }),
        new cw.GraphWidget({
          title: `${channel}: failed by reason`,
          left: [klaxonSearch(METRIC.notificationsFailed, ['channel', 'reason'], { filter: { channel } })],
          stacked: true,
          width: 6,
        }),
        new cw.GraphWidget({
          title: `${channel}: breaker open`,
          left: [klaxonMetric(METRIC.breakerOpen, service, { dimensions: dims, statistic: 'Maximum', period: Duration.minutes(1), label: 'open (1 = yes)' })],
          leftYAxis: { min: 0, max: 1 },
          width: 6,
        }),
        new cw.GraphWidget({
          title: `${channel}: latency event → receiver (ms)`,
          left: [
            klaxonMetric(METRIC.deliveryLatency, service, { dimensions: dims, statistic: 'p50', period: p5, label: 'p50' }),
            klaxonMetric(METRIC.deliveryLatency, service, { dimensions: dims, statistic: 'p99', period: p5, label: 'p99' }),
          ],
          width: 6,
        }),
      );
    }

    // The alert history's figures (docs/incidents.md, "History and analytics"), from the metrics
    // the recording functions emit (shared/core/history/metrics.ts): whichever function recorded
    // them, hence SEARCH over `service`. Per rule and team: `klaxon report` (the history table).
    const p15 = Duration.minutes(15);
    const h1 = Duration.hours(1);
    /** A time metric in minutes, one line per severity, for a statistic (Average, p90). */
    const minutesBySeverity = (metric: KlaxonMetricName, statistic: string) =>
      new cw.MathExpression({
        expression: `${klaxonSearch(metric, ['severity'], { statistic, period: h1 }).expression} / 60000`,
        label: `${statistic} \${PROP('Dim.severity')}`,
        period: h1,
      });
    this.dashboard.addWidgets(text('## Alert history (fired, notified, suppressed, time to acknowledge and resolve)'));
    this.dashboard.addWidgets(
      new cw.GraphWidget({ title: 'Alerts fired by severity', left: [klaxonSearch(METRIC.alertsFired, ['severity'], { period: p15 })], stacked: true, width: third }),
      new cw.GraphWidget({ title: 'Notifications sent by channel', left: [klaxonSearch(METRIC.notificationsSent, ['channel'], { period: p15 })], stacked: true, width: third }),
      new cw.GraphWidget({ title: 'Notifications suppressed by reason', left: [klaxonSearch(METRIC.alertsSuppressed, ['reason'], { period: p15 })], stacked: true, width: third }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Time to acknowledge (minutes): average and p90 by severity',
        left: [minutesBySeverity(METRIC.timeToAcknowledge, 'Average'), minutesBySeverity(METRIC.timeToAcknowledge, 'p90')],
        leftYAxis: { min: 0 },
        width: half,
      }),
      new cw.GraphWidget({
        title: 'Time to resolve (minutes): average and p90 by severity',
        left: [minutesBySeverity(METRIC.timeToResolve, 'Average'), minutesBySeverity(METRIC.timeToResolve, 'p90')],
        leftYAxis: { min: 0 },
        width: half,
      }),
    );

    this.dashboard.addWidgets(text('## Interactions, enrichment and remediation'));
    this.dashboard.addWidgets(
      new cw.GraphWidget({ title: 'Interactions refused by reason (forged, stale, replayed…)', left: [klaxonSearch(METRIC.interactionsRefused, ['reason'], { period: p15 })], stacked: true, width: third }),
      new cw.GraphWidget({ title: 'Enrichment failures by channel and reason', left: [klaxonSearch(METRIC.enrichmentFailures, ['channel', 'reason'], { period: p15 })], stacked: true, width: third }),
      new cw.GraphWidget({ title: 'Remediations by status', left: [klaxonSearch(METRIC.remediations, ['status'], { period: p15 })], stacked: true, width: third }),
    );

    this.dashboard.addWidgets(text('## Queues'));
    const queueList = Object.values(queues);
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Depth (visible messages)',
        left: queueList.map((q) => q.queue.metricApproximateNumberOfMessagesVisible({ period: p5, statistic: 'Maximum', label: q.logicalName })),
        width: third,
      }),
      new cw.GraphWidget({
        title: 'Age of oldest message (s)',
        left: queueList.map((q) => q.queue.metricApproximateAgeOfOldestMessage({ period: p5, statistic: 'Maximum', label: q.logicalName })),
        width: third,
      }),
      new cw.GraphWidget({
        title: 'Dead-letter depth (and rejected records)',
        left: [
          ...queueList.flatMap((q) =>
            q.deadLetterQueue ? [q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: p5, statistic: 'Maximum', label: `${q.logicalName} DLQ` })] : [],
          ),
          queues.rejected.queue.metricApproximateNumberOfMessagesVisible({ period: p5, statistic: 'Maximum', label: 'rejected' }),
        ],
        width: third,
      }),
    );

    this.dashboard.addWidgets(text('## Functions'));
    const fnList = Object.values(functions);
    this.dashboard.addWidgets(
      new cw.GraphWidget({ title: 'Errors', left: fnList.map((f) => f.fn.metricErrors({ period: p5, label: f.logicalName })), width: third }),
      new cw.GraphWidget({ title: 'Throttles', left: fnList.map((f) => f.fn.metricThrottles({ period: p5, label: f.logicalName })), width: third }),
      new cw.GraphWidget({
        title: 'Duration p99 (ms)',
        left: fnList.map((f) => f.fn.metricDuration({ period: p5, statistic: 'p99', label: f.logicalName })),
        width: third,
      }),
    );

    // What the bill is made of: request units per table and index (the tables are on-demand).
    this.dashboard.addWidgets(text('## DynamoDB capacity'));
    this.dashboard.addWidgets(
      new cw.GraphWidget({ title: 'Consumed read capacity units (sum per 5 min)', left: consumedCapacityMetrics(props.tables, 'Read', p5), width: half }),
      new cw.GraphWidget({ title: 'Consumed write capacity units (sum per 5 min)', left: consumedCapacityMetrics(props.tables, 'Write', p5), width: half }),
    );

    // Logs Insights over Powertools' JSON logs.
    const deliveryLogGroups = CHANNELS.map((c) => functions[props.deliveryFunctions[c]].logGroup.logGroupName);
    this.dashboard.addWidgets(text('## Logs'));
    this.dashboard.addWidgets(
      new cw.LogQueryWidget({
        title: 'Latest deliveries',
        logGroupNames: deliveryLogGroups,
        queryLines: [
          'fields @timestamp, service, channel, destinationId, outcome, reason, fingerprint, severity',
          'filter ispresent(outcome)',
          'sort @timestamp desc',
          'limit 50',
        ],
        view: cw.LogQueryVisualizationType.TABLE,
        width: half,
        height: 8,
      }),
      new cw.LogQueryWidget({
        title: 'Noisiest rules (transitions)',
        logGroupNames: [functions.evaluator.logGroup.logGroupName, functions.timers.logGroup.logGroupName],
        queryLines: ['filter ispresent(ruleId) and ispresent(transitionId)', 'stats count(*) as transitions by ruleId', 'sort transitions desc', 'limit 20'],
        view: cw.LogQueryVisualizationType.TABLE,
        width: half,
        height: 8,
      }),
    );
  }
}
