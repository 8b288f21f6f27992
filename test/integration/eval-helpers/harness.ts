/**
 * The evaluator and timers handlers wired to the real emulators (DynamoDB Local, fauxqs) of the
 * test run, with an injected clock, request counters, fault injectors and captured EMF output.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { AlertTransition } from '../../../shared/core/model/index.ts';
import type { SeriesState } from '../../../shared/core/evaluate/index.ts';
import { createEvaluatorHandler, type EvaluatorDeps } from '../../../functions/evaluator/app.ts';
import { createTimersHandler, type TimersDeps } from '../../../functions/timers/app.ts';
import { DynamoSampleLog } from '../../../shared/adapters/dynamodb/sample-log.ts';
import { DynamoSeriesStateStore } from '../../../shared/adapters/dynamodb/series-state-store.ts';
import { DynamoSeriesBudget } from '../../../shared/adapters/dynamodb/series-budget.ts';
import { SqsTransitionPublisher } from '../../../shared/adapters/sqs/transition-publisher.ts';
import { SqsRejectedSink, type RejectedMessage } from '../../../shared/adapters/sqs/rejected-sink.ts';
import { CachedRules, type RuleSource } from '../../../shared/adapters/rules/index.ts';
import { createMetrics } from '../../../shared/adapters/observability/index.ts';
import { withPlumbing, type Plumbing } from '../../../shared/adapters/observability/middy.ts';
import type { Context } from 'aws-lambda';
import { provisionFresh, sqsClient } from '../../support/aws.ts';
import { DynamoErrorAlertStore } from '../../../shared/adapters/dynamodb/error-alert-store.ts';
import { fixedEventsConfig } from '../../../shared/adapters/events/events-source.ts';
import { DEFAULT_EVENTS_CONFIG, type EventsConfig } from '../../../shared/core/events/config.ts';
import { countRequests, injectFaults } from './clients.ts';
import { drainQueue } from './queue.ts';

/** A settable clock. */
export interface ManualClock {
  now(): number;
  set(ms: number): void;
}

/** A clock starting at `start`. */
export function manualClock(start: number): ManualClock {
  let t = start;
  return { now: () => t, set: (ms) => void (t = ms) };
}

/** Metrics whose EMF lines are captured instead of printed. */
export function capturedMetrics(service: string): { metrics: ReturnType<typeof createMetrics>; emf: Record<string, unknown>[] } {
  const emf: Record<string, unknown>[] = [];
  const metrics = createMetrics(service);
  // Powertools prints EMF with its own Console (a public field); read it instead of stdout. A
  // single metric is its own Metrics instance with its own Console: capture those too.
  const capture = { log: (s: string) => void emf.push(JSON.parse(s) as Record<string, unknown>) };
  (metrics as unknown as { console: typeof capture }).console = capture;
  const single = metrics.singleMetric.bind(metrics);
  metrics.singleMetric = () => {
    const m = single();
    (m as unknown as { console: typeof capture }).console = capture;
    return m;
  };
  return { metrics, emf };
}

/** Sum of a metric over captured EMF blobs, optionally for one dimension value. */
export function metricSum(emf: readonly Record<string, unknown>[], name: string, dims: Record<string, string> = {}): number {
  let sum = 0;
  for (const blob of emf) {
    if (!Object.entries(dims).every(([k, v]) => blob[k] === v)) continue;
    const v = blob[name];
    if (typeof v === 'number') sum += v;
    else if (Array.isArray(v)) sum += (v as number[]).reduce((a, b) => a + b, 0);
  }
  return sum;
}

