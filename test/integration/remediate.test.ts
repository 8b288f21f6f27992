/**
 * Auto-remediation on the real local services (DynamoDB Local, fauxqs, the local Slack, the
 * remediation target, the SSM/Lambda stand-in): the remediate function's handler with its DynamoDB
 * audit log and per-target state, the remediation queue, notes onto the alert-events queue; a
 * redelivered request runs once; an invalid message is dead-lettered with why; and the approval
 * click through the real interactions endpoint (signed like Slack by the local Slack's `_click`)
 * and worker → executed with the approver recorded, an expired approval refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { createRemediateHandler, type RemediateDeps } from '../../functions/remediate/app.ts';
import { TransientError } from '../../shared/core/errors/index.ts';
import { createInteractionsWorkerHandler } from '../../functions/interactions-worker/app.ts';
import { createInteractionsHandler } from '../../functions/interactions/app.ts';
import { DynamoRemediationStore } from '../../shared/adapters/remediate/store.ts';
import { RemediationExecutor } from '../../shared/adapters/remediate/executors.ts';
import { SqsRemediationQueue } from '../../shared/adapters/remediate/queue.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoGroupStore } from '../../shared/adapters/dynamodb/group-store.ts';
import { DynamoSilenceStore } from '../../shared/adapters/dynamodb/silence-store.ts';
import { DynamoErrorAlertStore } from '../../shared/adapters/dynamodb/error-alert-store.ts';
import { DynamoReplayGuard } from '../../shared/adapters/interact/replay-guard.ts';
import { SqsActionPublisher, SqsInteractionQueue } from '../../shared/adapters/interact/queues.ts';
import { FetchSlackResponder, SlackUserGroupDirectory } from '../../shared/adapters/interact/slack.ts';
import { SqsTransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { SqsDeadLetterSender } from '../../shared/adapters/sqs/job-publisher.ts';
import { staticRoutesSource } from '../../shared/adapters/routes/routes-source.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { decideNote } from '../../shared/core/dispatch/ack/index.ts';
import { renderSlackThreadReply, SLACK_REMEDIATION_ACTION_IDS } from '../../shared/core/format/slack.ts';
import { parseNoteMessage, type NoteMessage } from '../../shared/core/lifecycle/action.ts';
import { parseRemediationActions } from '../../shared/core/remediate/spec.ts';
import { attemptIdOf, type RemediationRequest } from '../../shared/core/remediate/messages.ts';
import type { AlertRecord } from '../../shared/core/dispatch/record/alert-record.ts';
import { LOCAL_SLACK_BOT_TOKEN, startSlackReceiver, type SlackReceiver } from '../../local/receivers/slack.ts';
import { startRemediationTarget, type RemediationTarget } from '../../local/receivers/remediation-target.ts';
import { startAwsActionsStandIn, type AwsActionsStandIn } from '../../local/receivers/aws-actions-standin.ts';
import { startFunctionUrl } from '../../local/runtime/function-url.ts';
import type { Listening } from '../../local/runtime/listen.ts';
import { LOCAL_PAGERDUTY_WEBHOOK_SECRET, LOCAL_SLACK_SIGNING_SECRET } from '../../local/config/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionFresh } from '../support/aws.ts';

type P = Awaited<ReturnType<typeof provisionFresh>>;
const NOW = Date.now();
const MIN = 60_000;
const FP = 'e'.repeat(64);
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const logger = new Logger({ logLevel: 'SILENT' });
const metrics = new Metrics({ namespace: 'KlaxonTest', serviceName: 'remediate' });

let p: P;
let slack: SlackReceiver;
let target: RemediationTarget;
let standIn: AwsActionsStandIn;
let endpoint: Listening;
let deps: RemediateDeps;
let now = NOW;

async function drain(url: string): Promise<{ body: string; groupId?: string; reason?: string }[]> {
  const out: { body: string; groupId?: string; reason?: string }[] = [];
  for (;;) {
    const r = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId'], MessageAttributeNames: ['All'] }));
    const msgs: Message[] = r.Messages ?? [];
    if (!msgs.length) return out;
    for (const m of msgs) out.push({ body: m.Body!, ...(m.Attributes?.MessageGroupId ? { groupId: m.Attributes.MessageGroupId } : {}), ...(m.MessageAttributes?.reason?.StringValue ? { reason: m.MessageAttributes.reason.StringValue } : {}) });
    await p.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

const sqsEvent = (bodies: readonly string[]): SQSEvent => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) }) as unknown as SQSEvent;

const request = (over: Partial<RemediationRequest> = {}, spec: Partial<RemediationRequest['spec']> = {}): RemediationRequest => ({
  version: 1,
  kind: 'request',
  requestId: `tr-${Math.random()}`,
  fingerprint: FP,
  firedAtMs: NOW - MIN,
  ruleId: 'web-down',
  severity: 'critical',
  labels: { alertname: 'web-down', service: 'web' },
  spec: { action: 'restart-web', parameters: { Service: '{{ $labels.service }}' }, cooldownMs: 0, maxAttempts: 10, attemptsWindowMs: 3_600_000, dryRun: false, ...spec },
  atMs: NOW,
  ...over,
});

const record: AlertRecord = {
  fingerprint: FP,
  version: 3,
  state: 'firing',
  ruleId: 'web-down',
  ruleName: 'WebDown',
  severity: 'critical',
  effectiveSeverity: 'critical',
  labels: { alertname: 'web-down', service: 'web' },
  annotations: {},
  activeAtMs: NOW - 2 * MIN,
  startsAtMs: NOW - MIN,
  fireCount: 1,
  fireTimesMs: [NOW - MIN],
  lastTransition: { id: 't1', kind: 'firing', atMs: NOW - MIN },
  recentTransitionIds: ['t1'],
  deliveries: { 'ops|slack': { receiver: 'ops', channel: 'slack', destination: { kind: 'slack', channel: 'C0OPS' }, destinationId: 'slack:channel:C0OPS', suppressedCount: 0, notifiedFiredAtMs: NOW - MIN } },
  updatedAtMs: NOW,
} as unknown as AlertRecord;

beforeAll(async () => {
  p = await provisionFresh();
  [slack, target, standIn] = await Promise.all([
    startSlackReceiver({ rateLimit: false, botToken: LOCAL_SLACK_BOT_TOKEN }),
    startRemediationTarget({ secret }),
    startAwsActionsStandIn({ documents: { 'Klaxon-RestartConsumer': 'succeed' } }),
  ]);
  await DynamoDBDocumentClient.from(p.dynamodb).send(new PutCommand({ TableName: p.tables.alerts, Item: record as unknown as Record<string, unknown> }));
  const alerts = new DynamoAlertStore(p.dynamodb, p.tables.alerts);
  deps = {
    actions: parseRemediationActions({
      actions: { 'restart-web': { webhook: { url: target.endpoint, secret: 'klaxon/remediation/restart-web' } }, 'restart-consumer': { ssmAutomation: { document: 'Klaxon-RestartConsumer' } } },
    }),
    store: new DynamoRemediationStore(p.dynamodb, p.tables.remediations),
    executor: new RemediationExecutor({
      ssm: new SSMClient({ endpoint: standIn.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      lambda: new LambdaClient({ endpoint: standIn.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      secrets: { getJson: () => Promise.resolve({ secret }) },
      clock: { now: () => Date.now() },
    }),
    notes: new SqsActionPublisher(p.sqs, p.queues.alertEvents.url),
    scheduler: new SqsRemediationQueue({ client: p.sqs, queueUrl: p.queues.remediation.url }),
    alerts: { get: (fp) => alerts.get(fp) },
    responder: new FetchSlackResponder({ now: () => now, extraPrefixes: [`${slack.url}/`] }),
    deadLetter: new SqsDeadLetterSender(p.sqs, p.queues.remediation.dlq!.url),
    clock: { now: () => now },
    logger,
    metrics,
  };
  const routes = compileRoutes({ receivers: [{ name: 'ops', slack: { channel: 'C0OPS', authorized: { users: ['U0ALICE'] } } }] }, 'test routes');
  const worker = createInteractionsWorkerHandler({
    alerts,
    groups: new DynamoGroupStore(p.dynamodb, p.tables.groups),
    routes: staticRoutesSource(routes),
    userGroups: new SlackUserGroupDirectory({ token: () => Promise.resolve(LOCAL_SLACK_BOT_TOKEN), apiUrl: slack.apiUrl, clock: { now: () => now } }),
    publisher: new SqsActionPublisher(p.sqs, p.queues.alertEvents.url),
    silences: new DynamoSilenceStore(p.dynamodb, p.tables.silences),
    errors: { store: new DynamoErrorAlertStore(p.dynamodb, p.tables.errors), publisher: new SqsTransitionPublisher({ client: p.sqs, queueUrl: p.queues.alertEvents.url }) },
    responder: new FetchSlackResponder({ now: () => now, extraPrefixes: [`${slack.url}/`] }),
    remediations: new SqsRemediationQueue({ client: p.sqs, queueUrl: p.queues.remediation.url }),
    clock: { now: () => now },
    logger,
    metrics,
  });
  const handler = createInteractionsHandler({
    slackSigningSecret: () => Promise.resolve(LOCAL_SLACK_SIGNING_SECRET),
    pagerDutyWebhookSecret: () => Promise.resolve(LOCAL_PAGERDUTY_WEBHOOK_SECRET),
    replay: new DynamoReplayGuard(p.dynamodb, p.tables.delivery, () => Date.now()),
    queue: new SqsInteractionQueue(p.sqs, p.queues.interactions.url),
    clock: { now: () => now },
    wallClock: { now: () => Date.now() },
    logger,
    metrics,
  });
  endpoint = await startFunctionUrl(handler);
  slack.setInteractions({ url: `${endpoint.url}/slack/interactions`, signingSecret: LOCAL_SLACK_SIGNING_SECRET });
  // The worker, as its SQS trigger would run it.
  runWorker = async () => {
    const bodies = (await drain(p.queues.interactions.url)).map((m) => m.body);
    if (bodies.length) expect((await worker(sqsEvent(bodies))).batchItemFailures).toEqual([]);
  };
});

let runWorker: () => Promise<void>;

afterAll(async () => {
  await Promise.all([slack?.stop(), target?.stop(), standIn?.stop(), endpoint?.stop()]);
});

/** Runs the remediate handler on what the remediation queue holds now (delayed expiry checks are not visible yet). */
async function runRemediate(): Promise<void> {
  const bodies = (await drain(p.queues.remediation.url)).map((m) => m.body);
  if (bodies.length) expect((await createRemediateHandler(deps)(sqsEvent(bodies))).batchItemFailures).toEqual([]);
}

