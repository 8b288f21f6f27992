/**
 * deliver-email: email notification jobs from the email FIFO queue, sent with SES v1 SendEmail
 * (HTML + text). The SQS loop, idempotency, breaker, retries and DLQ are the shared channel handler
 * (shared/adapters/channel/handler.ts); this file only wires the SES notifier in. The SES client
 * makes one attempt per send so that the breaker sees every failure.
 */
import { SESClient } from '@aws-sdk/client-ses';
import { createChannelHandler, type ChannelHandler, type ChannelHandlerDeps } from '../../shared/adapters/channel/handler.ts';
import { commonChannelDeps, type ChannelClients } from '../../shared/adapters/channel/wiring.ts';
import { createSesNotifier, sesClientConfig } from '../../shared/adapters/ses/index.ts';
import type { RenderedEmail } from '../../shared/core/format/email.ts';
import { emailConfig } from '../../shared/config/channels.ts';

/** The handler's dependencies. */
export type DeliverEmailDeps = ChannelHandlerDeps<RenderedEmail>;

/** Builds the deliver-email handler. */
export function createDeliverEmailHandler(deps: DeliverEmailDeps): ChannelHandler {
  return createChannelHandler(deps);
}

/** Builds the dependencies from the environment (topology's `deliverEmail` entry); clients may be injected. */
export async function deliverEmailDepsFromEnv(env: NodeJS.ProcessEnv, clients: ChannelClients & { ses?: SESClient } = {}): Promise<DeliverEmailDeps> {
  const s = emailConfig(env);
  const common = commonChannelDeps('deliverEmail', s, clients, { channel: 'email', env });
  const notifier = createSesNotifier({
    ses: clients.ses ?? new SESClient(sesClientConfig()),
    sender: s.sender,
    ...(s.configurationSet ? { configurationSet: s.configurationSet } : {}),
    format: { productName: s.productName, colours: s.colours, ...(s.dashboardUrl ? { dashboardUrl: s.dashboardUrl } : {}) },
  });
  return { ...common, channel: 'email', notifier };
}
