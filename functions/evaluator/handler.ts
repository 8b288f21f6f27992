/** Lambda entry of the evaluator (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createEvaluatorHandler, evaluatorDepsFromEnv } from './app.ts';

const deps = await evaluatorDepsFromEnv(process.env);

/** The MSK-triggered handler. */
export const handler = withPlumbing(createEvaluatorHandler(deps), deps);
