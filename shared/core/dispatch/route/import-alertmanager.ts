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
 *   itself is a secret and is never copied into the routes file).
 *
 * What does not, and is listed: secrets (webhook URLs, routing keys: where to put them), receiver
 * types Klaxon has no channel for (webhook, opsgenie, ...), a second config of one kind in a
 * receiver, per-config options (titles, templates, send_resolved...), and whatever the routes
 * document does not take (today: grouping and timing options, time intervals).
 */
import type { RoutesDocument } from './routes-config.ts';
import { SEVERITIES } from '../../model/index.ts';
import { isSeverity } from '../../model/severity.ts';

/** The converted document and everything left behind, one readable line each. */
export interface ImportResult {
  readonly document: RoutesDocument;
  /** `<where in alertmanager.yml>: <what was not converted and what to do>`. */
  readonly notConverted: string[];
  /** Secrets to create: the key names the document refers to. */
  readonly secrets: string[];
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

/** Route options the routes document does not take yet, reported per route. */
const ROUTE_OPTIONS_NOT_CONVERTED = ['group_by', 'group_wait', 'group_interval', 'repeat_interval', 'mute_time_intervals', 'active_time_intervals'] as const;
/** Top-level sections the routes document does not take yet. */
const SECTIONS_NOT_CONVERTED = ['time_intervals', 'mute_time_intervals', 'templates'] as const;
/** Receiver config kinds Klaxon has no channel for. */
const OTHER_RECEIVER_KINDS = ['webhook_configs', 'opsgenie_configs', 'victorops_configs', 'pushover_configs', 'wechat_configs', 'telegram_configs', 'sns_configs', 'webex_configs', 'discord_configs', 'msteams_configs'];
/** Options of one slack/email/pagerduty config that have no counterpart (besides the ones mapped). */
const MAPPED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  slack_configs: ['api_url', 'api_url_file', 'channel', 'send_resolved'],
  email_configs: ['to', 'send_resolved'],
  pagerduty_configs: ['routing_key', 'service_key', 'routing_key_file', 'service_key_file', 'send_resolved'],
};

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
    for (const k of OTHER_RECEIVER_KINDS) if (asArray(raw[k]).length) notConverted.push(`${at}.${k}: Klaxon has no ${k.replace('_configs', '')} channel; not converted`);
    if (!r.slack && !r.email && !r.pagerduty) {
      notConverted.push(`${at}: no Slack, email or PagerDuty destination; receiver '${name}' left out (routes to it go to the root receiver)`);
      names.set(raw.name, '');
      return;
    }
    receivers.push(r as NonNullable<RoutesDocument['receivers']>[number]);
  });

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
    for (const k of ROUTE_OPTIONS_NOT_CONVERTED) if (route[k] !== undefined) notConverted.push(`${at}.${k}: not converted yet (${JSON.stringify(route[k])})`);
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
  for (const k of ROUTE_OPTIONS_NOT_CONVERTED) if (root[k] !== undefined) notConverted.push(`route.${k}: not converted yet (${JSON.stringify(root[k])})`);
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
  for (const k of SECTIONS_NOT_CONVERTED) if (am[k] !== undefined) notConverted.push(`${k}: not converted yet`);
  if (am.global !== undefined) notConverted.push('global: not converted (SMTP, Slack and PagerDuty endpoints are Klaxon deployment settings and secrets)');
  return { document, notConverted, secrets };
}
