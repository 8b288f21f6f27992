/**
 * The interactions endpoint (issue 12), behind a Lambda Function URL (docs/design.md,
 * "Interactions endpoint"): Slack's interactivity requests (`POST /slack/interactions`) and
 * PagerDuty's v3 webhooks (`POST /pagerduty/webhooks`). Per request, within a budget
 * ({@link INTERACTIONS_ANSWER_BUDGET_MS}): bound the body, verify the signature (timing-safe,
 * replay window), claim the request in the replay guard, read just enough of it, put the work on
 * the `interactions` queue, and answer. The work itself (records, authorization, silences, action
 * messages) is the worker's (functions/interactions-worker), so a slow back end never delays the
 * answer Slack needs within 3 s.
 *
 * Answers:
 * - Slack: 200 with an empty body once the work is queued (Slack wants only an acknowledgement);
 *   401 for a request that is not Slack's (bad or missing signature, stale, replayed); 413 for a
 *   body over the bound; 503 when the signing secret cannot be read (nothing can be verified).
 *   When the queue does not take the work within the budget: 200, and an ephemeral "try again"
 *   through the payload's response_url — a non-2xx or no answer would show the person Slack's
 *   generic failure (and Slack does not retry interactivity requests); the explicit message says
 *   what happened. The claim is released, so nothing stands in the way of the retry.
 * - PagerDuty: 2xx once queued, and for a replay of a delivery already taken (PagerDuty retries
 *   one whose 2xx it did not get: a 2xx ends that); 400 for a missing signature or body, 403 for a
 *   bad one (go-pagerduty's advice); PagerDuty drops a 4xx and retries 5xx and 429 for 48 hours
 *   (https://developer.pagerduty.com/docs/db0fa8c8984fc-overview#webhook-retry-logic), so when the
 *   work cannot be queued in time the answer is 503 and the claim is released.
 * Nothing throws out of the handler: an unexpected failure is logged and answered 500.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { z } from 'zod';
import type { Clock } from '../../shared/core/model/index.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import {
  MAX_INTERACTION_BODY_BYTES,
  REPLAY_WINDOW_SECONDS,
  replayKey,
  verifyPagerDutyWebhook,
  verifySlackRequest,
  type InteractionRefusal,
} from '../../shared/core/interact/verify.ts';
import { readSlackInteraction } from '../../shared/core/interact/slack.ts';
import { readPagerDutyWebhook } from '../../shared/core/interact/pagerduty.ts';
import type { InteractionWork } from '../../shared/core/interact/work.ts';
import type { InteractionQueue, ReplayGuard, SlackResponder } from '../../shared/core/interact/ports.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { readSecret, SecretsManagerSecretSource, SlackSecretSchema } from '../../shared/adapters/secrets/index.ts';
import { DynamoReplayGuard } from '../../shared/adapters/interact/replay-guard.ts';
import { SqsInteractionQueue } from '../../shared/adapters/interact/queues.ts';
import { FetchSlackResponder } from '../../shared/adapters/interact/slack.ts';
import { interactionsConfig } from '../../shared/config/interactions.ts';
import { INTERACTIONS_ANSWER_BUDGET_MS } from '../../shared/config/timing.ts';

/** The paths the endpoint answers. */
export const INTERACTION_PATHS = { slack: '/slack/interactions', pagerduty: '/pagerduty/webhooks' } as const;

/**
 * How long a PagerDuty delivery is remembered: PagerDuty retries a delivery for 48 hours, so its
 * replay guard entry outlives that; Slack's lives just past its 5-minute window.
 */
export const PAGERDUTY_REPLAY_MS = 49 * 3_600_000;

/** The text of the ephemeral answer when a click could not be queued in time. */
export const TRY_AGAIN_TEXT = 'Klaxon could not take this click just now (its queue did not answer in time). Nothing was changed: please try again.';

/** The PagerDuty webhook secret: `{ "secret": "…" }` (created empty; the operator sets it). */
export const PagerDutyWebhookSecretSchema = z.object({ secret: z.string().optional() });

