/** Lambda entry of the interactions endpoint (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createInteractionsHandler, interactionsDepsFromEnv } from './app.ts';

const deps = interactionsDepsFromEnv(process.env);

/** The Function URL handler. */
export const handler = withPlumbing(createInteractionsHandler(deps), deps);