/** A Lambda context for tests. */
export const TEST_CONTEXT = { awsRequestId: 'test-request', functionName: 'klaxon-test', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:klaxon-test', memoryLimitInMB: '512', logGroupName: '/aws/lambda/klaxon-test', logStreamName: 'test', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

/** A handler inside the production plumbing (middy + Powertools: context, metrics flushed per invocation), called as tests do. */
export function plumbed<E, R>(handler: (event: E) => Promise<R>, p: Plumbing): (event?: E) => Promise<R> {
  const wrapped = withPlumbing((e: E) => handler(e), p);
  return (event) => wrapped(event as E, TEST_CONTEXT);
}

/** Every value of a metric in captured EMF blobs, in order (to check it was emitted, and how often). */
export function metricValues(emf: readonly Record<string, unknown>[], name: string): number[] {
  const out: number[] = [];
  for (const blob of emf) {
    const v = blob[name];
    if (typeof v === 'number') out.push(v);
    else if (Array.isArray(v)) out.push(...(v as number[]));
  }
  return out;
}

/** A static rule source (the rules text of a test). */
export function staticRules(text: string): RuleSource {
  return { name: 'test', fetch: async () => [{ origin: 'test-rules.yaml', kind: 'document', text }] };
}

/** Everything a test needs around the two handlers. */
export async function evalHarness(rulesYaml: string, opts: { start?: number; staleAfterMs?: number; windows?: 'derived' | 'stored'; events?: EventsConfig | false } = {}) {
  const p = await provisionFresh();
  const clock = manualClock(opts.start ?? 1_795_300_000_000);
  const ddbCount = countRequests(p.dynamodb);
  const sqsCount = countRequests(p.sqs);
  const ddbFaults = injectFaults(p.dynamodb);
  const sqsFaults = injectFaults(p.sqs);
  const rules = new CachedRules({ source: staticRules(rulesYaml), ttlMs: 60_000, clock });
  const evalMetrics = capturedMetrics('evaluator');
  const timerMetrics = capturedMetrics('timers');
  const states = new DynamoSeriesStateStore<SeriesState>({ client: p.dynamodb, table: p.tables.state, clock, retry: { maxAttempts: 3, baseDelayMs: 1 } });
  const publisher = new SqsTransitionPublisher({ client: p.sqs, queueUrl: p.queues.alertEvents.url, retry: { maxAttempts: 3, baseDelayMs: 1 } });
  const staleAfterMs = opts.staleAfterMs ?? 300_000;
  const budget = new DynamoSeriesBudget({ client: p.dynamodb, table: p.tables.state });
  // Job events, with the built-in configuration unless a test gives its own (false: not configured).
  const errors = new DynamoErrorAlertStore(p.dynamodb, p.tables.errors);
  const events = opts.events === false ? undefined : { store: errors, config: fixedEventsConfig(opts.events ?? DEFAULT_EVENTS_CONFIG) };
  const deps: EvaluatorDeps = {
    rules,
    states,
    publisher,
    rejected: new SqsRejectedSink({ client: p.sqs, queueUrl: p.queues.rejected.url, retry: { maxAttempts: 3, baseDelayMs: 1 } }),
    budget,
    clock,
    logger: new Logger({ serviceName: 'evaluator', logLevel: 'SILENT' }),
    metrics: evalMetrics.metrics,
    staleAfterMs,
    // Production's default; `windows: 'stored'` for a test of the stored layout.
    ...((opts.windows ?? 'derived') === 'derived' ? { derived: { log: new DynamoSampleLog({ client: p.dynamodb, table: p.tables.samples }) } } : {}),
    ...(events ? { events } : {}),
  };
  const evaluator = plumbed(createEvaluatorHandler(deps), deps);
  const timersDeps: TimersDeps = {
    rules,
    states,
    publisher,
    budget,
    clock,
    logger: new Logger({ serviceName: 'timers', logLevel: 'SILENT' }),
    metrics: timerMetrics.metrics,
    staleAfterMs,
    ...(events ? { errors: events } : {}),
  };
  const timers = plumbed(createTimersHandler(timersDeps), timersDeps);
  const seen: AlertTransition[] = [];
  // Its own client: reading the queues must not count as, or trip over, the handlers' calls.
  const reader = sqsClient();
  return {
    p,
    clock,
    deps,
    timersDeps,
    evaluator,
    timers,
    states,
    errors,
    budget,
    ddbCount,
    sqsCount,
    ddbFaults,
    sqsFaults,
    evalEmf: evalMetrics.emf,
    timerEmf: timerMetrics.emf,
    /** Drains the alert-events queue; returns everything received so far. */
    async transitions(): Promise<AlertTransition[]> {
      seen.push(...(await drainQueue<AlertTransition>(reader, p.queues.alertEvents.url)));
      return seen;
    },
    async rejected(): Promise<RejectedMessage[]> {
      return await drainQueue<RejectedMessage>(reader, p.queues.rejected.url);
    },
  };
}

/** Transitions deduplicated by transition id (what FIFO dedup and downstream idempotency deliver), sorted. */
export function uniqueTransitions(ts: readonly AlertTransition[]): AlertTransition[] {
  return [...new Map(ts.map((t) => [t.transitionId, t])).values()].sort((a, b) => a.atMs - b.atMs || (a.transitionId < b.transitionId ? -1 : 1));
}
