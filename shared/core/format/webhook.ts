/**
 * Outgoing webhook payloads (docs/channels.md, "Webhook"): the JSON body a `webhook` receiver is
 * POSTed, in one of three formats.
 *
 * 1. `alertmanager`: Alertmanager's webhook JSON, version 4, so a tool that accepts Alertmanager
 *    webhooks works unchanged. The shape is Alertmanager 0.25's `notify/webhook` `Message`
 *    (`*template.Data` + `version`, `groupKey`, `truncatedAlerts`;
 *    https://github.com/prometheus/alertmanager/blob/v0.25.0/notify/webhook/webhook.go,
 *    template/template.go `Data`), checked against the real server in
 *    test/integration/webhook-alertmanager-conformance.test.ts. Times are Go's RFC 3339 with
 *    nanoseconds (trailing zeros dropped); a firing alert's `endsAt` is Go's zero time, as
 *    Alertmanager writes it (`types.Alerts` hides an end that has not come); `fingerprint` is
 *    Alertmanager's own (FNV-1a 64 of the sorted label set), so receivers that deduplicate on it
 *    agree with an Alertmanager sending the same alert.
 * 2. `klaxon`: the seed notification service's payload (alert_id, alert_name, severity,
 *    instance_id, message, value, threshold, runbook_url, timestamp, labels, fire_count) with
 *    Klaxon's additions (event, status, acknowledgements, group...).
 * 3. `template`: a user's JSON document whose strings may hold `{{ path }}` placeholders,
 *    substituted with the value as a JSON string (escaping is JSON.stringify's: no eval, no
 *    template language, nothing executes). Checked when the routes load ({@link compileWebhookTemplate}).
 *
 * Acknowledgements, reminders and escalation steps reach a webhook receiver too: Alertmanager's
 * format has no acknowledgement, so an acknowledgement job is not sent to an `alertmanager`
 * receiver ({@link WebhookRendered} `skip`); a reminder is the same body again (Alertmanager's
 * `repeat_interval` does the same); an escalation step is a firing notification. `klaxon` and
 * `template` say which in `event`. Notes are Slack-thread texts and never reach a webhook.
 *
 * Bounded (Standard Webhooks asks for small payloads): label and annotation values are cut (ending
 * in `…`), the alerts listed are at most `maxAlerts` and the body at most
 * {@link WEBHOOK_LIMITS}.bodyBytes, alerts beyond counted in `truncatedAlerts` (`truncated` in the
 * klaxon format). Pure.
 */
import { enrichmentNotes, type Enrichment } from '../enrich/types.ts';
import { alertView, formatValue, groupView } from '../deliver/alert-view.ts';
import { sha256Hex } from '../dispatch/hash.ts';
import type { GroupMemberView, Labels, NotificationJob, Severity, WebhookDestination } from '../model/index.ts';
import { withSeverityLabel } from '../model/severity.ts';
import { truncate } from './escape.ts';

/** Bounds of a webhook payload and of a user template. */
export const WEBHOOK_LIMITS = {
  /** Labels kept per alert (sorted by name; the rest dropped). */
  labels: 64,
  labelValue: 1024,
  /** Annotations kept per alert. */
  annotations: 32,
  annotationValue: 4096,
  /** Alerts listed by default (Alertmanager's `max_alerts` 0 = all; ours is bounded like a group job). */
  maxAlerts: 100,
  /**
   * The body's UTF-8 size. Standard Webhooks suggests payloads under 20 kB
   * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
   * "Payload size"); a group of 100 alerts needs more, so 64 KiB, alerts dropped from the end first.
   */
  bodyBytes: 64 * 1024,
  /** A user template, serialised. */
  templateBytes: 16 * 1024,
  templateDepth: 8,
  templatePlaceholders: 200,
  /** One substituted value. */
  templateValue: 4096,
} as const;

/** Go's zero `time.Time` as encoding/json writes it: Alertmanager's `endsAt` of a firing alert. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** What a webhook notifier sends: the body, or why nothing is sent for this job. */
export type WebhookRendered = { readonly kind: 'send'; readonly body: string } | { readonly kind: 'skip'; readonly reason: string };

/** Options of {@link renderWebhook}. */
export interface WebhookFormatOptions {
  /** Alertmanager's `externalURL`: where people look (the deployment's dashboard or console); `''` when none. */
  readonly externalUrl?: string;
}

