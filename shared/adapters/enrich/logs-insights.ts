/**
 * The log source on CloudWatch Logs Insights: StartQuery over the configured log groups,
 * GetQueryResults, StopQuery (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html).
 * LimitExceededException (too many concurrent queries) and ThrottlingException become
 * {@link LogsThrottledError} ("logs unavailable: throttled"). Each call has its own timeout so a
 * hanging request cannot outlive the notification's budget.
 *
 * In local mode the same adapter talks to the local stand-in for Logs Insights
 * (local/receivers/logs-insights-standin.ts) through `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`.
 */
import { CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand, StopQueryCommand, type ResultField } from '@aws-sdk/client-cloudwatch-logs';
import { LOGS_QUERY_STATUSES, LogsThrottledError, type LogSource, type LogsQuery, type LogsQueryStatus, type LogsResults } from '../../core/enrich/logs.ts';
import type { EnrichmentLogLine } from '../../core/enrich/types.ts';

/** Error names the service uses for "too many queries" and rate limiting. */
const THROTTLED = new Set(['LimitExceededException', 'ThrottlingException', 'TooManyRequestsException']);

/** Per-call timeout (ms): each call is also raced against the budget by the core. */
export const LOGS_CALL_TIMEOUT_MS = 3000;

/**
 * `2026-11-22 05:00:00.000` (Logs Insights' @timestamp, UTC) as epoch ms; undefined when it does
 * not parse.
 */
export function parseInsightsTimestamp(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const ms = Date.parse(`${s.trim().replace(' ', 'T')}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A result row (a list of field/value pairs) as a log line: `@message` and `@timestamp`. */
export function rowToLine(row: readonly ResultField[]): EnrichmentLogLine | undefined {
  const get = (f: string): string | undefined => row.find((x) => x.field === f)?.value;
  const message = get('@message');
  if (message === undefined) return undefined;
  const atMs = parseInsightsTimestamp(get('@timestamp'));
  return { ...(atMs !== undefined ? { atMs } : {}), message };
}

/** {@link LogSource} on Logs Insights. */
export class LogsInsightsSource implements LogSource {
  readonly #client: CloudWatchLogsClient;
  readonly #timeoutMs: number;
  constructor(client: CloudWatchLogsClient = new CloudWatchLogsClient({}), timeoutMs = LOGS_CALL_TIMEOUT_MS) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  async #send<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await run(AbortSignal.timeout(this.#timeoutMs));
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (THROTTLED.has(name)) throw new LogsThrottledError(`${name}: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  start(q: LogsQuery): Promise<string> {
    return this.#send(async (abortSignal) => {
      const r = await this.#client.send(
        new StartQueryCommand({ logGroupNames: [...q.logGroups], queryString: q.queryString, startTime: Math.floor(q.startMs / 1000), endTime: Math.ceil(q.endMs / 1000), limit: q.limit }),
        { abortSignal },
      );
      if (!r.queryId) throw new Error('StartQuery answered without a queryId');
      return r.queryId;
    });
  }

  results(queryId: string): Promise<LogsResults> {
    return this.#send(async (abortSignal) => {
      const r = await this.#client.send(new GetQueryResultsCommand({ queryId }), { abortSignal });
      const status: LogsQueryStatus = (LOGS_QUERY_STATUSES as readonly string[]).includes(r.status ?? '') ? (r.status as LogsQueryStatus) : 'Unknown';
      const lines = (r.results ?? []).map(rowToLine).filter((l): l is EnrichmentLogLine => !!l);
      return { status, lines };
    });
  }

  async stop(queryId: string): Promise<void> {
    await this.#send((abortSignal) => this.#client.send(new StopQueryCommand({ queryId }), { abortSignal }));
  }
}
