/**
 * Time-based ends: what happens to a series without a new sample (staleness, keep_firing_for,
 * absence), applied in event time the same way by a later sample ({@link evaluateSeries}) and by
 * the timers function ({@link advanceClock}, scheduled by {@link nextDueMs}).
 */
import type { Labels } from '../model/index.ts';
import type { Rule } from '../rules/index.ts';
import { stateKeyOf } from './identity.ts';
import { aggregate } from './functions.ts';
import { holds, step, windowStart } from './machine.ts';
import { adoptLegacyAlert, emitter, evict, Identity, load, save, type Emit, type MutableState } from './state.ts';
import type { AlertStateChange, SeriesState, TimeOptions } from './types.ts';

/** The part of a state the time-based events depend on (a stored or a working state). */
interface EventView {
  readonly state: SeriesState['state'];
  readonly lastSampleMs: number;
  readonly activeAtMs?: number | undefined;
  readonly keepFiringSinceMs?: number | undefined;
  readonly wt?: readonly number[] | undefined;
}

/**
 * The first instant a sample at `lastSampleMs` is out of the lookback: Prometheus 2.x's instant
 * selector still returns a sample exactly `lookbackDelta` old (promql/engine.go
 * `vectorSelectorSingle`: a sample is dropped only when `t < refTime - lookbackDelta`), so the
 * series is present through `lastSample + staleAfterMs` and absent from one millisecond later.
 */
function absentFromMs(lastSampleMs: number, staleAfterMs: number): number {
  return lastSampleMs + staleAfterMs + 1;
}

/**
 * The next instant at which, without a new sample, the rule's answer for a pending or firing series
 * can change, or undefined (inactive: only a sample makes it pending again, so the timers need not
 * visit it before it can be deleted; this keeps their billed work small):
 * - pending: `activeAt + for` (fires) — the condition keeps its last answer until then;
 * - firing after the condition cleared with keepFiringFor: `keepFiringSince + keepFiringFor` (resolves);
 * - instant (threshold, anomaly) rules, unless the condition already cleared: the instant the last
 *   sample leaves the lookback (pending drops, firing resolves or starts keepFiringFor);
 * - windowed aggregates: the instant the oldest window sample leaves the window (the value is
 *   recomputed without it; an empty window has no value).
 */
function nextEventMs(rule: Rule, st: EventView, start: number, staleAfterMs: number): number | undefined {
  if (st.state === 'inactive') return undefined;
  let t = Infinity;
  if (st.state === 'pending') t = st.activeAtMs! + rule.forMs;
  else if (st.keepFiringSinceMs !== undefined) t = st.keepFiringSinceMs + rule.keepFiringForMs;
  if (rule.kind === 'aggregate') {
    const wt = st.wt;
    // windowStart(e, w) = e - w: the oldest sample is out from one millisecond after it is `window` old.
    if (wt && start < wt.length) t = Math.min(t, wt[start]! + rule.windowMs + 1);
  } else if (st.state === 'pending' || st.keepFiringSinceMs === undefined) {
    t = Math.min(t, absentFromMs(st.lastSampleMs, staleAfterMs));
  }
  return t === Infinity ? undefined : t;
}

/**
 * The rule's answer at instant `t` without a new sample: `present` (the condition holds, hysteresis
 * applied) and the value (undefined: none). Windowed aggregates are recomputed over the window at
 * `t` (evicted to it); an empty window, or a last sample out of the lookback, is absent.
 */
function answerAt(rule: Rule, st: MutableState, t: number, staleAfterMs: number): { present: boolean; v: number | undefined } {
  if (rule.kind === 'aggregate') {
    const a = rule.aggregate!;
    evict(st, windowStart(t, a.windowMs) - 1);
    if (st.start >= st.wt!.length) return { present: false, v: undefined };
    const v = aggregate(a.fn, st.wt!, st.wv!, t, a.windowMs, a.q, st.start);
    return { present: holds(rule, st, v), v };
  }
  if (t >= absentFromMs(st.lastSampleMs, staleAfterMs)) return { present: false, v: undefined };
  // Within the lookback the last sample's answer stands: true while pending or firing, unless the
  // condition cleared (keepFiringSince). An anomaly's window statistics are not recomputed between
  // samples (docs/rules.md, "Time-based ends").
  return { present: st.keepFiringSinceMs === undefined, v: st.value };
}

