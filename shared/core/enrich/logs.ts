/**
 * Recent error log lines from CloudWatch Logs Insights (docs/enrichment.md, "Logs"), as a pure
 * procedure over ports: the query built from a template with label values quoted safely, one query
 * per (alert, time bucket) shared by every channel and every alert of a storm through a cache in the
 * delivery table, our own ceiling of queries in flight (slots, a share of the account's 30
 * concurrent queries, https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html),
 * and polling within the notification's time budget. What is not ready within the budget is
 * `pending`: the Slack follow-up (./follow-up.ts) adds it to the thread later.
 */
import { REDACTED, redactSecrets } from '../deliver/redact.ts';
import { TransientError } from '../errors/index.ts';
import { singleLine, truncate } from '../format/escape.ts';
import type { Clock, Labels } from '../model/index.ts';
import type { EnrichFailureReason, EnrichmentLogLine, LogsEnrichment } from './types.ts';

/**
 * Bounds: at most 20 lines of at most 500 characters each (a Slack section holds 3,000 characters,
 * https://docs.slack.dev/reference/block-kit/blocks/section-block; a PagerDuty event 512 KB,
 * https://developer.pagerduty.com/docs/events-api-v2-overview#api-limits), at most 50 log groups per
 * query (StartQuery's `logGroupNames` limit,
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html), a
 * quoted label value at most 200 characters.
 */
export const LOGS_BOUNDS = { lines: 20, lineChars: 500, logGroups: 50, valueChars: 200, queryChars: 4000 } as const;

/** Settings of the logs part (the deployment's `enrichment.logs`). */
export interface LogsConfig {
  readonly logGroups: readonly string[];
  /**
   * The query without `limit`: Logs Insights QL with `{{labels.<name>}}` placeholders, each
   * replaced by a double-quoted string literal of the label's value ({@link quoteLogsValue}).
   */
  readonly query: string;
  /** Lines asked for (`| limit N` is appended), 1..{@link LOGS_BOUNDS.lines}. */
  readonly limit: number;
  /** How far before the alert's start the query looks. */
  readonly lookbackMs: number;
  /** Alerts of one fingerprint that start within one bucket share one query. */
  readonly bucketMs: number;
  /** Our ceiling of queries in flight (the account allows 30, shared with dashboards and people). */
  readonly maxInFlight: number;
  /** How often a running query is polled within the budget. */
  readonly pollMs: number;
  /** How long a slot is held at most (a query nobody polls to the end frees its slot then). */
  readonly slotLeaseMs: number;
}

/** One Logs Insights query. */
export interface LogsQuery {
  readonly logGroups: readonly string[];
  readonly queryString: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly limit: number;
}

/** Statuses of GetQueryResults (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html). */
export const LOGS_QUERY_STATUSES = ['Scheduled', 'Running', 'Complete', 'Failed', 'Cancelled', 'Timeout', 'Unknown'] as const;
/** One of {@link LOGS_QUERY_STATUSES}. */
export type LogsQueryStatus = (typeof LOGS_QUERY_STATUSES)[number];

/** What a results call answers. */
export interface LogsResults {
  readonly status: LogsQueryStatus;
  readonly lines: readonly EnrichmentLogLine[];
}

/** The account refused to start or read a query: LimitExceededException or ThrottlingException. */
export class LogsThrottledError extends TransientError {
  override name = 'LogsThrottledError';
}

/** The log source: Logs Insights in AWS, the named local stand-in in local mode. */
export interface LogSource {
  start(q: LogsQuery): Promise<string>;
  results(queryId: string): Promise<LogsResults>;
  stop(queryId: string): Promise<void>;
}

/** A query's cache item: started (maybe not yet with its id), then its outcome. */
export interface LogsCacheEntry {
  readonly key: string;
  readonly queryId?: string;
  readonly result?: Exclude<LogsEnrichment, { state: 'pending' }>;
}

/** The per-(fingerprint, bucket) cache (delivery table items in AWS). */
export interface LogsCache {
  get(key: string): Promise<LogsCacheEntry | undefined>;
  /** Creates the entry when absent: true for the one caller that is to start the query. */
  claim(key: string, nowMs: number, expiresAtMs: number): Promise<boolean>;
  setQuery(key: string, queryId: string): Promise<void>;
  setResult(key: string, result: Exclude<LogsEnrichment, { state: 'pending' }>): Promise<void>;
}

