/**
 * The routes config: its schema (zod), its validation with messages that name the source and the
 * field (`routes.yaml: routes[1].matchers[0]: invalid matcher ...`), and its compilation into a
 * {@link RoutingConfig}. The document arrives already parsed (YAML or JSON); reading it is an
 * adapter's job.
 *
 * ```yaml
 * receiver: default            # optional: who takes alerts no route matches (default `default`)
 * matrix: { low: [slack] }     # optional: override the severity matrix for everyone
 * receivers:
 *   - name: db-team
 *     slack: { channel: C0123 }               # or { webhook: db }  (key in the Slack secret)
 *     # slack: { channel: C0123, authorized: { users: [U0123], user_groups: [S0456] } }  # who may press its buttons
 *     email: { to: [db-oncall@example.com] }
 *     pagerduty: { routingKey: db }           # key name in the PagerDuty secret
 *     webhook: { url: https://tool.example.com/hook, format: alertmanager }  # signed with the receiver's secret (docs/channels.md)
 *     severities: { high: [slack, pagerduty] }
 * routes:
 *   - matchers: ['team="db"']
 *     receivers: [db-team]
 *     continue: true
 *     group_by: [alertname, cluster]          # optional, inherited: one notification per group (['...']: every label)
 *     group_wait: 30s                         # optional, inherited (defaults 30s, 5m, 4h as Alertmanager)
 *     group_interval: 5m
 *     repeat_interval: 4h                     # also the reminder interval of alerts notified one by one
 *     mute_time_intervals: [weekends]         # optional: not notified while one holds (not inherited)
 *     active_time_intervals: [business-hours] # optional: notified only while one holds (not inherited)
 *     lower_severity_outside: { time_intervals: [business-hours], by: 1 }  # optional, inherited
 *     routes: [ ... ]                         # optional children, same shape
 * time_intervals:                             # Alertmanager 0.25's (time-intervals/time-interval.ts)
 *   - name: business-hours
 *     time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] }]
 * ```
 */
import { compileEscalationPolicies, compileRouteEscalation, escalationPoliciesSchema, routeEscalationSchema } from '../escalation-policy/index.ts';
import { z } from 'zod';
import { formatPath } from '../../model/field-path.ts';
import { namedTimeIntervalSchema } from '../time-intervals/schema.ts';

/** Field paths as config errors name them (shared/core/model/field-path.ts). */
export { formatPath, namedTimeIntervalSchema };
import { EMAIL_MAX_RECIPIENTS } from '../../format/email.ts';
import { compileWebhookTemplate, WEBHOOK_LIMITS } from '../../format/webhook.ts';
import { CHANNELS, SEVERITIES, WEBHOOK_FORMATS, type Channel, type Severity } from '../../model/index.ts';
import { MatcherSyntaxError, type Matcher } from '../../matchers/index.ts';
import { parseAlertmanagerMatcher } from '../../matchers/alertmanager.ts';
import { DEFAULT_SEVERITY_MATRIX, type Receiver, type RouteNode, type RoutingConfig, type SeverityMatrix } from './routing.ts';
import { PermanentError } from '../../errors/index.ts';
import { compileInhibitRules, inhibitRuleSchema } from '../inhibit/inhibit-rules.ts';
import { DEFAULT_GROUP_TIMING, type GroupBy, type GroupTiming } from '../group/aggregation.ts';
import { parseDuration } from '../duration.ts';
import { compileTimeIntervals, type NamedTimeIntervalDocument, type TimeInterval } from '../time-intervals/time-interval.ts';
import type { SeverityLowering } from './routing.ts';

/** The longest group_wait / group_interval / repeat_interval accepted (Alertmanager has none; beyond a week is a typo). */
export const MAX_GROUP_DURATION_MS = 7 * 86_400_000;

type GroupingDoc = Pick<RouteDoc, 'group_by' | 'group_wait' | 'group_interval' | 'repeat_interval'>;

/**
 * A route's `group_by` and timing, from its own fields over its parent's (Alertmanager's
 * inheritance). Problems go to `problems` with the field path; the parent's value stands in.
 */
