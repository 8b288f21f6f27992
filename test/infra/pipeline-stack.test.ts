/**
 * The pipeline stack as rendered from infra/topology.ts and the example configuration: event
 * sources, queues and their dead-letter queues, least-privilege IAM per function, environment,
 * schedule, buckets, secrets, SES, alarms and the dashboard. Synthesized once, bundling skipped.
 */
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../infra/constructs/channel.ts';
import { tableId } from '../../infra/stacks/state-stack.ts';
import type { KlaxonApp } from '../../infra/stacks/klaxon-app.ts';
import { deliveryFunctions } from '../../infra/stacks/pipeline-stack.ts';
import { FUNCTIONS, QUEUES, TABLES, type FunctionName, type FunctionSpec, type QueueName, type QueueSpec, type TableName, type TableSpec } from '../../infra/topology.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import { synthApp } from './fixture.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

let k: KlaxonApp;
let t: Template;
let resources: Record<string, Resource>;
const idOf = (c: { node: { defaultChild?: unknown } }) => k.pipeline.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

beforeAll(() => {
  // Validation (cdk-nag, template rules) is covered by nag.test.ts.
  k = synthApp({}, { validate: false });
  t = Template.fromStack(k.pipeline);
  resources = t.toJSON().Resources as Record<string, Resource>;
});

/** Every logical id or export name a JSON value refers to. */
function references(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') out.add(v);
      else if (key === 'Fn::GetAtt' && Array.isArray(v)) out.add(String(v[0]));
      else if (key === 'Fn::ImportValue' && typeof v === 'string') out.add(v);
      else references(v, out);
    }
  }
  return out;
}

/** The statements of every policy attached to a function's role. */
function statementsOf(name: FunctionName): { Action: string | string[]; Resource: unknown }[] {
  const fnId = idOf(k.pipeline.functions[name].fn);
  const roleId = ((resources[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0]!;
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
}

describe('evaluator Kafka event source', () => {
  const mapping = (template: Template) => {
    const [only, ...more] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { Topics: ['metrics'] } }));
    expect(more).toEqual([]);
    return (only as Resource).Properties;
  };
  /** Set only in provisioned mode: Lambda accepts them for MSK in that mode only (kafka-retry-configurations). */
  const PROVISIONED_ONLY = ['ProvisionedPollerConfig', 'MaximumRetryAttempts', 'MaximumRecordAgeInSeconds', 'BisectBatchOnFunctionError', 'FunctionResponseTypes', 'MetricsConfig'];

  it('is an MSK source in on-demand mode by default: no pollers billed while idle, no provisioned-only setting, failed batches to S3', () => {
    const props = mapping(t);
    expect(props).toMatchObject({
      EventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/metrics/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2',
      FunctionName: { Ref: idOf(k.pipeline.functions.evaluator.fn) },
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'klaxon-evaluator' },
      StartingPosition: 'LATEST',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(k.pipeline.failedRecordsBucket), 'Arn'] } } },
    });
    expect(PROVISIONED_ONLY.filter((key) => key in props)).toEqual([]);
  });

  it('in provisioned mode has the configured pollers, bounded retries, bisect, max record age, partial batch responses and metrics', () => {
    const provisioned = synthApp({ msk: { mode: 'provisioned', pollers: { min: 2, max: 4 }, retryAttempts: 5, maxRecordAgeSeconds: 900 } }, { validate: false });
    const props = mapping(Template.fromStack(provisioned.pipeline));
    expect(props).toMatchObject({
      Topics: ['metrics'],
      BatchSize: 1000,
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 4 },
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 900,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MetricsConfig: { Metrics: ['EventCount', 'ErrorCount', 'KafkaMetrics'] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [provisioned.pipeline.getLogicalId(provisioned.pipeline.failedRecordsBucket.node.defaultChild as CfnElement), 'Arn'] } } },
    });
    expect(PROVISIONED_ONLY.filter((key) => !(key in props))).toEqual([]);
  });

  it('keeps the evaluator timeout within the 14 minutes Kafka sources allow', () => {
    const timeout = resources[idOf(k.pipeline.functions.evaluator.fn)]!.Properties.Timeout as number;
    expect(timeout).toBe(FUNCTIONS.evaluator.timeoutSeconds);
    expect(timeout).toBeLessThanOrEqual(14 * 60);
  });

  it('writes failed batches to an encrypted, TLS-only, private bucket that expires objects and logs access', () => {
    const bucket = resources[idOf(k.pipeline.failedRecordsBucket)]!.Properties;
    expect(bucket).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 30, Status: 'Enabled' }] },
      LoggingConfiguration: { LogFilePrefix: 'failed-records/' },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: idOf(k.pipeline.failedRecordsBucket) },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('grants IAM access control on exactly the cluster, the topic and the consumer group', () => {
    const kafka = statementsOf('evaluator').filter((s) => [s.Action].flat().some((a) => a.startsWith('kafka-cluster:')));
    expect(kafka.map((s) => s.Resource).sort()).toEqual([
      'arn:aws:kafka:eu-west-1:123456789012:cluster/metrics/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2',
      'arn:aws:kafka:eu-west-1:123456789012:group/metrics/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2/klaxon-evaluator',
      'arn:aws:kafka:eu-west-1:123456789012:topic/metrics/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2/metrics',
    ]);
  });

  it('may write failed batches (PutObject, ListBucket) and nothing else in S3', () => {
    const s3 = statementsOf('evaluator').filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3.flatMap((s) => [s.Action].flat()).sort()).toEqual(['s3:ListBucket', 's3:PutObject']);
  });
});

