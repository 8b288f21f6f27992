/**
 * The channel functions end to end: real handlers (wired by their DepsFromEnv) on fauxqs and
 * DynamoDB Local, delivering to the local Slack, PagerDuty and SES receivers, with secrets from the
 * local Secrets Manager through the real SDK client.
 */
import { PutCommand, GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakerKey } from '../../shared/adapters/dynamodb/breaker-store.ts';
import { notificationKey } from '../../shared/adapters/dynamodb/notification-store.ts';
import { SLACK_ACTION_IDS } from '../../shared/core/format/slack.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { hostileJob, job, resolvedOf, T0, TestClock } from './deliver-fixtures.ts';
import { enqueue, peekAll } from './deliver-harness.ts';
import { channelHandler, startDeliverEnv, type DeliverEnv } from './deliver-setup.ts';

let env: DeliverEnv;
let doc: DynamoDBDocumentClient;
beforeAll(async () => {
  env = await startDeliverEnv();
  doc = DynamoDBDocumentClient.from(env.p.dynamodb);
});
afterAll(async () => {
  await env?.stop();
});

let n = 0;
/** A unique destination per test, so breakers do not leak between tests. */
const unique = (j: NotificationJob): NotificationJob => ({ ...j, destinationId: `${j.destinationId}:${++n}` });
const record = async (key: string) => (await doc.send(new GetCommand({ TableName: env.p.tables.delivery, Key: { pk: notificationKey(key) } }))).Item;
const breaker = async (destinationId: string) => (await doc.send(new GetCommand({ TableName: env.p.tables.delivery, Key: { pk: breakerKey(destinationId) } }))).Item;
const webhookRequests = (name: string) => env.slack.received().filter((r) => r.path.endsWith(`/${name}`));

