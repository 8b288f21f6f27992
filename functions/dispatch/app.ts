/**
 * The dispatch function: alert transitions from the alert-events FIFO queue in, notification jobs
 * on the per-channel FIFO queues out. Wiring and I/O only: the pipeline itself (dedup → route →
 * escalate → channels → throttle → record → publish → commit) is declared in
 * shared/core/dispatch/pipeline.ts and described in docs/design.md ("The notification pipeline").
 *
 * Per SQS record: parse and validate the transition (a message that is not a valid transition is
 * dead-lettered at once with the reason: it would fail the same way on every receive), then
 * `dispatchTransition` (core): read the alert record (1 GetItem), decide, publish the jobs
 * (SendMessageBatch per channel), commit the record (1 conditional UpdateItem); on a version
 * conflict it reads and decides again, at most `maxAttempts` times.
 *
 * Errors go through the one policy (shared/core/errors `failureAction`, with the AWS SDK's
 * transient check), applied in one place (`onRecordError`):
 * - permanent (an invalid transition, jobs SQS refuses for their content): dead-lettered at once
 *   with the reason; the batch goes on;
 * - transient (throttling, a version conflict that outlasted `maxAttempts`, SQS down): the record
 *   fails (SQS batch item failure); with a FIFO queue, the later records of the same message group
 *   fail with it so an alert's transitions stay in order (Powertools
 *   `SqsFifoPartialProcessorAsync` with `skipGroupOnError`: other alerts' records go on);
 * - anything else is a bug: the records not yet processed are handed back and the invocation
 *   fails, so Lambda redelivers the batch (publish-then-commit makes that safe).
 * Metrics are flushed by the `logMetrics` middleware (handler.ts), not here.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DISPATCH_REASON_TEXT, type DispatchConfig, type DispatchDecision } from '../../shared/core/dispatch/context.ts';
import { dispatchTransition as runDispatchPipeline, DispatchConflictError } from '../../shared/core/dispatch/pipeline.ts';
import type { SilenceStore } from '../../shared/core/dispatch/silence/ports.ts';
import type { AlertStore, DeadLetterSender, InhibitionStore, JobPublisher, ReleasePublisher, RoutesSource, SilenceSource } from '../../shared/core/dispatch/ports.ts';
import { dispatchAction, dispatchNote, dispatchRelease } from '../../shared/core/dispatch/pipeline.ts';
import { ACTION_REFUSAL_TEXT, InvalidActionError, isActionDocument, isNoteDocument, parseActionMessage, parseNoteMessage, type ActionMessage, type NoteMessage } from '../../shared/core/lifecycle/action.ts';
import type { ActionOutcome } from '../../shared/core/dispatch/ack/index.ts';
import type { HistoryStore } from '../../shared/core/history/types.ts';
import { InvalidReleaseError, isReleaseDocument, RELEASE_CAUSE_TEXT, toReleaseMessage, type ReleaseMessage } from '../../shared/core/dispatch/inhibit/release.ts';
import { DynamoInhibitionStore } from '../../shared/adapters/dynamodb/inhibition-store.ts';
import { SqsReleasePublisher } from '../../shared/adapters/sqs/release-publisher.ts';
import { CachedSilences } from '../../shared/core/dispatch/silence/cache.ts';
import { DynamoSilenceStore } from '../../shared/adapters/dynamodb/silence-store.ts';
import { InvalidTransitionError, parseTransition } from '../../shared/core/dispatch/transition-schema.ts';
import { errorMessage, failureAction, FAILURE_ACTION_TEXT } from '../../shared/core/errors/index.ts';
import { redactSecrets } from '../../shared/core/deliver/redact.ts';
import type { AlertTransition, Clock } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { isTransientError } from '../../shared/adapters/dynamodb/batch.ts';
import { SqsDeadLetterSender, SqsJobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { routesSourceFromSettings } from '../../shared/adapters/routes/routes-source.ts';
import { DynamoGroupStore } from '../../shared/adapters/dynamodb/group-store.ts';
import { SqsFlushScheduler } from '../../shared/adapters/sqs/flush-scheduler.ts';
import type { FlushScheduler, GroupStore } from '../../shared/core/dispatch/group/ports.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { readDispatchSettings } from '../../shared/config/dispatch.ts';
import { DynamoHistoryStore } from '../../shared/adapters/dynamodb/history-store.ts';
import { meteredHistory } from '../../shared/adapters/observability/history-metrics.ts';
import { SqsRemediationQueue } from '../../shared/adapters/remediate/queue.ts';
import type { RemediationRequestPublisher } from '../../shared/core/dispatch/remediate/index.ts';

/** What the handler needs; tests and local mode inject their own. */
export interface DispatchDeps {
  readonly store: AlertStore;
  readonly publisher: JobPublisher;
  readonly deadLetter: DeadLetterSender;
  readonly routes: RoutesSource;
  /** Inhibit items (alerts table); needed when the routes config has `inhibit_rules`. */
  readonly inhibitions?: InhibitionStore;
  /** Releases of held notifications (alert-events queue); needed when the routes config has `inhibit_rules`. */
  readonly releases?: ReleasePublisher;
  /** Silences (cached a few seconds; absent: none). */
  readonly silences?: SilenceSource;
  /** Where "until resolved" silences are expired when their alert resolves (absent: they run to their end). */
  readonly silenceStore?: SilenceStore;
  /** Notification groups and their flush scheduling; needed when a route sets `group_by`. */
  readonly groups?: GroupStore;
  readonly flushes?: FlushScheduler;
  /** The alert history (docs/incidents.md); absent: nothing recorded. */
  readonly history?: HistoryStore;
  /** Auto-remediation requests (docs/remediation.md); absent: none are made. */
  readonly remediations?: RemediationRequestPublisher;
  readonly config: DispatchConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Read-decide-publish-commit rounds on version conflicts (default 3). */
  readonly maxAttempts?: number;
  /** Which thrown errors are transient (default: the AWS SDK's, {@link isTransientError}). */
  readonly isTransient?: (err: unknown) => boolean;
}