describe('channels (queue + DLQ + function + SQS event source)', () => {
  const sqsFunctions = (Object.entries(FUNCTIONS) as [FunctionName, FunctionSpec][]).filter(([, s]) => s.trigger.kind === 'sqs');

  it.each(sqsFunctions)('%s consumes its queue with partial batch responses and a maximum concurrency', (name, spec) => {
    if (spec.trigger.kind !== 'sqs') throw new Error('unreachable');
    const channel = k.pipeline.channels[name]!;
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [idOf(channel.queue.queue), 'Arn'] },
      FunctionName: { Ref: idOf(channel.function.fn) },
      BatchSize: spec.trigger.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: spec.trigger.maxConcurrency },
    });
  });

  it.each(sqsFunctions)('%s: queue FIFO as declared, DLQ wired with maxReceiveCount >= 5, visibility >= 6 x timeout', (name, spec) => {
    if (spec.trigger.kind !== 'sqs') throw new Error('unreachable');
    const queueSpec: QueueSpec = QUEUES[spec.trigger.queue];
    const channel = k.pipeline.channels[name]!;
    const q = resources[idOf(channel.queue.queue)]!.Properties;
    const dlq = resources[idOf(channel.queue.deadLetterQueue!)]!.Properties;
    const redrive = q.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    expect(redrive.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [idOf(channel.queue.deadLetterQueue!), 'Arn'] });
    expect(redrive.maxReceiveCount).toBe(queueSpec.deadLetter!.maxReceiveCount);
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(q.FifoQueue ?? false).toBe(queueSpec.fifo);
    expect(dlq.FifoQueue ?? false).toBe(queueSpec.fifo);
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * spec.timeoutSeconds);
    expect(q.MessageRetentionPeriod).toBe(queueSpec.retentionDays * 86_400);
  });

  it('encrypts every queue and denies access without TLS', () => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues.length).toBe(Object.keys(QUEUES).length + Object.values(QUEUES).filter((q) => 'deadLetter' in q).length);
    for (const [id, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled, id).toBe(true);
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });
});

