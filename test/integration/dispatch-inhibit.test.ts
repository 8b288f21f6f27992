/**
 * Inhibition end to end on the real dispatch handler, DynamoDB Local and fauxqs, with an injected
 * clock (docs/routing.md, "Inhibition"): a critical alert mutes the high and medium alerts of its
 * cluster and alertname; they are held on their records (and listed so by `klaxon alerts list`);
 * when the critical alert resolves, dispatch puts release messages on the alert-events queue, and
 * receiving them notifies the held alerts. An alert no inhibit rule concerns costs what it did.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as alertsCli } from '../../cli/alerts.ts';
import { createDispatchHandler, type DispatchDeps } from '../../functions/dispatch/app.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoInhibitionStore } from '../../shared/adapters/dynamodb/inhibition-store.ts';
import { SqsDeadLetterSender, SqsJobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { SqsReleasePublisher } from '../../shared/adapters/sqs/release-publisher.ts';
import { staticRoutesSource } from '../../shared/adapters/routes/routes-source.ts';
import { DEFAULT_DISPATCH_CONFIG, type ReleaseMessage } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, Labels, NotificationJob, Severity } from '../../shared/core/model/index.ts';
import { METRICS_NAMESPACE } from '../../shared/core/model/metrics.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import { dynamoClient, endpoints, LOCAL_REGION, provisionFresh } from '../support/aws.ts';
import { captureIo } from '../support/cli-io.ts';

const MIN = 60_000;
type P = Awaited<ReturnType<typeof provisionFresh>>;

const routes = compileRoutes(
  {
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity=~"high|medium"'], equal: ['cluster', 'alertname'] }],
  },
  'routes.yaml',
  { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'default' },
);

let p: P;
beforeAll(async () => {
  p = await provisionFresh();
});
afterAll(() => {
  p.dynamodb.destroy();
  p.sqs.destroy();
});

/** Counts requests sent through a client (an SDK middleware). */
function countRequests(client: DynamoDBClient | SQSClient): { byCommand: () => Record<string, number>; reset: () => void } {
  let seen: Record<string, number> = {};
  (client.middlewareStack as unknown as { add(mw: unknown, o: unknown): void }).add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const name = context.commandName ?? 'unknown';
      seen[name] = (seen[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: `count${Math.random()}` },
  );
  return { byCommand: () => ({ ...seen }), reset: () => void (seen = {}) };
}

function deps(ddb: DynamoDBClient, clock: ManualClock): DispatchDeps {
  return {
    store: new DynamoAlertStore(ddb, p.tables.alerts),
    publisher: new SqsJobPublisher(p.sqs, { slack: p.queues.slack.url, email: p.queues.email.url, pagerduty: p.queues.pagerduty.url, webhook: p.queues.webhook.url }),
    deadLetter: new SqsDeadLetterSender(p.sqs, p.queues.alertEvents.dlq!.url),
    routes: staticRoutesSource(routes),
    inhibitions: new DynamoInhibitionStore(ddb, p.tables.alerts, clock),
    releases: new SqsReleasePublisher({ client: p.sqs, queueUrl: p.queues.alertEvents.url }),
    config: DEFAULT_DISPATCH_CONFIG,
    clock,
    logger: new Logger({ serviceName: 'dispatch', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'dispatch' }),
  };
}

const run = `r${Date.now().toString(36)}`;
function alert(name: string, severity: Severity, labels: Labels, firedAtMs: number): { firing: AlertTransition; resolved: AlertTransition } {
  const fp = `${run}-${name}`;
  const base = {
    version: 1 as const,
    fingerprint: fp,
    ruleId: name,
    ruleName: name,
    severity,
    labels,
    annotations: { summary: `${name} is down` },
    value: 1,
    condition: '== 0',
    activeAtMs: firedAtMs - MIN,
    firedAtMs,
    emittedAtMs: firedAtMs,
  };
  return {
    firing: { ...base, transitionId: `f-${fp}-${firedAtMs}`, kind: 'firing', atMs: firedAtMs },
    resolved: { ...base, transitionId: `r-${fp}-${firedAtMs}`, kind: 'resolved', atMs: firedAtMs + 10 * MIN, resolvedAtMs: firedAtMs + 10 * MIN },
  };
}

async function drain(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
    const ms = r.Messages ?? [];
    if (ms.length === 0) return out;
    out.push(...ms);
    for (const m of ms) await p.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
  }
}

/** Sends transitions as the evaluator does and receives them back as Lambda's SQS event. */
async function eventOf(ts: readonly AlertTransition[]): Promise<SQSEvent> {
  for (const t of ts) {
    await p.sqs.send(new SendMessageCommand({ QueueUrl: p.queues.alertEvents.url, MessageBody: JSON.stringify(t), MessageGroupId: t.fingerprint, MessageDeduplicationId: t.transitionId }));
  }
  return received(await drain(p.queues.alertEvents.url));
}
const received = (ms: readonly Message[]): SQSEvent => ({ Records: ms.map((m) => toSqsRecord(m, p.queues.alertEvents.arn, LOCAL_REGION)) });

/** The jobs on the channel queues, as `<name>:<kind>:<channel>`, sorted. */
async function jobs(): Promise<string[]> {
  const out: string[] = [];
  for (const channel of ['slack', 'email', 'pagerduty'] as const) {
    for (const m of await drain(p.queues[channel].url)) {
      const j = JSON.parse(m.Body!) as NotificationJob;
      out.push(`${j.transition.fingerprint.slice(run.length + 1)}:${j.transition.kind}:${j.channel}`);
    }
  }
  return out.sort();
}

