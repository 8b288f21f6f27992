/**
 * `klaxon routes import`: an Alertmanager configuration (alertmanager.yml, 0.25 syntax) turned into
 * Klaxon's routes document, with the list of what could not be converted and why. Pure: the
 * document arrives parsed; the result is a document {@link compileRoutes} accepts.
 *
 * What maps:
 * - the route tree: `route.receiver` is the root's receiver; each child's `matchers` (same syntax),
 *   legacy `match` (`name="value"`) and `match_re` (`name=~"re"`), `receiver` (inherited when
 *   absent, as in Alertmanager), `continue`, children;
 * - inhibit rules: `source_matchers`, `target_matchers`, `equal`, and the legacy `source_match`,
 *   `source_match_re`, `target_match`, `target_match_re` turned into matchers;
 * - receivers: `slack_configs` → `slack` (`channel` when the config names one and has no
 *   `api_url`: posted with the bot token; otherwise a webhook whose URL goes into the Slack secret
 *   under the receiver's name), `email_configs` → `email.to` (all `to` addresses), and
 *   `pagerduty_configs` → `pagerduty.routingKey` (a key name in the PagerDuty secret: the key
 *   itself is a secret and is never copied into the routes file), and `webhook_configs` → `webhook`
 *   in Alertmanager's format (`url` when https, `max_alerts`; Klaxon signs it with a secret to
 *   create in the webhooks secret).
 *
 * - grouping: `group_by`, `group_wait`, `group_interval`, `repeat_interval` (same syntax and
 *   inheritance). Alertmanager groups by nothing when the root has no `group_by` (one notification
 *   per route and receiver), Klaxon notifies alert by alert: the root then gets `group_by: []`,
 *   to keep Alertmanager's behaviour, and the notes say so;
 * - time intervals: `time_intervals` and the older top-level `mute_time_intervals` (same syntax),
 *   and each route's `mute_time_intervals` / `active_time_intervals`.
 *
 * What does not, and is listed: secrets (webhook URLs, routing keys: where to put them), receiver
 * types Klaxon has no channel for (opsgenie, ...), a second config of one kind in a
 * receiver, per-config options (titles, templates, send_resolved...), a value Klaxon refuses (a
 * duration beyond 7 days, an interval it cannot read, time intervals on the root), and the
 * sections it does not take (templates, global).
 */
import { compileGrouping, type RoutesDocument } from './routes-config.ts';
import { SEVERITIES } from '../../model/index.ts';
import { isSeverity } from '../../model/severity.ts';
import { DEFAULT_GROUP_TIMING } from '../group/aggregation.ts';
import { compileTimeIntervals, type NamedTimeIntervalDocument } from '../time-intervals/time-interval.ts';

/** The converted document and everything left behind, one readable line each. */
export interface ImportResult {
  readonly document: RoutesDocument;
  /** `<where in alertmanager.yml>: <what was not converted and what to do>`. */
  readonly notConverted: string[];
  /** Secrets to create: the key names the document refers to. */
  readonly secrets: string[];
  /** What was converted with a difference worth knowing (e.g. the root's `group_by: []`). */
  readonly notes: string[];
}

type Doc = Record<string, unknown>;
const isObj = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Klaxon receiver names: letters, digits, `_ . : -`; anything else becomes `_`. */
function receiverName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:-]/g, '_') || '_';
}

/** A matcher's value as an Alertmanager/Klaxon double-quoted string. */
function quote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Grouping options of a route, converted as written when Klaxon accepts the value. */
const GROUPING_OPTIONS = ['group_by', 'group_wait', 'group_interval', 'repeat_interval'] as const;
/** A route's time interval names. */
const INTERVAL_OPTIONS = ['mute_time_intervals', 'active_time_intervals'] as const;
/** Fields of a time interval entry (Alertmanager 0.25). */
const INTERVAL_FIELDS = ['times', 'weekdays', 'days_of_month', 'months', 'years', 'location'] as const;
/** Top-level sections the routes document does not take. */
const SECTIONS_NOT_CONVERTED = ['templates'] as const;
/** Receiver config kinds Klaxon has no channel for. */
const OTHER_RECEIVER_KINDS = ['opsgenie_configs', 'victorops_configs', 'pushover_configs', 'wechat_configs', 'telegram_configs', 'sns_configs', 'webex_configs', 'discord_configs', 'msteams_configs'];
/** Options of one slack/email/pagerduty config that have no counterpart (besides the ones mapped). */
const MAPPED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  slack_configs: ['api_url', 'api_url_file', 'channel', 'send_resolved'],
  email_configs: ['to', 'send_resolved'],
  pagerduty_configs: ['routing_key', 'service_key', 'routing_key_file', 'service_key_file', 'send_resolved'],
  webhook_configs: ['url', 'max_alerts', 'send_resolved'],
};

