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

/** One alert of a group as the group last saw it. */
export interface GroupAlert {
  readonly status: 'firing' | 'resolved';
  /** When the alert started firing (its activeAt, or the firing time). */
  readonly startsAtMs: number;
}

/** What the last notification of the group held (Alertmanager's notification log entry). */
export interface GroupNotified {
  readonly atMs: number;
  readonly firing: readonly string[];
  readonly resolved: readonly string[];
}

/** A group's stored state. */
export interface GroupState {
  readonly key: string;
  readonly routePath: string;
  readonly receiver: string;
  readonly labels: Labels;
  /** True once the group was flushed (after that, alerts never shorten the wait). */
  readonly flushed: boolean;
  /** When the group is due: the timers flush it then. */
  readonly nextFlushAtMs: number;
  /** Alerts by fingerprint. */
  readonly alerts: Readonly<Record<string, GroupAlert>>;
  readonly notified?: GroupNotified;
}

/** The group a new alert opens. */
export interface NewGroup {
  readonly key: string;
  readonly routePath: string;
  readonly receiver: string;
  readonly labels: Labels;
}

/**
 * A transition of one alert reaches its group: the group with the alert in it and when it is due.
 * A new group is due `group_wait` after now, or now when the alert started longer ago than that
 * (Alertmanager: `alert.StartsAt.Add(groupWait).Before(now)` flushes at once); a group already
 * waiting keeps its due time.
 */
export function addToGroup(state: GroupState | undefined, group: NewGroup, fingerprint: string, alert: GroupAlert, nowMs: number, timing: GroupTiming): GroupState {
  if (!state) {
    const due = alert.startsAtMs + timing.waitMs < nowMs ? nowMs : nowMs + timing.waitMs;
    return { ...group, flushed: false, nextFlushAtMs: due, alerts: { [fingerprint]: alert } };
  }
  let due = state.nextFlushAtMs;
  if (!state.flushed && alert.startsAtMs + timing.waitMs < nowMs) due = Math.min(due, nowMs);
  return { ...state, nextFlushAtMs: due, alerts: { ...state.alerts, [fingerprint]: alert } };
}

/** Why a flush notified, or did not. */
export const FLUSH_REASONS = ['first-notification', 'new-firing', 'all-resolved', 'new-resolved', 'repeat', 'unchanged', 'nothing-seen'] as const;
/** One of {@link FLUSH_REASONS}. */
export type FlushReason = (typeof FLUSH_REASONS)[number];

/** Readable text of each reason (logs, history). */
export const FLUSH_REASON_TEXT: Record<FlushReason, string> = {
  'first-notification': 'the first notification of the group',
  'new-firing': 'an alert fires that the last notification did not include',
  'all-resolved': 'every alert of the last notification resolved',
  'new-resolved': 'an alert resolved since the last notification',
  repeat: 'nothing changed, and the repeat interval has passed',
  unchanged: 'nothing changed since the last notification (repeat interval not reached)',
  'nothing-seen': 'alerts fired and resolved between two flushes, never notified: nothing to say',
};

/** What a flush decided. */
export interface FlushDecision {
  /** The notification to send (fingerprints by status), when the group has something to say. */
  readonly notify?: { readonly firing: readonly string[]; readonly resolved: readonly string[] };
  readonly reason: FlushReason;
  /** The group after the flush; undefined when it is empty and deleted. */
  readonly state: GroupState | undefined;
}

const subset = (a: readonly string[], of: ReadonlySet<string>): boolean => a.every((x) => of.has(x));

/** Flushes a due group (Alertmanager's `needsUpdate`, send_resolved on). */
export function flushGroup(state: GroupState, nowMs: number, timing: GroupTiming): FlushDecision {
  const firing: string[] = [];
  const resolved: string[] = [];
  for (const fp of Object.keys(state.alerts).sort()) (state.alerts[fp]!.status === 'firing' ? firing : resolved).push(fp);
  const last = state.notified;
  let reason: FlushReason;
  if (!last) reason = firing.length > 0 ? 'first-notification' : 'nothing-seen';
  else if (!subset(firing, new Set(last.firing))) reason = 'new-firing';
  else if (firing.length === 0) reason = last.firing.length > 0 ? 'all-resolved' : 'nothing-seen';
  else if (!subset(resolved, new Set(last.resolved))) reason = 'new-resolved';
  else reason = last.atMs < nowMs - timing.repeatMs ? 'repeat' : 'unchanged';
  const send = reason !== 'unchanged' && reason !== 'nothing-seen';
  // Resolved alerts leave the group once flushed; an empty group is deleted.
  const remaining: Record<string, GroupAlert> = {};
  for (const fp of firing) remaining[fp] = state.alerts[fp]!;
  const notified = send ? { atMs: nowMs, firing, resolved } : last;
  const next: GroupState | undefined =
    firing.length === 0
      ? undefined
      : { ...state, flushed: true, nextFlushAtMs: nowMs + timing.intervalMs, alerts: remaining, ...(notified ? { notified } : {}) };
  return { ...(send ? { notify: { firing, resolved } } : {}), reason, state: next };
}
