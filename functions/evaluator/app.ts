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
import type { Context } from 'aws-lambda';
import type { AlertTransition, Clock, MetricSample, RejectedRecord } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import { decodeRecord, DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MAX_SAMPLE_AGE_MS } from '../../shared/core/decode/index.ts';
import type { RuleIndex } from '../../shared/core/rules/index.ts';
import { evaluateSeries, groupSamples, nextDueMs, toTransition, type SeriesBatch, type SeriesState } from '../../shared/core/evaluate/index.ts';
import { kafkaBatchResponse, partitionId, recordsOf, type KafkaBatchResponse, type MskEvent } from '../../shared/adapters/kafka/index.ts';
import { DynamoSeriesStateStore, type SeriesPut, type SeriesStateStore } from '../../shared/adapters/dynamodb/series-state-store.ts';
import { isTransientError } from '../../shared/adapters/dynamodb/batch.ts';
import { SqsSendError, SqsTransitionPublisher, type TransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { DEFAULT_REJECTED_SEND_BUDGET_MS, RejectedSendError, SqsRejectedSink, type RejectedSink } from '../../shared/adapters/sqs/rejected-sink.ts';
import { cachedRulesFromConfig, RulesUnavailableError } from '../../shared/adapters/rules/index.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { evaluatorConfig } from '../../shared/config/evaluator.ts';

/** What the handler needs; tests and local mode inject their own. */
export interface EvaluatorDeps {
  readonly rules: { current(): Promise<RuleIndex> };
  readonly states: SeriesStateStore<SeriesState>;
  readonly publisher: TransitionPublisher;
  readonly rejected: RejectedSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** A firing series with no sample for this long is resolved by the timers function (its dueAt). */
  readonly staleAfterMs: number;
  /** Rounds of re-read and re-evaluate for series another invocation advanced first (default 3). */
  readonly maxConflictRounds?: number;
  /** Event-time bounds at decode, ms (default DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MAX_SAMPLE_AGE_MS). */
  readonly eventTime?: { readonly maxFutureSkewMs: number; readonly maxAgeMs: number };
  /** Time budget for sending a batch's rejected records, ms (default DEFAULT_REJECTED_SEND_BUDGET_MS). */
  readonly rejectedBudgetMs?: number;
}

/** Thrown when series keep conflicting after every round (concurrent writers): transient, retry the batch. */
export class StateConflictError extends Error {
  override name = 'StateConflictError';
  constructor(
    readonly keys: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${keys.length} series still conflicting after retries (first: ${keys[0] ?? '-'})`, options);
  }
}

/**
 * Failures that mean "deliver these records again", as opposed to bugs (which throw). SQS entries
 * still failing for a service reason after the publisher's retries are as transient as a throttled
 * call; entries SQS refused as the sender's fault are not.
 */
function isRetryable(err: unknown): boolean {
  return (
    err instanceof StateConflictError ||
    err instanceof RulesUnavailableError ||
    err instanceof RejectedSendError ||
    (err instanceof SqsSendError && !err.senderFault) ||
    isTransientError(err)
  );
}

/** Outcome of evaluating the samples of one batch. */
interface EvaluationOutcome {
  readonly evaluated: number;
  readonly skipped: number;
  readonly transitions: AlertTransition[];
}

/** The evaluator's Lambda handler type (the Lambda context is not needed). */
export type EvaluatorHandler = (event: MskEvent, context?: unknown) => Promise<KafkaBatchResponse>;

/**
 * Builds the handler. Per batch, in this order:
 * 1. flatten the MSK event; `decodeRecord` each record into samples and rejected records;
 * 2. send rejected records to the rejected queue (a bad record never blocks its partition);
 * 3. take the rules from the cache (the source is read once per cache lifetime);
 * 4. `groupSamples` into series batches; 5. BatchGetItem their states;
 * 6. `evaluateSeries` each, `toTransition` the changes;
 * 7. publish the transitions (FIFO, dedup by transition id) — BEFORE step 8;
 * 8. write the states conditionally (version guard); series another invocation advanced meanwhile
 *    are read and evaluated again (5-8 for those keys, bounded rounds);
 * 9. metrics; return the partial batch response.
 * A transient failure in 2 fails the partitions of the rejected records, in 3-8 the partitions
 * whose records produced samples: Lambda redelivers them from the lowest offset of this batch.
 */
export function createEvaluatorHandler(deps: EvaluatorDeps): EvaluatorHandler {
  const { logger, metrics, clock } = deps;
  const maxRounds = deps.maxConflictRounds ?? 3;

  async function evaluate(samples: readonly MetricSample[]): Promise<EvaluationOutcome> {
    const index = await deps.rules.current();
    const batches = groupSamples(index, [...samples]);
    const evaluatedSamples = new Set<MetricSample>();
    for (const b of batches) for (const s of b.samples) evaluatedSamples.add(s);
    const transitions: AlertTransition[] = [];
    let skipped = 0;
    let pending: SeriesBatch[] = batches;
    for (let round = 1; pending.length > 0; round++) {
      if (round > maxRounds) throw new StateConflictError(pending.map((b) => b.stateKey));
      const stored = await deps.states.getMany(pending.map((b) => b.stateKey));
      const now = clock.now();
      const roundTransitions: AlertTransition[] = [];
      const writes: SeriesPut<SeriesState>[] = [];
      const skippedByKey = new Map<string, number>();
      for (const b of pending) {
        const prev = stored.get(b.stateKey);
        const res = evaluateSeries(b, prev?.state, { staleAfterMs: deps.staleAfterMs });
        skippedByKey.set(b.stateKey, res.skipped);
        for (const change of res.changes) {
          const t = toTransition(b.rule, change, res.state, now);
          if (t) roundTransitions.push(t);
        }
        // Nothing new for this series (a redelivered batch): no write, no request.
        if (prev && res.skipped >= b.samples.length && res.changes.length === 0) continue;
        let lastSampleMs = prev?.lastSampleMs ?? -Infinity;
        for (const s of b.samples) if (s.timestampMs > lastSampleMs) lastSampleMs = s.timestampMs;
        const dueAt = nextDueMs(b.rule, res.state, { staleAfterMs: deps.staleAfterMs });
        writes.push({
          kind: 'put',
          key: b.stateKey,
          ruleId: b.rule.id,
          labels: b.labels,
          state: res.state,
          expectedVersion: prev?.version,
          ...(Number.isFinite(lastSampleMs) ? { lastSampleMs } : {}),
          ...(dueAt !== undefined ? { dueAt } : {}),
        });
      }
      await deps.publisher.publish(roundTransitions);
      transitions.push(...roundTransitions);
      const { conflicts, tooLarge } = await deps.states.commit(writes);
      // Cannot happen within the core's bounds; if it does, that series goes unsaved rather than
      // blocking its partition forever.
      if (tooLarge.length > 0) logger.error('series state too large to store; not saved', { keys: tooLarge.slice(0, 10), count: tooLarge.length });
      const conflicted = new Set(conflicts);
      if (conflicts.length > 0) logger.info('series advanced concurrently; re-evaluating', { conflicts: conflicts.length, round });
      // Skips of a conflicted series are counted in the round that settles it.
      for (const [k, n] of skippedByKey) if (!conflicted.has(k)) skipped += n;
      pending = pending.filter((b) => conflicted.has(b.stateKey));
    }
    return { evaluated: evaluatedSamples.size, skipped, transitions };
  }

  return async (event, context) => {
    const startedAt = clock.now();
    if (context && typeof context === 'object' && 'awsRequestId' in context) logger.addContext(context as Context);
    const records = recordsOf(event);
    const samples: MetricSample[] = [];
    const rejected: RejectedRecord[] = [];
    const partitionsWithSamples = new Set<string>();
    const partitionsWithRejects = new Set<string>();
    const bounds = { nowMs: startedAt, maxFutureSkewMs: deps.eventTime?.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS, maxAgeMs: deps.eventTime?.maxAgeMs ?? DEFAULT_MAX_SAMPLE_AGE_MS };
    for (const r of records) {
      const decoded = decodeRecord(r, bounds);
      if (decoded.samples.length > 0) partitionsWithSamples.add(partitionId(r));
      if (decoded.rejected.length > 0) partitionsWithRejects.add(partitionId(r));
      for (const s of decoded.samples) samples.push(s);
      for (const x of decoded.rejected) rejected.push(x);
    }
    const failed = new Set<string>();
    const fail = (partitions: Iterable<string>, step: string, err: unknown): void => {
      if (!isRetryable(err)) throw err;
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
    // Steps 3-8.
    let outcome: EvaluationOutcome = { evaluated: 0, skipped: 0, transitions: [] };
    if (samples.length > 0) {
      try {
        outcome = await evaluate(samples);
      } catch (err) {
        fail(partitionsWithSamples, 'evaluate', err);
      }
    }

    // Step 9.
    metrics.addMetric(METRIC.recordsIn, MetricUnit.Count, records.length);
    metrics.addMetric(METRIC.recordsRejected, MetricUnit.Count, rejected.length);
    metrics.addMetric(METRIC.samplesEvaluated, MetricUnit.Count, outcome.evaluated);
    metrics.addMetric(METRIC.samplesSkipped, MetricUnit.Count, outcome.skipped);
    metrics.addMetric(METRIC.batchDuration, MetricUnit.Milliseconds, clock.now() - startedAt);
    metrics.publishStoredMetrics();
    for (const kind of ['firing', 'resolved'] as const) {
      const n = outcome.transitions.filter((t) => t.kind === kind).length;
      if (n === 0) continue;
      // One EMF blob per kind: dimensions apply to a whole blob and are cleared when it is published.
      metrics.addDimension('kind', kind);
      metrics.addMetric(METRIC.transitions, MetricUnit.Count, n);
      metrics.publishStoredMetrics();
    }
    logger.info('batch evaluated', {
      records: records.length,
      rejected: rejected.length,
      samples: samples.length,
      evaluated: outcome.evaluated,
      skipped: outcome.skipped,
      transitions: outcome.transitions.length,
      failedPartitions: [...failed],
    });
    // Every record of a failed partition: kafkaBatchResponse reports the lowest offset of each.
    return kafkaBatchResponse(failed.size === 0 ? [] : records.filter((r) => failed.has(partitionId(r))));
  };
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
    clock: systemClock,
    logger,
    metrics,
    staleAfterMs: cfg.staleAfterMs,
    eventTime: { maxFutureSkewMs: cfg.maxFutureSkewMs, maxAgeMs: cfg.maxSampleAgeMs },
  };
}
