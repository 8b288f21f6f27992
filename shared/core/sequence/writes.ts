/**
 * What the sequence writes, and when it need not write at all: the two decisions that set the
 * DynamoDB bill (one write unit per KB of item written, every write of an indexed attribute also
 * billed on the index).
 *
 * A quiet series (a threshold rule's series that is inactive before and after the batch) changes
 * nothing but its last-sample time: it is written at most once per {@link QUIET_REFRESH_MS} of
 * event time, not once per batch. The due time of every inactive series (when the timers may
 * delete it, stale) is set {@link QUIET_DELETE_GRACE_MS} later than the core's and rounded up to
 * the next {@link DUE_ROUNDING_MS}: an item refreshed that rarely is never taken for stale while
 * its series still reports, and the due index (whose key is the due time) is rewritten about once
 * an hour per inactive series instead of on every batch. DynamoDB writes an index entry only when
 * its key attributes change, and a changed key costs a delete and a put on the index
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes).
 * Pending, firing and absence series keep their exact due times: the timers act on them.
 *
 * What this costs in semantics, stated in docs/rules.md: between refreshes the stored
 * out-of-order guard (the newest sample time) lags by up to the refresh interval, so a late sample
 * of a quiet series within that interval is evaluated rather than skipped; a redelivered batch
 * still gives the same result (the same samples from the same stored state), and every other
 * series (pending, firing, windowed, anomaly, absence) is written on every batch that changes it.
 */
import { createHash } from 'node:crypto';
import type { Rule } from '../rules/index.ts';
import { nextDueMs, type SeriesState, type TimeOptions } from '../evaluate/index.ts';

/** A quiet series is rewritten at least this often (event time): well inside the delete grace. */
export const QUIET_REFRESH_MS = 30 * 60_000;
/** Extra time before the timers may delete a quiet series; more than the refresh interval. */
export const QUIET_DELETE_GRACE_MS = 60 * 60_000;

/** Due times of inactive series are rounded up to this: the index entry moves once per period at most. */
export const DUE_ROUNDING_MS = 60 * 60_000;

/**
 * Where windows live: in each item (`stored`), or in the evaluator's memory, rebuilt from the
 * sample log when a partition moves (`derived`; docs/design.md, "Windows as derived data").
 */
export type WindowsMode = 'stored' | 'derived';

/**
 * A rule whose inactive items hold nothing but the last-sample time: a threshold rule's, and with
 * derived windows every rule's but an absence rule's (its item is its whole state).
 */
function quietKind(rule: Rule, windows: WindowsMode): boolean {
  return rule.kind === 'threshold' || (windows === 'derived' && rule.kind !== 'absence');
}

/** The due time stored with a state (the due index's sort key), or undefined to stay out of the index. */
export function storedDueAt(rule: Rule, state: SeriesState, opts: TimeOptions): number | undefined {
  const due = nextDueMs(rule, state, opts);
  if (due === undefined || rule.kind === 'absence' || state.state !== 'inactive') return due;
  return Math.ceil((due + QUIET_DELETE_GRACE_MS) / DUE_ROUNDING_MS) * DUE_ROUNDING_MS;
}

/**
 * True when the new state need not be written: nothing but the last-sample time (and the
 * informational last value, and with derived windows the window) changed on a quiet series, and
 * the stored item is recent enough. `writtenLastSampleMs` is the item's own newest sample time
 * when the previous state was handed out from memory (newer than the item).
 */
export function canSkipWrite(rule: Rule, prev: SeriesState, next: SeriesState, changes: number, windows: WindowsMode = 'stored', writtenLastSampleMs?: number): boolean {
  if (changes > 0 || !quietKind(rule, windows)) return false;
  if (prev.state !== 'inactive' || next.state !== 'inactive' || prev.noSample || next.noSample) return false;
  return next.lastSampleMs - (writtenLastSampleMs ?? prev.lastSampleMs) < QUIET_REFRESH_MS;
}

/**
 * What the table holds of a state: with derived windows, an inactive series' item carries no
 * window (the evaluator's memory and the sample log have it); a pending or firing one carries its
 * window, because the timers function evaluates it without samples (staleness, windows emptying).
 */
export function storedForm(state: SeriesState, windows: WindowsMode): SeriesState {
  if (windows === 'stored' || state.state !== 'inactive' || state.wt === undefined) return state;
  const { wt, wv: _wv, ...rest } = state;
  // Where the window began, so that a window rebuilt from the log starts no earlier (types.ts `wf`).
  return wt.length > 0 ? { ...rest, wf: wt[0]! } : { ...rest, wf: state.lastSampleMs + 1 };
}

/**
 * The content token of a state as written: a hash of its JSON. Stored beside the state and
 * compared by conditional writes that carry `expectedToken` (ports.ts): two incarnations of an
 * item share a token only when they hold the very same state, which makes the confusion harmless.
 */
export function stateToken(state: unknown): string {
  return createHash('sha256').update(JSON.stringify(state)).digest('base64url').slice(0, 22);
}
