/**
 * Renders the values behind the topology's `{ config: key }` environment sources. Shared by the CDK
 * app (with deploy-time names) and anything else that needs the same strings, so a function reads
 * the same format wherever it runs.
 */
import type { ConfigKey } from '../topology.ts';
import type { KlaxonConfig } from './schema.ts';

/** Names only known once resources exist (CDK tokens in the stack). */
export interface DeployedNames {
  readonly sesConfigurationSet: string;
  readonly dashboardUrl: string;
}

/**
 * One string per {@link ConfigKey}. Structured values are JSON: `throttleWindows` is
 * `{"critical":0,"high":300000,"medium":900000,"low":3600000}` (milliseconds, as dispatch reads it), `breaker` is
 * `{"failureThreshold":5,"openMs":60000,"halfOpenSuccesses":2}`; `defaultEmailRecipients` is a
 * comma-separated list.
 */
export function renderConfigValues(config: KlaxonConfig, names: DeployedNames): Record<ConfigKey, string> {
  return {
    rulesSource: config.rules.source,
    rulesSsmPath: config.rules.ssmPath,
    rulesCacheTtlSeconds: String(config.rules.cacheTtlSeconds),
    routesSsmParameter: config.routes.parameterName,
    eventsSsmParameter: config.events.parameterName,
    historyRetentionDays: String(config.history.retentionDays),
    slackSecretName: config.secrets.slack.name,
    pagerDutySecretName: config.secrets.pagerduty.name,
    pagerDutyWebhookSecretName: config.secrets.pagerdutyWebhook.name,
    webhookSecretName: config.secrets.webhooks.name,
    webhookAllowPrivateTargets: String(config.webhooks.allowPrivateTargets),
    sesSender: config.email.sender,
    sesConfigurationSet: names.sesConfigurationSet,
    defaultEmailRecipients: config.email.defaultRecipients.join(','),
    productName: config.productName,
    dashboardUrl: config.dashboardUrl ?? names.dashboardUrl,
    // Dispatch reads numbers as milliseconds (shared/config/dispatch.ts).
    throttleWindows: JSON.stringify(Object.fromEntries(Object.entries(config.throttleWindows).map(([k, s]) => [k, s * 1000]))),
    // The channels' BREAKER_CONFIG schema (shared/config/channels.ts): milliseconds, its own names.
    breaker: JSON.stringify({
      failureThreshold: config.breaker.failureThreshold,
      openMs: config.breaker.openSeconds * 1000,
      halfOpenSuccesses: config.breaker.successThreshold,
    }),
    kafkaTopic: config.msk.topic,
    staleAfterSeconds: String(config.staleAfterSeconds),
    seriesLimitPerRule: String(config.seriesLimitPerRule),
    stateWindows: config.windows,
    maxFutureSkewSeconds: String(config.eventTime.maxFutureSkewSeconds),
    maxSampleAgeSeconds: String(config.eventTime.maxSampleAgeSeconds),
    // Lambda honours the evaluator's partial batch response only in provisioned mode (kafkaEventSourceProps).
    kafkaPartialBatchResponse: String(config.msk.mode === 'provisioned'),
    // The remediate function's REMEDIATION_ACTIONS: the same document the CDK app grants IAM from.
    remediationActions: JSON.stringify(config.remediation),
    // The functions parse it again with the same schema (shared/config/enrich.ts); empty: no links or logs.
    enrichment: config.enrichment.settings ? JSON.stringify(config.enrichment.settings) : '',
    // Empty when the catalog is the table: the functions read the parameter first (shared/config/enrich.ts).
    catalogSsmParameter: config.enrichment.catalogSource === 'ssm' ? config.enrichment.catalogParameterName : '',
  };
}
