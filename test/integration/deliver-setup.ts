/**
 * One delivery test environment: a fresh copy of the topology in DynamoDB Local and fauxqs, the
 * local Slack, PagerDuty, Secrets Manager, SES (aws-ses-v2-local) and SES-fault receivers, and
 * factories for the three real channel handlers wired by their `<channel>DepsFromEnv`.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { deliverEmailDepsFromEnv } from '../../functions/deliver-email/app.ts';
import { deliverPagerdutyDepsFromEnv } from '../../functions/deliver-pagerduty/app.ts';
import { deliverSlackDepsFromEnv } from '../../functions/deliver-slack/app.ts';
import { createChannelHandler, type ChannelHandler } from '../../shared/adapters/channel/handler.ts';
import { InMemoryDeliveryMetrics } from '../../shared/adapters/channel/metrics.ts';
import { SecretsManagerSecretSource } from '../../shared/adapters/secrets/index.ts';
import { sesClientConfig } from '../../shared/adapters/ses/index.ts';
import type { Notifier } from '../../shared/core/deliver/notifier.ts';
import type { Channel } from '../../shared/core/model/index.ts';
import { startPagerDutyReceiver, type PagerDutyReceiver } from '../../local/receivers/pagerduty.ts';
import { startSecretsManagerLocal, type SecretsManagerLocal } from '../../local/receivers/secrets-manager.ts';
import { startSesFaultReceiver } from '../../local/receivers/ses-faults.ts';
import type { Receiver } from '../../local/receivers/http-receiver.ts';
import { LOCAL_SLACK_BOT_TOKEN, startSlackReceiver, type SlackReceiver } from '../../local/receivers/slack.ts';
import { startSesLocal, type SesLocal } from '../../local/services/ses-local.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionFresh } from '../support/aws.ts';
import { observedSqsClient, QueueDriver, silentLogger } from './deliver-harness.ts';
import type { TestClock } from './deliver-fixtures.ts';

/** A 32-character PagerDuty routing key (the local receiver checks the length as PagerDuty does). */
export const ROUTING_KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';

/** The environment. */
export interface DeliverEnv {
  readonly p: Awaited<ReturnType<typeof provisionFresh>>;
  readonly slack: SlackReceiver;
  readonly pagerduty: PagerDutyReceiver;
  readonly secrets: SecretsManagerLocal;
  readonly ses: SesLocal;
  readonly sesFaults: Receiver;
  stop(): Promise<void>;
}

/** Starts everything (once per suite). */
export async function startDeliverEnv(opts: { clock?: TestClock } = {}): Promise<DeliverEnv> {
  const clockOpt = opts.clock ? { clock: opts.clock } : {};
  const [p, slack, pagerduty, ses, sesFaults] = await Promise.all([
    provisionFresh(),
    // These suites test Klaxon's delivery decisions; the services' posting limits have their own
    // tests (receivers.test.ts) and are on in local mode.
    startSlackReceiver({ ...clockOpt, brokenWebhooks: { gone: 'no_service' }, rateLimit: false }),
    startPagerDutyReceiver({ ...clockOpt, rateLimit: false }),
    startSesLocal(),
    startSesFaultReceiver({ alwaysFail: { code: 'MessageRejected' } }),
  ]);
  const secrets = await startSecretsManagerLocal({
    secrets: {
      'klaxon/slack': { botToken: LOCAL_SLACK_BOT_TOKEN, webhooks: { ops: slack.webhookUrl('ops'), gone: slack.webhookUrl('gone') } },
      'klaxon/pagerduty': { ops: ROUTING_KEY, broken: 'too-short' },
    },
  });
  return {
    p,
    slack,
    pagerduty,
    secrets,
    ses,
    sesFaults,
    stop: async () => {
      await Promise.all([slack.stop(), pagerduty.stop(), secrets.stop(), ses.stop(), sesFaults.stop()]);
    },
  };
}

/** A channel handler under test with its queue driver and metrics. */
export interface HandlerUnderTest {
  readonly handler: ChannelHandler;
  readonly driver: QueueDriver;
  readonly metrics: InMemoryDeliveryMetrics;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/** Builds a real channel handler (through its DepsFromEnv) on the environment. */
export async function channelHandler(
  env: DeliverEnv,
  channel: Channel,
  clock: TestClock,
  opts: {
    sesEndpoint?: string;
    breakerConfig?: object;
    batchBudgetMs?: number;
    /** Elapsed time the batch budget is measured with (default: the wall clock). */
    stopwatch?: () => number;
    /** Wraps the real notifier (e.g. a stand-in whose render throws for chosen jobs). */
    wrapNotifier?: (n: Notifier<unknown>) => Notifier<unknown>;
  } = {},
): Promise<HandlerUnderTest> {
  const q = env.p.queues[channel];
  const { sqs, visibility } = observedSqsClient();
  const common = {
    DELIVERY_TABLE: env.p.tables.delivery,
    ALERTS_TABLE: env.p.tables.alerts,
    QUEUE_URL: q.url,
    DEAD_LETTER_QUEUE_URL: q.dlq!.url,
    PRODUCT_NAME: 'Klaxon',
    DASHBOARD_URL: 'https://grafana.example.com/home',
    ...(opts.breakerConfig ? { BREAKER_CONFIG: JSON.stringify(opts.breakerConfig) } : {}),
  };
  const secrets = new SecretsManagerSecretSource(new SecretsManagerClient({ endpoint: env.secrets.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }), { maxAgeSeconds: 60 });
  const clients = { dynamodb: env.p.dynamodb, sqs, clock, logger: silentLogger() };
  const deps =
    channel === 'slack'
      ? await deliverSlackDepsFromEnv({ ...common, SLACK_SECRET_NAME: 'klaxon/slack', SLACK_API_URL: env.slack.apiUrl }, { ...clients, secrets })
      : channel === 'pagerduty'
        ? await deliverPagerdutyDepsFromEnv({ ...common, PAGERDUTY_SECRET_NAME: 'klaxon/pagerduty', PAGERDUTY_EVENTS_URL: env.pagerduty.eventsUrl }, { ...clients, secrets })
        : await deliverEmailDepsFromEnv(
            { ...common, SES_SENDER: 'klaxon@example.com' },
            { ...clients, ses: new SESClient(sesClientConfig({ endpoint: opts.sesEndpoint ?? env.ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS })) },
          );
  const metrics = new InMemoryDeliveryMetrics();
  const real = deps as Parameters<typeof createChannelHandler>[0];
  const handler = createChannelHandler({
    ...real,
    metrics,
    ...(opts.batchBudgetMs !== undefined ? { batchBudgetMs: opts.batchBudgetMs } : {}),
    ...(opts.stopwatch ? { stopwatch: opts.stopwatch } : {}),
    ...(opts.wrapNotifier ? { notifier: opts.wrapNotifier(real.notifier) } : {}),
  });
  return { handler, driver: new QueueDriver(sqs, q.url, handler, clock, visibility), metrics, queueUrl: q.url, dlqUrl: q.dlq!.url };
}