/** The dispatch Lambda handler (SQS event, partial batch response). */
export type DispatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** The record kept changing under us for every attempt (transient: the message is received again). Declared in core. */
export { DispatchConflictError };

/** A MessageGroupId for a dead-lettered body: its fingerprint when it has a usable one. */
function groupIdOf(body: string): string {
  try {
    const fp = (JSON.parse(body) as { fingerprint?: unknown }).fingerprint;
    if (typeof fp === 'string' && /^[\w\-.:]{1,128}$/.test(fp)) return fp;
  } catch {
    // Not JSON: the fixed group below.
  }
  return 'invalid';
}

/**
 * Runs the dispatch pipeline (shared/core/dispatch/pipeline.ts) for one transition with these
 * dependencies as its ports. Returns the decision that was committed (or the no-op one).
 */
export async function dispatchTransition(deps: DispatchDeps, t: AlertTransition): Promise<DispatchDecision> {
  return runDispatchPipeline(portsOf(deps), t, {
    config: deps.config,
    ...(deps.maxAttempts !== undefined ? { maxAttempts: deps.maxAttempts } : {}),
    onConflict: (attempt) => deps.logger.info('alert record changed since read; deciding again', { fingerprint: t.fingerprint, transitionId: t.transitionId, attempt }),
    onGroupFull: (group) => deps.logger.warn('notification group full (DynamoDB item limit): this alert is notified on its own', { fingerprint: t.fingerprint, group }),
  });
}

/** The pipeline's ports from the handler's dependencies. */
function portsOf(deps: DispatchDeps): Parameters<typeof runDispatchPipeline>[0] & { history?: HistoryStore } {
  return {
    alerts: deps.store,
    jobs: deps.publisher,
    routes: deps.routes,
    clock: deps.clock,
    ...(deps.inhibitions ? { inhibitions: deps.inhibitions } : {}),
    ...(deps.releases ? { releases: deps.releases } : {}),
    ...(deps.silences ? { silences: deps.silences } : {}),
    ...(deps.groups ? { groups: deps.groups } : {}),
    ...(deps.flushes ? { flushes: deps.flushes } : {}),
    ...(deps.history ? { history: deps.history } : {}),
    ...(deps.silenceStore ? { silenceStore: deps.silenceStore } : {}),
    ...(deps.remediations ? { remediations: deps.remediations } : {}),
  };
}

/** Runs a release (a held notification whose inhibition ended) through the pipeline; undefined when nothing was held. */
export async function dispatchReleaseMessage(deps: DispatchDeps, r: ReleaseMessage): Promise<DispatchDecision | undefined> {
  return dispatchRelease(portsOf(deps), r, {
    config: deps.config,
    ...(deps.maxAttempts !== undefined ? { maxAttempts: deps.maxAttempts } : {}),
    onConflict: (attempt) => deps.logger.info('alert record changed since read; deciding again', { fingerprint: r.fingerprint, release: r.by, attempt }),
  });
}

