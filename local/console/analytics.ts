/**
 * The local console's analytics view (docs/incidents.md, "History and analytics"; docs/local.md):
 * the page at `/analytics`, the report as JSON at `/api/analytics`, and the charting library at
 * `/vendor/chart.js`. The report is `klaxon report`'s (shared/core/history/report.ts) on the local
 * history table, over a period that ends at the pipeline's clock (event time, which `--speed`
 * runs faster than the wall clock), plus the alerts fired per hour and severity for the chart.
 *
 * Charts are drawn by Chart.js (https://www.chartjs.org/, MIT), served from node_modules when the
 * package is installed; without it the page shows the same figures as tables.
 */
import type { ServerResponse } from 'node:http';
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoHistoryStore, HistoryQueryError } from '../../shared/adapters/dynamodb/history-store.ts';
import { PermanentError } from '../../shared/core/errors/index.ts';
import { parseDuration } from '../../shared/core/dispatch/duration.ts';
import { firedOverTime, loadReport, type FiredOverTime, type HistoryReport } from '../../shared/core/history/report.ts';
import type { HistoryStore } from '../../shared/core/history/types.ts';
import type { Clock } from '../../shared/core/model/index.ts';

const PAGE_FILE = join(dirname(fileURLToPath(import.meta.url)), 'static', 'analytics.html');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The longest period the view reports on: 180 days (with the period before, 360 days: within the store's 400-day bound). */
export const MAX_PERIOD_MS = 180 * DAY;
/** Periods up to this long are charted per hour, longer ones per day (at most 180 bars). */
const HOURLY_UP_TO_MS = 14 * DAY;
/** The longest rule id or team accepted as a filter (they are label values; this bounds the query, not the data). */
const MAX_FILTER_CHARS = 256;

/** What `/api/analytics` answers. */
export interface AnalyticsView {
  readonly report: HistoryReport;
  readonly overTime: FiredOverTime;
  /** Whether `/vendor/chart.js` serves the charting library (else the page draws tables only). */
  readonly charts: boolean;
}

/** A request the view refuses (a 400 naming the parameter). */
export class InvalidAnalyticsRequestError extends PermanentError {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`${param}: ${message}`);
  }
}

/** The console's analytics: the report of the period ending now on the pipeline's clock. */
export interface ConsoleAnalytics {
  /** `params`: `since` (a duration, default 24h), optional `rule` and `team`. Throws {@link InvalidAnalyticsRequestError}. */
  view(params: URLSearchParams): Promise<AnalyticsView>;
}

/**
 * Where Chart.js's UMD bundle is in node_modules, if installed: `dist/chart.umd.min.js` (4.5) or
 * `dist/chart.umd.js` (4.0-4.4), beside the package's main file.
 */
export async function chartLibraryFile(): Promise<string | undefined> {
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve('chart.js');
  } catch {
    return undefined;
  }
  for (const name of ['chart.umd.min.js', 'chart.umd.js']) {
    const file = join(dirname(main), name);
    try {
      await access(file);
      return file;
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/** The analytics of a history store on a clock (`charts`: whether the library is there). */
export function analyticsOf(store: HistoryStore, clock: Clock, charts: boolean): ConsoleAnalytics {
  return {
    async view(params) {
      const since = params.get('since') ?? '24h';
      const span = parseDuration(since);
      if (span === undefined || span <= 0) throw new InvalidAnalyticsRequestError('since', `expected a duration such as 24h or 7d, got ${JSON.stringify(since.slice(0, 40))}`);
      if (span > MAX_PERIOD_MS) throw new InvalidAnalyticsRequestError('since', `at most ${MAX_PERIOD_MS / DAY}d`);
      const filter = (name: string): string | undefined => {
        const v = params.get(name);
        if (v === null || v === '') return undefined;
        if (v.length > MAX_FILTER_CHARS) throw new InvalidAnalyticsRequestError(name, `at most ${MAX_FILTER_CHARS} characters`);
        return v;
      };
      const ruleId = filter('rule');
      const team = filter('team');
      const toMs = Math.floor(clock.now());
      const period = { fromMs: toMs - span, toMs };
      const { report, events } = await loadReport(store, { ...period, ...(ruleId !== undefined ? { ruleId } : {}), ...(team !== undefined ? { team } : {}) });
      // Buckets aligned on the hour (or day) so that the bars read as clock hours.
      const bucketMs = span <= HOURLY_UP_TO_MS ? HOUR : DAY;
      const alignedFrom = period.fromMs - (period.fromMs % bucketMs);
      return { report, overTime: firedOverTime(events, { fromMs: alignedFrom, toMs }, bucketMs), charts };
    },
  };
}

/** The console's analytics on the local history table. */
export async function consoleAnalytics(dynamodb: DynamoDBClient, historyTable: string, clock: Clock): Promise<ConsoleAnalytics> {
  return analyticsOf(new DynamoHistoryStore({ client: dynamodb, table: historyTable }), clock, (await chartLibraryFile()) !== undefined);
}

const json = (res: ServerResponse, status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));

/**
 * Answers the analytics routes (GET): `/analytics`, `/api/analytics`, `/vendor/chart.js`. Returns
 * false for any other path, for the caller to answer.
 */
export async function handleAnalyticsGet(path: string, url: URL, res: ServerResponse, analytics: ConsoleAnalytics | undefined): Promise<boolean> {
  if (path === '/analytics') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(await readFile(PAGE_FILE));
    return true;
  }
  if (path === '/api/analytics') {
    if (!analytics) {
      json(res, 404, { error: 'no history table in this console' });
      return true;
    }
    try {
      json(res, 200, await analytics.view(url.searchParams));
    } catch (err) {
      if (err instanceof InvalidAnalyticsRequestError) json(res, 400, { error: err.message, param: err.param });
      else if (err instanceof HistoryQueryError) json(res, 400, { error: err.message });
      else throw err;
    }
    return true;
  }
  if (path === '/vendor/chart.js') {
    // A fixed file, never a path from the request.
    const file = await chartLibraryFile();
    if (!file) res.writeHead(404, { 'content-type': 'text/plain' }).end('chart.js is not installed (npm install chart.js): the analytics view shows tables');
    else res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' }).end(await readFile(file));
    return true;
  }
  return false;
}
