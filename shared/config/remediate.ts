/**
 * The configuration of the remediate function (issue 13; docs/remediation.md), read once at init
 * from the variables of its entry in infra/topology.ts. REMEDIATION_ACTIONS is the deployment
 * config's `remediation` section as JSON (the actions and the kill switch): the same document the
 * CDK app grants IAM from, so the function can run exactly what it is allowed to.
 */
import { z } from 'zod';
import { parseRemediationActions, remediationActionsConfigSchema, type RemediationActionsConfig } from '../core/remediate/spec.ts';
import { jsonEnv as json, nonEmpty, optionalString as optional, parseEnv } from './env.ts';

const remediateEnv = z.object({
  REMEDIATIONS_TABLE: nonEmpty,
  ALERTS_TABLE: nonEmpty,
  REMEDIATION_QUEUE_URL: nonEmpty,
  DEAD_LETTER_QUEUE_URL: nonEmpty,
  ALERT_EVENTS_QUEUE_URL: nonEmpty,
  REMEDIATION_ACTIONS: json(remediationActionsConfigSchema, '{"enabled":true,"actions":{"restart-web":{"webhook":{"url":"https://…","secret":"klaxon/remediation/restart-web"}}}}'),
  /** Local mode: the local Slack's host for response_url answers. */
  SLACK_API_URL: optional,
});

/** The remediate function's validated configuration. */
export interface RemediateConfig {
  readonly remediationsTable: string;
  readonly alertsTable: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly alertEventsQueueUrl: string;
  readonly actions: RemediationActionsConfig;
  readonly slackApiUrl?: string;
}

/** Reads the configuration. @throws ConfigError naming the variable */
export function remediateConfig(env: NodeJS.ProcessEnv): RemediateConfig {
  const e = parseEnv(remediateEnv, env, 'remediate');
  return {
    remediationsTable: e.REMEDIATIONS_TABLE,
    alertsTable: e.ALERTS_TABLE,
    queueUrl: e.REMEDIATION_QUEUE_URL,
    deadLetterQueueUrl: e.DEAD_LETTER_QUEUE_URL,
    alertEventsQueueUrl: e.ALERT_EVENTS_QUEUE_URL,
    actions: parseRemediationActions(e.REMEDIATION_ACTIONS),
    ...(e.SLACK_API_URL ? { slackApiUrl: e.SLACK_API_URL } : {}),
  };
}
