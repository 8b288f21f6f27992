/**
 * deliver-slack: Slack notification jobs from the slack FIFO queue, delivered through an incoming
 * webhook or the bot token (chat.postMessage / chat.update with threads). The SQS loop,
 * idempotency, breaker, retries and DLQ are the shared channel handler
 * (shared/adapters/channel/handler.ts); this file only wires the Slack notifier in.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createChannelHandler, type ChannelHandler, type ChannelHandlerDeps } from '../../shared/adapters/channel/handler.ts';
import { commonChannelDeps, type ChannelClients } from '../../shared/adapters/channel/wiring.ts';
import { DynamoSlackThreadStore } from '../../shared/adapters/dynamodb/notification-store.ts';
import { SecretsManagerSecretSource, type SecretSource } from '../../shared/adapters/secrets/index.ts';
import { createSlackNotifier, type SlackRendered } from '../../shared/adapters/slack/index.ts';
import { slackConfig } from '../../shared/config/channels.ts';

/** The handler's dependencies. */
export type DeliverSlackDeps = ChannelHandlerDeps<SlackRendered>;

/** Builds the deliver-slack handler. */
export function createDeliverSlackHandler(deps: DeliverSlackDeps): ChannelHandler {
  return createChannelHandler(deps);
}

/** Builds the dependencies from the environment (topology's `deliverSlack` entry); clients may be injected. */
export async function deliverSlackDepsFromEnv(env: NodeJS.ProcessEnv, clients: ChannelClients & { secrets?: SecretSource; fetch?: typeof fetch } = {}): Promise<DeliverSlackDeps> {
  const s = slackConfig(env);
  const dynamodb = clients.dynamodb ?? new DynamoDBClient({});
  const common = commonChannelDeps('deliverSlack', s, { ...clients, dynamodb }, { channel: 'slack', env });
  const notifier = createSlackNotifier({
    secrets: clients.secrets ?? new SecretsManagerSecretSource(new SecretsManagerClient({})),
    secretName: s.slackSecretName,
    threads: new DynamoSlackThreadStore(dynamodb, s.alertsTable),
    format: { productName: s.productName, ...(s.dashboardUrl ? { dashboardUrl: s.dashboardUrl } : {}) },
    ...(s.slackApiUrl ? { apiUrl: s.slackApiUrl } : {}),
    ...(clients.fetch ? { fetch: clients.fetch } : {}),
    onWarning: (message, extra) => common.logger.warn(message, extra),
  });
  return { ...common, channel: 'slack', notifier };
}
