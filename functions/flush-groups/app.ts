/**
 * The flush-groups function: group-flush messages in (a delayed message per group at its due time,
 * docs/routing.md "Grouping"), one notification job per group and channel out, on the same
 * channel queues dispatch feeds. Wiring and I/O only: the flush itself (read → decide → publish →
 * commit → schedule the next) is `flushGroup` in shared/core/dispatch/group/flush.ts.
 *
 * Errors, per message, through the one policy (shared/core/errors `failureAction`): a body that is
 * not a flush message is dead-lettered at once with the reason; a transient failure (throttling,
 * a group that kept changing) fails the message (partial batch response: SQS delivers it again);
 * anything else is a bug and fails the invocation.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { FLUSH_OUTCOME_TEXT, flushGroup, parseFlushMessage, type FlushOutcome, type FlushPorts } from '../../shared/core/dispatch/group/flush.ts';
import { GROUP_FLUSH_REASON_TEXT, type GroupFlushConfig, type GroupMute } from '../../shared/core/dispatch/group/group.ts';
import type { FlushScheduler, GroupStore, MemberRecords } from '../../shared/core/dispatch/group/ports.ts';
import { DynamoMemberRecords } from '../../shared/adapters/dynamodb/alert-store.ts';
import type { DeadLetterSender, JobPublisher, RoutesSource } from '../../shared/core/dispatch/ports.ts';
import type { RoutingConfig } from '../../shared/core/dispatch/route/routing.ts';
import { errorMessage, failureAction, FAILURE_ACTION_TEXT } from '../../shared/core/errors/index.ts';
import type { Clock } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import { DynamoGroupStore } from '../../shared/adapters/dynamodb/group-store.ts';
import { isTransientError } from '../../shared/adapters/dynamodb/batch.ts';
import { SqsFlushScheduler } from '../../shared/adapters/sqs/flush-scheduler.ts';
import { SqsDeadLetterSender, SqsJobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { routesSourceFromSettings } from '../../shared/adapters/routes/routes-source.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { readFlushGroupsSettings } from '../../shared/config/flush-groups.ts';
import { redactSecrets } from '../../shared/core/deliver/redact.ts';
import { routeMuteAt } from '../../shared/core/dispatch/time-intervals/route-mute.ts';
import type { HistoryEvent, HistoryStore } from '../../shared/core/history/types.ts';
import type { SilenceStore } from '../../shared/core/dispatch/silence/ports.ts';
import { DynamoSilenceStore } from '../../shared/adapters/dynamodb/silence-store.ts';
import { DynamoHistoryStore } from '../../shared/adapters/dynamodb/history-store.ts';
import { meteredHistory } from '../../shared/adapters/observability/history-metrics.ts';

/** What the handler needs; tests and local mode inject their own. */
export interface FlushGroupsDeps {
  readonly groups: GroupStore;
  readonly publisher: JobPublisher;
  readonly scheduler: FlushScheduler;
  readonly routes: RoutesSource;
  /** The records of the members a notification lists (alerts table). */
  readonly records?: MemberRecords;
  readonly deadLetter: DeadLetterSender;
  readonly config: GroupFlushConfig;
  /** Whether a route is muted now by its time intervals (default: never). */
  readonly muteOf?: (routes: RoutingConfig, routePath: string, nowMs: number) => GroupMute;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly isTransient?: (err: unknown) => boolean;
  /** The alert history: each group notification (absent: nothing recorded). */
  readonly history?: HistoryStore;
  /** Where a group's "until resolved" silences are expired when the whole group resolved (absent: they run to their end). */
  readonly silenceStore?: SilenceStore;
}

