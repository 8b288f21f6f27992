/**
 * Error events through the real evaluator handler (functions/evaluator/app.ts, DynamoErrorAlertStore,
 * SqsTransitionPublisher) against its own DynamoDB Local and fauxqs (issue 11): what a batch of
 * job events costs in DynamoDB requests and units.
 *
 * Scenario: one MSK batch of 1,000 error events: 50 tasks of 10 DAGs, each failing 20 times with
 * messages that differ only in ids (one fingerprint per task: 50 alerts), then one batch of 50
 * success events (every task recovers). Reported per 1,000 error events and per success, as the
 * capacity meter reads them (ReturnConsumedCapacity; shared/adapters/dynamodb/capacity.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createEvaluatorHandler } from '../functions/evaluator/app.ts';
import { DynamoErrorAlertStore } from '../shared/adapters/dynamodb/error-alert-store.ts';
import { meterCapacity } from '../shared/adapters/dynamodb/capacity.ts';
import { fixedEventsConfig } from '../shared/adapters/events/events-source.ts';
import { SqsTransitionPublisher } from '../shared/adapters/sqs/transition-publisher.ts';
import { SqsRejectedSink } from '../shared/adapters/sqs/rejected-sink.ts';
import { DynamoSeriesStateStore } from '../shared/adapters/dynamodb/series-state-store.ts';
import { DynamoSeriesBudget } from '../shared/adapters/dynamodb/series-budget.ts';
import { RuleIndex } from '../shared/core/rules/index.ts';
import type { SeriesState } from '../shared/core/evaluate/index.ts';
import type { MskEvent, MskRecord } from '../shared/adapters/kafka/index.ts';
import { withLocalAws } from './eval-io.ts';

const TASKS = 50;
const DAGS = 10;
const FAILURES_PER_TASK = 20;

/** What the section reports. */
export interface EventsIoFigures {
  readonly errorEvents: number;
  readonly alerts: number;
  readonly dynamoRequestsPer1000ErrorEvents: number;
  readonly requestsByCommand: Record<string, number>;
  readonly writeUnitsPer1000ErrorEvents: number;
  readonly readUnitsPer1000ErrorEvents: number;
  readonly dynamoRequestsPerSuccess: number;
  readonly writeUnitsPerSuccess: number;
  readonly transitions: number;
}

function mskEvent(values: readonly unknown[], firstOffset: number, nowMs: number): MskEvent {
  const records: MskRecord[] = values.map((v, i) => ({
    topic: 'metrics',
    partition: 0,
    offset: firstOffset + i,
    timestamp: nowMs,
    timestampType: 'CREATE_TIME',
    key: null,
    value: Buffer.from(JSON.stringify(v), 'utf8').toString('base64'),
    headers: [],
  }));
  return { eventSource: 'aws:kafka', eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/bench/1', bootstrapServers: 'b-1:9098', records: { 'metrics-0': records } };
}

/** Runs the scenario. */
export async function benchEventsIo(): Promise<EventsIoFigures> {
  return await withLocalAws(`evio${process.pid}`, async ({ dynamodb, sqs, p }) => {
    const now = Date.now();
    const clock = { now: () => now };
    let published = 0;
    const sqsPublisher = new SqsTransitionPublisher({ client: sqs, queueUrl: p.queues.alertEvents.url });
    const publisher = { publish: async (ts: Parameters<SqsTransitionPublisher['publish']>[0]) => ((published += ts.length), await sqsPublisher.publish(ts)) };
    const meter = meterCapacity(dynamodb);
    const metrics = new Metrics({ namespace: 'KlaxonBench', serviceName: 'evaluator' });
    (metrics as unknown as { console: { log: () => void } }).console = { log: () => undefined };
    metrics.singleMetric = () => {
      const m = new Metrics({ namespace: 'KlaxonBench', serviceName: 'evaluator', singleMetric: true });
      (m as unknown as { console: { log: () => void } }).console = { log: () => undefined };
      return m;
    };
    const handler = createEvaluatorHandler({
      rules: { current: () => Promise.resolve(new RuleIndex([])) },
      states: new DynamoSeriesStateStore<SeriesState>({ client: dynamodb, table: p.tables.state, clock }),
      publisher,
      rejected: new SqsRejectedSink({ client: sqs, queueUrl: p.queues.rejected.url }),
      budget: new DynamoSeriesBudget({ client: dynamodb, table: p.tables.state }),
      clock,
      logger: new Logger({ serviceName: 'evaluator', logLevel: 'SILENT' }),
      metrics,
      staleAfterMs: 300_000,
      events: { store: new DynamoErrorAlertStore(dynamodb, p.tables.errors), config: fixedEventsConfig() },
    });
    const task = (i: number) => ({ service: `dag_${i % DAGS}`, task: `task_${i}` });
    const failures = Array.from({ length: TASKS * FAILURES_PER_TASK }, (_, k) => {
      const i = k % TASKS;
      return {
        kind: 'error',
        source: 'airflow',
        ...task(i),
        run: `scheduled__run_${Math.floor(k / TASKS)}`,
        try: 3,
        maxTries: 3,
        error: { type: 'psycopg2.OperationalError', message: `could not connect to server: Connection refused (host 10.0.${k % 250}.7, request ${k})` },
        tags: { team: 'data' },
        timestamp: now - 60_000 + Math.floor(k / TASKS),
      };
    });
    meter.reset();
    const r1 = await handler(mskEvent(failures, 0, now));
    if (r1.batchItemFailures.length > 0) throw new Error('bench: the error batch failed');
    const errLines = meter.totals();
    const errRequests = Object.fromEntries([...meter.requests].sort(([a], [b]) => a.localeCompare(b)));
    const errRequestCount = [...meter.requests.values()].reduce((a, b) => a + b, 0);
    const alerts = published;

    meter.reset();
    const successes = Array.from({ length: TASKS }, (_, i) => ({ kind: 'success', source: 'airflow', ...task(i), timestamp: now }));
    const r2 = await handler(mskEvent(successes, failures.length, now));
    if (r2.batchItemFailures.length > 0) throw new Error('bench: the success batch failed');
    const okTotals = meter.totals();
    const okRequests = [...meter.requests.values()].reduce((a, b) => a + b, 0);
    const per1000 = 1000 / failures.length;
    return {
      errorEvents: failures.length,
      alerts,
      dynamoRequestsPer1000ErrorEvents: errRequestCount * per1000,
      requestsByCommand: errRequests,
      writeUnitsPer1000ErrorEvents: errLines.write.measured * per1000,
      readUnitsPer1000ErrorEvents: errLines.read.measured * per1000,
      dynamoRequestsPerSuccess: okRequests / TASKS,
      writeUnitsPerSuccess: okTotals.write.measured / TASKS,
      transitions: published,
    };
  });
}
