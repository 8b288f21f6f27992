/**
 * The Prometheus alert state machine at one instant (rules/alerting.go `Eval`): {@link step}, and
 * what the rule's condition says at an instant ({@link holds}).
 */
import { compare, type Rule } from '../rules/index.ts';
import { clearAlert, type Emit, type MutableState } from './state.ts';

/**
 * Whether the condition holds for value `v` (undefined: no value, e.g. a rate over one sample),
 * hysteresis applied: once firing, only the clear condition ends it (no value keeps it firing).
 */
export function holds(rule: Rule, st: MutableState, v: number | undefined): boolean {
  if (st.state === 'firing' && rule.clearCondition) return v === undefined || !compare(rule.clearCondition, v);
  return v !== undefined && compare(rule.condition!, v);
}

/**
 * First window time still inside the window at `t`. Windows are closed, `[t - window, t]`, as in
 * Prometheus 2.x's range selectors (promql/engine.go `matrixIterSlice`: samples with time >= mint
 * are kept; Prometheus 3 made them left-open): a sample exactly `window` old is still in it.
 */
export function windowStart(t: number, windowMs: number): number {
  return t - windowMs;
}

/** The Prometheus state machine at one instant `ts` (a sample, or a time-based event). `present` = the condition holds (hysteresis applied). */
export function step(rule: Rule, st: MutableState, ts: number, present: boolean, v: number | undefined, emit: Emit): void {
  if (present) {
    st.keepFiringSinceMs = undefined;
    st.value = v;
    if (st.state === 'inactive') {
      st.state = 'pending';
      st.activeAtMs = ts;
      emit('inactive', 'pending', ts, v ?? NaN);
    }
    if (st.state === 'pending' && ts - st.activeAtMs! >= rule.forMs) {
      st.state = 'firing';
      st.firedAtMs = ts;
      emit('pending', 'firing', ts, v ?? NaN);
    }
    return;
  }
  if (st.state === 'inactive') {
    st.value = v;
    return;
  }
  if (st.state === 'firing' && rule.keepFiringForMs > 0) {
    st.keepFiringSinceMs ??= ts;
    // Strict, as Prometheus: still firing while less than keepFiringFor has passed.
    if (ts - st.keepFiringSinceMs < rule.keepFiringForMs) return;
  }
  emit(st.state, st.state === 'firing' ? 'resolved' : 'inactive', ts, v ?? NaN);
  clearAlert(st);
  st.value = v;
}

