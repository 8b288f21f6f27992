/**
 * The interactions worker (issue 12), triggered by the `interactions` queue: does what a verified
 * Slack click or PagerDuty webhook event asks, after the endpoint has answered.
 *
 * Slack click → the alert's record (or the group) → authorization (the `authorized` users and user
 * groups of the receivers that notified it; none: anyone) → the plan (shared/core/interact/plan.ts):
 * - Acknowledge / Unacknowledge: action messages on the alert-events FIFO queue (dispatch applies
 *   them: the record, history, the Slack message updated, PagerDuty acknowledged);
 * - Silence 1 h / 4 h / until resolved: a silence on the alert's (or group's) labels, created by
 *   the Slack user;
 * - Resolve (error alerts): `resolveErrorByPerson`, who = the Slack user.
 * A refusal (not authorized; the action does not apply) is an ephemeral message through the
 * payload's response_url. PagerDuty event → the alert or group its incident key names →
 * action messages (acknowledged, unacknowledged) or a note for the thread (resolved, escalated);
 * an unknown incident is logged and ignored.
 *
 * Each message is idempotent (deterministic silence ids, SQS deduplication ids, dispatch's own
 * refusals), so a redelivery changes nothing; a failure leaves the message to be delivered again
 * (partial batch response) and, after the queue's maxReceiveCount, in its dead-letter queue (alarmed).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Clock } from '../../shared/core/model/index.ts';
import type { AlertRecord } from '../../shared/core/dispatch/record/alert-record.ts';
import type { GroupItem } from '../../shared/core/dispatch/group/group.ts';
import type { RoutesSource } from '../../shared/core/dispatch/ports.ts';
import type { SilenceStore } from '../../shared/core/dispatch/silence/ports.ts';
import { SilenceExistsError } from '../../shared/core/dispatch/silence/ports.ts';
import { buildSilence } from '../../shared/core/dispatch/silence/manage.ts';
import { resolveErrorByPerson, ResolveRefusedError, type JobEventsPorts } from '../../shared/core/events/sequence.ts';
import { decideAuthorization, NOT_AUTHORIZED_TEXT, userGroupsToCheck, type SlackAuthorization } from '../../shared/core/interact/authorize.ts';
import { planPagerDutyEvent, planSlackAction, type PlanGroup, type PlanRecord } from '../../shared/core/interact/plan.ts';
import type { ActionPublisher, SlackResponder, UserGroupDirectory } from '../../shared/core/interact/ports.ts';
import { parseInteractionWork, type PagerDutyEventWork, type SlackActionWork } from '../../shared/core/interact/work.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoGroupStore } from '../../shared/adapters/dynamodb/group-store.ts';
import { DynamoSilenceStore } from '../../shared/adapters/dynamodb/silence-store.ts';
import { DynamoErrorAlertStore } from '../../shared/adapters/dynamodb/error-alert-store.ts';
import { SqsTransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { SqsActionPublisher } from '../../shared/adapters/interact/queues.ts';
import { FetchSlackResponder, SlackUserGroupDirectory } from '../../shared/adapters/interact/slack.ts';
import { DEFAULT_SLACK_API_URL } from '../../shared/adapters/slack/index.ts';
import { readSecret, SecretsManagerSecretSource, SlackSecretSchema } from '../../shared/adapters/secrets/index.ts';
import { routesSourceFromSettings } from '../../shared/adapters/routes/routes-source.ts';
import { DEFAULT_RECEIVER_SETTINGS } from '../../shared/core/dispatch/route/routes-config.ts';
import { ROUTES_CACHE_TTL_MS } from '../../shared/config/dispatch.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { interactionsWorkerConfig } from '../../shared/config/interactions.ts';
import type { ApprovalMessage } from '../../shared/core/remediate/messages.ts';
import { SqsRemediationQueue } from '../../shared/adapters/remediate/queue.ts';

/** What the worker needs; tests and local mode inject their own. */
export interface InteractionsWorkerDeps {
  readonly alerts: { get(fingerprint: string): Promise<AlertRecord | undefined> };
  readonly groups: { get(id: string): Promise<GroupItem | undefined> };
  readonly routes: RoutesSource;
  readonly userGroups: UserGroupDirectory;
  readonly publisher: ActionPublisher;
  readonly silences: SilenceStore;
  /** Error alerts (resolveErrorByPerson). */
  readonly errors: JobEventsPorts;
  readonly responder: SlackResponder;
  /** Approve / Reject of auto-remediation, to the remediation queue (docs/remediation.md); absent: refused as not set up. */
  readonly remediations?: { approve(message: ApprovalMessage): Promise<void> };
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The worker's handler type. */
export type InteractionsWorkerHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** What one message came to (logged; returned by {@link handleInteraction} for tests). */
export type InteractionOutcome =
  | { readonly kind: 'published'; readonly count: number }
  | { readonly kind: 'silenced'; readonly silenceId: string }
  | { readonly kind: 'resolved'; readonly errorFingerprint: string }
  | { readonly kind: 'refused'; readonly text: string }
  | { readonly kind: 'forwarded'; readonly attemptId: string; readonly decision: 'approve' | 'reject' }
  | { readonly kind: 'ignored'; readonly why: string };

function planRecordOf(r: AlertRecord | undefined): PlanRecord | undefined {
  if (!r) return undefined;
  // `ack` once dispatch keeps acknowledgements on the record (stream A).
  const ack = (r as AlertRecord & { ack?: PlanRecord['ack'] }).ack;
  return { fingerprint: r.fingerprint, state: r.state, startsAtMs: r.startsAtMs, labels: r.labels, ...(ack ? { ack } : {}) };
}

function planGroupOf(g: GroupItem | undefined): PlanGroup | undefined {
  return g ? { id: g.id, labels: g.labels, members: g.members } : undefined;
}

/**
 * The authorizations that apply to a click: those of the receivers that notified the alert on
 * Slack (its record's deliveries; for a group, the group's receiver). Where one of them posts to the
 * clicked message's channel, that one alone.
 */
async function authorizationsFor(deps: InteractionsWorkerDeps, w: SlackActionWork, record: AlertRecord | undefined, group: GroupItem | undefined): Promise<(SlackAuthorization | undefined)[]> {
  const config = await deps.routes.get();
  const names = group ? [group.receiver] : Object.values(record?.deliveries ?? {}).filter((d) => d.channel === 'slack').map((d) => d.receiver);
  const receivers = [...new Set(names)].map((n) => config.receivers.get(n)).filter((r) => r !== undefined);
  const sameChannel = receivers.filter((r) => w.channelId !== undefined && r.slack?.channel === w.channelId);
  return (sameChannel.length ? sameChannel : receivers).map((r) => r.slackAuthorized);
}

async function handleSlack(deps: InteractionsWorkerDeps, w: SlackActionWork): Promise<InteractionOutcome> {
  const record = w.target.kind === 'alert' ? await deps.alerts.get(w.target.fingerprint) : undefined;
  const group = w.target.kind === 'group' ? await deps.groups.get(w.target.id) : undefined;
  const refuse = async (text: string): Promise<InteractionOutcome> => {
    if (w.responseUrl) await deps.responder.ephemeral(w.responseUrl, `:no_entry_sign: ${text}`);
    return { kind: 'refused', text };
  };
  if (record || group) {
    const auths = await authorizationsFor(deps, w, record, group);
    const members = new Map<string, ReadonlySet<string>>();
    for (const g of userGroupsToCheck(auths, w.user.id)) {
      const m = await deps.userGroups.members(g);
      members.set(g, m);
      if (m.has(w.user.id)) break;
    }
    const auth = decideAuthorization(auths, w.user.id, members);
    if (!auth.ok) {
      deps.logger.warn('Slack click refused: not authorized', { user: w.user.id, action: w.action });
      return refuse(NOT_AUTHORIZED_TEXT);
    }
  }
  const nowMs = deps.clock.now();
  const plan = planSlackAction(w, { ...(record ? { record: planRecordOf(record)! } : {}), ...(group ? { group: planGroupOf(group)! } : {}) }, nowMs);
  switch (plan.kind) {
    case 'refuse':
      return refuse(plan.text);
    case 'publish':
      await deps.publisher.publish(plan.messages);
      return { kind: 'published', count: plan.messages.length };
    case 'silence': {
      const s = plan.silence;
      const built = buildSilence({ matchers: s.matchers, startsAtMs: s.startsAtMs, endsAtMs: s.endsAtMs, createdBy: s.createdBy, comment: s.comment }, s.id, nowMs);
      try {
        await deps.silences.create({ ...built, ...(s.untilResolved ? { untilResolved: s.untilResolved } : {}) });
      } catch (err) {
        // A redelivered message: the silence exists already (its id comes from the click).
        if (!(err instanceof SilenceExistsError)) throw err;
      }
      if (w.responseUrl) await deps.responder.ephemeral(w.responseUrl, `:mute: ${plan.text} Silence ${s.id} by ${s.createdBy}.`);
      return { kind: 'silenced', silenceId: s.id };
    }
    case 'resolve-error':
      try {
        await resolveErrorByPerson(deps.errors, { quietPeriodMs: 0 }, plan.errorFingerprint, plan.who, nowMs);
      } catch (err) {
        if (err instanceof ResolveRefusedError) return refuse(err.message);
        throw err;
      }
      return { kind: 'resolved', errorFingerprint: plan.errorFingerprint };
    case 'remediation':
      // The remediate function decides (expired, decided already) and answers through response_url.
      if (!deps.remediations) return refuse('auto-remediation is not set up in this deployment');
      await deps.remediations.approve(plan.message);
      return { kind: 'forwarded', attemptId: plan.message.attemptId, decision: plan.message.decision };
  }
}

async function handlePagerDuty(deps: InteractionsWorkerDeps, w: PagerDutyEventWork): Promise<InteractionOutcome> {
  const isGroup = w.incidentKey.startsWith('group:');
  const record = isGroup ? undefined : await deps.alerts.get(w.incidentKey);
  const group = isGroup ? await deps.groups.get(w.incidentKey) : undefined;
  const plan = planPagerDutyEvent(w, { ...(record ? { record: planRecordOf(record)! } : {}), ...(group ? { group: planGroupOf(group)! } : {}) });
  if (plan.kind === 'ignore') {
    deps.logger.info('PagerDuty event ignored', { why: plan.why, eventType: w.eventType, eventId: w.eventId });
    return { kind: 'ignored', why: plan.why };
  }
  await deps.publisher.publish(plan.messages);
  return { kind: 'published', count: plan.messages.length };
}

/** Does one verified piece of work (a parsed message body). */
export async function handleInteraction(deps: InteractionsWorkerDeps, doc: unknown): Promise<InteractionOutcome> {
  const parsed = parseInteractionWork(doc);
  if (!parsed.ok) throw new Error(`invalid interactions message: ${parsed.error}`);
  return parsed.work.kind === 'slack-action' ? handleSlack(deps, parsed.work) : handlePagerDuty(deps, parsed.work);
}

/** Builds the SQS handler: each message on its own; failures are reported for redelivery. */
export function createInteractionsWorkerHandler(deps: InteractionsWorkerDeps): InteractionsWorkerHandler {
  return async (event) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const r of event.Records) {
      try {
        const outcome = await handleInteraction(deps, JSON.parse(r.body) as unknown);
        deps.logger.info('interaction done', { messageId: r.messageId, ...outcome });
      } catch (err) {
        deps.logger.error('interaction failed; it will be delivered again (then dead-lettered)', { messageId: r.messageId, error: err as Error });
        batchItemFailures.push({ itemIdentifier: r.messageId });
      }
    }
    return { batchItemFailures };
  };
}

