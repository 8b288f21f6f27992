/**
 * PagerDuty Events API v2 events for a notification: `trigger` on firing (dedup_key = fingerprint),
 * `resolve` on resolution. Field rules: PagerDuty/api-schema reference/events-v2/openapiv3.json and
 * developer-docs docs/events-API-v2/02-Trigger-Events.md (summary ≤ 1024, dedup_key ≤ 255,
 * severity enum, payload ≤ 512 KB).
 */
import type { NotificationJob, Severity } from '../model/index.ts';
import { alertView } from '../deliver/alert-view.ts';
import { singleLine, truncate } from './escape.ts';

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
/** An Events v2 event body. */
export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve;

/** Options the deployment sets. */
export interface PagerDutyFormatOptions {
  readonly productName: string;
  readonly dashboardUrl?: string;
}

/** Renders the Events v2 event for a job, with the routing key resolved from the secret. */
export function renderPagerDutyEvent(job: NotificationJob, routingKey: string, opts: PagerDutyFormatOptions): PagerDutyEvent {
  const dedupKey = truncate(job.transition.fingerprint, PAGERDUTY_LIMITS.dedupKey);
  if (job.transition.kind === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const v = alertView(job, opts.dashboardUrl);
  const l = job.transition.labels;
  const cut = (s: string): string => truncate(s, PAGERDUTY_LIMITS.customDetailValue);
  const summary = truncate(singleLine(`[${v.severityLabel}] ${v.name} — ${v.instance}${v.summary ? `: ${v.summary}` : ''}`), PAGERDUTY_LIMITS.summary);
  const links = [v.runbook, v.dashboard, ...v.sourceLinks].filter((x): x is NonNullable<typeof x> => !!x).map((x) => ({ href: x.url, text: x.text }));
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
        ...(v.description ? { description: cut(v.description) } : {}),
        rule_id: v.ruleId,
        fingerprint: v.fingerprint,
        labels: Object.fromEntries(v.labels.map(([k, val]) => [k, cut(val)])),
      },
    },
    ...(links.length ? { links } : {}),
    client: opts.productName,
    ...(v.dashboard ? { client_url: v.dashboard.url } : {}),
  };
}