describe('functions', () => {
  const names = Object.keys(FUNCTIONS) as FunctionName[];

  it.each(names)('%s: nodejs24.x on arm64, memory and timeout from the topology, Powertools environment', (name) => {
    const fn = resources[idOf(k.pipeline.functions[name].fn)]!.Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: FUNCTIONS[name].memoryMb,
      Timeout: FUNCTIONS[name].timeoutSeconds,
      Handler: 'index.handler',
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: name, POWERTOOLS_METRICS_NAMESPACE: 'Klaxon', LOG_LEVEL: 'INFO' } },
    });
  });

  it.each(names)('%s: sets exactly the environment variables its topology entry names', (name) => {
    const vars = Object.keys((resources[idOf(k.pipeline.functions[name].fn)]!.Properties.Environment as { Variables: object }).Variables);
    const base = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'LOG_LEVEL', 'NODE_OPTIONS'];
    expect(vars.sort()).toEqual([...base, ...Object.keys(FUNCTIONS[name].env)].sort());
  });

  it.each(names)('%s: logs to its own log group with the configured retention', (name) => {
    const f = k.pipeline.functions[name];
    expect(resources[idOf(f.fn)]!.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: idOf(f.logGroup) } });
    expect(resources[idOf(f.logGroup)]!.Properties.RetentionInDays).toBe(30);
  });

  it('renders env values from the resources and the config', () => {
    const env = (name: FunctionName) => (resources[idOf(k.pipeline.functions[name].fn)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env('evaluator').ALERT_EVENTS_QUEUE_URL).toEqual({ Ref: idOf(k.pipeline.queues.alertEvents.queue) });
    expect(env('dispatch').DEAD_LETTER_QUEUE_URL).toEqual({ Ref: idOf(k.pipeline.queues.alertEvents.deadLetterQueue!) });
    expect(JSON.stringify(env('evaluator').STATE_TABLE)).toContain(tableId('state'));
    expect(JSON.stringify(env('evaluator').SAMPLE_LOG_TABLE)).toContain(tableId('samples'));
    expect(env('timers').SAMPLE_LOG_TABLE).toBeUndefined();
    expect(env('evaluator').RULES_SOURCE).toBe('dynamodb');
    expect(env('dispatch').THROTTLE_WINDOWS).toBe('{"critical":0,"high":300000,"medium":900000,"low":3600000}');
    expect(env('dispatch').DEFAULT_EMAIL_RECIPIENTS).toBe('oncall@example.com');
    expect(env('deliverSlack').SLACK_SECRET_NAME).toBe('klaxon/slack');
    expect(env('deliverEmail').SES_SENDER).toBe('alerts@example.com');
    expect(JSON.parse(env('deliverPagerduty').BREAKER_CONFIG as string)).toEqual({ failureThreshold: 5, openMs: 60_000, halfOpenSuccesses: 2 });
  });
});

