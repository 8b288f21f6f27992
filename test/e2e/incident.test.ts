/**
 * The incident loop end to end in local mode (issue 12; docs/incidents.md): the real evaluator,
 * dispatch, Slack and PagerDuty functions, the interactions endpoint (a local Function URL) and its
 * worker, the emulators and the local Slack and PagerDuty receivers.
 *
 *  1. a critical alert fires → a Slack message with the buttons (bot-token mode) and a PagerDuty
 *     incident;
 *  2. the local Slack clicks Acknowledge (`POST /_click`: a signed block_actions payload to the
 *     endpoint) → the worker takes it, nobody is refused → the record is acknowledged by the Slack
 *     user, the Slack message is updated, PagerDuty gets an acknowledge;
 *  3. the local PagerDuty sends a signed v3 `incident.resolved` webhook → the Slack thread gets a note;
 *  4. Silence 1 h from Slack → a silence on the alert's labels, created by the Slack user.
 *
 * Steps 2 (record, message, PagerDuty) and 3 (the thread note) are applied by dispatch: action and
 * note messages on alert-events (shared/core/dispatch/ack).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type LocalPipeline } from '../../local/start.ts';
import type { ReceivedRequest } from '../../local/receivers/http-receiver.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoSilenceStore } from '../../shared/adapters/dynamodb/silence-store.ts';
import { SLACK_ACTION_IDS } from '../../shared/core/format/slack.ts';
import { parseButtonValue } from '../../shared/core/interact/slack.ts';
import { startScriptedPipeline } from '../support/scripted-pipeline.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - { id: disk_full, name: Disk almost full, metric: disk_used_percent, condition: '> 90', severity: critical, labels: { team: storage } }
`;
// Critical → Slack (a channel: the bot token, so the message can be updated and threaded) and PagerDuty.
const ROUTES = `receiver: oncall
receivers:
  - name: oncall
    slack: { channel: C0ONCALL }
    pagerduty: { routingKey: default }
`;
const USER = { id: 'U0E2E', name: 'e2e-oncall' } as const;
const ACTOR = '<@U0E2E> (e2e-oncall)';

let pipeline: LocalPipeline;
let fingerprint: string;
let messageTs: string;

interface SlackCall {
  readonly method: string;
  readonly status: number;
  readonly body: { channel?: string; ts?: string; thread_ts?: string; text?: string; attachments?: { blocks?: { type: string; elements?: { action_id: string; value?: string }[] }[] }[] };
}

async function received(url: string): Promise<ReceivedRequest[]> {
  return (await (await fetch(`${url}/_received`)).json()) as ReceivedRequest[];
}

async function slackCalls(): Promise<SlackCall[]> {
  return (await received(pipeline.endpoints.slack))
    .filter((r) => r.path.startsWith('/api/chat.') && (r.json as { channel?: string } | undefined)?.channel === 'C0ONCALL')
    .map((r) => ({ method: r.path.slice('/api/'.length), status: r.status, body: r.json as SlackCall['body'] }));
}

async function control(url: string, body: unknown): Promise<{ ok: boolean; status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as { ok: boolean; status: number; body: string };
}

/** Messages waiting or in flight on a queue. */
async function depth(url: string): Promise<number> {
  const a = (await pipeline.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Waits until the worker has taken every click off the interactions queue, none dead-lettered. */
async function workerDone(): Promise<void> {
  const q = pipeline.provisioned.queues.interactions;
  await waitFor('the interactions queue drained', async () => [await depth(q.url), await depth(q.dlq!.url)], ([w, d]) => w === 0 && d === 0);
}


beforeAll(async () => {
  pipeline = await startScriptedPipeline('incident', { rules: RULES, routes: ROUTES });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('incident loop (local mode)', () => {
  it('runs the interactions endpoint and its worker', () => {
    expect(pipeline.functions).toEqual(expect.arrayContaining(['interactions', 'interactionsWorker']));
    expect(pipeline.endpoints.interactions).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('a critical alert fires: a Slack message with the buttons and a PagerDuty incident', async () => {
    pipeline.send(JSON.stringify({ name: 'disk_used_percent', value: 97, timestamp: pipeline.clock.now(), labels: { instance: 'db-1', mount: '/data' } }));
    await pipeline.drain();
    const post = await waitFor('the Slack message', async () => (await slackCalls()).find((c) => c.method === 'chat.postMessage' && c.status === 200 && !c.body.thread_ts), (c) => c !== undefined, { timeoutMs: 60_000 });
    const buttons = (post!.body.attachments ?? []).flatMap((a) => a.blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
    expect(buttons.map((b) => b.action_id)).toEqual(
      expect.arrayContaining([SLACK_ACTION_IDS.acknowledge, SLACK_ACTION_IDS.silence1h, SLACK_ACTION_IDS.silence4h, SLACK_ACTION_IDS.silenceUntilResolved]),
    );
    const target = parseButtonValue(buttons.find((b) => b.action_id === SLACK_ACTION_IDS.acknowledge)!.value!, 'alert');
    expect(target?.kind).toBe('alert');
    fingerprint = target!.kind === 'alert' ? target!.fingerprint : '';
    // The message's ts, as the Slack function kept it on the alert record (from Slack's answer).
    const alerts = new DynamoAlertStore(pipeline.clients.dynamodb, pipeline.provisioned.tables.alerts);
    messageTs = (await waitFor('the Slack thread on the record', () => alerts.get(fingerprint), (r) => r?.slackThread !== undefined))!.slackThread!.ts;
    await waitFor('the PagerDuty incident', async () => (await received(pipeline.endpoints.pagerduty)).filter((r) => (r.json as { dedup_key?: string } | undefined)?.dedup_key === fingerprint), (rs) => rs.length > 0);
  }, 90_000);

  it('a signed Acknowledge click through the local Slack is verified, queued and taken by the worker, nobody refused', async () => {
    const r = await control(`${pipeline.endpoints.slack}/_click`, { fingerprint, action_id: SLACK_ACTION_IDS.acknowledge, user: USER });
    // The endpoint's answer to Slack: 200, empty body.
    expect(r).toEqual({ ok: true, status: 200, body: '' });
    await workerDone();
    const ephemerals = (await received(pipeline.endpoints.slack)).filter((x) => x.path.startsWith('/_response/'));
    expect(ephemerals).toEqual([]);
  }, 60_000);

  it('the record is acknowledged by the Slack user, the Slack message updated, PagerDuty acknowledged', async () => {
    const alerts = new DynamoAlertStore(pipeline.clients.dynamodb, pipeline.provisioned.tables.alerts);
    const record = await waitFor('the acknowledged record', () => alerts.get(fingerprint), (r) => r?.ack !== undefined);
    expect(record!.ack).toMatchObject({ by: ACTOR, source: 'slack' });
    const update = await waitFor('the message updated in place', async () => (await slackCalls()).find((c) => c.method === 'chat.update' && c.status === 200 && c.body.ts === messageTs && JSON.stringify(c.body).includes('Acknowledged')), (c) => c !== undefined);
    expect(JSON.stringify(update)).toContain('U0E2E');
    await waitFor(
      'an acknowledge event at PagerDuty',
      async () => (await received(pipeline.endpoints.pagerduty)).filter((x) => (x.json as { event_action?: string; dedup_key?: string } | undefined)?.event_action === 'acknowledge' && (x.json as { dedup_key?: string }).dedup_key === fingerprint),
      (rs) => rs.length === 1,
    );
  }, 60_000);

  it('a signed incident.resolved webhook from the local PagerDuty is verified and taken by the worker', async () => {
    const r = await control(`${pipeline.endpoints.pagerduty}/_webhook`, { dedup_key: fingerprint, event: 'resolved' });
    expect(r).toMatchObject({ ok: true, status: 200 });
    await workerDone();
  }, 60_000);

  it('the Slack thread gets a note that PagerDuty resolved the incident', async () => {
    const note = await waitFor('the note in the thread', async () => (await slackCalls()).find((c) => c.method === 'chat.postMessage' && c.status === 200 && c.body.thread_ts === messageTs && JSON.stringify(c.body).includes('Resolved in PagerDuty by Local Responder')), (c) => c !== undefined);
    expect(note).toBeDefined();
  }, 60_000);

  it('Silence 1 h from Slack: a silence on the alert labels, created by the Slack user, told back ephemerally', async () => {
    const r = await control(`${pipeline.endpoints.slack}/_click`, { fingerprint, action_id: SLACK_ACTION_IDS.silence1h, user: USER });
    expect(r.status).toBe(200);
    await workerDone();
    const silences = await new DynamoSilenceStore(pipeline.clients.dynamodb, pipeline.provisioned.tables.silences).list();
    expect(silences).toEqual([expect.objectContaining({ createdBy: ACTOR, comment: expect.stringContaining('Silenced from Slack (1 h)') })]);
    expect(silences[0]!.matchers).toEqual(expect.arrayContaining([{ name: 'instance', op: '=', value: 'db-1' }, { name: 'mount', op: '=', value: '/data' }, { name: 'team', op: '=', value: 'storage' }]));
    expect(silences[0]!.endsAtMs - silences[0]!.startsAtMs).toBe(3_600_000);
    const told = (await received(pipeline.endpoints.slack)).filter((x) => x.path.startsWith('/_response/'));
    expect(told.map((x) => (x.json as { text: string }).text)).toEqual([expect.stringContaining('Silenced for 1 h')]);
  }, 60_000);
});