describe('deliver: slack', () => {
  it('posts Block Kit to the webhook and writes one delivery record (sent, attempts, latency, TTL)', async () => {
    const clock = new TestClock(T0 + 4_000);
    const h = await channelHandler(env, 'slack', clock);
    const j = unique(job('slack'));
    const before = webhookRequests('ops').length;
    await enqueue(env.p.sqs, h.queueUrl, j);
    const r = await h.driver.step();
    expect(r).toMatchObject({ received: 1, failed: 0 });
    const got = webhookRequests('ops').slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.status).toBe(200);
    const body = got[0]!.json as { text: string; attachments: { blocks: { type: string }[] }[] };
    expect(body.text).toContain('[CRITICAL] High CPU');
    expect(body.attachments[0]!.blocks[0]!.type).toBe('header');
    expect(await record(j.idempotencyKey)).toMatchObject({ status: 'sent', outcome: 'sent', attempts: 1, latencyMs: 4_000, channel: 'slack', destinationId: j.destinationId });
    expect(((await record(j.idempotencyKey))!.expiresAt as number) > T0 / 1000).toBe(true);
    expect(h.metrics.count('NotificationsSent')).toBe(1);
    // A healthy destination costs no breaker write.
    expect(await breaker(j.destinationId)).toBeUndefined();
  });

  it('notifies once when the same job is delivered again (Lambda redelivery and a duplicate message)', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'slack', clock);
    const j = unique(job('slack'));
    const before = webhookRequests('ops').length;
    await enqueue(env.p.sqs, h.queueUrl, j);
    await h.driver.step();
    // The same SQS event again (the function died after sending, before Lambda deleted the message).
    const again = await h.handler(h.driver.events.at(-1)!);
    expect(again.batchItemFailures).toEqual([]);
    // And the job published twice (e.g. dispatch crashed between publish and commit).
    await enqueue(env.p.sqs, h.queueUrl, j, 'second-copy');
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    expect(webhookRequests('ops').length - before).toBe(1);
    expect(await record(j.idempotencyKey)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('honours 429 Retry-After: visibility set to it, the destination’s other jobs held, not retried earlier', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'slack', clock);
    const a = unique(job('slack'));
    const b = { ...job('slack'), destinationId: a.destinationId };
    env.slack.setSchedule({ failNext: { count: 1, fault: { status: 429, retryAfterSeconds: 120 } } });
    const before = webhookRequests('ops').length;
    await enqueue(env.p.sqs, h.queueUrl, a);
    await enqueue(env.p.sqs, h.queueUrl, b);
    const r = await h.driver.step();
    expect(r).toMatchObject({ received: 2, failed: 2 });
    expect([...r.visibility.values()]).toEqual([120, 120]);
    // Only the first was sent: the second was held without a request.
    expect(webhookRequests('ops').length - before).toBe(1);
    clock.advance(119_000);
    expect((await h.driver.step()).received).toBe(0);
    clock.advance(1_000);
    await h.driver.drain({ tickMs: 1_000, maxSimMs: 60_000 });
    expect(webhookRequests('ops').length - before).toBe(3);
    expect(await record(a.idempotencyKey)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(h.metrics.count('NotificationsFailed', { reason: 'rate-limited' })).toBe(1);
    expect(h.metrics.count('NotificationsDeferred')).toBe(1);
  });

  it('dead-letters a revoked webhook (404 no_service) at once with the reason; the breaker stays closed', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'slack', clock);
    const j = unique(job('slack', { destination: { kind: 'slack', webhookKey: 'gone' } }));
    await enqueue(env.p.sqs, h.queueUrl, j);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    const dlq = await peekAll(env.p.sqs, h.dlqUrl);
    const mine = dlq.filter((m) => (JSON.parse(m.body) as NotificationJob).idempotencyKey === j.idempotencyKey);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.attributes).toMatchObject({ reason: 'auth', channel: 'slack', destinationId: j.destinationId });
    expect(mine[0]!.attributes.detail).toContain('no_service');
    expect(mine[0]!.attributes.detail).not.toContain('/services/');
    expect(await record(j.idempotencyKey)).toMatchObject({ status: 'failed', outcome: 'dead-lettered', lastReason: 'auth' });
    expect(await breaker(j.destinationId)).toBeUndefined();
    expect(h.metrics.count('NotificationsDeadLettered')).toBe(1);
  });

  it('with the bot token: posts, keeps the ts on the alert record, and on resolution replies in the thread and updates the original', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'slack', clock);
    const firing = unique(job('slack', { destination: { kind: 'slack', channel: 'C0ALERTS' } }));
    const fp = firing.transition.fingerprint;
    // Dispatch's alert record (other attributes must survive our slackThread write).
    await doc.send(new PutCommand({ TableName: env.p.tables.alerts, Item: { fingerprint: fp, state: 'firing', version: 3, fireCount: 1 } }));
    const before = env.slack.received().length;
    await enqueue(env.p.sqs, h.queueUrl, firing);
    await h.driver.step();
    const alert = (await doc.send(new GetCommand({ TableName: env.p.tables.alerts, Key: { fingerprint: fp } }))).Item!;
    expect(alert).toMatchObject({ state: 'firing', version: 3, fireCount: 1, slackThread: { channel: 'C0ALERTS' } });
    const ts = (alert.slackThread as { ts: string }).ts;

    await enqueue(env.p.sqs, h.queueUrl, resolvedOf(firing));
    await h.driver.step();
    const calls = env.slack.received().slice(before);
    expect(calls.map((c) => c.path)).toEqual(['/api/chat.postMessage', '/api/chat.postMessage', '/api/chat.update']);
    expect(calls[1]!.json).toMatchObject({ channel: 'C0ALERTS', thread_ts: ts });
    expect(calls[2]!.json).toMatchObject({ channel: 'C0ALERTS', ts });
    const original = env.slack.messages().get(`C0ALERTS:${ts}`)!;
    expect(String(original.text)).toContain('[RESOLVED CRITICAL]');
    expect(JSON.stringify(original)).not.toContain(SLACK_ACTION_IDS.acknowledge);
  });

  it('keeps the thread when the firing is posted before dispatch has committed the alert record (publish-then-commit)', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'slack', clock);
    const firing = unique(job('slack', { destination: { kind: 'slack', channel: 'C0EARLY' } }));
    const fp = firing.transition.fingerprint;
    const before = env.slack.received().length;
    // No alert record yet: dispatch published the job and has not committed.
    await enqueue(env.p.sqs, h.queueUrl, firing);
    await h.driver.step();
    const bare = (await doc.send(new GetCommand({ TableName: env.p.tables.alerts, Key: { fingerprint: fp } }))).Item!;
    const ts = (bare.slackThread as { ts: string }).ts;
    expect(bare).toMatchObject({ slackThread: { channel: 'C0EARLY', ts } });
    // A bare item still expires if dispatch never fills it in; it has no version (dispatch reads it as no record).
    expect(typeof bare.expiresAt).toBe('number');
    expect(bare.version).toBeUndefined();

    await enqueue(env.p.sqs, h.queueUrl, resolvedOf(firing));
    await h.driver.step();
    const calls = env.slack.received().slice(before);
    expect(calls.map((c) => c.path)).toEqual(['/api/chat.postMessage', '/api/chat.postMessage', '/api/chat.update']);
    expect(calls[1]!.json).toMatchObject({ channel: 'C0EARLY', thread_ts: ts });
  });

  it('delivers hostile labels within Block Kit limits (the local Slack validates them as Slack does)', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'slack', clock);
    const j = unique(hostileJob('slack'));
    const before = webhookRequests('ops').length;
    await enqueue(env.p.sqs, h.queueUrl, j);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    const got = webhookRequests('ops').slice(before);
    expect(got.map((g) => g.status)).toEqual([200]);
    // Button values carry the raw fingerprint (data, never rendered); every displayed text is escaped.
    expect(JSON.stringify(got[0]!.json, (k, v: unknown) => (k === 'value' ? undefined : v))).not.toContain('<!channel>');
  });
});

