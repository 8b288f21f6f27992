/**
 * The enrichment stage (docs/enrichment.md): what the catalog, the link templates and the logs
 * say about a job, within the job's time budget. Runs in the channel function just before
 * rendering (shared/core/deliver/pipeline.ts, `enrich`), so routing stays dispatch's and every
 * channel renders the same facts.
 *
 * Budget: per severity, critical shortest (a page must not wait on a log query). The catalog
 * (cached in memory) and the links (pure) are cheap; the logs query rarely finishes within a
 * critical budget, so the notification goes with `logs pending` and the Slack follow-up adds the
 * lines to the thread later (./follow-up.ts). Nothing here throws: what fails is recorded in the
 * enrichment with its reason, and the notification goes anyway.
 */
import { safeHttpUrl } from '../format/escape.ts';
import type { Clock, NotificationJob, Severity } from '../model/index.ts';
import { matchCatalog, type Catalog } from './catalog.ts';
import { buildLinks, linkTimeRange, type LinkTemplate } from './links.ts';
import { cachedLogs, recentLogs, type LogsConfig, type LogsPorts } from './logs.ts';
import type { EnrichFailureReason, EnrichPart, Enrichment } from './types.ts';

/** The deployment's enrichment settings (shared/config/enrich.ts reads them). */
export interface EnrichConfig {
  /** The longest a notification waits for its enrichment, per severity (ms). */
  readonly budgetMs: Readonly<Record<Severity, number>>;
  /** Dashboard time ranges start this long before the alert and end this long after its resolution. */
  readonly linkWindowMs: number;
  /** Dashboards and console links for every alert (templates of ./links.ts). */
  readonly links: readonly LinkTemplate[];
  /** Trace links (X-Ray or any tracing UI). */
  readonly traces: readonly LinkTemplate[];
  /** Absent: no log lines. */
  readonly logs?: LogsConfig;
}

/**
 * Default budgets: a critical page waits at most 1 s, high 1.5 s, the rest 2 s (at most 3 s can be
 * configured: shared/config/timing.ts ENRICH_BUDGET_MAX_MS). Logs Insights queries over a narrow
 * range usually take a few seconds, so critical notifications nearly always go first and get
 * their lines in the thread. A channel handles a batch's jobs one after another, so the budget is
 * also what a storm of distinct alerts costs per job: kept short.
 */
export const DEFAULT_ENRICH_BUDGET_MS: Readonly<Record<Severity, number>> = { critical: 1000, high: 1500, medium: 2000, low: 2000 };

/** The catalog as the enricher needs it (cached with last-good semantics by the adapter). */
export interface CatalogSource {
  current(): Promise<Catalog>;
}

/** The ports of the enricher. */
export interface EnrichDeps {
  readonly config: EnrichConfig;
  readonly catalog: CatalogSource;
  /** Absent: no log source (logs are left out, not reported as failures). */
  readonly logs?: LogsPorts;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** Hears the detail of a failure the enrichment records only by reason. */
  readonly onError?: (part: EnrichPart, err: unknown) => void;
}

type Raced<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: EnrichFailureReason; readonly err?: unknown };

/** `p` if it settles within `ms` (on the injected sleep), else a timeout; a rejection becomes an error. Never rejects. */
export function within<T>(p: Promise<T>, ms: number, sleep: (ms: number) => Promise<void>): Promise<Raced<T>> {
  const settled = p.then(
    (value): Raced<T> => ({ ok: true, value }),
    (err: unknown): Raced<T> => ({ ok: false, reason: 'error', err }),
  );
  if (ms <= 0) return Promise.race([settled, Promise.resolve<Raced<T>>({ ok: false, reason: 'timeout' })]);
  return Promise.race([settled, sleep(ms).then((): Raced<T> => ({ ok: false, reason: 'timeout' }))]);
}

/**
 * How long an instance may wait for logs in a storm (docs/enrichment.md, "Budget"): a channel
 * handles a batch's jobs one after another, so ten distinct alerts each waiting 2 s would delay
 * the tenth by 18 s. Once the waits of the last `windowMs` add up to `allowanceMs`, the next jobs
 * start their query (or find it) and go at once with `logs pending`: the lines follow in the thread.
 */
export const LOGS_WAIT_ALLOWANCE = { allowanceMs: 4_000, windowMs: 30_000 } as const;

