/**
 * Local mode's deployment configuration: the values that reach the functions' environment (the
 * `config` entries of infra/topology.ts), the example secrets pointing at the local receivers, and
 * the default rules and routes files. Nothing here is used in AWS.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigKey } from '../../infra/topology.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The demo's rules (short `for` durations so alerts fire within a minute or two at speed 1). */
export const DEFAULT_RULES_FILE = join(here, 'demo-rules.yaml');
/** The demo's routes. */
export const DEFAULT_ROUTES_FILE = join(here, 'demo-routes.yaml');
/** The demo's error-events configuration (the built-in classification; a quiet period short enough to watch). */
export const DEFAULT_EVENTS_FILE = join(here, 'demo-events.yaml');

/** The Kafka topic name local mode uses in MSK events (and `--kafka` consumes unless `--topic` says otherwise). */
export const LOCAL_TOPIC = 'klaxon-metrics';

/** The demo's service catalog (docs/enrichment.md): owners, on-call and runbooks of the demo's services. */
export const DEFAULT_CATALOG_FILE = join(here, 'demo-catalog.yaml');

/** The log group the local stand-in for Logs Insights answers for (local/receivers/logs-insights-standin.ts). */
export const LOCAL_LOG_GROUP = '/klaxon/local/demo';

/**
 * Local mode's enrichment settings (ENRICH_CONFIG): a dashboard link to the local console, and
 * recent error lines from the local stand-in for Logs Insights. Budgets as in AWS; the follow-up
 * looks every 5 s (at speed 1) so the thread gets its lines within the demo.
 */
export function localEnrichment(consoleUrl: string): string {
  return JSON.stringify({
    links: [{ text: 'Console', url: `${consoleUrl.replace(/\/+$/, '')}/?service={{labels.service}}&from={{from}}&to={{to}}` }],
    logs: {
      logGroups: [LOCAL_LOG_GROUP],
      query: 'fields @timestamp, @message | filter service = {{labels.service}} | filter @message like /ERROR/ | sort @timestamp desc',
      limit: 5,
      lookbackMinutes: 5,
      bucketMinutes: 5,
      maxInFlight: 5,
      pollMs: 250,
    },
    followUp: { maxAttempts: 12, delaySeconds: 5 },
  });
}

/** Names of the local secrets. */
export const LOCAL_SECRET_NAMES = { slack: 'klaxon/local/slack', pagerduty: 'klaxon/local/pagerduty', pagerdutyWebhook: 'klaxon/local/pagerduty-webhook', webhooks: 'klaxon/local/webhooks', remediationWebhook: 'klaxon/local/remediation-webhook' } as const;

/**
 * Local mode's Standard Webhooks secret for the demo's remediation webhook actions: the remediate
 * function signs with it, the local remediation target verifies with it (docs/remediation.md).
 * Public; local only.
 */
export const LOCAL_REMEDIATION_WEBHOOK_SECRET = `whsec_${Buffer.from('klaxon-local-remediation-secret!').toString('base64')}`;

/**
 * The demo's remediation actions (the deployment config's `remediation` section, as JSON): two
 * signed webhook actions on the local remediation target (`restart-log-rotator` runs by itself for
 * `disk_full`, `restart-web` needs an approval for `cpu_high`: local/config/demo-rules.yaml), and
 * an SSM Automation action on the local stand-in (the SDK's SSM endpoint is the stand-in).
 */
export function localRemediationActions(targetEndpoint: string): string {
  const webhook = { url: targetEndpoint, secret: LOCAL_SECRET_NAMES.remediationWebhook };
  return JSON.stringify({
    enabled: true,
    actions: {
      'restart-log-rotator': { webhook },
      'restart-web': { webhook },
      'restart-consumer': { ssmAutomation: { document: 'Klaxon-RestartConsumer' } },
    },
  });
}

/**
 * Local mode's Slack signing secret (the Slack secret's `signingSecret`): the local Slack
 * receiver's `_click` signs interactivity payloads with it, and the local interactions endpoint
 * verifies them with it, as Slack and the deployed endpoint do with the app's real one
 * (docs/local.md). Never use it anywhere else: it is public.
 */
export const LOCAL_SLACK_SIGNING_SECRET = 'klaxon-local-slack-signing-secret-0000';

/** Local mode's PagerDuty webhook secret: the local PagerDuty signs its v3 webhooks with it. Public; local only. */
export const LOCAL_PAGERDUTY_WEBHOOK_SECRET = 'klaxon-local-pagerduty-webhook-secret-0000';

/**
 * Local mode's outgoing-webhook signing secret (Standard Webhooks `whsec_<base64 of 32 bytes>`):
 * Klaxon signs with it and the local webhook receiver verifies with it. Public; local only.
 */
export const LOCAL_WEBHOOK_SECRET = 'whsec_a2xheG9uLWxvY2FsLXdlYmhvb2stc2VjcmV0LTAwMDA=';

/** The port the local webhook receiver prefers: the one local/config/demo-routes.yaml names (a free one when it is taken). */
export const LOCAL_WEBHOOK_PORT = 8790;

/** The local webhook receiver's address as the demo routes write it. */
export const DEMO_WEBHOOK_BASE_URL = `http://127.0.0.1:${LOCAL_WEBHOOK_PORT}`;