describe('least privilege', () => {
  const names = Object.keys(FUNCTIONS) as FunctionName[];

  /** What each grant may reference: the logical ids (or export-name fragments) of its resources. */
  function allowedReferences(name: FunctionName): { allowed: Set<string>; required: Set<string> } {
    const p = k.pipeline;
    const f = p.functions[name];
    const required = new Set<string>();
    for (const g of FUNCTIONS[name].grants) {
      if ('table' in g) required.add(tableId(g.table));
      else if ('queue' in g) required.add(idOf(p.queues[g.queue as QueueName].queue));
      else if ('deadLetterQueue' in g) required.add(idOf(p.queues[g.deadLetterQueue as QueueName].deadLetterQueue!));
      else if ('secret' in g) required.add(idOf(p.secrets[g.secret] as unknown as { node: { defaultChild?: unknown } }));
      else if ('ses' in g) required.add(idOf(p.node.findChild('EmailIdentity'))).add(idOf(p.node.findChild('EmailConfigurationSet')));
      else if ('ssmParameters' in g && g.ssmParameters === 'routes') required.add(idOf(p.node.findChild('RoutesParameter')));
      else if ('ssmParameters' in g && g.ssmParameters === 'events') required.add(idOf(p.node.findChild('EventsParameter')));
      else if ('ssmParameters' in g && g.ssmParameters === 'catalog') required.add(idOf(p.node.findChild('CatalogParameter')));
      // logsInsights: no statement without configured log groups (the example config has none); see the enrichment test below.
    }
    const allowed = new Set([...required, idOf(f.logGroup), 'AWS::Partition', 'AWS::Region', 'AWS::AccountId']);
    if (name === 'evaluator') allowed.add(idOf(p.failedRecordsBucket));
    return { allowed, required };
  }

  it.each(names)('%s: every statement names only its own resources, and every grant of the topology is present', (name) => {
    const { allowed, required } = allowedReferences(name);
    const statements = statementsOf(name);
    const seen = new Set<string>();
    for (const s of statements) {
      expect(s.Resource, `${name}: ${JSON.stringify(s.Action)}`).not.toBe('*');
      for (const ref of references(s.Resource)) {
        const match = [...allowed].find((a) => ref === a || (ref.startsWith('KlaxonState:') && ref.includes(a)));
        expect(match, `${name} may not reference ${ref} (${JSON.stringify(s.Action)})`).toBeDefined();
        seen.add(match!);
      }
    }
    for (const r of required) expect(seen, `${name} lacks its grant on ${r}`).toContain(r);
  });

  it('grants the state table and exactly its by-due and by-firing indexes by name, never index/*', () => {
    const state = statementsOf('timers').find((s) => JSON.stringify(s.Resource).includes(tableId('state')))!;
    const [table, ...indexes] = [state.Resource].flat();
    expect(JSON.stringify(table)).toContain(tableId('state'));
    // `<table ARN>/index/<name>` for each index of the topology, in its order, and nothing broader.
    expect(indexes).toEqual(['by-due', 'by-firing'].map((index) => ({ 'Fn::Join': ['', [table, `/index/${index}`]] })));
    for (const name of names) expect(JSON.stringify(statementsOf(name))).not.toMatch(/\/index\/[^"]*\*/);
  });

  it('gives read-only tables read actions only', () => {
    const rules = statementsOf('evaluator').find((s) => JSON.stringify(s.Resource).includes(tableId('rules')))!;
    expect([rules.Action].flat().some((a) => /Put|Update|Delete|Write/.test(a))).toBe(false);
  });

  it('lets only the evaluator read and write the sample log', () => {
    for (const name of names) expect(JSON.stringify(statementsOf(name)).includes(tableId('samples')), name).toBe(name === 'evaluator');
    const samples = statementsOf('evaluator').find((s) => JSON.stringify(s.Resource).includes(tableId('samples')))!;
    expect([samples.Action].flat()).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:PutItem']));
  });

  it('lets no function but the evaluator and timers read the rules path, and only dispatch, flush-groups and the interactions worker the routes parameter', () => {
    for (const name of names) {
      const json = JSON.stringify(statementsOf(name));
      expect(json.includes('parameter/klaxon/rules'), name).toBe(name === 'evaluator' || name === 'timers');
      // The interactions worker reads the receivers' `authorized` users and user groups.
      expect(json.includes(idOf(k.pipeline.node.findChild('RoutesParameter'))), name).toBe(name === 'dispatch' || name === 'flushGroups' || name === 'interactionsWorker');
      expect(json.includes(idOf(k.pipeline.node.findChild('EventsParameter'))), name).toBe(name === 'evaluator' || name === 'timers');
    }
  });

  it('lets only the evaluator, timers and the interactions worker (Resolve button) read and write the error alerts', () => {
    for (const name of names) expect(JSON.stringify(statementsOf(name)).includes(tableId('errors')), name).toBe(name === 'evaluator' || name === 'timers' || name === 'interactionsWorker');
  });

  it('lets the interactions endpoint only read its two secrets, send to its queue and write the replay guard', () => {
    const json = JSON.stringify(statementsOf('interactions'));
    const secretIds = (['slack', 'pagerdutyWebhook'] as const).map((n) => idOf(k.pipeline.secrets[n] as unknown as { node: { defaultChild?: unknown } }));
    for (const id of secretIds) expect(json).toContain(id);
    expect(json).not.toContain(idOf(k.pipeline.secrets.pagerduty as unknown as { node: { defaultChild?: unknown } }));
    expect(json).toContain(tableId('delivery'));
    for (const other of ['alerts', 'silences', 'groups', 'errors', 'state', 'history'] as const) expect(json.includes(tableId(other)), other).toBe(false);
    const delivery = statementsOf('interactions').find((st) => JSON.stringify(st.Resource).includes(tableId('delivery')))!;
    // Write only (a conditional put, a delete): it never reads the delivery records.
    expect([delivery.Action].flat().some((a) => /GetItem|Query|Scan/.test(a))).toBe(false);
    expect(json).toContain('sqs:SendMessage');
    expect(json).not.toContain('sqs:ReceiveMessage');
  });
});

describe('outgoing webhooks', () => {
  it('lets only deliverWebhook read the webhooks secret (the signing secrets), and dispatch and flush-groups send to its queue', () => {
    const secretId = idOf(k.pipeline.secrets.webhooks as unknown as { node: { defaultChild?: unknown } });
    const queueId = idOf(k.pipeline.queues.webhook.queue);
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const json = JSON.stringify(statementsOf(name));
      expect(json.includes(secretId), name).toBe(name === 'deliverWebhook');
      expect(json.includes(queueId), name).toBe(name === 'deliverWebhook' || name === 'dispatch' || name === 'flushGroups');
    }
  });

  it('has a FIFO webhook queue with a dead-letter queue, consumed by deliverWebhook', () => {
    t.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, RedrivePolicy: Match.objectLike({ maxReceiveCount: 10, deadLetterTargetArn: { 'Fn::GetAtt': [idOf(k.pipeline.queues.webhook.deadLetterQueue!), 'Arn'] } }) });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': [idOf(k.pipeline.queues.webhook.queue), 'Arn'] }, FunctionName: { Ref: idOf(k.pipeline.functions.deliverWebhook.fn) } });
  });
});

