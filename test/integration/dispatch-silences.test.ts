/**
 * Silences against DynamoDB Local and fauxqs (docs/routing.md, "Silences"): the silences table
 * adapter, `klaxon silence` on the provisioned tables, and the whole sequence with an injected
 * clock: a silence added with the CLI mutes a firing in the real dispatch handler (recorded with
 * the silence id, in the by-recheck index, shown by `alerts list`), the timers' re-check puts it
 * back on alert-events when the silence ends, and dispatch notifies it then.
 */
import { GetItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDispatchHandler, type DispatchDeps } from '../../functions/dispatch/app.ts';
import { run as silenceCli } from '../../cli/silence.ts';
import { toAlertRow } from '../../cli/alerts.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoMutedAlertIndex, DynamoSilenceStore, SILENCE_RETENTION_MS } from '../../shared/adapters/dynamodb/silence-store.ts';
import { SqsDeadLetterSender, SqsJobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { SqsTransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { staticRoutesSource } from '../../shared/adapters/routes/routes-source.ts';
import { CachedSilences, DEFAULT_DISPATCH_CONFIG, recheckMutedAlerts, SilenceExistsError, SilenceExpiredError, SilenceNotFoundError, type Silence } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, NotificationJob } from '../../shared/core/model/index.ts';
import { METRICS_NAMESPACE } from '../../shared/core/model/metrics.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import { dynamoClient, endpoints, LOCAL_REGION, provisionFresh } from '../support/aws.ts';
import { captureIo } from '../support/cli-io.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
type P = Awaited<ReturnType<typeof provisionFresh>>;

const routes = compileRoutes(
  { receivers: [{ name: 'db', slack: { channel: 'C0DB' } }], routes: [{ matchers: ['team="db"'], receivers: ['db'] }] },
  'test routes',
  { slackWebhookKey: 'default', emailRecipients: [], pagerDutyKeyName: 'default' },
);

let p: P;
beforeAll(async () => {
  p = await provisionFresh();
});

function clockAt(start: number): { now(): number; set(ms: number): void } {
  let now = start;
  return { now: () => now, set: (ms) => void (now = ms) };
}

let seq = 0;
function firing(fingerprint: string, firedAtMs: number, labels: Record<string, string>): AlertTransition {
  return {
    version: 1,
    transitionId: `${fingerprint}-firing-${firedAtMs}`,
    kind: 'firing',
    fingerprint,
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'medium',
    labels: { alertname: 'CPU high', ...labels },
    annotations: {},
    value: 97,
    condition: '> 80',
    atMs: firedAtMs,
    activeAtMs: firedAtMs - MIN,
    firedAtMs,
    emittedAtMs: firedAtMs,
  };
}
const resolvedOf = (t: AlertTransition): AlertTransition => ({ ...t, kind: 'resolved', transitionId: `${t.fingerprint}-resolved-${t.firedAtMs}`, atMs: t.firedAtMs + 10 * MIN, resolvedAtMs: t.firedAtMs + 10 * MIN });

async function drain(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const ms = r.Messages ?? [];
    if (ms.length === 0) return out;
    out.push(...ms);
    for (const m of ms) await p.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
  }
}

/** What is on alert-events, as Lambda's SQS event. */
async function alertEvents(): Promise<SQSEvent> {
  return { Records: (await drain(p.queues.alertEvents.url)).map((m) => toSqsRecord(m, p.queues.alertEvents.arn, LOCAL_REGION)) };
}

const slackJobs = async (): Promise<NotificationJob[]> => (await drain(p.queues.slack.url)).map((m) => JSON.parse(m.Body!) as NotificationJob);

function dispatchDeps(ddb: DynamoDBClient, clock: { now(): number }): DispatchDeps {
  return {
    store: new DynamoAlertStore(ddb, p.tables.alerts),
    publisher: new SqsJobPublisher(p.sqs, { slack: p.queues.slack.url, email: p.queues.email.url, pagerduty: p.queues.pagerduty.url, webhook: p.queues.webhook.url }),
    deadLetter: new SqsDeadLetterSender(p.sqs, p.queues.alertEvents.dlq!.url),
    routes: staticRoutesSource(routes),
    // A lifetime of 0: every transition reads the table (the cache is tested in test/unit/silences.test.ts).
    silences: new CachedSilences(new DynamoSilenceStore(ddb, p.tables.silences), clock, 0),
    config: DEFAULT_DISPATCH_CONFIG,
    clock,
    logger: new Logger({ serviceName: 'dispatch', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'dispatch' }),
  };
}

