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
 * - time-based ends are decided in event time, the same way whether a later sample or the timers
 *   function (`advanceClock`) notices them first, so replays give identical transitions:
 *   a series with no sample for `staleAfterMs` is stale from `lastSample + staleAfterMs` (pending
 *   → inactive; firing resolves then, or `keepFiringFor` after); an absence rule fires at
 *   `lastSample + for`.
 *
 * Window state is bounded: at most {@link MAX_WINDOW_SAMPLES} samples per series and rule, the
 * newest kept (when a window holds more samples than that, aggregations see only the newest ones).
 */
import { createHash } from 'node:crypto';
import type { AlertState, AlertTransition, Labels, MetricSample, Severity, StateChange } from '../model/index.ts';
import { compare, ruleTemplates, type Rule, type RuleIndex } from '../rules/index.ts';
import { aggregate, zScore } from './functions.ts';

export { aggregate, avgOver, sumOver, stddevOver, quantileOf, extrapolatedRate, deriv, zScore } from './functions.ts';

/**
 * Most window samples kept per series and rule. Worst-case item: 720 × (13-digit time + 24-char
 * value + separators) ≈ 28 KB of JSON, plus < 1 KB of fields: far below DynamoDB's 400 KB item
 * limit (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
 * 720 is a 1 h window at one sample every 5 s, or a 2 h window at 10 s.
 */
export const MAX_WINDOW_SAMPLES = 720;

/** Default staleness: Prometheus's 5 minute lookback delta. */
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

/** States a series is kept in (`resolved` is reported as a change, then the series is inactive). */
export type SeriesAlertState = Exclude<AlertState, 'resolved'>;

/**
 * What a firing alert was published as, kept in its state while it fires so that it can still be
 * resolved when its rule is deleted (the fingerprint cannot be recomputed then: the alert labels
 * include the deleted rule's labels). Bounded: the alert labels are the series labels (capped by
 * decode) plus the rule's labels.
 */
export interface FiringAlert {
  readonly fingerprint: string;
  readonly ruleName: string;
  readonly severity: Severity;
  /** Alert labels (series labels + rule labels + alertname), as on the firing transition. */
  readonly labels: Labels;
  /** The rule's condition text. */
  readonly condition: string;
}

/**
 * Duration state of one (rule, series), JSON-serialisable and bounded (see {@link MAX_WINDOW_SAMPLES}).
 * Time fields are event time (epoch ms).
 */
export interface SeriesState {
  /** Format version. */
  readonly v: 1;
  /** Newest sample time evaluated: the out-of-order / duplicate guard. */
  readonly lastSampleMs: number;
  readonly state: SeriesAlertState;
  /** When the series became pending (the alert's activeAt). */
  readonly activeAtMs?: number;
  /** When the alert started firing. */
  readonly firedAtMs?: number;
  /** When the condition cleared while firing with keepFiringFor. */
  readonly keepFiringSinceMs?: number;
  /** Last value that decided the state (null when not finite, as JSON has no NaN/Infinity). */
  readonly value?: number | null;
  /** True while no sample has been seen (an expected absence series): `lastSampleMs` is when silence began counting. */
  readonly noSample?: true;
  /** Window sample times (ascending), for windowed kinds. */
  readonly wt?: readonly number[];
  /** Window sample values, parallel to {@link SeriesState.wt}. */
  readonly wv?: readonly number[];
  /** The alert's identity, present exactly while `state` is firing (absent in items written before it existed). */
  readonly alert?: FiringAlert;
}

/** The samples of one (rule, series) in a batch, in time order. */
export interface SeriesBatch {
  /** `${rule.id}#${seriesKey}` (see {@link stateKeyFrom}): the state's key. */
  readonly stateKey: string;
  readonly rule: Rule;
  readonly metric: string;
  /** Series labels (without the metric name). */
  readonly labels: Labels;
  /** Sorted by time (stable: equal times keep arrival order). */
  readonly samples: MetricSample[];
}

/** A {@link StateChange} with the alert's times, so a transition can be built from any change of a batch. */
export interface AlertStateChange extends StateChange {
  readonly activeAtMs: number;
  readonly firedAtMs?: number;
}

