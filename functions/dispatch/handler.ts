/** Lambda entry of dispatch (wiring only; see app.ts). */
import { createDispatchHandler, dispatchDepsFromEnv } from './app.ts';

/** The alert-events SQS handler. */
export const handler = createDispatchHandler(await dispatchDepsFromEnv(process.env));
