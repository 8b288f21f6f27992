/**
 * Whether a route's receivers are muted now by its time intervals (docs/routing.md, "Time
 * intervals"), Alertmanager 0.25's `TimeMuteStage` and `TimeActiveStage` in one pure function: a
 * route is muted while any of its `mute_time_intervals` holds, and, when it lists
 * `active_time_intervals`, while none of them holds. Used by the dispatch stage (`index.ts`) for
 * alerts notified one by one, and by the group flush for grouped routes (decided at flush time,
 * as Alertmanager does).
 */
import { findRoute, type RouteNode, type RoutingConfig } from '../route/routing.ts';
import { intervalContains, nextChange } from './time-interval.ts';

/** Why a route is muted. */
export const ROUTE_MUTE_REASONS = ['in-mute-interval', 'outside-active-intervals'] as const;
/** One of {@link ROUTE_MUTE_REASONS}. */
export type RouteMuteReason = (typeof ROUTE_MUTE_REASONS)[number];

/** Readable text for each {@link RouteMuteReason}. */
export const ROUTE_MUTE_REASON_TEXT: Readonly<Record<RouteMuteReason, string>> = {
  'in-mute-interval': 'one of its mute_time_intervals holds',
  'outside-active-intervals': 'none of its active_time_intervals holds',
};

/** A route's muting at an instant. */
export type RouteMute =
  | { readonly muted: false }
  | {
      readonly muted: true;
      readonly reason: RouteMuteReason;
      /** The mute intervals that hold, or (outside the active ones) the active intervals, sorted. */
      readonly by: readonly string[];
      /** When the route stops being muted (a whole minute); undefined: not within `NEXT_CHANGE_HORIZON_MS`. */
      readonly untilMs: number | undefined;
    };

type Intervals = Pick<RoutingConfig, 'timeIntervals'>;

/** Names that hold at `ms` (a name the config does not declare never holds: compileRoutes refuses it). */
function holding(names: readonly string[] | undefined, config: Intervals, ms: number): string[] {
  return (names ?? []).filter((n) => {
    const i = config.timeIntervals?.get(n);
    return i !== undefined && intervalContains(i, ms);
  });
}

function mutedAt(route: RouteNode, config: Intervals, ms: number): boolean {
  if (holding(route.muteTimeIntervals, config, ms).length > 0) return true;
  return (route.activeTimeIntervals?.length ?? 0) > 0 && holding(route.activeTimeIntervals, config, ms).length === 0;
}

/** Whether a route has time intervals at all (most have none: no clock work then). */
export function hasTimeIntervals(route: RouteNode): boolean {
  return (route.muteTimeIntervals?.length ?? 0) > 0 || (route.activeTimeIntervals?.length ?? 0) > 0;
}

/**
 * Whether `route` (a node, or its path such as `routes[1].routes[0]`) is muted at `nowMs` by its
 * own time intervals (they are not inherited), and until when. A path the config does not hold is
 * not muted.
 */
export function routeMuteAt(route: RouteNode | string, config: Intervals & Pick<RoutingConfig, 'root'>, nowMs: number): RouteMute {
  const node = typeof route === 'string' ? findRoute(config.root, route) : route;
  if (!node || !hasTimeIntervals(node)) return { muted: false };
  const mutes = holding(node.muteTimeIntervals, config, nowMs);
  const outsideActive = (node.activeTimeIntervals?.length ?? 0) > 0 && holding(node.activeTimeIntervals, config, nowMs).length === 0;
  if (mutes.length === 0 && !outsideActive) return { muted: false };
  const untilMs = nextChange((ms) => mutedAt(node, config, ms), nowMs);
  if (mutes.length > 0) return { muted: true, reason: 'in-mute-interval', by: [...mutes].sort(), untilMs };
  return { muted: true, reason: 'outside-active-intervals', by: [...node.activeTimeIntervals!].sort(), untilMs };
}
