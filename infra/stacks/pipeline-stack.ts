/**
 * The stateless half: every function of the topology with its trigger, the queues, the on-failure
 * bucket of the Kafka event source, secrets, the SES identity and configuration set, the routes
 * parameter, the alarm topic, the dashboard and alarms. Rendered from infra/topology.ts; the tables
 * come from {@link KlaxonStateStack}.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ManagedKafkaEventSource, type ManagedKafkaEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { CHANNELS, type Channel as DeliveryChannel } from '../../shared/core/model/index.ts';
import { renderConfigValues, type KlaxonConfig, type MskConfig } from '../config/index.ts';
import { Channel } from '../constructs/channel.ts';
import { FailedRecordsDestination } from '../constructs/failed-records-destination.ts';
import { InteractionsEndpoint } from '../constructs/interactions.ts';
import { KlaxonFunction, type KlaxonFunctionProps } from '../constructs/klaxon-function.ts';
import { PipelineObservability } from '../constructs/observability.ts';
import { WorkQueue } from '../constructs/work-queue.ts';
import { wireFunction } from '../render/wire.ts';
import { FUNCTIONS, QUEUES, SECRETS, type FunctionName, type FunctionSpec, type QueueName, type SecretName, type TableName } from '../topology.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';

/** Lambda requires a function timeout of at most 14 minutes for Kafka event sources. https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html */
export const KAFKA_MAX_FUNCTION_TIMEOUT_SECONDS = 14 * 60;

/** SSM Parameter Store tier limits (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html). */
export const SSM_STANDARD_MAX_CHARS = 4096;
/** Advanced tier: 8 KB. */
export const SSM_ADVANCED_MAX_CHARS = 8192;

/** Props of {@link KlaxonPipelineStack}. */
export interface KlaxonPipelineStackProps extends StackProps {
  readonly config: KlaxonConfig;
  /** The routes YAML (the value of the routes parameter). */
  readonly routesDocument: string;
  /** The error-events configuration YAML (the value of the events parameter; absent: the built-in classification). */
  readonly eventsDocument?: string;
  /** The service catalog YAML (the value of the catalog parameter; absent: an empty catalog). */
  readonly catalogDocument?: string;
  readonly tables: Readonly<Record<TableName, dynamodb.ITableV2>>;
  /** Repository root: function entries and package-lock.json are resolved against it. */
  readonly projectRoot: string;
}

const pascal = (s: string): string => `${s[0]!.toUpperCase()}${s.slice(1)}`;

/** Derives the topic and consumer-group ARNs IAM access control uses from the cluster ARN. */
export function kafkaResourceArns(clusterArn: string, topic: string, group: string): { cluster: string; topic: string; group: string } {
  // arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> → .../topic/<name>/<uuid>/<topic>
  // https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html#msk-iam-resources
  const base = clusterArn.replace(':cluster/', ':');
  const [prefix, rest] = [base.slice(0, base.lastIndexOf(':') + 1), base.slice(base.lastIndexOf(':') + 1)];
  return { cluster: clusterArn, topic: `${prefix}topic/${rest}/${topic}`, group: `${prefix}group/${rest}/${group}` };
}

/** The delivery function of each channel, from the topology (the function consuming the channel's queue). */
export function deliveryFunctions(): Record<DeliveryChannel, FunctionName> {
  const out = {} as Record<DeliveryChannel, FunctionName>;
  for (const [name, spec] of Object.entries(FUNCTIONS) as [FunctionName, FunctionSpec][]) {
    const t = spec.trigger;
    if (t.kind === 'sqs' && (CHANNELS as readonly string[]).includes(t.queue)) out[t.queue as DeliveryChannel] = name;
  }
  return out;
}

