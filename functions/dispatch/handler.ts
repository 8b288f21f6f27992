/** Lambda entry of dispatch (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createDispatchHandler, dispatchDepsFromEnv } from './app.ts';

const deps = await dispatchDepsFromEnv(process.env);

/** The alert-events SQS handler. */
export const handler = withPlumbing(createDispatchHandler(deps), deps);
