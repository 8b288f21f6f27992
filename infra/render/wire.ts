/**
 * Renders a topology function's `env` and `grants` onto its CDK function: environment values from
 * the resources' deploy-time names, and IAM statements that name exactly the ARNs the topology
 * lists (tables and their indexes by name, queues, dead-letter queues, secrets, the SES identity
 * and configuration set, the SSM parameters).
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { z } from 'zod';
import type { remediationActionsConfigSchema } from '../../shared/core/remediate/spec.ts';
import type { KlaxonFunction } from '../constructs/klaxon-function.ts';
import type { WorkQueue } from '../constructs/work-queue.ts';
import { TABLES, type ConfigKey, type EnvSource, type FunctionSpec, type Grant, type QueueName, type SecretName, type TableName, type TableSpec } from '../topology.ts';

/** The resources a function's env and grants may refer to. */
export interface WiringResources {
  readonly tables: Readonly<Record<TableName, dynamodb.ITableV2>>;
  readonly queues: Readonly<Record<QueueName, WorkQueue>>;
  readonly secrets: Readonly<Record<SecretName, secretsmanager.ISecret>>;
  /** ARNs the `ses` grant allows sending from: the identity and the configuration set. */
  readonly sesArns: readonly string[];
  /** ARNs of the SSM parameters: the rules path (the path and everything under it), the routes parameter. */
  readonly ssmArns: { readonly rules: readonly string[]; readonly routes: readonly string[]; readonly events: readonly string[]; readonly catalog: readonly string[] };
  /** ARNs of the log groups the enrichment queries (`arn:…:log-group:<name>`); empty: no logs configured. */
  readonly logGroupArns: readonly string[];
  readonly configValues: Readonly<Record<ConfigKey, string>>;
  /** The deployment's remediation actions and where they live (the `remediationActions` grant). */
  readonly remediation?: { readonly config: RemediationActionsConfigInput; readonly at: RemediationArnContext };
}

/** The deployment config's `remediation` section, as parsed by its schema. */
export type RemediationActionsConfigInput = z.output<typeof remediationActionsConfigSchema>;

/** Data-plane actions per access level (no control-plane or table-wide actions beyond DescribeTable). */
export const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:DescribeTable'],
} as const;

/** Actions to send to a queue. */
export const QUEUE_SEND_ACTIONS = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] as const;
/**
 * Actions to consume a queue (the event source polls with them; the function itself changes
 * visibility while a breaker is open, and deletes what it handled).
 */
export const QUEUE_CONSUME_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] as const;

/** The environment value of one {@link EnvSource}. */
export function envValue(source: EnvSource, resources: WiringResources): string {
  if ('tableName' in source) return resources.tables[source.tableName].tableName;
  if ('queueUrl' in source) return resources.queues[source.queueUrl].queue.queueUrl;
  if ('deadLetterQueueUrl' in source) {
    const dlq = resources.queues[source.deadLetterQueueUrl].deadLetterQueue;
    if (!dlq) throw new Error(`queue ${source.deadLetterQueueUrl} has no dead-letter queue in the topology`);
    return dlq.queueUrl;
  }
  return resources.configValues[source.config];
}

/** The table ARN and the ARN of each of its indexes, by name (never `index/*`). */
export function tableResourceArns(table: dynamodb.ITableV2, spec: TableSpec): string[] {
  return [table.tableArn, ...(spec.globalIndexes ?? []).map((gsi) => `${table.tableArn}/index/${gsi.name}`)];
}

/**
 * The statements of the `logsInsights` grant; none when no log groups are configured.
 * StartQuery is authorized on the log groups it reads (resource type `log-group`), so it names
 * exactly them (the `:*` form too: the console and the SDK docs use both). GetQueryResults and
 * StopQuery take a query id and support no resource-level permissions ("*" in the Service
 * Authorization Reference for CloudWatch Logs,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html):
 * a query id reads only the results of a query this account started.
 */
export function logsInsightsStatements(logGroupArns: readonly string[]): iam.PolicyStatement[] {
  if (!logGroupArns.length) return [];
  return [
    new iam.PolicyStatement({ actions: ['logs:StartQuery'], resources: logGroupArns.flatMap((a) => [a, `${a}:*`]) }),
    new iam.PolicyStatement({ actions: ['logs:GetQueryResults', 'logs:StopQuery'], resources: ['*'] }),
  ];
}

/**
 * The IAM statement for one {@link Grant}; not `logsInsights` ({@link logsInsightsStatements}) nor
 * `remediationActions` ({@link remediationStatements}): those render from deployment config.
 */
