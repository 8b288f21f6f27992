/**
 * A job whose rendering throws is the job's fault, not the destination's: through the real
 * deliver-pagerduty handler, fauxqs, DynamoDB Local and the local PagerDuty receiver, five such
 * jobs are dead-lettered at once with the reason (metric `render`), the breaker of the healthy
 * service stays closed, and a good job right after them is delivered.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakerKey } from '../../shared/adapters/dynamodb/breaker-store.ts';
import { notificationKey } from '../../shared/adapters/dynamodb/notification-store.ts';
import type { Notifier } from '../../shared/core/deliver/notifier.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { job, T0, TestClock } from './deliver-fixtures.ts';
import { enqueue, peekAll } from './deliver-harness.ts';
import { channelHandler, startDeliverEnv, type DeliverEnv } from './deliver-setup.ts';

let env: DeliverEnv;
beforeAll(async () => {
  env = await startDeliverEnv();
});
afterAll(async () => {
  await env?.stop();
});

/**
 * Stand-in for a template bug: the real PagerDuty notifier, except that rendering a job labelled
 * `poison` throws as a broken formatter would. Sending is the real notifier's.
 */
const poisonRender = (n: Notifier<unknown>): Notifier<unknown> => ({
  channel: n.channel,
  render: (j: NotificationJob) => {
    if (j.transition.labels.poison) throw new TypeError("Cannot read properties of undefined (reading 'summary')");
    return n.render(j);
  },
  send: (j, rendered, nowMs) => n.send(j, rendered, nowMs),
});

describe('deliver: a job whose rendering throws', () => {
  it('is dead-lettered with the reason and never opens the breaker; a good job right after is delivered', async () => {
    const clock = new TestClock(T0);
    const h = await channelHandler(env, 'pagerduty', clock, { wrapNotifier: poisonRender });
    const destinationId = 'pagerduty:ops:render';
    const bad = Array.from({ length: 5 }, (_, i) => job('pagerduty', { destinationId, t: { fingerprint: `render-bad-${i}`, labels: { alertname: 'Bad', poison: 'yes' } } }));
    const good = job('pagerduty', { destinationId, t: { fingerprint: 'render-good', ruleName: 'Good one' } });
    const before = env.pagerduty.received().length;
    for (const j of [...bad, good]) await enqueue(env.p.sqs, h.queueUrl, j);

    const r = await h.driver.step();
    expect(r).toMatchObject({ received: 6, failed: 0 });

    // The good job went out, once; none of the bad ones reached PagerDuty.
    const sent = env.pagerduty.received().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.status).toBe(202);
    const doc = DynamoDBDocumentClient.from(env.p.dynamodb);
    const rec = async (k: string) => (await doc.send(new GetCommand({ TableName: env.p.tables.delivery, Key: { pk: notificationKey(k) } }))).Item;
    expect(await rec(good.idempotencyKey)).toMatchObject({ status: 'sent' });

    // Each bad job: dead-lettered at once with the reason, recorded as failed, counted as `render`.
    const dlq = await peekAll(env.p.sqs, h.dlqUrl);
    expect(dlq.map((m) => (JSON.parse(m.body) as NotificationJob).idempotencyKey).sort()).toEqual(bad.map((j) => j.idempotencyKey).sort());
    for (const m of dlq) {
      expect(m.attributes).toMatchObject({ reason: 'render', channel: 'pagerduty', destinationId });
      expect(m.attributes.detail).toMatch(/^RenderError: pagerduty message could not be rendered for job .+: TypeError: Cannot read properties of undefined/);
    }
    for (const j of bad) expect(await rec(j.idempotencyKey)).toMatchObject({ status: 'failed', outcome: 'dead-lettered', lastReason: 'render' });
    expect(h.metrics.count('NotificationsFailed', { reason: 'render' })).toBe(5);
    expect(h.metrics.count('NotificationsDeadLettered')).toBe(5);

    // The healthy service's breaker never saw a failure (no item is written for a healthy destination).
    expect((await doc.send(new GetCommand({ TableName: env.p.tables.delivery, Key: { pk: breakerKey(destinationId) } }))).Item).toBeUndefined();
    expect(h.metrics.count('BreakerOpen')).toBe(0);
  });
});
