/**
 * The enrichment through the real channel functions (deliver-slack, deliver-email,
 * deliver-pagerduty wired by their DepsFromEnv) on DynamoDB Local and fauxqs, with the local Slack
 * and PagerDuty receivers, the catalog file of the demo, and the local stand-in for Logs Insights
 * (local/receivers/logs-insights-standin.ts: nothing emulates Logs Insights; it speaks the real
 * JSON protocol, so the production adapter and SDK client run against it). The query cache and
 * the slot items are real DynamoDB items; the follow-up is the real enrich-followup function.
 * Time is the tests' clock, running twice as fast as the wall clock (SpeedClock: the local
 * services answer in real time, so a purely fake timer would run ahead of them); queries complete
 * after 3 s of it; the follow-up's wait is a jump of the clock.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverSlackDepsFromEnv } from '../../functions/deliver-slack/app.ts';
import { deliverPagerdutyDepsFromEnv } from '../../functions/deliver-pagerduty/app.ts';
import { createEnrichFollowUpHandler, enrichFollowUpDepsFromEnv } from '../../functions/enrich-followup/app.ts';
import { createChannelHandler } from '../../shared/adapters/channel/handler.ts';
import { loadCatalogFile } from '../../shared/adapters/enrich/catalog-source.ts';
import { LogsInsightsSource } from '../../shared/adapters/enrich/logs-insights.ts';
import { logsQueryKey, logsSlotKey } from '../../shared/adapters/enrich/logs-store.ts';
import { SecretsManagerSecretSource } from '../../shared/adapters/secrets/index.ts';
import { logsKey } from '../../shared/core/enrich/logs.ts';
import { DEFAULT_CATALOG_FILE } from '../../local/config/index.ts';
import { startLogsInsightsStandIn, type LogsInsightsStandIn } from '../../local/receivers/logs-insights-standin.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/aws.ts';
import { SpeedClock } from '../support/enrich-fakes.ts';
import { job, T0 } from './deliver-fixtures.ts';
import { enqueue, observedSqsClient, QueueDriver, silentLogger } from './deliver-harness.ts';
import { startDeliverEnv, type DeliverEnv } from './deliver-setup.ts';

const clock = new SpeedClock(T0, 2);
let env: DeliverEnv;
let standIn: LogsInsightsStandIn;

const LOG_GROUP = '/app/checkout';
const ENRICH_CONFIG = JSON.stringify({
  budgetMs: { critical: 1000, medium: 2000 },
  links: [{ text: 'Grafana', url: 'https://grafana.example.com/d/svc?var-service={{labels.service}}&from={{from}}&to={{to}}' }],
  logs: { logGroups: [LOG_GROUP], query: 'fields @timestamp, @message | filter service = {{labels.service}} | filter @message like /ERROR/ | sort @timestamp desc', limit: 5, maxInFlight: 3, pollMs: 250 },
  followUp: { maxAttempts: 5, delaySeconds: 1 },
});

beforeAll(async () => {
  env = await startDeliverEnv();
  standIn = await startLogsInsightsStandIn({
    clock,
    queryMs: 3000,
    lines: (group, from, to) =>
      group === LOG_GROUP
        ? [
            { atMs: Math.max(from, to - 5000), message: 'ERROR POST /api/checkout 502 token=s3cr3t', fields: { service: 'checkout' } },
            { atMs: Math.max(from, to - 9000), message: 'INFO ok', fields: { service: 'checkout' } },
          ]
        : [],
  });
  // Warm the catalog's parse path (YAML, zod) so the first test's 1 s budget (0.5 s of wall time) measures the pipeline, not module warm-up.
  await loadCatalogFile(DEFAULT_CATALOG_FILE);
}, 120_000);
afterAll(async () => {
  await Promise.all([env?.stop(), standIn?.stop()]);
});

const logSource = () => new LogsInsightsSource(new CloudWatchLogsClient({ endpoint: standIn.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));

async function handlers() {
  const { sqs, visibility } = observedSqsClient();
  const common = (channel: 'slack' | 'pagerduty') => ({
    DELIVERY_TABLE: env.p.tables.delivery,
    ALERTS_TABLE: env.p.tables.alerts,
    QUEUE_URL: env.p.queues[channel].url,
    DEAD_LETTER_QUEUE_URL: env.p.queues[channel].dlq!.url,
    PRODUCT_NAME: 'Klaxon',
    ENRICH_CONFIG,
    CATALOG_FILE: DEFAULT_CATALOG_FILE,
  });
  const secrets = new SecretsManagerSecretSource(new SecretsManagerClient({ endpoint: env.secrets.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }), { maxAgeSeconds: 60 });
  const clients = { dynamodb: env.p.dynamodb, sqs, clock, logger: silentLogger(), logSource: logSource(), sleep: clock.sleep };
  const slackDeps = await deliverSlackDepsFromEnv({ ...common('slack'), SLACK_SECRET_NAME: 'klaxon/slack', SLACK_API_URL: env.slack.apiUrl, ENRICH_FOLLOWUP_QUEUE_URL: env.p.queues.enrichFollowUp.url }, { ...clients, secrets });
  const pdDeps = await deliverPagerdutyDepsFromEnv({ ...common('pagerduty'), PAGERDUTY_SECRET_NAME: 'klaxon/pagerduty', PAGERDUTY_EVENTS_URL: env.pagerduty.eventsUrl }, { ...clients, secrets });
  const slack = new QueueDriver(sqs, env.p.queues.slack.url, createChannelHandler(slackDeps), clock, visibility);
  const pagerduty = new QueueDriver(sqs, env.p.queues.pagerduty.url, createChannelHandler(pdDeps), clock, visibility);
  const followUp = createEnrichFollowUpHandler(
    enrichFollowUpDepsFromEnv(
      { DELIVERY_TABLE: env.p.tables.delivery, SLACK_QUEUE_URL: env.p.queues.slack.url, ENRICH_FOLLOWUP_QUEUE_URL: env.p.queues.enrichFollowUp.url, ENRICH_CONFIG, PRODUCT_NAME: 'Klaxon' },
      { dynamodb: env.p.dynamodb, sqs, clock, logger: silentLogger(), logSource: logSource() },
    ),
  );
  /** One delivery of the follow-up queue (a long poll: its messages are delayed 1 s); the fingerprints it followed up. */
  const followUpStep = async (): Promise<string[]> => {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: env.p.queues.enrichFollowUp.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 3, MessageSystemAttributeNames: ['All'] }));
    const msgs = r.Messages ?? [];
    if (!msgs.length) return [];
    const event: SQSEvent = { Records: msgs.map((m) => toSqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:q', LOCAL_REGION)) };
    const out = await followUp(event);
    expect(out.batchItemFailures).toEqual([]);
    for (const m of msgs) await sqs.send(new DeleteMessageCommand({ QueueUrl: env.p.queues.enrichFollowUp.url, ReceiptHandle: m.ReceiptHandle! }));
    // The fingerprints followed up.
    return msgs.map((m) => (JSON.parse(m.Body!) as { job: { transition: { fingerprint: string } } }).job.transition.fingerprint);
  };
  return { slack, pagerduty, followUpStep };
}

