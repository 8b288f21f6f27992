/**
 * The real dispatch handler against DynamoDB Local and fauxqs: transitions are sent to the
 * provisioned alert-events FIFO queue, received back, and passed to the handler as the SQS event
 * Lambda would build; jobs are read from the real channel queues.
 */
import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSServiceException, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDispatchHandler, dispatchTransition, type DispatchDeps } from '../../functions/dispatch/app.ts';
import { AlertRecordConflictError, DynamoAlertStore, type AlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { jobDeduplicationId, SqsDeadLetterSender, SqsJobPublisher, type JobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { SqsSendError } from '../../shared/adapters/sqs/transition-publisher.ts';
import { staticRoutesSource } from '../../shared/adapters/routes/routes-source.ts';
import { DEFAULT_DISPATCH_CONFIG, RECORD_RETENTION_MS } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, Channel, NotificationJob } from '../../shared/core/model/index.ts';
import { METRICS_NAMESPACE } from '../../shared/core/model/metrics.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import { dynamoClient, LOCAL_REGION, provisionFresh } from '../support/aws.ts';

const MIN = 60_000;
type P = Awaited<ReturnType<typeof provisionFresh>>;

const routes = compileRoutes(
  {
    receivers: [{ name: 'db', slack: { channel: 'C0DB' }, email: { to: ['db@example.com'] }, pagerduty: { routingKey: 'db' } }],
    routes: [{ matchers: ['team="db"'], receivers: ['db'] }],
  },
  'test routes',
  { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'default' },
);

let p: P;
beforeAll(async () => {
  // Short visibility on the channel queues is not needed: tests delete what they receive.
  p = await provisionFresh();
});

/** The part of an SDK client's middleware stack the counter uses. */
interface CountableStack {
  add(mw: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>, options: { step: 'initialize'; name: string }): void;
}

/** Counts requests sent through a client (an SDK middleware: the real requests, counted). */
function countRequests(client: DynamoDBClient | SQSClient): { count: () => number; byCommand: () => Record<string, number>; reset: () => void } {
  let seen: Record<string, number> = {};
  (client.middlewareStack as unknown as CountableStack).add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      seen[name] = (seen[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: `countRequests${Math.random()}` },
  );
  return { count: () => Object.values(seen).reduce((a, b) => a + b, 0), byCommand: () => ({ ...seen }), reset: () => void (seen = {}) };
}

/** A clock tests move by hand. */
function manualClock(start = 1_800_000_000_000): { now(): number; advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

let fpSeq = 0;
function transition(kind: 'firing' | 'resolved', fingerprint: string, firedAtMs: number, over: Partial<AlertTransition> = {}): AlertTransition {
  const atMs = kind === 'firing' ? firedAtMs : firedAtMs + MIN;
  return {
    version: 1,
    transitionId: `${fingerprint}-${kind}-${firedAtMs}`,
    kind,
    fingerprint,
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'critical',
    labels: { alertname: 'CPU high', team: 'db', instance: 'db-1' },
    annotations: { summary: 'CPU is high' },
    value: 97,
    condition: 'avg_over_time(5m) > 80',
    atMs,
    activeAtMs: firedAtMs - MIN,
    firedAtMs,
    ...(kind === 'resolved' ? { resolvedAtMs: atMs } : {}),
    emittedAtMs: 1_800_000_000_000,
    ...over,
  };
}
const newFingerprint = (): string => `fp${Date.now().toString(36)}${(fpSeq += 1)}`;

function deps(over: Partial<DispatchDeps> & { ddb?: DynamoDBClient } = {}): DispatchDeps {
  const ddb = over.ddb ?? dynamoClient();
  return {
    store: new DynamoAlertStore(ddb, p.tables.alerts),
    publisher: new SqsJobPublisher(p.sqs, { slack: p.queues.slack.url, email: p.queues.email.url, pagerduty: p.queues.pagerduty.url, webhook: p.queues.webhook.url }),
    deadLetter: new SqsDeadLetterSender(p.sqs, p.queues.alertEvents.dlq!.url),
    routes: staticRoutesSource(routes),
    config: DEFAULT_DISPATCH_CONFIG,
    clock: manualClock(),
    logger: new Logger({ serviceName: 'dispatch', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'dispatch' }),
    ...over,
  };
}

/** Receives and deletes everything on a queue (FIFO: deleting unblocks the group). */
async function drain(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }));
    const ms = r.Messages ?? [];
    if (ms.length === 0) return out;
    out.push(...ms);
    for (const m of ms) await p.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
  }
}