describe('timers schedule', () => {
  it('invokes the timers function every minute through EventBridge Scheduler', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [idOf(k.pipeline.functions.timers.fn), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } }),
    });
  });
});

describe('secrets, SES, routes', () => {
  it('creates the error-events parameter: the built-in configuration unless a file is given', () => {
    t.hasResourceProperties('AWS::SSM::Parameter', { Name: '/klaxon/events', Value: Match.stringLikeRegexp('built-in classification') });
  });

  it('creates the secrets empty ({}) under the configured names, kept on teardown', () => {
    for (const name of ['klaxon/slack', 'klaxon/pagerduty', 'klaxon/pagerduty-webhook', 'klaxon/webhooks']) {
      t.hasResource('AWS::SecretsManager::Secret', { Properties: Match.objectLike({ Name: name, SecretString: '{}' }), DeletionPolicy: 'Retain' });
    }
  });

  it('creates the SES identity and a configuration set', () => {
    t.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.com' });
    t.resourceCountIs('AWS::SES::ConfigurationSet', 1);
  });

  it('stores the routes document in the configured SSM parameter', () => {
    t.hasResourceProperties('AWS::SSM::Parameter', { Name: '/klaxon/routes', Type: 'String', Value: 'routes: []\n', Tier: 'Standard' });
  });
});

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const topicRef = () => ({ Ref: idOf(k.pipeline.alarmTopic as unknown as { node: { defaultChild?: unknown } }) });

  it('has exactly the pipeline alarms, one per dead-letter queue, two per delivery channel and three for the interactions endpoint', () => {
    // The pipeline-level alarms of infra/constructs/observability.ts, by construct id.
    const pipeline = ['EvaluatorErrors', 'OffsetLagGrowing', 'NoRecordsEvaluated', 'RecordsRejected', 'SamplesSkipped', 'SeriesLimited', 'TimersBacklog'];
    const deadLetterQueues = Object.values(QUEUES).filter((q) => 'deadLetter' in q).length;
    // BreakerOpen and DeadLettered per delivery channel (infra/constructs/channel.ts).
    const perChannel = 2 * Object.keys(deliveryFunctions()).length;
    // Refused requests, and dropped Slack / PagerDuty requests (infra/constructs/interactions.ts).
    const interactions = 3;
    expect(alarms()).toHaveLength(pipeline.length + deadLetterQueues + perChannel + interactions);
    const observability = k.pipeline.observability.node;
    expect(pipeline.map((id) => resources[idOf(observability.findChild(id) as unknown as { node: { defaultChild?: unknown } })]?.Type)).toEqual(
      pipeline.map(() => 'AWS::CloudWatch::Alarm'),
    );
  });

  it('sends every alarm (and its recovery) to the alarm topic', () => {
    for (const a of alarms()) {
      expect(a.AlarmActions).toEqual([topicRef()]);
      expect(a.OKActions).toEqual([topicRef()]);
    }
  });

  it('alarms on every dead-letter queue that is not empty', () => {
    for (const q of Object.values(k.pipeline.queues).filter((q) => q.deadLetterQueue)) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(q.deadLetterQueue!), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it.each([
    ['slack', 'deliverSlack'],
    ['email', 'deliverEmail'],
    ['pagerduty', 'deliverPagerduty'],
    ['webhook', 'deliverWebhook'],
  ])('alarms when a %s breaker is open for 10 minutes and when notifications are dead-lettered', (channel, service) => {
    const dims = [
      { Name: 'channel', Value: channel },
      { Name: 'service', Value: service },
    ];
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Klaxon',
      MetricName: METRIC.breakerOpen,
      Dimensions: dims,
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 10,
      DatapointsToAlarm: 10,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Klaxon',
      MetricName: METRIC.notificationsDeadLettered,
      Dimensions: dims,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on evaluator errors', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(k.pipeline.functions.evaluator.fn) } }],
    });
  });

  it('alarms when OffsetLag keeps growing above the floor', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(lag > 1000, DIFF(lag), 0)' }),
        Match.objectLike({ Id: 'lag', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'OffsetLag', Namespace: 'AWS/Lambda' }) }) }),
      ]),
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  it('has a deadman: no RecordsIn for 10 minutes, missing data breaching', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Klaxon',
      MetricName: METRIC.recordsIn,
      Dimensions: [{ Name: 'service', Value: 'evaluator' }],
      Period: 600,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('sends alarms to an encrypted, TLS-only topic with the configured email subscribed', () => {
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'platform-oncall@example.com' });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('dashboard', () => {
  /** The dashboard's widgets, CloudFormation references written as `<{json}>` (the body is a Fn::Join). */
  function widgets(): { properties: { title?: string; metrics?: unknown[][] } }[] {
    const parts = (ofType('AWS::CloudWatch::Dashboard')[0]![1].Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const body = parts.map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
    return (JSON.parse(body) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] }).widgets;
  }
  const widget = (title: string) => {
    const found = widgets().filter((w) => w.properties.title === title);
    expect(found, title).toHaveLength(1);
    return found[0]!.properties;
  };
  /** How a table's name appears in the widgets: imported from the state stack's export of its Ref. */
  const tableRef = (name: TableName) => {
    const exports = [...references(ofType('AWS::CloudWatch::Dashboard')[0]![1].Properties.DashboardBody)].filter((r) => r.startsWith(`KlaxonState:ExportsOutputRef${tableId(name)}`));
    expect(exports, name).toHaveLength(1);
    return `<{'Fn::ImportValue':'${exports[0]}'}>`;
  };

  it.each([
    ['Read', 'Consumed read capacity units (sum per 5 min)'],
    ['Write', 'Consumed write capacity units (sum per 5 min)'],
  ])('charts Consumed%sCapacityUnits of every table and of each of its indexes, one line each, summed', (kind, title) => {
    const expected = (Object.entries(TABLES) as [TableName, TableSpec][]).flatMap(([name, spec]) => [
      ['AWS/DynamoDB', `Consumed${kind}CapacityUnits`, 'TableName', tableRef(name), { label: name, stat: 'Sum' }],
      ...(spec.globalIndexes ?? []).map((gsi) => [
        'AWS/DynamoDB',
        `Consumed${kind}CapacityUnits`,
        'GlobalSecondaryIndexName',
        gsi.name,
        'TableName',
        tableRef(name),
        { label: `${name} ${gsi.name}`, stat: 'Sum' },
      ]),
    ]);
    // 11 tables (silences, groups, errors, history, remediations, catalog among them) + by-due + by-firing (state) + by-recheck (alerts) + by-due (groups) + by-task + by-quiet (errors) + by-fingerprint (remediations).
    expect(expected).toHaveLength(18);
    expect(widget(title).metrics).toEqual(expected);
  });

  it.each([
    // skipped, future: the evaluator's samples that were not evaluated
    ['Samples evaluated / skipped / in the future', [METRIC.samplesEvaluated, METRIC.samplesSkipped, METRIC.samplesFuture], 'evaluator', 'Sum'],
    // the series limit at work
    ['New series refused (series limit)', [METRIC.seriesLimited], 'evaluator', 'Sum'],
    // 1 when a timers run stopped at its deadline with due items left
    ['Timers backlog (1 = a run ended with due items left)', [METRIC.timersBacklog], 'timers', 'Maximum'],
  ])('charts %s from the %j metrics', (title, names, service, stat) => {
    const metrics = widget(title).metrics!;
    expect(metrics.map((m) => m.slice(0, 4))).toEqual(names.map((name) => ['Klaxon', name, 'service', service]));
    expect(metrics.map((m) => (m[4] as { stat: string }).stat)).toEqual(names.map(() => stat));
  });

  it.each([
    // fired per severity, stacked, every service that records history
    ['Alerts fired by severity', [`SEARCH('{Klaxon,service,severity} MetricName="${METRIC.alertsFired}"', 'Sum', 900)`]],
    // the channel functions' own count of what they delivered (no second metric of notifications)
    ['Notifications sent by channel', [`SEARCH('{Klaxon,service,channel} MetricName="${METRIC.notificationsSent}"', 'Sum', 900)`]],
    ['Notifications suppressed by reason', [`SEARCH('{Klaxon,service,reason} MetricName="${METRIC.alertsSuppressed}"', 'Sum', 900)`]],
    // issue 13's and the interactions endpoint's counts, each by its bounded dimensions
    ['Interactions refused by reason (forged, stale, replayed…)', [`SEARCH('{Klaxon,service,reason} MetricName="${METRIC.interactionsRefused}"', 'Sum', 900)`]],
    ['Enrichment failures by channel and reason', [`SEARCH('{Klaxon,service,channel,reason} MetricName="${METRIC.enrichmentFailures}"', 'Sum', 900)`]],
    ['Remediations by status', [`SEARCH('{Klaxon,service,status} MetricName="${METRIC.remediations}"', 'Sum', 900)`]],
    // MTTA and MTTR: the average and the 90th percentile per hour, in minutes
    [
      'Time to acknowledge (minutes): average and p90 by severity',
      [
        `SEARCH('{Klaxon,service,severity} MetricName="${METRIC.timeToAcknowledge}"', 'Average', 3600) / 60000`,
        `SEARCH('{Klaxon,service,severity} MetricName="${METRIC.timeToAcknowledge}"', 'p90', 3600) / 60000`,
      ],
    ],
    [
      'Time to resolve (minutes): average and p90 by severity',
      [
        `SEARCH('{Klaxon,service,severity} MetricName="${METRIC.timeToResolve}"', 'Average', 3600) / 60000`,
        `SEARCH('{Klaxon,service,severity} MetricName="${METRIC.timeToResolve}"', 'p90', 3600) / 60000`,
      ],
    ],
  ])('charts the alert history: %s', (title, expressions) => {
    const metrics = widget(title).metrics!;
    expect(metrics.map((m) => (m[0] as { expression: string }).expression)).toEqual(expressions);
  });

  it('labels the history times by statistic and severity (a dynamic label per series)', () => {
    const labels = widget('Time to resolve (minutes): average and p90 by severity').metrics!.map((m) => (m[0] as { label: string }).label);
    expect(labels).toEqual(["Average ${PROP('Dim.severity')}", "p90 ${PROP('Dim.severity')}"]);
  });

  it('shows ingest, evaluation, delivery per channel, queues, functions and Logs Insights widgets', () => {
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(ofType('AWS::CloudWatch::Dashboard')[0]![1].Properties.DashboardBody);
    for (const needle of [
      'OffsetLag',
      METRIC.recordsIn,
      METRIC.recordsRejected,
      METRIC.batchDuration,
      METRIC.transitions,
      METRIC.alertsFiring,
      METRIC.notificationsSent,
      METRIC.notificationsFailed,
      METRIC.notificationsSuppressed,
      METRIC.notificationsThrottled,
      METRIC.breakerOpen,
      METRIC.deliveryLatency,
      'ApproximateAgeOfOldestMessage',
      'Throttles',
      'Latest deliveries',
      'Noisiest rules',
      'stats count(*) as transitions by ruleId',
    ]) {
      expect(body, needle).toContain(needle);
    }
  });
});