/** Messages chat.postMessage stored for a channel (the receiver keys them `channel:ts`). */
const inChannel = (channel: string) => [...env.slack.messages()].filter(([k]) => k.startsWith(`${channel}:`)).map(([, m]) => m);

const item = async (pk: string) => (await DynamoDBDocumentClient.from(env.p.dynamodb).send(new GetCommand({ TableName: env.p.tables.delivery, Key: { pk }, ConsistentRead: true }))).Item;

describe('enrichment through the real channel functions', () => {
  it('critical: owner, runbook and links at once, "logs pending"; one query for both channels; the lines reach the Slack thread later', async () => {
    const h = await handlers();
    const t = { fingerprint: 'enrich-checkout-1', labels: { alertname: 'Checkout errors', service: 'checkout', team: 'payments' } };
    const slackJob = job('slack', { destination: { kind: 'slack', channel: 'C-enrich' }, destinationId: 'slack:bot:C-enrich', t });
    const pdJob = job('pagerduty', { transition: slackJob.transition, idempotencyKey: `${slackJob.transition.transitionId}:default:pagerduty` });
    await enqueue(env.p.sqs, env.p.queues.slack.url, slackJob);
    await enqueue(env.p.sqs, env.p.queues.pagerduty.url, pdJob);
    const startedBefore = standIn.started().length;

    expect(await h.slack.step()).toMatchObject({ received: 1, failed: 0 });
    expect(await h.pagerduty.step()).toMatchObject({ received: 1, failed: 0 });
    // One Logs Insights query for the alert, whichever channel came first; its cache item and slot are real items.
    expect(standIn.started().length - startedBefore).toBe(1);
    const key = logsKey('enrich-checkout-1', slackJob.transition.firedAtMs, 5 * 60_000);
    expect(await item(logsQueryKey(key))).toMatchObject({ queryId: expect.any(String) });

    const posted = inChannel('C-enrich').find((m) => !m.thread_ts)!;
    const text = JSON.stringify(posted);
    expect(text).toContain('Priya Payments');
    expect(text).toContain('@payments-oncall');
    expect(text).toContain('https://grafana.example.com/d/svc?var-service=checkout');
    expect(text).toContain('logs pending');
    const pd = env.pagerduty.received().at(-1)!.json as { payload: { custom_details: Record<string, unknown> }; links: { href: string }[] };
    expect(pd.payload.custom_details).toMatchObject({ owner: 'Priya Payments', team: 'payments' });
    // PagerDuty came second: the query may have ended meanwhile (the clock runs with the wall clock): the lines, or "logs pending".
    const details = pd.payload.custom_details;
    expect(details.enrichment === 'logs pending' || (Array.isArray(details.recent_logs) && String(details.recent_logs).includes('token=***'))).toBe(true);
    expect(pd.links.map((l) => l.href)).toContain('https://runbooks.example.com/checkout-errors');

    // The follow-up: its first look comes after the query ended (3 s of the clock): a note job on the Slack queue.
    clock.advance(3_000);
    expect(await h.followUpStep()).toEqual(['enrich-checkout-1']);
    expect(await item(logsQueryKey(key))).toMatchObject({ result: expect.stringContaining('"ready"') });
    expect(await item(logsSlotKey(0))).toBeUndefined();
    expect(await h.slack.step()).toMatchObject({ received: 1, failed: 0 });
    const reply = inChannel('C-enrich').find((m) => m.thread_ts === posted.ts);
    expect(JSON.stringify(reply)).toContain('ERROR POST /api/checkout 502 token=***');
    expect(JSON.stringify(reply)).not.toContain('INFO ok');
  });

  it('medium within its budget: the lines are in the message itself and no follow-up is scheduled', async () => {
    const h = await handlers();
    // A 2 s budget and a 3 s query: PagerDuty starts it and goes after 2 s with "logs pending"; Slack,
    // next, reuses the query and has it within its own 2 s.
    const t = { fingerprint: 'enrich-checkout-2', severity: 'medium' as const, labels: { alertname: 'Checkout errors', service: 'checkout' } };
    const j = job('slack', { severity: 'medium', destination: { kind: 'slack', channel: 'C-enrich2' }, destinationId: 'slack:bot:C-enrich2', t });
    await enqueue(env.p.sqs, env.p.queues.pagerduty.url, job('pagerduty', { severity: 'medium', transition: j.transition, idempotencyKey: `${j.transition.transitionId}:default:pagerduty` }));
    await enqueue(env.p.sqs, env.p.queues.slack.url, j);
    const startedBefore = standIn.started().length;
    expect(await h.pagerduty.step()).toMatchObject({ received: 1, failed: 0 });
    expect((env.pagerduty.received().at(-1)!.json as { payload: { custom_details: Record<string, unknown> } }).payload.custom_details.enrichment).toBe('logs pending');
    expect(await h.slack.step()).toMatchObject({ received: 1, failed: 0 });
    expect(standIn.started().length - startedBefore).toBe(1);
    const posted = inChannel('C-enrich2')[0]!;
    const text = JSON.stringify(posted);
    expect(text).toContain('Recent error logs');
    expect(text).not.toContain('logs pending');
    expect(await h.followUpStep()).not.toContain('enrich-checkout-2');
  });

  it('past the in-flight ceiling: "logs unavailable: query limit reached" in the message', async () => {
    const h = await handlers();
    const fps = ['storm-a', 'storm-b', 'storm-c', 'storm-d'];
    for (const fp of fps) await enqueue(env.p.sqs, env.p.queues.slack.url, job('slack', { destination: { kind: 'slack', channel: `C-${fp}` }, destinationId: `slack:bot:C-${fp}`, t: { fingerprint: fp, labels: { alertname: 'Storm', service: 'checkout' } } }));
    await h.slack.step();
    const texts = fps.map((fp) => JSON.stringify(inChannel(`C-${fp}`)[0]));
    expect(texts.filter((t) => t.includes('logs unavailable: query limit reached')).length).toBeGreaterThanOrEqual(1);
    // Drain the follow-ups so later suites start clean.
    clock.advance(10_000);
    while ((await h.followUpStep()).length > 0) await h.slack.step();
  });
});
