/**
 * PagerDuty Events API v2 events for a notification: `trigger` on firing (dedup_key = fingerprint),
 * `resolve` on resolution, `acknowledge` when a person acknowledged the alert elsewhere. Field rules: PagerDuty/api-schema reference/events-v2/openapiv3.json and
 * developer-docs docs/events-API-v2/02-Trigger-Events.md (summary ≤ 1024, dedup_key ≤ 255,
 * severity enum, payload ≤ 512 KB). A group job is one incident per group (dedup_key = group id).
 */
import type { NotificationJob, Severity } from '../model/index.ts';
import { alertView, groupView, type GroupMemberLine, type GroupView } from '../deliver/alert-view.ts';
import { safeHttpUrl, singleLine, truncate } from './escape.ts';
import { enrichmentFacts, enrichmentLinks, enrichmentNotes, logLineText, type Enrichment } from '../enrich/types.ts';

/** PagerDuty's payload severities. */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** Klaxon severity → PagerDuty severity. */
export const PAGERDUTY_SEVERITY: Readonly<Record<Severity, PagerDutySeverity>> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
};

/** Limits from the Events v2 schema. */
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, customDetailValue: 8192 } as const;

/** A trigger event. */
export interface PagerDutyTrigger {
  readonly routing_key: string;
  readonly event_action: 'trigger';
  readonly dedup_key: string;
  readonly payload: {
    readonly summary: string;
    readonly source: string;
    readonly severity: PagerDutySeverity;
    readonly timestamp: string;
    readonly component?: string;
    readonly group?: string;
    readonly class?: string;
    readonly custom_details: Record<string, unknown>;
  };
  readonly links?: readonly { readonly href: string; readonly text: string }[];
  readonly client: string;
  readonly client_url?: string;
}
/** A resolve event (no payload). */
export interface PagerDutyResolve {
  readonly routing_key: string;
  readonly event_action: 'resolve';
  readonly dedup_key: string;
}
/** An acknowledge event (no payload): the incident of `dedup_key` is acknowledged (Slack's Acknowledge, the console, the CLI). */
export interface PagerDutyAcknowledge {
  readonly routing_key: string;
  readonly event_action: 'acknowledge';
  readonly dedup_key: string;
}
/** An Events v2 event body. */
export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve | PagerDutyAcknowledge;

/** Options the deployment sets. */
export interface PagerDutyFormatOptions {
  readonly productName: string;
  readonly dashboardUrl?: string;
}

/**
 * Bounds of what an enrichment adds to an event: at most 20 links, log lines as given (at most 20
 * of 500 characters, shared/core/enrich/logs.ts), all far below the 512 KB of an event
 * (https://developer.pagerduty.com/docs/events-api-v2-overview#api-limits).
 */
export const PAGERDUTY_ENRICH_LIMITS = { links: 20 } as const;

/** `custom_details` entries of an enrichment: owner, team, on_call, recent_logs, enrichment (what is missing and why). */
export function pagerDutyEnrichmentDetails(e: Enrichment | undefined): Record<string, unknown> {
  if (!e) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of enrichmentFacts(e)) out[k.toLowerCase().replace('-', '_')] = truncate(v, PAGERDUTY_LIMITS.customDetailValue);
  if (e.logs?.state === 'ready' && e.logs.lines.length) out.recent_logs = e.logs.lines.map(logLineText);
  const notes = enrichmentNotes(e);
  if (notes.length) out.enrichment = notes.join('; ');
  return out;
}

/** The event's `links`: the alert's own, then the enrichment's (a repeated URL once), at most {@link PAGERDUTY_ENRICH_LIMITS.links}. */
function eventLinks(own: readonly { readonly url: string; readonly text: string }[], e: Enrichment | undefined): { href: string; text: string }[] {
  const seen = new Set<string>();
  const out: { href: string; text: string }[] = [];
  for (const l of [...own, ...(e ? enrichmentLinks(e) : [])]) {
    if (seen.has(l.url) || out.length >= PAGERDUTY_ENRICH_LIMITS.links) continue;
    seen.add(l.url);
    out.push({ href: l.url, text: l.text });
  }
  return out;
}

