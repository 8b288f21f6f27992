/**
 * deliver-webhook end to end: the real handler (wired by deliverWebhookDepsFromEnv) on fauxqs and
 * DynamoDB Local, its signing secrets from the local Secrets Manager through the real SDK client,
 * POSTing to the local webhook receiver, which verifies every Standard Webhooks signature; each
 * request is verified again here by the scheme's own library (`standardwebhooks`), an
 * implementation independent of ours. The clock starts at the wall clock's now (the library checks
 * timestamps against it) and is advanced by hand.
 */
import { randomBytes } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverWebhookDepsFromEnv } from '../../functions/deliver-webhook/app.ts';
import { LOCAL_WEBHOOK_SECRET } from '../../local/config/index.ts';
import { startSecretsManagerLocal, type SecretsManagerLocal } from '../../local/receivers/secrets-manager.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../local/receivers/webhook.ts';
import { createChannelHandler } from '../../shared/adapters/channel/handler.ts';
import { InMemoryDeliveryMetrics } from '../../shared/adapters/channel/metrics.ts';
import { breakerKey } from '../../shared/adapters/dynamodb/breaker-store.ts';
import { notificationKey } from '../../shared/adapters/dynamodb/notification-store.ts';
import { SecretsManagerSecretSource } from '../../shared/adapters/secrets/index.ts';
import { webhookMessageId } from '../../shared/core/format/webhook.ts';
import type { NotificationJob, WebhookDestination } from '../../shared/core/model/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionFresh } from '../support/aws.ts';
import { job, TestClock } from './deliver-fixtures.ts';
import { enqueue, observedSqsClient, peekAll, QueueDriver, silentLogger } from './deliver-harness.ts';

const SECRET_NAME = 'klaxon/webhooks';
/** A secret the receiver does not know (a receiver rotated away from it). */
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let p: Awaited<ReturnType<typeof provisionFresh>>;
let receiver: WebhookReceiver;
let secrets: SecretsManagerLocal;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  [p, secrets] = await Promise.all([
    provisionFresh(),
    startSecretsManagerLocal({ secrets: { [SECRET_NAME]: { tool: { secrets: [LOCAL_WEBHOOK_SECRET] }, rotated: { secrets: [OTHER_SECRET] }, both: { secrets: [OTHER_SECRET, LOCAL_WEBHOOK_SECRET] } } } }),
  ]);
  doc = DynamoDBDocumentClient.from(p.dynamodb);
});
afterAll(async () => {
  await Promise.all([receiver?.stop(), secrets?.stop()]);
});

/** A fresh receiver per test, on the test's clock (it checks the signature's timestamp against it). */
async function receiverOn(clock: TestClock): Promise<WebhookReceiver> {
  await receiver?.stop();
  receiver = await startWebhookReceiver({ clock });
  return receiver;
}

async function webhookHandler(clock: TestClock, opts: { allowPrivate?: boolean; breakerConfig?: object } = {}) {
  const q = p.queues.webhook;
  const { sqs, visibility } = observedSqsClient();
  const deps = await deliverWebhookDepsFromEnv(
    {
      DELIVERY_TABLE: p.tables.delivery,
      ALERTS_TABLE: p.tables.alerts,
      QUEUE_URL: q.url,
      DEAD_LETTER_QUEUE_URL: q.dlq!.url,
      PRODUCT_NAME: 'Klaxon',
      DASHBOARD_URL: 'https://klaxon.example.com',
      WEBHOOK_SECRET_NAME: SECRET_NAME,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: String(opts.allowPrivate ?? true),
      ...(opts.breakerConfig ? { BREAKER_CONFIG: JSON.stringify(opts.breakerConfig) } : {}),
    },
    {
      dynamodb: p.dynamodb,
      sqs,
      clock,
      logger: silentLogger(),
      secrets: new SecretsManagerSecretSource(new SecretsManagerClient({ endpoint: secrets.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }), { maxAgeSeconds: 60 }),
    },
  );
  const metrics = new InMemoryDeliveryMetrics();
  const handler = createChannelHandler({ ...deps, metrics } as Parameters<typeof createChannelHandler>[0]);
  return { handler, metrics, driver: new QueueDriver(sqs, q.url, handler, clock, visibility), dlqUrl: q.dlq!.url };
}

