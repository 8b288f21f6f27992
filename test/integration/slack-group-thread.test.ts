/**
 * A group notification on Slack is one message updated in place: through the real Slack notifier
 * and the local Slack (Web API and webhooks, Block Kit checked as Slack does), with an in-memory
 * thread store. The first group job posts and keeps the thread under the group id; later ones
 * chat.update that message and reply in its thread; webhooks, which cannot update, post each time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_SLACK_BOT_TOKEN, startSlackReceiver, type SlackReceiver } from '../../local/receivers/slack.ts';
import { createSlackNotifier } from '../../shared/adapters/slack/index.ts';
import type { SecretSource } from '../../shared/adapters/secrets/index.ts';
import { InMemorySlackThreadStore } from '../../shared/core/deliver/in-memory.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { job, T0 } from './deliver-fixtures.ts';
import { GROUP_ID, groupJob } from './group-fixtures.ts';

let slack: SlackReceiver;
let threads: InMemorySlackThreadStore;
let warnings: { message: string; extra: Record<string, unknown> }[];

beforeAll(async () => {
  slack = await startSlackReceiver({ channels: ['C1'], rateLimit: false });
});
afterAll(async () => slack?.stop());
beforeEach(() => {
  slack.clear();
  slack.setSchedule({});
  threads = new InMemorySlackThreadStore();
  warnings = [];
});

const notifier = () => {
  const secrets: SecretSource = { getJson: async () => ({ botToken: LOCAL_SLACK_BOT_TOKEN, webhooks: { ops: slack.webhookUrl('ops') } }) };
  return createSlackNotifier({
    secrets,
    secretName: 'klaxon/slack',
    threads,
    format: { productName: 'Klaxon' },
    apiUrl: slack.apiUrl,
    onWarning: (message, extra) => warnings.push({ message, extra }),
  });
};
const send = async (j: NotificationJob) => {
  const n = notifier();
  return n.send(j, n.render(j), T0);
};
/** The API calls received, as [method, thread_ts or ts, header text]. */
const calls = () =>
  slack.received().map((r) => {
    const body = r.json as { ts?: string; thread_ts?: string; attachments?: { blocks: { type: string; text?: { text: string } }[] }[] };
    const first = body.attachments?.[0]?.blocks[0];
    return [r.path.split('/').pop(), body.thread_ts ?? body.ts ?? null, first?.type === 'header' ? first.text?.text : first?.text?.text.split('\n')[0]];
  });
const headerOf = (m: Record<string, unknown> | undefined): string | undefined => (m?.attachments as { blocks: { text?: { text: string } }[] }[] | undefined)?.[0]?.blocks[0]?.text?.text;

