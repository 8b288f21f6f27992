/**
 * Severity by business hours (docs/routing.md, "Severity by business hours"): a route's
 * `lower_severity_outside: { time_intervals: [...], by: N }` (inherited by its children) lowers an
 * alert's severity N levels while none of those intervals holds, never below `low`, and never a
 * critical one: what a critical rule demands is always notified as critical. An alert that several
 * routes take is lowered only when every one of them asks for it, by the fewest levels any asks
 * (one team's lowering never quietens another team's notification). Pure: the instant is given.
 */
import { SEVERITIES, type Severity } from '../../model/index.ts';
import type { Lowering } from '../context.ts';
import type { RouteNode, RoutingConfig } from '../route/routing.ts';
import { intervalContains } from '../time-intervals/time-interval.ts';

/** Why the severity was lowered, or not. */
export const LOWER_REASONS = ['no-lowering', 'not-every-route', 'critical', 'inside-interval', 'already-lowest', 'outside-intervals', 'resolution'] as const;
/** One of {@link LOWER_REASONS}. */
export type LowerReason = (typeof LOWER_REASONS)[number];

/** Readable text for each {@link LowerReason}. */
export const LOWER_REASON_TEXT: Readonly<Record<LowerReason, string>> = {
  'no-lowering': 'no route that took it lowers severities outside time intervals',
  'not-every-route': 'a route that took it does not lower severities: kept',
  critical: 'a critical alert is never lowered',
  'inside-interval': 'one of the intervals it is lowered outside of holds now: kept',
  'already-lowest': 'already low: nothing lower',
  'outside-intervals': 'outside every interval its routes name: lowered',
  resolution: "a resolution repeats its firing's severity",
};

/** The lowering decision. */
export interface LowerDecision {
  readonly reason: LowerReason;
  readonly severity: Severity;
  /** Set when lowered: from what, and why ("outside business-hours (routes[0])"). */
  readonly lowered?: Lowering;
}

/** `severity` lowered `by` levels, `low` at the least. */
export function lowerSeverity(severity: Severity, by: number): Severity {
  return SEVERITIES[Math.min(SEVERITIES.indexOf(severity) + Math.max(0, by), SEVERITIES.length - 1)]!;
}

/**
 * Decides the severity of a firing taken by `routes` (the routes whose receivers are notified) at
 * `nowMs`: lowered when every route has a `lower_severity_outside` with `by > 0` and none of their
 * intervals holds, by the smallest `by`; a critical alert is never lowered. A resolution keeps its
 * severity (the firing's, as the record holds it).
 */
export function decideLowering(kind: 'firing' | 'resolved', severity: Severity, routes: readonly RouteNode[], config: Pick<RoutingConfig, 'timeIntervals'>, nowMs: number): LowerDecision {
  if (kind === 'resolved') return { reason: 'resolution', severity };
  const policies = routes.map((r) => r.lowerSeverityOutside).filter((p) => p !== undefined && p.by > 0);
  if (policies.length === 0) return { reason: 'no-lowering', severity };
  if (severity === 'critical') return { reason: 'critical', severity };
  if (policies.length < routes.length) return { reason: 'not-every-route', severity };
  const names = [...new Set(policies.flatMap((p) => p!.timeIntervals))];
  const holds = names.some((n) => {
    const i = config.timeIntervals?.get(n);
    return i !== undefined && intervalContains(i, nowMs);
  });
  if (holds) return { reason: 'inside-interval', severity };
  if (severity === 'low') return { reason: 'already-lowest', severity };
  const by = Math.min(...policies.map((p) => p!.by));
  const where = [...new Set(policies.map((p) => p!.declaredAt))];
  return { reason: 'outside-intervals', severity: lowerSeverity(severity, by), lowered: { from: severity, reason: `outside ${names.join(', ')} (${where.join(', ')})` } };
}