describe('inhibition (dispatch handler, DynamoDB Local + fauxqs)', () => {
  it('a critical alert inhibits its high and medium alerts, which are notified when it resolves', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const handler = createDispatchHandler(deps(p.dynamodb, clock));
    const T = 1_799_990_000_000;
    const labels = { alertname: 'ApiDown', cluster: 'eu-1' };
    const crit = alert('crit', 'critical', labels, T);
    const high = alert('high', 'high', labels, T + MIN);
    const medium = alert('medium', 'medium', labels, T + MIN);
    const elsewhere = alert('elsewhere', 'high', { alertname: 'ApiDown', cluster: 'us-1' }, T + MIN);

    expect(await handler(await eventOf([crit.firing]))).toEqual({ batchItemFailures: [] });
    expect(await handler(await eventOf([high.firing, medium.firing, elsewhere.firing]))).toEqual({ batchItemFailures: [] });
    expect(await jobs()).toEqual(['crit:firing:email', 'crit:firing:pagerduty', 'crit:firing:slack', 'elsewhere:firing:email', 'elsewhere:firing:slack']);

    // Held on the record with the inhibiting fingerprint; listed so by `klaxon alerts list`.
    const item = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.alerts, Key: { fingerprint: { S: high.firing.fingerprint } }, ConsistentRead: true }));
    expect(item.Item?.held?.M?.inhibitedBy?.L?.map((v) => v.S)).toEqual([crit.firing.fingerprint]);
    const cli = captureIo();
    const code = await alertsCli(['list', '--format', 'json', '--endpoint', endpoints().dynamodb, '--prefix', p.prefix], cli.io, {});
    expect(cli.err()).toBe('');
    expect(code).toBe(0);
    const rows = cli
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { fingerprint: string; inhibitedBy: string[] });
    expect(rows.every((r) => !r.fingerprint.startsWith('inhibit#'))).toBe(true);
    expect(rows.find((r) => r.fingerprint === medium.firing.fingerprint)?.inhibitedBy).toEqual([crit.firing.fingerprint]);
    expect(rows.find((r) => r.fingerprint === elsewhere.firing.fingerprint)?.inhibitedBy).toEqual([]);

    // The critical alert resolves: its resolution is sent, and releases go on the alert-events queue.
    clock.advance(10 * MIN);
    expect(await handler(await eventOf([crit.resolved]))).toEqual({ batchItemFailures: [] });
    expect(await jobs()).toEqual(['crit:resolved:email', 'crit:resolved:pagerduty', 'crit:resolved:slack']);
    const releases = await drain(p.queues.alertEvents.url);
    expect(releases.map((m) => (JSON.parse(m.Body!) as ReleaseMessage).fingerprint).sort()).toEqual([high.firing.fingerprint, medium.firing.fingerprint]);
    expect(releases.map((m) => m.Attributes?.MessageGroupId).sort()).toEqual([high.firing.fingerprint, medium.firing.fingerprint]);

    // Dispatch receives them: the held alerts still fire, nothing mutes them now: notified.
    expect(await handler(received(releases))).toEqual({ batchItemFailures: [] });
    expect(await jobs()).toEqual(['high:firing:email', 'high:firing:slack', 'medium:firing:slack']);
    const after = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.alerts, Key: { fingerprint: { S: high.firing.fingerprint } }, ConsistentRead: true }));
    expect(after.Item?.held).toBeUndefined();

    // A release delivered again does nothing; the resolutions go where the firings went.
    expect(await handler(received(releases))).toEqual({ batchItemFailures: [] });
    expect(await jobs()).toEqual([]);
    expect(await handler(await eventOf([high.resolved, medium.resolved]))).toEqual({ batchItemFailures: [] });
    expect(await jobs()).toEqual(['high:resolved:email', 'high:resolved:slack', 'medium:resolved:slack']);
  });

  it('an alert no inhibit rule concerns costs one GetItem and one UpdateItem, as before', async () => {
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    const handler = createDispatchHandler(deps(ddb, new ManualClock(1_800_000_000_000)));
    const low = alert('quiet', 'low', { alertname: 'Quiet' }, 1_799_990_000_000);
    const event = await eventOf([low.firing]);
    counter.reset();
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(counter.byCommand()).toEqual({ GetItemCommand: 1, UpdateItemCommand: 1 });
    ddb.destroy();
  });

  it('a muted target costs one BatchGetItem and one UpdateItem more; a source one UpdateItem', async () => {
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    const clock = new ManualClock(1_800_000_000_000);
    const handler = createDispatchHandler(deps(ddb, clock));
    const labels = { alertname: 'DbDown', cluster: 'eu-2' };
    const crit = alert('c2', 'critical', labels, 1_799_990_000_000);
    const high = alert('h2', 'high', labels, 1_799_990_060_000);
    let event = await eventOf([crit.firing]);
    counter.reset();
    await handler(event);
    expect(counter.byCommand()).toEqual({ GetItemCommand: 1, UpdateItemCommand: 2 });
    event = await eventOf([high.firing]);
    counter.reset();
    await handler(event);
    expect(counter.byCommand()).toEqual({ GetItemCommand: 1, BatchGetItemCommand: 1, UpdateItemCommand: 2 });
    await jobs();
    ddb.destroy();
  });
});
