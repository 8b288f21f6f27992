/**
 * `klaxon notify test`: what dispatch would do with a set of firing alerts, run on the real stages
 * with in-memory stores (docs/routing.md, "Simulating notifications"). Every alert fires first
 * (through `dispatchTransition`: inhibit sources register as they would in production); then each
 * alert is decided by the deciding stages (`decideDispatch`) with everything firing, as
 * Alertmanager's inhibitor and silencer see a set of active alerts. Nothing is sent.
 *
 * Groups are Alertmanager's: one per (route, receiver, values of the route's `group_by`):
 * `groupLabels` are the alert's values of its route's `group_by` labels (`{}` when the route has
 * none or `group_by: []`), read on the labels routes match (`severity` among them).
 *
 * Time intervals: unlike Alertmanager's `amtool config routes test`, which ignores them, the
 * simulation runs at `--at`: a receiver whose route is muted then (in one of its
 * `mute_time_intervals`, or outside its `active_time_intervals`) is left out of `receivers` and
 * `groups`, and the intervals that mute it are listed in `mutedBy`.
 */
import type { AlertTransition, Labels } from '../model/index.ts';
import { fingerprint } from '../evaluate/identity.ts';
import { DEFAULT_DISPATCH_CONFIG } from './context.ts';
import { decideDispatch, dispatchTransition } from './pipeline.ts';
import { fixedRoutes, InMemoryAlertStore, InMemoryInhibitionStore } from './in-memory.ts';
import { CollectingFlushScheduler, InMemoryGroupStore } from './group/in-memory.ts';
import { inhibitReadKeys } from './inhibit/inhibition.ts';
import { routeAlert, type RoutingConfig } from './route/routing.ts';
import { groupLabelsOf } from './group/aggregation.ts';
import { routeMuteAt } from './time-intervals/route-mute.ts';
import { isSeverity, withSeverityLabel } from '../model/severity.ts';
import type { CompiledSilence } from './silence/silence.ts';

/** One alert's outcome, in the `--json` contract of `klaxon notify test`. */
export interface SimulatedAlert {
  readonly labels: Labels;
  /** Receivers the routes reach, sorted, unique (whether or not a silence or an inhibition mutes the alert; not those whose route a time interval mutes at `--at`). */
  readonly receivers: string[];
  /** Ids of the active silences that mute it. */
  readonly silencedBy: string[];
  /** Names of the time intervals that mute some of its routes at `--at`, sorted (their receivers are not in `receivers`). */
  readonly mutedBy: string[];
  /** 0-based input indexes of every alert that inhibits it. */
  readonly inhibitedBy: number[];
  readonly groups: { receiver: string; route: string; groupLabels: Labels }[];
}

/** `routes[1].routes[0]` → `0.1.0` (Alertmanager's route position: the root is `0`). */
export function routePosition(path: string): string {
  if (path === 'root') return '0';
  return `0.${[...path.matchAll(/\[(\d+)\]/g)].map((m) => m[1]).join('.')}`;
}

/** The firing transition an input alert stands for (its severity label when it is one, else critical). */
function transitionOf(labels: Labels, i: number, nowMs: number): AlertTransition {
  const ruleId = labels.alertname ?? 'alert';
  const fp = fingerprint(ruleId, labels);
  const severity = isSeverity(labels.severity) ? labels.severity : 'critical';
  return {
    version: 1,
    transitionId: `notify-test-${i}-${fp}`,
    kind: 'firing',
    fingerprint: fp,
    ruleId,
    ruleName: ruleId,
    severity,
    labels,
    annotations: {},
    value: null,
    condition: '',
    atMs: nowMs,
    activeAtMs: nowMs,
    firedAtMs: nowMs,
    emittedAtMs: nowMs,
  };
}

/** Runs the simulation (see the module comment). */
export async function simulateNotifications(routes: RoutingConfig, alerts: readonly Labels[], silences: readonly CompiledSilence[], nowMs: number): Promise<SimulatedAlert[]> {
  const ts = alerts.map((l, i) => transitionOf(l, i, nowMs));
  const inhibitions = new InMemoryInhibitionStore();
  const ports = {
    alerts: new InMemoryAlertStore(),
    jobs: { publish: async () => undefined },
    routes: fixedRoutes(routes),
    clock: { now: () => nowMs },
    inhibitions,
    releases: { publish: async () => undefined },
    silences: { current: async () => silences },
    // Groups are kept but never flushed: the simulation says which group each alert joins.
    groups: new InMemoryGroupStore(),
    flushes: new CollectingFlushScheduler(),
  };
  // Everything fires: inhibit sources register in their items.
  for (const t of ts) await dispatchTransition(ports, t, { config: DEFAULT_DISPATCH_CONFIG });
  const indexesOf = new Map<string, number[]>();
  ts.forEach((t, i) => indexesOf.set(t.fingerprint, [...(indexesOf.get(t.fingerprint) ?? []), i]));
  const out: SimulatedAlert[] = [];
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const keys = inhibitReadKeys(routes.inhibitRules ?? [], withSeverityLabel(t.labels, t.severity));
    const inhibitItems = keys.length > 0 ? await inhibitions.read(keys) : new Map();
    const d = decideDispatch(undefined, t, routes, DEFAULT_DISPATCH_CONFIG, nowMs, { inhibitItems, silences });
    const routed = routeAlert(t.labels, t.severity, routes);
    const labels = withSeverityLabel(t.labels, t.severity);
    // Each receiver belongs to the first route naming it, as in dispatch; a route muted now mutes its receivers.
    const byRoute = new Map<string, (typeof routed.routes)[number]>();
    for (const r of routed.routes) for (const name of r.receivers) if (!byRoute.has(name)) byRoute.set(name, r);
    const mutedBy = new Set<string>();
    const notified: [string, (typeof routed.routes)[number]][] = [];
    for (const [receiver, route] of byRoute) {
      const m = routeMuteAt(route, routes, nowMs);
      if (m.muted) m.by.forEach((n) => mutedBy.add(n));
      else notified.push([receiver, route]);
    }
    out.push({
      labels: t.labels,
      receivers: notified.map(([name]) => name).sort(),
      silencedBy: [...(d.silencedBy ?? [])],
      mutedBy: [...mutedBy].sort(),
      inhibitedBy: [...new Set((d.inhibitedBy ?? []).flatMap((fp) => indexesOf.get(fp) ?? []))].filter((j) => j !== i).sort((a, b) => a - b),
      groups: notified.map(([receiver, route]) => ({ receiver, route: routePosition(route.path), groupLabels: route.groupBy ? groupLabelsOf(route.groupBy, labels) : {} })),
    });
  }
  return out;
}
