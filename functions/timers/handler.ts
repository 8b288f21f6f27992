/** Lambda entry of the timers function (wiring only; see app.ts). */
import { createTimersHandler, timersDepsFromEnv } from './app.ts';

/** The scheduled handler (each minute). */
export const handler = createTimersHandler(await timersDepsFromEnv(process.env));
