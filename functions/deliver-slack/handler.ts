/** Lambda entry of deliver-slack (wiring only; see app.ts). */
import { createDeliverSlackHandler, deliverSlackDepsFromEnv } from './app.ts';

/** The slack-queue SQS handler. */
export const handler = createDeliverSlackHandler(await deliverSlackDepsFromEnv(process.env));