export function grantStatement(grant: Exclude<Grant, { logsInsights: true } | { remediationActions: true }>, resources: WiringResources): iam.PolicyStatement {
  if ('table' in grant) {
    const actions =
      grant.access === 'read' ? TABLE_ACTIONS.read : grant.access === 'write' ? TABLE_ACTIONS.write : [...new Set([...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write])];
    return new iam.PolicyStatement({
      actions: [...actions],
      resources: tableResourceArns(resources.tables[grant.table], TABLES[grant.table]),
    });
  }
  if ('queue' in grant) {
    return new iam.PolicyStatement({
      actions: [...(grant.access === 'send' ? QUEUE_SEND_ACTIONS : QUEUE_CONSUME_ACTIONS)],
      resources: [resources.queues[grant.queue].queue.queueArn],
    });
  }
  if ('deadLetterQueue' in grant) {
    const dlq = resources.queues[grant.deadLetterQueue].deadLetterQueue;
    if (!dlq) throw new Error(`queue ${grant.deadLetterQueue} has no dead-letter queue in the topology`);
    return new iam.PolicyStatement({ actions: [...QUEUE_SEND_ACTIONS], resources: [dlq.queueArn] });
  }
  if ('secret' in grant) {
    const secret = resources.secrets[grant.secret];
    // An imported-by-name secret's ARN ends in Secrets Manager's random 6-character suffix.
    const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
    return new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [arn] });
  }
  if ('ses' in grant) {
    // SES authorizes SendEmail on the identity and on the configuration set it names.
    // https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html
    return new iam.PolicyStatement({ actions: ['ses:SendEmail', 'ses:SendRawEmail'], resources: [...resources.sesArns] });
  }
  const arns = resources.ssmArns[grant.ssmParameters];
  return new iam.PolicyStatement({
    actions: grant.ssmParameters === 'rules' ? ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameters'] : ['ssm:GetParameter'],
    resources: [...arns],
  });
}

/** Where the remediation actions live: the stack's partition, region and account (CDK tokens). */
export interface RemediationArnContext {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/**
 * The statements of the `remediationActions` grant (docs/remediation.md, "IAM"): exactly the
 * configured documents, functions, automation roles and webhook secrets, nothing wider; none when
 * no action is declared. ssm:StartAutomationExecution also needs `automation-execution/*`: the
 * execution it creates has an id not known before (AWS's own example policy:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-identity-based-policies.html).
 */
export function remediationStatements(config: RemediationActionsConfigInput, at: RemediationArnContext): iam.PolicyStatement[] {
  const actions = Object.values(config.actions ?? {});
  const arn = (service: string, resource: string) => `arn:${at.partition}:${service}:${at.region}:${at.account}:${resource}`;
  const documents = [...new Set(actions.flatMap((a) => ('ssmAutomation' in a ? [a.ssmAutomation.document] : [])))].sort();
  const roles = [...new Set(actions.flatMap((a) => ('ssmAutomation' in a && a.ssmAutomation.assumeRoleArn ? [a.ssmAutomation.assumeRoleArn] : [])))].sort();
  const functions = [...new Set(actions.flatMap((a) => ('lambda' in a ? [a.lambda.functionName] : [])))].sort();
  const secrets = [...new Set(actions.flatMap((a) => ('webhook' in a ? [a.webhook.secret] : [])))].sort();
  const out: iam.PolicyStatement[] = [];
  if (documents.length) {
    out.push(new iam.PolicyStatement({ actions: ['ssm:StartAutomationExecution'], resources: [...documents.map((d) => (d.startsWith('arn:') ? d : arn('ssm', `document/${d}`))), arn('ssm', 'automation-execution/*')] }));
  }
  if (roles.length) {
    // The documents run as these roles (AutomationAssumeRole): passed to SSM only.
    out.push(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: roles, conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } } }));
  }
  if (functions.length) {
    out.push(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions.map((f) => (f.startsWith('arn:') ? f : arn('lambda', `function:${f}`))) }));
  }
  if (secrets.length) {
    // Secrets Manager adds a random 6-character suffix to a secret's ARN.
    out.push(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secrets.map((s) => arn('secretsmanager', `secret:${s}-??????`)) }));
  }
  return out;
}

/** Sets the function's environment and adds one statement per grant to its role. */
export function wireFunction(target: KlaxonFunction, spec: FunctionSpec, resources: WiringResources): void {
  for (const [name, source] of Object.entries(spec.env)) target.fn.addEnvironment(name, envValue(source, resources));
  for (const grant of spec.grants) {
    if ('remediationActions' in grant) {
      if (!resources.remediation) throw new Error('the remediationActions grant needs the deployment\'s remediation actions (WiringResources.remediation)');
      for (const st of remediationStatements(resources.remediation.config, resources.remediation.at)) target.role.addToPolicy(st);
      continue;
    }
    if ('logsInsights' in grant) {
      for (const st of logsInsightsStatements(resources.logGroupArns)) target.role.addToPolicy(st);
      continue;
    }
    target.role.addToPolicy(grantStatement(grant, resources));
  }
}
