/**
 * The figures of the alert history over a period (docs/incidents.md, "History and analytics"):
 * alerts fired per rule, severity and team; notifications per channel; suppressions by reason;
 * MTTA and MTTR with PagerDuty's definitions, overall and per rule, severity and team; the
 * noisiest and the flapping rules; each headline figure against the previous period.
 *
 * Pure: the events come in as an argument ({@link loadReport} reads them through the
 * {@link HistoryStore} port), every time is an argument.
 *
 * Activations. MTTA and MTTR are per activation, as PagerDuty's are per incident: an activation is
 * one firing of one alert, identified by its fingerprint and `firedAtMs`. It belongs to the period
 * its firing time falls in (PagerDuty's analytics filter incidents by `created_at`), and its
 * acknowledgement or resolution counts wherever it happened, even after the period, as long as
 * the events passed in include it.
 * - MTTA: the mean, over the period's activations that were acknowledged, of the time from firing
 *   to the FIRST acknowledgement (PagerDuty's `mean_seconds_to_first_ack`). An activation never
 *   acknowledged is counted among those fired and left out of the mean.
 * - MTTR: the mean, over the period's activations that resolved, of the time from firing to the
 *   resolution (PagerDuty's `mean_seconds_to_resolve`); one still firing is counted, not averaged.
 * PagerDuty Analytics API (`POST /analytics/metrics/incidents/all`):
 * https://developer.pagerduty.com/api-reference/ — "Analytics" section.
 */
import { SEVERITIES, type Severity } from '../model/index.ts';
import type { HistoryEvent, HistoryQuery, HistoryStore } from './types.ts';

