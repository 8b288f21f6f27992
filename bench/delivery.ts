/**
 * Delivery benchmark (issue 3), against its own DynamoDB Local, fauxqs, aws-ses-v2-local, local
 * Slack / PagerDuty / Secrets Manager receivers:
 *
 * - notificationsPerSec: per channel, the real channel handler draining a pre-filled queue in
 *   batches of 10 (receive → handler → delete), wall clock from the first receive to the last
 *   delete. Receivers answer at once, so this is the pipeline's own cost (DynamoDB, SQS, rendering).
 * - dynamoRequestsPerNotification: DynamoDB requests (every `send` of the clients, counted by a
 *   middleware) of the whole path, dispatch (functions/dispatch/app.ts, H3) + channel handlers,
 *   divided by notifications delivered. Transitions are an even mix of critical (3 channels),
 *   high (2) and medium (1) with the default routing matrix; dispatch writes the alert history
 *   too (one BatchWriteItem per decision, issue 12); the worst case, a transition routed to one
 *   channel, is (3 + 2) / 1 = 5.
 * - addedLatencyMs: from the transition's emittedAtMs (set when it is put on the alert-events queue)
 *   to the Slack / PagerDuty receiver's 2xx, through dispatch → channel queue → channel handler,
 *   with in-process pollers (short polls, 5 ms apart when a queue is empty). Email is left out of the
 *   latency (aws-ses-v2-local stamps mails with whole seconds).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent, SQSBatchResponse } from 'aws-lambda';
import { createChannelHandler, type ChannelHandler, type ChannelHandlerDeps } from '../shared/adapters/channel/handler.ts';
import { InMemoryDeliveryMetrics } from '../shared/adapters/channel/metrics.ts';
import { SecretsManagerSecretSource } from '../shared/adapters/secrets/index.ts';
import { sesClientConfig } from '../shared/adapters/ses/index.ts';
import { sendAllBatched } from '../shared/adapters/sqs/transition-publisher.ts';
import { sha256Hex } from '../shared/core/dispatch/hash.ts';
import type { AlertTransition, Channel, NotificationJob, Severity } from '../shared/core/model/index.ts';
import { deliverEmailDepsFromEnv } from '../functions/deliver-email/app.ts';
import { deliverPagerdutyDepsFromEnv } from '../functions/deliver-pagerduty/app.ts';
import { deliverSlackDepsFromEnv } from '../functions/deliver-slack/app.ts';
import type { Provisioned } from '../local/provision.ts';
import { SqsPoller } from '../local/runtime/sqs-poller.ts';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const ROUTING_KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';

/** Counts every request a client sends. */
function countSends(client: DynamoDBClient): { total(): number; reset(): void } {
  let n = 0;
  client.middlewareStack.add((next) => async (args) => {
    n += 1;
    return next(args);
  }, { step: 'initialize', name: 'benchCount' });
  return { total: () => n, reset: () => (n = 0) };
}

function transition(severity: Severity, i: number, nowMs: number): AlertTransition {
  const fp = `bench-${severity}-${i}-${randomUUID().slice(0, 8)}`;
  return {
    version: 1,
    transitionId: `tr-${fp}`,
    kind: 'firing',
    fingerprint: fp,
    ruleId: 'bench-rule',
    ruleName: 'Bench latency',
    severity,
    labels: { alertname: 'Bench latency', instance: `host-${i}`, job: 'bench' },
    annotations: { summary: 'p99 above 500 ms' },
    value: 612.5,
    condition: 'p99_over_time(5m) > 500',
    atMs: nowMs,
    activeAtMs: nowMs - 300_000,
    firedAtMs: nowMs,
    runbookUrl: 'https://runbooks.example.com/latency',
    emittedAtMs: nowMs,
  };
}