/** Options of the time-based logic. */
export interface TimeOptions {
  /** A series with no sample for this long is stale. Default {@link DEFAULT_STALE_AFTER_MS}. */
  readonly staleAfterMs: number;
}

function escapeLabelValue(v: string): string {
  // Quote as JSON only when needed (a quote, a backslash or a control character): most values are plain.
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 34 || c === 92 || c < 32) return JSON.stringify(v);
  }
  return `"${v}"`;
}

/** The series identity: `metric{a="1",b="2"}` with labels sorted by name (Prometheus text form). */
export function seriesKey(metric: string, labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let s = `${metric}{`;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    s += `${i ? ',' : ''}${k}=${escapeLabelValue(labels[k]!)}`;
  }
  return `${s}}`;
}

/**
 * Longest state key kept readable, in UTF-8 bytes. DynamoDB partition keys hold at most 2,048 bytes
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys);
 * a longer series identity (many or long label values) is replaced by its hash.
 */
export const MAX_READABLE_STATE_KEY_BYTES = 1024;

/** `${ruleId}#${seriesKey}`, or `${ruleId}#${metric}#sha256:<hex>` when that would be too long. */
export function stateKeyFrom(ruleId: string, metric: string, sk: string): string {
  const key = `${ruleId}#${sk}`;
  // Fast path: 3 bytes per UTF-16 unit is the UTF-8 worst case.
  if (key.length * 3 <= MAX_READABLE_STATE_KEY_BYTES || new TextEncoder().encode(key).length <= MAX_READABLE_STATE_KEY_BYTES) return key;
  return `${ruleId}#${metric}#sha256:${createHash('sha256').update(sk).digest('hex')}`;
}

/** The state key of a (rule, series). */
export function stateKeyOf(rule: Rule, metric: string, labels: Labels): string {
  return stateKeyFrom(rule.id, metric, seriesKey(metric, labels));
}

/** Same labels in the same order (the common case of one producer), or the same object. */
function sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _k in b) n--;
  return n === 0;
}

/** What a series resolves to under a rule index: its canonical key, its rules and their state keys. */
interface SeriesInfo {
  readonly rules: readonly Rule[];
  readonly stateKeys: readonly string[];
}

/** Most series remembered per rule index between batches (then the memo starts over). */
const SERIES_MEMO_MAX = 200_000;
const seriesMemo = new WeakMap<RuleIndex, Map<string, SeriesInfo>>();

function seriesInfo(index: RuleIndex, name: string, labels: Labels): SeriesInfo | undefined {
  if (!index.hasMetric(name)) return undefined;
  let memo = seriesMemo.get(index);
  if (!memo) seriesMemo.set(index, (memo = new Map()));
  // Cheap identity first (labels in arrival order); the canonical key only for a new one.
  const raw = `${name}${JSON.stringify(labels)}`;
  let info = memo.get(raw);
  if (!info) {
    const rules = index.match(name, labels);
    const sk = seriesKey(name, labels);
    info = { rules, stateKeys: rules.map((r) => stateKeyFrom(r.id, name, sk)) };
    if (memo.size >= SERIES_MEMO_MAX) memo.clear();
    memo.set(raw, info);
  }
  return info;
}

/**
 * Groups samples by (rule, series): one {@link SeriesBatch} per state to read, samples sorted by
 * time. Samples no rule watches are dropped here.
 *
 * Hot path: consecutive samples of one series reuse the previous lookup; a series is otherwise
 * found by a cheap identity (metric + labels JSON in arrival order) in a bounded memo kept per rule
 * index across batches, so label sorting and matcher evaluation happen once per series, not per
 * sample.
 */