/** A period `[fromMs, toMs)`, epoch ms. */
export interface ReportPeriod {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Tunables of the report. */
export interface ReportOptions {
  /** A re-firing counts towards flapping when it comes at most this long after the alert's previous resolution (ms). */
  readonly flapWindowMs: number;
  /** A rule is flapping when its alerts re-fired that quickly at least this many times in the period. */
  readonly flapMinRefires: number;
  /** How many rules the noisiest list shows. */
  readonly noisiestLimit: number;
}

/**
 * Defaults: a re-firing within 15 minutes of the resolution, 3 times in the period, is flapping
 * (three round trips of a typical `for: 5m` rule); the 10 noisiest rules.
 */
export const DEFAULT_REPORT_OPTIONS: ReportOptions = { flapWindowMs: 15 * 60_000, flapMinRefires: 3, noisiestLimit: 10 };

/** The key under which events without a `team` are grouped. */
export const NO_TEAM = '(none)';

/** The figures of one rule, severity or team. */
export interface GroupFigures {
  readonly key: string;
  /** Activations that fired in the period. */
  readonly fired: number;
  /** Of those, how many were acknowledged (at any time in the events given). */
  readonly acknowledged: number;
  /** Of those, how many resolved. */
  readonly resolved: number;
  /** `notified` events in the period. */
  readonly notifications: number;
  /** `suppressed` events in the period. */
  readonly suppressed: number;
  /** Mean time to first acknowledgement (ms); undefined when none was acknowledged. */
  readonly mttaMs?: number;
  /** Mean time to resolution (ms); undefined when none resolved. */
  readonly mttrMs?: number;
}

/** A count under a key (a channel, a reason). */
export interface KeyCount {
  readonly key: string;
  readonly count: number;
}

/** The headline figures of a period. */
export interface HeadlineFigures {
  readonly fired: number;
  readonly acknowledged: number;
  readonly resolved: number;
  readonly notifications: number;
  readonly suppressed: number;
  /** `escalated` events (escalation-policy steps) in the period. */
  readonly escalations: number;
  readonly mttaMs?: number;
  readonly mttrMs?: number;
}

/** The headline figures a trend is computed for, in display order. */
export const HEADLINE_FIGURES = ['fired', 'acknowledged', 'resolved', 'notifications', 'suppressed', 'escalations', 'mttaMs', 'mttrMs'] as const;
/** One of {@link HEADLINE_FIGURES}. */
export type HeadlineFigure = (typeof HEADLINE_FIGURES)[number];

/** A headline figure against the previous period. */
export interface Trend {
  readonly figure: HeadlineFigure;
  readonly current?: number;
  readonly previous?: number;
  /** current − previous; undefined when either is. */
  readonly change?: number;
  /** change / previous × 100; undefined when the previous is 0 or undefined. */
  readonly changePercent?: number;
}

/** A rule whose alerts resolved and fired again quickly, again and again. */
export interface FlappingRule {
  readonly ruleId: string;
  /** Firings that came within `flapWindowMs` of the same alert's previous resolution. */
  readonly refires: number;
  /** Activations of the rule that fired in the period. */
  readonly fired: number;
  /** Distinct alerts (fingerprints) that re-fired that quickly. */
  readonly alerts: number;
  /** The shortest time from a resolution to the next firing (ms). */
  readonly shortestGapMs: number;
}

/** The report of a period. */
export interface HistoryReport {
  readonly period: ReportPeriod;
  /** The period before, of the same length (the trends' reference). */
  readonly previousPeriod: ReportPeriod;
  readonly options: ReportOptions;
  readonly headline: HeadlineFigures;
  readonly previousHeadline: HeadlineFigures;
  readonly trends: readonly Trend[];
  /** Per rule, per severity (most severe first), per team: most fired first. */
  readonly byRule: readonly GroupFigures[];
  readonly bySeverity: readonly GroupFigures[];
  readonly byTeam: readonly GroupFigures[];
  /** `notified` events per channel, most first. */
  readonly notificationsByChannel: readonly KeyCount[];
  /** `suppressed` events per reason, most first. */
  readonly suppressedByReason: readonly KeyCount[];
  /** The rules with the most activations (then the most notifications), at most `noisiestLimit`. */
  readonly noisiest: readonly GroupFigures[];
  /** Rules with at least `flapMinRefires` quick re-firings, most first. */
  readonly flapping: readonly FlappingRule[];
}

/** The period of the same length just before `p`. */
export function previousPeriodOf(p: ReportPeriod): ReportPeriod {
  return { fromMs: p.fromMs - (p.toMs - p.fromMs), toMs: p.fromMs };
}

/** One firing of one alert. */
interface Activation {
  readonly fingerprint: string;
  readonly firedAtMs: number;
  ruleId: string;
  severity: Severity;
  team: string;
  firstAckMs?: number;
  resolvedAtMs?: number;
}

const inPeriod = (ms: number, p: ReportPeriod): boolean => ms >= p.fromMs && ms < p.toMs;
const severityRank = (s: string): number => {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
};

/**
 * The activations of `events`: one per `fired` event's (fingerprint, firedAtMs), with the most
 * severe severity it fired at, its first acknowledgement and its resolution. An acknowledgement or
 * resolution without `firedAtMs` belongs to the latest activation of its alert that fired at or
 * before it.
 */
function activationsOf(events: readonly HistoryEvent[]): Activation[] {
  const byKey = new Map<string, Activation>();
  const byFingerprint = new Map<string, Activation[]>();
  for (const e of events) {
    if (e.kind !== 'fired') continue;
    const firedAtMs = e.firedAtMs ?? e.atMs;
    const key = `${e.fingerprint}\u0000${firedAtMs}`;
    const cur = byKey.get(key);
    if (cur) {
      if (severityRank(e.severity) < severityRank(cur.severity)) cur.severity = e.severity;
      continue;
    }
    const a: Activation = { fingerprint: e.fingerprint, firedAtMs, ruleId: e.ruleId, severity: e.severity, team: e.team ?? NO_TEAM };
    byKey.set(key, a);
    const list = byFingerprint.get(e.fingerprint) ?? [];
    list.push(a);
    byFingerprint.set(e.fingerprint, list);
  }
  for (const list of byFingerprint.values()) list.sort((a, b) => a.firedAtMs - b.firedAtMs);
  const owner = (e: HistoryEvent): Activation | undefined => {
    if (e.firedAtMs !== undefined) return byKey.get(`${e.fingerprint}\u0000${e.firedAtMs}`);
    const list = byFingerprint.get(e.fingerprint) ?? [];
    let found: Activation | undefined;
    for (const a of list) if (a.firedAtMs <= e.atMs) found = a;
    return found;
  };
  for (const e of events) {
    if (e.kind !== 'acknowledged' && e.kind !== 'resolved') continue;
    const a = owner(e);
    // An event before its firing is not a response to it (clock skew between writers): left out.
    if (!a || e.atMs < a.firedAtMs) continue;
    if (e.kind === 'acknowledged') a.firstAckMs = Math.min(a.firstAckMs ?? Infinity, e.atMs);
    else a.resolvedAtMs = Math.min(a.resolvedAtMs ?? Infinity, e.atMs);
  }
  return [...byKey.values()];
}

const mean = (xs: readonly number[]): number | undefined => (xs.length === 0 ? undefined : xs.reduce((s, x) => s + x, 0) / xs.length);

/** Figures of a set of activations and of the period's events that share their key. */
function figures(key: string, acts: readonly Activation[], events: readonly HistoryEvent[]): GroupFigures {
  const acked = acts.filter((a) => a.firstAckMs !== undefined);
  const resolved = acts.filter((a) => a.resolvedAtMs !== undefined);
  const mttaMs = mean(acked.map((a) => a.firstAckMs! - a.firedAtMs));
  const mttrMs = mean(resolved.map((a) => a.resolvedAtMs! - a.firedAtMs));
  return {
    key,
    fired: acts.length,
    acknowledged: acked.length,
    resolved: resolved.length,
    notifications: events.filter((e) => e.kind === 'notified').length,
    suppressed: events.filter((e) => e.kind === 'suppressed').length,
    ...(mttaMs !== undefined ? { mttaMs } : {}),
    ...(mttrMs !== undefined ? { mttrMs } : {}),
  };
}

function groupBy<T>(items: readonly T[], keyOf: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = keyOf(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

/** Figures per key of `actKey` / `eventKey`, most fired first, then most notifications, then by key. */
function groups(acts: readonly Activation[], events: readonly HistoryEvent[], actKey: (a: Activation) => string, eventKey: (e: HistoryEvent) => string): GroupFigures[] {
  const a = groupBy(acts, actKey);
  const e = groupBy(events, eventKey);
  const keys = new Set([...a.keys(), ...e.keys()]);
  return [...keys].map((k) => figures(k, a.get(k) ?? [], e.get(k) ?? [])).sort(byNoise);
}

function byNoise(a: GroupFigures, b: GroupFigures): number {
  return b.fired - a.fired || b.notifications - a.notifications || compareText(a.key, b.key);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function counts(events: readonly HistoryEvent[], keyOf: (e: HistoryEvent) => string): KeyCount[] {
  return [...groupBy(events, keyOf)].map(([key, list]) => ({ key, count: list.length })).sort((a, b) => b.count - a.count || compareText(a.key, b.key));
}

function headlineOf(acts: readonly Activation[], events: readonly HistoryEvent[]): HeadlineFigures {
  const all = figures('', acts, events);
  return {
    fired: all.fired,
    acknowledged: all.acknowledged,
    resolved: all.resolved,
    notifications: all.notifications,
    suppressed: all.suppressed,
    escalations: events.filter((e) => e.kind === 'escalated').length,
    ...(all.mttaMs !== undefined ? { mttaMs: all.mttaMs } : {}),
    ...(all.mttrMs !== undefined ? { mttrMs: all.mttrMs } : {}),
  };
}

/** A figure against its previous value (see {@link Trend}). */
export function trendOf(figure: HeadlineFigure, current: number | undefined, previous: number | undefined): Trend {
  const change = current !== undefined && previous !== undefined ? current - previous : undefined;
  const changePercent = change !== undefined && previous !== undefined && previous !== 0 ? (change / previous) * 100 : undefined;
  return {
    figure,
    ...(current !== undefined ? { current } : {}),
    ...(previous !== undefined ? { previous } : {}),
    ...(change !== undefined ? { change } : {}),
    ...(changePercent !== undefined ? { changePercent } : {}),
  };
}

/**
 * Quick re-firings per rule: an activation of the period whose alert's previous activation resolved
 * at most `flapWindowMs` before it fired. Rules with at least `flapMinRefires` of them.
 */
function flappingOf(all: readonly Activation[], period: ReportPeriod, opts: ReportOptions): FlappingRule[] {
  const perRule = new Map<string, { refires: number; alerts: Set<string>; shortestGapMs: number }>();
  for (const list of groupBy(all, (a) => a.fingerprint).values()) {
    list.sort((a, b) => a.firedAtMs - b.firedAtMs);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      if (!inPeriod(cur.firedAtMs, period) || prev.resolvedAtMs === undefined) continue;
      const gap = cur.firedAtMs - prev.resolvedAtMs;
      if (gap < 0 || gap > opts.flapWindowMs) continue;
      const r = perRule.get(cur.ruleId) ?? { refires: 0, alerts: new Set<string>(), shortestGapMs: Infinity };
      r.refires++;
      r.alerts.add(cur.fingerprint);
      r.shortestGapMs = Math.min(r.shortestGapMs, gap);
      perRule.set(cur.ruleId, r);
    }
  }
  const firedPerRule = groupBy(
    all.filter((a) => inPeriod(a.firedAtMs, period)),
    (a) => a.ruleId,
  );
  return [...perRule]
    .filter(([, r]) => r.refires >= opts.flapMinRefires)
    .map(([ruleId, r]) => ({ ruleId, refires: r.refires, fired: firedPerRule.get(ruleId)?.length ?? 0, alerts: r.alerts.size, shortestGapMs: r.shortestGapMs }))
    .sort((a, b) => b.refires - a.refires || compareText(a.ruleId, b.ruleId));
}

/**
 * The report of `period`. `events` should span the previous period and the period (what
 * {@link reportQuery} asks for): the previous period's events make the trends, and an alert that
 * resolved before the period and fired again inside it can count as flapping. Events after the
 * period only ever add acknowledgements and resolutions of its activations.
 */
export function buildReport(events: readonly HistoryEvent[], period: ReportPeriod, options: Partial<ReportOptions> = {}): HistoryReport {
  const opts: ReportOptions = { ...DEFAULT_REPORT_OPTIONS, ...options };
  if (!(opts.flapWindowMs >= 0) || !Number.isSafeInteger(opts.flapMinRefires) || opts.flapMinRefires < 1 || !Number.isSafeInteger(opts.noisiestLimit) || opts.noisiestLimit < 0) {
    throw new RangeError(`report options: flapWindowMs ≥ 0, flapMinRefires a whole number ≥ 1, noisiestLimit a whole number ≥ 0; got ${JSON.stringify(opts)}`);
  }
  if (!(period.toMs > period.fromMs)) throw new RangeError(`report period: ${period.fromMs} .. ${period.toMs} is empty`);
  const previousPeriod = previousPeriodOf(period);
  const all = activationsOf(events);
  const acts = all.filter((a) => inPeriod(a.firedAtMs, period));
  const prevActs = all.filter((a) => inPeriod(a.firedAtMs, previousPeriod));
  const periodEvents = events.filter((e) => inPeriod(e.atMs, period));
  const prevEvents = events.filter((e) => inPeriod(e.atMs, previousPeriod));
  const headline = headlineOf(acts, periodEvents);
  const previousHeadline = headlineOf(prevActs, prevEvents);
  const byRule = groups(acts, periodEvents, (a) => a.ruleId, (e) => e.ruleId);
  const bySeverity = groups(acts, periodEvents, (a) => a.severity, (e) => e.severity).sort((a, b) => severityRank(a.key) - severityRank(b.key) || compareText(a.key, b.key));
  return {
    period: { fromMs: period.fromMs, toMs: period.toMs },
    previousPeriod,
    options: opts,
    headline,
    previousHeadline,
    trends: HEADLINE_FIGURES.map((f) => trendOf(f, headline[f], previousHeadline[f])),
    byRule,
    bySeverity,
    byTeam: groups(acts, periodEvents, (a) => a.team, (e) => e.team ?? NO_TEAM),
    notificationsByChannel: counts(
      periodEvents.filter((e) => e.kind === 'notified'),
      (e) => e.channel ?? 'unknown',
    ),
    suppressedByReason: counts(
      periodEvents.filter((e) => e.kind === 'suppressed'),
      (e) => e.reason ?? 'unknown',
    ),
    noisiest: byRule.filter((g) => g.fired > 0 || g.notifications > 0).slice(0, opts.noisiestLimit),
    flapping: flappingOf(all, period, opts),
  };
}

/** Activations fired per time bucket and severity (the console's "alerts over time" chart). */
export interface FiredOverTime {
  readonly bucketMs: number;
  /** Start of each bucket (epoch ms). */
  readonly starts: readonly number[];
  /** Per severity, activations fired in each bucket. */
  readonly bySeverity: Readonly<Record<Severity, readonly number[]>>;
}

/** The most buckets {@link firedOverTime} makes (a chart a screen wide; bounds the work for any range). */
export const MAX_BUCKETS = 2_000;

/**
 * Activations that fired in `period`, counted per `bucketMs` (aligned on the period's start) and
 * severity. Throws RangeError for more than {@link MAX_BUCKETS} buckets.
 */
export function firedOverTime(events: readonly HistoryEvent[], period: ReportPeriod, bucketMs: number): FiredOverTime {
  const n = Math.max(0, Math.ceil((period.toMs - period.fromMs) / bucketMs));
  if (!(bucketMs > 0) || n > MAX_BUCKETS) throw new RangeError(`firedOverTime: ${n} buckets of ${bucketMs} ms; at most ${MAX_BUCKETS}`);
  const starts = Array.from({ length: n }, (_, i) => period.fromMs + i * bucketMs);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, new Array<number>(n).fill(0)])) as Record<Severity, number[]>;
  for (const a of activationsOf(events)) {
    if (!inPeriod(a.firedAtMs, period)) continue;
    const row = bySeverity[a.severity];
    if (row) row[Math.floor((a.firedAtMs - period.fromMs) / bucketMs)]!++;
  }
  return { bucketMs, starts, bySeverity };
}

/** What a report is of: a period, optionally one rule or team. */
export interface ReportRequest extends ReportPeriod {
  readonly ruleId?: string;
  readonly team?: string;
}

/** The history query a report of `r` needs: the previous period and the period, filtered alike. */
export function reportQuery(r: ReportRequest): HistoryQuery {
  return {
    fromMs: previousPeriodOf(r).fromMs,
    toMs: r.toMs,
    ...(r.ruleId !== undefined ? { ruleId: r.ruleId } : {}),
    ...(r.team !== undefined ? { team: r.team } : {}),
  };
}

/** Reads the events of {@link reportQuery} from `store` and builds the report (`klaxon report`, the console). */
export async function loadReport(store: HistoryStore, r: ReportRequest, options: Partial<ReportOptions> = {}): Promise<{ report: HistoryReport; events: HistoryEvent[] }> {
  const events = await store.query(reportQuery(r));
  return { report: buildReport(events, { fromMs: r.fromMs, toMs: r.toMs }, options), events };
}