/** Sends bodies to the alert-events queue as the evaluator does, receives them, and builds Lambda's SQS event. */
async function eventOf(bodies: (AlertTransition | string)[]): Promise<SQSEvent> {
  for (const b of bodies) {
    const t = typeof b === 'string' ? undefined : b;
    const body = typeof b === 'string' ? b : JSON.stringify(b);
    await p.sqs.send(
      new SendMessageCommand({
        QueueUrl: p.queues.alertEvents.url,
        MessageBody: body,
        MessageGroupId: t?.fingerprint ?? 'garbage',
        MessageDeduplicationId: t?.transitionId ?? `g${Math.random()}`,
      }),
    );
  }
  const ms = await drain(p.queues.alertEvents.url);
  expect(ms).toHaveLength(bodies.length);
  return { Records: ms.map((m) => toSqsRecord(m, p.queues.alertEvents.arn, LOCAL_REGION)) };
}

async function jobsOn(channel: Channel): Promise<{ job: NotificationJob; message: Message }[]> {
  return (await drain(p.queues[channel].url)).map((m) => ({ job: JSON.parse(m.Body!) as NotificationJob, message: m }));
}

async function allJobs(): Promise<Record<Channel, NotificationJob[]>> {
  const [slack, email, pagerduty, webhook] = await Promise.all([jobsOn('slack'), jobsOn('email'), jobsOn('pagerduty'), jobsOn('webhook')]);
  return { slack: slack.map((x) => x.job), email: email.map((x) => x.job), pagerduty: pagerduty.map((x) => x.job), webhook: webhook.map((x) => x.job) };
}

