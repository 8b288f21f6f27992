/**
 * The deployment configuration: defaults, clear errors that name the field, the file loader
 * (YAML/JSON, `-c config=`, KLAXON_CONFIG, context overrides) and the rendering of config values.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, mergeConfig, parseConfig, renderConfigValues } from '../../infra/config/index.ts';
import { CONFIG_KEYS } from '../../infra/topology.ts';
import { exampleConfig, exampleConfigDocument, REPO_ROOT } from './fixture.ts';

const MINIMAL = {
  msk: { clusterArn: 'arn:aws:kafka:us-east-1:111122223333:cluster/c1/abcd-1234', topic: 'metrics', consumerGroupId: 'klaxon' },
  email: { sender: 'alerts@example.com', defaultRecipients: ['ops@example.com'] },
};

function problemsOf(raw: unknown): string[] {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('config schema', () => {
  it('accepts the documented example', () => {
    expect(() => parseConfig(exampleConfigDocument())).not.toThrow();
  });

  it('fills defaults from the topology and docs/design.md', () => {
    const c = parseConfig(MINIMAL);
    expect(c.msk).toMatchObject({ auth: 'iam', batchSize: 1000, batchingWindowSeconds: 1, startingPosition: 'LATEST', mode: 'on-demand' });
    // On-demand: no pollers to size and no retry controls (they exist only in provisioned mode).
    expect(['pollers', 'retryAttempts', 'maxRecordAgeSeconds'].filter((key) => key in c.msk)).toEqual([]);
    expect(c.throttleWindows).toEqual({ critical: 0, high: 300, medium: 900, low: 3600 });
    expect(c.rules).toEqual({ source: 'dynamodb', ssmPath: '/klaxon/rules', cacheTtlSeconds: 60 });
    expect(c.secrets.slack).toEqual({ name: 'klaxon/slack', existing: false });
    expect(c.routes.file).toBe('examples/routes.yaml');
  });

  it.each([
    // nothing but the mode: the provisioned defaults (1-2 pollers, 3 retries, 1 h)
    [{ mode: 'provisioned' }, { pollers: { min: 1, max: 2 }, retryAttempts: 3, maxRecordAgeSeconds: 3600 }],
    // a partial pollers object is completed, the rest defaulted
    [{ mode: 'provisioned', pollers: { max: 6 }, retryAttempts: 0 }, { pollers: { min: 1, max: 6 }, retryAttempts: 0, maxRecordAgeSeconds: 3600 }],
    // every provisioned setting given
    [{ mode: 'provisioned', pollers: { min: 2, max: 8 }, retryAttempts: 10, maxRecordAgeSeconds: 600 }, { pollers: { min: 2, max: 8 }, retryAttempts: 10, maxRecordAgeSeconds: 600 }],
  ])('provisioned mode %j fills its settings: %j', (msk, expected) => {
    const c = parseConfig(mergeConfig(MINIMAL, { msk }));
    expect(c.msk).toMatchObject({ mode: 'provisioned', ...expected });
  });

  it.each([
    // a Kafka topic ARN where the cluster ARN belongs
    [{ msk: { clusterArn: 'arn:aws:kafka:us-east-1:111122223333:topic/c1/abcd/metrics' } }, 'msk.clusterArn: must be an MSK cluster ARN'],
    // topic left empty (null in YAML)
    [{ msk: { topic: null } }, 'msk.topic:'],
    // a consumer group with a space
    [{ msk: { consumerGroupId: 'klaxon evaluator' } }, 'msk.consumerGroupId: must be 1-200 characters'],
    // SASL/SCRAM is not supported
    [{ msk: { auth: 'scram' } }, 'msk.auth: only "iam" is supported'],
    // beyond the Kafka ESM batch size limit
    [{ msk: { batchSize: 20_000 } }, 'msk.batchSize:'],
    // batching window beyond 5 minutes
    [{ msk: { batchingWindowSeconds: 301 } }, 'msk.batchingWindowSeconds:'],
    // an event poller mode Lambda does not have
    [{ msk: { mode: 'serverless' } }, 'msk.mode: must be one of on-demand, provisioned'],
    // pollers inverted (provisioned mode)
    [{ msk: { mode: 'provisioned', pollers: { min: 5, max: 2 } } }, 'msk.pollers.min: min must not exceed max'],
    // Lambda's minimum record age is 60 s (provisioned mode)
    [{ msk: { mode: 'provisioned', maxRecordAgeSeconds: 10 } }, 'msk.maxRecordAgeSeconds:'],
    // infinite retries would block a partition (provisioned mode)
    [{ msk: { mode: 'provisioned', retryAttempts: -1 } }, 'msk.retryAttempts:'],
    // pollers in the default on-demand mode: Lambda has none to size
    [{ msk: { pollers: { min: 1, max: 4 } } }, 'msk.pollers: applies only in provisioned mode: set msk.mode: provisioned, or remove pollers'],
    // retry controls given with mode on-demand spelled out: Lambda accepts them in provisioned mode only
    [{ msk: { mode: 'on-demand', retryAttempts: 3 } }, 'msk.retryAttempts: applies only in provisioned mode'],
    // maximum record age in on-demand mode
    [{ msk: { maxRecordAgeSeconds: 3600 } }, 'msk.maxRecordAgeSeconds: applies only in provisioned mode'],
    // a subnet given by name instead of id
    [{ msk: { network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['private-a'], securityGroupIds: ['sg-0123456789abcdef0'] } } }, 'msk.network.subnetIds.0: must be a subnet id'],
    // a security group given by name
    [{ msk: { network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['default'] } } }, 'msk.network.securityGroupIds.0: must be a security group id'],
    // unknown rule source
    [{ rules: { source: 'file' } }, 'rules.source:'],
    // relative SSM path
    [{ rules: { ssmPath: 'klaxon/rules' } }, 'rules.ssmPath: must be an SSM parameter path'],
    // not an email address
    [{ email: { sender: 'alerts' } }, 'email.sender:'],
    // no default recipients
    [{ email: { defaultRecipients: [] } }, 'email.defaultRecipients:'],
    // more recipients than SES takes in one message
    [{ email: { defaultRecipients: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) } }, 'email.defaultRecipients: at most 50 recipients'],
    // identity that does not cover the sender
    [{ email: { identity: 'other.org' } }, 'email.identity: identity must be the sender address or its domain'],
    // secret name with a space
    [{ secrets: { slack: { name: 'klaxon slack' } } }, 'secrets.slack.name: must be a Secrets Manager name'],
    // negative throttle window
    [{ throttleWindows: { high: -1 } }, 'throttleWindows.high:'],
    // zero failure threshold
    [{ breaker: { failureThreshold: 0 } }, 'breaker.failureThreshold:'],
    // both an existing topic and an email
    [{ alarms: { topicArn: 'arn:aws:sns:us-east-1:111122223333:t', email: 'a@example.com' } }, 'alarms.email: give either topicArn or email'],
    // a retention CloudWatch Logs does not offer
    [{ functions: { logRetentionDays: 10 } }, "functions.logRetentionDays: must be one of CloudWatch Logs' retention periods"],
    // a typo in a key
    [{ msk: { topik: 'metrics' } }, 'msk: Unrecognized key: "topik"'],
  ])('rejects %j naming the field', (override, message) => {
    const problems = problemsOf(mergeConfig(MINIMAL, override));
    expect(problems.join('\n')).toContain(message);
  });

  it('puts the source file and every problem in the message', () => {
    const err = (() => {
      try {
        parseConfig({}, 'prod.yaml');
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain('Invalid Klaxon configuration (prod.yaml)');
    expect(err.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^msk:/), expect.stringMatching(/^email:/)]));
  });
});

describe('loadConfig', () => {
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'klaxon-config-'));
    writeFileSync(join(d, 'routes.yaml'), 'routes: []\n');
    return d;
  };

  it('reads the example by default from the repository root, with its routes file', () => {
    const loaded = loadConfig({ cwd: REPO_ROOT });
    expect(loaded.configFile).toBe(join(REPO_ROOT, 'examples/klaxon.config.yaml'));
    expect(loaded.config.msk.topic).toBe('metrics');
    // The example config names examples/routes.yaml; its text goes to the SSM parameter as is.
    expect(loaded.routesDocument).toBe(readFileSync(join(REPO_ROOT, 'examples/routes.yaml'), 'utf8'));
  });

  it('prefers -c config= over KLAXON_CONFIG, and merges context overrides over the file', () => {
    const d = dir();
    writeFileSync(join(d, 'a.json'), JSON.stringify({ ...MINIMAL, routes: { file: 'routes.yaml' } }));
    writeFileSync(join(d, 'b.yaml'), 'not: [valid');
    const loaded = loadConfig({ cwd: d, contextPath: 'a.json', envPath: 'b.yaml', contextOverrides: '{"msk":{"topic":"metrics-v2"}}' });
    expect(loaded.config.msk.topic).toBe('metrics-v2');
    expect(loaded.config.msk.consumerGroupId).toBe('klaxon');
  });

  it.each([
    // the named file does not exist
    [{ contextPath: 'missing.yaml' }, '(file): not found; pass -c config=PATH or set KLAXON_CONFIG'],
    // the file is not YAML
    [{ envPath: 'broken.yaml' }, '(file): not valid YAML or JSON'],
    // the routes file it names does not exist
    [{ envPath: 'no-routes.yaml' }, 'routes.file:'],
    // the context override is not JSON
    [{ envPath: 'ok.yaml', contextOverrides: '{msk' }, 'not valid JSON'],
  ])('fails clearly: %j', (sources, message) => {
    const d = dir();
    writeFileSync(join(d, 'broken.yaml'), 'msk: [unclosed');
    writeFileSync(join(d, 'no-routes.yaml'), JSON.stringify({ ...MINIMAL, routes: { file: 'nope.yaml' } }));
    writeFileSync(join(d, 'ok.yaml'), JSON.stringify({ ...MINIMAL, routes: { file: 'routes.yaml' } }));
    expect(() => loadConfig({ cwd: d, ...sources })).toThrow(message);
  });
});

describe('renderConfigValues', () => {
  it('renders one string per topology config key, in the formats the functions read', () => {
    const values = renderConfigValues(exampleConfig({ email: { defaultRecipients: ['a@example.com', 'b@example.com'] } }), {
      sesConfigurationSet: 'cs-1',
      dashboardUrl: 'https://console/dash',
    });
    expect(Object.keys(values).sort()).toEqual([...CONFIG_KEYS].sort());
    expect(values).toMatchObject({
      defaultEmailRecipients: 'a@example.com,b@example.com',
      throttleWindows: '{"critical":0,"high":300000,"medium":900000,"low":3600000}',
      breaker: '{"failureThreshold":5,"openMs":60000,"halfOpenSuccesses":2}',
      sesConfigurationSet: 'cs-1',
      dashboardUrl: 'https://console/dash',
      rulesCacheTtlSeconds: '60',
      staleAfterSeconds: '300',
      seriesLimitPerRule: '10000',
      stateWindows: 'derived',
      maxFutureSkewSeconds: '600',
      maxSampleAgeSeconds: '604800',
    });
  });

  it.each([
    // on-demand (default): Lambda ignores a partial batch response, the evaluator must fail the invocation
    [{}, 'false'],
    // provisioned: ReportBatchItemFailures is set on the event source
    [{ msk: { mode: 'provisioned' } }, 'true'],
  ])('tells the evaluator whether partial batch responses are honoured: %j -> %s', (overrides, expected) => {
    expect(renderConfigValues(exampleConfig(overrides), { sesConfigurationSet: 'x', dashboardUrl: 'y' }).kafkaPartialBatchResponse).toBe(expected);
  });

  it('uses the configured dashboard URL over the stack dashboard', () => {
    const values = renderConfigValues(exampleConfig({ dashboardUrl: 'https://grafana.example.com/d/k' }), { sesConfigurationSet: 'x', dashboardUrl: 'https://console/dash' });
    expect(values.dashboardUrl).toBe('https://grafana.example.com/d/k');
  });
});
