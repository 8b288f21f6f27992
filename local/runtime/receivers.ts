/**
 * The local Slack, PagerDuty and webhook receivers and the local Secrets Manager (local/receivers/), started
 * together for local mode, with the few operations local mode needs: the Slack outage switch for
 * the demo, and the example secret values.
 */
import { startSlackReceiver, type ClickRequest } from '../receivers/slack.ts';
import { startPagerDutyReceiver, type WebhookRequest } from '../receivers/pagerduty.ts';
import { startSecretsManagerLocal } from '../receivers/secrets-manager.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../receivers/webhook.ts';
import type { Clock } from '../../shared/core/model/index.ts';
import { LOCAL_PAGERDUTY_WEBHOOK_SECRET, LOCAL_SLACK_SIGNING_SECRET, LOCAL_WEBHOOK_PORT } from '../config/index.ts';

/** The running receivers. */
export interface LocalReceivers {
  readonly slack: {
    readonly url: string;
    readonly apiUrl: string;
    webhookUrl(name: string): string;
    outage(on: boolean): Promise<void>;
    /** Clicks a button of a message it received (signed with the local signing secret; `POST /_click`). */
    click(req: ClickRequest): Promise<{ readonly status: number; readonly body: string }>;
  };
  readonly pagerduty: {
    readonly url: string;
    readonly eventsUrl: string;
    /** Sends a signed v3 webhook for an incident (`POST /_webhook`). */
    sendWebhook(req: WebhookRequest): Promise<{ readonly status: number; readonly body: string }>;
  };
  /** The local webhook receiver (verifies every request's Standard Webhooks signature). */
  readonly webhook: Pick<WebhookReceiver, 'url' | 'port' | 'received' | 'refusals' | 'setSchedule' | 'clear'>;
  /** Points the Slack receiver's clicks and the PagerDuty receiver's webhooks at the interactions endpoint (its base URL). */
  connectInteractions(baseUrl: string): void;
  readonly secretsManager: { readonly url: string; put(name: string, value: string): Promise<void> };
  stop(): Promise<void>;
}

/** Starts the webhook receiver on `port` (0: a free one), or on a free port when that one is taken. */
async function startWebhookOn(port: number, clock: Clock | undefined): Promise<WebhookReceiver> {
  const c = clock ? { clock } : {};
  try {
    return await startWebhookReceiver({ port, ...c });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    return await startWebhookReceiver({ port: 0, ...c });
  }
}

/**
 * Starts the Slack and PagerDuty receivers and the local Secrets Manager on free loopback ports,
 * and the webhook receiver on `webhookPort` (default {@link LOCAL_WEBHOOK_PORT}, the port the demo
 * routes name; a free one when taken). The webhook receiver checks signature timestamps against
 * `clock`: the pipeline's virtual clock, which the functions sign with (it runs faster than the
 * wall clock with --speed).
 */
export async function startReceivers(opts: { readonly webhookPort?: number; readonly clock?: Clock } = {}): Promise<LocalReceivers> {
  const [slack, pagerduty, secrets, webhook] = await Promise.all([startSlackReceiver(), startPagerDutyReceiver(), startSecretsManagerLocal(), startWebhookOn(opts.webhookPort ?? LOCAL_WEBHOOK_PORT, opts.clock)]);
  return {
    slack: {
      url: slack.url,
      apiUrl: slack.apiUrl,
      webhookUrl: (name) => slack.webhookUrl(name),
      // The receiver's failure schedule: every request answers 503 (Slack's `service_unavailable`) until cleared.
      outage: (on) => {
        slack.setSchedule(on ? { failNext: { count: Number.MAX_SAFE_INTEGER, fault: { status: 503 } } } : {});
        return Promise.resolve();
      },
      click: (req) => slack.click(req),
    },
    pagerduty: { url: pagerduty.url, eventsUrl: pagerduty.eventsUrl, sendWebhook: (req) => pagerduty.sendWebhook(req) },
    webhook,
    connectInteractions: (baseUrl) => {
      // The paths of functions/interactions/app.ts INTERACTION_PATHS.
      slack.setInteractions({ url: `${baseUrl}/slack/interactions`, signingSecret: LOCAL_SLACK_SIGNING_SECRET });
      pagerduty.setWebhooks({ url: `${baseUrl}/pagerduty/webhooks`, secret: LOCAL_PAGERDUTY_WEBHOOK_SECRET });
    },
    secretsManager: {
      url: secrets.url,
      // The local Secrets Manager serves GetSecretValue only: values are set in-process.
      put: (name, value) => {
        secrets.setSecret(name, value);
        return Promise.resolve();
      },
    },
    stop: async () => {
      await Promise.all([slack.stop(), pagerduty.stop(), secrets.stop(), webhook.stop()]);
    },
  };
}
