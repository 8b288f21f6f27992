/**
 * Auto-remediation in the CDK app (docs/remediation.md, "IAM"): the remediate function may run
 * exactly the deployment's declared actions (the SSM documents, the Lambda functions, the webhook
 * secrets, the automation role passed to SSM only) and nothing wider; with no actions it holds no
 * such statement; cdk-nag stays clean with actions declared.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthApp } from './fixture.ts';

const ACTIONS = {
  remediation: {
    actions: {
      'restart-consumer': { ssmAutomation: { document: 'Klaxon-RestartConsumer', assumeRoleArn: 'arn:aws:iam::123456789012:role/klaxon-automation' } },
      'scale-up': { lambda: { functionName: 'scale-up' } },
      'restart-web': { webhook: { url: 'https://ops.example.com/restart', secret: 'klaxon/remediation/restart-web' } },
    },
  },
};

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The statements of the remediate function's role, and the template as JSON text. */
function remediateStatements(overrides: unknown): Statement[] {
  const k = synthApp(overrides, { validate: false });
  const t = Template.fromStack(k.pipeline);
  const resources = t.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const fnId = k.pipeline.getLogicalId(k.pipeline.functions.remediate.fn.node.defaultChild as CfnElement);
  const roleId = (resources[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const text = (v: unknown): string => JSON.stringify(v);
const arn = (service: string, rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${rest}`]] });

describe('remediate function IAM', () => {
  it('names exactly the configured documents, functions, role and secrets', () => {
    const st = remediateStatements(ACTIONS);
    const by = (action: string) => st.filter((s) => actionsOf(s).includes(action));
    expect(by('ssm:StartAutomationExecution').map((s) => s.Resource)).toEqual([[arn('ssm', 'document/Klaxon-RestartConsumer'), arn('ssm', 'automation-execution/*')]]);
    expect(by('iam:PassRole')).toEqual([expect.objectContaining({ Resource: 'arn:aws:iam::123456789012:role/klaxon-automation', Condition: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } } })]);
    expect(by('lambda:InvokeFunction').map((s) => s.Resource)).toEqual([arn('lambda', 'function:scale-up')]);
    expect(by('secretsmanager:GetSecretValue').map((s) => s.Resource)).toEqual([arn('secretsmanager', 'secret:klaxon/remediation/restart-web-??????')]);
    // Nothing wider: no action wildcard, no bare `*` resource, no other SSM, Lambda or IAM action.
    for (const s of st) {
      for (const a of actionsOf(s)) expect(a).not.toMatch(/\*/);
      expect(text(s.Resource)).not.toMatch(/"\*"|function:\*|document\/\*/);
    }
    const kinds = new Set(st.flatMap(actionsOf).filter((a) => /^(ssm|lambda|iam|secretsmanager):/.test(a)));
    expect([...kinds].sort()).toEqual(['iam:PassRole', 'lambda:InvokeFunction', 'secretsmanager:GetSecretValue', 'ssm:StartAutomationExecution']);
  });

  it('holds no SSM, Lambda, PassRole or secret permission when no action is declared', () => {
    const st = remediateStatements({});
    expect(st.flatMap(actionsOf).filter((a) => /^(ssm|lambda|iam|secretsmanager):/.test(a))).toEqual([]);
  });

  it('synthesizes with actions declared with zero unacknowledged cdk-nag findings', () => {
    const { app } = synthApp(ACTIONS);
    const dir = app.synth().directory;
    const reports = (JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[] }).pluginReports;
    const nag = reports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.violations).toEqual([]);
    expect(nag?.conclusion).toBe('success');
  });
});
