/**
 * The facts every channel shows about a notification, derived once from a {@link NotificationJob}
 * so Slack, email and PagerDuty say the same thing: title, instance, value vs condition, links.
 * Raw (unescaped) strings: each formatter escapes for its own medium.
 */
import { type GroupMemberView, type GroupNotice, type GroupNoticeReason, type NotificationJob, type Severity } from '../model/index.ts';
import { humanDuration, isoTime, safeHttpUrl, singleLine } from '../format/escape.ts';

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
  /** For a reminder job: `Still firing since <time>, reminder (last notified <time>)`. */
  readonly reminderText: string | undefined;
  /** An escalation policy's step (nobody acknowledged it): why, e.g. `unacknowledged for 15m (db-oncall: level 2 of 3)`. */
  readonly escalatedText: string | undefined;
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
    escalatedText: job.escalated && !resolved ? job.escalated.reason : undefined,
    reminderText: job.reminder && !resolved ? `Still firing since ${isoTime(t.firedAtMs)} (${humanDuration(t.atMs - t.firedAtMs)}), reminder; last notified ${isoTime(job.reminder.lastSentAtMs)}` : undefined,
    loweredText: job.lowered ? `Lowered from ${job.lowered.from.toUpperCase()}: ${job.lowered.reason}` : undefined,
    labels,
    runbook: runbookUrl ? { text: 'Runbook', url: runbookUrl } : undefined,
    dashboard: dashboardUrl ? { text: 'Dashboard', url: dashboardUrl } : undefined,
    sourceLinks,
    ruleId: t.ruleId,
    fingerprint: t.fingerprint,
  };
}

/** Readable text of each {@link GroupNoticeReason}. */
export const GROUP_REASON_TEXT: Readonly<Record<GroupNoticeReason, string>> = {
  'first-notification': 'first notification of this group',
  'new-firing': 'new alerts fire',
  'new-resolved': 'alerts resolved',
  'all-resolved': 'every alert of this group resolved',
  repeat: 'still firing, reminder (repeat interval elapsed)',
};

/** One listed alert of a group, as the formatters show it (raw strings). */
export interface GroupMemberLine {
  readonly member: GroupMemberView;
  readonly resolved: boolean;
  readonly severityLabel: string;
  /** `name — instance`, or the name alone when the instance is unknown. */
  readonly title: string;
  readonly summary: string | undefined;
  readonly since: string;
  readonly endedAt: string | undefined;
  /** True when the alert is known to be new in this notification ({@link GroupMemberView.isNew}). */
  readonly isNew: boolean;
}

/** The facts every channel shows about a group notification (raw strings; each formatter escapes). */
export interface GroupView {
  readonly id: string;
  readonly routePath: string;
  readonly reason: GroupNoticeReason;
  readonly reasonText: string;
  readonly seq: number;
  /** No alert fires any more. */
  readonly resolved: boolean;
  /** Highest severity among firing members (the transition's). */
  readonly severity: Severity;
  /** The group's title (the transition's rule name), e.g. `HighCPU`. */
  readonly title: string;
  /** Group labels, sorted by name. */
  readonly labels: readonly (readonly [string, string])[];
  /** `cluster=eu1, env=prod` (single line), empty when the group has no labels. */
  readonly labelsText: string;
  /** Alertmanager's default title tag: `[FIRING:12]`, or `[RESOLVED]` when nothing fires. */
  readonly statusTag: string;
  /** Both counts: `[FIRING:3, RESOLVED:1]`, `[FIRING:3]`, `[RESOLVED:4]`. */
  readonly countsTag: string;
  /** `[FIRING:12] cluster=eu1` (the title when the group has no labels): email subject, PagerDuty summary. */
  readonly headline: string;
  readonly firingCount: number;
  readonly resolvedCount: number;
  /** Listed members, firing (most severe and oldest first) then resolved. */
  readonly firing: readonly GroupMemberLine[];
  readonly resolvedMembers: readonly GroupMemberLine[];
  /** Alerts counted but not listed in the job (beyond {@link GROUP_JOB_MAX_LISTED}). */
  readonly unlistedFiring: number;
  readonly unlistedResolved: number;
  readonly newFiring: number;
  readonly newResolved: number;
  /** `3 new, 2 resolved since the last update`, or for the first notification `12 firing`. */
  readonly changesText: string;
  readonly startedAt: string;
}

/** `name=value, name=value` of sorted label pairs, on one line. */
export function labelsLine(labels: readonly (readonly [string, string])[]): string {
  return singleLine(labels.map(([k, v]) => `${k}=${v}`).join(', '));
}

/** `…and 480 more` (with the split when both kinds are cut), or undefined when nothing is left out. */
export function andMoreText(firing: number, resolved: number): string | undefined {
  if (firing + resolved <= 0) return undefined;
  const split = firing > 0 && resolved > 0 ? ` (${firing} firing, ${resolved} resolved)` : firing > 0 ? ' firing' : ' resolved';
  return `…and ${firing + resolved} more${split}`;
}

