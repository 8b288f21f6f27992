/**
 * The evaluator function: an MSK batch of metric records in, alert transitions out.
 *
 * The order of the steps is the contract (see {@link createEvaluatorHandler}): transitions are
 * published BEFORE the series state that produced them is written. If the function dies between
 * any two I/O calls, the batch is delivered again, the old state is read again, the same
 * transitions (same transition ids) are computed and published again, and SQS FIFO deduplication
 * plus downstream idempotency on the transition id make the repeat harmless. Writing state first
 * would lose a transition on a crash before the publish.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock, MetricSample, RejectedRecord } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import { decodeRecord, DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MAX_SAMPLE_AGE_MS } from '../../shared/core/decode/index.ts';
import type { RuleIndex } from '../../shared/core/rules/index.ts';
import type { SeriesState } from '../../shared/core/evaluate/index.ts';
import { failureAction, TransientError } from '../../shared/core/errors/index.ts';
import {
  DEFAULT_SERIES_LIMIT_PER_RULE,
  evaluateBatch,
  evaluatePartitionBatch,
  SKIPPED_SERIES_LOGGED,
  StateConflictError,
  type EvaluateBatchResult,
  PartitionMemory,
  type SampleLog,
  type SeriesBudget,
  type SeriesStateStore,
  type TransitionPublisher,
  type ViewStatus,
} from '../../shared/core/sequence/index.ts';
import { kafkaBatchResponse, partitionId, recordsOf, type KafkaBatchResponse, type MskEvent } from '../../shared/adapters/kafka/index.ts';
import { DynamoSeriesStateStore } from '../../shared/adapters/dynamodb/series-state-store.ts';
import { DynamoSeriesBudget } from '../../shared/adapters/dynamodb/series-budget.ts';
import { DynamoSampleLog } from '../../shared/adapters/dynamodb/sample-log.ts';
import { isTransientError } from '../../shared/adapters/dynamodb/batch.ts';
import { SqsTransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { DEFAULT_REJECTED_SEND_BUDGET_MS, RejectedSendError, SqsRejectedSink, type RejectedSink } from '../../shared/adapters/sqs/rejected-sink.ts';
import { cachedRulesFromConfig } from '../../shared/adapters/rules/index.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { evaluatorConfig } from '../../shared/config/evaluator.ts';
import { applyJobEvents, type ErrorAlertStore, type JobEventsResult, type SourcedEvent } from '../../shared/core/events/sequence.ts';
import { classificationLog, metricDimensions } from '../../shared/core/events/classify.ts';
import { ERROR_ALERT_REASON_TEXT } from '../../shared/core/events/alerting.ts';
import { DynamoErrorAlertStore } from '../../shared/adapters/dynamodb/error-alert-store.ts';
import { eventsConfigSource, eventsLocationFromEnv, type EventsConfigSource } from '../../shared/adapters/events/events-source.ts';

/** What the handler needs; tests and local mode inject their own. */
export interface EvaluatorDeps {
  readonly rules: { current(): Promise<RuleIndex> };
  readonly states: SeriesStateStore<SeriesState>;
  readonly publisher: TransitionPublisher;
  readonly rejected: RejectedSink;
  /** The per-rule series counters behind the cardinality limit. */
  readonly budget: SeriesBudget;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** A firing series with no sample for this long is resolved by the timers function (its dueAt). */
  readonly staleAfterMs: number;
  /** Series a rule may hold unless it sets its own `seriesLimit` (default 10,000). */
  readonly seriesLimitPerRule?: number;
  /** Rounds of re-read and re-evaluate for series another invocation advanced first (default 3). */
  readonly maxConflictRounds?: number;
  /** Event-time bounds at decode, ms (default DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MAX_SAMPLE_AGE_MS). */
  readonly eventTime?: { readonly maxFutureSkewMs: number; readonly maxAgeMs: number };
  /** Time budget for sending a batch's rejected records, ms (default DEFAULT_REJECTED_SEND_BUDGET_MS). */
  readonly rejectedBudgetMs?: number;
  /**
   * Whether the event source acts on a partial batch response (default true: MSK in provisioned mode,
   * local mode). MSK in on-demand mode ignores it (ReportBatchItemFailures is provisioned-only) and
   * would commit the failed partitions' offsets; with `false` a transient failure fails the
   * invocation instead, and Lambda delivers the whole batch again (safe: evaluation is idempotent).
   */
  readonly partialBatchResponse?: boolean;
  /**
   * Windows as derived data (docs/design.md): windows kept in this instance's memory per
   * partition and rebuilt from the sample log; the table keeps alert states. Absent: windows are
   * stored in each series item (any partitioning of the topic).
   */
  readonly derived?: { readonly log: SampleLog };
  /**
   * Job events (docs/events.md): the error alerts' store and the classification, fingerprint and
   * quiet-period configuration. Absent: job events are quarantined on the rejected queue with a
   * reason that says so (nothing is dropped).
   */
  readonly events?: { readonly store: ErrorAlertStore; readonly config: EventsConfigSource };
}