/** Renders the Events v2 event for a job, with the routing key resolved from the secret. */
export function renderPagerDutyEvent(job: NotificationJob, routingKey: string, opts: PagerDutyFormatOptions): PagerDutyEvent {
  const g = groupView(job);
  if (g) return renderPagerDutyGroupEvent(g, job, routingKey, opts);
  const dedupKey = truncate(job.transition.fingerprint, PAGERDUTY_LIMITS.dedupKey);
  if (job.transition.kind === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  // Dispatch sends PagerDuty only acknowledgements (Events v2 has no "unacknowledge": a person takes an ack back in PagerDuty itself).
  if (job.ack) return { routing_key: routingKey, event_action: 'acknowledge', dedup_key: dedupKey };
  const v = alertView(job, opts.dashboardUrl);
  const l = job.transition.labels;
  const cut = (s: string): string => truncate(s, PAGERDUTY_LIMITS.customDetailValue);
  const summary = truncate(singleLine(`[${v.severityLabel}] ${v.name} — ${v.instance}${v.summary ? `: ${v.summary}` : ''}`), PAGERDUTY_LIMITS.summary);
  const links = eventLinks([v.runbook, v.dashboard, ...v.sourceLinks].filter((x): x is NonNullable<typeof x> => !!x), job.enrichment);
  const opt = (k: 'component' | 'group' | 'class', val: string | undefined): Record<string, string> => (val ? { [k]: truncate(val, 255) } : {});
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary,
      source: truncate(v.instance === '-' ? opts.productName : v.instance, 255),
      severity: PAGERDUTY_SEVERITY[job.severity],
      timestamp: new Date(job.transition.atMs).toISOString(),
      ...opt('component', l.component ?? l.service),
      ...opt('group', l.group ?? l.job),
      ...opt('class', l.class ?? l.alertname),
      custom_details: {
        value: v.value,
        condition: cut(v.condition),
        started: v.startedAt,
        fire_count: v.fireCount,
        ...(v.suppressedText ? { suppressed: v.suppressedText } : {}),
        ...(v.escalationText ? { escalation: cut(v.escalationText) } : {}),
        ...(v.reminderText ? { reminder: v.reminderText } : {}),
        ...(v.escalatedText ? { escalated: cut(v.escalatedText) } : {}),
        ...(v.description ? { description: cut(v.description) } : {}),
        rule_id: v.ruleId,
        fingerprint: v.fingerprint,
        labels: Object.fromEntries(v.labels.map(([k, val]) => [k, cut(val)])),
        ...pagerDutyEnrichmentDetails(job.enrichment),
      },
    },
    ...(links.length ? { links } : {}),
    client: opts.productName,
    ...(v.dashboard ? { client_url: v.dashboard.url } : {}),
  };
}

/**
 * Bounds of a group incident's details: each listed alert's strings are cut, and alerts stop once
 * their JSON reaches `alertsMaxBytes`, far under the 512 KB event limit (the rest: `and_more`).
 */
export const PAGERDUTY_GROUP_LIMITS = { text: 1024, alertsMaxBytes: 256 * 1024 } as const;

/** One alert of a group incident's `custom_details`. */
export interface PagerDutyGroupAlert {
  readonly status: 'firing' | 'resolved';
  readonly name: string;
  readonly instance: string;
  readonly severity: string;
  readonly summary?: string;
  readonly value: string;
  readonly labels: Record<string, string>;
  readonly started: string;
  readonly ended?: string;
  readonly new?: true;
}

function groupAlert(m: GroupMemberLine): PagerDutyGroupAlert {
  const cut = (x: string): string => truncate(x, PAGERDUTY_GROUP_LIMITS.text);
  const x = m.member;
  return {
    status: x.status,
    name: cut(x.name),
    instance: cut(x.instance),
    severity: x.severity,
    ...(x.summary ? { summary: cut(x.summary) } : {}),
    value: cut(x.value),
    labels: Object.fromEntries(Object.entries(x.labels).map(([k, val]) => [cut(k), cut(val)])),
    started: m.since,
    ...(m.endedAt ? { ended: m.endedAt } : {}),
    ...(m.isNew ? { new: true as const } : {}),
  };
}

/**
 * One incident per group: dedup_key = the group id; `trigger` while any alert fires (summary
 * `[FIRING:12] cluster=eu1`, the listed alerts in custom_details), `resolve` once none does.
 */
function renderPagerDutyGroupEvent(g: GroupView, job: NotificationJob, routingKey: string, opts: PagerDutyFormatOptions): PagerDutyEvent {
  const dedupKey = truncate(g.id, PAGERDUTY_LIMITS.dedupKey);
  if (g.resolved) return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const alerts: PagerDutyGroupAlert[] = [];
  let bytes = 0;
  let dropped = 0;
  for (const m of [...g.firing, ...g.resolvedMembers]) {
    const a = groupAlert(m);
    const size = Buffer.byteLength(JSON.stringify(a)) + 1;
    if (bytes + size > PAGERDUTY_GROUP_LIMITS.alertsMaxBytes) {
      dropped++;
      continue;
    }
    bytes += size;
    alerts.push(a);
  }
  const andMore = g.unlistedFiring + g.unlistedResolved + dropped;
  const dashboard = safeHttpUrl(opts.dashboardUrl);
  const groupLinks = eventLinks(dashboard ? [{ url: dashboard, text: 'Dashboard' }] : [], job.enrichment);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: truncate(singleLine(g.headline), PAGERDUTY_LIMITS.summary),
      source: truncate(singleLine(g.labelsText || opts.productName), 255),
      severity: PAGERDUTY_SEVERITY[job.severity],
      timestamp: new Date(job.transition.atMs).toISOString(),
      class: truncate(singleLine(g.title), 255),
      group: truncate(g.routePath, 255),
      custom_details: {
        group_id: g.id,
        route: g.routePath,
        reason: g.reasonText,
        changes: g.changesText,
        update: g.seq,
        firing_count: g.firingCount,
        resolved_count: g.resolvedCount,
        group_labels: Object.fromEntries(g.labels.map(([k, val]) => [k, truncate(val, PAGERDUTY_GROUP_LIMITS.text)])),
        started: g.startedAt,
        alerts,
        ...(andMore > 0 ? { and_more: andMore } : {}),
        ...pagerDutyEnrichmentDetails(job.enrichment),
      },
    },
    ...(groupLinks.length ? { links: groupLinks } : {}),
    ...(dashboard ? { client_url: dashboard } : {}),
    client: opts.productName,
  };
}
