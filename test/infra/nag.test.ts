/**
 * cdk-nag's AwsSolutions pack and CDK's CloudFormation template validation run on every synth:
 * zero unacknowledged findings for the example and for a configuration that turns on every
 * option, every acknowledgement has a specific reason, and a new finding fails the synth.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { synthApp } from './fixture.ts';

interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: { ruleName: string }[];
  suppressedViolations?: { ruleName: string; reason: string; acknowledgedAt: string }[];
}

function validationReport(dir: string): PluginReport[] {
  return (JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) as { pluginReports: PluginReport[] }).pluginReports;
}

/** Every option on: provisioned pollers, evaluator in the VPC, tracing, existing secrets and alarm topic, rules from SSM. */
const EVERYTHING_ON = {
  msk: { mode: 'provisioned', network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'], securityGroupIds: ['sg-0123456789abcdef0'], placeEvaluatorInVpc: true } },
  functions: { tracing: true },
  secrets: { slack: { name: 'team/slack', existing: true }, pagerduty: { name: 'team/pd', existing: true } },
  alarms: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alarms', email: null },
  rules: { source: 'ssm', ssmPath: '/team/klaxon/rules' },
  email: { identity: 'alerts@example.com' },
  // The enrichment with Logs Insights queries (docs/enrichment.md): StartQuery on two log groups, GetQueryResults/StopQuery acknowledged.
  enrichment: { settings: { logs: { logGroups: ['/aws/lambda/checkout', '/ecs/payments'], query: 'fields @timestamp, @message | filter service = {{labels.service}}' } } },
};

describe('cdk-nag AwsSolutions and template validation', () => {
  it.each([
    ['the example configuration (on-demand event source)', {}],
    ['every option turned on', EVERYTHING_ON],
  ])('synthesizes %s with zero unacknowledged findings, each acknowledgement with a specific reason', (_label, overrides) => {
    const { app } = synthApp(overrides);
    const assembly = app.synth();
    const reports = validationReport(assembly.directory);
    const nag = reports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    for (const r of reports) expect(r.violations.filter((v) => (v as { severity?: string }).severity === 'error'), r.pluginName).toEqual([]);
    for (const s of nag?.suppressedViolations ?? []) {
      // A reason says why this resource is fine, not "suppressed" or "n/a".
      expect(s.reason.length, `${s.ruleName} at ${s.acknowledgedAt}`).toBeGreaterThan(60);
    }
  });

  it('fails the synth on a new, unacknowledged finding', () => {
    const { app, pipeline } = synthApp();
    // A queue without a DLQ and without enforceSSL: AwsSolutions-SQS3 and -SQS4.
    new sqs.Queue(pipeline, 'Careless', { retentionPeriod: Duration.days(1) });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
