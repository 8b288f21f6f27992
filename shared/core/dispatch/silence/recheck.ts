/**
 * When a silence ends, the alerts it muted that still fire are notified (docs/design.md, "The
 * notification pipeline": silence). No sleep and no per-message delay (the alert-events queue is
 * FIFO, which has none): a muted record carries its firing and the time to decide it again
 * (`muted.recheckAtMs`, the earliest end of the silences that muted it), indexed by the alerts
 * table's sparse `by-recheck` index; each minute the timers function calls
 * {@link recheckMutedAlerts}, which puts each due firing back on the alert-events queue as a
 * re-check transition. Dispatch decides it like any firing: notified if no silence holds it now,
 * muted again (with a new re-check time) if one does. A resolution clears `muted`, so a resolved
 * alert is never re-checked.
 */
import type { AlertTransition } from '../../model/index.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import type { MutedAlertIndex } from './ports.ts';
import { reminderTransition } from '../repeat/index.ts';
import { escalationTransition } from '../escalation-policy/step.ts';

/** The transition that re-decides a muted firing: the firing as received, with an id of its own (stable for one re-check time, so a sweep run twice publishes one message). */
export function recheckTransition(record: AlertRecord, nowMs: number): AlertTransition | undefined {
  const m = record.muted;
  if (!m || record.state !== 'firing' || m.transition.firedAtMs !== record.startsAtMs) return undefined;
  return { ...m.transition, transitionId: `${m.transition.transitionId}:recheck:${m.recheckAtMs}`, emittedAtMs: nowMs };
}

/** What {@link recheckMutedAlerts} needs. */
export interface RecheckPorts {
  readonly muted: MutedAlertIndex;
  readonly publisher: { publish(transitions: readonly AlertTransition[]): Promise<void> };
}

/**
 * Publishes what is due at `nowMs` (at most `limit` records): a re-check for every muted firing,
 * a reminder for every firing notified on its own whose `repeat_interval` has passed
 * (repeat/index.ts), the due step of every escalation (escalation-policy/step.ts). Returns how
 * many transitions.
 */
export async function recheckMutedAlerts(ports: RecheckPorts, nowMs: number, limit = 500): Promise<number> {
  const due = await ports.muted.due(nowMs, limit);
  // Everything due on a record: its muted re-check (or reminder), and its escalation step.
  const transitions = due.flatMap((r) => [recheckTransition(r, nowMs) ?? reminderTransition(r, nowMs), escalationTransition(r, nowMs)]).filter((t): t is AlertTransition => t !== undefined);
  if (transitions.length > 0) await ports.publisher.publish(transitions);
  return transitions.length;
}
