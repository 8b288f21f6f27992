/** Lambda entry of deliver-slack (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { createLogger, createMetrics } from '../../shared/adapters/observability/index.ts';
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createDeliverSlackHandler, deliverSlackDepsFromEnv } from './app.ts';

const logger = createLogger('deliverSlack');
const metrics = createMetrics('deliverSlack');

/** The slack-queue SQS handler. */
export const handler = withPlumbing(createDeliverSlackHandler(await deliverSlackDepsFromEnv(process.env, { logger, metrics })), { logger, metrics });
