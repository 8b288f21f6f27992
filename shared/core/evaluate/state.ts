/**
 * The mutable working copy of a {@link SeriesState} during one evaluation (load → change → save),
 * the lazily computed alert identity, the change emitter and the window buffer operations.
 */
import type { AlertState, Labels } from '../model/index.ts';
import type { Rule } from '../rules/index.ts';
import { alertLabels, fingerprint, legacyFingerprint } from './identity.ts';
import { MAX_WINDOW_SAMPLES, type AlertStateChange, type FiringAlert, type SeriesAlertState, type SeriesState } from './types.ts';

/** A {@link SeriesState} being evaluated: mutable, windows as arrays with a moving start. */
export interface MutableState {
  lastSampleMs: number;
  state: SeriesAlertState;
  activeAtMs: number | undefined;
  firedAtMs: number | undefined;
  keepFiringSinceMs: number | undefined;
  value: number | undefined;
  noSample: boolean;
  alert: FiringAlert | undefined;
  /** Index of the first window sample still in the window (see {@link evict}). */
  start: number;
  wt: number[] | undefined;
  wv: number[] | undefined;
}

/** The working copy of a stored state (window arrays copied, so the stored state is never mutated). */
export function load(s: SeriesState, windowed: boolean): MutableState {
  return {
    lastSampleMs: s.lastSampleMs,
    state: s.state,
    activeAtMs: s.activeAtMs,
    firedAtMs: s.firedAtMs,
    keepFiringSinceMs: s.keepFiringSinceMs,
    value: s.value === null ? NaN : s.value,
    noSample: s.noSample === true,
    alert: s.state === 'firing' ? s.alert : undefined,
    start: 0,
    wt: windowed ? (s.wt ? s.wt.slice() : []) : undefined,
    wv: windowed ? (s.wv ? s.wv.slice() : []) : undefined,
  };
}

/** The stored form of a working state (window arrays trimmed to the window). */
export function save(m: MutableState): SeriesState {
  const out: { -readonly [K in keyof SeriesState]: SeriesState[K] } = { v: 1, lastSampleMs: m.lastSampleMs, state: m.state };
  if (m.activeAtMs !== undefined) out.activeAtMs = m.activeAtMs;
  if (m.firedAtMs !== undefined) out.firedAtMs = m.firedAtMs;
  if (m.keepFiringSinceMs !== undefined) out.keepFiringSinceMs = m.keepFiringSinceMs;
  if (m.value !== undefined) out.value = Number.isFinite(m.value) ? m.value : null;
  if (m.noSample) out.noSample = true;
  if (m.state === 'firing' && m.alert) out.alert = m.alert;
  if (m.wt) {
    if (m.start) {
      m.wt = m.wt.slice(m.start);
      m.wv = m.wv!.slice(m.start);
      m.start = 0;
    }
    out.wt = m.wt;
    out.wv = m.wv!;
  }
  return out;
}

/** Lazily computed alert identity of a series (only needed when something changes). */
export class Identity {
  private cached: { labels: Labels; fp: string } | undefined;
  constructor(
    private readonly rule: Rule,
    private readonly seriesLabels: Labels,
  ) {}
  get(): { labels: Labels; fp: string } {
    if (!this.cached) {
      const labels = alertLabels(this.rule, this.seriesLabels);
      this.cached = { labels, fp: fingerprint(this.rule.id, labels) };
    }
    return this.cached;
  }
}

/** Reports one state change (the emitter of {@link emitter}). */
export type Emit = (from: AlertState, to: AlertState, atMs: number, value: number) => void;

/** The identity a firing alert is published with, kept in its state while it fires. */
export function firingAlert(rule: Rule, id: Identity): FiringAlert {
  const { labels, fp } = id.get();
  return { fingerprint: fp, ruleName: rule.name, severity: rule.severity, labels, condition: rule.conditionText };
}

/**
 * A firing state stored before its identity was kept (no {@link SeriesState.alert}) was published
 * with the legacy fingerprint: it keeps that identity until it resolves, so the resolution reaches
 * the same incident (docs/operations.md, "Upgrading: alert fingerprints").
 */
export function adoptLegacyAlert(rule: Rule, seriesLabels: Labels, st: MutableState): void {
  if (st.state !== 'firing' || st.alert) return;
  const labels = alertLabels(rule, seriesLabels);
  st.alert = { fingerprint: legacyFingerprint(rule.id, labels), ruleName: rule.name, severity: rule.severity, labels, condition: rule.conditionText };
}

/**
 * An {@link Emit} that appends to `changes` with the alert's identity and times. While an alert
 * fires, every change of it carries the identity it was published with ({@link MutableState.alert}),
 * even if the rule's labels or the fingerprint encoding changed meanwhile: its resolution must
 * reach the same incident. Only a new alert gets the current identity.
 */
export function emitter(rule: Rule, id: Identity, st: MutableState, changes: AlertStateChange[]): Emit {
  return (from, to, atMs, value) => {
    // Remembered as published, for the alert's later changes and for a resolution after the rule
    // is deleted (see deletedRuleTransition).
    if (to === 'firing') st.alert ??= firingAlert(rule, id);
    const a = st.alert;
    const { labels, fp } = a ? { labels: a.labels, fp: a.fingerprint } : id.get();
    changes.push({
      ruleId: rule.id,
      fingerprint: fp,
      labels,
      from,
      to,
      atMs,
      value,
      activeAtMs: st.activeAtMs ?? atMs,
      ...(st.firedAtMs !== undefined ? { firedAtMs: st.firedAtMs } : {}),
    });
  };
}

/** Back to inactive: the alert's times and identity are dropped. */
export function clearAlert(st: MutableState): void {
  st.state = 'inactive';
  st.activeAtMs = undefined;
  st.firedAtMs = undefined;
  st.keepFiringSinceMs = undefined;
  st.alert = undefined;
}

/**
 * Drops window samples at or before `cutoff` (the window is `(t - window, t]`) by moving the
 * window's start: the arrays are trimmed once, when the state is saved (no allocation per sample).
 */
export function evict(st: MutableState, cutoff: number): void {
  const wt = st.wt!;
  let i = st.start;
  while (i < wt.length && wt[i]! <= cutoff) i++;
  st.start = i;
}

/** Appends a sample to the window, keeping at most {@link MAX_WINDOW_SAMPLES}. */
export function pushWindow(st: MutableState, ts: number, v: number): void {
  st.wt!.push(ts);
  st.wv!.push(v);
  if (st.wt!.length - st.start > MAX_WINDOW_SAMPLES) st.start = st.wt!.length - MAX_WINDOW_SAMPLES;
}
/** Size of the state as stored (UTF-8 bytes of its JSON). */
export function stateSizeBytes(state: SeriesState): number {
  return new TextEncoder().encode(JSON.stringify(state)).length;
}
