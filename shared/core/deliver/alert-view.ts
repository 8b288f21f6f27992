/**
 * The facts every channel shows about a notification, derived once from a {@link NotificationJob}
 * so Slack, email and PagerDuty say the same thing: title, instance, value vs condition, links.
 * Raw (unescaped) strings: each formatter escapes for its own medium.
 */
import type { NotificationJob, Severity } from '../model/index.ts';
import { humanDuration, isoTime, safeHttpUrl } from '../format/escape.ts';

/** A link shown as a button (Slack), an anchor (email) or a `links[]` entry (PagerDuty). */
export interface AlertLink {
  readonly text: string;
  /** Absolute http(s) URL (already checked by {@link safeHttpUrl}). */
  readonly url: string;
}

/** What the formatters render. */
export interface AlertView {
  readonly resolved: boolean;
  readonly severity: Severity;
  /** `CRITICAL`, `HIGH`... */
  readonly severityLabel: string;
  /** Rule name (or `alertname`). */
  readonly name: string;
  /** The `instance` label, else `host`, `job` or `service`; `-` when none. */
  readonly instance: string;
  readonly summary: string | undefined;
  readonly description: string | undefined;
  /** The deciding value as text (`n/a` when absent). */
  readonly value: string;
  readonly condition: string;
  readonly startedAt: string;
  readonly resolvedAt: string | undefined;
  /** How long it fired (resolved) or has been firing, at the transition's event time. */
  readonly duration: string;
  readonly fireCount: number;
  /** `+N occurrences since <time>`, when a throttle window suppressed some. */
  readonly suppressedText: string | undefined;
  readonly escalationText: string | undefined;
  /** `Lowered from HIGH: outside business-hours (routes[0])`, when dispatch lowered the severity. */
  readonly loweredText: string | undefined;
  readonly labels: readonly (readonly [string, string])[];
  readonly runbook: AlertLink | undefined;
  readonly dashboard: AlertLink | undefined;
  /** Source links from labels whose name ends in `_url` (e.g. `log_url`), http(s) only. */
  readonly sourceLinks: readonly AlertLink[];
  readonly ruleId: string;
  readonly fingerprint: string;
}

/** Formats a number for people: up to 4 significant decimals, no exponent for ordinary sizes. */
export function formatValue(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** Builds the {@link AlertView} of a job. `defaultDashboardUrl` is the deployment's dashboard, used when the rule has none. */
export function alertView(job: NotificationJob, defaultDashboardUrl?: string): AlertView {
  const t = job.transition;
  const labels = Object.entries(t.labels).sort(([a], [b]) => a.localeCompare(b));
  const instance = t.labels.instance ?? t.labels.host ?? t.labels.job ?? t.labels.service ?? '-';
  const runbookUrl = safeHttpUrl(t.runbookUrl ?? t.annotations.runbook_url);
  const dashboardUrl = safeHttpUrl(t.dashboardUrl ?? t.annotations.dashboard_url ?? defaultDashboardUrl);
  const sourceLinks: AlertLink[] = [];
  for (const [k, v] of labels) {
    if (!k.endsWith('_url')) continue;
    const url = safeHttpUrl(v);
    if (url) sourceLinks.push({ text: k.slice(0, -4).replace(/_/g, ' ') || k, url });
  }
  const resolved = t.kind === 'resolved';
  const end = resolved ? (t.resolvedAtMs ?? t.atMs) : t.atMs;
  return {
    resolved,
    severity: job.severity,
    severityLabel: job.severity.toUpperCase(),
    name: t.ruleName || t.labels.alertname || t.ruleId,
    instance,
    summary: t.annotations.summary,
    description: t.annotations.description,
    value: formatValue(t.value),
    condition: t.condition,
    startedAt: isoTime(t.firedAtMs),
    resolvedAt: resolved ? isoTime(end) : undefined,
    duration: humanDuration(end - t.firedAtMs),
    fireCount: job.fireCount,
    suppressedText: job.suppressed && job.suppressed.count > 0 ? `+${job.suppressed.count} occurrences since ${isoTime(job.suppressed.sinceMs)}` : undefined,
    escalationText: job.escalation ? `Escalated from ${job.escalation.from.toUpperCase()}: ${job.escalation.reason}` : undefined,
    loweredText: job.lowered ? `Lowered from ${job.lowered.from.toUpperCase()}: ${job.lowered.reason}` : undefined,
    labels,
    runbook: runbookUrl ? { text: 'Runbook', url: runbookUrl } : undefined,
    dashboard: dashboardUrl ? { text: 'Dashboard', url: dashboardUrl } : undefined,
    sourceLinks,
    ruleId: t.ruleId,
    fingerprint: t.fingerprint,
  };
}
