/** Lambda entry of deliver-email (wiring only; see app.ts). */
import { createDeliverEmailHandler, deliverEmailDepsFromEnv } from './app.ts';

/** The email-queue SQS handler. */
export const handler = createDeliverEmailHandler(await deliverEmailDepsFromEnv(process.env));