export { StateConflictError };

/** The evaluator's Lambda handler type (the Lambda context is not needed). */
export type EvaluatorHandler = (event: MskEvent, context?: unknown) => Promise<KafkaBatchResponse>;

const EMPTY_RESULT: EvaluateBatchResult = { evaluated: 0, skipped: 0, future: 0, skippedSeries: [], changes: [], transitions: [], limited: [], tooLarge: [] };

/** The results of several partitions' runs as one. */
function mergeResults(a: EvaluateBatchResult, b: EvaluateBatchResult): EvaluateBatchResult {
  return {
    evaluated: a.evaluated + b.evaluated,
    skipped: a.skipped + b.skipped,
    future: a.future + b.future,
    skippedSeries: [...a.skippedSeries, ...b.skippedSeries].slice(0, SKIPPED_SERIES_LOGGED),
    changes: [...a.changes, ...b.changes],
    transitions: [...a.transitions, ...b.transitions],
    limited: [...a.limited, ...b.limited],
    tooLarge: [...a.tooLarge, ...b.tooLarge],
  };
}

/** One partition's part of a batch. */
interface PartitionPart {
  readonly startOffset: number;
  endOffset: number;
  readonly samples: MetricSample[];
}

/**
 * Builds the handler. Per batch, in this order:
 * 1. flatten the MSK event; `decodeRecord` each record into samples and rejected records;
 * 2. send rejected records to the rejected queue (a bad record never blocks its partition);
 * 3. take the rules from the cache (the source is read once per cache lifetime);
 * 4. `evaluateBatch` (shared/core/sequence): group, read states, evaluate, publish, then commit —
 *    the one evaluation sequence, which replays run too;
 * 5. metrics and logs; return the partial batch response.
 * Failures follow the one policy of shared/core/errors: a transient failure in 2 fails the
 * partitions of the rejected records, in 3-4 the partitions whose records produced samples
 * (Lambda redelivers them from the lowest offset of this batch); anything else fails the batch.
 */