/** Events a `klaxon` or `template` payload names in `event`. */
export const WEBHOOK_EVENTS = ['firing', 'resolved', 'reminder', 'escalation', 'acknowledged', 'unacknowledged'] as const;
/** One of {@link WEBHOOK_EVENTS}. */
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The event a job is. */
export function webhookEvent(job: NotificationJob): WebhookEvent {
  if (job.ack) return job.ack.state;
  if (job.transition.kind === 'resolved') return 'resolved';
  if (job.escalated) return 'escalation';
  if (job.reminder) return 'reminder';
  return 'firing';
}

/**
 * The Standard Webhooks `webhook-id` of a job: stable (the same on every retry, the receiver's
 * idempotency key), derived from the job's idempotency key, within the scheme's rules (no dots or
 * spaces; `msg_` as the spec's examples).
 */
export function webhookMessageId(job: Pick<NotificationJob, 'idempotencyKey'>): string {
  return `msg_${sha256Hex(job.idempotencyKey).slice(0, 32)}`;
}

/** Time as Go's encoding/json writes a UTC `time.Time` (RFC 3339, fraction without trailing zeros). */
export function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/**
 * Alertmanager's fingerprint of a label set (prometheus/common `model.LabelSet.Fingerprint`):
 * FNV-1a 64 over the sorted names, each name and value followed by the byte 0xff, as 16 hex digits.
 */
export function alertmanagerFingerprint(labels: Labels): string {
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  let h = 0xcbf29ce484222325n;
  const add = (bytes: Uint8Array): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * prime) & mask;
  };
  const enc = new TextEncoder();
  const sep = new Uint8Array([0xff]);
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name));
    add(sep);
    add(enc.encode(labels[name]!));
    add(sep);
  }
  return h.toString(16).padStart(16, '0');
}

/** Cuts a label set to the bounds; `cut` counts what was cut. */
function boundLabels(labels: Labels, maxEntries: number, maxValue: number, cut: { values: number }): Record<string, string> {
  const out: Record<string, string> = {};
  const names = Object.keys(labels).sort();
  if (names.length > maxEntries) cut.values += names.length - maxEntries;
  for (const n of names.slice(0, maxEntries)) {
    const v = labels[n]!;
    if (v.length > maxValue) cut.values += 1;
    out[n] = truncate(v, maxValue);
  }
  return out;
}

/** The label pairs every label set shares (Alertmanager's `commonLabels`). */
function common(sets: readonly Labels[]): Record<string, string> {
  if (sets.length === 0) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sets[0]!)) if (sets.every((s) => s[k] === v)) out[k] = v;
  return out;
}