/** What the handler needs; tests and local mode inject their own. */
export interface InteractionsDeps {
  /** Slack's signing secret (undefined: not configured). `signal` aborts the read. */
  readonly slackSigningSecret: (signal: AbortSignal) => Promise<string | undefined>;
  /** The PagerDuty webhook subscription's secret (undefined: not configured). */
  readonly pagerDutyWebhookSecret: (signal: AbortSignal) => Promise<string | undefined>;
  readonly replay: ReplayGuard;
  readonly queue: InteractionQueue;
  /** Ephemeral "try again" when a click cannot be queued (absent: none). */
  readonly responder?: SlackResponder;
  /** Event time: when the work was received (its actions' `atMs`; local mode runs it faster than the wall clock). */
  readonly clock: Clock;
  /** The wall clock: Slack's timestamps are judged against it (the replay window). */
  readonly wallClock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The answer budget of one request (default: {@link INTERACTIONS_ANSWER_BUDGET_MS} of wall time); tests give a signal they abort. */
  readonly budget?: () => AbortSignal;
}

/** What the endpoint answers (a Function URL result with a status, always). */
export type InteractionsResult = Exclude<LambdaFunctionURLResult, string> & { readonly statusCode: number; readonly body: string };

/** The endpoint's handler type. */
export type InteractionsHandler = (event: LambdaFunctionURLEvent, context?: unknown) => Promise<InteractionsResult>;

/** The budget ran out before the step ended. */
class BudgetExceeded extends Error {}

/** Races a step against the budget: rejects with {@link BudgetExceeded} when `signal` aborts first (even if the step ignores it). */
function withinBudget<T>(signal: AbortSignal, step: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new BudgetExceeded('budget exhausted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new BudgetExceeded('budget exhausted'));
    signal.addEventListener('abort', onAbort, { once: true });
    step(signal).then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? new BudgetExceeded('budget exhausted', { cause: err }) : (err as Error));
      },
    );
  });
}

const answer = (statusCode: number, body = '', contentType = 'text/plain; charset=utf-8'): InteractionsResult => ({ statusCode, headers: { 'content-type': contentType }, body });

/** A refusal's status for each source. */
function refusalStatus(source: 'slack' | 'pagerduty', reason: InteractionRefusal): number {
  if (reason === 'too-large') return 413;
  if (reason === 'no-secret') return 503;
  if (source === 'pagerduty') {
    if (reason === 'missing-headers') return 400;
    if (reason === 'replayed') return 200;
    return 403;
  }
  return 401;
}