/** A webhook URL Klaxon sends to (routes-config's rule): https, or plain http to this machine. */
const SENDABLE_WEBHOOK_URL = /^(?:https:\/\/|http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?:[:/]|$))/i;

/** True for a matcher `severity="x"` with an `x` Klaxon never sets (its severities are its four): it never matches. */
function deadSeverityMatcher(m: string): boolean {
  const sev = /^\s*severity\s*=\s*"?([^"]*)"?\s*$/.exec(m);
  return sev !== null && !isSeverity(sev[1]);
}

/** Converts a parsed alertmanager.yml (see the module comment). Throws a TypeError when it has no `route`. */
export function importAlertmanager(am: unknown): ImportResult {
  if (!isObj(am) || !isObj(am.route)) throw new TypeError('not an Alertmanager configuration: no `route` section');
  const notConverted: string[] = [];
  const secrets: string[] = [];
  const names = new Map<string, string>();
  const nameOf = (n: string): string => names.get(n) ?? receiverName(n);

  const receivers: NonNullable<RoutesDocument['receivers']> = [];
  asArray(am.receivers).forEach((raw, i) => {
    const at = `receivers[${i}]`;
    if (!isObj(raw) || typeof raw.name !== 'string') {
      notConverted.push(`${at}: not a receiver with a name; skipped`);
      return;
    }
    const name = receiverName(raw.name);
    if (name !== raw.name) notConverted.push(`${at}.name: '${raw.name}' is now '${name}' (letters, digits, _ . : - only)`);
    names.set(raw.name, name);
    const r: Doc = { name };
    const first = (kind: string): Doc | undefined => {
      const list = asArray(raw[kind]);
      if (list.length > 1) notConverted.push(`${at}.${kind}[1..]: only the first ${kind.replace('_configs', '')} config is converted (a Klaxon receiver has one destination per channel: add receivers)`);
      const c = list[0];
      if (c === undefined) return undefined;
      if (!isObj(c)) {
        notConverted.push(`${at}.${kind}[0]: not an object; skipped`);
        return undefined;
      }
      const extra = Object.keys(c).filter((k) => !MAPPED_OPTIONS[kind]!.includes(k));
      if (extra.length) notConverted.push(`${at}.${kind}[0]: ${extra.join(', ')} not converted (Klaxon renders its own messages)`);
      if (c.send_resolved === false) notConverted.push(`${at}.${kind}[0].send_resolved: false is not supported (Klaxon sends resolutions where the firing went)`);
      return c;
    };
    const slack = first('slack_configs');
    if (slack) {
      const channel = typeof slack.channel === 'string' ? slack.channel.replace(/^#/, '') : undefined;
      if (channel && slack.api_url === undefined && slack.api_url_file === undefined) {
        r.slack = { channel };
      } else {
        r.slack = { webhook: name };
        secrets.push(`Slack secret: webhooks.${name} = the webhook URL of ${at}.slack_configs[0]${channel ? ` (channel ${channel})` : ''}`);
      }
    }
    const email = first('email_configs');
    if (email) {
      const to = typeof email.to === 'string' ? email.to.split(',').map((s) => s.trim()).filter(Boolean) : [];
      if (to.length) r.email = { to };
      else notConverted.push(`${at}.email_configs[0].to: no address; email not converted`);
    }
    const pd = first('pagerduty_configs');
    if (pd) {
      r.pagerduty = { routingKey: name };
      secrets.push(`PagerDuty secret: ${name} = the routing key of ${at}.pagerduty_configs[0]${pd.service_key !== undefined ? ' (a service_key is an Events API v1 key: use an Events API v2 integration key)' : ''}`);
    }
    const hook = first('webhook_configs');
    if (hook) {
      const url = typeof hook.url === 'string' ? hook.url : undefined;
      const max = typeof hook.max_alerts === 'number' && hook.max_alerts > 0 ? Math.min(Math.floor(hook.max_alerts), 100) : undefined;
      if (!url) notConverted.push(`${at}.webhook_configs[0]: no url (url_file is not read: write the URL into the routes file); webhook not converted`);
      else if (!SENDABLE_WEBHOOK_URL.test(url)) notConverted.push(`${at}.webhook_configs[0].url: Klaxon sends webhooks over https only (http only to localhost); webhook not converted`);
      else {
        r.webhook = { url, format: 'alertmanager', ...(max !== undefined ? { max_alerts: max } : {}) };
        if (typeof hook.max_alerts === 'number' && hook.max_alerts > 100) notConverted.push(`${at}.webhook_configs[0].max_alerts: ${hook.max_alerts} is now 100 (Klaxon lists at most 100 alerts; the rest are counted in truncatedAlerts)`);
        secrets.push(`Webhooks secret: ${name} = { "secrets": ["whsec_..."] } (Klaxon signs every webhook with the Standard Webhooks scheme; Alertmanager did not, so the receiver may start verifying)`);
      }
    }
    for (const k of OTHER_RECEIVER_KINDS) if (asArray(raw[k]).length) notConverted.push(`${at}.${k}: Klaxon has no ${k.replace('_configs', '')} channel; not converted`);
    if (!r.slack && !r.email && !r.pagerduty && !r.webhook) {
      notConverted.push(`${at}: no Slack, email, PagerDuty or webhook destination; receiver '${name}' left out (routes to it go to the root receiver)`);
      names.set(raw.name, '');
      return;
    }
    receivers.push(r as NonNullable<RoutesDocument['receivers']>[number]);
  });

  // Time intervals first: routes name them. Both top-level keys have the same shape.
  const intervals: NamedTimeIntervalDocument[] = [];
  const intervalNames = new Set<string>();
  for (const key of ['time_intervals', 'mute_time_intervals'] as const) {
    asArray(am[key]).forEach((raw, i) => {
      const at = `${key}[${i}]`;
      if (!isObj(raw) || typeof raw.name !== 'string') {
        notConverted.push(`${at}: not a time interval with a name; skipped`);
        return;
      }
      if (intervalNames.has(raw.name)) {
        notConverted.push(`${at}.name: '${raw.name}' is declared twice; the first is kept`);
        return;
      }
      const entries = asArray(raw.time_intervals).map((e, j) => {
        if (!isObj(e)) return {};
        const extra = Object.keys(e).filter((k) => !(INTERVAL_FIELDS as readonly string[]).includes(k));
        if (extra.length) notConverted.push(`${at}.time_intervals[${j}]: ${extra.join(', ')} not converted (not a time interval field)`);
        return Object.fromEntries(INTERVAL_FIELDS.filter((k) => e[k] !== undefined).map((k) => [k, e[k]]));
      });
      const interval = { name: raw.name, time_intervals: entries } as NamedTimeIntervalDocument;
      const problems: string[] = [];
      compileTimeIntervals([interval], problems);
      if (problems.length) {
        for (const p of problems) notConverted.push(`${p.replace(/^time_intervals\[0\]/, at)}; interval '${raw.name}' not converted (routes naming it lose it)`);
        return;
      }
      intervalNames.add(raw.name);
      intervals.push(interval);
    });
  }

  /** The grouping options and interval names of a route (or the root), each checked as Klaxon will. */
  const convertOptions = (route: Doc, at: string, out: Doc, isRoot: boolean): void => {
    for (const k of GROUPING_OPTIONS) {
      const v = route[k];
      if (v === undefined) continue;
      const ok = k === 'group_by' ? Array.isArray(v) && v.every((x) => typeof x === 'string') : typeof v === 'string';
      const problems: string[] = [];
      if (ok) compileGrouping({ [k]: v }, at, { timing: DEFAULT_GROUP_TIMING }, problems);
      if (!ok || problems.length) {
        notConverted.push(`${at}.${k}: ${JSON.stringify(v)} not converted (${problems.length ? problems.map((p) => p.slice(p.indexOf(': ') + 2)).join('; ') : 'not a valid value'}): the parent's value applies`);
        continue;
      }
      out[k] = v;
    }
    for (const k of INTERVAL_OPTIONS) {
      const names = asArray(route[k]);
      if (!names.length) continue;
      if (isRoot) {
        notConverted.push(`${at}.${k}: not converted (the root route cannot have time intervals; Alertmanager refuses them too)`);
        continue;
      }
      const kept = names.filter((n): n is string => typeof n === 'string' && intervalNames.has(n));
      for (const n of names) if (!kept.includes(n as string)) notConverted.push(`${at}.${k}: ${JSON.stringify(n)} is not a converted time interval; left out`);
      if (kept.length) out[k] = kept;
    }
  };

  type RouteOut = NonNullable<RoutesDocument['routes']>[number];
  const convertRoute = (route: Doc, at: string): RouteOut => {
    const out: Doc = {};
    const matchers: string[] = [];
    for (const m of asArray(route.matchers)) {
      if (typeof m === 'string') matchers.push(m);
      else notConverted.push(`${at}.matchers: ${JSON.stringify(m)} is not a matcher string; skipped`);
    }
    if (isObj(route.match)) for (const [k, v] of Object.entries(route.match)) matchers.push(`${k}=${quote(String(v))}`);
    if (isObj(route.match_re)) for (const [k, v] of Object.entries(route.match_re)) matchers.push(`${k}=~${quote(String(v))}`);
    if (matchers.length) out.matchers = matchers;
    for (const m of matchers) if (deadSeverityMatcher(m)) notConverted.push(`${at}.matchers: ${m} never matches in Klaxon (its severities are ${SEVERITIES.join(', ')}): change it`);
    if (typeof route.receiver === 'string') {
      const n = nameOf(route.receiver);
      if (n) out.receivers = [n];
      else notConverted.push(`${at}.receiver: '${route.receiver}' was not converted; this route keeps its parent's receiver`);
    }
    if (route.continue === true) out.continue = true;
    convertOptions(route, at, out, false);
    const children = asArray(route.routes);
    if (children.length) out.routes = children.map((c, j) => (isObj(c) ? convertRoute(c, `${at}.routes[${j}]`) : {}));
    return out as RouteOut;
  };

  const root = am.route;
  const document: RoutesDocument = {};
  if (typeof root.receiver === 'string') {
    const n = nameOf(root.receiver);
    if (n) document.receiver = n;
    else notConverted.push(`route.receiver: '${root.receiver}' was not converted; the root uses Klaxon's default receiver`);
  }
  const notes: string[] = [];
  const rootOptions: Doc = {};
  convertOptions(root, 'route', rootOptions, true);
  if (rootOptions.group_by === undefined) {
    rootOptions.group_by = [];
    notes.push(
      "route.group_by: absent, so Alertmanager sends one notification per route and receiver for all its alerts; the routes file says group_by: [] to keep that (without it, Klaxon notifies alert by alert)",
    );
  }
  Object.assign(document, rootOptions);
  if (intervals.length) document.time_intervals = intervals as NonNullable<RoutesDocument['time_intervals']>;
  if (root.matchers !== undefined || root.match !== undefined || root.match_re !== undefined) notConverted.push('route: matchers on the root route are ignored (as Alertmanager ignores them)');
  if (receivers.length) document.receivers = receivers;
  const routes = asArray(root.routes);
  if (routes.length) document.routes = routes.map((c, j) => (isObj(c) ? convertRoute(c, `route.routes[${j}]`) : {}));
  const inhibit: NonNullable<RoutesDocument['inhibit_rules']> = [];
  asArray(am.inhibit_rules).forEach((raw, i) => {
    const at = `inhibit_rules[${i}]`;
    if (!isObj(raw)) {
      notConverted.push(`${at}: not an object; skipped`);
      return;
    }
    const side = (name: 'source' | 'target'): string[] => {
      const out: string[] = [];
      for (const m of asArray(raw[`${name}_matchers`])) if (typeof m === 'string') out.push(m);
      const eq = raw[`${name}_match`];
      const re = raw[`${name}_match_re`];
      if (isObj(eq)) for (const [k, v] of Object.entries(eq)) out.push(`${k}=${quote(String(v))}`);
      if (isObj(re)) for (const [k, v] of Object.entries(re)) out.push(`${k}=~${quote(String(v))}`);
      return out;
    };
    const rule: Doc = {};
    const source = side('source');
    const target = side('target');
    if (source.length) rule.source_matchers = source;
    if (target.length) rule.target_matchers = target;
    const equal = asArray(raw.equal).filter((x): x is string => typeof x === 'string');
    if (equal.length) rule.equal = equal;
    for (const m of [...source, ...target]) if (deadSeverityMatcher(m)) notConverted.push(`${at}: ${m} never matches in Klaxon (its severities are ${SEVERITIES.join(', ')}): change it`);
    inhibit.push(rule as NonNullable<RoutesDocument['inhibit_rules']>[number]);
  });
  if (inhibit.length) document.inhibit_rules = inhibit;
  for (const k of SECTIONS_NOT_CONVERTED) if (am[k] !== undefined) notConverted.push(`${k}: not converted (Klaxon renders its own messages)`);
  if (am.global !== undefined) notConverted.push('global: not converted (SMTP, Slack and PagerDuty endpoints are Klaxon deployment settings and secrets)');
  return { document, notConverted, secrets, notes };
}
