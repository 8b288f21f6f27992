/**
 * The timers function, run each minute: what no sample will ever trigger (absence, staleness,
 * keep_firing_for and the other time-based ends, deleted rules). The work itself is
 * `advanceTimers` in shared/core/sequence, the same code a replay runs between batches: it reads
 * only what the sparse `by-due` index says is due, in bounded chunks, publishing then committing
 * each chunk before the next, and stops starting chunks at a deadline derived from the function's
 * timeout so that a backlog delays only itself (the rest stays due for the next run, and
 * `TimersBacklog` is alarmed).
 *
 * Each run also emits `AlertsFiring`: the number of items in the sparse `by-firing` index (the
 * store keeps an item there exactly while its alert is firing), counted with one `Select: COUNT`
 * Query per shard, without scanning the series.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import type { RuleIndex } from '../../shared/core/rules/index.ts';
import type { SeriesState } from '../../shared/core/evaluate/index.ts';
import { advanceTimers, type AdvanceTimersResult, type FiringCounter, type SeriesBudget, type SeriesStateStore, type TransitionPublisher } from '../../shared/core/sequence/index.ts';
import { DynamoSeriesStateStore } from '../../shared/adapters/dynamodb/series-state-store.ts';
import { DynamoSeriesBudget } from '../../shared/adapters/dynamodb/series-budget.ts';
import { SqsTransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { cachedRulesFromConfig } from '../../shared/adapters/rules/index.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { timersConfig } from '../../shared/config/timers.ts';
import { recheckMutedAlerts, type MutedAlertIndex } from '../../shared/core/dispatch/silence/index.ts';
import { DynamoMutedAlertIndex } from '../../shared/adapters/dynamodb/silence-store.ts';
import { TIMERS_RUN_BUDGET_MS } from '../../shared/config/timing.ts';
import { scheduleOverdueFlushes } from '../../shared/core/dispatch/group/flush.ts';
import type { FlushScheduler, GroupStore } from '../../shared/core/dispatch/group/ports.ts';
import { DynamoGroupStore } from '../../shared/adapters/dynamodb/group-store.ts';
import { SqsFlushScheduler } from '../../shared/adapters/sqs/flush-scheduler.ts';
import { resolveQuietErrors, type ErrorAlertStore } from '../../shared/core/events/sequence.ts';
import { DynamoErrorAlertStore } from '../../shared/adapters/dynamodb/error-alert-store.ts';
import { eventsConfigSource, eventsLocationFromEnv, type EventsConfigSource } from '../../shared/adapters/events/events-source.ts';

/** What the handler needs; tests and local mode inject their own. */
export interface TimersDeps {
  readonly rules: { current(): Promise<RuleIndex> };
  /** Series state, and the count of firing series behind `AlertsFiring`. */
  readonly states: SeriesStateStore<SeriesState> & FiringCounter;
  readonly publisher: TransitionPublisher;
  /** The per-rule series counters: deleted series are given back. */
  readonly budget: SeriesBudget;
  /** Wall clock: timers act on "now", the evaluator on event time. */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly staleAfterMs: number;
  /** Muted firings (alerts table, by-recheck index): each run puts the due ones back on alert-events. Absent: none. */
  readonly muted?: MutedAlertIndex;
  /** Groups and the flush scheduler: groups whose flush message was lost are scheduled again (absent: not checked). */
  readonly groups?: { readonly store: GroupStore; readonly scheduler: FlushScheduler };
  /** Error alerts of job events: those quiet for their quiet period are resolved (absent: not checked). */
  readonly errors?: { readonly store: ErrorAlertStore; readonly config: EventsConfigSource };
  /** Time a run may spend starting new chunks (default {@link DEFAULT_TIMERS_BUDGET_MS}). */
  readonly budgetMs?: number;
  /** Due items per chunk. */
  readonly chunkSize?: number;
}

/** Default time a run may spend starting chunks: derived from the function's timeout (shared/config/timing.ts). */
export const DEFAULT_TIMERS_BUDGET_MS = TIMERS_RUN_BUDGET_MS;

/** What one run did (returned for tests and logs; the schedule ignores it). */
export interface TimersResult extends Omit<AdvanceTimersResult, 'changes' | 'unresolvable' | 'tooLarge'> {
  /** Alerts firing after this run's writes (the `AlertsFiring` value); undefined when the count failed. */
  readonly firing: number | undefined;
  /** Muted firings put back on alert-events to be decided again (their silence ended); undefined when not checked or the check failed. */
  readonly rechecked?: number | undefined;
  /** Overdue groups whose flush was scheduled again; undefined when not checked or the check failed. */
  readonly overdueGroups?: number | undefined;
  /** Error alerts resolved after their quiet period; undefined when not checked or the sweep failed. */
  readonly quietResolved?: number | undefined;
}

/** The timers' Lambda handler type (the scheduled event carries nothing used). */
export type TimersHandler = (event?: unknown, context?: unknown) => Promise<TimersResult>;

/**
 * Builds the handler. Per run: rules from the cache; `advanceTimers` (seed expected absence series,
 * then chunk by chunk: due keys → read → advance → publish → commit); metrics; count by-firing and
 * emit `AlertsFiring` (dimension `service` only).
 */
