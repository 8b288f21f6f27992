/** Lambda entry of enrich-followup (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { createLogger, createMetrics } from '../../shared/adapters/observability/index.ts';
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createEnrichFollowUpHandler, enrichFollowUpDepsFromEnv } from './app.ts';

const logger = createLogger('enrichFollowUp');
const metrics = createMetrics('enrichFollowUp');

/** The enrich-followup SQS handler. */
export const handler = withPlumbing(createEnrichFollowUpHandler(enrichFollowUpDepsFromEnv(process.env, { logger, metrics })), { logger, metrics });