export function compileGrouping(
  r: GroupingDoc,
  path: string,
  parent: { readonly groupBy?: GroupBy; readonly timing: GroupTiming },
  problems: string[],
): { readonly groupBy?: GroupBy; readonly timing: GroupTiming } {
  const at = (f: string): string => (path ? `${path}.${f}` : f);
  let groupBy = parent.groupBy;
  if (r.group_by !== undefined) {
    const names = r.group_by;
    if (names.includes('...')) {
      if (names.length > 1) problems.push(`${at('group_by')}: '...' (every label) must be the only entry`);
      groupBy = 'all';
    } else {
      const bad = names.findIndex((n) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n));
      if (bad >= 0) problems.push(`${at('group_by')}[${bad}]: ${JSON.stringify(names[bad])} is not a label name`);
      const dup = names.findIndex((n, i) => names.indexOf(n) !== i);
      if (dup >= 0) problems.push(`${at('group_by')}[${dup}]: duplicate label ${JSON.stringify(names[dup])}`);
      groupBy = [...new Set(names)].sort();
    }
  }
  const duration = (field: 'group_wait' | 'group_interval' | 'repeat_interval', fallback: number, min: number): number => {
    const text = r[field];
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    if (ms === undefined) {
      problems.push(`${at(field)}: ${JSON.stringify(text)} is not a duration (e.g. 30s, 5m, 4h)`);
      return fallback;
    }
    if (ms < min || ms > MAX_GROUP_DURATION_MS) {
      problems.push(`${at(field)}: ${text} is out of range (${min === 0 ? '0' : '1s'} to 7d)`);
      return fallback;
    }
    return ms;
  };
  const timing: GroupTiming = {
    waitMs: duration('group_wait', parent.timing.waitMs, 0),
    intervalMs: duration('group_interval', parent.timing.intervalMs, 1000),
    repeatMs: duration('repeat_interval', parent.timing.repeatMs, 1000),
  };
  return { ...(groupBy !== undefined ? { groupBy } : {}), timing };
}

/** The routes config is invalid; `message` names the source and every problem with its field path (permanent until fixed). */
export class RoutesConfigError extends PermanentError {
  /** One line per problem: `<field path>: <what is wrong>`. */
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`${source}: invalid routes config:\n  ${problems.join('\n  ')}`, options);
    this.problems = problems;
  }
}

/** Name of the receiver that takes alerts when no route does (unless the config names another). */
export const DEFAULT_RECEIVER = 'default';

/** Where the built-in `default` receiver sends (from deployment config). */
export interface DefaultReceiverSettings {
  /** Key in the Slack secret's `webhooks` map. */
  readonly slackWebhookKey: string;
  /** DEFAULT_EMAIL_RECIPIENTS; no email destination when empty. */
  readonly emailRecipients: readonly string[];
  /** Key in the PagerDuty secret. */
  readonly pagerDutyKeyName: string;
}

/** The built-in default receiver's settings when deployment config gives none. */
export const DEFAULT_RECEIVER_SETTINGS: DefaultReceiverSettings = {
  slackWebhookKey: 'default',
  emailRecipients: [],
  pagerDutyKeyName: 'default',
};

const channelList = z.array(z.enum(CHANNELS));
const severityChannels = z.strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, channelList.optional()])) as Record<Severity, z.ZodOptional<typeof channelList>>);

/**
 * Who may press the buttons of this receiver's Slack messages (docs/incidents.md, "Slack buttons"):
 * Slack user ids and user-group ids. Absent: anyone in the workspace. Bounded: a list of people,
 * not a directory (user groups are for more).
 */
const slackAuthorizedSchema = z
  .strictObject({
    users: z.array(z.string().regex(/^[UW][A-Z0-9]{2,31}$/, 'a Slack user id (U… or W…)')).max(200).optional(),
    user_groups: z.array(z.string().regex(/^S[A-Z0-9]{2,31}$/, 'a Slack user-group id (S…)')).max(20).optional(),
  })
  .refine((a) => (a.users?.length ?? 0) + (a.user_groups?.length ?? 0) > 0, 'list at least one user or user group (leave authorized out to let anyone act)');

