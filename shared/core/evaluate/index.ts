/**
 * Evaluate: the pure heart of Klaxon. (rule, series state, ordered samples) → new state + every
 * state change, in event time, with Prometheus's alert state machine (rules/alerting.go `Eval`)
 * applied at each sample instead of at evaluation ticks:
 *
 * - a true sample makes an inactive series *pending* (activeAt = that sample's time); the first
 *   sample at least `for` later makes it *firing*; `for: 0` fires at once (inactive→pending→firing
 *   in the same sample, both changes reported);
 * - a false sample drops a pending series to inactive silently (no transition);
 * - a false sample on a firing series resolves it, unless `keepFiringFor` > 0: then it stays
 *   firing while `t - keepFiringSince < keepFiringFor` (strict), and a true sample meanwhile keeps
 *   the same alert (same activeAt, same fingerprint) and clears keepFiringSince;
 * - with `clearCondition` (hysteresis) a firing series stays firing until clearCondition is true;
 * - samples at or before the newest time the series has seen (out of order, duplicates, a
 *   redelivered batch) are skipped and counted;
 * - between samples the answer can still change (a pending series fires at `activeAt + for`
 *   while its last sample is in the lookback; a sample leaves the lookback, `[t - 5m, t]`, or a
 *   window, `[t - w, t]`; keepFiringFor ends; an absence rule fires at `lastSample + for`): these
 *   instants are applied in event time, the same way whether a later sample or the timers
 *   function (`advanceClock`) notices them first, so replays give identical transitions
 *   (time.ts; docs/rules.md, "Time-based ends").
 *
 * Window state is bounded: at most {@link MAX_WINDOW_SAMPLES} samples per series and rule, the
 * newest kept (when a window holds more samples than that, aggregations see only the newest ones).
 *
 * Files by concern: types.ts (state, batch, change types and limits), identity.ts (series key,
 * state key, alert labels, fingerprint, transition id), group.ts (samples → batches), state.ts
 * (working state, emitter, window buffer), machine.ts (the state machine at one instant), series.ts
 * (evaluateSeries: samples through it), time.ts
 * (time-based ends: advanceClock, nextDueMs), transition.ts (alert-events messages).
 */
export { aggregate, avgOver, sumOver, stddevOver, quantileOf, extrapolatedRate, deriv, zScore } from './functions.ts';
export { MAX_WINDOW_SAMPLES, DEFAULT_STALE_AFTER_MS, type SeriesAlertState, type FiringAlert, type SeriesState, type SeriesBatch, type AlertStateChange, type TimeOptions } from './types.ts';
export { seriesKey, MAX_READABLE_STATE_KEY_BYTES, stateKeyFrom, stateKeyOf, alertLabels, fingerprint, transitionIdOf } from './identity.ts';
export { groupSamples } from './group.ts';
export { stateSizeBytes } from './state.ts';
export { evaluateSeries, foldWindow } from './series.ts';
export { advanceClock, nextDueMs, expectedAbsenceSeries, initialAbsenceState } from './time.ts';
export { toTransition, deletedRuleTransition } from './transition.ts';
