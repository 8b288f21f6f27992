/**
 * deliver-pagerduty: PagerDuty notification jobs from the pagerduty FIFO queue, sent as Events API
 * v2 trigger/resolve events. The SQS loop, idempotency, breaker, retries and DLQ are the shared
 * channel handler (shared/adapters/channel/handler.ts); this file only wires the notifier in.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createChannelHandler, type ChannelHandler, type ChannelHandlerDeps } from '../../shared/adapters/channel/handler.ts';
import { commonChannelDeps, type ChannelClients } from '../../shared/adapters/channel/wiring.ts';
import { createPagerDutyNotifier } from '../../shared/adapters/pagerduty/index.ts';
import { SecretsManagerSecretSource, type SecretSource } from '../../shared/adapters/secrets/index.ts';
import type { PagerDutyEvent } from '../../shared/core/format/pagerduty.ts';
import { pagerDutyConfig } from '../../shared/config/channels.ts';

/** The handler's dependencies. */
export type DeliverPagerdutyDeps = ChannelHandlerDeps<PagerDutyEvent>;

/** Builds the deliver-pagerduty handler. */
export function createDeliverPagerdutyHandler(deps: DeliverPagerdutyDeps): ChannelHandler {
  return createChannelHandler(deps);
}

/** Builds the dependencies from the environment (topology's `deliverPagerduty` entry); clients may be injected. */
export async function deliverPagerdutyDepsFromEnv(env: NodeJS.ProcessEnv, clients: ChannelClients & { secrets?: SecretSource; fetch?: typeof fetch } = {}): Promise<DeliverPagerdutyDeps> {
  const s = pagerDutyConfig(env);
  const common = commonChannelDeps('deliverPagerduty', s, clients, { channel: 'pagerduty', env });
  const notifier = createPagerDutyNotifier({
    secrets: clients.secrets ?? new SecretsManagerSecretSource(new SecretsManagerClient({})),
    secretName: s.pagerDutySecretName,
    format: { productName: s.productName, ...(s.dashboardUrl ? { dashboardUrl: s.dashboardUrl } : {}) },
    ...(s.eventsUrl ? { eventsUrl: s.eventsUrl } : {}),
    ...(clients.fetch ? { fetch: clients.fetch } : {}),
  });
  return { ...common, channel: 'pagerduty', notifier };
}
