/**
 * Aggregation groups, as Alertmanager 0.25 keeps them (dispatch/dispatch.go `aggrGroup`, notify's
 * `DedupStage.needsUpdate`), as pure functions over a group's stored state and the clock: the
 * decisions the group stage and the flush of a due group will take (docs/design.md, "The
 * notification pipeline": group). Not wired into dispatch yet: dispatch still notifies per alert.
 *
 * - A group is one (route, receiver, group labels): the alert's values of the route's `group_by`
 *   labels (`...`: every label).
 * - A new group is flushed `group_wait` after its first alert, or at once when that alert started
 *   longer than `group_wait` ago; then every `group_interval`.
 * - A flush notifies when a firing alert was not in the last notification, when every alert of the
 *   last notification's firing set resolved, when a resolved alert was not in it (resolutions are
 *   sent), or when nothing changed but `repeat_interval` has passed since the last notification.
 *   A group whose alerts fired and resolved between two flushes, unseen, notifies nothing.
 * - Resolved alerts leave the group after the flush; an empty group is deleted.
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