describe('dispatch handler (DynamoDB Local + fauxqs)', () => {
  it('puts one job per channel on the right FIFO queue, grouped by fingerprint, deduplicated by idempotency key', async () => {
    const fp = newFingerprint();
    const t = transition('firing', fp, 1_000_000);
    const clock = manualClock();
    const handler = createDispatchHandler(deps({ clock }));
    expect(await handler(await eventOf([t]))).toEqual({ batchItemFailures: [] });

    for (const channel of ['slack', 'email', 'pagerduty'] as const) {
      const got = await jobsOn(channel);
      expect(got).toHaveLength(1);
      const { job, message } = got[0]!;
      expect(job).toMatchObject({ version: 1, channel, receiver: 'db', idempotencyKey: `${t.transitionId}:db:${channel}`, severity: 'critical', fireCount: 1, transition: t });
      expect(message.Attributes?.MessageGroupId).toBe(fp);
      expect(message.Attributes?.MessageDeduplicationId).toBe(jobDeduplicationId(job));
    }
    const pd = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.alerts, Key: { fingerprint: { S: fp } } }));
    expect(pd.Item?.state?.S).toBe('firing');
    expect(pd.Item?.version?.N).toBe('1');
    // TTL (epoch seconds): the dispatch time on the injected clock plus a firing record's retention.
    expect(Number(pd.Item?.expiresAt?.N)).toBe(Math.floor((clock.now() + RECORD_RETENTION_MS.firing) / 1000));
  });

  it('uses one GetItem and one UpdateItem per dispatched transition, and only the GetItem for a redelivery', async () => {
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    const sqsCounter = countRequests(p.sqs);
    const handler = createDispatchHandler(deps({ ddb }));
    const fp = newFingerprint();
    const event = await eventOf([transition('firing', fp, 2_000_000)]);
    sqsCounter.reset();
    await handler(event);
    expect(counter.byCommand()).toEqual({ GetItemCommand: 1, UpdateItemCommand: 1 });
    expect(sqsCounter.byCommand()).toEqual({ SendMessageBatchCommand: 3 });
    await allJobs();

    // The same message delivered again: read, recognised, nothing published, nothing written.
    counter.reset();
    sqsCounter.reset();
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(counter.byCommand()).toEqual({ GetItemCommand: 1 });
    expect(sqsCounter.count()).toBe(0);
    expect(await allJobs()).toEqual({ slack: [], email: [], pagerduty: [], webhook: [] });
  });

  it('sends a resolution only where the firing went, and drops a stale firing', async () => {
    const fp = newFingerprint();
    const handler = createDispatchHandler(deps());
    // medium: Slack only.
    await handler(await eventOf([transition('firing', fp, 3_000_000, { severity: 'medium' }), transition('resolved', fp, 3_000_000, { severity: 'medium' })]));
    const jobs = await allJobs();
    expect(jobs.slack.map((j) => j.transition.kind)).toEqual(['firing', 'resolved']);
    expect(jobs.email).toEqual([]);

    // An older firing arriving late (reordered or redriven from the DLQ) is dropped.
    const before = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.alerts, Key: { fingerprint: { S: fp } } }));
    expect(await handler(await eventOf([transition('firing', fp, 2_000_000, { severity: 'medium' })]))).toEqual({ batchItemFailures: [] });
    expect(await allJobs()).toEqual({ slack: [], email: [], pagerduty: [], webhook: [] });
    const after = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.alerts, Key: { fingerprint: { S: fp } } }));
    expect(after.Item).toEqual(before.Item);
  });

  it('holds throttle windows across invocations and reports what was held', async () => {
    const fp = newFingerprint();
    const clock = manualClock();
    const handler = createDispatchHandler(deps({ clock }));
    // Escalation off for this alert (its policy): this test is about the window alone.
    const medium = { severity: 'medium' as const, labels: { alertname: 'Disk', team: 'ops' }, policy: { escalation: { count: 10, windowMs: MIN } } };
    const activation = async (firedAtMs: number): Promise<NotificationJob[]> => {
      await handler(await eventOf([transition('firing', fp, firedAtMs, medium), transition('resolved', fp, firedAtMs, medium)]));
      return (await allJobs()).slack;
    };
    expect((await activation(10 * MIN)).map((j) => j.transition.kind)).toEqual(['firing', 'resolved']);
    clock.advance(5 * MIN);
    // Within medium's 15 minutes: neither the firing nor (so) its resolution.
    expect(await activation(15 * MIN)).toEqual([]);
    clock.advance(5 * MIN);
    expect(await activation(20 * MIN)).toEqual([]);
    clock.advance(6 * MIN);
    const released = await activation(26 * MIN);
    expect(released.map((j) => j.transition.kind)).toEqual(['firing', 'resolved']);
    expect(released[0]!.suppressed).toEqual({ count: 2, sinceMs: 15 * MIN });
    expect(released[0]!.fireCount).toBe(4);
  });

  it('dead-letters an invalid message at once with the reason, without failing the batch', async () => {
    const fp = newFingerprint();
    const handler = createDispatchHandler(deps());
    const good = transition('firing', fp, 4_000_000, { severity: 'medium' });
    const res = await handler(await eventOf(['{"version":1,"kind":"exploded"}', good]));
    expect(res).toEqual({ batchItemFailures: [] });
    const dlq = await drain(p.queues.alertEvents.dlq!.url);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.Body).toBe('{"version":1,"kind":"exploded"}');
    expect(dlq[0]!.MessageAttributes?.reason?.StringValue).toMatch(/^invalid transition: .*kind/);
    expect((await allJobs()).slack.map((j) => j.transition.transitionId)).toEqual([good.transitionId]);
  });

  it('fails a transient error and the later records of its group, not other groups', async () => {
    const a = newFingerprint();
    const b = newFingerprint();
    const real = deps().publisher;
    // Fault injection: nothing local makes SQS fail for one alert only, so this publisher does,
    // with the error the SDK raises for a 503 (transient by isTransientError).
    const unavailable = new SQSServiceException({ name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'SQS unavailable' });
    const publisher: JobPublisher = {
      publish: async (jobs) => {
        if (jobs.some((j) => j.transition.fingerprint === a)) throw unavailable;
        await real.publish(jobs);
      },
    };
    const handler = createDispatchHandler(deps({ publisher }));
    const event = await eventOf([transition('firing', a, 5_000_000), transition('firing', b, 5_000_000), transition('resolved', a, 5_000_000)]);
    const res = await handler(event);
    const [a1, b1, a2] = event.Records;
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([a1!.messageId, a2!.messageId].sort());
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).not.toContain(b1!.messageId);
    const jobs = await allJobs();
    expect(jobs.slack.map((j) => j.transition.fingerprint)).toEqual([b]);
  });

  it('after a crash between publish and commit, a redelivery publishes the same jobs, deduplicated by SQS', async () => {
    const fp = newFingerprint();
    const base = deps();
    let crash = true;
    // Fault injection: the process "dies" after publishing, before the commit (no local way to kill it there).
    const store: AlertStore = {
      get: (f) => base.store.get(f),
      commit: async (r, v) => {
        if (crash) {
          crash = false;
          throw new Error('Lambda timed out');
        }
        await base.store.commit(r, v);
      },
    };
    const handler = createDispatchHandler({ ...base, store });
    const event = await eventOf([transition('firing', fp, 6_000_000)]);
    // An unknown failure fails the invocation: nothing is acknowledged, Lambda delivers the batch again.
    await expect(handler(event)).rejects.toThrow('Lambda timed out');
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    const jobs = await allJobs();
    // Published twice with the same deduplication ids: one job per channel on the queues.
    expect([jobs.slack.length, jobs.email.length, jobs.pagerduty.length]).toEqual([1, 1, 1]);
    expect((await base.store.get(fp))?.version).toBe(1);
  });

  it.each([
    // a bug: the invocation fails and the records after it are handed back untouched
    ['a bug', () => new TypeError("Cannot read properties of undefined (reading 'jobs')"), 'fail-batch'],
    // SQS refuses the jobs for their content (SenderFault): the same jobs fail again, so the
    // transition is dead-lettered with the reason and the batch goes on
    ['jobs refused by SQS', () => new SqsSendError('SQS refused 1 entries: 0: InvalidMessageContents', ['0'], true), 'dead-letter'],
  ] as const)('applies the one failure policy to %s', async (_name, makeError, action) => {
    const a = newFingerprint();
    const b = newFingerprint();
    const real = deps().publisher;
    // Fault injection: the publisher throws for alert `a` only.
    const publisher: JobPublisher = {
      publish: async (jobs) => {
        if (jobs.some((j) => j.transition.fingerprint === a)) throw makeError();
        await real.publish(jobs);
      },
    };
    const handler = createDispatchHandler(deps({ publisher }));
    const event = await eventOf([transition('firing', a, 8_000_000), transition('firing', b, 8_000_000)]);
    if (action === 'fail-batch') {
      await expect(handler(event)).rejects.toThrow(TypeError);
      expect((await allJobs()).slack.map((j) => j.transition.fingerprint)).not.toContain(b);
    } else {
      expect(await handler(event)).toEqual({ batchItemFailures: [] });
      expect((await allJobs()).slack.map((j) => j.transition.fingerprint)).toContain(b);
      const dlq = await drain(p.queues.alertEvents.dlq!.url);
      const mine = dlq.filter((m) => (JSON.parse(m.Body!) as { fingerprint: string }).fingerprint === a);
      expect(mine.map((m) => m.MessageAttributes?.reason?.StringValue)).toEqual(['SqsSendError: SQS refused 1 entries: 0: InvalidMessageContents']);
    }
  });

  it('re-reads and re-decides when another writer committed first', async () => {
    const fp = newFingerprint();
    const base = deps();
    const firing = transition('firing', fp, 7_000_000);
    let raced = false;
    // The race is real (two commits on DynamoDB Local); only its timing is arranged by this wrapper.
    const store: AlertStore = {
      get: async (f) => {
        const r = await base.store.get(f);
        if (!raced) {
          raced = true;
          await dispatchTransition(base, firing);
        }
        return r;
      },
      commit: (r, v) => base.store.commit(r, v),
    };
    const d = await dispatchTransition({ ...base, store }, firing);
    // The second round saw the other writer's record: the same transition, already applied.
    expect(d.outcome).toBe('duplicate');
    expect((await base.store.get(fp))?.version).toBe(1);
    await allJobs();
  });

  it('keeps the Slack thread written by the Slack function, even one written before the first commit', async () => {
    const fp = newFingerprint();
    const ddb = dynamoClient();
    const store = new DynamoAlertStore(ddb, p.tables.alerts);
    const setThread = (ts: string) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: p.tables.alerts,
          Key: { fingerprint: { S: fp } },
          UpdateExpression: 'SET slackThread = :t',
          ExpressionAttributeValues: { ':t': { M: { channel: { S: 'C0DB' }, ts: { S: ts } } } },
        }),
      );
    // The Slack function was quicker than dispatch's commit: an item with only the thread.
    await setThread('1.1');
    expect(await store.get(fp)).toBeUndefined();
    const handler = createDispatchHandler(deps({ ddb }));
    await handler(await eventOf([transition('firing', fp, 8_000_000)]));
    expect((await store.get(fp))?.slackThread).toEqual({ channel: 'C0DB', ts: '1.1' });
    await setThread('2.2');
    await handler(await eventOf([transition('resolved', fp, 8_000_000)]));
    const rec = await store.get(fp);
    expect(rec).toMatchObject({ state: 'resolved', version: 2, slackThread: { channel: 'C0DB', ts: '2.2' } });
    await allJobs();
  });

  it('reports a conflicting commit as AlertRecordConflictError', async () => {
    const fp = newFingerprint();
    const store = new DynamoAlertStore(dynamoClient(), p.tables.alerts);
    const d = await dispatchTransition(deps(), transition('firing', fp, 9_000_000, { severity: 'low' }));
    await expect(store.commit(d.record, undefined)).rejects.toBeInstanceOf(AlertRecordConflictError);
    await expect(store.commit(d.record, 5)).rejects.toBeInstanceOf(AlertRecordConflictError);
  });
});
