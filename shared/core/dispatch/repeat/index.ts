/**
 * Reminders of alerts notified one by one (docs/routing.md, "Grouping": repeat_interval): a firing
 * notified on its own (a route without `group_by`) is notified again every `repeat_interval` of
 * its routes (Alertmanager's default, 4h) while it still fires, as Alertmanager repeats a group.
 * Grouped alerts are repeated by their group's flush instead.
 *
 * No sleep and no per-message delay (the alert-events queue is FIFO): the record keeps when the
 * reminder is due (`repeat.atMs`), in the alerts table's sparse `by-recheck` index beside muted
 * firings; the timers' sweep (silence/recheck.ts) puts a due reminder on the alert-events queue as
 * a firing with an id of its own (stable per due time: a sweep run twice publishes one message),
 * and dispatch decides it as any firing (routes, silences, inhibition and throttle as they are
 * now), its jobs marked as reminders. A resolution, or a new activation, ends the old reminders.
 */
import type { AlertTransition } from '../../model/index.ts';
import type { DispatchContext } from '../context.ts';
import type { AlertRecord, RepeatDue } from '../record/alert-record.ts';
import { activationTransition } from '../ack/index.ts';

/** The id of the reminder a record has due: the activation's firing id and the due time. */
export function reminderId(record: Pick<AlertRecord, 'repeat'>): string | undefined {
  return record.repeat ? `${record.repeat.firingId}:repeat:${record.repeat.atMs}` : undefined;
}

/** Whether `t` is the reminder the record has due (dedup applies it; its jobs are reminders). */
export function isReminder(record: AlertRecord | undefined, t: Pick<AlertTransition, 'transitionId' | 'kind' | 'firedAtMs'>): boolean {
  return t.kind === 'firing' && record?.state === 'firing' && record.startsAtMs === t.firedAtMs && record.repeat !== undefined && t.transitionId === reminderId(record);
}

/** The reminder transition of a record whose repeat is due at `nowMs` (undefined when none is). */
export function reminderTransition(record: AlertRecord, nowMs: number): AlertTransition | undefined {
  const r = record.repeat;
  if (!r || record.state !== 'firing' || r.atMs > nowMs) return undefined;
  // The activation as the record holds it: not older than what the record holds (dedup), the same activation.
  return {
    ...activationTransition(record, reminderId(record)!, nowMs),
    value: r.value,
    condition: r.condition,
    ...(r.runbookUrl ? { runbookUrl: r.runbookUrl } : {}),
    ...(r.dashboardUrl ? { dashboardUrl: r.dashboardUrl } : {}),
    ...(r.policy ? { policy: r.policy } : {}),
    emittedAtMs: nowMs,
  };
}

/**
 * The repeat the record keeps after a firing: due `repeat_interval` (the shortest of the routes
 * that notified it on its own) after this notification when per-alert firing jobs went out; the
 * earlier one when nothing went out for the same activation (a re-check, a held reminder keeps
 * none: the next notification schedules again); none for a resolution or when no route without
 * `group_by` took the alert.
 */
export function repeatAfter(ctx: Pick<DispatchContext, 'transition' | 'record' | 'routed' | 'jobs' | 'nowMs'>): RepeatDue | undefined {
  const t = ctx.transition;
  if (t.kind !== 'firing') return undefined;
  const sent = ctx.jobs.some((j) => j.transition.kind === 'firing' && !j.group);
  const intervals = ctx.routed.filter((r) => r.groupBy === undefined).map((r) => r.timing.repeatMs);
  if (!sent || intervals.length === 0) {
    const prev = ctx.record?.repeat;
    return prev && ctx.record?.startsAtMs === t.firedAtMs && prev.atMs > ctx.nowMs ? prev : undefined;
  }
  const firingId = isReminder(ctx.record, t) ? ctx.record!.repeat!.firingId : t.transitionId;
  return {
    atMs: ctx.nowMs + Math.min(...intervals),
    lastSentAtMs: ctx.nowMs,
    firingId,
    value: t.value,
    condition: t.condition,
    ...(t.runbookUrl ? { runbookUrl: t.runbookUrl } : {}),
    ...(t.dashboardUrl ? { dashboardUrl: t.dashboardUrl } : {}),
    ...(t.policy ? { policy: t.policy } : {}),
  };
}