async function cli(args: string[], now: number, newId?: string): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await silenceCli([...args, '--prefix', p.prefix, '--endpoint', endpoints().dynamodb, '--region', LOCAL_REGION], c.io, { USER: 'tester' }, {
    now: () => now,
    ...(newId ? { newId: () => newId } : {}),
  });
  return { code, out: c.out(), err: c.err() };
}

describe('DynamoSilenceStore (DynamoDB Local)', () => {
  it('creates, lists, refuses a taken id, expires (active: end now; pending: both now), and keeps expired ones with a TTL', async () => {
    const store = new DynamoSilenceStore(dynamoClient(), p.tables.silences);
    const now = 1_800_000_000_000;
    const s: Silence = { id: `st-${(seq += 1)}`, matchers: [{ name: 'team', op: '=~', value: 'db\\..*' }], startsAtMs: now, endsAtMs: now + HOUR, createdBy: 'a', comment: 'c', updatedAtMs: now };
    const pending: Silence = { ...s, id: `st-${(seq += 1)}`, startsAtMs: now + HOUR, endsAtMs: now + 2 * HOUR };
    await store.create(s);
    await store.create(pending);
    await expect(store.create(s)).rejects.toBeInstanceOf(SilenceExistsError);
    expect(await store.get(s.id)).toEqual(s);
    expect((await store.list()).map((x) => x.id)).toEqual(expect.arrayContaining([s.id, pending.id]));

    expect(await store.expire(s.id, now + MIN)).toMatchObject({ startsAtMs: now, endsAtMs: now + MIN });
    expect(await store.expire(pending.id, now + MIN)).toMatchObject({ startsAtMs: now + MIN, endsAtMs: now + MIN });
    await expect(store.expire(s.id, now + 2 * MIN)).rejects.toBeInstanceOf(SilenceExpiredError);
    await expect(store.expire('nope', now)).rejects.toBeInstanceOf(SilenceNotFoundError);
    const item = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.silences, Key: { id: { S: s.id } } }));
    expect(Number(item.Item?.expiresAt?.N)).toBe(Math.floor((now + MIN + SILENCE_RETENTION_MS) / 1000));
  });
});

