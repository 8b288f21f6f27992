/** Lambda entry of deliver-pagerduty (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { createLogger, createMetrics } from '../../shared/adapters/observability/index.ts';
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createDeliverPagerdutyHandler, deliverPagerdutyDepsFromEnv } from './app.ts';

const logger = createLogger('deliverPagerduty');
const metrics = createMetrics('deliverPagerduty');

/** The pagerduty-queue SQS handler. */
export const handler = withPlumbing(createDeliverPagerdutyHandler(await deliverPagerdutyDepsFromEnv(process.env, { logger, metrics })), { logger, metrics });
