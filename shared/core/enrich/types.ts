/**
 * The enrichment of a notification (docs/enrichment.md): who owns the thing, where to look, what
 * the logs said just before, and what could not be found with why. Built by ./enrich.ts in the
 * channel function between parsing a job and rendering it; rendered by shared/core/format
 * (slack.ts, email.ts, pagerduty.ts). Raw strings: each formatter escapes for its medium.
 */

/** A link shown as a button (Slack), an anchor (email) or a `links[]` entry (PagerDuty). Same shape as the alert view's. */
export interface EnrichmentLink {
  readonly text: string;
  /** Absolute http(s) URL, already checked and bounded (./links.ts). */
  readonly url: string;
}

/** One recent log line (redacted, single line, bounded). */
export interface EnrichmentLogLine {
  /** Event time (epoch ms), when the source gave one. */
  readonly atMs?: number;
  readonly message: string;
}

/**
 * Why a part of the enrichment is missing. A notification says it ("logs unavailable: throttled"),
 * the channel function logs and counts it.
 */
export const ENRICH_FAILURE_REASONS = [
  /** The account's Logs Insights API refused: LimitExceededException / ThrottlingException. */
  'throttled',
  /** Our own ceiling of queries in flight (a share of the account's 30 concurrent queries) is reached. */
  'query-limit',
  /** The query ended Failed, Cancelled or Timeout. */
  'query-failed',
  /** A label value the query needs has characters that cannot be quoted safely, or is missing. */
  'not-queryable',
  /** The catalog could not be read within the budget (or at all). */
  'catalog-unavailable',
  /** The step did not answer within the budget. */
  'timeout',
  /** Anything else (an SDK or store error): logged with the detail. */
  'error',
] as const;
/** One of {@link ENRICH_FAILURE_REASONS}. */
export type EnrichFailureReason = (typeof ENRICH_FAILURE_REASONS)[number];

/** The words a notification shows for each {@link EnrichFailureReason}. */
export const ENRICH_FAILURE_TEXT: Readonly<Record<EnrichFailureReason, string>> = {
  throttled: 'throttled',
  'query-limit': 'query limit reached',
  'query-failed': 'query failed',
  'not-queryable': 'no queryable labels',
  'catalog-unavailable': 'catalog unavailable',
  timeout: 'timed out',
  error: 'error',
};

/** The parts of an enrichment that can fail. */
export const ENRICH_PARTS = ['catalog', 'logs'] as const;
/** One of {@link ENRICH_PARTS}. */
export type EnrichPart = (typeof ENRICH_PARTS)[number];

/** Recent log lines: there, still running (added later where the channel can), or not available and why. */
export type LogsEnrichment =
  | { readonly state: 'ready'; readonly lines: readonly EnrichmentLogLine[] }
  | { readonly state: 'pending'; readonly key: string }
  | { readonly state: 'unavailable'; readonly reason: EnrichFailureReason };

/** What the formatters render beside the alert. */
export interface Enrichment {
  readonly owner?: string;
  readonly team?: string;
  /** An on-call contact as written in the catalog (a Slack handle, an address, a schedule name): shown as text. */
  readonly onCall?: string;
  /** The catalog's runbook; the rule's own runbook wins when the rule has one. */
  readonly runbook?: EnrichmentLink;
  /** Dashboards, console links and the catalog's extra links. */
  readonly links: readonly EnrichmentLink[];
  readonly traces: readonly EnrichmentLink[];
  /** Absent when no log source is configured (or the job is not a firing alert). */
  readonly logs?: LogsEnrichment;
  /** What could not be added, and why (each said in the notification). */
  readonly failures: readonly { readonly part: EnrichPart; readonly reason: EnrichFailureReason }[];
}

/** `logs unavailable: throttled`, `logs pending`: the text every channel shows for the logs part (undefined when ready or absent). */
export function logsStatusText(logs: LogsEnrichment | undefined): string | undefined {
  if (!logs) return undefined;
  if (logs.state === 'pending') return 'logs pending';
  if (logs.state === 'unavailable') return `logs unavailable: ${ENRICH_FAILURE_TEXT[logs.reason]}`;
  return undefined;
}

/** Every failure of an enrichment as notification text: `catalog unavailable: timed out`. */
export function enrichmentNotes(e: Enrichment): string[] {
  const notes: string[] = [];
  for (const f of e.failures) if (f.part !== 'logs') notes.push(`${f.part} unavailable: ${ENRICH_FAILURE_TEXT[f.reason]}`);
  const logs = logsStatusText(e.logs);
  if (logs) notes.push(logs);
  return notes;
}

/** `[['Owner', 'Alice'], ['Team', 'payments'], ['On-call', '@payments-oncall']]`: the catalog's facts as every channel lists them (raw). */
export function enrichmentFacts(e: Enrichment): [string, string][] {
  const facts: [string, string][] = [];
  if (e.owner) facts.push(['Owner', e.owner]);
  if (e.team) facts.push(['Team', e.team]);
  if (e.onCall) facts.push(['On-call', e.onCall]);
  return facts;
}

/** Every link of an enrichment in the order channels show them: runbook, links, traces. */
export function enrichmentLinks(e: Enrichment): EnrichmentLink[] {
  return [...(e.runbook ? [e.runbook] : []), ...e.links, ...e.traces];
}

/** `2026-11-30T05:57:10.000Z ERROR …`: a log line as text (raw). */
export function logLineText(l: EnrichmentLogLine): string {
  return l.atMs !== undefined && Number.isFinite(l.atMs) ? `${new Date(l.atMs).toISOString()} ${l.message}` : l.message;
}
