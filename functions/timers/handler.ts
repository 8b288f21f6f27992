/** Lambda entry of the timers function (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createTimersHandler, timersDepsFromEnv } from './app.ts';

const deps = await timersDepsFromEnv(process.env);

/** The scheduled handler (each minute). */
export const handler = withPlumbing(createTimersHandler(deps), deps);
