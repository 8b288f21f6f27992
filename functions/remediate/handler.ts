/** Lambda entry of the remediate function (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createRemediateHandler, remediateDepsFromEnv } from './app.ts';

const deps = remediateDepsFromEnv(process.env);

/** The SQS handler (remediation queue). */
export const handler = withPlumbing(createRemediateHandler(deps), deps);
