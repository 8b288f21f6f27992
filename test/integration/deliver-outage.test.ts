/**
 * A 30-minute Slack outage in simulated time, through the real deliver-slack handler, fauxqs and
 * DynamoDB Local: the breaker opens after 5 failures, held messages wait on the queue (visibility
 * extended, nothing dead-lettered), one probe at a time goes through while open, and after recovery
 * (2 successful probes close the breaker) every job is delivered exactly once, in order per alert.
 *
 * Time: the injected clock drives the handler, the breaker and the receiver's failure window; the
 * harness makes held messages visible again (ChangeMessageVisibility 0) once the simulated clock
 * passes the visibility the handler asked for, so 30 minutes take a few seconds.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakerKey } from '../../shared/adapters/dynamodb/breaker-store.ts';
import { notificationKey } from '../../shared/adapters/dynamodb/notification-store.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { job, T0, TestClock } from './deliver-fixtures.ts';
import { enqueue, peekAll } from './deliver-harness.ts';
import { channelHandler, startDeliverEnv, type DeliverEnv } from './deliver-setup.ts';

const clock = new TestClock(T0);
let env: DeliverEnv;
beforeAll(async () => {
  env = await startDeliverEnv({ clock });
});
afterAll(async () => {
  await env?.stop();
});

describe('deliver: 30-minute outage', () => {
  it('opens the breaker after 5 failures, holds messages without losing any, and delivers each exactly once after recovery', async () => {
    const OUTAGE_END = T0 + 30 * 60_000;
    env.slack.setSchedule({ failUntil: { untilMs: OUTAGE_END, fault: { status: 503 } } });
    const h = await channelHandler(env, 'slack', clock);
    const destinationId = 'slack:webhook:ops:outage';
    const jobs: NotificationJob[] = [];
    for (let g = 0; g < 4; g++) {
      const fingerprint = `outage-${g}`;
      for (let i = 0; i < 3; i++) {
        jobs.push(job('slack', { destinationId, t: { fingerprint, ruleName: `Outage ${g}.${i}` } }));
      }
    }
    for (const j of jobs) await enqueue(env.p.sqs, h.queueUrl, j);

    const visibilities: number[] = [];
    let received = 0;
    const deadline = T0 + 3 * 60 * 60_000;
    while (clock.now() < deadline) {
      const r = await h.driver.step();
      received += r.received;
      visibilities.push(...r.visibility.values());
      if (r.received === 0) {
        if (h.driver.held() === 0) break;
        clock.advance(5_000);
      }
    }

    const calls = env.slack.received().filter((c) => c.path.endsWith('/ops'));
    const failures = calls.filter((c) => c.status === 503);
    const successes = calls.filter((c) => c.status === 200);

    // Opened after exactly 5 consecutive failures: afterwards only single probes, at least 60 s apart.
    const afterOpen = failures.slice(5);
    for (let i = 1; i < afterOpen.length; i++) expect(afterOpen[i]!.atMs - afterOpen[i - 1]!.atMs).toBeGreaterThanOrEqual(60_000);
    expect(failures[4]!.atMs).toBeLessThan(T0 + 2 * 60_000);
    // At most one probe per open minute over the outage (instead of a retry per message).
    expect(failures.length).toBeLessThanOrEqual(5 + 30);
    expect(failures.every((f) => f.atMs < OUTAGE_END)).toBe(true);

    // Held, not failed into the DLQ: visibility extended to the reopen time or beyond.
    // Every message received was sent (200), failed at Slack (503) or held back unsent (deferred):
    // no duplicate and no dead-letter, so the deferrals are exactly the receives without a call.
    expect(h.metrics.count('NotificationsDeferred')).toBe(received - calls.length);
    expect(received - calls.length).not.toBe(0);
    expect(visibilities.some((v) => v >= 60)).toBe(true);
    expect(Math.max(...visibilities)).toBeLessThanOrEqual(15 * 60);
    expect(await peekAll(env.p.sqs, h.dlqUrl)).toEqual([]);

    // Everything delivered exactly once, after recovery, in order per alert.
    expect(successes).toHaveLength(jobs.length);
    expect(successes.every((s) => s.atMs >= OUTAGE_END)).toBe(true);
    const titles = successes.map((s) => (s.json as { text: string }).text.match(/Outage (\d)\.(\d)/)!.slice(1).join('.'));
    expect(new Set(titles).size).toBe(jobs.length);
    for (let g = 0; g < 4; g++) expect(titles.filter((t) => t.startsWith(`${g}.`))).toEqual([`${g}.0`, `${g}.1`, `${g}.2`]);
    expect(clock.now()).toBeLessThan(OUTAGE_END + 20 * 60_000);

    const doc = DynamoDBDocumentClient.from(env.p.dynamodb);
    for (const j of jobs) {
      const rec = (await doc.send(new GetCommand({ TableName: env.p.tables.delivery, Key: { pk: notificationKey(j.idempotencyKey) } }))).Item;
      expect(rec).toMatchObject({ status: 'sent' });
    }
    const b = (await doc.send(new GetCommand({ TableName: env.p.tables.delivery, Key: { pk: breakerKey(destinationId) } }))).Item;
    expect(b).toMatchObject({ state: 'closed', failures: 0 });
    expect(h.metrics.count('BreakerOpen')).toBeGreaterThan(0);
  });
});
