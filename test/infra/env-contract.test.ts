/**
 * The environment the stack renders for each function is accepted by that function's own config
 * reader (shared/config/*), and means what the deployment configuration said: formats cannot
 * drift between infra/config/render.ts and the functions. Deploy-time tokens (table names, queue
 * URLs) are replaced by placeholders, since only CloudFormation resolves them.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KlaxonApp } from '../../infra/stacks/klaxon-app.ts';
import type { FunctionName } from '../../infra/topology.ts';
import { emailConfig, pagerDutyConfig, slackConfig, webhookConfig } from '../../shared/config/channels.ts';
import { readDispatchSettings } from '../../shared/config/dispatch.ts';
import { evaluatorConfig } from '../../shared/config/evaluator.ts';
import { timersConfig } from '../../shared/config/timers.ts';
import { synthApp } from './fixture.ts';

const PLACEHOLDER = 'https://placeholder.example.com/resolved-at-deploy';

let k: KlaxonApp;
let resources: Record<string, { Properties: Record<string, unknown> }>;

beforeAll(() => {
  k = synthApp({ email: { defaultRecipients: ['a@example.com', 'b@example.com'] }, breaker: { openSeconds: 90 } }, { validate: false });
  resources = Template.fromStack(k.pipeline).toJSON().Resources as typeof resources;
});

/** The function's rendered environment, tokens replaced by a placeholder. */
function envOf(name: FunctionName): NodeJS.ProcessEnv {
  const fn = k.pipeline.functions[name].fn;
  const vars = (resources[k.pipeline.getLogicalId(fn.node.defaultChild as CfnElement)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(Object.entries(vars).map(([key, v]) => [key, typeof v === 'string' ? v : PLACEHOLDER]));
}

describe('rendered environment vs the functions config readers', () => {
  it('evaluator and timers read the rule source, cache TTL and staleness', () => {
    for (const cfg of [evaluatorConfig(envOf('evaluator')), timersConfig(envOf('timers'))]) {
      expect(cfg).toMatchObject({ rules: { kind: 'dynamodb' }, rulesCacheTtlMs: 60_000, staleAfterMs: 300_000 });
    }
  });

  it('dispatch reads throttle windows in milliseconds, the default recipients and the routes parameter', () => {
    const s = readDispatchSettings(envOf('dispatch'));
    expect(s.decision.throttleWindows).toMatchObject({ critical: 0, high: 300_000, medium: 900_000, low: 3_600_000 });
    expect(s.defaultReceiver.emailRecipients).toEqual(['a@example.com', 'b@example.com']);
    expect(s.routes).toEqual({ kind: 'ssm', name: '/klaxon/routes' });
  });

  it('the channels read the breaker configuration in milliseconds', () => {
    for (const s of [slackConfig(envOf('deliverSlack')), emailConfig(envOf('deliverEmail')), pagerDutyConfig(envOf('deliverPagerduty')), webhookConfig(envOf('deliverWebhook'))]) {
      expect(s.breaker).toMatchObject({ failureThreshold: 5, openMs: 90_000, halfOpenSuccesses: 2 });
      expect(s.productName).toBe('Klaxon');
    }
    expect(slackConfig(envOf('deliverSlack')).slackSecretName).toBe('klaxon/slack');
    expect(pagerDutyConfig(envOf('deliverPagerduty')).pagerDutySecretName).toBe('klaxon/pagerduty');
    expect(emailConfig(envOf('deliverEmail')).sender).toBe('alerts@example.com');
    // Private webhook targets are refused unless the deployment config allows them.
    expect(webhookConfig(envOf('deliverWebhook'))).toMatchObject({ webhookSecretName: 'klaxon/webhooks', allowPrivateTargets: false });
    expect(readDispatchSettings(envOf('dispatch')).queueUrls.webhook).toBe(PLACEHOLDER);
  });
});