/** Applies an action message (a person acknowledged or took it back: docs/incidents.md) to its alert. */
export async function dispatchActionMessage(deps: DispatchDeps, a: ActionMessage): Promise<ActionOutcome> {
  return dispatchAction(portsOf(deps), a, {
    config: deps.config,
    ...(deps.maxAttempts !== undefined ? { maxAttempts: deps.maxAttempts } : {}),
    onConflict: (attempt) => deps.logger.info('alert record changed since read; deciding the action again', { fingerprint: a.fingerprint, action: a.action, attempt }),
  });
}

/** An alert-events message: a transition (the evaluator's), a release (dispatch's own), or an action (a person's). */
export type AlertEventMessage =
  | { readonly kind: 'transition'; readonly transition: AlertTransition }
  | { readonly kind: 'release'; readonly release: ReleaseMessage }
  | { readonly kind: 'action'; readonly action: ActionMessage }
  | { readonly kind: 'note'; readonly note: NoteMessage };

/** Parses an alert-events message. Throws InvalidTransitionError or InvalidReleaseError (permanent). */
export function parseAlertEvent(body: string): AlertEventMessage {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { kind: 'transition', transition: parseTransition(body) }; // throws "not JSON"
  }
  if (isReleaseDocument(doc)) return { kind: 'release', release: toReleaseMessage(doc) };
  if (isNoteDocument(doc)) return { kind: 'note', note: parseNoteMessage(doc) };
  if (isActionDocument(doc)) return { kind: 'action', action: parseActionMessage(doc) };
  return { kind: 'transition', transition: parseTransition(body) };
}

/** Builds the handler from its dependencies. */
export function createDispatchHandler(deps: DispatchDeps): DispatchHandler {
  const { logger, metrics } = deps;
  const isTransient = deps.isTransient ?? isTransientError;

  function record(d: DispatchDecision, t: Pick<AlertTransition, 'fingerprint' | 'transitionId' | 'kind'>): void {
    if (d.unrouted) metrics.addMetric(METRIC.notificationsThrottled, MetricUnit.Count, 1);
    for (const s of d.suppressed) {
      metrics.singleMetric().addDimension('channel', s.channel).addMetric(METRIC.notificationsSuppressed, MetricUnit.Count, 1);
    }
    logger.info('transition dispatched', {
      fingerprint: t.fingerprint,
      transitionId: t.transitionId,
      kind: t.kind,
      outcome: d.outcome,
      reason: d.reason,
      reasonText: DISPATCH_REASON_TEXT[d.reason],
      severity: d.severity,
      ...(d.escalation ? { escalation: d.escalation } : {}),
      routes: d.routes,
      ...(d.silencedBy ? { silencedBy: d.silencedBy } : {}),
      stages: d.trail.map((n) => `${n.stage}: ${n.reason}${n.subject ? ` (${n.subject})` : ''}`),
      jobs: d.jobs.map((j) => ({ channel: j.channel, receiver: j.receiver, destinationId: j.destinationId })),
      suppressed: d.suppressed,
    });
  }

  /**
   * The one application of `failureAction` to a record's error: dead-letter it (handled), or
   * rethrow it so the processor reports the record failed; a bug also stops the batch (`fatal`).
   */
  async function onRecordError(r: SQSRecord, err: unknown, fatal: { err?: unknown }): Promise<void> {
    const action = failureAction(err, isTransient);
    const log = { messageId: r.messageId, action: FAILURE_ACTION_TEXT[action], error: err };
    if (action === 'dead-letter') {
      // It would fail the same way on every receive: straight to the dead-letter queue, with why.
      const reason = redactSecrets(
        err instanceof InvalidTransitionError || err instanceof InvalidReleaseError || err instanceof InvalidActionError
          ? `${err instanceof InvalidTransitionError ? 'invalid transition: ' : err instanceof InvalidReleaseError ? 'invalid release: ' : ''}${err.message}`
          : errorMessage(err),
      );
      await deps.deadLetter.send(r.body, reason, groupIdOf(r.body));
      metrics.addMetric(METRIC.recordsRejected, MetricUnit.Count, 1);
      logger.error('transition dead-lettered', { ...log, reason });
      return;
    }
    if (action === 'retry') logger.warn('transition failed; it will be received again', log);
    else {
      logger.error('transition failed unexpectedly; the invocation fails and Lambda redelivers the batch', log);
      fatal.err = err;
    }
    throw err;
  }

  return async (event, context) => {
    // Per invocation: after a bug, the records not yet processed are handed back untouched.
    const fatal: { err?: unknown } = {};
    const handleRecord = async (r: SQSRecord): Promise<void> => {
      if (fatal.err !== undefined) throw fatal.err;
      try {
        const m = parseAlertEvent(r.body);
        if (m.kind === 'transition') record(await dispatchTransition(deps, m.transition), m.transition);
        else if (m.kind === 'note') {
          const out = await dispatchNote(portsOf(deps), m.note);
          if (out.posted) logger.info('note posted', { fingerprint: m.note.fingerprint, by: m.note.by, source: m.note.source, jobs: out.jobs.length });
          else logger.info('note not posted', { fingerprint: m.note.fingerprint, source: m.note.source, reason: out.reason });
        } else if (m.kind === 'action') {
          const out = await dispatchActionMessage(deps, m.action);
          const a = m.action;
          if (out.applied) logger.info('action applied', { fingerprint: a.fingerprint, action: a.action, by: a.by, source: a.source, jobs: out.jobs.map((j) => ({ channel: j.channel, receiver: j.receiver })) });
          else logger.info('action refused', { fingerprint: a.fingerprint, action: a.action, by: a.by, source: a.source, refusal: out.refusal, why: ACTION_REFUSAL_TEXT[out.refusal] });
        } else {
          const d = await dispatchReleaseMessage(deps, m.release);
          if (d) record(d, { fingerprint: d.record.fingerprint, transitionId: d.record.lastTransition.id, kind: 'firing' });
          else logger.info('release: nothing held', { fingerprint: m.release.fingerprint, cause: RELEASE_CAUSE_TEXT[m.release.cause], by: m.release.by });
        }
      } catch (err) {
        await onRecordError(r, err, fatal);
      }
    };
    // A new processor per invocation: the FIFO processor remembers failed groups.
    const response = await processPartialResponse(event, handleRecord, new SqsFifoPartialProcessorAsync(), {
      ...(context ? { context } : {}),
      skipGroupOnError: true,
      // Report every record as failed rather than throwing: same effect, and the response stays explicit.
      throwOnFullBatchFailure: false,
    });
    if (fatal.err !== undefined) throw fatal.err;
    return response;
  };
}

