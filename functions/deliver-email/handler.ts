/** Lambda entry of deliver-email (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { createLogger, createMetrics } from '../../shared/adapters/observability/index.ts';
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createDeliverEmailHandler, deliverEmailDepsFromEnv } from './app.ts';

const logger = createLogger('deliverEmail');
const metrics = createMetrics('deliverEmail');

/** The email-queue SQS handler. */
export const handler = withPlumbing(createDeliverEmailHandler(await deliverEmailDepsFromEnv(process.env, { logger, metrics })), { logger, metrics });
