/**
 * The configuration of the interactions endpoint and its worker (issue 12), read once at init from
 * the variables of the `interactions` and `interactionsWorker` entries of infra/topology.ts (plus
 * ROUTES_FILE and SLACK_API_URL in local mode).
 */
import { z } from 'zod';
import { nonEmpty, optionalString as optional, parseEnv } from './env.ts';

const endpointEnv = z.object({
  SLACK_SECRET_NAME: nonEmpty,
  PAGERDUTY_WEBHOOK_SECRET_NAME: nonEmpty,
  INTERACTIONS_QUEUE_URL: nonEmpty,
  DELIVERY_TABLE: nonEmpty,
});

/** The endpoint's validated configuration. */
export interface InteractionsConfig {
  /** The Slack secret (its `signingSecret`). */
  readonly slackSecretName: string;
  /** The PagerDuty webhook secret (`{ "secret": "…" }`, or a plain string). */
  readonly pagerDutyWebhookSecretName: string;
  readonly queueUrl: string;
  /** The delivery table (the replay guard's items). */
  readonly deliveryTable: string;
}

/** Reads the endpoint's configuration. @throws ConfigError naming the variable */
export function interactionsConfig(env: NodeJS.ProcessEnv): InteractionsConfig {
  const e = parseEnv(endpointEnv, env, 'interactions');
  return { slackSecretName: e.SLACK_SECRET_NAME, pagerDutyWebhookSecretName: e.PAGERDUTY_WEBHOOK_SECRET_NAME, queueUrl: e.INTERACTIONS_QUEUE_URL, deliveryTable: e.DELIVERY_TABLE };
}

const workerEnv = z.object({
  ALERTS_TABLE: nonEmpty,
  GROUPS_TABLE: nonEmpty,
  SILENCES_TABLE: nonEmpty,
  ERRORS_TABLE: nonEmpty,
  ALERT_EVENTS_QUEUE_URL: nonEmpty,
  SLACK_SECRET_NAME: nonEmpty,
  ROUTES_SSM_PARAMETER: optional,
  ROUTES_FILE: optional,
  /** Local mode: the local Slack's Web API (usergroups.users.list) and response_url host. */
  SLACK_API_URL: optional,
  /** Approve / Reject of auto-remediation go here (docs/remediation.md); unset: those clicks are refused. */
  REMEDIATION_QUEUE_URL: optional,
});

/** The worker's validated configuration. */
export interface InteractionsWorkerConfig {
  readonly alertsTable: string;
  readonly groupsTable: string;
  readonly silencesTable: string;
  readonly errorsTable: string;
  readonly alertEventsQueueUrl: string;
  readonly slackSecretName: string;
  readonly routes: { readonly kind: 'file'; readonly path: string } | { readonly kind: 'ssm'; readonly name: string } | { readonly kind: 'defaults' };
  readonly slackApiUrl?: string;
  readonly remediationQueueUrl?: string;
}

/** Reads the worker's configuration. @throws ConfigError naming the variable */
export function interactionsWorkerConfig(env: NodeJS.ProcessEnv): InteractionsWorkerConfig {
  const e = parseEnv(workerEnv, env, 'interactionsWorker');
  return {
    alertsTable: e.ALERTS_TABLE,
    groupsTable: e.GROUPS_TABLE,
    silencesTable: e.SILENCES_TABLE,
    errorsTable: e.ERRORS_TABLE,
    alertEventsQueueUrl: e.ALERT_EVENTS_QUEUE_URL,
    slackSecretName: e.SLACK_SECRET_NAME,
    routes: e.ROUTES_FILE ? { kind: 'file', path: e.ROUTES_FILE } : e.ROUTES_SSM_PARAMETER ? { kind: 'ssm', name: e.ROUTES_SSM_PARAMETER } : { kind: 'defaults' },
    ...(e.SLACK_API_URL ? { slackApiUrl: e.SLACK_API_URL } : {}),
    ...(e.REMEDIATION_QUEUE_URL ? { remediationQueueUrl: e.REMEDIATION_QUEUE_URL } : {}),
  };
}