export function groupSamples(index: RuleIndex, samples: readonly MetricSample[]): SeriesBatch[] {
  type Group = { stateKey: string; rule: Rule; metric: string; labels: Labels; samples: MetricSample[]; unsorted: boolean };
  const groups = new Map<string, Group>();
  const out: Group[] = [];
  let prev: MetricSample | undefined;
  let prevGroups: Group[] | undefined;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    let gs: Group[];
    if (prev && prevGroups && s.name === prev.name && sameLabels(s.labels, prev.labels)) {
      gs = prevGroups;
    } else {
      const info = seriesInfo(index, s.name, s.labels);
      if (!info || info.rules.length === 0) {
        prev = undefined;
        continue;
      }
      gs = [];
      for (let j = 0; j < info.rules.length; j++) {
        const key = info.stateKeys[j]!;
        let g = groups.get(key);
        if (!g) {
          g = { stateKey: key, rule: info.rules[j]!, metric: s.name, labels: s.labels, samples: [], unsorted: false };
          groups.set(key, g);
          out.push(g);
        }
        gs.push(g);
      }
    }
    prev = s;
    prevGroups = gs;
    for (let j = 0; j < gs.length; j++) {
      const g = gs[j]!;
      const n = g.samples.length;
      if (n > 0 && s.timestampMs < g.samples[n - 1]!.timestampMs) g.unsorted = true;
      g.samples.push(s);
    }
  }
  const result: SeriesBatch[] = [];
  for (const g of out) {
    if (g.unsorted) g.samples.sort((a, b) => a.timestampMs - b.timestampMs);
    result.push({ stateKey: g.stateKey, rule: g.rule, metric: g.metric, labels: g.labels, samples: g.samples });
  }
  return result;
}

/** Alert labels: series labels (no metric name) + rendered rule labels (override) + `alertname` = rule id; sorted by name. */
export function alertLabels(rule: Rule, seriesLabels: Labels): Labels {
  const merged: Record<string, string> = { ...seriesLabels };
  for (const [k, t] of ruleTemplates(rule).labels) merged[k] = t.render({ value: NaN, labels: seriesLabels });
  merged.alertname = rule.id;
  const out: Record<string, string> = {};
  for (const k of Object.keys(merged).sort()) out[k] = merged[k]!;
  return out;
}

/** Alert identity: sha256 over the rule id and the sorted labels (name 0xFF value 0xFF), first 16 hex digits. */
export function fingerprint(ruleId: string, labels: Labels): string {
  const h = createHash('sha256');
  h.update(ruleId);
  h.update('\u0000');
  for (const k of Object.keys(labels).sort()) {
    h.update(k);
    h.update('\u00ff');
    h.update(labels[k]!);
    h.update('\u00ff');
  }
  return h.digest('hex').slice(0, 16);
}

/** Transition id: a hash of fingerprint, kind, activeAt and the transition time; stable under replay. */
export function transitionIdOf(fp: string, kind: string, activeAtMs: number, atMs: number): string {
  return createHash('sha256').update(`${fp}|${kind}|${activeAtMs}|${atMs}`).digest('hex').slice(0, 32);
}