describe('synthesis', () => {
  it('is environment-agnostic (no account or region baked in)', () => {
    expect(Stack.of(k.pipeline).environment).toBe('aws://unknown-account/unknown-region');
  });
});

describe('interactions endpoint', () => {
  it('is a Function URL on the interactions function, verified by the function itself (auth NONE)', () => {
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', InvokeMode: 'BUFFERED', TargetFunctionArn: { 'Fn::GetAtt': [idOf(k.pipeline.functions.interactions.fn), 'Arn'] } });
    t.resourceCountIs('AWS::Lambda::Url', 1);
  });

  it('outputs the URLs to give Slack and PagerDuty', () => {
    const outputs = Template.fromStack(k.pipeline).toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.SlackInteractivityUrl!.Value)).toContain('slack/interactions');
    expect(JSON.stringify(outputs.PagerDutyWebhookUrl!.Value)).toContain('pagerduty/webhooks');
    expect(outputs.PagerDutyWebhookSecretName!.Value).toBe('klaxon/pagerduty-webhook');
  });

  it('alarms on refused requests (forged, stale, replayed) from the service-only InteractionsRefused series', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'InteractionsRefused',
      Namespace: 'Klaxon',
      Dimensions: [{ Name: 'service', Value: 'interactions' }],
      Threshold: 5,
    });
  });

  it('runs the worker from the interactions queue, with a dead-letter queue that alarms', () => {
    const worker = k.pipeline.channels.interactionsWorker!;
    expect(worker.alarms.map((a) => a.node.id)).toEqual(['DeadLetterNotEmpty']);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: idOf(worker.function.fn) }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
  });
});