function memberLine(m: GroupMemberView): GroupMemberLine {
  const resolved = m.status === 'resolved';
  return {
    member: m,
    resolved,
    severityLabel: m.severity.toUpperCase(),
    title: m.instance && m.instance !== '-' ? `${m.name} — ${m.instance}` : m.name,
    summary: m.summary || undefined,
    since: isoTime(m.startsAtMs),
    endedAt: resolved ? isoTime(m.endsAtMs) : undefined,
    isNew: !resolved && m.isNew === true,
  };
}

/** The change since the last notification, in words. */
function changesText(g: GroupNotice): string {
  if (g.seq <= 1 || g.reason === 'first-notification') {
    const parts = [`${g.firingCount} firing`, ...(g.resolvedCount ? [`${g.resolvedCount} resolved`] : [])];
    return parts.join(', ');
  }
  if (g.reason === 'repeat' && g.changes.newFiring === 0 && g.changes.newResolved === 0) return `No change since the last update: ${g.firingCount} still firing (reminder)`;
  const parts: string[] = [];
  if (g.changes.newFiring) parts.push(`${g.changes.newFiring} new`);
  if (g.changes.newResolved) parts.push(`${g.changes.newResolved} resolved`);
  const head = parts.length ? `${parts.join(', ')} since the last update` : 'No change since the last update';
  return g.firingCount === 0 ? `${head}: all resolved` : `${head}: ${g.firingCount} firing`;
}

/**
 * The summary title of a group of error alerts (job events, docs/events.md): `ClientError in 7
 * tasks of 3 DAGs` (DAGs when every alert comes from Airflow, jobs otherwise; `4 kinds of failure`
 * when their alert names differ), counted over the firing alerts listed (all listed when none
 * fires). Undefined when a listed alert is not an error alert (it has no `error_fingerprint`).
 */
export function errorGroupTitle(members: readonly GroupMemberView[]): string | undefined {
  if (members.length === 0 || members.some((m) => m.labels.error_fingerprint === undefined)) return undefined;
  const firing = members.filter((m) => m.status === 'firing');
  const counted = firing.length > 0 ? firing : members;
  const names = new Set(counted.map((m) => m.labels.alertname ?? m.name));
  const services = new Set(counted.map((m) => m.labels.service ?? ''));
  const tasks = new Set(counted.map((m) => JSON.stringify([m.labels.service ?? '', m.labels.task ?? ''])));
  const unit = counted.every((m) => m.labels.source === 'airflow') ? 'DAG' : 'job';
  const name = names.size === 1 ? [...names][0]! : `${names.size} kinds of failure`;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${name} in ${plural(tasks.size, 'task')} of ${plural(services.size, unit)}`;
}

/**
 * Builds the {@link GroupView} of a group job, or undefined for a per-alert job. Counts come from
 * the notice's counts, never from the (cut) lists.
 */
export function groupView(job: NotificationJob): GroupView | undefined {
  const g = job.group;
  if (!g) return undefined;
  const t = job.transition;
  const labels = Object.entries(g.labels).sort(([a], [b]) => a.localeCompare(b));
  const firingCount = Math.max(g.firingCount, g.firing.length);
  const resolvedCount = Math.max(g.resolvedCount, g.resolved.length);
  const resolved = firingCount === 0;
  const statusTag = resolved ? '[RESOLVED]' : `[FIRING:${firingCount}]`;
  const countsTag = resolved ? `[RESOLVED:${resolvedCount}]` : resolvedCount ? `[FIRING:${firingCount}, RESOLVED:${resolvedCount}]` : `[FIRING:${firingCount}]`;
  const labelsText = labelsLine(labels);
  const title = errorGroupTitle([...g.firing, ...g.resolved]) ?? (t.ruleName || t.labels.alertname || 'Alert group');
  return {
    id: g.id,
    routePath: g.routePath,
    reason: g.reason,
    reasonText: GROUP_REASON_TEXT[g.reason] ?? g.reason,
    seq: g.seq,
    resolved,
    severity: job.severity,
    title,
    labels,
    labelsText,
    statusTag,
    countsTag,
    headline: `${statusTag} ${labelsText || title}`,
    firingCount,
    resolvedCount,
    firing: g.firing.map(memberLine),
    resolvedMembers: g.resolved.map(memberLine),
    unlistedFiring: firingCount - g.firing.length,
    unlistedResolved: resolvedCount - g.resolved.length,
    newFiring: g.changes.newFiring,
    newResolved: g.changes.newResolved,
    changesText: changesText({ ...g, firingCount, resolvedCount }),
    startedAt: isoTime(t.firedAtMs),
  };
}