interface MutableState {
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

function load(s: SeriesState, windowed: boolean): MutableState {
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

function save(m: MutableState): SeriesState {
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
class Identity {
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

type Emit = (from: AlertState, to: AlertState, atMs: number, value: number) => void;

function firingAlert(rule: Rule, id: Identity): FiringAlert {
  const { labels, fp } = id.get();
  return { fingerprint: fp, ruleName: rule.name, severity: rule.severity, labels, condition: rule.conditionText };
}

function emitter(rule: Rule, id: Identity, st: MutableState, changes: AlertStateChange[]): Emit {
  return (from, to, atMs, value) => {
    const { labels, fp } = id.get();
    // Remembered as published, for a resolution after the rule is deleted (see deletedRuleTransition).
    if (to === 'firing') st.alert = firingAlert(rule, id);
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

function clearAlert(st: MutableState): void {
  st.state = 'inactive';
  st.activeAtMs = undefined;
  st.firedAtMs = undefined;
  st.keepFiringSinceMs = undefined;
  st.alert = undefined;
}

/** When a firing (non-absence) series resolves for lack of samples. */
function firingDueMs(rule: Rule, st: { lastSampleMs: number; keepFiringSinceMs?: number | undefined }, staleAfterMs: number): number {
  const staleAt = st.lastSampleMs + staleAfterMs;
  const since = st.keepFiringSinceMs ?? staleAt;
  return Math.max(staleAt, since + rule.keepFiringForMs);
}

/** Applies the time-based ends due at or before `nowMs` (staleness, absence). */
function applyDue(rule: Rule, st: MutableState, nowMs: number, staleAfterMs: number, emit: Emit): void {
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
 * Drops window samples at or before `cutoff` (the window is `(t - window, t]`) by moving the
 * window's start: the arrays are trimmed once, when the state is saved (no allocation per sample).
 */
function evict(st: MutableState, cutoff: number): void {
  const wt = st.wt!;
  let i = st.start;
  while (i < wt.length && wt[i]! <= cutoff) i++;
  st.start = i;
}

function pushWindow(st: MutableState, ts: number, v: number): void {
  st.wt!.push(ts);
  st.wv!.push(v);
  if (st.wt!.length - st.start > MAX_WINDOW_SAMPLES) st.start = st.wt!.length - MAX_WINDOW_SAMPLES;
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
  // A firing state stored before the identity was kept gets it at its next write (computed once).
  if (st.state === 'firing' && !st.alert) st.alert = firingAlert(rule, id);
  return { state: save(st), changes, skipped };
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

/**
 * The alert-events message for a change: only `→firing` and `firing→resolved` give one.
 * Annotations are rendered with `$value` = the change's value and `$labels` = the alert labels.
 */
export function toTransition(rule: Rule, change: StateChange, state: SeriesState, emittedAtMs: number): AlertTransition | undefined {
  let kind: 'firing' | 'resolved';
  if (change.to === 'firing') kind = 'firing';
  else if (change.to === 'resolved') kind = 'resolved';
  else return undefined;
  const c = change as Partial<AlertStateChange> & StateChange;
  const activeAtMs = c.activeAtMs ?? state.activeAtMs ?? change.atMs;
  const firedAtMs = kind === 'firing' ? change.atMs : (c.firedAtMs ?? state.firedAtMs ?? activeAtMs);
  const annotations: Record<string, string> = {};
  for (const [k, t] of ruleTemplates(rule).annotations) annotations[k] = t.render({ value: change.value, labels: change.labels });
  return {
    version: 1,
    transitionId: transitionIdOf(change.fingerprint, kind, activeAtMs, change.atMs),
    kind,
    fingerprint: change.fingerprint,
    ruleId: rule.id,
    ruleName: rule.name,
    severity: rule.severity,
    labels: change.labels,
    annotations,
    value: Number.isFinite(change.value) ? change.value : null,
    condition: rule.conditionText,
    atMs: change.atMs,
    activeAtMs,
    firedAtMs,
    ...(kind === 'resolved' ? { resolvedAtMs: change.atMs } : {}),
    ...(rule.runbookUrl !== undefined ? { runbookUrl: rule.runbookUrl } : {}),
    ...(rule.dashboardUrl !== undefined ? { dashboardUrl: rule.dashboardUrl } : {}),
    ...(rule.policy !== undefined ? { policy: rule.policy } : {}),
    emittedAtMs,
  };
}

/**
 * The resolution of a firing alert whose rule was deleted from the rule source (Alertmanager
 * resolves alerts that stop being sent; so does Klaxon), built from the identity the state kept
 * while firing ({@link SeriesState.alert}). `atMs` is the timers function's clock. Undefined when
 * the state is not firing, or is firing without a stored identity (written before it was kept).
 * The transition id comes from {@link transitionIdOf} like any other.
 */
export function deletedRuleTransition(ruleId: string, state: SeriesState, atMs: number): AlertTransition | undefined {
  const a = state.alert;
  if (state.state !== 'firing' || !a) return undefined;
  const activeAtMs = state.activeAtMs ?? state.firedAtMs ?? atMs;
  const firedAtMs = state.firedAtMs ?? activeAtMs;
  return {
    version: 1,
    transitionId: transitionIdOf(a.fingerprint, 'resolved', activeAtMs, atMs),
    kind: 'resolved',
    fingerprint: a.fingerprint,
    ruleId,
    ruleName: a.ruleName,
    severity: a.severity,
    labels: a.labels,
    annotations: { summary: `rule ${ruleId} was deleted` },
    value: null,
    condition: a.condition,
    atMs,
    activeAtMs,
    firedAtMs,
    resolvedAtMs: atMs,
    emittedAtMs: atMs,
  };
}

/** Size of the state as stored (UTF-8 bytes of its JSON). */
export function stateSizeBytes(state: SeriesState): number {
  return new TextEncoder().encode(JSON.stringify(state)).length;
}
