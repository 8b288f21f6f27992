/**
 * The demo's application logs, for the local stand-in for Logs Insights
 * (local/receivers/logs-insights-standin.ts): while the demo's checkout error rate is high
 * (local/demo/scenario.ts), checkout writes ERROR lines every scrape; otherwise an INFO line. Derived
 * from the scenario's time, not stored, so any time range can be answered.
 */
import { CYCLE_MS, SCRAPE_MS } from './scenario.ts';
import type { StandInLogLine } from '../receivers/logs-insights-standin.ts';
import { LOCAL_LOG_GROUP } from '../config/index.ts';

const ERRORS = [
  'ERROR POST /api/checkout 502: payment gateway timeout after 3000 ms (order {n})',
  'ERROR POST /api/checkout 500: inventory reservation failed: connection reset by peer (order {n})',
  'ERROR payment declined by upstream: card_processor_unavailable (order {n})',
] as const;

/** The lines of `logGroup` between `startMs` and `endMs`, for a demo that started at `demoStartMs`. */
export function demoLogLines(logGroup: string, startMs: number, endMs: number, demoStartMs: number): StandInLogLine[] {
  if (logGroup !== LOCAL_LOG_GROUP) return [];
  const out: StandInLogLine[] = [];
  const first = Math.ceil((startMs - demoStartMs) / SCRAPE_MS);
  const last = Math.floor((endMs - demoStartMs) / SCRAPE_MS);
  // A bounded range: at most the lookback of a query (minutes), never the whole demo. A range may
  // start before the demo did (negative steps): the index below stays in range for them.
  for (let step = Math.max(first, last - 360); step <= last; step++) {
    const atMs = demoStartMs + step * SCRAPE_MS;
    const t = (((atMs - demoStartMs) % CYCLE_MS) + CYCLE_MS) % CYCLE_MS;
    const errorHigh = Math.floor(t / 30_000) % 2 === 1;
    if (errorHigh) out.push({ atMs, message: ERRORS[((step % ERRORS.length) + ERRORS.length) % ERRORS.length]!.replace('{n}', String(10_000 + step)), fields: { service: 'checkout' } });
    else out.push({ atMs, message: 'INFO POST /api/checkout 200', fields: { service: 'checkout' } });
  }
  return out;
}
