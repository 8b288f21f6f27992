/**
 * cdk-nag AwsSolutions findings the pipeline accepts, each on the narrowest construct and with the
 * reason it is acceptable. cdk-nag v3 matches each granular finding id exactly
 * (`Validations.of(scope).acknowledge`); anything not listed here fails the synth.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** The constructs the acknowledgements attach to. */
export interface NagTargets {
  /** Secrets created by the stack (rotation is not ours to do). */
  readonly createdSecrets: readonly IConstruct[];
  /** The rejected-records queue (a quarantine, not a work queue). */
  readonly rejectedQueue: IConstruct;
  /** The evaluator's role (MSK managed policy, failed-records bucket objects). */
  readonly evaluatorRole: iam.IRole;
  /** The failed-records bucket's logical id owner. */
  readonly failedRecordsBucket: IConstruct & { readonly node: IConstruct['node'] };
  /** Roles that read rules from the SSM path. */
  readonly rulesReaderRoles: readonly iam.IRole[];
  readonly rulesSsmPath: string;
  /** The timers function (the scheduler's invoke role names its versions). */
  readonly timersFunction: lambda.IFunction;
  /** Roles of functions with X-Ray active tracing, if enabled. */
  readonly tracedRoles: readonly iam.IRole[];
  /** The evaluator runs in the VPC (VPC access managed policy). */
  readonly evaluatorInVpc: boolean;
  /** The remediate function's role when the deployment declares SSM Automation actions (docs/remediation.md). */
  readonly ssmAutomationRole?: iam.IRole;
  /** Roles that run Logs Insights queries for the enrichment (only when log groups are configured). */
  readonly logsQueryRoles?: readonly iam.IRole[];
  /** The log groups they may query. */
  readonly logGroupNames?: readonly string[];
}

const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });

/** The CloudFormation logical id cdk-nag prints for a construct's default resource. */
function logicalId(construct: IConstruct): string {
  const cfn = construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0];
  return Stack.of(construct).getLogicalId(cfn);
}

/** Records every acknowledgement. */
export function acknowledgeNagFindings(stack: Stack, t: NagTargets): void {
  for (const secret of t.createdSecrets) {
    ack(
      secret,
      'AwsSolutions-SMG4',
      'Holds third-party credentials (Slack bot token / webhook URLs, PagerDuty routing keys) issued by those services; Secrets Manager cannot rotate them, the operator does when the vendor reissues them.',
    );
  }
  ack(
    t.rejectedQueue,
    'AwsSolutions-SQS3',
    'The rejected queue is itself the quarantine for undecodable Kafka records (like a DLQ): no function consumes it, operators inspect it with `klaxon dlq list`, and it is alarmed on.',
  );
  ack(
    t.evaluatorRole,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]',
    'Attached by ManagedKafkaEventSource: the event source poller needs kafka:DescribeCluster*/GetBootstrapBrokers and the EC2 ENI actions in the cluster VPC, which AWS documents as this managed policy (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html).',
  );
  ack(
    t.evaluatorRole,
    `AwsSolutions-IAM5[Resource::<${logicalId(t.failedRecordsBucket)}.Arn>/*]`,
    'Lambda writes each failed Kafka batch as a new object with a generated key into the failed-records bucket; s3:PutObject only, on this bucket only.',
  );
  const rulesPathFinding = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter${t.rulesSsmPath}/*]`;
  for (const role of t.rulesReaderRoles) {
    ack(role, rulesPathFinding, `Rules from SSM are one parameter per rules file under ${t.rulesSsmPath} (read with GetParametersByPath); read-only, under that path only.`);
  }
  ack(
    stack,
    `AwsSolutions-IAM5[Resource::<${logicalId(t.timersFunction)}.Arn>:*]`,
    'EventBridge Scheduler invoke role created by LambdaInvoke: lambda:InvokeFunction on the timers function and its versions/aliases only.',
  );
  for (const role of t.tracedRoles) {
    ack(role, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html).');
  }
  if (t.ssmAutomationRole) {
    ack(
      t.ssmAutomationRole,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:automation-execution/*]',
      'ssm:StartAutomationExecution on the new execution, whose id SSM generates (AWS documents this resource for it); the documents it may start are named one by one in the same statement.',
    );
  }
  for (const role of t.logsQueryRoles ?? []) {
    ack(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'logs:GetQueryResults and logs:StopQuery take a query id and support no resource-level permissions (Service Authorization Reference for CloudWatch Logs, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html); logs:StartQuery is limited to the configured log groups.',
    );
    for (const g of t.logGroupNames ?? []) {
      ack(
        role,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${g}:*]`,
        `logs:StartQuery on the configured log group ${g} (its \`:*\` form, as the CloudWatch Logs ARN format for log groups allows); no other log group.`,
      );
    }
  }
  if (t.evaluatorInVpc) {
    ack(
      t.evaluatorRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'The evaluator was configured to run in the MSK VPC (msk.network.placeEvaluatorInVpc); Lambda needs the ENI actions this AWS managed policy grants.',
    );
  }
}