/** Builds the production dependencies from the environment (module scope). */
export async function interactionsWorkerDepsFromEnv(env: NodeJS.ProcessEnv): Promise<InteractionsWorkerDeps> {
  const cfg = interactionsWorkerConfig(env);
  const logger = createLogger('interactionsWorker');
  const metrics = createMetrics('interactionsWorker');
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const secrets = new SecretsManagerSecretSource(new SecretsManagerClient({}));
  const apiUrl = cfg.slackApiUrl ?? DEFAULT_SLACK_API_URL;
  const routes = await routesSourceFromSettings({ routes: cfg.routes, defaultReceiver: DEFAULT_RECEIVER_SETTINGS, routesCacheTtlMs: ROUTES_CACHE_TTL_MS }, systemClock, (err) =>
    logger.error('could not reload the routes; the last good ones are used', { error: err as Error }),
  );
  return {
    alerts: new DynamoAlertStore(dynamodb, cfg.alertsTable),
    groups: new DynamoGroupStore(dynamodb, cfg.groupsTable),
    routes,
    userGroups: new SlackUserGroupDirectory({ token: async () => (await readSecret(secrets, cfg.slackSecretName, SlackSecretSchema)).botToken, apiUrl, clock: systemClock }),
    publisher: new SqsActionPublisher(sqs, cfg.alertEventsQueueUrl),
    ...(cfg.remediationQueueUrl ? { remediations: new SqsRemediationQueue({ client: sqs, queueUrl: cfg.remediationQueueUrl }) } : {}),
    silences: new DynamoSilenceStore(dynamodb, cfg.silencesTable),
    errors: { store: new DynamoErrorAlertStore(dynamodb, cfg.errorsTable), publisher: new SqsTransitionPublisher({ client: sqs, queueUrl: cfg.alertEventsQueueUrl }) },
    responder: new FetchSlackResponder({ now: () => systemClock.now(), ...(cfg.slackApiUrl ? { extraPrefixes: [`${new URL(cfg.slackApiUrl).origin}/`] } : {}) }),
    clock: systemClock,
    logger,
    metrics,
  };
}
