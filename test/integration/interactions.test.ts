/**
 * The interactions path on the real local services (DynamoDB Local, fauxqs, the local Slack and
 * PagerDuty receivers): the replay guard's conditional writes; the endpoint's work through the
 * interactions queue; the worker reading records, groups and routes from the tables, asking the
 * local Slack for user-group members, putting action and note messages on the alert-events FIFO
 * queue (group = fingerprint), creating silences, and answering refusals through response_url.
 * And the local receivers' own clicking and webhooks: a signed `_click` and `_webhook` verified by
 * the endpoint; a click signed with another secret refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { DynamoReplayGuard } from '../../shared/adapters/interact/replay-guard.ts';
import { SqsActionPublisher, SqsInteractionQueue } from '../../shared/adapters/interact/queues.ts';
import { FetchSlackResponder, SlackUserGroupDirectory } from '../../shared/adapters/interact/slack.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoGroupStore } from '../../shared/adapters/dynamodb/group-store.ts';
import { DynamoSilenceStore } from '../../shared/adapters/dynamodb/silence-store.ts';
import { DynamoErrorAlertStore } from '../../shared/adapters/dynamodb/error-alert-store.ts';
import { SqsTransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { staticRoutesSource } from '../../shared/adapters/routes/routes-source.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { alertButtonValue, SLACK_ACTION_IDS, SLACK_GROUP_ACTION_IDS } from '../../shared/core/format/slack.ts';
import type { InteractionWork, SlackActionWork } from '../../shared/core/interact/work.ts';
import { createInteractionsWorkerHandler, type InteractionsWorkerDeps } from '../../functions/interactions-worker/app.ts';
import { createInteractionsHandler } from '../../functions/interactions/app.ts';
import { LOCAL_SLACK_BOT_TOKEN, startSlackReceiver, type SlackReceiver } from '../../local/receivers/slack.ts';
import { startPagerDutyReceiver, type PagerDutyReceiver } from '../../local/receivers/pagerduty.ts';
import { startFunctionUrl } from '../../local/runtime/function-url.ts';
import { startConsole } from '../../local/console/server.ts';
import type { ConsoleSnapshot } from '../../local/console/observer.ts';
import type { Listening } from '../../local/runtime/listen.ts';
import { LOCAL_PAGERDUTY_WEBHOOK_SECRET, LOCAL_SLACK_SIGNING_SECRET } from '../../local/config/index.ts';
import { provisionFresh } from '../support/aws.ts';

type P = Awaited<ReturnType<typeof provisionFresh>>;
const NOW = Date.now();
const FP = 'c'.repeat(64);
const GROUP = `group:${'d'.repeat(32)}`;

let p: P;
let slack: SlackReceiver;
let pagerduty: PagerDutyReceiver;
let endpoint: Listening;
let deps: InteractionsWorkerDeps;
const logger = new Logger({ logLevel: 'SILENT' });
const metrics = new Metrics({ namespace: 'KlaxonTest', serviceName: 'interactions' });

/** Takes every message off a queue, with its group id. */
async function drain(url: string): Promise<{ body: Record<string, unknown>; groupId?: string }[]> {
  const out: { body: Record<string, unknown>; groupId?: string }[] = [];
  for (;;) {
    const r = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId'] }));
    const msgs: Message[] = r.Messages ?? [];
    if (!msgs.length) return out;
    for (const m of msgs) out.push({ body: JSON.parse(m.Body!) as Record<string, unknown>, ...(m.Attributes?.MessageGroupId ? { groupId: m.Attributes.MessageGroupId } : {}) });
    await p.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

const sqsEvent = (works: readonly InteractionWork[]): SQSEvent => ({ Records: works.map((w, i) => ({ messageId: `m${i}`, body: JSON.stringify(w) })) }) as unknown as SQSEvent;

function click(over: Partial<SlackActionWork> = {}): SlackActionWork {
  return {
    version: 1,
    kind: 'slack-action',
    action: 'acknowledge',
    target: { kind: 'alert', fingerprint: FP, firedAtMs: NOW - 60_000 },
    user: { id: 'U0ALICE', name: 'alice' },
    channelId: 'C0OPS',
    responseUrl: `${slack.url}/_response/t1`,
    actionTs: `${Math.random()}`,
    receivedAtMs: NOW,
    ...over,
  };
}

beforeAll(async () => {
  p = await provisionFresh();
  slack = await startSlackReceiver({ rateLimit: false, userGroups: { S0ONCALL: ['U0BOB'] }, botToken: LOCAL_SLACK_BOT_TOKEN });
  pagerduty = await startPagerDutyReceiver({ rateLimit: false });
  const doc = DynamoDBDocumentClient.from(p.dynamodb);
  // An alert record as dispatch writes it (the fields the worker reads), notified on Slack by `ops`.
  await doc.send(
    new PutCommand({
      TableName: p.tables.alerts,
      Item: {
        fingerprint: FP,
        version: 3,
        state: 'firing',
        ruleId: 'high-cpu',
        ruleName: 'HighCPU',
        severity: 'critical',
        effectiveSeverity: 'critical',
        labels: { alertname: 'HighCPU', instance: 'web-1', team: 'ops' },
        annotations: {},
        activeAtMs: NOW - 120_000,
        startsAtMs: NOW - 60_000,
        fireCount: 1,
        fireTimesMs: [NOW - 60_000],
        lastTransition: { id: 't1', kind: 'firing', atMs: NOW - 60_000 },
        recentTransitionIds: ['t1'],
        deliveries: { 'ops|slack': { receiver: 'ops', channel: 'slack', destination: { kind: 'slack', channel: 'C0OPS' }, destinationId: 'slack:channel:C0OPS', suppressedCount: 0 } },
        updatedAtMs: NOW,
      },
    }),
  );
  const groups = new DynamoGroupStore(p.dynamodb, p.tables.groups);
  for (const [fp, startsAtMs] of [
    ['g1', NOW - 5000],
    ['g2', NOW - 4000],
  ] as const) {
    await groups.upsertMember(
      {
        header: { id: GROUP, key: 'k', routePath: 'routes[0]', receiver: 'ops', labels: { alertname: 'DiskFull', cluster: 'eu1' }, timing: { waitMs: 30_000, intervalMs: 300_000, repeatMs: 14_400_000 } },
        fingerprint: fp,
        member: { status: 'firing', severity: 'high', channels: ['slack'], startsAtMs },
        destinations: {},
        dueIfNewMs: NOW + 30_000,
      },
      NOW,
    );
  }
  const routes = compileRoutes({ receivers: [{ name: 'ops', slack: { channel: 'C0OPS', authorized: { users: ['U0ALICE'], user_groups: ['S0ONCALL'] } } }] }, 'test routes');
  const clock = { now: () => NOW };
  deps = {
    alerts: new DynamoAlertStore(p.dynamodb, p.tables.alerts),
    groups,
    routes: staticRoutesSource(routes),
    userGroups: new SlackUserGroupDirectory({ token: () => Promise.resolve(LOCAL_SLACK_BOT_TOKEN), apiUrl: slack.apiUrl, clock }),
    publisher: new SqsActionPublisher(p.sqs, p.queues.alertEvents.url),
    silences: new DynamoSilenceStore(p.dynamodb, p.tables.silences),
    errors: { store: new DynamoErrorAlertStore(p.dynamodb, p.tables.errors), publisher: new SqsTransitionPublisher({ client: p.sqs, queueUrl: p.queues.alertEvents.url }) },
    responder: new FetchSlackResponder({ now: () => NOW, extraPrefixes: [`${slack.url}/`] }),
    clock,
    logger,
    metrics,
  };
  const handler = createInteractionsHandler({
    slackSigningSecret: () => Promise.resolve(LOCAL_SLACK_SIGNING_SECRET),
    pagerDutyWebhookSecret: () => Promise.resolve(LOCAL_PAGERDUTY_WEBHOOK_SECRET),
    replay: new DynamoReplayGuard(p.dynamodb, p.tables.delivery, () => Date.now()),
    queue: new SqsInteractionQueue(p.sqs, p.queues.interactions.url),
    clock,
    wallClock: { now: () => Date.now() },
    logger,
    metrics,
  });
  endpoint = await startFunctionUrl(handler);
  slack.setInteractions({ url: `${endpoint.url}/slack/interactions`, signingSecret: LOCAL_SLACK_SIGNING_SECRET });
  pagerduty.setWebhooks({ url: `${endpoint.url}/pagerduty/webhooks`, secret: LOCAL_PAGERDUTY_WEBHOOK_SECRET });
});

afterAll(async () => {
  await Promise.all([slack?.stop(), pagerduty?.stop(), endpoint?.stop()]);
});

describe('replay guard (DynamoDB Local)', () => {
  it('claims a key once; a second claim is a replay; an expired claim and a released one can be claimed again', async () => {
    const guard = new DynamoReplayGuard(p.dynamodb, p.tables.delivery, () => NOW);
    expect(await guard.claim('replay#slack#a', NOW + 360_000)).toBe(true);
    expect(await guard.claim('replay#slack#a', NOW + 360_000)).toBe(false);
    // DynamoDB deletes expired items lazily: one past its expiresAt counts as gone.
    expect(await guard.claim('replay#slack#b', NOW - 10_000)).toBe(true);
    expect(await guard.claim('replay#slack#b', NOW + 360_000)).toBe(true);
    await guard.release('replay#slack#a');
    expect(await guard.claim('replay#slack#a', NOW + 360_000)).toBe(true);
  });
});

describe('worker (alert-events, silences, response_url)', () => {
  it('acknowledges for an authorized user: one action message, grouped by the fingerprint', async () => {
    const r = await createInteractionsWorkerHandler(deps)(sqsEvent([click()]));
    expect(r.batchItemFailures).toEqual([]);
    const msgs = await drain(p.queues.alertEvents.url);
    expect(msgs).toEqual([{ groupId: FP, body: expect.objectContaining({ kind: 'action', action: 'acknowledge', fingerprint: FP, by: '<@U0ALICE> (alice)', source: 'slack', firedAtMs: NOW - 60_000 }) }]);
  });

  it('lets a member of an authorized user group act (usergroups.users.list on the local Slack)', async () => {
    await createInteractionsWorkerHandler(deps)(sqsEvent([click({ user: { id: 'U0BOB', name: 'bob' } })]));
    expect((await drain(p.queues.alertEvents.url)).map((m) => m.body.by)).toEqual(['<@U0BOB> (bob)']);
  });

  it('refuses anyone else with an ephemeral message, changing nothing', async () => {
    slack.clear();
    await createInteractionsWorkerHandler(deps)(sqsEvent([click({ user: { id: 'U0EVE', name: 'eve' } })]));
    expect(await drain(p.queues.alertEvents.url)).toEqual([]);
    expect(slack.ephemerals().map((e) => e.text)).toEqual([expect.stringContaining('you are not allowed to act on these alerts')]);
  });

  it('silences on the alert labels, created by the Slack user, once however often the message is delivered', async () => {
    slack.clear();
    const w = click({ action: 'silence-until-resolved' });
    const handler = createInteractionsWorkerHandler(deps);
    await handler(sqsEvent([w]));
    await handler(sqsEvent([w]));
    const silences = (await deps.silences.list()).filter((s) => s.untilResolved === FP);
    expect(silences).toHaveLength(1);
    expect(silences[0]).toMatchObject({ createdBy: '<@U0ALICE> (alice)', startsAtMs: NOW, matchers: [{ name: 'alertname', value: 'HighCPU' }, { name: 'instance', value: 'web-1' }, { name: 'team', value: 'ops' }] });
    expect(slack.ephemerals()[0]?.text).toContain('Silenced until it resolves');
  });

  it('acknowledges every firing alert of a group', async () => {
    await createInteractionsWorkerHandler(deps)(sqsEvent([click({ target: { kind: 'group', id: GROUP } })]));
    expect((await drain(p.queues.alertEvents.url)).map((m) => [m.groupId, m.body.firedAtMs]).sort()).toEqual([
      ['g1', NOW - 5000],
      ['g2', NOW - 4000],
    ]);
  });

  it('turns PagerDuty events into actions and notes; ignores an unknown incident', async () => {
    const ev = (eventType: 'incident.acknowledged' | 'incident.resolved', incidentKey = FP): InteractionWork => ({ version: 1, kind: 'pagerduty-event', eventType, eventId: `E-${eventType}-${incidentKey}`, incidentKey, agent: 'Bob', occurredAtMs: NOW, receivedAtMs: NOW });
    const r = await createInteractionsWorkerHandler(deps)(sqsEvent([ev('incident.acknowledged'), ev('incident.resolved'), ev('incident.acknowledged', 'unknown-key')]));
    expect(r.batchItemFailures).toEqual([]);
    const msgs = (await drain(p.queues.alertEvents.url)).map((m) => [m.body.action, m.body.source, m.body.by]);
    expect(msgs).toEqual([
      ['acknowledge', 'pagerduty', 'Bob'],
      ['note', 'pagerduty', 'Bob'],
    ]);
  });
});

describe('endpoint and local receivers (signed clicks and webhooks)', () => {
  it('a click from the local Slack is verified, queued, and the worker acknowledges', async () => {
    // The local Slack received this message (as deliver-slack posts it) and clicks its button.
    const post = await fetch(`${slack.apiUrl}/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${LOCAL_SLACK_BOT_TOKEN}` },
      body: JSON.stringify({ channel: 'C0OPS', text: 'x', blocks: [{ type: 'actions', block_id: 'klaxon_actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, action_id: SLACK_ACTION_IDS.acknowledge, value: alertButtonValue(FP, NOW - 60_000) }] }] }),
    });
    expect(post.status).toBe(200);
    const res = await slack.click({ fingerprint: FP, action_id: SLACK_ACTION_IDS.acknowledge, user: { id: 'U0ALICE', name: 'alice' } });
    expect(res).toEqual({ status: 200, body: '' });
    const queued = await drain(p.queues.interactions.url);
    expect(queued.map((q) => q.body)).toEqual([expect.objectContaining({ kind: 'slack-action', action: 'acknowledge', target: { kind: 'alert', fingerprint: FP, firedAtMs: NOW - 60_000 }, channelId: 'C0OPS' })]);
    await createInteractionsWorkerHandler(deps)(sqsEvent(queued.map((q) => q.body as unknown as InteractionWork)));
    expect((await drain(p.queues.alertEvents.url)).map((m) => m.body.action)).toEqual(['acknowledge']);
  });

  it('refuses a click signed with another secret, or signed too long ago', async () => {
    expect((await slack.click({ fingerprint: FP, action_id: SLACK_ACTION_IDS.acknowledge, signingSecret: 'forged' })).status).toBe(401);
    expect((await slack.click({ fingerprint: FP, action_id: SLACK_ACTION_IDS.acknowledge, timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    expect(await drain(p.queues.interactions.url)).toEqual([]);
  });

  it('finds no message for a button it never received', async () => {
    expect((await slack.click({ fingerprint: GROUP, action_id: SLACK_GROUP_ACTION_IDS.acknowledge })).status).toBe(404);
  });

  it('a signed v3 webhook from the local PagerDuty is verified and queued; the same delivery again is not', async () => {
    const first = await pagerduty.sendWebhook({ dedup_key: FP, event: 'resolved', webhookId: 'W-1' });
    const again = await pagerduty.sendWebhook({ dedup_key: FP, event: 'resolved', webhookId: 'W-1' });
    const forged = await pagerduty.sendWebhook({ dedup_key: FP, event: 'resolved', secret: 'forged' });
    expect([first.status, again.status, forged.status]).toEqual([200, 200, 403]);
    expect((await drain(p.queues.interactions.url)).map((q) => q.body)).toEqual([expect.objectContaining({ kind: 'pagerduty-event', eventType: 'incident.resolved', incidentKey: FP, agent: 'Local Responder' })]);
  });

  it("the console's Acknowledge goes through the same click (the local Slack's _click); it takes Klaxon's button ids only", async () => {
    const consoleServer = await startConsole({ port: 0, snapshot: () => Promise.resolve({} as ConsoleSnapshot), click: (req) => slack.click({ ...req, user: { id: 'U0ALICE', name: 'alice' } }) });
    try {
      const post = (body: unknown) => fetch(`${consoleServer.url}/api/click`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const res = await post({ fingerprint: FP, action_id: SLACK_ACTION_IDS.acknowledge });
      expect(res.status).toBe(200);
      expect((await drain(p.queues.interactions.url)).map((q) => q.body)).toEqual([expect.objectContaining({ kind: 'slack-action', action: 'acknowledge', user: { id: 'U0ALICE', name: 'alice' } })]);
      expect((await post({ fingerprint: FP, action_id: 'other_app' })).status).toBe(400);
    } finally {
      await consoleServer.stop();
    }
  });
});