let n = 0;
/** A webhook job to the receiver (a unique destination per test: breakers do not leak between tests). */
function webhookJob(over: Partial<WebhookDestination> = {}): NotificationJob {
  const base = job('slack');
  const destination: WebhookDestination = { kind: 'webhook', url: `${receiver.url}/hooks/tool`, format: 'alertmanager', secretKey: 'tool', ...over };
  return { ...base, channel: 'webhook', receiver: 'tool', destination, destinationId: `webhook:tool:${++n}`, idempotencyKey: `${base.transition.transitionId}:tool:webhook` };
}
const record = async (key: string) => (await doc.send(new GetCommand({ TableName: p.tables.delivery, Key: { pk: notificationKey(key) } }))).Item;
const breaker = async (id: string) => (await doc.send(new GetCommand({ TableName: p.tables.delivery, Key: { pk: breakerKey(id) } }))).Item;
const dead = async (dlqUrl: string, j: NotificationJob) => (await peekAll(p.sqs, dlqUrl)).filter((m) => (JSON.parse(m.body) as NotificationJob).idempotencyKey === j.idempotencyKey);
/** Verifies a received request with the scheme's own library (throws when it does not verify). */
const libraryVerifies = (r: { body: string; headers: Readonly<Record<string, string>> }, secret = LOCAL_WEBHOOK_SECRET): unknown => new Webhook(secret).verify(r.body, { ...r.headers });

