/**
 * Grouping against the real local services (DynamoDB Local, fauxqs): the DynamoDB group store,
 * the flush-groups handler with the real store, job publisher and flush scheduler, and dispatch
 * writing 100 alerts of one group through its real handler (docs/routing.md, "Grouping";
 * docs/design.md, "The notification pipeline": group). Time is an injected clock; only the SQS
 * message delay is waited for, in real seconds (fauxqs honours DelaySeconds on standard queues).
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDispatchHandler } from '../../functions/dispatch/app.ts';
import { createFlushGroupsHandler, type FlushGroupsDeps } from '../../functions/flush-groups/app.ts';
import { DynamoAlertStore, DynamoMemberRecords } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoGroupStore } from '../../shared/adapters/dynamodb/group-store.ts';
import { staticRoutesSource } from '../../shared/adapters/routes/routes-source.ts';
import { SqsFlushScheduler } from '../../shared/adapters/sqs/flush-scheduler.ts';
import { SqsDeadLetterSender, SqsJobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { sendAllBatched } from '../../shared/adapters/sqs/transition-publisher.ts';
import {
  DEFAULT_DISPATCH_CONFIG,
  GroupChangedError,
  GroupFullError,
  groupIdOf,
  groupKeyOf,
  type FlushMessage,
  type GroupItem,
  type GroupMember,
  type GroupStore,
  type GroupTiming,
  type GroupUpsert,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { GROUP_JOB_MAX_LISTED, type AlertTransition, type Channel, type NotificationJob } from '../../shared/core/model/index.ts';
import { METRICS_NAMESPACE } from '../../shared/core/model/metrics.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import { dynamoClient, LOCAL_REGION, provisionFresh, sqsClient } from '../support/aws.ts';

// Single metrics (the flush's outcomes) are printed at once otherwise.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const T = 1_800_000_000_000;
const S = 1000;
/** Short timings so that the delayed flush messages arrive within the test (group_interval 2 s). */
const TIMING: GroupTiming = { waitMs: S, intervalMs: 2 * S, repeatMs: 4 * 3_600_000 };
const CONFIG = { throttleWindows: DEFAULT_DISPATCH_CONFIG.throttleWindows };

const ROUTES = compileRoutes(
  {
    receivers: [{ name: 'ops', slack: { channel: 'C0OPS' }, pagerduty: { routingKey: 'ops' } }],
    routes: [{ matchers: ['team="ops"'], receivers: ['ops'], group_by: ['alertname', 'cluster'], group_wait: '1s', group_interval: '2s', repeat_interval: '4h' }],
  },
  'group-flush test routes',
);

const SLACK = { destination: { kind: 'slack' as const, channel: 'C0OPS' }, destinationId: 'slack:channel:C0OPS' };
const PD = { destination: { kind: 'pagerduty' as const, routingKeyName: 'ops' }, destinationId: 'pagerduty:ops' };

type P = Awaited<ReturnType<typeof provisionFresh>>;
let p: P;
/** Through the port, as dispatch and the flush call it. */
let store: GroupStore;
beforeAll(async () => {
  p = await provisionFresh();
  store = new DynamoGroupStore(p.dynamodb, p.tables.groups);
});

const silent = (): Logger => new Logger({ serviceName: 'group-flush-test', logLevel: 'SILENT' });
const metrics = (): Metrics => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'group-flush-test' });
const queueUrls = (): Record<Channel, string> => ({ slack: p.queues.slack.url, email: p.queues.email.url, pagerduty: p.queues.pagerduty.url, webhook: p.queues.webhook.url });

/** The part of an SDK client's middleware stack the counters use. */
interface CountableStack {
  add(
    mw: (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: unknown }) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ): void;
}

/** Counts the requests a client sends, per command (an SDK middleware: the real requests), and keeps their inputs. */
function countRequests(client: DynamoDBClient | SQSClient): { total: () => number; byCommand: () => Record<string, number>; inputs: { command: string; input: unknown }[]; reset: () => void } {
  let seen: Record<string, number> = {};
  const inputs: { command: string; input: unknown }[] = [];
  (client.middlewareStack as unknown as CountableStack).add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      seen[name] = (seen[name] ?? 0) + 1;
      inputs.push({ command: name, input: args.input });
      return next(args);
    },
    { step: 'initialize', name: `countRequests${randomUUID()}` },
  );
  return {
    total: () => Object.values(seen).reduce((a, b) => a + b, 0),
    byCommand: () => ({ ...seen }),
    inputs,
    reset: () => {
      seen = {};
      inputs.length = 0;
    },
  };
}