function job(channel: Channel, i: number, nowMs: number): NotificationJob {
  const t = transition('critical', i, nowMs);
  const destination = channel === 'slack' ? { kind: 'slack' as const, webhookKey: 'default' } : channel === 'email' ? { kind: 'email' as const, to: ['oncall@example.com'] } : { kind: 'pagerduty' as const, routingKeyName: 'default' };
  return { version: 1, idempotencyKey: `${t.transitionId}:default:${channel}`, channel, receiver: 'default', destination, destinationId: `${channel}:bench`, transition: t, severity: 'critical', fireCount: 1 };
}

/** Sends bodies to a FIFO queue in batches of 10 (group = fingerprint), as the publishers do. */
async function sendAll(sqs: SQSClient, queueUrl: string, items: { body: string; group: string; dedup: string }[]): Promise<void> {
  await sendAllBatched(sqs, queueUrl, items.map((it, i) => ({ Id: String(i), MessageBody: it.body, MessageGroupId: it.group, MessageDeduplicationId: sha256Hex(it.dedup) })));
}

/**
 * One poll as Lambda's SQS event source does it (the local runtime's poller: receive up to 10, run
 * the handler, delete the successes). Returns the messages handled.
 */
function pollOnce(sqs: SQSClient, queueUrl: string, handler: (e: SQSEvent) => Promise<SQSBatchResponse>, waitSeconds: number): Promise<number> {
  const poller = new SqsPoller({ sqs, queue: 'bench', queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:bench', batchSize: 10, invoke: handler, region: REGION });
  return poller.pollOnce(waitSeconds);
}

const percentile = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** Runs the delivery benchmark. */
export async function benchDelivery(): Promise<{
  notificationsPerSec: { slack: number; email: number; pagerduty: number };
  dynamoRequestsPerNotification: number;
  addedLatencyMs: { p50: number; p99: number };
}> {
  const savedEnv = { ...process.env };
  // EMF and logs go to stdout, which carries the bench's JSON line: silence them here.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.AWS_REGION ??= REGION;
  const { startDynamoDbLocal } = await import('../local/services/dynamodb-local.ts');
  const { startSqsLocal } = await import('../local/services/sqs-local.ts');
  const { startSesLocal } = await import('../local/services/ses-local.ts');
  const { provision } = await import('../local/provision.ts');
  const { startSlackReceiver } = await import('../local/receivers/slack.ts');
  const { startPagerDutyReceiver } = await import('../local/receivers/pagerduty.ts');
  const { startSecretsManagerLocal } = await import('../local/receivers/secrets-manager.ts');
  const [ddb, sqsLocal, ses, slack, pd] = await Promise.all([startDynamoDbLocal(), startSqsLocal(), startSesLocal(), startSlackReceiver({ rateLimit: false }), startPagerDutyReceiver({ rateLimit: false })]);
  const sm = await startSecretsManagerLocal({ secrets: { 'bench/slack': { webhooks: { default: slack.webhookUrl('default') } }, 'bench/pagerduty': { default: ROUTING_KEY } } });
  const dynamodb = new DynamoDBClient({ endpoint: ddb.endpoint, region: REGION, credentials: CREDENTIALS });
  const sqs = new SQSClient({ endpoint: sqsLocal.endpoint, region: REGION, credentials: CREDENTIALS });
  try {
    const p: Provisioned = await provision({ dynamodb, sqs, prefix: `benchdel${randomUUID().slice(0, 6)}`, ttl: false });
    const counter = countSends(dynamodb);
    const silent = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
    const secrets = new SecretsManagerSecretSource(new SecretsManagerClient({ endpoint: sm.url, region: REGION, credentials: CREDENTIALS }));
    const handlers = {} as Record<Channel, ChannelHandler>;
    for (const channel of ['slack', 'email', 'pagerduty'] as const) {
      const q = p.queues[channel];
      const common = { DELIVERY_TABLE: p.tables.delivery, ALERTS_TABLE: p.tables.alerts, QUEUE_URL: q.url, DEAD_LETTER_QUEUE_URL: q.dlq!.url, PRODUCT_NAME: 'Klaxon' };
      const clients = { dynamodb, sqs, logger: silent };
      const deps =
        channel === 'slack'
          ? await deliverSlackDepsFromEnv({ ...common, SLACK_SECRET_NAME: 'bench/slack', SLACK_API_URL: slack.apiUrl }, { ...clients, secrets })
          : channel === 'pagerduty'
            ? await deliverPagerdutyDepsFromEnv({ ...common, PAGERDUTY_SECRET_NAME: 'bench/pagerduty', PAGERDUTY_EVENTS_URL: pd.eventsUrl }, { ...clients, secrets })
            : await deliverEmailDepsFromEnv({ ...common, SES_SENDER: 'klaxon@example.com' }, { ...clients, ses: new SESClient(sesClientConfig({ endpoint: ses.endpoint, region: REGION, credentials: CREDENTIALS })) });
      handlers[channel] = createChannelHandler({ ...(deps as ChannelHandlerDeps<unknown>), metrics: new InMemoryDeliveryMetrics() });
    }

    // 1. Throughput per channel handler: 200 jobs (warm-up 20 first).
    const notificationsPerSec = {} as Record<Channel, number>;
    for (const channel of ['slack', 'email', 'pagerduty'] as const) {
      const q = p.queues[channel].url;
      const fill = async (n: number) => {
        const now = Date.now();
        await sendAll(sqs, q, Array.from({ length: n }, (_, i) => job(channel, i, now)).map((j) => ({ body: JSON.stringify(j), group: j.transition.fingerprint, dedup: j.idempotencyKey })));
      };
      await fill(20);
      while ((await pollOnce(sqs, q, handlers[channel], 0)) > 0);
      const N = 200;
      await fill(N);
      const t0 = performance.now();
      let done = 0;
      while (done < N) {
        const got = await pollOnce(sqs, q, handlers[channel], 0);
        if (!got) break;
        done += got;
      }
      notificationsPerSec[channel] = done / ((performance.now() - t0) / 1000);
    }

    // 2. The whole path: dispatch (H3) + channel handlers, with in-process pollers.
    const { createDispatchHandler, dispatchDepsFromEnv } = await import('../functions/dispatch/app.ts');
    const { DynamoAlertStore } = await import('../shared/adapters/dynamodb/alert-store.ts');
    const { SqsJobPublisher, SqsDeadLetterSender } = await import('../shared/adapters/sqs/job-publisher.ts');
    const { DynamoSilenceStore } = await import('../shared/adapters/dynamodb/silence-store.ts');
    const { CachedSilences } = await import('../shared/core/dispatch/silence/cache.ts');
    const { DynamoHistoryStore } = await import('../shared/adapters/dynamodb/history-store.ts');
    const { Metrics } = await import('@aws-lambda-powertools/metrics');
    const queueUrls = { slack: p.queues.slack.url, email: p.queues.email.url, pagerduty: p.queues.pagerduty.url, webhook: p.queues.webhook.url };
    const dispatchDeps = await dispatchDepsFromEnv({
      ALERTS_TABLE: p.tables.alerts,
      DELIVERY_TABLE: p.tables.delivery,
      DEAD_LETTER_QUEUE_URL: p.queues.alertEvents.dlq!.url,
      SLACK_QUEUE_URL: queueUrls.slack,
      EMAIL_QUEUE_URL: queueUrls.email,
      PAGERDUTY_QUEUE_URL: queueUrls.pagerduty,
      WEBHOOK_QUEUE_URL: queueUrls.webhook,
      DEFAULT_EMAIL_RECIPIENTS: 'oncall@example.com',
    });
    const dispatch = createDispatchHandler({
      ...dispatchDeps,
      store: new DynamoAlertStore(dynamodb, p.tables.alerts),
      publisher: new SqsJobPublisher(sqs, queueUrls),
      deadLetter: new SqsDeadLetterSender(sqs, p.queues.alertEvents.dlq!.url),
      // Silences as production reads them (a Scan per cache lifetime, 10 s), on the counted client.
      silences: new CachedSilences(new DynamoSilenceStore(dynamodb, p.tables.silences), dispatchDeps.clock),
      // The alert history as production writes it (one BatchWriteItem per decision), on the counted client.
      history: new DynamoHistoryStore({ client: dynamodb, table: p.tables.history }),
      logger: silent,
      metrics: new Metrics({ namespace: 'KlaxonBench', serviceName: 'dispatch' }),
    });

    const severities = ['critical', 'high', 'medium'] as const satisfies readonly Severity[];
    const expected = { critical: 3, high: 2, medium: 1 } as const;
    const TRANSITIONS = 60;
    const slackBefore = slack.received().length;
    const pdBefore = pd.received().length;
    const transitions = Array.from({ length: TRANSITIONS }, (_, i) => severities[i % 3]!).map((s, i) => ({ s, i }));
    const expectedNotifications = transitions.reduce((n, t) => n + expected[t.s], 0);
    const expectedHttp = transitions.reduce((n, t) => n + (t.s === 'medium' ? 1 : t.s === 'high' ? 1 : 2), 0);
    counter.reset();

    let stop = false;
    const loops = [
      [p.queues.alertEvents.url, (e: SQSEvent) => dispatch(e)] as const,
      [queueUrls.slack, handlers.slack] as const,
      [queueUrls.email, handlers.email] as const,
      [queueUrls.pagerduty, handlers.pagerduty] as const,
    ].map(async ([url, h]) => {
      // Short polls with a 5 ms pause: the latency measured is the pipeline's, not the emulator's long-poll wake-up.
      while (!stop) if ((await pollOnce(sqs, url, h, 0)) === 0) await new Promise((r) => setTimeout(r, 5));
    });
    // Put transitions on the alert-events queue one at a time, 100 ms apart (a steady trickle, so the
    // latency is the path's own, not a backlog behind one poller per queue).
    for (const { s, i } of transitions) {
      const t = transition(s, i, Date.now());
      await sendAll(sqs, p.queues.alertEvents.url, [{ body: JSON.stringify(t), group: t.fingerprint, dedup: t.transitionId }]);
      await new Promise((r) => setTimeout(r, 100));
    }
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && slack.received().length - slackBefore + (pd.received().length - pdBefore) < expectedHttp) await new Promise((r) => setTimeout(r, 50));
    // Let the email handler finish its last batch, then stop the pollers.
    await new Promise((r) => setTimeout(r, 1_500));
    stop = true;
    await Promise.all(loops);
    const requests = counter.total();

    const latencies = [...slack.received().slice(slackBefore), ...pd.received().slice(pdBefore)]
      .filter((r) => r.status >= 200 && r.status < 300)
      .map((r) => {
        const text = JSON.stringify(r.json);
        const m = /"timestamp":"([^"]+)"/.exec(text);
        // Slack bodies carry "Started <iso>" (= firedAtMs = emittedAtMs here); PagerDuty carries payload.timestamp (= atMs).
        const iso = m?.[1] ?? /Started\*\\n([0-9T:.\-Z]+)/.exec(text)?.[1];
        return iso ? r.atMs - Date.parse(iso) : NaN;
      })
      .filter((x) => Number.isFinite(x));
    return {
      notificationsPerSec: notificationsPerSec as { slack: number; email: number; pagerduty: number },
      dynamoRequestsPerNotification: requests / expectedNotifications,
      addedLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    await Promise.all([ddb.stop(), sqsLocal.stop(), ses.stop(), slack.stop(), pd.stop(), sm.stop()]);
    for (const k of ['POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_LOG_LEVEL', 'AWS_REGION']) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchDelivery()));
}