describe('deliver-webhook (fauxqs + DynamoDB Local → local webhook receiver)', () => {
  it('sends once: a signed POST both the receiver and the standardwebhooks library verify, one delivery record; a redelivery sends nothing', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock);
    const j = webhookJob();
    await enqueue(p.sqs, p.queues.webhook.url, j);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    const got = receiver.received();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ method: 'POST', path: '/hooks/tool', status: 204 });
    expect(got[0]!.headers['content-type']).toBe('application/json');
    expect(got[0]!.headers['webhook-id']).toBe(webhookMessageId(j));
    expect(libraryVerifies(got[0]!)).toMatchObject({ version: '4', status: 'firing', receiver: 'tool', externalURL: 'https://klaxon.example.com' });
    expect(await record(j.idempotencyKey)).toMatchObject({ status: 'sent', attempts: 1, channel: 'webhook', destinationId: j.destinationId });
    // Lambda delivers the same event again: the idempotency key holds.
    expect((await h.handler(h.driver.events.at(-1)!)).batchItemFailures).toEqual([]);
    expect(receiver.received()).toHaveLength(1);
  });

  it('retries a 503 after its Retry-After with the same webhook-id, a new timestamp and signature', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock);
    const j = webhookJob();
    receiver.setSchedule({ failNext: { count: 1, fault: { status: 503, retryAfterSeconds: 30 } } });
    await enqueue(p.sqs, p.queues.webhook.url, j);
    const first = await h.driver.step();
    expect(first).toMatchObject({ received: 1, failed: 1 });
    expect([...first.visibility.values()]).toEqual([30]);
    clock.advance(30_000);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    const got = receiver.received();
    expect(got.map((r) => r.status)).toEqual([503, 204]);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([webhookMessageId(j)]));
    expect(Number(got[1]!.headers['webhook-timestamp']) - Number(got[0]!.headers['webhook-timestamp'])).toBe(30);
    expect(got[0]!.headers['webhook-signature']).not.toBe(got[1]!.headers['webhook-signature']);
    for (const r of got) libraryVerifies(r);
    expect(await record(j.idempotencyKey)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('dead-letters a 410 Gone at once with the reason; the breaker stays closed', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock);
    const j = webhookJob();
    receiver.setSchedule({ failNext: { count: 1, fault: { status: 410 } } });
    await enqueue(p.sqs, p.queues.webhook.url, j);
    expect(await h.driver.step()).toMatchObject({ received: 1, failed: 0 });
    expect(await dead(h.dlqUrl, j)).toHaveLength(1);
    expect(await record(j.idempotencyKey)).toMatchObject({ status: 'failed', outcome: 'dead-lettered', lastReason: 'client', lastDetail: expect.stringContaining('410 Gone') });
    expect(await breaker(j.destinationId)).toBeUndefined();
  });

  it('opens the breaker after repeated 500s; the destination’s jobs are then held without a request', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock, { breakerConfig: { failureThreshold: 2, openMs: 60_000 } });
    receiver.setSchedule({ failNext: { count: 100, fault: { status: 500 } } });
    const first = webhookJob();
    const jobs = [first, ...[1, 2].map(() => ({ ...webhookJob(), destinationId: first.destinationId }))];
    for (const j of jobs) {
      await enqueue(p.sqs, p.queues.webhook.url, j);
      await h.driver.step();
    }
    expect(await breaker(first.destinationId)).toMatchObject({ state: 'open' });
    // Two attempts reached the receiver; the third job was held by the open breaker.
    expect(receiver.received()).toHaveLength(2);
  });

  it('dead-letters a job whose signature the receiver does not accept (401, recorded by the receiver); a rotation list with the right secret is accepted', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock);
    const wrong = webhookJob({ secretKey: 'rotated' });
    await enqueue(p.sqs, p.queues.webhook.url, wrong);
    await h.driver.step();
    expect(receiver.refusals()).toEqual([expect.objectContaining({ webhookId: webhookMessageId(wrong), reason: 'bad-signature' })]);
    expect(await record(wrong.idempotencyKey)).toMatchObject({ outcome: 'dead-lettered', lastReason: 'auth' });
    // Two signatures (old first): the receiver accepts the one it knows.
    const both = webhookJob({ secretKey: 'both' });
    await enqueue(p.sqs, p.queues.webhook.url, both);
    await h.driver.step();
    const last = receiver.received().at(-1)!;
    expect(last.status).toBe(204);
    expect(last.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    libraryVerifies(last);
  });

  it('refuses a private target unless the deployment allows it (SSRF guard): dead-lettered, nothing sent', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock, { allowPrivate: false });
    // By address and by a name that resolves to loopback.
    const byAddress = webhookJob();
    const byName = webhookJob({ url: receiver.url.replace('127.0.0.1', 'localhost') });
    for (const j of [byAddress, byName]) await enqueue(p.sqs, p.queues.webhook.url, j);
    await h.driver.step();
    expect(receiver.received()).toEqual([]);
    for (const j of [byAddress, byName]) {
      expect(await record(j.idempotencyKey)).toMatchObject({ outcome: 'dead-lettered', lastReason: 'client', lastDetail: expect.stringContaining('loopback address') });
    }
  });

  it('does not send an acknowledgement to an Alertmanager-format receiver (the format has none): recorded as sent with the reason; a klaxon-format receiver gets it', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock);
    const ack = { state: 'acknowledged' as const, by: 'alice', atMs: clock.now(), source: 'slack' };
    const toAm = { ...webhookJob(), ack };
    const toKlaxon = { ...webhookJob({ format: 'klaxon' }), ack };
    for (const j of [toAm, toKlaxon]) await enqueue(p.sqs, p.queues.webhook.url, j);
    await h.driver.step();
    expect(await record(toAm.idempotencyKey)).toMatchObject({ status: 'sent', providerDetail: expect.stringContaining('no acknowledgement') });
    const got = receiver.received();
    expect(got).toHaveLength(1);
    expect(libraryVerifies(got[0]!)).toMatchObject({ event: 'acknowledged', ack: { by: 'alice', state: 'acknowledged' } });
  });

  it('the local receiver refuses what does not verify: unsigned, forged, stale (401, each refusal recorded)', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const body = JSON.stringify({ version: '4' });
    const { signStandardWebhook } = await import('../../shared/core/webhook/standard-webhooks.ts');
    const post = (headers: Record<string, string>) => fetch(`${receiver.url}/hooks/x`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const answers = [
      // no signature headers at all
      await post({}),
      // signed with a secret the receiver does not know
      await post({ ...signStandardWebhook({ id: 'msg_forged', body, nowMs: clock.now(), secrets: [OTHER_SECRET] }) }),
      // signed with the right secret ten minutes ago (a replay)
      await post({ ...signStandardWebhook({ id: 'msg_stale', body, nowMs: clock.now() - 600_000, secrets: [LOCAL_WEBHOOK_SECRET] }) }),
      // and a good one
      await post({ ...signStandardWebhook({ id: 'msg_good', body, nowMs: clock.now(), secrets: [LOCAL_WEBHOOK_SECRET] }) }),
    ];
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 204]);
    expect(receiver.refusals().map((r) => r.reason)).toEqual(['missing-headers', 'bad-signature', 'stale']);
  });

  it('dead-letters a job whose receiver has no secret, naming the key to set', async () => {
    const clock = new TestClock(Date.now());
    await receiverOn(clock);
    const h = await webhookHandler(clock);
    const j = webhookJob({ secretKey: 'nobody' });
    await enqueue(p.sqs, p.queues.webhook.url, j);
    await h.driver.step();
    expect(receiver.received()).toEqual([]);
    expect(await record(j.idempotencyKey)).toMatchObject({ outcome: 'dead-lettered', lastDetail: expect.stringContaining('no signing secret for webhook nobody') });
  });
});