/** The waits of one instance in a sliding window (clock time), deciding whether the next job may wait for logs. */
export class LogsWaitAllowance {
  readonly #waits: { atMs: number; ms: number }[] = [];
  constructor(private readonly limits: { readonly allowanceMs: number; readonly windowMs: number } = LOGS_WAIT_ALLOWANCE) {}
  /** Whether a job starting now may wait for its logs. */
  mayWait(nowMs: number): boolean {
    while (this.#waits.length && this.#waits[0]!.atMs <= nowMs - this.limits.windowMs) this.#waits.shift();
    return this.#waits.reduce((a, w) => a + w.ms, 0) < this.limits.allowanceMs;
  }
  /** Records how long a job waited. */
  record(nowMs: number, ms: number): void {
    if (ms > 0) this.#waits.push({ atMs: nowMs, ms });
  }
}

/**
 * Enriches a job within its budget. Per-alert jobs get catalog, links and (firing only) logs;
 * group jobs the catalog and links of their group labels (no logs: a group has no one fingerprint
 * to query for). `waitForLogs: false` (a storm, {@link LogsWaitAllowance}): the query is started or
 * looked at once, never waited for.
 */
export async function enrichJob(job: NotificationJob, deps: EnrichDeps, opts: { readonly waitForLogs?: boolean } = {}): Promise<Enrichment> {
  const start = deps.clock.now();
  const deadline = start + Math.max(0, deps.config.budgetMs[job.severity] ?? DEFAULT_ENRICH_BUDGET_MS[job.severity]);
  const logsDeadline = opts.waitForLogs === false ? start : deadline;
  const t = job.transition;
  const labels = job.group ? job.group.labels : t.labels;
  const failures: { part: EnrichPart; reason: EnrichFailureReason }[] = [];

  const wantsLogs = !!deps.config.logs && !!deps.logs && !job.group && t.kind === 'firing' && !job.ack && !job.note;
  // A follow-up (./follow-up.ts) reads the outcome the cache holds; it never starts a query.
  // Otherwise logs start at once (their budget is the whole budget); the catalog is read meanwhile.
  const logsP = job.logsFollowUp && deps.logs && deps.config.logs
    ? cachedLogs(deps.logs, job.logsFollowUp.key, job.logsFollowUp.gaveUp === true).catch((err: unknown) => {
        deps.onError?.('logs', err);
        return { state: 'unavailable', reason: 'error' } as const;
      })
    : wantsLogs ? recentLogs(deps.logs!, deps.config.logs!, { fingerprint: t.fingerprint, labels, firedAtMs: t.firedAtMs, atMs: t.atMs }, logsDeadline, (err) => deps.onError?.('logs', err)) : undefined;

  const cat = await within(deps.catalog.current(), deadline - deps.clock.now(), deps.sleep);
  if (!cat.ok) {
    failures.push({ part: 'catalog', reason: cat.reason === 'timeout' ? 'timeout' : 'catalog-unavailable' });
    if (cat.err !== undefined) deps.onError?.('catalog', cat.err);
  }
  const match = cat.ok ? matchCatalog(cat.value, labels) : undefined;

  const range = linkTimeRange(t, deps.clock.now(), deps.config.linkWindowMs);
  const ctx = { labels, fingerprint: t.fingerprint, alertname: t.ruleName || t.labels.alertname || t.ruleId, ...range };
  const links = buildLinks([...deps.config.links, ...(match?.links ?? [])], ctx);
  const traces = buildLinks(deps.config.traces, ctx);
  const runbookUrl = safeHttpUrl(match?.runbook);

  let logs: Enrichment['logs'];
  if (logsP) {
    // recentLogs never rejects and returns `pending` at its deadline; the race only guards a port
    // that hangs, with one poll interval of grace so an answer at the deadline is not lost.
    const r = await within(logsP, Math.max(deadline - deps.clock.now(), 0) + deps.config.logs!.pollMs, deps.sleep);
    logs = r.ok ? r.value : { state: 'unavailable', reason: 'timeout' };
    if (logs.state === 'unavailable') failures.push({ part: 'logs', reason: logs.reason });
  }
  return {
    ...(match?.owner ? { owner: match.owner } : {}),
    ...(match?.team ? { team: match.team } : {}),
    ...(match?.onCall ? { onCall: match.onCall } : {}),
    ...(runbookUrl ? { runbook: { text: 'Runbook', url: runbookUrl } } : {}),
    links,
    traces,
    ...(logs ? { logs } : {}),
    failures,
  };
}