/** Builds the production dependencies from the environment (module scope: clients live across invocations). */
export async function dispatchDepsFromEnv(env: NodeJS.ProcessEnv): Promise<DispatchDeps> {
  const s = readDispatchSettings(env);
  const logger = createLogger('dispatch');
  const metrics = createMetrics('dispatch');
  const dynamodb = new DynamoDBClient({});
  // The region's endpoint (or AWS_ENDPOINT_URL_SQS), not the queue URL's host: the same in AWS, and
  // locally the emulator's queue URLs name a host (sqs.<region>.localhost) that may not resolve.
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const routes = await routesSourceFromSettings(s, systemClock, (err) => logger.error('routes config could not be reloaded; keeping the last good one', { error: err as Error }));
  return {
    store: new DynamoAlertStore(dynamodb, s.alertsTable),
    publisher: new SqsJobPublisher(sqs, s.queueUrls),
    inhibitions: new DynamoInhibitionStore(dynamodb, s.alertsTable, systemClock),
    ...(s.groups ? { groups: new DynamoGroupStore(dynamodb, s.groups.table), flushes: new SqsFlushScheduler({ client: sqs, queueUrl: s.groups.flushQueueUrl }) } : {}),
    ...(s.alertEventsQueueUrl ? { releases: new SqsReleasePublisher({ client: sqs, queueUrl: s.alertEventsQueueUrl }) } : {}),
    deadLetter: new SqsDeadLetterSender(sqs, s.deadLetterQueueUrl),
    routes,
    ...(s.silencesTable
      ? {
          silences: new CachedSilences(new DynamoSilenceStore(dynamodb, s.silencesTable), systemClock, undefined, (id, err) =>
            logger.error('stored silence is invalid; it mutes nothing', { silenceId: id, error: err }),
          ),
          silenceStore: new DynamoSilenceStore(dynamodb, s.silencesTable),
        }
      : {}),
    ...(s.remediationQueueUrl ? { remediations: new SqsRemediationQueue({ client: sqs, queueUrl: s.remediationQueueUrl }) } : {}),
    ...(s.history ? { history: meteredHistory(new DynamoHistoryStore({ client: dynamodb, table: s.history.table, retentionMs: s.history.retentionMs }), metrics) } : {}),
    config: s.decision,
    clock: systemClock,
    logger,
    metrics,
  };
}
