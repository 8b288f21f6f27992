/**
 * The LOCAL STAND-IN FOR CLOUDWATCH LOGS INSIGHTS. Nothing emulates Logs Insights locally (no
 * emulator installed here implements StartQuery), so this ~150-line server answers the three
 * operations the enrichment uses, speaking the real JSON 1.1 protocol (`POST /`, `X-Amz-Target:
 * Logs_20140328.StartQuery | GetQueryResults | StopQuery`), so the real
 * `@aws-sdk/client-cloudwatch-logs` and Klaxon's adapter (shared/adapters/enrich/logs-insights.ts)
 * run unchanged against it (`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=<url>`).
 *
 * It behaves like the service where the enrichment depends on it: a query answers `Running` until
 * `queryMs` has passed on the given clock, then `Complete` with its rows; at most
 * `maxConcurrent` queries run at once (more: LimitExceededException, as the account's quota of 30).
 * It does NOT run Logs Insights QL: it understands `filter <field> = "<value>"` clauses and
 * `@message like /<text>/` (a case-sensitive substring), `limit N`, and returns the newest lines of
 * the named log groups in the time range. Lines come from `lines(logGroup, startMs, endMs)`:
 * the demo derives them from its scenario (local/demo/logs.ts).
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/core/model/index.ts';
import { listenOnLoopback } from '../runtime/listen.ts';

/** A log line the stand-in can return. */
export interface StandInLogLine {
  readonly atMs: number;
  readonly message: string;
  /** Fields a `filter x = "v"` clause tests (e.g. `service`). */
  readonly fields: Readonly<Record<string, string>>;
}

/** Options. */
export interface LogsInsightsStandInOptions {
  readonly clock: Clock;
  readonly lines: (logGroup: string, startMs: number, endMs: number) => readonly StandInLogLine[];
  /** How long a query runs (clock ms; default 3000). */
  readonly queryMs?: number;
  /** Concurrent queries allowed (default 30, the account quota). */
  readonly maxConcurrent?: number;
  readonly port?: number;
}

/** The running stand-in. */
export interface LogsInsightsStandIn {
  readonly url: string;
  /** Queries started (for tests and the console). */
  started(): readonly { readonly queryId: string; readonly queryString: string; readonly logGroups: readonly string[] }[];
  stop(): Promise<void>;
}

interface Query {
  readonly queryId: string;
  readonly queryString: string;
  readonly logGroups: readonly string[];
  readonly startMs: number;
  readonly endMs: number;
  readonly limit: number;
  readonly readyAtMs: number;
  status: 'Running' | 'Complete' | 'Cancelled';
}

const FILTER_EQ = /filter\s+([A-Za-z_@][A-Za-z0-9_.]{0,63})\s*=\s*"([^"\\]{0,200})"/g;
const LIKE = /@message\s+like\s+\/([^/]{1,100})\//;

/** Rows as GetQueryResults returns them. */
function rowsOf(q: Query, lines: LogsInsightsStandInOptions['lines']): { field: string; value: string }[][] {
  const eq = [...q.queryString.matchAll(FILTER_EQ)].map((m) => [m[1]!, m[2]!] as const);
  const like = LIKE.exec(q.queryString)?.[1];
  const limit = Number(/\|\s*limit\s+(\d+)/.exec(q.queryString)?.[1] ?? q.limit) || 1000;
  return q.logGroups
    .flatMap((g) => lines(g, q.startMs, q.endMs))
    .filter((l) => l.atMs >= q.startMs && l.atMs <= q.endMs && eq.every(([f, v]) => l.fields[f] === v) && (!like || l.message.includes(like)))
    .sort((a, b) => b.atMs - a.atMs)
    .slice(0, limit)
    .map((l) => [
      { field: '@timestamp', value: new Date(l.atMs).toISOString().replace('T', ' ').replace('Z', '') },
      { field: '@message', value: l.message },
    ]);
}

/** Starts the stand-in on 127.0.0.1. */
export async function startLogsInsightsStandIn(opts: LogsInsightsStandInOptions): Promise<LogsInsightsStandIn> {
  const queries = new Map<string, Query>();
  const queryMs = opts.queryMs ?? 3000;
  const maxConcurrent = opts.maxConcurrent ?? 30;
  const refresh = (): void => {
    for (const q of queries.values()) if (q.status === 'Running' && opts.clock.now() >= q.readyAtMs) q.status = 'Complete';
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1_000_000) chunks.push(c);
    });
    req.on('end', () => {
      const reply = (status: number, body: unknown, errorType?: string): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(JSON.stringify(body));
      };
      const fail = (type: string, message: string): void => reply(400, { __type: type, message }, type);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return fail('SerializationException', 'body is not JSON');
      }
      refresh();
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target === 'Logs_20140328.StartQuery') {
        const logGroups = Array.isArray(input.logGroupNames) ? input.logGroupNames.map(String) : [];
        if (!logGroups.length || typeof input.queryString !== 'string') return fail('InvalidParameterException', 'logGroupNames and queryString are required');
        if ([...queries.values()].filter((q) => q.status === 'Running').length >= maxConcurrent) return fail('LimitExceededException', 'Account maximum query concurrency limit of [30] reached.');
        const queryId = randomUUID();
        queries.set(queryId, {
          queryId,
          queryString: input.queryString,
          logGroups,
          startMs: Number(input.startTime) * 1000,
          endMs: Number(input.endTime) * 1000,
          limit: Number(input.limit) || 1000,
          readyAtMs: opts.clock.now() + queryMs,
          status: 'Running',
        });
        return reply(200, { queryId });
      }
      const q = typeof input.queryId === 'string' ? queries.get(input.queryId) : undefined;
      if (target === 'Logs_20140328.GetQueryResults') {
        if (!q) return fail('ResourceNotFoundException', 'Query does not exist.');
        let results: { field: string; value: string }[][] = [];
        try {
          if (q.status === 'Complete') results = rowsOf(q, opts.lines);
        } catch (err) {
          // A bug in the lines source answers as Logs Insights' own failures do, never a crash of the process.
          return reply(500, { __type: 'ServiceUnavailableException', message: `local stand-in for Logs Insights: ${err instanceof Error ? err.message : String(err)}` }, 'ServiceUnavailableException');
        }
        return reply(200, { status: q.status, results, statistics: { recordsMatched: 0, recordsScanned: 0, bytesScanned: 0 } });
      }
      if (target === 'Logs_20140328.StopQuery') {
        if (!q) return fail('ResourceNotFoundException', 'Query does not exist.');
        const success = q.status === 'Running';
        if (success) q.status = 'Cancelled';
        return reply(200, { success });
      }
      return fail('UnknownOperationException', `operation ${target || '(none)'} is not supported by the local stand-in for Logs Insights`);
    });
  });
  const { url, stop } = await listenOnLoopback(server, opts.port);
  return { url, started: () => [...queries.values()].map(({ queryId, queryString, logGroups }) => ({ queryId, queryString, logGroups })), stop };
}
