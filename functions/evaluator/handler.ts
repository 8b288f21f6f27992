/** Lambda entry of the evaluator (wiring only; see app.ts). */
import { createEvaluatorHandler, evaluatorDepsFromEnv } from './app.ts';

/** The MSK-triggered handler. */
export const handler = createEvaluatorHandler(await evaluatorDepsFromEnv(process.env));