/** Builds the handler. */
export function createInteractionsHandler(deps: InteractionsDeps): InteractionsHandler {
  const { logger, metrics, clock } = deps;
  const budgetOf = deps.budget ?? (() => AbortSignal.timeout(INTERACTIONS_ANSWER_BUDGET_MS));

  const refused = (source: 'slack' | 'pagerduty', reason: InteractionRefusal): InteractionsResult => {
    // Service-only series for the alarm; by reason for the dashboard and the investigation.
    metrics.addMetric(METRIC.interactionsRefused, MetricUnit.Count, 1);
    metrics.singleMetric().addDimension('reason', reason).addMetric(METRIC.interactionsRefused, MetricUnit.Count, 1);
    logger.warn('interaction refused', { source, reason });
    return answer(refusalStatus(source, reason), reason === 'replayed' && source === 'pagerduty' ? '' : `refused: ${reason}`);
  };

  const handle = async (event: LambdaFunctionURLEvent): Promise<InteractionsResult> => {
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '/';
    const source = path === INTERACTION_PATHS.slack ? 'slack' : path === INTERACTION_PATHS.pagerduty ? 'pagerduty' : undefined;
    if (!source) return answer(404, 'not found');
    if (method !== 'POST') return answer(405, 'POST only');
    const raw = event.body ?? '';
    // Bound before decoding: base64 is 4/3 the size of what it encodes.
    if ((event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw)) > MAX_INTERACTION_BODY_BYTES + 3) return refused(source, 'too-large');
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    const headers = event.headers ?? {};
    const budget = budgetOf();
    const nowMs = clock.now();
    const wallMs = deps.wallClock.now();

    // 1. Verify.
    let secret: string | undefined;
    try {
      secret = await withinBudget(budget, source === 'slack' ? deps.slackSigningSecret : deps.pagerDutyWebhookSecret);
    } catch (err) {
      logger.error('could not read the signing secret; the request cannot be verified', { source, error: err as Error });
      return answer(503, 'signing secret unavailable');
    }
    const v =
      source === 'slack'
        ? verifySlackRequest({ signature: headers['x-slack-signature'], timestamp: headers['x-slack-request-timestamp'], body }, secret, wallMs)
        : verifyPagerDutyWebhook({ signature: headers['x-pagerduty-signature'], body }, secret);
    if (!v.ok) return refused(source, v.reason);

    // 2. Read just enough (a signed payload we cannot read is Slack's or PagerDuty's, not an attack: 2xx, nothing to do).
    const text = body.toString('utf8');
    let work: InteractionWork | undefined;
    if (source === 'slack') {
      const r = readSlackInteraction(text, nowMs);
      if (!r.ok) {
        logger.info('Slack interaction with nothing to do', { skip: r.skip });
        return answer(200);
      }
      work = r.work;
    } else {
      const r = readPagerDutyWebhook(text, nowMs);
      if (!r.ok) {
        logger.info('PagerDuty webhook with nothing to do', { skip: r.skip, eventType: r.eventType });
        return answer(200);
      }
      work = r.work;
    }

    // 3. Replay guard: Slack's signature covers its timestamp (a replay is the same signature);
    // PagerDuty's delivery id, else its signature, identifies a delivery.
    const identity =
      source === 'slack'
        ? headers['x-slack-signature']!.trim()
        : `${headers['x-webhook-id']?.trim() || headers['x-pagerduty-signature']!.trim()}`;
    const key = replayKey(source, identity);
    const keepMs = source === 'slack' ? (REPLAY_WINDOW_SECONDS + 60) * 1000 : PAGERDUTY_REPLAY_MS;
    let first: boolean;
    try {
      first = await withinBudget(budget, (signal) => deps.replay.claim(key, wallMs + keepMs, signal));
    } catch (err) {
      return dropped(source, work, err, undefined);
    }
    if (!first) return refused(source, 'replayed');

    // 4. Enqueue.
    try {
      await withinBudget(budget, (signal) => deps.queue.enqueue(work, signal));
    } catch (err) {
      return dropped(source, work, err, key);
    }
    metrics.singleMetric().addDimension('source', source).addMetric(METRIC.interactionsAccepted, MetricUnit.Count, 1);
    logger.info('interaction queued', source === 'slack' && work.kind === 'slack-action' ? { source, action: work.action, user: work.user.id } : { source, ...(work.kind === 'pagerduty-event' ? { eventType: work.eventType, eventId: work.eventId } : {}) });
    return answer(200);
  };

  /** The work could not be queued in time: the claim released, Slack told to try again, PagerDuty asked to retry. */
  const dropped = async (source: 'slack' | 'pagerduty', work: InteractionWork, err: unknown, claimed: string | undefined): Promise<InteractionsResult> => {
    metrics.singleMetric().addDimension('source', source).addMetric(METRIC.interactionsDropped, MetricUnit.Count, 1);
    logger.error('interaction not queued within the answer budget', { source, timedOut: err instanceof BudgetExceeded, error: err as Error });
    if (claimed) {
      try {
        await deps.replay.release(claimed);
      } catch (e) {
        logger.warn('could not release the replay claim; a retry of this request will be refused as a replay', { error: e as Error });
      }
    }
    if (source === 'pagerduty') return answer(503, 'try again');
    if (work.kind === 'slack-action' && work.responseUrl && deps.responder) {
      try {
        await deps.responder.ephemeral(work.responseUrl, TRY_AGAIN_TEXT);
      } catch (e) {
        logger.warn('could not tell the person to try again', { error: e as Error });
      }
    }
    return answer(200);
  };

  return async (event) => {
    try {
      return await handle(event);
    } catch (err) {
      logger.error('interactions endpoint failed', { error: err as Error });
      return answer(500, 'internal error');
    }
  };
}

/** Builds the production dependencies from the environment (module scope). */
export function interactionsDepsFromEnv(env: NodeJS.ProcessEnv): InteractionsDeps {
  const cfg = interactionsConfig(env);
  const logger = createLogger('interactions');
  const metrics = createMetrics('interactions');
  const secrets = new SecretsManagerSecretSource(new SecretsManagerClient({}));
  return {
    slackSigningSecret: async () => (await readSecret(secrets, cfg.slackSecretName, SlackSecretSchema)).signingSecret || undefined,
    pagerDutyWebhookSecret: async () => (await readSecret(secrets, cfg.pagerDutyWebhookSecretName, PagerDutyWebhookSecretSchema)).secret || undefined,
    replay: new DynamoReplayGuard(new DynamoDBClient({}), cfg.deliveryTable, () => systemClock.now()),
    queue: new SqsInteractionQueue(new SQSClient({}), cfg.queueUrl),
    // Local mode: the local Slack receiver's response URLs too.
    responder: new FetchSlackResponder({ now: () => systemClock.now(), ...(env.SLACK_API_URL ? { extraPrefixes: [new URL(env.SLACK_API_URL).origin + '/'] } : {}) }),
    clock: systemClock,
    wallClock: systemClock,
    logger,
    metrics,
  };
}
