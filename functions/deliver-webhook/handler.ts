/** Lambda entry of deliver-webhook (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { createLogger, createMetrics } from '../../shared/adapters/observability/index.ts';
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createDeliverWebhookHandler, deliverWebhookDepsFromEnv } from './app.ts';

const logger = createLogger('deliverWebhook');
const metrics = createMetrics('deliverWebhook');

/** The webhook-queue SQS handler. */
export const handler = withPlumbing(createDeliverWebhookHandler(await deliverWebhookDepsFromEnv(process.env, { logger, metrics })), { logger, metrics });
