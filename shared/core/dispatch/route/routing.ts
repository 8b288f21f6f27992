/**
 * Routing: which receivers and channels an alert reaches.
 *
 * Two layers, as docs/design.md ("Severity is a label") describes them:
 * 1. label routes (Alertmanager-like tree): ordered routes with matchers, depth-first, the first
 *    matching route wins unless it says `continue: true`; a route with no matching child handles
 *    the alert itself; an alert no route takes goes to the root receiver (`default`);
 * 2. the severity matrix, per receiver: which of the receiver's channels a severity uses
 *    (critical → email + Slack + PagerDuty + webhook, high → email + Slack + webhook, medium →
 *    Slack + webhook, low → none; a receiver without a destination on a channel skips it),
 *    overridable per receiver (`severities`) or for the whole config (`matrix`).
 *
 * Pure: the config arrives compiled ({@link RoutingConfig}, see `routes-config.ts`).
 */
import type { Channel, Destination, EmailDestination, Labels, PagerDutyDestination, Severity, SlackDestination, WebhookDestination } from '../../model/index.ts';
import { matchesAll, type Matcher } from '../../matchers/index.ts';
import { sha256Hex } from '../hash.ts';
import { withSeverityLabel } from '../../model/severity.ts';
import type { InhibitRule } from '../inhibit/inhibit-rules.ts';
import type { GroupBy, GroupTiming } from '../group/aggregation.ts';
import type { TimeInterval } from '../time-intervals/time-interval.ts';
import type { EscalationPolicy, RouteEscalation } from '../escalation-policy/index.ts';
import type { SlackAuthorization } from '../../interact/authorize.ts';

/** Channels per severity: which channels a notification of that severity goes to. */
export type SeverityMatrix = Readonly<Record<Severity, readonly Channel[]>>;

/**
 * The default severity matrix (docs/design.md, "Severity is a label"). Low is recorded only. A
 * webhook receiver takes what Slack takes (critical, high, medium): the tools behind webhooks
 * (incident tools, ticketing, chat bridges) sort by severity themselves; `severities` narrows it
 * per receiver (docs/channels.md, "Webhook").
 */
export const DEFAULT_SEVERITY_MATRIX: SeverityMatrix = {
  critical: ['email', 'slack', 'pagerduty', 'webhook'],
  high: ['email', 'slack', 'webhook'],
  medium: ['slack', 'webhook'],
  low: [],
};

/** A named set of destinations, one per channel at most. */
export interface Receiver {
  readonly name: string;
  readonly slack?: SlackDestination;
  readonly email?: EmailDestination;
  readonly pagerduty?: PagerDutyDestination;
  readonly webhook?: WebhookDestination;
  /** Per-severity override of the matrix for this receiver (absent severities use the matrix). */
  readonly severities?: Partial<Record<Severity, readonly Channel[]>>;
  /** Who may press the buttons of its Slack messages (routes config `slack.authorized`); absent: anyone. */
  readonly slackAuthorized?: SlackAuthorization;
}

/** One node of the routing tree. */
export interface RouteNode {
  /** Where it is in the config, e.g. `routes[1].routes[0]`; `root` for the root. */
  readonly path: string;
  readonly matchers: readonly Matcher[];
  /** Receiver names (inherited from the parent when the config gives none). */
  readonly receivers: readonly string[];
  readonly continue: boolean;
  readonly routes: readonly RouteNode[];
  /**
   * `group_by` (inherited): the labels whose values make an alert's group on this route
   * (docs/routing.md, "Grouping"); `all` for `['...']`. Absent when neither this route nor any
   * above it sets `group_by`: alerts are notified one by one, at once (Klaxon's default).
   */
  readonly groupBy?: GroupBy;
  /** `group_wait`, `group_interval`, `repeat_interval` (inherited; Alertmanager's defaults at the root). The repeat applies to alerts notified one by one too. */
  readonly timing: GroupTiming;
  /**
   * `mute_time_intervals` (names; not inherited, as in Alertmanager 0.25): the route's receivers
   * are not notified while any of them holds (docs/routing.md, "Time intervals").
   */
  readonly muteTimeIntervals?: readonly string[];
  /** `active_time_intervals` (names; not inherited): the route's receivers are notified only while one of them holds. */
  readonly activeTimeIntervals?: readonly string[];
  /**
   * `lower_severity_outside` (inherited): outside every one of these intervals, the alert's
   * severity is lowered `by` levels, never below `low`, and never for a critical alert
   * (docs/routing.md, "Severity by business hours"). `declaredAt` is the path of the route that
   * wrote it (the notification says why).
   */
  readonly lowerSeverityOutside?: SeverityLowering;
  /**
   * `escalation` (inherited; `none` turns it off): the escalation policy per severity of alerts
   * this route notifies (docs/incidents.md, "Escalation policies").
   */
  readonly escalation?: RouteEscalation;
}

/** A route's `lower_severity_outside`, compiled. */
export interface SeverityLowering {
  readonly timeIntervals: readonly string[];
  /** Levels to lower (0: not lowered, a child's way to turn its parent's off). */
  readonly by: number;
  /** The route that declared it (`root`, `routes[0]`). */
  readonly declaredAt: string;
}

