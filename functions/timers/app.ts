/**
 * The timers function, run each minute: what no sample will ever trigger.
 * - absence: a heartbeat that stopped, or a listed expected series that never reported;
 * - staleness: a firing series whose samples stopped resolves after STALE_AFTER_SECONDS;
 * - keep_firing_for and other time-based ends the core schedules with `nextDueMs`;
 * - deleted rules: a due item whose rule is no longer in the rule source is deleted, and if its
 *   alert was firing, a `resolved` transition is published first (built from the alert identity
 *   the state keeps while firing: `deletedRuleTransition`), so dispatch resolves it everywhere the
 *   firing went. "No longer in the source" only ever means a successful read: an unreachable source
 *   either keeps the cached rules or fails the run (RulesUnavailableError), never an empty set.
 *
 * It reads only what is due: the sparse `by-due` index holds an entry only for items whose state
 * has a due time, sharded over `due#0..7`, queried with `dueAt <= now`. It never scans the series.
 * The same publish-then-commit order as the evaluator: transitions go out before the state that
 * produced them is written, so a crash in between repeats them (same ids) instead of losing them.
 *
 * Each run also emits `AlertsFiring`: the number of items in the sparse `by-firing` index (the
 * store keeps an item there exactly while its alert is firing), counted with one `Select: COUNT`
 * Query per shard, again without scanning the series.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AlertTransition, Clock } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import type { Rule, RuleIndex } from '../../shared/core/rules/index.ts';
import { advanceClock, deletedRuleTransition, expectedAbsenceSeries, initialAbsenceState, nextDueMs, toTransition, type SeriesState } from '../../shared/core/evaluate/index.ts';
import { DynamoSeriesStateStore, type FiringCounter, type SeriesStateStore, type SeriesWrite } from '../../shared/adapters/dynamodb/series-state-store.ts';
import { SqsTransitionPublisher, type TransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { cachedRulesFromConfig } from '../../shared/adapters/rules/index.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { timersConfig } from '../../shared/config/timers.ts';

/** What the handler needs; tests and local mode inject their own. */
export interface TimersDeps {
  readonly rules: { current(): Promise<RuleIndex> };
  /** Series state, and the count of firing series behind `AlertsFiring`. */
  readonly states: SeriesStateStore<SeriesState> & FiringCounter;
  readonly publisher: TransitionPublisher;
  /** Wall clock: timers act on "now", the evaluator on event time. */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly staleAfterMs: number;
}

/** What one run did (returned for tests and logs; the schedule ignores it). */
export interface TimersResult {
  /** Expected absence series created because they had no item yet. */
  readonly seeded: number;
  /** Items found due in the index. */
  readonly due: number;
  /** Items written back with a new state. */
  readonly updated: number;
  /** Items deleted (the core dropped the series, or its rule no longer exists). */
  readonly deleted: number;
  /** Firing alerts of deleted rules resolved by this run (their transitions are in `transitions`). */
  readonly deletedRuleResolutions: number;
  /** Items another invocation changed meanwhile (left for the next run). */
  readonly conflicts: number;
  readonly transitions: readonly AlertTransition[];
  /** Alerts firing after this run's writes (the `AlertsFiring` value); undefined when the count failed. */
  readonly firing: number | undefined;
}

/** The timers' Lambda handler type (the scheduled event carries nothing used). */
export type TimersHandler = (event?: unknown, context?: unknown) => Promise<TimersResult>;

/**
 * Builds the handler. Per run, in this order:
 * 1. rules from the cache;
 * 2. seed listed expected absence series that have no item yet (read once per container, then
 *    conditional put `attribute_not_exists`, so a concurrent run or the evaluator cannot be overwritten);
 * 3. query every due shard of `by-due` for `dueAt <= now` (paginated) and BatchGetItem those items;
 * 4. `advanceClock` each with the wall clock; `toTransition` the changes; an item whose rule is
 *    gone is to be deleted, with a `resolved` transition if its alert was firing;
 * 5. publish the transitions — BEFORE step 6;
 * 6. write or delete each item conditionally on the version read; a conflict means the evaluator
 *    advanced that series meanwhile: it is left as is, and the next run sees its new due time;
 * 7. count the by-firing index and emit `AlertsFiring` (dimension `service` only).
 */