/**
 * Applies every time-based change at an instant at or before `untilMs`, in time order: absence rules
 * fire at `lastSample + for`; pending series fire at `activeAt + for` or drop when their samples
 * leave the lookback or window; firing series resolve when their samples leave it (or
 * keepFiringFor later), or at `keepFiringSince + keepFiringFor`. Returns how many instants were
 * evaluated (the state changed, if only its window, when > 0).
 */
export function applyDue(rule: Rule, st: MutableState, untilMs: number, staleAfterMs: number, emit: Emit): number {
  if (rule.kind === 'absence') {
    const due = st.lastSampleMs + rule.forMs;
    if (st.state !== 'firing' && untilMs >= due) {
      st.state = 'firing';
      st.activeAtMs = due;
      st.firedAtMs = due;
      st.value = NaN;
      emit('inactive', 'firing', due, NaN);
      return 1;
    }
    return 0;
  }
  let n = 0;
  for (;;) {
    const t = nextEventMs(rule, st, st.start, staleAfterMs);
    if (t === undefined || t > untilMs) return n;
    n++;
    const { present, v } = answerAt(rule, st, t, staleAfterMs);
    step(rule, st, t, present, v, emit);
  }
}

/** The first instant an inactive non-absence state is no longer useful: from it, the item can be deleted. */
function deleteAtMs(rule: Rule, lastSampleMs: number, staleAfterMs: number): number {
  return absentFromMs(lastSampleMs, Math.max(staleAfterMs, rule.windowMs));
}

/**
 * Advances a series to `nowMs` without a sample, applying every time-based change at an instant
 * before `nowMs` (see {@link applyDue}). Instant `nowMs` itself is left to samples at `nowMs`, which
 * may still come and decide it (a sample exactly at `activeAt + for` that is false does not fire, as
 * in Prometheus), so calling it before evaluating the samples at `nowMs` is safe. Returns
 * `state: undefined` when the item should be deleted (inactive, out of the lookback and the window).
 */
export function advanceClock(rule: Rule, labels: Labels, state: SeriesState, nowMs: number, opts: TimeOptions): { state: SeriesState | undefined; changes: AlertStateChange[] } {
  const st = load(state, rule.windowMs > 0);
  adoptLegacyAlert(rule, labels, st);
  const changes: AlertStateChange[] = [];
  const n = applyDue(rule, st, nowMs - 1, opts.staleAfterMs, emitter(rule, new Identity(rule, labels), st, changes));
  if (rule.kind !== 'absence' && st.state === 'inactive' && nowMs >= deleteAtMs(rule, st.lastSampleMs, opts.staleAfterMs)) {
    return { state: undefined, changes };
  }
  return { state: n > 0 ? save(st) : state, changes };
}

/**
 * The smallest `nowMs` at which {@link advanceClock} would change this state (fire, resolve, drop,
 * re-evaluate a window or delete it): one millisecond after the next event's instant, or the
 * deletion time; undefined if only a sample can change it (a firing absence alert). The timers
 * function indexes items by it.
 */
export function nextDueMs(rule: Rule, state: SeriesState, opts: TimeOptions): number | undefined {
  if (rule.kind === 'absence') return state.state === 'firing' ? undefined : state.lastSampleMs + rule.forMs + 1;
  const t = nextEventMs(rule, state, 0, opts.staleAfterMs);
  return t === undefined ? deleteAtMs(rule, state.lastSampleMs, opts.staleAfterMs) : t + 1;
}

/** The expected series an absence rule lists, with their state keys (the timers function creates them). */
export function expectedAbsenceSeries(rule: Rule): { stateKey: string; labels: Labels }[] {
  return (rule.absent?.expected ?? []).map((labels) => ({ stateKey: stateKeyOf(rule, rule.metric, labels), labels }));
}

/** State of an expected series never seen: silence counts from `nowMs`. */
export function initialAbsenceState(_rule: Rule, nowMs: number): SeriesState {
  return { v: 1, lastSampleMs: nowMs, state: 'inactive', noSample: true };
}