/** Hosts a plain-http webhook URL may name: the local machine only (local mode's receiver); anywhere else https. */
const LOCAL_HTTP_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * `webhook:` of a receiver (docs/channels.md, "Webhook"): an https URL (http only to this machine,
 * for local mode), no credentials in it (the signature authenticates Klaxon; a URL's user:password
 * would travel in every job), a format, a template when the format is `template` (checked here, so
 * a bad one fails the routes load, not a notification), how many alerts a group payload lists, and
 * the key of its signing secrets in the webhooks secret (default: the receiver's name).
 */
const webhookSchema = z
  .strictObject({
    url: z
      .string()
      .max(2048)
      .superRefine((v, ctx) => {
        let u: URL;
        try {
          u = new URL(v);
        } catch {
          ctx.addIssue({ code: 'custom', message: `not a URL: ${JSON.stringify(v.slice(0, 80))}` });
          return;
        }
        if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOCAL_HTTP_HOSTS.has(u.hostname))) {
          ctx.addIssue({ code: 'custom', message: `must be an https URL (http only to localhost, for local mode), got ${u.protocol}//${u.host}` });
        }
        if (u.username || u.password) ctx.addIssue({ code: 'custom', message: 'must not carry user:password (the Standard Webhooks signature authenticates Klaxon)' });
      }),
    format: z.enum(WEBHOOK_FORMATS).default('alertmanager'),
    template: z.unknown().optional(),
    max_alerts: z.number().int().min(1).max(WEBHOOK_LIMITS.maxAlerts).optional(),
    secret: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'a key of the webhooks secret: letters, digits, _ . : - only').optional(),
  })
  .superRefine((w, ctx) => {
    if (w.format === 'template') {
      if (w.template === undefined) ctx.addIssue({ code: 'custom', message: 'format template needs a template (a JSON object whose strings may hold {{ placeholders }})', path: ['template'] });
      else for (const p of compileWebhookTemplate(w.template)) ctx.addIssue({ code: 'custom', message: p, path: ['template'] });
    } else if (w.template !== undefined) ctx.addIssue({ code: 'custom', message: `a template is only used with format: template (this receiver's format is ${w.format})`, path: ['template'] });
  });

/** ` (receiver "name")` for a problem inside a receiver's `webhook` (its index alone is hard to find in a long file), else ''. */
function webhookReceiverOf(doc: unknown, path: readonly PropertyKey[]): string {
  if (path[0] !== 'receivers' || typeof path[1] !== 'number' || path[2] !== 'webhook') return '';
  const name = (doc as { receivers?: { name?: unknown }[] } | null)?.receivers?.[path[1]]?.name;
  return typeof name === 'string' ? ` (receiver ${JSON.stringify(name.slice(0, 80))})` : '';
}

const receiverSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only'),
    slack: z
      .strictObject({ webhook: z.string().min(1).optional(), channel: z.string().min(1).optional(), authorized: slackAuthorizedSchema.optional() })
      .refine((s) => (s.webhook === undefined) !== (s.channel === undefined), 'give exactly one of webhook or channel')
      .optional(),
    email: z.strictObject({ to: z.array(z.email()).min(1).max(EMAIL_MAX_RECIPIENTS, `at most ${EMAIL_MAX_RECIPIENTS} recipients (SES's limit per message): split the receiver`) }).optional(),
    pagerduty: z.strictObject({ routingKey: z.string().min(1) }).optional(),
    webhook: webhookSchema.optional(),
    severities: severityChannels.optional(),
  })
  .refine((r) => r.slack || r.email || r.pagerduty || r.webhook, 'a receiver needs at least one of slack, email, pagerduty, webhook');

interface RouteDoc {
  matchers?: string[] | undefined;
  receivers?: string[] | undefined;
  continue?: boolean | undefined;
  group_by?: string[] | undefined;
  group_wait?: string | undefined;
  group_interval?: string | undefined;
  repeat_interval?: string | undefined;
  mute_time_intervals?: string[] | undefined;
  active_time_intervals?: string[] | undefined;
  lower_severity_outside?: LoweringDoc | undefined;
  escalation?: z.infer<typeof routeEscalationSchema> | undefined;
  routes?: RouteDoc[] | undefined;
}

