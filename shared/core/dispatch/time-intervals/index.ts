/**
 * The time-intervals stage (docs/design.md, "The notification pipeline": time intervals): the
 * routes' `mute_time_intervals` and `active_time_intervals` (Alertmanager 0.25's time mute and
 * time active stages). For a firing, the receivers of a route muted now are taken out; when that
 * leaves none, the firing is muted as a silence mutes it: recorded, notified nowhere, and decided
 * again when the interval ends (the timers' re-check sweep, `silence/recheck.ts`). When only some
 * receivers are muted, the others are notified now and the firing is still recorded for a
 * re-check at the interval's end, which notifies the muted receivers only (throttle:
 * `already-notified`). A resolution is never muted: it goes where its firing was notified.
 */
import { decision, next } from '../../pipeline/stage.ts';
import { noted, type DispatchContext, type DispatchDecision, type Muting } from '../context.ts';
import type { RoutedReceiver, RouteNode, RoutingConfig } from '../route/routing.ts';
import { hasTimeIntervals, routeMuteAt } from './route-mute.ts';
import { NEXT_CHANGE_HORIZON_MS } from './time-interval.ts';

export * from './route-mute.ts';
export * from './time-interval.ts';

/** Why the time-intervals stage decided as it did. */
export const TIME_INTERVALS_REASONS = ['no-time-intervals', 'not-muted', 'partly-muted', 'muted', 'resolution'] as const;
/** One of {@link TIME_INTERVALS_REASONS}. */
export type TimeIntervalsReason = (typeof TIME_INTERVALS_REASONS)[number];

/** Readable text for each {@link TimeIntervalsReason}. */
export const TIME_INTERVALS_REASON_TEXT: Readonly<Record<TimeIntervalsReason, string>> = {
  'no-time-intervals': 'no route that took it has time intervals',
  'not-muted': "no route's time intervals mute it now",
  'partly-muted': "some receivers' routes are in a mute time interval (or outside their active ones): the others are notified, the muted ones when the interval ends",
  muted: 'every receiver\'s route is in a mute time interval (or outside its active ones): recorded, not notified, checked again when the interval ends',
  resolution: 'a resolution is not muted by time intervals: it goes where its firing was notified',
};

/** The time-intervals decision. */
export type TimeIntervalsDecision =
  | { readonly verdict: 'notify'; readonly reason: 'no-time-intervals' | 'not-muted' | 'resolution' }
  | {
      readonly verdict: 'mute';
      readonly reason: 'partly-muted' | 'muted';
      /** The receivers still notified now (none when `muted`). */
      readonly receivers: readonly RoutedReceiver[];
      /** The receivers muted, in routing order. */
      readonly mutedReceivers: readonly string[];
      /** The interval names that mute them, sorted. */
      readonly by: readonly string[];
      /** When to decide again: the earliest end of a muting (now + the look-ahead horizon when none ends within it). */
      readonly untilMs: number;
    };

/**
 * Decides which receivers of a firing the time intervals of their routes mute at `nowMs`. Each
 * receiver belongs to the route that named it first (`RoutedReceiver.routePath`, one of
 * `routed`); a route is muted as {@link routeMuteAt} says.
 */
export function decideTimeIntervals(
  kind: 'firing' | 'resolved',
  routed: readonly RouteNode[],
  receivers: readonly RoutedReceiver[],
  config: Pick<RoutingConfig, 'root' | 'timeIntervals'>,
  nowMs: number,
): TimeIntervalsDecision {
  if (kind === 'resolved') return { verdict: 'notify', reason: 'resolution' };
  // A grouped route's time intervals are decided at its group's flush, as Alertmanager does: the
  // alert joins the group now, and the first flush after the interval notifies it.
  const ungrouped = routed.filter((r) => r.groupBy === undefined);
  if (!ungrouped.some(hasTimeIntervals)) return { verdict: 'notify', reason: 'no-time-intervals' };
  const byPath = new Map(ungrouped.map((r) => [r.path, r]));
  const mutes = new Map(ungrouped.map((r) => [r.path, routeMuteAt(r, config, nowMs)]));
  const kept: RoutedReceiver[] = [];
  const mutedReceivers: string[] = [];
  const by = new Set<string>();
  let untilMs = Number.POSITIVE_INFINITY;
  for (const r of receivers) {
    const m = byPath.has(r.routePath) ? mutes.get(r.routePath) : undefined;
    if (!m?.muted) {
      kept.push(r);
      continue;
    }
    mutedReceivers.push(r.name);
    m.by.forEach((n) => by.add(n));
    untilMs = Math.min(untilMs, m.untilMs ?? nowMs + NEXT_CHANGE_HORIZON_MS);
  }
  if (mutedReceivers.length === 0) return { verdict: 'notify', reason: 'not-muted' };
  return { verdict: 'mute', reason: kept.length > 0 ? 'partly-muted' : 'muted', receivers: kept, mutedReceivers, by: [...by].sort(), untilMs };
}

/** The time-intervals stage. */
export const timeIntervalsStage = decision<DispatchContext, DispatchDecision>('time-intervals', (ctx) => {
  const d = decideTimeIntervals(ctx.transition.kind, ctx.routed, ctx.receivers, ctx.routes, ctx.nowMs);
  const note = { stage: 'time-intervals', reason: d.reason, text: TIME_INTERVALS_REASON_TEXT[d.reason] };
  if (d.verdict === 'notify') return next(noted(ctx, note));
  const muting: Muting = { stage: 'time-intervals', by: d.by, untilMs: d.untilMs, ...(d.reason === 'partly-muted' ? { receivers: d.mutedReceivers } : {}) };
  return next(noted(ctx, { ...note, subject: `${d.mutedReceivers.join(',')} by ${d.by.join(',')}` }, { receivers: d.receivers, muted: [...ctx.muted, muting] }));
});
