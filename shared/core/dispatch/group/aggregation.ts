/**
 * What makes a group (docs/routing.md, "Grouping"), as Alertmanager 0.25 does it
 * (dispatch/dispatch.go `aggrGroup`): a group is one (route, receiver, group labels), the group
 * labels being the alert's values of the route's `group_by` labels (`...`: every label); and the
 * route's timing (`group_wait`, `group_interval`, `repeat_interval`). The stored group and its
 * flush are `group.ts`.
 */
import type { Labels } from '../../model/index.ts';

/** A route's timing, milliseconds. */
export interface GroupTiming {
  readonly waitMs: number;
  readonly intervalMs: number;
  readonly repeatMs: number;
}

/** Alertmanager's defaults: group_wait 30s, group_interval 5m, repeat_interval 4h. */
export const DEFAULT_GROUP_TIMING: GroupTiming = { waitMs: 30_000, intervalMs: 300_000, repeatMs: 4 * 3_600_000 };

/** `group_by`: label names, or `all` for Alertmanager's `['...']` (every label: one group per alert). */
export type GroupBy = readonly string[] | 'all';

/** The group labels of an alert under `group_by`: the listed labels it has (a missing one is left out, as Alertmanager does). */
export function groupLabelsOf(by: GroupBy, labels: Labels): Labels {
  if (by === 'all') return { ...labels };
  const out: Record<string, string> = {};
  for (const name of [...by].sort()) if (labels[name] !== undefined && labels[name] !== '') out[name] = labels[name];
  return out;
}

/** A group's key: the route, the receiver and the group labels (sorted), unambiguous (JSON). */
export function groupKeyOf(routePath: string, receiver: string, groupLabels: Labels): string {
  const sorted = Object.keys(groupLabels)
    .sort()
    .map((k) => [k, groupLabels[k]!]);
  return JSON.stringify([routePath, receiver, sorted]);
}