describe('deliver: batch budget', () => {
  it('hands the rest of a batch back unsent once its time budget is spent (a slow destination cannot time the function out)', async () => {
    const clock = new TestClock(T0);
    // Each send takes 100 ms of the batch's time (a stopwatch driven by the sends, not the wall clock).
    const before = webhookRequests('ops').length;
    const h = await channelHandler(env, 'slack', clock, { batchBudgetMs: 300, stopwatch: () => (webhookRequests('ops').length - before) * 100 });
    const dest = `slack:webhook:ops:slow${++n}`;
    const jobs = Array.from({ length: 6 }, () => job('slack', { destinationId: dest }));
    try {
      for (const j of jobs) await enqueue(env.p.sqs, h.queueUrl, j);
      const r = await h.driver.step();
      const sent = webhookRequests('ops').length - before;
      expect(r.received).toBe(6);
      // Before each record the batch checks its time: 0, 100, 200, 300 ms are within the 300 ms budget, 400 is not.
      expect(sent).toBe(4);
      expect(r.failed).toBe(2);
      expect([...r.visibility.values()].every((v) => v === 1)).toBe(true);
      clock.advance(1_000);
      await h.driver.drain({ tickMs: 1_000, maxSimMs: 30_000 });
      expect(webhookRequests('ops').length - before).toBe(6);
    } finally {
      env.slack.setSchedule({});
    }
  });
});

describe('deliver: pagerduty', () => {
  it('triggers with dedup_key = fingerprint and resolves on resolution', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'pagerduty', clock);
    const firing = unique(job('pagerduty'));
    await enqueue(env.p.sqs, h.queueUrl, firing);
    await enqueue(env.p.sqs, h.queueUrl, resolvedOf(firing));
    await h.driver.drain({ tickMs: 1_000, maxSimMs: 10_000 });
    const fp = firing.transition.fingerprint;
    const mine = env.pagerduty.received().filter((r) => (r.json as { dedup_key?: string }).dedup_key === fp);
    expect(mine.map((r) => [r.status, (r.json as { event_action: string }).event_action])).toEqual([
      [202, 'trigger'],
      [202, 'resolve'],
    ]);
    expect((mine[0]!.json as { routing_key: string }).routing_key).toHaveLength(32);
    expect(env.pagerduty.incidents().get(fp)).toBe('resolved');
  });

  it('dead-letters a 400 invalid event at once (bad routing key) with PagerDuty’s error text', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'pagerduty', clock);
    const j = unique(job('pagerduty', { destination: { kind: 'pagerduty', routingKeyName: 'broken' } }));
    await enqueue(env.p.sqs, h.queueUrl, j);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    const mine = (await peekAll(env.p.sqs, h.dlqUrl)).filter((m) => (JSON.parse(m.body) as NotificationJob).idempotencyKey === j.idempotencyKey);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.attributes.reason).toBe('client');
    expect(mine[0]!.attributes.detail).toContain("Length of 'routing_key' is incorrect");
    expect(await breaker(j.destinationId)).toBeUndefined();
  });
});