export function createEvaluatorHandler(deps: EvaluatorDeps): EvaluatorHandler {
  const { logger, metrics, clock } = deps;
  const ports = { states: deps.states, publisher: deps.publisher, budget: deps.budget };
  // This instance's memory of the partitions it evaluated (it lives as long as the handler: the
  // execution environment).
  const derived = deps.derived ? { log: deps.derived.log, memory: new PartitionMemory({ log: deps.derived.log, table: deps.states }) } : undefined;

  const batchOptions = (nowMs: number) => ({
    nowMs,
    staleAfterMs: deps.staleAfterMs,
    maxFutureSkewMs: deps.eventTime?.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS,
    seriesLimitPerRule: deps.seriesLimitPerRule ?? DEFAULT_SERIES_LIMIT_PER_RULE,
    ...(deps.maxConflictRounds !== undefined ? { maxConflictRounds: deps.maxConflictRounds } : {}),
  });

  async function evaluate(samples: readonly MetricSample[]): Promise<EvaluateBatchResult> {
    const index = await deps.rules.current();
    return await evaluateBatch(ports, index, samples, batchOptions(clock.now()));
  }

  /** Derived windows: one partition's batch through the one sequence of shared/core/sequence/derived.ts. */
  async function evaluatePartition(derived: { log: SampleLog; memory: PartitionMemory }, partition: string, part: PartitionPart, rebuilt: Map<ViewStatus, number>): Promise<EvaluateBatchResult> {
    const index = await deps.rules.current().catch((err: unknown) => {
      derived.memory.drop(partition);
      throw err;
    });
    const result = await evaluatePartitionBatch({ ...ports, log: derived.log, memory: derived.memory }, index, { partition, ...part }, batchOptions(clock.now()));
    const { status, segmentsRead, samplesFolded } = result.view;
    rebuilt.set(status, (rebuilt.get(status) ?? 0) + 1);
    if (status !== 'current') logger.info('partition windows brought up to date from the sample log', { partition, how: status, segments: segmentsRead, samples: samplesFolded });
    return result;
  }

  return async (event) => {
    const startedAt = clock.now();
    const records = recordsOf(event);
    const samples: MetricSample[] = [];
    const rejected: RejectedRecord[] = [];
    const partitionsWithSamples = new Set<string>();
    const partitionsWithRejects = new Set<string>();
    const jobEvents: SourcedEvent[] = [];
    const parts = new Map<string, PartitionPart>();
    let samplesRejected = 0;
    const bounds = { nowMs: startedAt, maxFutureSkewMs: deps.eventTime?.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS, maxAgeMs: deps.eventTime?.maxAgeMs ?? DEFAULT_MAX_SAMPLE_AGE_MS };
    for (const r of records) {
      const decoded = decodeRecord(r, bounds);
      const pid = partitionId(r);
      let part = parts.get(pid);
      if (!part) parts.set(pid, (part = { startOffset: r.offset, endOffset: r.offset + 1, samples: [] }));
      part.endOffset = r.offset + 1;
      for (const s of decoded.samples) part.samples.push(s);
      if (decoded.samples.length > 0) partitionsWithSamples.add(pid);
      if (decoded.rejected.length > 0) partitionsWithRejects.add(partitionId(r));
      for (const s of decoded.samples) samples.push(s);
      for (const x of decoded.rejected) rejected.push(x);
      samplesRejected += decoded.rejectedSamples;
      for (const [index, e] of decoded.events.entries()) {
        if (deps.events) jobEvents.push({ event: e, partition: pid, offset: r.offset, index });
        else {
          // Not configured here: quarantined whole, to be replayed (never dropped).
          rejected.push({ source: { topic: r.topic, partition: r.partition, offset: r.offset, timestampMs: r.timestamp }, reason: `job event (kind ${e.kind}, ${e.source}/${e.service}/${e.task}): this evaluator has no error-events store configured; quarantined to be replayed`, raw: JSON.stringify(e).slice(0, 2000), rawTruncated: false });
          partitionsWithRejects.add(pid);
        }
      }
    }
    const failed = new Set<string>();
    const fail = (partitions: Iterable<string>, step: string, err: unknown): void => {
      if (failureAction(err, isTransientError) !== 'retry') throw err;
      const list = [...partitions];
      for (const p of list) failed.add(p);
      logger.warn('transient failure; partitions will be redelivered', { step, partitions: list, error: err as Error });
    };

    // Step 2: quarantine bad input first (cheap, independent of the rules and state).
    if (rejected.length > 0) {
      // A few examples in the log; the queue has them all.
      logger.warn('records rejected', {
        rejected: rejected.length,
        examples: rejected.slice(0, 3).map((r) => ({ partition: partitionId(r.source), offset: r.source.offset, reason: r.reason })),
      });
      try {
        await deps.rejected.send(rejected, { signal: AbortSignal.timeout(deps.rejectedBudgetMs ?? DEFAULT_REJECTED_SEND_BUDGET_MS) });
      } catch (err) {
        // Only the partitions of records that did not make it are delivered again.
        fail(err instanceof RejectedSendError ? err.unsent.map((x) => partitionId(x.source)) : partitionsWithRejects, 'rejected', err);
      }
    }
    // Job events (shared/core/events/sequence.ts), before the samples: a partition whose events
    // must come again is then not evaluated past them (derived windows stay consistent).
    let eventsOutcome: JobEventsResult | undefined;
    if (deps.events && jobEvents.length > 0) {
      const todo = jobEvents.filter((e) => !failed.has(e.partition!));
      try {
        const config = await deps.events.config.current();
        eventsOutcome = await applyJobEvents({ store: deps.events.store, publisher: deps.publisher }, config, todo, { nowMs: clock.now() });
      } catch (err) {
        fail(new Set(todo.map((e) => e.partition!)), 'events', err);
      }
    }
    // Steps 3-8.
    let outcome: EvaluateBatchResult = EMPTY_RESULT;
    const rebuilt = new Map<ViewStatus, number>();
    if (derived) {
      for (const [pid, part] of parts) {
        // A partition whose rejected records must come again is not evaluated past them.
        if (failed.has(pid)) {
          derived.memory.drop(pid);
          continue;
        }
        if (part.samples.length === 0) {
          derived.memory.advance(pid, part.startOffset, part.endOffset);
          continue;
        }
        try {
          outcome = mergeResults(outcome, await evaluatePartition(derived, pid, part, rebuilt));
        } catch (err) {
          fail([pid], 'evaluate', err);
        }
      }
    } else if (samples.length > 0) {
      try {
        outcome = await evaluate(samples);
      } catch (err) {
        fail(partitionsWithSamples, 'evaluate', err);
      }
    }

    // Step 9.
    if (eventsOutcome) reportEvents(eventsOutcome, jobEvents, deps);
    metrics.addMetric(METRIC.recordsIn, MetricUnit.Count, records.length);
    metrics.addMetric(METRIC.recordsRejected, MetricUnit.Count, rejected.length);
    metrics.addMetric(METRIC.samplesRejected, MetricUnit.Count, samplesRejected);
    metrics.addMetric(METRIC.samplesEvaluated, MetricUnit.Count, outcome.evaluated);
    metrics.addMetric(METRIC.samplesSkipped, MetricUnit.Count, outcome.skipped);
    metrics.addMetric(METRIC.samplesFuture, MetricUnit.Count, outcome.future);
    metrics.addMetric(METRIC.seriesLimited, MetricUnit.Count, outcome.limited.reduce((n, l) => n + l.refusedSeries, 0));
    metrics.addMetric(METRIC.batchDuration, MetricUnit.Milliseconds, clock.now() - startedAt);
    for (const how of ['rebuilt', 'caught-up'] as const) {
      const n = rebuilt.get(how) ?? 0;
      if (n > 0) metrics.singleMetric().addDimension('how', how).addMetric(METRIC.windowsRebuilt, MetricUnit.Count, n);
    }
    // The stored metrics above are flushed by the plumbing (handler.ts); a dimensioned one is its own blob.
    // Metric alerts' transitions and error alerts' alike.
    const transitions = [...outcome.transitions, ...(eventsOutcome?.transitions ?? [])];
    for (const kind of ['firing', 'resolved'] as const) {
      const n = transitions.filter((t) => t.kind === kind).length;
      if (n > 0) metrics.singleMetric().addDimension('kind', kind).addMetric(METRIC.transitions, MetricUnit.Count, n);
    }
    for (const l of outcome.limited) {
      logger.error(`rule ${l.ruleId} reached its series limit (${l.limit}): ${l.refusedSeries} new series refused${l.explodingLabel ? `; label ${l.explodingLabel} has ${l.distinctValues} distinct values among them` : ''}`, { ...l });
    }
    // Cannot happen within the core's bounds; if it does, that series goes unsaved rather than
    // blocking its partition forever.
    if (outcome.tooLarge.length > 0) logger.error('series state too large to store; not saved', { keys: outcome.tooLarge.slice(0, 10), count: outcome.tooLarge.length });
    logger.info('batch evaluated', {
      records: records.length,
      rejected: rejected.length,
      samples: samples.length,
      evaluated: outcome.evaluated,
      skipped: outcome.skipped,
      ...(outcome.skipped > 0 ? { skippedSeries: outcome.skippedSeries } : {}),
      future: outcome.future,
      transitions: outcome.transitions.length,
      ...(jobEvents.length > 0 ? { jobEvents: jobEvents.length, errorAlertTransitions: eventsOutcome?.transitions.length ?? 0 } : {}),
      failedPartitions: [...failed],
    });
    if (failed.size > 0 && deps.partialBatchResponse === false) {
      throw new TransientError(`transient failure in partitions ${[...failed].join(', ')}; the whole batch is delivered again (partial batch responses are off)`);
    }
    // Every record of a failed partition: kafkaBatchResponse reports the lowest offset of each.
    return kafkaBatchResponse(failed.size === 0 ? [] : records.filter((r) => failed.has(partitionId(r))));
  };
}