/**
 * The demo routes with their webhook URLs pointing at the running local receiver (`baseUrl`): a
 * copy in a temp directory, so several local pipelines (tests) never send to each other's
 * receiver. Any other routes file is used as it is.
 */
export function demoRoutesFor(file: string, baseUrl: string): string {
  if (file !== DEFAULT_ROUTES_FILE || baseUrl === DEMO_WEBHOOK_BASE_URL) return file;
  const copy = join(mkdtempSync(join(tmpdir(), 'klaxon-routes-')), 'demo-routes.yaml');
  writeFileSync(copy, readFileSync(file, 'utf8').replaceAll(DEMO_WEBHOOK_BASE_URL, baseUrl));
  return copy;
}

/** Webhook receivers of the local webhooks secret (the demo routes' `incident-tool`). */
export const LOCAL_WEBHOOK_RECEIVERS = ['incident-tool'] as const;

/** Where the functions' configuration values come from in local mode. */
export interface LocalConfigInput {
  /** `file` reads RULES_FILE (local only; see shared/config/evaluator.ts). */
  readonly rulesSource: 'dynamodb' | 'ssm' | 'file';
  readonly consoleUrl: string;
  readonly routesParameter: string;
  /** The remediation actions (deployment config `remediation`) as JSON; absent: none (docs/remediation.md). */
  readonly remediationActions?: string;
}

/** The `config` values of the topology, for local mode. */
export function localConfigValues(input: LocalConfigInput): Record<ConfigKey, string> {
  return {
    rulesSource: input.rulesSource,
    rulesSsmPath: '/klaxon/local/rules',
    // Short, so a `klaxon rules push` against local mode is picked up within seconds.
    rulesCacheTtlSeconds: '5',
    routesSsmParameter: input.routesParameter,
    // Local mode reads EVENTS_FILE (local/start.ts), as it reads ROUTES_FILE.
    eventsSsmParameter: '',
    enrichment: localEnrichment(input.consoleUrl),
    catalogSsmParameter: '',
    historyRetentionDays: '90',
    slackSecretName: LOCAL_SECRET_NAMES.slack,
    pagerDutySecretName: LOCAL_SECRET_NAMES.pagerduty,
    pagerDutyWebhookSecretName: LOCAL_SECRET_NAMES.pagerdutyWebhook,
    webhookSecretName: LOCAL_SECRET_NAMES.webhooks,
    // The local webhook receiver listens on 127.0.0.1.
    webhookAllowPrivateTargets: 'true',
    sesSender: 'klaxon@example.com',
    sesConfigurationSet: '',
    defaultEmailRecipients: 'oncall@example.com',
    productName: 'Klaxon (local)',
    dashboardUrl: input.consoleUrl,
    throttleWindows: '',
    breaker: '',
    kafkaTopic: LOCAL_TOPIC,
    staleAfterSeconds: '600',
    seriesLimitPerRule: '10000',
    // The local MSK batcher puts each series on one partition (local/runtime/msk-batcher.ts), as keyed records do.
    stateWindows: 'derived',
    maxFutureSkewSeconds: '600',
    maxSampleAgeSeconds: '604800',
    // The local MSK batcher redelivers the partitions a partial batch response names.
    kafkaPartialBatchResponse: 'true',
    remediationActions: input.remediationActions ?? '{"actions":{}}',
  };
}

/** A 32-character routing key, the shape PagerDuty expects (the local receiver accepts any). */
export const LOCAL_PAGERDUTY_ROUTING_KEY = 'R0CALL0KLAXON0LOCAL0DEMO00000000';

/** Webhook names in the local Slack secret: the demo's and those examples/routes.yaml uses. */
export const LOCAL_SLACK_WEBHOOKS = ['default', 'ops', 'data', 'audit'] as const;

/**
 * The example secret values, pointing at the local receivers: Slack webhooks and the bot token the
 * local Slack accepts (so `slack: { channel: ... }` receivers post with chat.postMessage), and
 * PagerDuty routing keys for the `default` receiver and examples/routes.yaml's `db`.
 */
export function localSecrets(receivers: { slackWebhookUrl: (name: string) => string; slackBotToken: string }): Record<keyof typeof LOCAL_SECRET_NAMES, string> {
  return {
    slack: JSON.stringify({
      botToken: receivers.slackBotToken,
      webhooks: Object.fromEntries(LOCAL_SLACK_WEBHOOKS.map((name) => [name, receivers.slackWebhookUrl(name)])),
      signingSecret: LOCAL_SLACK_SIGNING_SECRET,
    }),
    pagerduty: JSON.stringify({ default: LOCAL_PAGERDUTY_ROUTING_KEY, db: LOCAL_PAGERDUTY_ROUTING_KEY.replace('DEMO', 'DB00') }),
    pagerdutyWebhook: JSON.stringify({ secret: LOCAL_PAGERDUTY_WEBHOOK_SECRET }),
    webhooks: JSON.stringify(Object.fromEntries(LOCAL_WEBHOOK_RECEIVERS.map((r) => [r, { secrets: [LOCAL_WEBHOOK_SECRET] }]))),
    remediationWebhook: JSON.stringify({ secret: LOCAL_REMEDIATION_WEBHOOK_SECRET }),
  };
}
