/**
 * {@link evaluateSeries}: a series' samples, in time order, through the state machine.
 */
import { aggregate, zScore } from './functions.ts';
import { holds, step, windowStart } from './machine.ts';
import { adoptLegacyAlert, clearAlert, emitter, evict, Identity, load, pushWindow, save, type Emit, type MutableState } from './state.ts';
import { applyDue } from './time.ts';
import { DEFAULT_STALE_AFTER_MS, type AlertStateChange, type SeriesBatch, type SeriesState, type TimeOptions } from './types.ts';

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
      // Time-based changes strictly before this sample, exactly as advanceClock(ts) applies them;
      // at the sample's own instant the sample decides (it is in the lookback and the window).
      applyDue(rule, st, ts - 1, opts.staleAfterMs, emit!);
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
      evict(st, windowStart(ts, a.windowMs) - 1);
      pushWindow(st, ts, s.value);
      v = aggregate(a.fn, st.wt!, st.wv!, ts, a.windowMs, a.q, st.start);
    } else {
      const a = rule.anomaly!;
      evict(st, windowStart(ts, a.windowMs) - 1);
      v = zScore(s.value, st.wv!, a.minSamples, st.start);
      pushWindow(st, ts, s.value);
    }
    step(rule, st, ts, holds(rule, st, v), v, emit!);
  }
  if (!st) throw new RangeError(`evaluateSeries: empty batch and no state for ${batch.stateKey}`);
  return { state: save(st), changes, skipped };
}

/**
 * The window half of {@link evaluateSeries} alone: the same out-of-order rule (a sample at or
 * before the newest time is skipped), the same eviction and cap, no state machine, no aggregate.
 * Folding the samples of the sample log with it gives the window (and newest sample time) that
 * {@link evaluateSeries} built from the same samples; the other fields of the result say nothing
 * (an inactive state). Rebuilding windows for a partition that moved is this fold, segment by
 * segment (docs/design.md, "Windows as derived data").
 */
export function foldWindow(batch: SeriesBatch, state: SeriesState | undefined): SeriesState {
  const rule = batch.rule;
  const windowMs = rule.aggregate?.windowMs ?? rule.anomaly?.windowMs ?? 0;
  const windowed = rule.windowMs > 0;
  let st: MutableState | undefined = state ? load(state, windowed) : undefined;
  for (let i = 0; i < batch.samples.length; i++) {
    const s = batch.samples[i]!;
    const ts = s.timestampMs;
    if (!st) {
      st = { lastSampleMs: ts, state: 'inactive', activeAtMs: undefined, firedAtMs: undefined, keepFiringSinceMs: undefined, value: undefined, noSample: false, alert: undefined, start: 0, wt: windowed ? [] : undefined, wv: windowed ? [] : undefined };
    } else if (ts < st.lastSampleMs || (ts === st.lastSampleMs && !st.noSample)) {
      continue;
    }
    st.lastSampleMs = ts;
    st.noSample = false;
    if (windowed) {
      evict(st, windowStart(ts, windowMs) - 1);
      pushWindow(st, ts, s.value);
    }
  }
  if (!st) throw new RangeError(`foldWindow: empty batch and no state for ${batch.stateKey}`);
  return save(st);
}