/**
 * The evaluator's MSK event source, by event poller mode.
 *
 * Which settings need provisioned mode, for an MSK source (AWS docs):
 * - valid in both modes: topic, consumer group, starting position, batch size, batching window, and
 *   the on-failure destination (S3 receives the full invocation record; SQS/SNS only metadata)
 *   https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html
 * - provisioned mode only: MaximumRetryAttempts, MaximumRecordAgeInSeconds,
 *   BisectBatchOnFunctionError and FunctionResponseTypes=ReportBatchItemFailures ("Under Event
 *   poller configuration, select provisioned mode to configure error handling controls")
 *   https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
 *   and the event source mapping's own metrics and logs (MetricsConfig, LoggingConfig; aws-cdk-lib
 *   aws-lambda-event-sources README: "Observability features (LogLevel and MetricsConfig) are only
 *   available when using provisioned mode"). OffsetLag, which the dashboard and the lag alarm read,
 *   is a function metric in both modes (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
 *
 * In on-demand mode a failing batch is retried whole until it succeeds or its records leave the
 * topic ("Lambda retries the whole batch of messages until processing succeeds or the messages
 * expire", https://docs.aws.amazon.com/lambda/latest/dg/with-msk-process.html). That is safe for
 * the evaluator: bad input never fails a batch (decode is bounded and never throws; rejected records
 * go to the rejected queue with their coordinates), and a redelivered batch is idempotent (samples a
 * series has already seen are skipped, transitions carry deterministic ids deduplicated by the FIFO
 * queue). Without ReportBatchItemFailures, though, Lambda would ignore the partial batch response
 * the evaluator returns after a transient failure (throttling, an SQS outage) and commit the offsets
 * of those partitions: so the evaluator is told the mode (KAFKA_PARTIAL_BATCH_RESPONSE, rendered in
 * infra/config/render.ts) and fails the whole invocation instead in on-demand mode.
 */
export function kafkaEventSourceProps(msk: MskConfig, onFailure: lambda.IEventSourceDlq): ManagedKafkaEventSourceProps {
  const common: ManagedKafkaEventSourceProps = {
    clusterArn: msk.clusterArn,
    topic: msk.topic,
    consumerGroupId: msk.consumerGroupId,
    startingPosition: msk.startingPosition === 'LATEST' ? lambda.StartingPosition.LATEST : lambda.StartingPosition.TRIM_HORIZON,
    batchSize: msk.batchSize,
    maxBatchingWindow: Duration.seconds(msk.batchingWindowSeconds),
    onFailure,
  };
  if (msk.mode === 'on-demand') return common;
  return {
    ...common,
    // Billed as Event Poller Units for `min` pollers around the clock (docs/deploy.md).
    provisionedPollerConfig: { minimumPollers: msk.pollers.min, maximumPollers: msk.pollers.max },
    reportBatchItemFailures: true,
    retryAttempts: msk.retryAttempts,
    maxRecordAge: Duration.seconds(msk.maxRecordAgeSeconds),
    bisectBatchOnError: true,
    metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT, lambda.MetricType.ERROR_COUNT, lambda.MetricType.KAFKA_METRICS] },
  };
}

/** Functions, queues, event sources, schedule, secrets, SES, routes, dashboard and alarms. */
export class KlaxonPipelineStack extends Stack {
  /** Every function by logical name. */
  readonly functions: Record<FunctionName, KlaxonFunction>;
  /** Every queue by logical name. */
  readonly queues: Record<QueueName, WorkQueue>;
  /** The channels (one per SQS-triggered function), by consuming function. */
  readonly channels: Partial<Record<FunctionName, Channel>> = {};
  /** Where alarms go. */
  readonly alarmTopic: sns.ITopic;
  /** Full records of Kafka batches the evaluator gave up on. */
  readonly failedRecordsBucket: s3.Bucket;
  /** Secrets by logical name. */
  readonly secrets: Record<SecretName, secretsmanager.ISecret>;
  /** Dashboard and pipeline alarms. */
  readonly observability: PipelineObservability;
  /** The timers schedule. */
  readonly timersSchedule: scheduler.Schedule;
  /** The interactions endpoint (Function URL for Slack and PagerDuty) and its alarms. */
  readonly interactions: InteractionsEndpoint;

  constructor(scope: Construct, id: string, props: KlaxonPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;

    // ── Alarm topic ─────────────────────────────────────────────────────────────────────────
    if (config.alarms.topicArn) {
      this.alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarms.topicArn);
    } else {
      // CloudWatch can only publish to an encrypted topic whose key lets it (an AWS managed key cannot).
      // https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
      const key = new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Klaxon pipeline alarm topic', removalPolicy: RemovalPolicy.DESTROY });
      key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
      const topic = new sns.Topic(this, 'AlarmTopic', { displayName: `${config.productName} pipeline alarms`, masterKey: key, enforceSSL: true });
      if (config.alarms.email) topic.addSubscription(new snsSubscriptions.EmailSubscription(config.alarms.email));
      this.alarmTopic = topic;
    }