describe('enrichment permissions (docs/enrichment.md, "Permissions")', () => {
  const withLogs = synthApp({ enrichment: { settings: { logs: { logGroups: ['/aws/lambda/checkout'], query: 'fields @message' } } } }, { validate: false });
  const tpl = withLogs.app.synth().getStackByName(withLogs.pipeline.stackName).template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const policiesOf = (name: FunctionName): { Action: string | string[]; Resource: unknown }[] => {
    const fnId = withLogs.pipeline.getLogicalId(withLogs.pipeline.functions[name].fn.node.defaultChild as never);
    const roleId = ((tpl.Resources[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0]!;
    return Object.values(tpl.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
  };

  it.each(['deliverSlack', 'deliverEmail', 'deliverPagerduty', 'enrichFollowUp'] as const)('%s: StartQuery on the configured log group only; results and stop on * (no resource-level permissions)', (name) => {
    const st = policiesOf(name);
    const start = st.find((s) => [s.Action].flat().includes('logs:StartQuery'))!;
    expect(JSON.stringify(start.Resource)).toContain(':log-group:/aws/lambda/checkout');
    expect(JSON.stringify(start.Resource)).not.toContain('"*"');
    const read = st.find((s) => [s.Action].flat().includes('logs:GetQueryResults'))!;
    expect([read.Action].flat().sort()).toEqual(['logs:GetQueryResults', 'logs:StopQuery']);
    expect(read.Resource).toBe('*');
  });

  it.each(['dispatch', 'evaluator', 'interactions'] as const)('%s: no Logs Insights permission', (name) => {
    expect(JSON.stringify(policiesOf(name))).not.toContain('logs:StartQuery');
  });

  it('without log groups configured, no function may query logs', () => {
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) expect(JSON.stringify(statementsOf(name)), name).not.toContain('logs:StartQuery');
  });
});
