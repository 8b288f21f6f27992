/** Lambda entry of the interactions worker (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createInteractionsWorkerHandler, interactionsWorkerDepsFromEnv } from './app.ts';

const deps = await interactionsWorkerDepsFromEnv(process.env);

/** The SQS handler (interactions queue). */
export const handler = withPlumbing(createInteractionsWorkerHandler(deps), deps);