describe('klaxon silence (DynamoDB Local)', () => {
  it('adds, queries, exports, expires, and queries --expired, amtool-style', async () => {
    const now = 1_810_000_000_000;
    const add = await cli(['add', '--duration', '2h', '--comment', 'db upgrade', '--author', 'ana', 'team="db"', 'host=~"db\\.example"'], now, 'cli-1');
    expect(add).toMatchObject({ code: 0, out: 'cli-1\n' });
    const q = await cli(['query', '--format', 'json', 'team="db"'], now + MIN);
    const [json] = JSON.parse(q.out) as { id: string; matchers: unknown[]; endsAt: string; createdBy: string; status: { state: string } }[];
    expect(json).toMatchObject({
      id: 'cli-1',
      matchers: [
        { name: 'team', value: 'db', isRegex: false, isEqual: true },
        { name: 'host', value: 'db\\.example', isRegex: true, isEqual: true },
      ],
      endsAt: new Date(now + 2 * HOUR).toISOString(),
      createdBy: 'ana',
      status: { state: 'active' },
    });
    expect((await cli(['query', 'team="web"'], now + MIN)).out).toBe('no silences\n');
    expect((await cli(['query'], now + MIN)).out).toMatch(/^ID\s+STATE\s+MATCHERS.*\ncli-1\s+active\s+\{team="db", host=~"db\\\\.example"\}/);

    expect(await cli(['expire', 'cli-1'], now + 2 * MIN)).toMatchObject({ code: 0, out: 'expired cli-1\n' });
    expect((await cli(['query', '--quiet'], now + 3 * MIN)).out).not.toContain('cli-1');
    expect((await cli(['query', '--expired', '--quiet'], now + 3 * MIN)).out).toContain('cli-1\n');
    expect(await cli(['expire', 'cli-1'], now + 4 * MIN)).toMatchObject({ code: 1, err: expect.stringContaining('already expired') });
  });

  it.each([
    // [bad input, the field the error names]
    [['add', '--duration', '1h', '--comment', 'x', 'team="db'], 'matchers[0]'], // an invalid matcher
    [['add', '--duration', '1h', '--comment', 'x', 'team="db"', 'host=~"db("'], 'matchers[1]'], // a regex that fails to compile
    [['add', '--duration', '1h', '--comment', 'x', 'team=~".*"'], 'matchers'], // only matchers that match the empty string
    [['add', '--start', '2027-01-02T00:00:00Z', '--end', '2027-01-01T00:00:00Z', '--comment', 'x', 'team="db"'], 'endsAt'], // end before start
  ])('refuses %j naming %s, and stores nothing', async (args, field) => {
    const before = (await new DynamoSilenceStore(dynamoClient(), p.tables.silences).list()).length;
    const r = await cli(args, 1_820_000_000_000, `bad-${(seq += 1)}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`invalid silence: ${field}: `);
    expect((await new DynamoSilenceStore(dynamoClient(), p.tables.silences).list()).length).toBe(before);
  });

  it('refuses a silence with no matchers as a usage error', async () => {
    expect((await cli(['add', '--duration', '1h', '--comment', 'x'], 1_820_000_000_000)).code).toBe(2);
  });

  it('exports and imports Alertmanager JSON; a file with one bad silence imports none', async () => {
    const now = 1_830_000_000_000;
    await cli(['add', '--duration', '1h', '--comment', 'exported', 'job="export-me"'], now, 'exp-1');
    const out = await cli(['export', '-'], now);
    const exported = (JSON.parse(out.out) as { id: string }[]).filter((s) => s.id === 'exp-1');
    expect(exported).toHaveLength(1);

    const fresh = await provisionFresh();
    const importTo = async (doc: unknown): Promise<{ code: number; err: string }> => {
      const c = captureIo(JSON.stringify(doc));
      const code = await silenceCli(['import', '-', '--prefix', fresh.prefix, '--endpoint', endpoints().dynamodb], c.io, {}, { now: () => now });
      return { code, err: c.err() };
    };
    const bad = { ...exported[0], id: 'other', endsAt: '2000-01-01T00:00:00Z' };
    expect(await importTo([...exported, bad])).toMatchObject({ code: 1, err: expect.stringContaining('[1].endsAt: ') });
    expect(await new DynamoSilenceStore(dynamoClient(), fresh.tables.silences).list()).toEqual([]);
    expect((await importTo(exported)).code).toBe(0);
    expect((await new DynamoSilenceStore(dynamoClient(), fresh.tables.silences).list()).map((s) => s.id)).toEqual(['exp-1']);
  });
});

describe('a silence in the dispatch sequence (DynamoDB Local, fauxqs, injected clock)', () => {
  it('mutes a firing, records it, and notifies it when the silence ends; a muted resolution is not sent', async () => {
    const t0 = 1_840_000_000_000;
    const clock = clockAt(t0);
    const ddb = dynamoClient();
    const handler = createDispatchHandler(dispatchDeps(ddb, clock));
    const muted = new DynamoMutedAlertIndex(ddb, p.tables.alerts);
    const alertEventsPublisher = new SqsTransitionPublisher({ client: p.sqs, queueUrl: p.queues.alertEvents.url });
    // What the timers function runs each minute.
    const sweep = (): Promise<number> => recheckMutedAlerts({ muted, publisher: alertEventsPublisher }, clock.now());

    expect((await cli(['add', '--duration', '30m', '--comment', 'maintenance', 'instance="db-7"'], t0, 'maint-7')).code).toBe(0);
    const a = firing(`fp-sil-${(seq += 1)}`, t0 - 5 * MIN, { team: 'db', instance: 'db-7' });
    const b = firing(`fp-sil-${(seq += 1)}`, t0 - 5 * MIN, { team: 'db', instance: 'db-8' });
    await alertEventsPublisher.publish([a, b]);
    clock.set(t0 + MIN);
    expect(await handler(await alertEvents())).toEqual({ batchItemFailures: [] });
    // b is notified; a is muted and recorded with the silence id, in the by-recheck index.
    expect((await slackJobs()).map((j) => j.transition.fingerprint)).toEqual([b.fingerprint]);
    const item = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.alerts, Key: { fingerprint: { S: a.fingerprint } } }));
    expect(item.Item?.recheckAt?.N).toBe(String(t0 + 30 * MIN));
    const record = await new DynamoAlertStore(ddb, p.tables.alerts).get(a.fingerprint);
    expect(record?.muted).toMatchObject({ silencedBy: ['maint-7'], recheckAtMs: t0 + 30 * MIN });
    expect(toAlertRow(record as unknown as Record<string, unknown>).silencedBy).toEqual(['maint-7']);

    // The sweep before the end finds nothing; at the end it puts a back on alert-events.
    clock.set(t0 + 29 * MIN);
    expect(await sweep()).toBe(0);
    clock.set(t0 + 30 * MIN);
    expect(await sweep()).toBe(1);
    expect(await handler(await alertEvents())).toEqual({ batchItemFailures: [] });
    const jobs = await slackJobs();
    expect(jobs.map((j) => [j.transition.fingerprint, j.transition.kind])).toEqual([[a.fingerprint, 'firing']]);
    const index = await p.dynamodb.send(
      new QueryCommand({ TableName: p.tables.alerts, IndexName: 'by-recheck', KeyConditionExpression: 'recheckShard = :s', ExpressionAttributeValues: { ':s': { S: 'muted' } } }),
    );
    // Notified now: no longer muted; the index holds it for its reminder, repeat_interval (4h) later.
    const indexed = (index.Items ?? []).find((i) => i.fingerprint?.S === a.fingerprint);
    expect(indexed?.recheckAt?.N).toBe(String(t0 + 30 * MIN + 4 * HOUR));
    expect((await new DynamoAlertStore(ddb, p.tables.alerts).get(a.fingerprint))?.muted).toBeUndefined();
    // Its resolution goes where the firing went.
    await alertEventsPublisher.publish([resolvedOf(a)]);
    await handler(await alertEvents());
    expect((await slackJobs()).map((j) => j.transition.kind)).toEqual(['resolved']);

    // A firing muted and resolved under the silence: the resolution is not sent, nothing is re-checked.
    expect((await cli(['add', '--duration', '1h', '--comment', 'again', 'instance="db-9"'], clock.now(), 'maint-9')).code).toBe(0);
    const c = firing(`fp-sil-${(seq += 1)}`, clock.now(), { team: 'db', instance: 'db-9' });
    await alertEventsPublisher.publish([c, resolvedOf(c)]);
    await handler(await alertEvents());
    expect(await slackJobs()).toEqual([]);
    clock.set(clock.now() + 2 * HOUR);
    expect(await sweep()).toBe(0);
    // b resolves: nothing of this test is left due (no reminder).
    await alertEventsPublisher.publish([resolvedOf(b)]);
    await handler(await alertEvents());
    expect((await slackJobs()).map((j) => j.transition.kind)).toEqual(['resolved']);
    clock.set(clock.now() + 10 * HOUR);
    expect(await sweep()).toBe(0);
  });

  it('expiring a silence early with the CLI makes what it muted due at the next sweep; ≤ 4 DynamoDB requests per notification still hold', async () => {
    const t0 = 1_850_000_000_000;
    const clock = clockAt(t0);
    const ddb = dynamoClient();
    const handler = createDispatchHandler(dispatchDeps(ddb, clock));
    const publisher = new SqsTransitionPublisher({ client: p.sqs, queueUrl: p.queues.alertEvents.url });
    expect((await cli(['add', '--duration', '4h', '--comment', 'long', 'instance="db-11"'], t0, 'long-11')).code).toBe(0);
    const a = firing(`fp-sil-${(seq += 1)}`, t0, { team: 'db', instance: 'db-11' });
    await publisher.publish([a]);
    await handler(await alertEvents());
    expect(await slackJobs()).toEqual([]);

    clock.set(t0 + 10 * MIN);
    expect((await cli(['expire', 'long-11'], clock.now())).code).toBe(0);
    clock.set(t0 + 11 * MIN);
    expect(await recheckMutedAlerts({ muted: new DynamoMutedAlertIndex(ddb, p.tables.alerts), publisher }, clock.now())).toBe(1);
    let requests = 0;
    ddb.middlewareStack.add((next) => async (args) => ((requests += 1), next(args)), { step: 'initialize', name: 'count' });
    await handler(await alertEvents());
    expect((await slackJobs()).map((j) => j.transition.fingerprint)).toEqual([a.fingerprint]);
    // GetItem, the silences Scan (cache lifetime 0 here; 10 s in production), UpdateItem.
    expect(requests).toBe(3);
  });
});
