/** Lambda entry of deliver-pagerduty (wiring only; see app.ts). */
import { createDeliverPagerdutyHandler, deliverPagerdutyDepsFromEnv } from './app.ts';

/** The pagerduty-queue SQS handler. */
export const handler = createDeliverPagerdutyHandler(await deliverPagerdutyDepsFromEnv(process.env));