/** The flush-groups Lambda handler (SQS event, partial batch response). */
export type FlushGroupsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** Builds the handler from its dependencies. */
export function createFlushGroupsHandler(deps: FlushGroupsDeps): FlushGroupsHandler {
  const { logger, metrics } = deps;
  const isTransient = deps.isTransient ?? isTransientError;
  const ports: FlushPorts = {
    groups: deps.groups,
    jobs: deps.publisher,
    scheduler: deps.scheduler,
    routes: deps.routes,
    clock: deps.clock,
    ...(deps.records ? { records: deps.records } : {}),
    ...(deps.silenceStore ? { silenceStore: deps.silenceStore } : {}),
  };

  /** A group notification in the history: one event per channel (fingerprint = the group id). */
  async function recordFlush(r: FlushOutcome): Promise<void> {
    if (!deps.history || r.outcome !== 'flushed') return;
    const events: HistoryEvent[] = r.decision.channels.flatMap((c) =>
      c.job
        ? [{ id: `notified:${c.job.idempotencyKey}`, kind: 'notified' as const, atMs: deps.clock.now(), fingerprint: c.job.transition.fingerprint, ruleId: c.job.transition.ruleId, severity: c.job.severity, receiver: c.job.receiver, channel: c.job.channel, reason: 'group' }]
        : [],
    );
    if (events.length > 0) await deps.history.record(events);
  }

  function report(id: string, r: FlushOutcome): void {
    if (r.outcome !== 'flushed') {
      metrics.singleMetric().addDimension('outcome', r.outcome).addMetric(METRIC.groupFlushes, MetricUnit.Count, 1);
      logger.debug('group flush', { group: id, outcome: r.outcome, text: FLUSH_OUTCOME_TEXT[r.outcome] });
      return;
    }
    const jobs = r.decision.channels.filter((c) => c.job);
    metrics.singleMetric().addDimension('outcome', jobs.length > 0 ? 'notified' : 'quiet').addMetric(METRIC.groupFlushes, MetricUnit.Count, 1);
    for (const c of r.decision.channels) {
      if (c.reason === 'throttled') metrics.singleMetric().addDimension('channel', c.channel).addMetric(METRIC.notificationsSuppressed, MetricUnit.Count, 1);
    }
    logger.info('group flushed', {
      group: id,
      channels: r.decision.channels.map((c) => ({
        channel: c.channel,
        reason: c.reason,
        text: GROUP_FLUSH_REASON_TEXT[c.reason],
        ...(c.job ? { firing: c.job.group?.firingCount, resolved: c.job.group?.resolvedCount, seq: c.job.group?.seq } : {}),
      })),
      next: r.decision.next?.dueAtMs,
    });
  }

  return async (event, context) => {
    const fatal: { err?: unknown } = {};
    const handleRecord = async (r: SQSRecord): Promise<void> => {
      if (fatal.err !== undefined) throw fatal.err;
      const m = parseFlushMessage(r.body);
      if (typeof m === 'string') {
        const reason = `invalid flush message: ${m}`;
        await deps.deadLetter.send(r.body, reason, 'invalid');
        logger.error('flush message dead-lettered', { messageId: r.messageId, reason });
        return;
      }
      try {
        const out = await flushGroup(ports, m, {
          config: deps.config,
          ...(deps.muteOf ? { muteOf: deps.muteOf } : {}),
          onConflict: (attempt) => logger.info('group changed since read; deciding again', { group: m.id, attempt }),
        });
        report(m.id, out);
        await recordFlush(out);
      } catch (err) {
        const action = failureAction(err, isTransient);
        const log = { messageId: r.messageId, group: m.id, action: FAILURE_ACTION_TEXT[action], error: err };
        if (action === 'dead-letter') {
          const reason = redactSecrets(errorMessage(err));
          await deps.deadLetter.send(r.body, reason, 'invalid');
          logger.error('flush dead-lettered', { ...log, reason });
          return;
        }
        if (action === 'retry') logger.warn('flush failed; the message will be received again', log);
        else {
          logger.error('flush failed unexpectedly; the invocation fails', log);
          fatal.err = err;
        }
        throw err;
      }
    };
    const response = await processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
    if (fatal.err !== undefined) throw fatal.err;
    return response;
  };
}

/** Builds the production dependencies from the environment (module scope: clients live across invocations). */
export async function flushGroupsDepsFromEnv(env: NodeJS.ProcessEnv): Promise<FlushGroupsDeps> {
  const s = readFlushGroupsSettings(env);
  const logger = createLogger('flush-groups');
  const metrics = createMetrics('flush-groups');
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const routes = await routesSourceFromSettings(s, systemClock, (err) => logger.error('routes config could not be reloaded; keeping the last good one', { error: err as Error }));
  return {
    groups: new DynamoGroupStore(dynamodb, s.groupsTable),
    publisher: new SqsJobPublisher(sqs, s.queueUrls),
    scheduler: new SqsFlushScheduler({ client: sqs, queueUrl: s.flushQueueUrl }),
    routes,
    records: new DynamoMemberRecords(dynamodb, s.alertsTable),
    deadLetter: new SqsDeadLetterSender(sqs, s.deadLetterQueueUrl),
    config: { throttleWindows: s.decision.throttleWindows },
    muteOf: (routes, routePath, nowMs) => routeMuteAt(routePath, routes, nowMs),
    ...(s.silencesTable ? { silenceStore: new DynamoSilenceStore(dynamodb, s.silencesTable) } : {}),
    ...(s.history ? { history: meteredHistory(new DynamoHistoryStore({ client: dynamodb, table: s.history.table, retentionMs: s.history.retentionMs }), metrics) } : {}),
    clock: systemClock,
    logger,
    metrics,
  };
}