/** Receives and deletes everything visible on a queue now. */
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

const jobsOn = async (channel: Channel): Promise<NotificationJob[]> => (await drain(p.queues[channel].url)).map((m) => JSON.parse(m.Body!) as NotificationJob);

/** Flush messages for group `id` now visible on the group-flush queue (received and deleted; others' are dropped). */
async function flushMessagesFor(id: string): Promise<Message[]> {
  return (await drain(p.queues.groupFlush.url)).filter((m) => (JSON.parse(m.Body!) as FlushMessage).id === id);
}

/** Polls the group-flush queue until a message for `id` shows (its delay ended), at most `timeoutMs`. */
async function awaitFlushMessage(id: string, timeoutMs = 10_000): Promise<{ messages: Message[]; afterMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const messages = await flushMessagesFor(id);
    if (messages.length > 0 || Date.now() - t0 > timeoutMs) return { messages, afterMs: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The SQS event Lambda builds from received messages. */
const eventOf = (ms: readonly Message[], arn: string): SQSEvent => ({ Records: ms.map((m) => toSqsRecord(m, arn, LOCAL_REGION)) });

/** A group header for these tests (one group per call: a fresh cluster label). */
function header(cluster = randomUUID().slice(0, 8)): GroupUpsert['header'] {
  const labels = { alertname: 'CPU', cluster };
  const key = groupKeyOf('routes[0]', 'ops', labels);
  return { id: groupIdOf(key), key, routePath: 'routes[0]', receiver: 'ops', labels, timing: TIMING };
}

function member(fp: string, i: number): GroupMember {
  return {
    status: 'firing',
    severity: 'critical',
    channels: ['pagerduty', 'slack'],
    startsAtMs: T - i * S,
  };
}

/** A member blown up to about `bytes` (its channel list repeated): only to reach DynamoDB's item limit quickly. */
function inflated(m: GroupMember, bytes: number): GroupMember {
  return { ...m, channels: Array.from({ length: Math.ceil(bytes / 6) }, () => 'slack' as const) };
}

function upsert(h: GroupUpsert['header'], i: number, dueIfNewMs = T): GroupUpsert {
  const fp = `fp${String(i).padStart(4, '0')}`;
  return { header: h, fingerprint: fp, member: member(fp, i), destinations: { slack: SLACK, pagerduty: PD }, dueIfNewMs };
}

describe('DynamoGroupStore', () => {
  it('creates the group with its first member only, keeps the first due time, and reads back members and destinations', async () => {
    const h = header();
    expect(await store.upsertMember(upsert(h, 1, T), T)).toEqual({ created: true });
    // Later members (and the same one again) join the existing group: never created twice, the due time stays.
    expect(await store.upsertMember(upsert(h, 2, T + 60 * S), T + S)).toEqual({ created: false });
    expect(await store.upsertMember(upsert(h, 1, T + 90 * S), T + 2 * S)).toEqual({ created: false });
    const g = await store.get(h.id);
    expect(g).toMatchObject({ id: h.id, key: h.key, routePath: 'routes[0]', receiver: 'ops', labels: h.labels, timing: TIMING, version: 3, flushed: false, dueAtMs: T });
    expect(Object.keys(g!.members).sort()).toEqual(['fp0001', 'fp0002']);
    expect(g!.members.fp0002).toEqual(member('fp0002', 2));
    expect(g!.destinations).toEqual({ slack: SLACK, pagerduty: PD });
    expect(g!.channels).toEqual({});
    expect(await store.get(header().id)).toBeUndefined();
  });

  it('marks a member resolved, and creates nothing for a group that is gone or a member it does not hold', async () => {
    const h = header();
    await store.upsertMember(upsert(h, 1), T);
    await store.upsertMember(upsert(h, 2), T);
    await store.resolveMember(h.id, 'fp0001', T + 5 * S, T + 5 * S);
    const g = await store.get(h.id);
    expect(g!.members.fp0001).toMatchObject({ status: 'resolved', endsAtMs: T + 5 * S });
    expect(g!.members.fp0002!.status).toBe('firing');
    expect(g!.version).toBe(3);

    // A fingerprint the group does not hold: nothing written.
    await store.resolveMember(h.id, 'fp9999', T + 6 * S, T + 6 * S);
    expect((await store.get(h.id))!.version).toBe(3);
    expect((await store.get(h.id))!.members.fp9999).toBeUndefined();

    // A group deleted after its last flush stays deleted: no item appears.
    const gone = header();
    await store.resolveMember(gone.id, 'fp0001', T, T);
    const raw = await p.dynamodb.send(new GetItemCommand({ TableName: p.tables.groups, Key: { id: { S: gone.id } }, ConsistentRead: true }));
    expect(raw.Item).toBeUndefined();
  });

  it('commits a flush only on the version read: rewrite, stale version, delete', async () => {
    const h = header();
    await store.upsertMember(upsert(h, 1), T);
    await store.upsertMember(upsert(h, 2), T);
    const read = (await store.get(h.id))!;
    const next: GroupItem = {
      ...read,
      flushed: true,
      dueAtMs: T + TIMING.intervalMs,
      members: { fp0002: read.members.fp0002! },
      channels: { slack: { seq: 1, notified: { atMs: T, firing: ['fp0002'], resolved: [] }, lastSentAtMs: T, heldCount: 0 } },
    };
    // A member joined since the read: the commit is refused and nothing changes.
    await store.upsertMember(upsert(h, 3), T);
    await expect(store.commitFlush(h.id, next, read.version, T)).rejects.toBeInstanceOf(GroupChangedError);
    expect(Object.keys((await store.get(h.id))!.members).sort()).toEqual(['fp0001', 'fp0002', 'fp0003']);

    const again = (await store.get(h.id))!;
    await store.commitFlush(h.id, { ...next, members: { fp0003: again.members.fp0003! } }, again.version, T);
    const after = (await store.get(h.id))!;
    expect(after).toMatchObject({ version: again.version + 1, flushed: true, dueAtMs: T + TIMING.intervalMs, channels: next.channels, destinations: { slack: SLACK, pagerduty: PD } });
    expect(Object.keys(after.members)).toEqual(['fp0003']);
    // The next member joins the rewritten group: not a new group, and the flushed due time stays.
    expect(await store.upsertMember(upsert(h, 4, T + 99 * S), T + S)).toEqual({ created: false });
    expect((await store.get(h.id))!.dueAtMs).toBe(T + TIMING.intervalMs);

    // Delete: refused on a stale version, done on the current one.
    const current = (await store.get(h.id))!;
    await expect(store.commitFlush(h.id, undefined, current.version - 1, T)).rejects.toBeInstanceOf(GroupChangedError);
    await store.commitFlush(h.id, undefined, current.version, T);
    expect(await store.get(h.id)).toBeUndefined();
    // A new alert after the delete creates the group again.
    expect(await store.upsertMember(upsert(h, 5), T)).toEqual({ created: true });
  });

  it('refuses a member past the 400 KB item limit with a permanent GroupFullError, leaving the group as it was', async () => {
    const h = header();
    // Members far larger than real ones (a few dozen bytes): about 20 KB each, so that the limit comes after about 20.
    const fat = (i: number): GroupUpsert => {
      const u = upsert(h, i);
      return { ...u, member: inflated(u.member, 20_000) };
    };
    let written = 0;
    let refused: unknown;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      try {
        await store.upsertMember(fat(i), T);
        written++;
      } catch (err) {
        refused = err;
      }
    }
    expect(written).toBeGreaterThan(15);
    expect(refused).toBeInstanceOf(GroupFullError);
    expect((refused as GroupFullError).transient).toBe(false);
    expect((refused as Error).message).toContain(h.id);
    expect(Object.keys((await store.get(h.id))!.members)).toHaveLength(written);
  });

  it('lists overdue groups through the by-due index, oldest first, at most the limit', async () => {
    // Due times far before the other tests' (T): only these three are that old.
    const [a, b, c] = [header(), header(), header()];
    await store.upsertMember(upsert(b, 1, 2_000), T);
    await store.upsertMember(upsert(a, 1, 1_000), T);
    await store.upsertMember(upsert(c, 1, 9_000), T);
    expect(await store.overdue(5_000, 10)).toEqual([
      { id: a.id, dueAtMs: 1_000 },
      { id: b.id, dueAtMs: 2_000 },
    ]);
    expect(await store.overdue(10_000, 2)).toEqual([
      { id: a.id, dueAtMs: 1_000 },
      { id: b.id, dueAtMs: 2_000 },
    ]);
    await store.commitFlush(a.id, undefined, 1, T);
    expect((await store.overdue(5_000, 10)).map((d) => d.id)).toEqual([b.id]);
  });
});

describe('flush-groups handler (DynamoDB Local + fauxqs)', () => {
  function flushDeps(clock: ManualClock, sqs: SQSClient = p.sqs): FlushGroupsDeps {
    return {
      groups: store,
      publisher: new SqsJobPublisher(sqs, queueUrls()),
      scheduler: new SqsFlushScheduler({ client: sqs, queueUrl: p.queues.groupFlush.url }),
      routes: staticRoutesSource(ROUTES),
      deadLetter: new SqsDeadLetterSender(sqs, p.queues.groupFlush.dlq!.url),
      config: CONFIG,
      clock,
      logger: silent(),
      metrics: metrics(),
    };
  }

  it('flushes a group of 30: one job per channel holding the 30 alerts, the group rewritten, the next flush delayed by group_interval', async () => {
    const h = header();
    for (let i = 0; i < 30; i++) await store.upsertMember(upsert(h, i, T + TIMING.waitMs), T);
    const clock = new ManualClock(T + TIMING.waitMs);
    const sqs = sqsClient();
    const sent = countRequests(sqs);
    const handler = createFlushGroupsHandler(flushDeps(clock, sqs));
    // The flush message as dispatch schedules it, received from the queue once due.
    await new SqsFlushScheduler({ client: p.sqs, queueUrl: p.queues.groupFlush.url }).schedule([{ version: 1, kind: 'flush', id: h.id, dueAtMs: T + TIMING.waitMs }], T + TIMING.waitMs);
    const [message] = await flushMessagesFor(h.id);
    expect(message).toBeDefined();
    expect(await handler(eventOf([message!], p.queues.groupFlush.arn))).toEqual({ batchItemFailures: [] });

    const [slack, pagerduty, email] = [await jobsOn('slack'), await jobsOn('pagerduty'), await jobsOn('email')];
    expect(email).toHaveLength(0);
    for (const [channel, jobs] of [['slack', slack], ['pagerduty', pagerduty]] as const) {
      expect(jobs).toHaveLength(1);
      const job = jobs[0]!;
      expect(job).toMatchObject({ channel, receiver: 'ops', destinationId: channel === 'slack' ? SLACK.destinationId : PD.destinationId, severity: 'critical', fireCount: 30 });
      expect(job.transition.fingerprint).toBe(h.id);
      expect(job.group).toMatchObject({ id: h.id, reason: 'first-notification', firingCount: 30, resolvedCount: 0, changes: { newFiring: 30, newResolved: 0 }, seq: 1 });
      expect(job.group!.firing).toHaveLength(Math.min(30, GROUP_JOB_MAX_LISTED));
      expect(job.group!.firing.every((m) => m.isNew === true)).toBe(true);
    }

    const g = (await store.get(h.id))!;
    expect(g).toMatchObject({ version: 31, flushed: true, dueAtMs: T + TIMING.waitMs + TIMING.intervalMs });
    expect(Object.keys(g.members)).toHaveLength(30);
    expect(g.channels.slack).toMatchObject({ seq: 1, lastSentAtMs: T + TIMING.waitMs, heldCount: 0 });
    expect(g.channels.pagerduty?.notified?.firing).toHaveLength(30);

    // The next flush: one message for the new due time, sent with group_interval as its delay.
    const next: FlushMessage = { version: 1, kind: 'flush', id: h.id, dueAtMs: T + TIMING.waitMs + TIMING.intervalMs };
    const scheduled = sent.inputs.filter((x) => x.command === 'SendMessageBatchCommand' && (x.input as { QueueUrl: string }).QueueUrl === p.queues.groupFlush.url);
    expect(scheduled).toHaveLength(1);
    expect((scheduled[0]!.input as { Entries: { MessageBody: string; DelaySeconds: number }[] }).Entries).toEqual([
      { Id: '0', MessageBody: JSON.stringify(next), DelaySeconds: TIMING.intervalMs / S },
    ]);
    // fauxqs holds it back for the delay, then delivers it.
    expect(await flushMessagesFor(h.id)).toHaveLength(0);
    const { messages, afterMs } = await awaitFlushMessage(h.id);
    expect(messages.map((m) => JSON.parse(m.Body!) as FlushMessage)).toEqual([next]);
    expect(afterMs).toBeGreaterThanOrEqual(1_000);

    // The first message delivered again (a redelivery): obsolete, nothing published, nothing written.
    expect(await handler(eventOf([message!], p.queues.groupFlush.arn))).toEqual({ batchItemFailures: [] });
    expect([...(await jobsOn('slack')), ...(await jobsOn('pagerduty'))]).toHaveLength(0);
    expect((await store.get(h.id))!.version).toBe(31);

    // The next message at its due time: nothing changed, nothing notified; the group goes on.
    clock.set(next.dueAtMs);
    expect(await handler(eventOf(messages, p.queues.groupFlush.arn))).toEqual({ batchItemFailures: [] });
    expect([...(await jobsOn('slack')), ...(await jobsOn('pagerduty'))]).toHaveLength(0);
    expect((await store.get(h.id))!).toMatchObject({ version: 32, dueAtMs: next.dueAtMs + TIMING.intervalMs });
  });

  it('dead-letters a body that is not a flush message, with the reason, and publishes nothing', async () => {
    const clock = new ManualClock(T);
    const handler = createFlushGroupsHandler(flushDeps(clock));
    const bodies = ['not json', JSON.stringify({ version: 1, kind: 'flush', id: 'group:nothex', dueAtMs: T })];
    for (const body of bodies) await p.sqs.send(new SendMessageCommand({ QueueUrl: p.queues.groupFlush.url, MessageBody: body }));
    const received = (await drain(p.queues.groupFlush.url)).filter((m) => bodies.includes(m.Body!));
    expect(received).toHaveLength(2);
    expect(await handler(eventOf(received, p.queues.groupFlush.arn))).toEqual({ batchItemFailures: [] });
    const dead = await drain(p.queues.groupFlush.dlq!.url);
    expect(Object.fromEntries(dead.map((m) => [m.Body, m.MessageAttributes?.reason?.StringValue]))).toEqual({
      'not json': 'invalid flush message: not JSON',
      [bodies[1]!]: 'invalid flush message: id: expected group:<32 hex>',
    });
    expect([...(await jobsOn('slack')), ...(await jobsOn('pagerduty'))]).toHaveLength(0);
  });

  it('drops a message for a group that is gone or for another due time', async () => {
    const h = header();
    await store.upsertMember(upsert(h, 1, T + 10 * S), T);
    const clock = new ManualClock(T + 20 * S);
    const handler = createFlushGroupsHandler(flushDeps(clock));
    const ms: FlushMessage[] = [
      { version: 1, kind: 'flush', id: h.id, dueAtMs: T + 5 * S }, // obsolete: the group is due at T + 10 s
      { version: 1, kind: 'flush', id: header().id, dueAtMs: T }, // gone
    ];
    await new SqsFlushScheduler({ client: p.sqs, queueUrl: p.queues.groupFlush.url }).schedule(ms, T + 20 * S);
    const received = (await drain(p.queues.groupFlush.url)).filter((m) => ms.some((x) => JSON.stringify(x) === m.Body));
    expect(received).toHaveLength(2);
    expect(await handler(eventOf(received, p.queues.groupFlush.arn))).toEqual({ batchItemFailures: [] });
    expect([...(await jobsOn('slack')), ...(await jobsOn('pagerduty'))]).toHaveLength(0);
    expect(await flushMessagesFor(h.id)).toHaveLength(0);
    expect((await store.get(h.id))!).toMatchObject({ version: 1, flushed: false, dueAtMs: T + 10 * S });
  });
});

describe('dispatch with grouping (real handler, DynamoDB Local + fauxqs)', () => {
  function transition(fp: string, i: number, cluster: string): AlertTransition {
    return {
      version: 1,
      transitionId: `f-${fp}`,
      kind: 'firing',
      fingerprint: fp,
      ruleId: 'cpu',
      ruleName: 'CPU high',
      severity: 'critical',
      labels: { alertname: 'CPU', cluster, team: 'ops', instance: `web-${i}` },
      annotations: { summary: `CPU on web-${i}` },
      value: 97,
      condition: '> 90',
      atMs: T,
      activeAtMs: T - 60 * S,
      firedAtMs: T,
      emittedAtMs: T,
    };
  }

  it('notifies the alert of a full group on its own (nothing lost), and dispatches the rest of its batch', async () => {
    const clock = new ManualClock(T);
    const handler = createDispatchHandler({
      store: new DynamoAlertStore(p.dynamodb, p.tables.alerts),
      publisher: new SqsJobPublisher(p.sqs, queueUrls()),
      deadLetter: new SqsDeadLetterSender(p.sqs, p.queues.alertEvents.dlq!.url),
      routes: staticRoutesSource(ROUTES),
      groups: store,
      flushes: new SqsFlushScheduler({ client: p.sqs, queueUrl: p.queues.groupFlush.url }),
      config: DEFAULT_DISPATCH_CONFIG,
      clock,
      logger: silent(),
      metrics: metrics(),
    });
    // Fill the group dispatch will write to up to the last few hundred bytes (members of 20 KB, then 1 KB, then 200 B).
    const [full, other] = [randomUUID().slice(0, 8), randomUUID().slice(0, 8)];
    const h = { ...header(full), id: groupIdOf(groupKeyOf('routes[0]', 'ops', { alertname: 'CPU', cluster: full })) };
    let n = 0;
    for (const size of [20_000, 1_000, 200]) {
      for (;;) {
        const u = upsert(h, n++);
        try {
          await store.upsertMember({ ...u, member: inflated(u.member, size) }, T);
        } catch (err) {
          if (err instanceof GroupFullError) break;
          throw err;
        }
      }
    }
    const ts = [transition(`fp-full-${full}`, 1, full), transition(`fp-ok-${other}`, 2, other)];
    for (const t of ts) await p.sqs.send(new SendMessageCommand({ QueueUrl: p.queues.alertEvents.url, MessageBody: JSON.stringify(t), MessageGroupId: t.fingerprint, MessageDeduplicationId: t.transitionId }));
    const received = await drain(p.queues.alertEvents.url);
    expect(received).toHaveLength(2);
    expect(await handler(eventOf(received, p.queues.alertEvents.arn))).toEqual({ batchItemFailures: [] });
    // Nothing dead-lettered: the alert that does not fit is notified on its own (a job without a group).
    expect(await drain(p.queues.alertEvents.dlq!.url)).toEqual([]);
    const own = [...(await jobsOn('slack')), ...(await jobsOn('pagerduty'))].filter((j) => j.transition.fingerprint === ts[0]!.fingerprint);
    expect(own.map((j) => [j.channel, j.group === undefined])).toEqual(expect.arrayContaining([['slack', true], ['pagerduty', true]]));
    const ok = await store.get(groupIdOf(groupKeyOf('routes[0]', 'ops', { alertname: 'CPU', cluster: other })));
    expect(Object.keys(ok!.members)).toEqual([ts[1]!.fingerprint]);
    await flushMessagesFor(ok!.id);
  });

  it('100 alerts of one group firing at once: no job, one group of 100, one flush scheduled, at most 3 DynamoDB requests per alert; the flush sends one job per channel', async () => {
    const ddb = dynamoClient();
    const requests = countRequests(ddb);
    const sqs = sqsClient();
    const sqsRequests = countRequests(sqs);
    const clock = new ManualClock(T);
    const groups = new DynamoGroupStore(ddb, p.tables.groups);
    const handler = createDispatchHandler({
      store: new DynamoAlertStore(ddb, p.tables.alerts),
      publisher: new SqsJobPublisher(sqs, queueUrls()),
      deadLetter: new SqsDeadLetterSender(sqs, p.queues.alertEvents.dlq!.url),
      routes: staticRoutesSource(ROUTES),
      groups,
      flushes: new SqsFlushScheduler({ client: sqs, queueUrl: p.queues.groupFlush.url }),
      config: DEFAULT_DISPATCH_CONFIG,
      clock,
      logger: silent(),
      metrics: metrics(),
    });

    const cluster = randomUUID().slice(0, 8);
    const run = randomUUID().slice(0, 6);
    const ts = Array.from({ length: 100 }, (_, i) => transition(`fp-${run}-${i}`, i, cluster));
    await sendAllBatched(
      p.sqs,
      p.queues.alertEvents.url,
      ts.map((t, i) => ({ Id: String(i), MessageBody: JSON.stringify(t), MessageGroupId: t.fingerprint, MessageDeduplicationId: t.transitionId })),
    );
    requests.reset();
    sqsRequests.reset();
    let handled = 0;
    for (;;) {
      const batch = await drain(p.queues.alertEvents.url);
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i += 10) expect(await handler(eventOf(batch.slice(i, i + 10), p.queues.alertEvents.arn))).toEqual({ batchItemFailures: [] });
      handled += batch.length;
    }
    expect(handled).toBe(100);

    // The record's read and commit and the member write: 3 requests per alert.
    expect(requests.byCommand()).toEqual({ GetItemCommand: 100, UpdateItemCommand: 200 });
    expect(requests.total() / 100).toBeLessThanOrEqual(3);
    // No job: the group's flush notifies.
    expect(sqsRequests.inputs.filter((x) => Object.values(queueUrls()).includes((x.input as { QueueUrl: string }).QueueUrl))).toHaveLength(0);
    expect([...(await jobsOn('slack')), ...(await jobsOn('email')), ...(await jobsOn('pagerduty'))]).toHaveLength(0);

    const id = groupIdOf(groupKeyOf('routes[0]', 'ops', { alertname: 'CPU', cluster }));
    const g = (await groups.get(id))!;
    expect(g).toMatchObject({ version: 100, flushed: false, dueAtMs: T + TIMING.waitMs, destinations: { slack: { destinationId: expect.any(String) }, pagerduty: { destinationId: expect.any(String) } } });
    expect(Object.keys(g.members)).toHaveLength(100);
    expect(Object.values(g.members).every((m) => m.status === 'firing' && [...m.channels].sort().join() === 'pagerduty,slack')).toBe(true);

    // Exactly one flush message, for the group's due time, group_wait later.
    const scheduled = sqsRequests.inputs.filter((x) => (x.input as { QueueUrl: string }).QueueUrl === p.queues.groupFlush.url);
    expect(scheduled).toHaveLength(1);
    const { messages } = await awaitFlushMessage(id);
    // Any other would have been sent with the same delay: visible by now.
    messages.push(...(await flushMessagesFor(id)));
    expect(messages.map((m) => JSON.parse(m.Body!) as FlushMessage)).toEqual([{ version: 1, kind: 'flush', id, dueAtMs: T + TIMING.waitMs }]);

    // The flush at the due time: one job per channel, each holding the 100 alerts.
    clock.set(T + TIMING.waitMs);
    const flush = createFlushGroupsHandler({
      groups,
      publisher: new SqsJobPublisher(sqs, queueUrls()),
      scheduler: new SqsFlushScheduler({ client: sqs, queueUrl: p.queues.groupFlush.url }),
      routes: staticRoutesSource(ROUTES),
      records: new DynamoMemberRecords(ddb, p.tables.alerts),
      deadLetter: new SqsDeadLetterSender(sqs, p.queues.groupFlush.dlq!.url),
      config: CONFIG,
      clock,
      logger: silent(),
      metrics: metrics(),
    });
    requests.reset();
    expect(await flush(eventOf(messages, p.queues.groupFlush.arn))).toEqual({ batchItemFailures: [] });
    // Read the group, the listed alerts' records (one BatchGetItem: 100 keys), write the group's flush.
    expect(requests.byCommand()).toEqual({ GetItemCommand: 1, BatchGetItemCommand: 1, UpdateItemCommand: 1 });
    const jobs = [...(await jobsOn('slack')), ...(await jobsOn('email')), ...(await jobsOn('pagerduty'))];
    expect(jobs.map((j) => `${j.channel}:${j.group?.firingCount}:${j.group?.firing.length}`).sort()).toEqual(['pagerduty:100:100', 'slack:100:100']);
    // What each alert shows comes from its record.
    expect(jobs[0]!.group!.firing.every((m) => m.name === 'CPU high' && m.instance.startsWith('web-'))).toBe(true);
  });
});
