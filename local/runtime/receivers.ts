/**
 * The local Slack and PagerDuty receivers and the local Secrets Manager (local/receivers/), started
 * together for local mode, with the few operations local mode needs: the Slack outage switch for
 * the demo, and the example secret values.
 */
import { startSlackReceiver } from '../receivers/slack.ts';
import { startPagerDutyReceiver } from '../receivers/pagerduty.ts';
import { startSecretsManagerLocal } from '../receivers/secrets-manager.ts';

/** The running receivers. */
export interface LocalReceivers {
  readonly slack: { readonly url: string; readonly apiUrl: string; webhookUrl(name: string): string; outage(on: boolean): Promise<void> };
  readonly pagerduty: { readonly url: string; readonly eventsUrl: string };
  readonly secretsManager: { readonly url: string; put(name: string, value: string): Promise<void> };
  stop(): Promise<void>;
}

/** Starts the Slack and PagerDuty receivers and the local Secrets Manager on free loopback ports. */
export async function startReceivers(): Promise<LocalReceivers> {
  const [slack, pagerduty, secrets] = await Promise.all([startSlackReceiver(), startPagerDutyReceiver(), startSecretsManagerLocal()]);
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
    },
    pagerduty: { url: pagerduty.url, eventsUrl: pagerduty.eventsUrl },
    secretsManager: {
      url: secrets.url,
      // The local Secrets Manager serves GetSecretValue only: values are set in-process.
      put: (name, value) => {
        secrets.setSecret(name, value);
        return Promise.resolve();
      },
    },
    stop: async () => {
      await Promise.all([slack.stop(), pagerduty.stop(), secrets.stop()]);
    },
  };
}