interface LoweringDoc {
  time_intervals: string[];
  by?: number | undefined;
}

/** The most levels a severity can be lowered (critical is never lowered; high to low is 2). */
export const MAX_LOWER_BY = 3;

/** `lower_severity_outside`: lower an alert's severity `by` levels outside every listed interval (inherited). */
const loweringSchema = z.strictObject({
  time_intervals: z.array(z.string().min(1)).min(1, 'list at least one time interval'),
  by: z.number().int().min(0).max(MAX_LOWER_BY).optional(),
});


/** The grouping and timing fields a route (and the document's top level, for the root) may set. */
const groupingFields = {
  group_by: z.array(z.string().min(1)).optional(),
  group_wait: z.string().optional(),
  group_interval: z.string().optional(),
  repeat_interval: z.string().optional(),
};

const routeSchema: z.ZodType<RouteDoc> = z.lazy(() =>
  z.strictObject({
    matchers: z.array(z.string()).optional(),
    receivers: z.array(z.string().min(1)).min(1).optional(),
    continue: z.boolean().optional(),
    ...groupingFields,
    mute_time_intervals: z.array(z.string().min(1)).optional(),
    active_time_intervals: z.array(z.string().min(1)).optional(),
    lower_severity_outside: loweringSchema.optional(),
    escalation: routeEscalationSchema.optional(),
    routes: z.array(routeSchema).optional(),
  }),
);

/** The zod schema of a routes document (also usable to export a JSON Schema). */
export const routesDocumentSchema = z.strictObject({
  receiver: z.string().min(1).optional(),
  matrix: severityChannels.optional(),
  receivers: z.array(receiverSchema).optional(),
  ...groupingFields,
  lower_severity_outside: loweringSchema.optional(),
  escalation: routeEscalationSchema.optional(),
  routes: z.array(routeSchema).optional(),
  inhibit_rules: z.array(inhibitRuleSchema).optional(),
  escalation_policies: escalationPoliciesSchema.optional(),
  time_intervals: z.array(namedTimeIntervalSchema).optional(),
  /**
   * Alertmanager's older name of `time_intervals` (same shape), accepted as Alertmanager does. A
   * list of names here would mute the root route, which Alertmanager refuses too: reported.
   */
  mute_time_intervals: z.array(z.union([namedTimeIntervalSchema, z.string()])).optional(),
  /** Refused with a message (the root takes every alert): declared so the error says why. */
  active_time_intervals: z.unknown().optional(),
});

/** A routes document as written. */
export type RoutesDocument = z.infer<typeof routesDocumentSchema>;


function defaultReceiver(s: DefaultReceiverSettings): Receiver {
  return {
    name: DEFAULT_RECEIVER,
    slack: { kind: 'slack', webhookKey: s.slackWebhookKey },
    ...(s.emailRecipients.length > 0 ? { email: { kind: 'email' as const, to: [...s.emailRecipients] } } : {}),
    pagerduty: { kind: 'pagerduty', routingKeyName: s.pagerDutyKeyName },
  };
}

/**
 * Validates and compiles a parsed routes document. `undefined`/`null` (an empty file, no config)
 * yields the built-in defaults: everything to the `default` receiver by the severity matrix.
 * Throws {@link RoutesConfigError} naming `source` and each bad field.
 */