/**
 * Logs and counts what the job events did: every classification decision with its rule and the
 * conditions that held (to analyse and tune the rules), every error-alert change with its reason,
 * and the counts by kind, and by severity and rule.
 */
function reportEvents(res: JobEventsResult, events: readonly SourcedEvent[], deps: Pick<EvaluatorDeps, 'logger' | 'metrics'>): void {
  const { logger, metrics } = deps;
  for (const c of res.classified) {
    // `service` and `timestamp` are the logger's own keys (the function, the log time): renamed.
    const { message, service, timestamp, ...fields } = classificationLog(c.decision, c.event);
    logger.info(message, { ...fields, jobService: service, eventTime: timestamp, fingerprint: c.id.fingerprint, normalized: c.id.normalized, ...(c.id.rule !== undefined ? { fingerprintRule: c.id.rule } : {}) });
  }
  for (const ch of res.changes) {
    if (ch.reason === 'occurrence' || ch.reason === 'late-occurrence') continue; // counted in the state; the decision above is logged
    logger.info('error alert changed', { fingerprint: ch.fingerprint, reason: ch.reason, why: ch.reason === 'duplicate' ? 'the event was applied already (a batch delivered again)' : ERROR_ALERT_REASON_TEXT[ch.reason], ...(ch.transition ? { transition: ch.transition.kind, transitionId: ch.transition.transitionId, severity: ch.transition.severity } : {}) });
  }
  for (const kind of ['error', 'success'] as const) {
    const n = events.filter((e) => e.event.kind === kind).length;
    if (n > 0) metrics.singleMetric().addDimension('kind', kind).addMetric(METRIC.jobEventsIn, MetricUnit.Count, n);
  }
  const counts = new Map<string, { severity: string; rule: string; n: number }>();
  for (const c of res.classified) {
    const d = metricDimensions(c.decision);
    const k = `${d.severity}\u0000${d.rule}`;
    const cur = counts.get(k);
    if (cur) cur.n++;
    else counts.set(k, { ...d, n: 1 });
  }
  for (const { severity, rule, n } of counts.values()) metrics.singleMetric().addDimensions({ severity, rule }).addMetric(METRIC.errorEventsClassified, MetricUnit.Count, n);
}