export function createTimersHandler(deps: TimersDeps): TimersHandler {
  const { logger, metrics, clock } = deps;
  const opts = { staleAfterMs: deps.staleAfterMs };
  // Expected series known to have an item (per container): avoids reading them every minute.
  const known = new Set<string>();

  async function seedExpected(rules: readonly Rule[], now: number): Promise<number> {
    const wanted = new Map<string, { rule: Rule; labels: Record<string, string> }>();
    for (const rule of rules) {
      if (rule.kind !== 'absence') continue;
      for (const s of expectedAbsenceSeries(rule)) if (!known.has(s.stateKey)) wanted.set(s.stateKey, { rule, labels: { ...s.labels } });
    }
    if (wanted.size === 0) return 0;
    const existing = await deps.states.getMany([...wanted.keys()]);
    const writes: SeriesWrite<SeriesState>[] = [];
    for (const [key, { rule, labels }] of wanted) {
      if (existing.has(key)) continue;
      const state = initialAbsenceState(rule, now);
      const dueAt = nextDueMs(rule, state, opts);
      writes.push({ kind: 'put', key, ruleId: rule.id, labels, state, expectedVersion: undefined, ...(dueAt !== undefined ? { dueAt } : {}) });
    }
    await deps.states.commit(writes);
    for (const key of wanted.keys()) known.add(key);
    return writes.length;
  }

  return async () => {
    const now = clock.now();
    const index = await deps.rules.current();
    const rulesById = new Map(index.rules.map((r) => [r.id, r]));
    const seeded = await seedExpected(index.rules, now);

    const dueKeys = await deps.states.dueKeys(now);
    const items = await deps.states.getMany(dueKeys);
    const transitions: AlertTransition[] = [];
    const writes: SeriesWrite<SeriesState>[] = [];
    let deletedRuleResolutions = 0;
    for (const item of items.values()) {
      // The index is eventually consistent: skip an item that is no longer due.
      if (item.dueAt === undefined || item.dueAt > now) continue;
      const rule = rulesById.get(item.ruleId);
      if (!rule) {
        // The rule was deleted: its series state means nothing any more, but a firing alert must
        // not stay firing downstream forever. Published before the delete (below), like any
        // transition: a crash in between resolves again next run, and dispatch drops the repeat
        // (`already-resolved`).
        const t = deletedRuleTransition(item.ruleId, item.state, now);
        if (t) {
          transitions.push(t);
          deletedRuleResolutions++;
        } else if (item.state.state === 'firing') {
          // Written before the alert identity was kept: nothing to resolve it with.
          logger.warn('firing alert of a deleted rule has no stored identity; deleted without a resolution', { key: item.key, ruleId: item.ruleId });
        }
        writes.push({ kind: 'delete', key: item.key, expectedVersion: item.version });
        continue;
      }
      const res = advanceClock(rule, item.labels, item.state, now, opts);
      for (const change of res.changes) {
        const t = toTransition(rule, change, res.state ?? item.state, now);
        if (t) transitions.push(t);
      }
      if (res.state === undefined) {
        writes.push({ kind: 'delete', key: item.key, expectedVersion: item.version });
        continue;
      }
      const dueAt = nextDueMs(rule, res.state, opts);
      // Nothing changed and the due time stands: writing would change nothing.
      if (res.state === item.state && dueAt === item.dueAt) continue;
      writes.push({
        kind: 'put',
        key: item.key,
        ruleId: item.ruleId,
        labels: item.labels,
        state: res.state,
        expectedVersion: item.version,
        ...(item.lastSampleMs !== undefined ? { lastSampleMs: item.lastSampleMs } : {}),
        ...(dueAt !== undefined ? { dueAt } : {}),
      });
    }
    await deps.publisher.publish(transitions);
    const { conflicts, tooLarge } = await deps.states.commit(writes);
    if (tooLarge.length > 0) logger.error('series state too large to store; not saved', { keys: tooLarge.slice(0, 10), count: tooLarge.length });
    for (const w of writes) if (w.kind === 'delete') known.delete(w.key);

    for (const kind of ['firing', 'resolved'] as const) {
      const n = transitions.filter((t) => t.kind === kind).length;
      if (n === 0) continue;
      // One EMF blob per kind: dimensions apply to a whole blob and are cleared when it is published.
      metrics.addDimension('kind', kind);
      metrics.addMetric(METRIC.transitions, MetricUnit.Count, n);
      metrics.publishStoredMetrics();
    }
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();

    // After the commit, so the count includes this run's resolutions. A failed count leaves a gap
    // in the graph rather than a false 0, and does not fail a run whose work is already done.
    let firing: number | undefined;
    try {
      firing = await deps.states.countFiring();
    } catch (err) {
      logger.error('could not count firing alerts; AlertsFiring not emitted this run', { error: err as Error });
    }
    if (firing !== undefined) {
      // Its own blob, with no dimension but `service` (the dashboard searches it that way).
      metrics.addMetric(METRIC.alertsFiring, MetricUnit.Count, firing);
      metrics.publishStoredMetrics();
    }
    const result: TimersResult = {
      seeded,
      due: items.size,
      updated: writes.filter((w) => w.kind === 'put').length - conflicts.length,
      deleted: writes.filter((w) => w.kind === 'delete').length,
      deletedRuleResolutions,
      conflicts: conflicts.length,
      transitions,
      firing,
    };
    logger.info('timers run', { ...result, transitions: transitions.length });
    return result;
  };
}

/** Builds the production dependencies from the environment (module scope). */
export async function timersDepsFromEnv(env: NodeJS.ProcessEnv): Promise<TimersDeps> {
  const cfg = timersConfig(env);
  const logger = createLogger('timers');
  const metrics = createMetrics('timers');
  const dynamodb = new DynamoDBClient({});
  return {
    rules: cachedRulesFromConfig(cfg, { dynamodb, logger, clock: systemClock }),
    states: new DynamoSeriesStateStore<SeriesState>({ client: dynamodb, table: cfg.stateTable, clock: systemClock }),
    publisher: new SqsTransitionPublisher({ client: new SQSClient({}), queueUrl: cfg.alertEventsQueueUrl }),
    clock: systemClock,
    logger,
    metrics,
    staleAfterMs: cfg.staleAfterMs,
  };
}