    // ── Secrets, SES, routes ────────────────────────────────────────────────────────────────
    const secretConfig = { slack: config.secrets.slack, pagerduty: config.secrets.pagerduty, pagerdutyWebhook: config.secrets.pagerdutyWebhook, webhooks: config.secrets.webhooks } as const;
    this.secrets = {} as Record<SecretName, secretsmanager.ISecret>;
    for (const name of Object.keys(SECRETS) as SecretName[]) {
      const c = secretConfig[name];
      this.secrets[name] = c.existing
        ? secretsmanager.Secret.fromSecretNameV2(this, `${pascal(name)}Secret`, c.name)
        : new secretsmanager.Secret(this, `${pascal(name)}Secret`, {
            secretName: c.name,
            description: SECRETS[name],
            // Created holding `{}`: the operator sets the real value (never in the template).
            secretObjectValue: {},
            // Survives a teardown: the tokens in it were issued by Slack / PagerDuty, not by us.
            removalPolicy: RemovalPolicy.RETAIN,
          });
    }

    const identityName = config.email.identity ?? config.email.sender;
    const identity = new ses.EmailIdentity(this, 'EmailIdentity', {
      identity: identityName.includes('@') ? ses.Identity.email(identityName) : ses.Identity.domain(identityName),
    });
    const configurationSet = new ses.ConfigurationSet(this, 'EmailConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });

    if (props.routesDocument.length > SSM_ADVANCED_MAX_CHARS) {
      throw new Error(`routes file is ${props.routesDocument.length} characters; an SSM parameter holds at most ${SSM_ADVANCED_MAX_CHARS}`);
    }
    const routesParameter = new ssm.StringParameter(this, 'RoutesParameter', {
      parameterName: config.routes.parameterName,
      description: 'Klaxon routes (YAML), read by dispatch',
      stringValue: props.routesDocument,
      tier: props.routesDocument.length > SSM_STANDARD_MAX_CHARS ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });

    // Never empty (SSM refuses an empty value): a comment is an empty YAML document, the built-in configuration.
    const eventsDocument = props.eventsDocument ?? '# Klaxon error events: the built-in classification and a 24h quiet period (docs/events.md)\n';
    if (eventsDocument.length > SSM_ADVANCED_MAX_CHARS) {
      throw new Error(`events file is ${eventsDocument.length} characters; an SSM parameter holds at most ${SSM_ADVANCED_MAX_CHARS}`);
    }
    const eventsParameter = new ssm.StringParameter(this, 'EventsParameter', {
      parameterName: config.events.parameterName,
      description: 'Klaxon error-events configuration (YAML: classification, fingerprints, quiet period), read by the evaluator and timers',
      stringValue: eventsDocument,
      tier: eventsDocument.length > SSM_STANDARD_MAX_CHARS ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });

    // Never empty (SSM refuses an empty value): a comment is an empty catalog (docs/enrichment.md).
    const catalogDocument = props.catalogDocument ?? '# Klaxon service catalog: empty (docs/enrichment.md)\n';
    if (catalogDocument.length > SSM_ADVANCED_MAX_CHARS) {
      throw new Error(`catalog file is ${catalogDocument.length} characters; an SSM parameter holds at most ${SSM_ADVANCED_MAX_CHARS} (use a catalog table for more)`);
    }
    const catalogParameter = new ssm.StringParameter(this, 'CatalogParameter', {
      parameterName: config.enrichment.catalogParameterName,
      description: 'Klaxon service catalog (YAML: owner, team, on-call, runbook, links per service), read by the channel functions',
      stringValue: catalogDocument,
      tier: catalogDocument.length > SSM_STANDARD_MAX_CHARS ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });

    // ── Functions and queues ────────────────────────────────────────────────────────────────
    const fnCommon: Omit<KlaxonFunctionProps, 'name' | 'spec'> = {
      projectRoot: props.projectRoot,
      logLevel: config.functions.logLevel,
      logRetention: config.functions.logRetentionDays as logs.RetentionDays,
      tracing: config.functions.tracing,
    };
    const deliveryOf = Object.fromEntries(Object.entries(deliveryFunctions()).map(([c, f]) => [f, c])) as Partial<Record<FunctionName, DeliveryChannel>>;

    this.functions = {} as Record<FunctionName, KlaxonFunction>;
    this.queues = {} as Record<QueueName, WorkQueue>;
    for (const [name, spec] of Object.entries(FUNCTIONS) as [FunctionName, FunctionSpec][]) {
      const trigger = spec.trigger;
      if (trigger.kind !== 'sqs') continue;
      const deliveryChannel = deliveryOf[name];
      const channel = new Channel(this, `${pascal(name)}Channel`, {
        ...fnCommon,
        queueName: trigger.queue,
        queueSpec: QUEUES[trigger.queue],
        functionName: name,
        functionSpec: spec,
        alarmTopic: this.alarmTopic,
        ...(deliveryChannel ? { deliveryChannel } : {}),
      });
      this.channels[name] = channel;
      this.functions[name] = channel.function;
      this.queues[trigger.queue] = channel.queue;
    }
    // Queues no function consumes (the rejected-records quarantine).
    for (const [name, spec] of Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][]) {
      if (!this.queues[name]) this.queues[name] = new WorkQueue(this, `${pascal(name)}Queue`, { name, spec });
    }