/** A validated, compiled routes config. */
export interface RoutingConfig {
  readonly matrix: SeverityMatrix;
  readonly receivers: ReadonlyMap<string, Receiver>;
  /** Matches everything; its receivers take alerts no child route takes. */
  readonly root: RouteNode;
  /** Where the config came from (a file path, an SSM parameter, `built-in defaults`). */
  readonly source: string;
  /** `inhibit_rules` (docs/routing.md, "Inhibition"); absent or empty: nothing is inhibited. */
  readonly inhibitRules?: readonly InhibitRule[];
  /** `time_intervals` by name (docs/routing.md, "Time intervals"); absent or empty: none declared. */
  readonly timeIntervals?: ReadonlyMap<string, TimeInterval>;
  /** `escalation_policies` by name (docs/incidents.md, "Escalation policies"); absent: none declared. */
  readonly escalationPolicies?: ReadonlyMap<string, EscalationPolicy>;
}

/** One place a notification goes: a receiver's destination on one channel. */
export interface RouteTarget {
  readonly receiver: string;
  readonly channel: Channel;
  readonly destination: Destination;
  readonly destinationId: string;
  /** The route that chose the receiver. */
  readonly routePath: string;
}

/** What routing decided for an alert. */
export interface RoutingResult {
  /** Routes that took the alert, in order (the root when none matched). */
  readonly routes: readonly RouteNode[];
  /** Receivers reached, in order, without repeats. */
  readonly receivers: readonly string[];
  /** Where notifications go; one per (channel, destination) even if several receivers share it. */
  readonly targets: readonly RouteTarget[];
}

/**
 * The stable, secret-free id of a destination: the circuit breaker's key and part of delivery
 * records. `slack:webhook:<key>`, `slack:channel:<id>`, `email:<hash of sorted recipients>`,
 * `pagerduty:<key name>`, `webhook:<secret key>:<hash of the URL>` (a URL may carry a token).
 */
export function destinationId(d: Destination): string {
  switch (d.kind) {
    case 'slack':
      return d.webhookKey !== undefined ? `slack:webhook:${d.webhookKey}` : `slack:channel:${d.channel ?? ''}`;
    case 'email':
      // Addresses are personal data: the id carries a hash, not the list.
      return `email:${sha256Hex([...d.to].map((a) => a.toLowerCase()).sort().join(',')).slice(0, 16)}`;
    case 'pagerduty':
      return `pagerduty:${d.routingKeyName}`;
    case 'webhook':
      return `webhook:${d.secretKey}:${sha256Hex(d.url).slice(0, 16)}`;
  }
}

/** The routes (leaves of the walk) that take an alert with these labels (Alertmanager `Route.Match`). */
export function matchRoutes(node: RouteNode, labels: Labels): RouteNode[] {
  if (!matchesAll(node.matchers, labels)) return [];
  const out: RouteNode[] = [];
  for (const child of node.routes) {
    const m = matchRoutes(child, labels);
    out.push(...m);
    if (m.length > 0 && !child.continue) break;
  }
  // No child took it: this route handles it itself.
  if (out.length === 0) out.push(node);
  return out;
}

/** The route at `path` (`root`, `routes[1].routes[0]`), or undefined. */
export function findRoute(root: RouteNode, path: string): RouteNode | undefined {
  if (root.path === path) return root;
  for (const child of root.routes) {
    if (path !== child.path && !path.startsWith(`${child.path}.`)) continue;
    const found = findRoute(child, path);
    if (found) return found;
  }
  return undefined;
}

/** The channels a receiver uses for a severity. */
export function channelsFor(receiver: Receiver, severity: Severity, matrix: SeverityMatrix): readonly Channel[] {
  return receiver.severities?.[severity] ?? matrix[severity];
}

function destinationOf(receiver: Receiver, channel: Channel): Destination | undefined {
  return receiver[channel];
}

/** A receiver the routes reached, and the route that named it first. */
export interface RoutedReceiver {
  readonly name: string;
  readonly routePath: string;
}

/** The receivers a list of matched routes names, in order, without repeats (each with the route that named it first). */
export function receiversOf(routes: readonly RouteNode[]): RoutedReceiver[] {
  const out: RoutedReceiver[] = [];
  const seen = new Set<string>();
  for (const route of routes) {
    for (const name of route.receivers) {
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ name, routePath: route.path });
    }
  }
  return out;
}

/**
 * The severity matrix applied to receivers: each receiver's destinations on the channels its
 * severity uses ({@link channelsFor}). Two receivers that resolve to the same destination on the
 * same channel produce one target (the first), so one alert never notifies the same place twice.
 */
export function targetsFor(receivers: readonly RoutedReceiver[], severity: Severity, config: Pick<RoutingConfig, 'receivers' | 'matrix'>): RouteTarget[] {
  const targets: RouteTarget[] = [];
  const seen = new Set<string>();
  for (const { name, routePath } of receivers) {
    const receiver = config.receivers.get(name);
    // Compilation checks every name; a missing one here means a hand-built config: skip it.
    if (!receiver) continue;
    for (const channel of channelsFor(receiver, severity, config.matrix)) {
      const destination = destinationOf(receiver, channel);
      if (!destination) continue;
      const id = destinationId(destination);
      const key = `${channel}|${id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      targets.push({ receiver: name, channel, destination, destinationId: id, routePath });
    }
  }
  return targets;
}

/**
 * Routes an alert in one call (the CLI's `routes test`): the label routes pick receivers, with
 * `severity` among the labels (docs/design.md, "Severity is a label"), and the severity picks each
 * receiver's channels. Dispatch does the same in two stages, route and channels, with escalation
 * between them (docs/design.md, "The notification pipeline").
 */
export function routeAlert(labels: Labels, severity: Severity, config: RoutingConfig): RoutingResult {
  const routes = matchRoutes(config.root, withSeverityLabel(labels, severity));
  const receivers = receiversOf(routes);
  return { routes, receivers: receivers.map((r) => r.name), targets: targetsFor(receivers, severity, config) };
}