/** The notes put on the alert-events queue (grouped by the alert's fingerprint). */
async function notes(): Promise<NoteMessage[]> {
  const msgs = await drain(p.queues.alertEvents.url);
  for (const m of msgs) expect(m.groupId).toBe(FP);
  return msgs.map((m) => parseNoteMessage(JSON.parse(m.body)));
}

describe('remediate function (DynamoDB Local, fauxqs, local target)', () => {
  it('runs an automatic webhook remediation once, audits it, posts the outcome note; a redelivery runs nothing', async () => {
    const req = request();
    const handler = createRemediateHandler(deps);
    expect((await handler(sqsEvent([JSON.stringify(req)]))).batchItemFailures).toEqual([]);
    expect((await handler(sqsEvent([JSON.stringify(req)]))).batchItemFailures).toEqual([]);
    expect(target.restarts().map((r) => r.text)).toEqual(['restarted web']);
    const audit = await deps.store.attemptsOf(FP);
    expect(audit).toEqual([expect.objectContaining({ attemptId: attemptIdOf(req), status: 'succeeded', ruleId: 'web-down', action: 'restart-web', actionKind: 'webhook', target: 'Service=web', parameters: { Service: 'web' }, executionId: 'HTTP 200' })]);
    const n = await notes();
    expect(n.map((x) => x.text)).toEqual([expect.stringMatching(/^Remediation restart-web on Service=web ran: webhook 127\.0\.0\.1:\d+ answered HTTP 200/)]);
    expect(n[0]).toMatchObject({ source: 'remediation', by: 'Klaxon auto-remediation' });
  });

  it('SSM Automation through the stand-in: ClientToken = the attempt token, the document and parameters as declared', async () => {
    const req = request({}, { action: 'restart-consumer' });
    await createRemediateHandler(deps)(sqsEvent([JSON.stringify(req)]));
    const [a] = (await deps.store.attemptsOf(FP)).filter((x) => x.attemptId === attemptIdOf(req));
    expect(standIn.executions().at(-1)).toMatchObject({ documentName: 'Klaxon-RestartConsumer', parameters: { Service: ['web'] }, clientToken: a!.token, automationExecutionId: a!.executionId });
    await notes();
  });

  it('an action unreachable until the last delivery: the attempt stays running, then is failed (gave-up) and posted; never left running', async () => {
    const req = request();
    const unreachable = { ...deps, executor: { execute: () => Promise.reject(new TransientError('webhook 127.0.0.1: ECONNREFUSED')) } } as RemediateDeps;
    const delivery = (n: number): SQSEvent => ({ Records: [{ messageId: `m${n}`, body: JSON.stringify(req), attributes: { ApproximateReceiveCount: String(n) } }] }) as unknown as SQSEvent;
    const handler = createRemediateHandler({ ...unreachable, maxReceives: 3 });
    expect((await handler(delivery(1))).batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect((await deps.store.getAttempt(attemptIdOf(req)))!.status).toBe('running');
    expect((await handler(delivery(3))).batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
    expect(await deps.store.getAttempt(attemptIdOf(req))).toMatchObject({ status: 'failed', reason: 'gave-up', text: expect.stringMatching(/^gave up after the last delivery of its message: .*webhook 127\.0\.0\.1: ECONNREFUSED/) });
    expect((await notes()).map((x) => x.text)).toEqual([expect.stringMatching(/gave up after the last delivery/)]);
    // A redrive from the dead-letter queue finds it decided: nothing runs.
    expect((await createRemediateHandler(deps)(sqsEvent([JSON.stringify(req)]))).batchItemFailures).toEqual([]);
    expect((await deps.store.getAttempt(attemptIdOf(req)))!.status).toBe('failed');
  });

  it('an invalid message is dead-lettered at once, with why', async () => {
    const r = await createRemediateHandler(deps)(sqsEvent([JSON.stringify({ ...request(), spec: { action: 'x' } })]));
    expect(r.batchItemFailures).toEqual([]);
    const dlq = await drain(p.queues.remediation.dlq!.url);
    expect(dlq).toEqual([expect.objectContaining({ reason: expect.stringMatching(/invalid remediation message: spec\.parameters: .*; spec\.cooldownMs/) })]);
  });
});

describe('approval through the real interactions endpoint and worker', () => {
  /** Posts the approval note's thread reply, as the Slack channel function would, so it can be clicked. */
  async function postApproval(n: NoteMessage): Promise<void> {
    const out = decideNote(n, { record }, now);
    expect(out.posted).toBe(true);
    const job = out.posted ? out.jobs[0]! : undefined;
    const msg = renderSlackThreadReply(job!, { productName: 'Klaxon' });
    const res = await fetch(`${slack.apiUrl}/chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${LOCAL_SLACK_BOT_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C0OPS', ...msg }) });
    expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
  }

  it('Approve by an authorized user: executed, the approver recorded and posted', async () => {
    now = NOW;
    const req = request({}, { approval: { timeoutMs: 15 * MIN } });
    await createRemediateHandler(deps)(sqsEvent([JSON.stringify(req)]));
    const [ask] = await notes();
    expect(ask!.approval).toEqual({ attemptId: attemptIdOf(req), expiresAtMs: NOW + 15 * MIN });
    await postApproval(ask!);
    const before = target.restarts().length;
    // Someone not authorized first: refused by the worker, nothing forwarded.
    expect((await slack.click({ fingerprint: FP, action_id: SLACK_REMEDIATION_ACTION_IDS.approve, user: { id: 'U0EVE', name: 'eve' } })).status).toBe(200);
    await runWorker();
    expect(await drain(p.queues.remediation.url)).toEqual([]);
    now = NOW + 2 * MIN;
    expect((await slack.click({ fingerprint: FP, action_id: SLACK_REMEDIATION_ACTION_IDS.approve, user: { id: 'U0ALICE', name: 'alice' } })).status).toBe(200);
    await runWorker();
    await runRemediate();
    expect(target.restarts().length).toBe(before + 1);
    const a = (await deps.store.attemptsOf(FP)).find((x) => x.attemptId === attemptIdOf(req))!;
    expect(a).toMatchObject({ status: 'succeeded', approver: '<@U0ALICE> (alice)', decidedAtMs: NOW + 2 * MIN });
    expect((await notes()).map((x) => x.text)).toEqual([expect.stringMatching(/ran \(approved by <@U0ALICE> \(alice\)\)/)]);
    // The approval message became the decision: its Approve / Reject buttons are gone.
    // (The mention is escaped like everything from a click: it shows as text, it cannot ping.)
    const approvalMessages = [...slack.messages().values()].filter((m) => JSON.stringify(m).includes(attemptIdOf(req)) || String(m.text).includes('approved by'));
    expect(approvalMessages).toEqual([expect.objectContaining({ text: expect.stringMatching(/^:white_check_mark: approved by &lt;@U0ALICE&gt; \(alice\): restart-web on Service=web is running/), blocks: undefined, attachments: undefined })]);
  });

  it('a click after the approval expired is refused ("approval expired"), nothing run, the audit log says expired', async () => {
    // Later than the run above (the clock never goes back).
    const T = NOW + 10 * MIN;
    now = T;
    const req = request({ atMs: T }, { approval: { timeoutMs: 5 * MIN } });
    await createRemediateHandler(deps)(sqsEvent([JSON.stringify(req)]));
    const [ask] = await notes();
    await postApproval(ask!);
    const before = target.restarts().length;
    slack.clear();
    now = T + 6 * MIN;
    await slack.click({ fingerprint: FP, action_id: SLACK_REMEDIATION_ACTION_IDS.approve, user: { id: 'U0ALICE', name: 'alice' } });
    await runWorker();
    await runRemediate();
    expect(target.restarts().length).toBe(before);
    expect((await deps.store.attemptsOf(FP)).find((x) => x.attemptId === attemptIdOf(req))).toMatchObject({ status: 'expired', reason: 'approval-expired' });
    expect(slack.ephemerals().map((e) => e.text)).toEqual([expect.stringContaining('approval expired')]);
    expect((await notes()).map((x) => x.text)).toEqual([expect.stringMatching(/approval expired/)]);
  });
});
