/**
 * deliver-webhook: outgoing webhook jobs from the webhook FIFO queue, POSTed as Alertmanager v4,
 * Klaxon or template JSON and signed with the Standard Webhooks scheme (docs/channels.md,
 * "Webhook"). The SQS loop, idempotency, breaker, retries and DLQ are the shared channel handler
 * (shared/adapters/channel/handler.ts); this file only wires the notifier in.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createChannelHandler, type ChannelHandler, type ChannelHandlerDeps } from '../../shared/adapters/channel/handler.ts';
import { commonChannelDeps, type ChannelClients } from '../../shared/adapters/channel/wiring.ts';
import { SecretsManagerSecretSource, type SecretSource } from '../../shared/adapters/secrets/index.ts';
import { createWebhookNotifier } from '../../shared/adapters/webhook/index.ts';
import type { Resolver } from '../../shared/adapters/webhook/http.ts';
import type { WebhookRendered } from '../../shared/core/format/webhook.ts';
import { webhookConfig } from '../../shared/config/channels.ts';

/** The handler's dependencies. */
export type DeliverWebhookDeps = ChannelHandlerDeps<WebhookRendered>;

/** Builds the deliver-webhook handler. */
export function createDeliverWebhookHandler(deps: DeliverWebhookDeps): ChannelHandler {
  return createChannelHandler(deps);
}

/** Builds the dependencies from the environment (topology's `deliverWebhook` entry); clients may be injected. */
export async function deliverWebhookDepsFromEnv(env: NodeJS.ProcessEnv, clients: ChannelClients & { secrets?: SecretSource; resolve?: Resolver } = {}): Promise<DeliverWebhookDeps> {
  const s = webhookConfig(env);
  const common = commonChannelDeps('deliverWebhook', s, clients, { channel: 'webhook', env });
  const notifier = createWebhookNotifier({
    secrets: clients.secrets ?? new SecretsManagerSecretSource(new SecretsManagerClient({})),
    secretName: s.webhookSecretName,
    format: { externalUrl: s.dashboardUrl ?? '' },
    allowPrivateTargets: s.allowPrivateTargets,
    userAgent: `${s.productName.replace(/[^\x20-\x7e]/g, '')}-Webhooks`,
    ...(clients.resolve ? { resolve: clients.resolve } : {}),
  });
  return { ...common, channel: 'webhook', notifier };
}