/** Slots of queries in flight (at most `maxInFlight` held at once, each with a lease). */
export interface QuerySlots {
  acquire(holder: string, nowMs: number, leaseMs: number, maxInFlight: number): Promise<boolean>;
  release(holder: string): Promise<void>;
}

/** The ports of the logs part. */
export interface LogsPorts {
  readonly source: LogSource;
  readonly cache: LogsCache;
  readonly slots: QuerySlots;
  readonly clock: Clock;
  /** Waits (a timer in production, the test's clock otherwise). */
  readonly sleep: (ms: number) => Promise<void>;
}

/** Characters a quoted value may hold: no quote, backslash, backtick, pipe or control character can end the literal. */
const QUOTABLE = /^[A-Za-z0-9 _.,:;/@+=%~!?*()[\]{}<>^$#&-]*$/;
const LABEL_PLACEHOLDER = /\{\{\s*labels\.([A-Za-z_][A-Za-z0-9_]{0,127})\s*\}\}/g;

/** `"checkout"`: a label value as a Logs Insights string literal, or undefined when it cannot be quoted safely. */
export function quoteLogsValue(value: string): string | undefined {
  if (value.length > LOGS_BOUNDS.valueChars || !QUOTABLE.test(value)) return undefined;
  return `"${value}"`;
}

/** The cache key of an alert's query: `<fingerprint>#<bucket of its start>`. */
export function logsKey(fingerprint: string, firedAtMs: number, bucketMs: number): string {
  return `${fingerprint}#${Math.floor(firedAtMs / Math.max(1, bucketMs))}`;
}

/** The query for an alert, or why there is none (a label missing or not quotable). */
export function buildLogsQuery(cfg: LogsConfig, labels: Labels, firedAtMs: number, atMs: number): { ok: true; query: LogsQuery } | { ok: false; reason: EnrichFailureReason } {
  let bad = false;
  const body = cfg.query.replace(LABEL_PLACEHOLDER, (_all, name: string) => {
    const v = labels[name];
    const q = v === undefined ? undefined : quoteLogsValue(v);
    if (q === undefined) bad = true;
    return q ?? '""';
  });
  if (bad) return { ok: false, reason: 'not-queryable' };
  const limit = Math.max(1, Math.min(LOGS_BOUNDS.lines, Math.trunc(cfg.limit)));
  const queryString = `${body.trim()}\n| limit ${limit}`;
  if (queryString.length > LOGS_BOUNDS.queryChars) return { ok: false, reason: 'not-queryable' };
  return { ok: true, query: { logGroups: cfg.logGroups.slice(0, LOGS_BOUNDS.logGroups), queryString, startMs: firedAtMs - cfg.lookbackMs, endMs: Math.max(atMs, firedAtMs) + 1000, limit } };
}

/**
 * `token=abc`, `password: hunter2`, `"api_key":"x"` in free text: a name that says secret (the
 * names redact.ts treats as secret in URLs), then `=` or `:`, then the value up to a separator. Log
 * lines are not URLs: redact.ts catches secrets in the URLs they hold, this the rest. Bounded
 * repetitions only (linear).
 */
const LOG_SECRET = /([A-Za-z0-9_.-]{0,32}(?:token|key|secret|passw|pwd|credential|auth|sig)[A-Za-z0-9_.-]{0,32}"?\s{0,3}[=:]\s{0,3}"?)([^\s"',;&}]{1,4096})/gi;

/** Redacts secrets in one log line ({@link LOG_SECRET} after redact.ts's URL and token rules). */
export function redactLogLine(message: string): string {
  return redactSecrets(message).replace(LOG_SECRET, (_all, head: string, value: string) => (value === REDACTED ? `${head}${value}` : `${head}${REDACTED}`));
}

/** Lines as shown: redacted, one line each, bounded; newest first as the query sorts them. */
export function cleanLogLines(lines: readonly EnrichmentLogLine[], limit: number): EnrichmentLogLine[] {
  return lines.slice(0, Math.min(limit, LOGS_BOUNDS.lines)).map((l) => ({ ...(l.atMs !== undefined ? { atMs: l.atMs } : {}), message: truncate(singleLine(redactLogLine(l.message)), LOGS_BOUNDS.lineChars) }));
}

const TERMINAL_FAILED: readonly LogsQueryStatus[] = ['Failed', 'Cancelled', 'Timeout', 'Unknown'];

/** Classifies a thrown error of a port: throttled, or an error (logged by the caller through `onError`). */
function reasonOf(err: unknown): EnrichFailureReason {
  return err instanceof LogsThrottledError ? 'throttled' : 'error';
}

/**
 * Reads a started query once: its outcome when it ended (stored in the cache, its slot released),
 * or undefined while it runs.
 */
export async function pollQueryOnce(ports: LogsPorts, cfg: LogsConfig, key: string, queryId: string): Promise<Exclude<LogsEnrichment, { state: 'pending' }> | undefined> {
  let r: LogsResults;
  try {
    r = await ports.source.results(queryId);
  } catch (err) {
    if (err instanceof LogsThrottledError) return undefined; // reading is throttled: try again later, the query itself runs on
    throw err;
  }
  if (r.status === 'Complete') {
    const result = { state: 'ready', lines: cleanLogLines(r.lines, cfg.limit) } as const;
    await ports.cache.setResult(key, result);
    await ports.slots.release(key);
    return result;
  }
  if (TERMINAL_FAILED.includes(r.status)) {
    const result = { state: 'unavailable', reason: 'query-failed' } as const;
    await ports.cache.setResult(key, result);
    await ports.slots.release(key);
    return result;
  }
  return undefined;
}

/**
 * The logs of an alert within `deadlineMs` (clock time): from the cache when another channel or
 * alert already has them, else the query started (once per key, within the in-flight ceiling)
 * and polled until the deadline. Never throws: a port's error becomes `unavailable` with a reason
 * (and `onError` hears the detail).
 */
export async function recentLogs(
  ports: LogsPorts,
  cfg: LogsConfig,
  alert: { fingerprint: string; labels: Labels; firedAtMs: number; atMs: number },
  deadlineMs: number,
  onError: (err: unknown) => void = () => {},
): Promise<LogsEnrichment> {
  const key = logsKey(alert.fingerprint, alert.firedAtMs, cfg.bucketMs);
  const built = buildLogsQuery(cfg, alert.labels, alert.firedAtMs, alert.atMs);
  if (!built.ok) return { state: 'unavailable', reason: built.reason };
  try {
    let entry = await ports.cache.get(key);
    if (!entry) {
      const now = ports.clock.now();
      if (await ports.cache.claim(key, now, alert.firedAtMs + cfg.bucketMs + 3_600_000)) {
        if (!(await ports.slots.acquire(key, now, cfg.slotLeaseMs, cfg.maxInFlight))) {
          const result = { state: 'unavailable', reason: 'query-limit' } as const;
          await ports.cache.setResult(key, result);
          return result;
        }
        let queryId: string;
        try {
          queryId = await ports.source.start(built.query);
        } catch (err) {
          await ports.slots.release(key);
          const result = { state: 'unavailable', reason: reasonOf(err) } as const;
          if (result.reason === 'error') onError(err);
          await ports.cache.setResult(key, result);
          return result;
        }
        await ports.cache.setQuery(key, queryId);
        entry = { key, queryId };
      } else entry = await ports.cache.get(key);
    }
    if (entry?.result) return entry.result;
    // Claimed by another caller that has not stored its query id yet: the follow-up reads it later.
    if (!entry?.queryId) return { state: 'pending', key };
    for (;;) {
      const done = await pollQueryOnce(ports, cfg, key, entry.queryId);
      if (done) return done;
      if (ports.clock.now() + cfg.pollMs > deadlineMs) return { state: 'pending', key };
      await ports.sleep(cfg.pollMs);
    }
  } catch (err) {
    onError(err);
    return { state: 'unavailable', reason: reasonOf(err) };
  }
}

/**
 * The outcome the cache holds for `key` (a follow-up reads it; it starts nothing): pending while
 * none is stored, or timed out once the follow-up gave up.
 */
export async function cachedLogs(ports: LogsPorts, key: string, gaveUp = false): Promise<LogsEnrichment> {
  const entry = await ports.cache.get(key);
  return entry?.result ?? (gaveUp ? { state: 'unavailable', reason: 'timeout' } : { state: 'pending', key });
}