describe('slack: a group is one message, updated in place (bot token)', () => {
  it('posts the first group job and keeps its thread; the next updates the same ts and replies in its thread', async () => {
    const first = await send(groupJob('slack', { firing: 3 }));
    expect(first).toMatchObject({ ok: true });
    const thread = threads.threads.get(GROUP_ID);
    expect(thread).toMatchObject({ channel: 'C1' });
    const ts = thread!.ts;

    const second = await send(groupJob('slack', { firing: 5, resolved: 1, seq: 2, newFiring: 2 }));
    expect(second).toMatchObject({ ok: true, detail: `group ${GROUP_ID} thread ${ts}` });
    expect(calls()).toEqual([
      ['chat.postMessage', null, ':rotating_light: [FIRING:3] HighCPU — cluster=eu1'],
      ['chat.postMessage', ts, '2 new, 1 resolved since the last update: 5 firing (update #2).'],
      ['chat.update', ts, ':rotating_light: [FIRING:5] HighCPU — cluster=eu1'],
    ]);
    // The channel holds two messages: the group's (edited in place) and the reply in its thread.
    const msgs = slack.messages();
    expect(msgs.size).toBe(2);
    expect(headerOf(msgs.get(`C1:${ts}`))).toBe(':rotating_light: [FIRING:5] HighCPU — cluster=eu1');
    expect(msgs.get(`C1:${ts}`)?.edited).toBeDefined();
    expect([...msgs.values()].filter((m) => m.thread_ts === ts)).toHaveLength(1);
    expect(threads.threads.get(GROUP_ID)).toEqual(thread);

    // Everything resolves: the same message turns [RESOLVED], and the thread says so.
    const third = await send(groupJob('slack', { firing: 0, resolved: 5, seq: 3 }));
    expect(third).toMatchObject({ ok: true });
    expect(headerOf(slack.messages().get(`C1:${ts}`))).toBe(':white_check_mark: [RESOLVED] HighCPU — cluster=eu1');
    expect(calls().at(-2)).toEqual(['chat.postMessage', ts, ':white_check_mark: All 5 alerts of this group resolved.']);
    expect(warnings).toEqual([]);
  });

  it("starts a new message for a group's first notification, even when an old thread of the same group is kept", async () => {
    await threads.set(GROUP_ID, { channel: 'C1', ts: '1.000001' });
    expect(await send(groupJob('slack', { firing: 2 }))).toMatchObject({ ok: true });
    expect(calls().map((c) => c.slice(0, 2))).toEqual([['chat.postMessage', null]]);
    expect(threads.threads.get(GROUP_ID)?.ts).not.toBe('1.000001');
  });

  it('posts an all-resolved group that has no message, without keeping a thread', async () => {
    expect(await send(groupJob('slack', { firing: 0, resolved: 2, seq: 2 }))).toMatchObject({ ok: true });
    expect(calls().map((c) => c.slice(0, 2))).toEqual([['chat.postMessage', null]]);
    expect(threads.threads.has(GROUP_ID)).toBe(false);
  });

  it('fails the notification when the thread reply fails (the reply is the notification)', async () => {
    await send(groupJob('slack', { firing: 3 }));
    slack.setSchedule({ failNext: { count: 1, fault: { status: 429, retryAfterSeconds: 4 } } });
    const r = await send(groupJob('slack', { firing: 4, seq: 2, newFiring: 1 }));
    expect(r).toMatchObject({ ok: false, retryable: true, reason: 'rate-limited' });
    // No update without the reply: the retry does both.
    expect(calls().map((c) => c[0])).toEqual(['chat.postMessage', 'chat.postMessage']);
  });

  it('delivers with a warning when only the update fails', async () => {
    // A kept thread whose message is gone: the reply is accepted, chat.update answers message_not_found.
    await threads.set(GROUP_ID, { channel: 'C1', ts: '1.000001' });
    const r = await send(groupJob('slack', { firing: 4, seq: 2, newFiring: 1 }));
    expect(r).toMatchObject({ ok: true });
    expect(warnings).toEqual([{ message: "chat.update of the group's message failed", extra: { group: GROUP_ID, detail: expect.stringContaining('message_not_found') } }]);
  });

  it('keeps per-alert jobs as they were: a firing job posts and keeps the thread under its fingerprint', async () => {
    const j = job('slack', { destination: { kind: 'slack', channel: 'C1' } });
    expect(await send(j)).toMatchObject({ ok: true });
    expect(threads.threads.has(j.transition.fingerprint)).toBe(true);
    expect(threads.threads.has(GROUP_ID)).toBe(false);
  });
});

describe('slack: a group through a webhook', () => {
  it('posts every group job (webhooks cannot update) and keeps no thread', async () => {
    const webhook = (j: NotificationJob): NotificationJob => ({ ...j, destination: { kind: 'slack', webhookKey: 'ops' } });
    expect(await send(webhook(groupJob('slack', { firing: 3 })))).toMatchObject({ ok: true });
    expect(await send(webhook(groupJob('slack', { firing: 5, seq: 2, newFiring: 2 })))).toMatchObject({ ok: true });
    const posts = slack.received();
    expect(posts.map((p) => [p.path, p.status])).toEqual([
      ['/services/T000LOCAL/B000LOCAL/ops', 200],
      ['/services/T000LOCAL/B000LOCAL/ops', 200],
    ]);
    expect(calls().map((c) => c[2])).toEqual([':rotating_light: [FIRING:3] HighCPU — cluster=eu1', ':rotating_light: [FIRING:5] HighCPU — cluster=eu1']);
    expect(threads.threads.size).toBe(0);
  });
});
