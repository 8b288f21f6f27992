/**
 * The Prometheus alert state machine applied at each sample: {@link evaluateSeries}.
 */
import { compare, type Rule } from '../rules/index.ts';
import { aggregate, zScore } from './functions.ts';
import { adoptLegacyAlert, clearAlert, emitter, evict, Identity, load, pushWindow, save, type Emit, type MutableState } from './state.ts';
import { applyDue } from './time.ts';
import { DEFAULT_STALE_AFTER_MS, type AlertStateChange, type SeriesBatch, type SeriesState, type TimeOptions } from './types.ts';

/** The Prometheus state machine at one sample. `present` = the condition holds (hysteresis applied). */
function step(rule: Rule, st: MutableState, ts: number, present: boolean, v: number | undefined, emit: Emit): void {
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

/**
 * Evaluates a series' samples (in time order) from its stored state. Returns the new state, every
 * state change, and how many samples were skipped (at or before the newest time already seen).
 */
export function evaluateSeries(
  batch: SeriesBatch,
  state: SeriesState | undefined,
  opts: TimeOptions = { staleAfterMs: DEFAULT_STALE_AFTER_MS },
): { state: SeriesState; changes: AlertStateChange[]; skipped: number } {
  const rule = batch.rule;
  const windowed = rule.windowMs > 0;
  const changes: AlertStateChange[] = [];
  let skipped = 0;
  let st: MutableState | undefined = state ? load(state, windowed) : undefined;
  if (st) adoptLegacyAlert(rule, batch.labels, st);
  const id = new Identity(rule, batch.labels);
  let emit: Emit | undefined = st ? emitter(rule, id, st, changes) : undefined;
  const cond = rule.condition;
  const clear = rule.clearCondition;
  for (let i = 0; i < batch.samples.length; i++) {
    const s = batch.samples[i]!;
    const ts = s.timestampMs;
    if (!st) {
      st = { lastSampleMs: ts, state: 'inactive', activeAtMs: undefined, firedAtMs: undefined, keepFiringSinceMs: undefined, value: undefined, noSample: false, alert: undefined, start: 0, wt: windowed ? [] : undefined, wv: windowed ? [] : undefined };
      emit = emitter(rule, id, st, changes);
    } else {
      if (ts < st.lastSampleMs || (ts === st.lastSampleMs && !st.noSample)) {
        skipped++;
        continue;
      }
      // Time-based ends due before this sample, exactly as the timers function would apply them.
      applyDue(rule, st, ts, opts.staleAfterMs, emit!);
    }
    st.lastSampleMs = ts;
    st.noSample = false;
    if (rule.kind === 'absence') {
      if (st.state === 'firing') {
        emit!('firing', 'resolved', ts, s.value);
        clearAlert(st);
      }
      st.value = s.value;
      continue;
    }
    let v: number | undefined;
    if (rule.kind === 'threshold') {
      v = s.value;
    } else if (rule.kind === 'aggregate') {
      const a = rule.aggregate!;
      evict(st, ts - a.windowMs);
      pushWindow(st, ts, s.value);
      v = aggregate(a.fn, st.wt!, st.wv!, ts, a.windowMs, a.q, st.start);
    } else {
      const a = rule.anomaly!;
      evict(st, ts - a.windowMs);
      v = zScore(s.value, st.wv!, a.minSamples, st.start);
      pushWindow(st, ts, s.value);
    }
    let present = v !== undefined && compare(cond!, v);
    // Hysteresis: once firing, only the clear condition ends it (no value keeps it firing).
    if (st.state === 'firing' && clear) present = v === undefined || !compare(clear, v);
    step(rule, st, ts, present, v, emit!);
  }
  if (!st) throw new RangeError(`evaluateSeries: empty batch and no state for ${batch.stateKey}`);
  return { state: save(st), changes, skipped };
}
