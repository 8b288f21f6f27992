/**
 * Time-based ends: what happens to a series without a new sample (staleness, keep_firing_for,
 * absence), applied in event time the same way by a later sample ({@link evaluateSeries}) and by
 * the timers function ({@link advanceClock}, scheduled by {@link nextDueMs}).
 */
import type { Labels } from '../model/index.ts';
import type { Rule } from '../rules/index.ts';
import { stateKeyOf } from './identity.ts';
import { adoptLegacyAlert, clearAlert, emitter, Identity, load, save, type Emit, type MutableState } from './state.ts';
import type { AlertStateChange, SeriesState, TimeOptions } from './types.ts';

/** When a firing (non-absence) series resolves for lack of samples. */
function firingDueMs(rule: Rule, st: { lastSampleMs: number; keepFiringSinceMs?: number | undefined }, staleAfterMs: number): number {
  const staleAt = st.lastSampleMs + staleAfterMs;
  const since = st.keepFiringSinceMs ?? staleAt;
  return Math.max(staleAt, since + rule.keepFiringForMs);
}

/** Applies the time-based ends due at or before `nowMs` (staleness, absence). */
export function applyDue(rule: Rule, st: MutableState, nowMs: number, staleAfterMs: number, emit: Emit): void {
  if (rule.kind === 'absence') {
    const due = st.lastSampleMs + rule.forMs;
    if (st.state !== 'firing' && nowMs >= due) {
      st.state = 'firing';
      st.activeAtMs = due;
      st.firedAtMs = due;
      st.value = NaN;
      emit('inactive', 'firing', due, NaN);
    }
    return;
  }
  if (st.state === 'firing') {
    const due = firingDueMs(rule, st, staleAfterMs);
    if (nowMs >= due) {
      emit('firing', 'resolved', due, NaN);
      clearAlert(st);
    }
  } else if (st.state === 'pending') {
    const staleAt = st.lastSampleMs + staleAfterMs;
    if (nowMs >= staleAt) {
      emit('pending', 'inactive', staleAt, NaN);
      clearAlert(st);
    }
  }
}

/** The last time an inactive non-absence state is useful: after it, the item can be deleted. */
function deleteAtMs(rule: Rule, lastSampleMs: number, staleAfterMs: number): number {
  return Math.max(lastSampleMs + staleAfterMs, lastSampleMs + rule.windowMs);
}

/**
 * Advances a series to `nowMs` without a sample: fires absence rules whose series has sent nothing
 * for `for` (at `lastSample + for`), resolves firing alerts of stale series, drops pending ones.
 * Returns `state: undefined` when the item should be deleted (inactive and stale, window expired).
 */
export function advanceClock(rule: Rule, labels: Labels, state: SeriesState, nowMs: number, opts: TimeOptions): { state: SeriesState | undefined; changes: AlertStateChange[] } {
  const st = load(state, rule.windowMs > 0);
  adoptLegacyAlert(rule, labels, st);
  const changes: AlertStateChange[] = [];
  applyDue(rule, st, nowMs, opts.staleAfterMs, emitter(rule, new Identity(rule, labels), st, changes));
  if (rule.kind !== 'absence' && st.state === 'inactive' && nowMs >= deleteAtMs(rule, st.lastSampleMs, opts.staleAfterMs)) {
    return { state: undefined, changes };
  }
  return { state: changes.length ? save(st) : state, changes };
}

/**
 * When {@link advanceClock} would next change this state (fire, resolve, drop or delete it), or
 * undefined if only a sample can (a firing absence alert). The timers function indexes items by it.
 */
export function nextDueMs(rule: Rule, state: SeriesState, opts: TimeOptions): number | undefined {
  if (rule.kind === 'absence') return state.state === 'firing' ? undefined : state.lastSampleMs + rule.forMs;
  if (state.state === 'firing') return firingDueMs(rule, state, opts.staleAfterMs);
  if (state.state === 'pending') return state.lastSampleMs + opts.staleAfterMs;
  return deleteAtMs(rule, state.lastSampleMs, opts.staleAfterMs);
}

/** The expected series an absence rule lists, with their state keys (the timers function creates them). */
export function expectedAbsenceSeries(rule: Rule): { stateKey: string; labels: Labels }[] {
  return (rule.absent?.expected ?? []).map((labels) => ({ stateKey: stateKeyOf(rule, rule.metric, labels), labels }));
}

/** State of an expected series never seen: silence counts from `nowMs`. */
export function initialAbsenceState(_rule: Rule, nowMs: number): SeriesState {
  return { v: 1, lastSampleMs: nowMs, state: 'inactive', noSample: true };
}