export function createTimersHandler(deps: TimersDeps): TimersHandler {
  const { logger, metrics, clock } = deps;
  // Expected series known to have an item (per container): avoids reading them every minute.
  const knownExpected = new Set<string>();
  const ports = { states: deps.states, publisher: deps.publisher, budget: deps.budget, clock, knownExpected };

  return async () => {
    const now = clock.now();
    const index = await deps.rules.current();
    const res = await advanceTimers(ports, index, {
      nowMs: now,
      staleAfterMs: deps.staleAfterMs,
      deadlineMs: now + (deps.budgetMs ?? DEFAULT_TIMERS_BUDGET_MS),
      ...(deps.chunkSize !== undefined ? { chunkSize: deps.chunkSize } : {}),
    });
    for (const key of res.unresolvable) logger.warn('firing alert of a deleted rule has no stored identity; deleted without a resolution', { key });
    if (res.tooLarge.length > 0) logger.error('series state too large to store; not saved', { keys: res.tooLarge.slice(0, 10), count: res.tooLarge.length });
    if (res.backlog) logger.warn('timers run reached its deadline with due items left; the next run continues', { due: res.due, chunks: res.chunks });

    // Stored metrics are flushed by the plumbing (handler.ts); a dimensioned one is its own blob.
    for (const kind of ['firing', 'resolved'] as const) {
      const n = res.transitions.filter((t) => t.kind === kind).length;
      if (n > 0) metrics.singleMetric().addDimension('kind', kind).addMetric(METRIC.transitions, MetricUnit.Count, n);
    }
    metrics.addMetric(METRIC.timersBacklog, MetricUnit.Count, res.backlog ? 1 : 0);

    // After the commit, so the count includes this run's resolutions. A failed count leaves a gap
    // in the graph rather than a false 0, and does not fail a run whose work is already done.
    let firing: number | undefined;
    try {
      firing = await deps.states.countFiring();
    } catch (err) {
      logger.error('could not count firing alerts; AlertsFiring not emitted this run', { error: err as Error });
    }
    if (firing !== undefined) {
      // No dimension but `service` (the dashboard searches it that way).
      metrics.addMetric(METRIC.alertsFiring, MetricUnit.Count, firing);
    }
    // Silences that ended: the firings they muted are decided again by dispatch (silence/recheck.ts).
    // A failure leaves them due for the next run.
    let rechecked: number | undefined;
    if (deps.muted) {
      try {
        rechecked = await recheckMutedAlerts({ muted: deps.muted, publisher: deps.publisher }, now);
      } catch (err) {
        logger.error('could not re-check muted alerts; they stay due for the next run', { error: err as Error });
      }
    }
    // Groups whose flush message was lost (shared/core/dispatch/group/flush.ts): scheduled again.
    let overdueGroups: number | undefined;
    if (deps.groups) {
      try {
        overdueGroups = await scheduleOverdueFlushes({ groups: deps.groups.store, scheduler: deps.groups.scheduler }, now);
        if (overdueGroups > 0) logger.warn('groups overdue for their flush (message lost); scheduled again', { count: overdueGroups });
      } catch (err) {
        logger.error('could not check overdue groups; they stay due for the next run', { error: err as Error });
      }
    }
    // Error alerts without a failure for their quiet period (shared/core/events/sequence.ts). A
    // failure leaves them due for the next run (the resolution's id does not depend on the run).
    let quietResolved: number | undefined;
    if (deps.errors) {
      try {
        const config = await deps.errors.config.current();
        const q = await resolveQuietErrors({ store: deps.errors.store, publisher: deps.publisher }, config, { nowMs: now });
        quietResolved = q.resolved;
        if (q.resolved > 0) {
          metrics.addMetric(METRIC.errorAlertsQuietResolved, MetricUnit.Count, q.resolved);
          logger.info('error alerts resolved after their quiet period', { resolved: q.resolved, fingerprints: q.transitions.slice(0, 20).map((t) => t.fingerprint) });
        }
        const n = q.transitions.length;
        if (n > 0) metrics.singleMetric().addDimension('kind', 'resolved').addMetric(METRIC.transitions, MetricUnit.Count, n);
      } catch (err) {
        logger.error('could not resolve quiet error alerts; they stay due for the next run', { error: err as Error });
      }
    }
    const { changes: _c, unresolvable: _u, tooLarge: _t, ...rest } = res;
    const result: TimersResult = { ...rest, firing, ...(deps.muted ? { rechecked } : {}), ...(deps.groups ? { overdueGroups } : {}), ...(deps.errors ? { quietResolved } : {}) };
    logger.info('timers run', { ...result, transitions: res.transitions.length });
    return result;
  };
}

/** Builds the production dependencies from the environment (module scope). */
export async function timersDepsFromEnv(env: NodeJS.ProcessEnv): Promise<TimersDeps> {
  const cfg = timersConfig(env);
  const logger = createLogger('timers');
  const metrics = createMetrics('timers');
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  return {
    rules: cachedRulesFromConfig(cfg, { dynamodb, logger, clock: systemClock }),
    states: new DynamoSeriesStateStore<SeriesState>({ client: dynamodb, table: cfg.stateTable, clock: systemClock }),
    publisher: new SqsTransitionPublisher({ client: sqs, queueUrl: cfg.alertEventsQueueUrl }),
    budget: new DynamoSeriesBudget({ client: dynamodb, table: cfg.stateTable }),
    clock: systemClock,
    logger,
    metrics,
    staleAfterMs: cfg.staleAfterMs,
    ...(cfg.alertsTable ? { muted: new DynamoMutedAlertIndex(dynamodb, cfg.alertsTable) } : {}),
    ...(cfg.groups
      ? { groups: { store: new DynamoGroupStore(dynamodb, cfg.groups.table), scheduler: new SqsFlushScheduler({ client: new SQSClient({ useQueueUrlAsEndpoint: false }), queueUrl: cfg.groups.flushQueueUrl }) } }
      : {}),
    ...(cfg.errorsTable
      ? {
          errors: {
            store: new DynamoErrorAlertStore(dynamodb, cfg.errorsTable),
            config: await eventsConfigSource(eventsLocationFromEnv(env), systemClock, (err) => logger.error('could not reload the error-events configuration; the last good one is used', { error: err as Error })),
          },
        }
      : {}),
  };
}