    // Evaluator: MSK, on-demand pollers by default (see kafkaEventSourceProps), full failed batches kept in S3.
    const evaluatorSpec = FUNCTIONS.evaluator;
    if (evaluatorSpec.timeoutSeconds > KAFKA_MAX_FUNCTION_TIMEOUT_SECONDS) {
      throw new Error(`evaluator timeout ${evaluatorSpec.timeoutSeconds} s exceeds the ${KAFKA_MAX_FUNCTION_TIMEOUT_SECONDS} s Lambda allows for Kafka sources`);
    }
    const network = config.msk.network;
    const vpcPlacement =
      network?.placeEvaluatorInVpc === true
        ? {
            vpc: ec2.Vpc.fromVpcAttributes(this, 'MskVpc', { vpcId: network.vpcId, availabilityZones: network.subnetIds.map((_, i) => `az-${i}`) }),
            subnets: network.subnetIds.map((sid, i) => ec2.Subnet.fromSubnetId(this, `MskSubnet${i}`, sid)),
            securityGroups: network.securityGroupIds.map((gid, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `MskSecurityGroup${i}`, gid, { mutable: false })),
          }
        : undefined;
    this.functions.evaluator = new KlaxonFunction(this, 'Evaluator', { ...fnCommon, name: 'evaluator', spec: evaluatorSpec, ...(vpcPlacement ? { vpc: vpcPlacement } : {}) });

    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.failedRecordsBucket = new s3.Bucket(this, 'FailedRecordsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(config.msk.failedRecordsRetentionDays) }],
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'failed-records/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.functions.evaluator.fn.addEventSource(new ManagedKafkaEventSource(kafkaEventSourceProps(config.msk, new FailedRecordsDestination(this.failedRecordsBucket))));
    // IAM access control: the event source connects as the function's role.
    // https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html
    const kafka = kafkaResourceArns(config.msk.clusterArn, config.msk.topic, config.msk.consumerGroupId);
    this.functions.evaluator.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
        resources: [kafka.cluster],
      }),
    );
    this.functions.evaluator.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: [kafka.topic] }),
    );
    this.functions.evaluator.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'], resources: [kafka.group] }),
    );

    // Timers: every minute (EventBridge Scheduler; a missed run is not retried, the next one catches up).
    const timersSpec = FUNCTIONS.timers;
    this.functions.timers = new KlaxonFunction(this, 'Timers', { ...fnCommon, name: 'timers', spec: timersSpec });
    this.timersSchedule = new scheduler.Schedule(this, 'TimersSchedule', {
      description: 'Klaxon timers: absence, staleness and keep_firing_for resolutions that are due',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(timersSpec.trigger.everyMinutes)),
      target: new schedulerTargets.LambdaInvoke(this.functions.timers.fn, {
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });

    // Interactions endpoint: a Function URL (docs/design.md, "Interactions endpoint").
    this.functions.interactions = new KlaxonFunction(this, 'Interactions', { ...fnCommon, name: 'interactions', spec: FUNCTIONS.interactions });
    this.interactions = new InteractionsEndpoint(this, 'InteractionsEndpoint', { fn: this.functions.interactions, name: 'interactions', alarmTopic: this.alarmTopic });

    // ── Observability (before env: DASHBOARD_URL defaults to the dashboard) ────────────────
    const channelAlarms = [...Object.values(this.channels).flatMap((c) => c.alarms), ...this.interactions.alarms];
    this.observability = new PipelineObservability(this, 'Observability', {
      functions: this.functions,
      queues: this.queues,
      tables: props.tables,
      deliveryFunctions: deliveryFunctions(),
      alarmTopic: this.alarmTopic,
      offsetLagAlarmFloor: config.msk.offsetLagAlarmFloor,
      otherAlarms: channelAlarms,
      productName: config.productName,
    });

    // ── Environment and grants, from the topology ───────────────────────────────────────────
    const ssmArn = (path: string) => `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${path}`;
    const configValues = renderConfigValues(config, {
      sesConfigurationSet: configurationSet.configurationSetName,
      dashboardUrl: this.observability.dashboardUrl,
    });
    const resources = {
      tables: props.tables,
      queues: this.queues,
      secrets: this.secrets,
      sesArns: [
        identity.emailIdentityArn,
        `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:configuration-set/${configurationSet.configurationSetName}`,
      ],
      ssmArns: { rules: [ssmArn(config.rules.ssmPath), ssmArn(`${config.rules.ssmPath}/*`)], routes: [routesParameter.parameterArn], events: [eventsParameter.parameterArn], catalog: [catalogParameter.parameterArn] },
      // StartQuery on exactly the configured log groups (docs/enrichment.md, "Permissions").
      logGroupArns: (config.enrichment.settings?.logs?.logGroups ?? []).map((g) => `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${g}`),
      configValues,
      remediation: { config: config.remediation, at: { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID } },
    };
    for (const [name, spec] of Object.entries(FUNCTIONS) as [FunctionName, FunctionSpec][]) {
      wireFunction(this.functions[name], spec, resources);
    }

    // What an operator needs after a deploy (docs/operations.md).
    new CfnOutput(this, 'DashboardUrl', { value: this.observability.dashboardUrl, description: 'The pipeline dashboard' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'Where pipeline alarms go' });
    new CfnOutput(this, 'FailedRecordsBucketName', { value: this.failedRecordsBucket.bucketName, description: 'Kafka batches the evaluator gave up on' });
    new CfnOutput(this, 'RejectedQueueUrl', { value: this.queues.rejected.queue.queueUrl, description: 'Undecodable or invalid records' });
    new CfnOutput(this, 'SlackSecretName', { value: config.secrets.slack.name });
    new CfnOutput(this, 'PagerDutySecretName', { value: config.secrets.pagerduty.name });
    new CfnOutput(this, 'SesConfigurationSetName', { value: configurationSet.configurationSetName });
    new CfnOutput(this, 'SlackInteractivityUrl', { value: this.interactions.slackUrl, description: 'Slack app: Interactivity & Shortcuts → Request URL (docs/deploy.md)' });
    new CfnOutput(this, 'PagerDutyWebhookUrl', { value: this.interactions.pagerDutyUrl, description: 'PagerDuty: the v3 webhook subscription URL (docs/deploy.md)' });
    new CfnOutput(this, 'PagerDutyWebhookSecretName', { value: config.secrets.pagerdutyWebhook.name, description: 'Set { "secret": "<the subscription signing secret>" } here' });
    new CfnOutput(this, 'WebhooksSecretName', { value: config.secrets.webhooks.name, description: 'Outgoing webhooks: set { "<receiver>": { "secrets": ["whsec_..."] } } here (docs/channels.md)' });

    const readsRules = (Object.entries(FUNCTIONS) as [FunctionName, FunctionSpec][])
      .filter(([, spec]) => spec.grants.some((g) => 'ssmParameters' in g && g.ssmParameters === 'rules'))
      .map(([name]) => this.functions[name].role);
    acknowledgeNagFindings(this, {
      createdSecrets: (Object.keys(SECRETS) as SecretName[]).filter((n) => !secretConfig[n].existing).map((n) => this.secrets[n]),
      rejectedQueue: this.queues.rejected.queue,
      evaluatorRole: this.functions.evaluator.role,
      failedRecordsBucket: this.failedRecordsBucket,
      rulesReaderRoles: readsRules,
      rulesSsmPath: config.rules.ssmPath,
      timersFunction: this.functions.timers.fn,
      tracedRoles: config.functions.tracing ? Object.values(this.functions).map((f) => f.role) : [],
      evaluatorInVpc: vpcPlacement !== undefined,
      ...(Object.values(config.remediation.actions).some((a) => 'ssmAutomation' in a) ? { ssmAutomationRole: this.functions.remediate.role } : {}),
      logGroupNames: config.enrichment.settings?.logs?.logGroups ?? [],
      logsQueryRoles: config.enrichment.settings?.logs
        ? (Object.entries(FUNCTIONS) as [FunctionName, FunctionSpec][]).filter(([, spec]) => spec.grants.some((g) => 'logsInsights' in g)).map(([name]) => this.functions[name].role)
        : [],
    });
  }
}