/** Alertmanager's `{name="value", ...}` label-set text (sorted, Go-quoted), for the group key. */
function labelSetText(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

/** One alert as the formats list it (before shaping). */
interface AlertItem {
  readonly status: 'firing' | 'resolved';
  readonly severity: Severity;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly startsAtMs: number;
  readonly endsAtMs: number | undefined;
  readonly generatorUrl: string;
  readonly member?: GroupMemberView;
}

function alertsOf(job: NotificationJob): { items: AlertItem[]; total: number } {
  const g = job.group;
  const t = job.transition;
  if (!g) {
    const resolved = t.kind === 'resolved';
    return {
      items: [{ status: t.kind, severity: job.severity, labels: t.labels, annotations: t.annotations, startsAtMs: t.firedAtMs, endsAtMs: resolved ? (t.resolvedAtMs ?? t.atMs) : undefined, generatorUrl: t.dashboardUrl ?? '' }],
      total: 1,
    };
  }
  const items = [...g.firing, ...g.resolved].map(
    (m): AlertItem => ({ status: m.status, severity: m.severity, labels: m.labels, annotations: m.summary ? { summary: m.summary } : {}, startsAtMs: m.startsAtMs, endsAtMs: m.status === 'resolved' ? (m.endsAtMs ?? t.atMs) : undefined, generatorUrl: '', member: m }),
  );
  return { items, total: Math.max(g.firingCount, g.firing.length) + Math.max(g.resolvedCount, g.resolved.length) };
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Serialises `build(n)` for the largest n ≤ `listed` whose body fits {@link WEBHOOK_LIMITS}.bodyBytes
 * (at least one alert). Throws when even one alert does not fit (a permanent render error).
 */
function fitBody(listed: number, build: (n: number) => unknown): string {
  let n = listed;
  let body = JSON.stringify(build(n));
  while (utf8Bytes(body) > WEBHOOK_LIMITS.bodyBytes && n > 1) {
    // Shrink in proportion, then step: a few serialisations, not one per alert.
    n = Math.max(1, Math.min(n - 1, Math.floor((n * WEBHOOK_LIMITS.bodyBytes) / utf8Bytes(body))));
    body = JSON.stringify(build(n));
  }
  if (utf8Bytes(body) > WEBHOOK_LIMITS.bodyBytes) throw new Error(`webhook payload of one alert is ${utf8Bytes(body)} bytes, over ${WEBHOOK_LIMITS.bodyBytes}`);
  return body;
}

/** Alertmanager's webhook message, version 4 (Alertmanager 0.25 `notify/webhook.Message`). */
export interface AlertmanagerWebhookMessage {
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly {
    readonly status: 'firing' | 'resolved';
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
    readonly startsAt: string;
    readonly endsAt: string;
    readonly generatorURL: string;
    readonly fingerprint: string;
  }[];
  readonly groupLabels: Record<string, string>;
  readonly commonLabels: Record<string, string>;
  readonly commonAnnotations: Record<string, string>;
  readonly externalURL: string;
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
}

/** Alertmanager's v4 body of a job (listing at most `maxAlerts`). */
export function alertmanagerPayload(job: NotificationJob, maxAlerts: number, opts: WebhookFormatOptions): string {
  const { items, total } = alertsOf(job);
  const cut = { values: 0 };
  // Severity is a label (docs/design.md): receivers of Alertmanager webhooks read labels.severity.
  const withSeverity = items.slice(0, maxAlerts).map((a) => ({ ...a, labels: withSeverityLabel(a.labels, a.severity) }));
  const shaped = withSeverity.map((a) => ({
    status: a.status,
    labels: boundLabels(a.labels, WEBHOOK_LIMITS.labels, WEBHOOK_LIMITS.labelValue, cut),
    annotations: boundLabels(a.annotations, WEBHOOK_LIMITS.annotations, WEBHOOK_LIMITS.annotationValue, cut),
    startsAt: goTime(a.startsAtMs),
    endsAt: a.endsAtMs === undefined ? GO_ZERO_TIME : goTime(a.endsAtMs),
    generatorURL: a.generatorUrl,
    // Of the full label set, as Alertmanager's (a cut value would change it).
    fingerprint: alertmanagerFingerprint(a.labels),
  }));
  // One by one (no group_by), a notification is Alertmanager's group_by ['...']: every label groups.
  const groupLabels = boundLabels(job.group ? job.group.labels : withSeverityLabel(job.transition.labels, job.severity), WEBHOOK_LIMITS.labels, WEBHOOK_LIMITS.labelValue, cut);
  // Alertmanager's key: the route's (`{}` for the root) and the group labels. One by one is the root's.
  const route = job.group ? `{}/${job.group.routePath}` : '{}';
  // Common labels and annotations are of the alerts listed: Alertmanager cuts the list to
  // max_alerts first, then computes its template data (notify/webhook/webhook.go `Notify`).
  return fitBody(Math.min(maxAlerts, shaped.length), (n): AlertmanagerWebhookMessage => {
    const listed = shaped.slice(0, n);
    return {
      receiver: job.receiver,
      status: job.transition.kind,
      alerts: listed,
      groupLabels,
      commonLabels: common(listed.map((a) => a.labels)),
      commonAnnotations: common(listed.map((a) => a.annotations)),
      externalURL: opts.externalUrl ?? '',
      version: '4',
      groupKey: `${route}:${labelSetText(groupLabels)}`,
      truncatedAlerts: total - n,
    };
  });
}

/** The threshold of a condition text such as `avg_over_time(5m) > 80` (the seed payload's `threshold`); null when none. */
export function conditionThreshold(condition: string): number | null {
  const m = /(?:>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i.exec(condition);
  return m ? Number(m[1]) : null;
}

/** The seed's human message (its `_format_message`), from the job. */
function klaxonMessage(job: NotificationJob): string {
  const g = groupView(job);
  if (g) return [`${g.headline}`, '', g.changesText].join('\n');
  const v = alertView(job);
  return [
    `${v.resolved ? 'RESOLVED' : 'FIRING'}: ${v.name}`,
    '',
    `Severity: ${v.severityLabel}`,
    `Instance: ${v.instance}`,
    `Value: ${v.value} (condition: ${v.condition || 'n/a'})`,
    ...(v.summary ? ['', `Summary: ${v.summary}`] : []),
    ...(v.description ? [`Description: ${v.description}`] : []),
    '',
    `Runbook: ${v.runbook?.url ?? 'N/A'}`,
    `Fire Count: ${v.fireCount}`,
  ].join('\n');
}

/**
 * The enrichment in the `klaxon` body (docs/enrichment.md): owner, team, on-call, runbook, links,
 * recent log lines (when ready within the budget: a webhook has no thread to add them to later)
 * and what could not be added. Bounded like the rest of the body.
 */
function klaxonEnrichment(e: Enrichment): Record<string, unknown> {
  const link = (l: { text: string; url: string }) => ({ text: truncate(l.text, WEBHOOK_LIMITS.labelValue), url: l.url });
  return {
    owner: e.owner ?? null,
    team: e.team ?? null,
    on_call: e.onCall ?? null,
    runbook_url: e.runbook?.url ?? null,
    links: e.links.slice(0, WEBHOOK_ENRICHMENT_LINKS).map(link),
    traces: e.traces.slice(0, WEBHOOK_ENRICHMENT_LINKS).map(link),
    recent_logs: e.logs?.state === 'ready' ? e.logs.lines.slice(0, WEBHOOK_ENRICHMENT_LOG_LINES).map((l) => ({ at: l.atMs !== undefined ? new Date(l.atMs).toISOString() : null, message: truncate(l.message, WEBHOOK_LIMITS.labelValue) })) : [],
    notes: enrichmentNotes(e),
  };
}

/** Links and log lines of the enrichment in a `klaxon` body (each bounded by {@link WEBHOOK_LIMITS}). */
const WEBHOOK_ENRICHMENT_LINKS = 10;
const WEBHOOK_ENRICHMENT_LOG_LINES = 20;

/** The `klaxon` body: the seed notification service's fields, then Klaxon's. */
export function klaxonPayload(job: NotificationJob, maxAlerts: number): string {
  const t = job.transition;
  const cut = { values: 0 };
  const instance = t.labels.instance ?? t.labels.host ?? t.labels.job ?? t.labels.service ?? null;
  const bl = (l: Labels) => boundLabels(l, WEBHOOK_LIMITS.labels, WEBHOOK_LIMITS.labelValue, cut);
  const base = {
    alert_id: t.fingerprint,
    alert_name: job.group ? (groupView(job)?.title ?? t.ruleName) : t.ruleName || t.labels.alertname || t.ruleId,
    severity: job.severity,
    instance_id: job.group ? null : instance,
    message: truncate(klaxonMessage(job), WEBHOOK_LIMITS.annotationValue),
    value: job.group ? null : t.value,
    threshold: job.group ? null : conditionThreshold(t.condition),
    runbook_url: job.group ? null : (t.runbookUrl ?? t.annotations.runbook_url ?? null),
    timestamp: new Date(t.atMs).toISOString(),
    labels: bl(t.labels),
    fire_count: job.fireCount,
    // Klaxon's additions.
    event: webhookEvent(job),
    status: t.kind,
    receiver: job.receiver,
    rule_id: t.ruleId,
    condition: t.condition,
    annotations: boundLabels(t.annotations, WEBHOOK_LIMITS.annotations, WEBHOOK_LIMITS.annotationValue, cut),
    starts_at: new Date(t.firedAtMs).toISOString(),
    ends_at: t.kind === 'resolved' ? new Date(t.resolvedAtMs ?? t.atMs).toISOString() : null,
    dashboard_url: t.dashboardUrl ?? null,
    ...(job.escalation ? { escalation: { from: job.escalation.from, reason: job.escalation.reason } } : {}),
    ...(job.lowered ? { lowered: { from: job.lowered.from, reason: job.lowered.reason } } : {}),
    ...(job.escalated ? { escalated: { policy: job.escalated.policy, level: job.escalated.level, levels: job.escalated.levels, reason: job.escalated.reason } } : {}),
    ...(job.reminder ? { reminder: { last_sent_at: new Date(job.reminder.lastSentAtMs).toISOString() } } : {}),
    ...(job.ack ? { ack: { state: job.ack.state, by: job.ack.by, at: new Date(job.ack.atMs).toISOString(), source: job.ack.source } } : {}),
    ...(job.suppressed && job.suppressed.count > 0 ? { suppressed: { count: job.suppressed.count, since: new Date(job.suppressed.sinceMs).toISOString() } } : {}),
    ...(job.enrichment ? { enrichment: klaxonEnrichment(job.enrichment) } : {}),
  };
  const g = job.group;
  if (!g) return fitBody(1, () => (cut.values ? { ...base, truncated: { values: cut.values, alerts: 0 } } : base));
  const { items, total } = alertsOf(job);
  const shaped = items.slice(0, maxAlerts).map((a) => ({
    alert_id: a.member!.fingerprint,
    alert_name: a.member!.name,
    status: a.status,
    severity: a.member!.severity,
    instance_id: a.member!.instance === '-' ? null : a.member!.instance,
    summary: a.member!.summary ?? null,
    value: a.member!.value,
    starts_at: new Date(a.startsAtMs).toISOString(),
    ends_at: a.endsAtMs === undefined ? null : new Date(a.endsAtMs).toISOString(),
    labels: bl(a.labels),
    runbook_url: a.member!.runbookUrl ?? null,
    ...(a.member!.isNew ? { new: true } : {}),
  }));
  return fitBody(shaped.length, (n) => ({
    ...base,
    group: {
      id: g.id,
      route: g.routePath,
      reason: g.reason,
      seq: g.seq,
      labels: bl(g.labels),
      firing_count: Math.max(g.firingCount, g.firing.length),
      resolved_count: Math.max(g.resolvedCount, g.resolved.length),
      alerts: shaped.slice(0, n),
      truncated_alerts: total - n,
    },
    ...(cut.values || total > n ? { truncated: { values: cut.values, alerts: total - n } } : {}),
  }));
}

// ---------------------------------------------------------------------------------------------
// User templates

/** Scalar placeholders of a template (`{{ status }}`); `labels.<name>`, `annotations.<name>` and `groupLabels.<name>` besides. */
export const WEBHOOK_TEMPLATE_FIELDS = [
  'event', 'status', 'severity', 'alertname', 'rule', 'fingerprint', 'receiver', 'instance', 'summary', 'description',
  'value', 'condition', 'threshold', 'startsAt', 'endsAt', 'timestamp', 'fireCount', 'runbookUrl', 'dashboardUrl',
  'message', 'firingCount', 'resolvedCount', 'truncatedAlerts', 'ackBy', 'ackSource', 'escalationReason', 'webhookId',
] as const;
/** One of {@link WEBHOOK_TEMPLATE_FIELDS}. */
export type WebhookTemplateField = (typeof WEBHOOK_TEMPLATE_FIELDS)[number];
const MAP_FIELDS = ['labels', 'annotations', 'groupLabels'] as const;

/** `{{ name }}` or `{{ map.key }}`; a fixed pattern (never built from user text). */
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*\}\}/g;
/** Anything that looks like a placeholder, to refuse malformed ones instead of sending them raw. */
const BRACES = /\{\{|\}\}/;

/** A template that passed {@link compileWebhookTemplate}. */
export type WebhookTemplate = unknown;

/**
 * Checks a user template: a JSON object or array (as the routes YAML gives it), at most
 * {@link WEBHOOK_LIMITS}.templateBytes serialised and templateDepth deep, whose strings hold only
 * known placeholders (at most templatePlaceholders). Object keys are literal. Returns the problems
 * (`template.path: what is wrong`), none when usable.
 */
export function compileWebhookTemplate(doc: unknown): string[] {
  const problems: string[] = [];
  if (doc === null || typeof doc !== 'object') return ['template: expected a JSON object or array'];
  let size: number;
  try {
    size = utf8Bytes(JSON.stringify(doc));
  } catch {
    return ['template: not serialisable as JSON'];
  }
  if (size > WEBHOOK_LIMITS.templateBytes) return [`template: ${size} bytes, at most ${WEBHOOK_LIMITS.templateBytes}`];
  let placeholders = 0;
  const walk = (v: unknown, path: string, depth: number): void => {
    if (problems.length >= 10) return;
    if (depth > WEBHOOK_LIMITS.templateDepth) {
      problems.push(`${path}: nested deeper than ${WEBHOOK_LIMITS.templateDepth} levels`);
      return;
    }
    if (typeof v === 'string') {
      for (const m of v.matchAll(PLACEHOLDER)) {
        placeholders += 1;
        const [, head, key] = m;
        const ok = key === undefined ? (WEBHOOK_TEMPLATE_FIELDS as readonly string[]).includes(head!) : (MAP_FIELDS as readonly string[]).includes(head!);
        if (!ok) problems.push(`${path}: unknown placeholder ${m[0]} (fields: ${WEBHOOK_TEMPLATE_FIELDS.join(', ')}; maps: ${MAP_FIELDS.map((f) => `${f}.<name>`).join(', ')})`);
      }
      if (BRACES.test(v.replace(PLACEHOLDER, ''))) problems.push(`${path}: malformed placeholder (write {{ field }} or {{ labels.name }})`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, depth + 1);
    else if (v !== null && typeof v !== 'number' && typeof v !== 'boolean') problems.push(`${path}: unsupported value`);
  };
  walk(doc, 'template', 0);
  if (placeholders > WEBHOOK_LIMITS.templatePlaceholders) problems.push(`template: ${placeholders} placeholders, at most ${WEBHOOK_LIMITS.templatePlaceholders}`);
  return problems;
}

/** The values a template's placeholders take for a job (raw strings; JSON.stringify escapes them). */
export function templateValues(job: NotificationJob, opts: { readonly webhookId: string }): { fields: Record<WebhookTemplateField, string>; maps: Record<(typeof MAP_FIELDS)[number], Labels> } {
  const t = job.transition;
  const { total } = alertsOf(job);
  const g = job.group;
  const firing = g ? Math.max(g.firingCount, g.firing.length) : t.kind === 'firing' ? 1 : 0;
  const resolved = g ? Math.max(g.resolvedCount, g.resolved.length) : t.kind === 'resolved' ? 1 : 0;
  const listed = g ? g.firing.length + g.resolved.length : 1;
  const threshold = conditionThreshold(t.condition);
  return {
    fields: {
      event: webhookEvent(job),
      status: t.kind,
      severity: job.severity,
      alertname: t.labels.alertname ?? t.ruleName,
      rule: t.ruleName,
      fingerprint: t.fingerprint,
      receiver: job.receiver,
      instance: t.labels.instance ?? t.labels.host ?? t.labels.job ?? t.labels.service ?? '',
      summary: t.annotations.summary ?? '',
      description: t.annotations.description ?? '',
      value: g ? '' : formatValue(t.value),
      condition: t.condition,
      threshold: threshold === null ? '' : String(threshold),
      startsAt: new Date(t.firedAtMs).toISOString(),
      endsAt: t.kind === 'resolved' ? new Date(t.resolvedAtMs ?? t.atMs).toISOString() : '',
      timestamp: new Date(t.atMs).toISOString(),
      fireCount: String(job.fireCount),
      runbookUrl: t.runbookUrl ?? t.annotations.runbook_url ?? '',
      dashboardUrl: t.dashboardUrl ?? '',
      message: klaxonMessage(job),
      firingCount: String(firing),
      resolvedCount: String(resolved),
      truncatedAlerts: String(total - listed),
      ackBy: job.ack?.by ?? '',
      ackSource: job.ack?.source ?? '',
      escalationReason: job.escalated?.reason ?? job.escalation?.reason ?? '',
      webhookId: opts.webhookId,
    },
    maps: { labels: t.labels, annotations: t.annotations, groupLabels: g ? g.labels : t.labels },
  };
}

/** Renders a (checked) template for a job: every placeholder replaced by its value, cut to templateValue characters. */
export function templatePayload(template: WebhookTemplate, job: NotificationJob): string {
  const { fields, maps } = templateValues(job, { webhookId: webhookMessageId(job) });
  const sub = (s: string): string =>
    s.replace(PLACEHOLDER, (_m, head: string, key: string | undefined) => {
      const raw = key === undefined ? (fields as Record<string, string>)[head] : (maps as Record<string, Labels>)[head]?.[key];
      return truncate(raw ?? '', WEBHOOK_LIMITS.templateValue);
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return sub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return fitBody(1, () => walk(template));
}

/** Renders a job for a webhook destination: the body to POST, or why this job is not sent. */
export function renderWebhook(job: NotificationJob, opts: WebhookFormatOptions = {}): WebhookRendered {
  const d = job.destination;
  if (d.kind !== 'webhook') throw new Error(`webhook formatter got a ${d.kind} destination`);
  const dest: WebhookDestination = d;
  const maxAlerts = Math.max(1, Math.min(dest.maxAlerts ?? WEBHOOK_LIMITS.maxAlerts, WEBHOOK_LIMITS.maxAlerts));
  switch (dest.format) {
    case 'alertmanager':
      if (job.ack) return { kind: 'skip', reason: `not sent: Alertmanager's webhook format has no acknowledgement (${job.ack.state} by ${job.ack.by})` };
      return { kind: 'send', body: alertmanagerPayload(job, maxAlerts, opts) };
    case 'klaxon':
      return { kind: 'send', body: klaxonPayload(job, maxAlerts) };
    case 'template':
      return { kind: 'send', body: templatePayload(dest.template ?? {}, job) };
  }
}