describe('deliver: email', () => {
  it('sends HTML and text through SES (aws-ses-v2-local shows it in GET /store)', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'email', clock);
    const name = `Disk full ${Date.now()}`;
    const j = unique(job('email', { t: { ruleName: name } }));
    await enqueue(env.p.sqs, h.queueUrl, j);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    const store = (await (await fetch(`${env.ses.endpoint}/store`)).json()) as { emails: { subject: string; destination: { to: string[] }; body: { html?: string; text?: string } }[] };
    const mail = store.emails.find((e) => e.subject === `[CRITICAL] ${name} — web-1`);
    expect(mail?.destination.to).toEqual(['oncall@example.com']);
    expect(mail?.body.html).toContain('<table role="presentation"');
    expect(mail?.body.text).toContain('Condition: avg_over_time(5m) > 90');
    expect(await record(j.idempotencyKey)).toMatchObject({ status: 'sent' });
    expect(String((await record(j.idempotencyKey))!.providerDetail)).toMatch(/^MessageId /);
  });

  it('dead-letters SES MessageRejected (from the SES fault fake) at once; the breaker stays closed', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'email', clock, { sesEndpoint: env.sesFaults.url });
    const j = unique(job('email'));
    await enqueue(env.p.sqs, h.queueUrl, j);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    const mine = (await peekAll(env.p.sqs, h.dlqUrl)).filter((m) => (JSON.parse(m.body) as NotificationJob).idempotencyKey === j.idempotencyKey);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.attributes.detail).toContain('MessageRejected');
    // Exactly one SendEmail for this job (MessageRejected is not retried): its text names the job's fingerprint.
    const footer = `fingerprint ${j.transition.fingerprint}`;
    const sends = env.sesFaults.received().filter((r) => ((r.json as Record<string, string>)['Message.Body.Text.Data'] ?? '').split('\n').some((line) => line.trim().endsWith(footer)));
    expect(sends).toHaveLength(1);
    expect(await breaker(j.destinationId)).toBeUndefined();
    expect(h.metrics.count('NotificationsDeadLettered')).toBe(1);
  });
});

describe('deliver: breaker store (shared by concurrent instances)', () => {
  it('lets exactly one of several instances claim the half-open probe (a conditional write)', async () => {
    const { DynamoBreakerStore } = await import('../../shared/adapters/dynamodb/breaker-store.ts');
    const { claimProbe, DEFAULT_BREAKER_CONFIG: cfg, onFailure } = await import('../../shared/core/breaker/index.ts');
    const dest = `slack:webhook:race:${++n}`;
    const instances = Array.from({ length: 5 }, () => new DynamoBreakerStore(env.p.dynamodb, env.p.tables.delivery, cfg));
    // Five failures from different instances open it (optimistic locking retries the lost races).
    await Promise.all(instances.map((s) => s.apply(dest, T0, (b) => onFailure(b, T0, cfg))));
    expect(await breaker(dest)).toMatchObject({ state: 'open', reopenAtMs: T0 + 60_000, version: 5 });
    const at = T0 + 60_000;
    const claims = await Promise.all(instances.map((s) => s.apply(dest, at, (b) => claimProbe(b, at, cfg))));
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    expect(await breaker(dest)).toMatchObject({ state: 'half-open', probeLeaseUntilMs: at + cfg.probeLeaseMs });
  });
});