/** Builds the production dependencies from the environment (module scope: clients live across invocations). */
export async function evaluatorDepsFromEnv(env: NodeJS.ProcessEnv): Promise<EvaluatorDeps> {
  const cfg = evaluatorConfig(env);
  const logger = createLogger('evaluator');
  const metrics = createMetrics('evaluator');
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  return {
    rules: cachedRulesFromConfig(cfg, { dynamodb, logger, clock: systemClock }),
    states: new DynamoSeriesStateStore<SeriesState>({ client: dynamodb, table: cfg.stateTable, clock: systemClock }),
    publisher: new SqsTransitionPublisher({ client: sqs, queueUrl: cfg.alertEventsQueueUrl }),
    rejected: new SqsRejectedSink({ client: sqs, queueUrl: cfg.rejectedQueueUrl }),
    budget: new DynamoSeriesBudget({ client: dynamodb, table: cfg.stateTable }),
    clock: systemClock,
    logger,
    metrics,
    staleAfterMs: cfg.staleAfterMs,
    seriesLimitPerRule: cfg.seriesLimitPerRule,
    eventTime: { maxFutureSkewMs: cfg.maxFutureSkewMs, maxAgeMs: cfg.maxSampleAgeMs },
    partialBatchResponse: cfg.partialBatchResponse,
    ...(cfg.windows === 'derived' ? { derived: { log: new DynamoSampleLog({ client: dynamodb, table: cfg.sampleLogTable }) } } : {}),
    ...(cfg.errorsTable
      ? {
          events: {
            store: new DynamoErrorAlertStore(dynamodb, cfg.errorsTable),
            config: await eventsConfigSource(eventsLocationFromEnv(env), systemClock, (err) => logger.error('could not reload the error-events configuration; the last good one is used', { error: err as Error })),
          },
        }
      : {}),
  };
}