export function compileRoutes(doc: unknown, source: string, defaults: DefaultReceiverSettings = DEFAULT_RECEIVER_SETTINGS): RoutingConfig {
  const parsed = routesDocumentSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    throw new RoutesConfigError(source, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}${webhookReceiverOf(doc, i.path)}`));
  }
  const d = parsed.data;
  const problems: string[] = [];

  const receivers = new Map<string, Receiver>([[DEFAULT_RECEIVER, defaultReceiver(defaults)]]);
  const declared = new Set<string>();
  (d.receivers ?? []).forEach((r, i) => {
    if (declared.has(r.name)) problems.push(`receivers[${i}].name: duplicate receiver name ${JSON.stringify(r.name)}`);
    declared.add(r.name);
    receivers.set(r.name, {
      name: r.name,
      ...(r.slack ? { slack: { kind: 'slack' as const, ...(r.slack.webhook !== undefined ? { webhookKey: r.slack.webhook } : { channel: r.slack.channel! }) } } : {}),
      ...(r.email ? { email: { kind: 'email' as const, to: r.email.to } } : {}),
      ...(r.pagerduty ? { pagerduty: { kind: 'pagerduty' as const, routingKeyName: r.pagerduty.routingKey } } : {}),
      ...(r.webhook
        ? {
            webhook: {
              kind: 'webhook' as const,
              url: r.webhook.url,
              format: r.webhook.format,
              ...(r.webhook.template !== undefined ? { template: r.webhook.template } : {}),
              ...(r.webhook.max_alerts !== undefined ? { maxAlerts: r.webhook.max_alerts } : {}),
              secretKey: r.webhook.secret ?? r.name,
            },
          }
        : {}),
      ...(r.severities ? { severities: r.severities as Partial<Record<Severity, readonly Channel[]>> } : {}),
      ...(r.slack?.authorized ? { slackAuthorized: { users: r.slack.authorized.users ?? [], userGroups: r.slack.authorized.user_groups ?? [] } } : {}),
    });
  });

  const checkReceivers = (names: readonly string[], at: string): void => {
    names.forEach((n, j) => {
      if (!receivers.has(n)) problems.push(`${at}[${j}]: unknown receiver ${JSON.stringify(n)} (declare it under receivers)`);
    });
  };

  const rootReceivers = [d.receiver ?? DEFAULT_RECEIVER];
  checkReceivers(rootReceivers, 'receiver');

  const timeIntervals = compileRouteTimeIntervals(d, problems);
  const escalationPolicies = compileEscalationPolicies(d.escalation_policies ?? [], (n) => receivers.has(n), problems);
  const checkIntervals = (names: readonly string[], at: string): void => {
    names.forEach((n, j) => {
      if (!timeIntervals.has(n)) problems.push(`${at}[${j}]: unknown time interval ${JSON.stringify(n)} (declare it under time_intervals)`);
    });
  };
  const lowering = (doc: LoweringDoc | undefined, path: string, inherited: SeverityLowering | undefined): SeverityLowering | undefined => {
    if (!doc) return inherited;
    checkIntervals(doc.time_intervals, `${path ? `${path}.` : ''}lower_severity_outside.time_intervals`);
    return { timeIntervals: doc.time_intervals, by: doc.by ?? 1, declaredAt: path || 'root' };
  };

  const compile = (r: RouteDoc, path: string, inherited: readonly string[], parent: Pick<RouteNode, 'groupBy' | 'timing' | 'lowerSeverityOutside' | 'escalation'>): RouteNode => {
    const matchers: Matcher[] = [];
    (r.matchers ?? []).forEach((text, j) => {
      try {
        matchers.push(parseAlertmanagerMatcher(text));
      } catch (err) {
        if (!(err instanceof MatcherSyntaxError)) throw err;
        problems.push(`${path}.matchers[${j}]: ${err.message}`);
      }
    });
    if (r.receivers) checkReceivers(r.receivers, `${path}.receivers`);
    const own = r.receivers ?? inherited;
    const grouping = compileGrouping(r, path, parent, problems);
    // Time intervals are the route's own (Alertmanager 0.25 does not inherit them); the lowering is inherited.
    if (r.mute_time_intervals) checkIntervals(r.mute_time_intervals, `${path}.mute_time_intervals`);
    if (r.active_time_intervals) checkIntervals(r.active_time_intervals, `${path}.active_time_intervals`);
    const lower = lowering(r.lower_severity_outside, path, parent.lowerSeverityOutside);
    const escalation = compileRouteEscalation(r.escalation, `${path}.escalation`, parent.escalation, escalationPolicies, problems);
    const inherits = { ...grouping, ...(lower ? { lowerSeverityOutside: lower } : {}), ...(escalation ? { escalation } : {}) };
    return {
      path,
      matchers,
      receivers: own,
      continue: r.continue ?? false,
      ...grouping,
      ...(r.mute_time_intervals?.length ? { muteTimeIntervals: r.mute_time_intervals } : {}),
      ...(r.active_time_intervals?.length ? { activeTimeIntervals: r.active_time_intervals } : {}),
      ...(lower ? { lowerSeverityOutside: lower } : {}),
      ...(escalation ? { escalation } : {}),
      routes: (r.routes ?? []).map((c, k) => compile(c, `${path}.routes[${k}]`, own, inherits)),
    };
  };

  const rootGrouping = compileGrouping(d, '', { timing: DEFAULT_GROUP_TIMING }, problems);
  const rootLowering = lowering(d.lower_severity_outside, '', undefined);
  const rootEscalation = compileRouteEscalation(d.escalation, 'escalation', undefined, escalationPolicies, problems);
  const rootInherits = { ...rootGrouping, ...(rootLowering ? { lowerSeverityOutside: rootLowering } : {}), ...(rootEscalation ? { escalation: rootEscalation } : {}) };
  const root: RouteNode = {
    path: 'root',
    matchers: [],
    receivers: rootReceivers,
    continue: false,
    ...rootInherits,
    routes: (d.routes ?? []).map((r, i) => compile(r, `routes[${i}]`, rootReceivers, rootInherits)),
  };
  const inhibitRules = compileInhibitRules(d.inhibit_rules ?? [], problems);
  if (problems.length > 0) throw new RoutesConfigError(source, problems);

  const matrix: SeverityMatrix = { ...DEFAULT_SEVERITY_MATRIX, ...(d.matrix as Partial<SeverityMatrix> | undefined) };
  return {
    matrix,
    receivers,
    root,
    source,
    ...(inhibitRules.length > 0 ? { inhibitRules } : {}),
    ...(timeIntervals.size > 0 ? { timeIntervals } : {}),
    ...(escalationPolicies.size > 0 ? { escalationPolicies } : {}),
  };
}

/**
 * The document's named time intervals: `time_intervals` and Alertmanager's older top-level
 * `mute_time_intervals` (same shape), one name space. Names listed at the top level under
 * `mute_time_intervals`, or an `active_time_intervals` there, would apply to the root route,
 * which takes every alert: refused, as Alertmanager refuses them.
 */
function compileRouteTimeIntervals(d: RoutesDocument, problems: string[]): Map<string, TimeInterval> {
  const named = compileTimeIntervals((d.time_intervals ?? []) as NamedTimeIntervalDocument[], problems);
  const old: NamedTimeIntervalDocument[] = [];
  const oldIndex: number[] = [];
  (d.mute_time_intervals ?? []).forEach((m, i) => {
    if (typeof m === 'string') problems.push(`mute_time_intervals[${i}]: the root route cannot be muted (it takes every alert; Alertmanager refuses it too): put mute_time_intervals on a child route (at the top level, this key is the older name of time_intervals)`);
    else {
      old.push(m as NamedTimeIntervalDocument);
      oldIndex.push(i);
    }
  });
  if (d.active_time_intervals !== undefined) problems.push('active_time_intervals: the root route cannot have active time intervals (it takes every alert; Alertmanager refuses it too): put them on a child route');
  const oldProblems: string[] = [];
  const olderNamed = compileTimeIntervals(old, oldProblems);
  // compileTimeIntervals names its paths time_intervals[i]: these came from mute_time_intervals[oldIndex[i]].
  for (const p of oldProblems) problems.push(p.replace(/^time_intervals\[(\d+)\]/, (_, i: string) => `mute_time_intervals[${oldIndex[Number(i)]}]`));
  old.forEach((m, i) => {
    const interval = typeof m.name === 'string' ? olderNamed.get(m.name) : undefined;
    if (!interval) return;
    if (named.has(interval.name)) problems.push(`mute_time_intervals[${oldIndex[i]}].name: duplicate time interval name ${JSON.stringify(interval.name)} (also under time_intervals)`);
    else named.set(interval.name, interval);
  });
  return named;
}
