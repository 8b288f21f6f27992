/**
 * Error alerting (issue 11): how error and success events of job runners become
 * {@link AlertTransition}s, the same messages metric alerts leave the evaluator as, so dispatch
 * routes, groups, throttles and notifies them unchanged. Pure: the evaluator keeps one
 * {@link ErrorAlertState} per error fingerprint (DynamoDB, later) and calls these functions; time
 * is always an argument (event time, or the timers' clock), never read here.
 *
 * The life of an error alert (one per fingerprint, ./fingerprint.ts):
 * - the first failure (or the first after a resolution) starts an ACTIVATION and fires it, unless
 *   its classification suppresses it (recorded, not notified);
 * - further failures of the same fingerprint are occurrences: counted, never notified again;
 *   except a WORSE SEVERITY (a retry classified low, then the final failure high): the activation
 *   fires again with a new `firedAtMs` (see {@link applyErrorEvent});
 * - it resolves when the task succeeds ({@link applySuccess}), after a quiet period without
 *   failures ({@link quietResolution}), or by hand ({@link resolveByPerson}).
 */
import type { AlertTransition, Labels, NotificationPolicy, Severity } from '../model/index.ts';
import { SEVERITIES } from '../model/index.ts';
import { transitionIdOf } from '../evaluate/identity.ts';
import { redactSecrets } from '../deliver/redact.ts';
import type { ClassifyDecision } from './classify.ts';
import { cutText } from './event.ts';
import type { ErrorFingerprint } from './fingerprint.ts';
import type { ErrorEvent, SuccessEvent } from './types.ts';

/** Default quiet period: a firing error alert without a new failure for 24 h resolves. */
export const DEFAULT_QUIET_PERIOD_MS = 24 * 60 * 60 * 1000;
/** Default length of the message excerpt kept in the state and shown in notifications (UTF-16 code units). */
export const DEFAULT_EXCERPT_CHARS = 300;
/** Longest name of a person who resolves an alert by hand (longer is cut). */
export const MAX_RESOLVER_CHARS = 100;
/** Prefix of an error alert's fingerprint (the transition's `fingerprint`), so it never equals a metric alert's (16 hex digits). */
export const ERROR_FINGERPRINT_PREFIX = 'err:';

/** Configuration of error alerting. */
export interface ErrorAlertingConfig {
  /** A firing alert without a new failure for this long resolves; 0 = never. Default {@link DEFAULT_QUIET_PERIOD_MS}. */
  readonly quietPeriodMs: number;
  /** Length of the message excerpt kept. Default {@link DEFAULT_EXCERPT_CHARS}. */
  readonly excerptChars: number;
  /** Notification policy carried by every error transition (throttle windows, escalation), if any. */
  readonly policy?: NotificationPolicy;
}

/** The defaults. */
export const DEFAULT_ERROR_ALERTING_CONFIG: ErrorAlertingConfig = { quietPeriodMs: DEFAULT_QUIET_PERIOD_MS, excerptChars: DEFAULT_EXCERPT_CHARS };

/** What the current activation's last firing told dispatch: resolutions repeat it, a worse severity is measured against it. */
export interface NotifiedFiring {
  /** The firing's `firedAtMs`: dispatch's identity of the activation (its record's `startsAtMs`). */
  readonly firedAtMs: number;
  readonly severity: Severity;
  /** The transition labels sent: the alert's identity downstream, repeated as is by every later transition of the activation. */
  readonly labels: Labels;
  /** The transition's `ruleId` and `ruleName`. */
  readonly ruleId: string;
  readonly ruleName: string;
}

/**
 * What the evaluator keeps per error fingerprint: compact, JSON-serialisable (numbers, strings,
 * plain objects; no `undefined` values written), versioned.
 */
export interface ErrorAlertState {
  /** Format version. */
  readonly v: 1;
  /** The error fingerprint (16 hex digits, ./fingerprint.ts); the transitions' is `err:` + it. */
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  /**
   * Event time of the activation's first failure seen: its start, and what `count` counts since.
   * Fixed for the activation (a late failure older than it does not move it): it is part of every
   * transition id of the activation, which must not depend on the order events arrived in.
   */
  readonly activeAtMs: number;
  /** Event time of the newest failure seen (never moves backwards). */
  readonly lastSeenMs: number;
  /** Failures in this activation, late ones included. */
  readonly count: number;
  /** Of those, how many arrived older than `lastSeenMs` (out of order, replayed). */
  readonly late?: number;
  /** Classification of the newest failure: rule, severity, reason, labels. */
  readonly rule: string;
  readonly severity: Severity;
  readonly reason: string;
  readonly labels: Labels;
  /** The task key of the newest failure. */
  readonly source: string;
  readonly service: string;
  readonly task: string;
  /** The newest failure's run id, try, and whether it was final. */
  readonly run?: string;
  readonly try?: number;
  readonly maxTries?: number;
  readonly final: boolean;
  /** The fingerprint's normalized message, and the fingerprint rule that decided it, if any. */
  readonly normalized: string;
  readonly fingerprintRule?: string;
  /** The newest failure's error type (full) and message excerpt (secrets redacted, cut). */
  readonly errorType: string;
  readonly excerpt: string;
  readonly logUrl?: string;
  /** The activation's last notified firing; absent while every failure so far was suppressed (nothing sent). */
  readonly notified?: NotifiedFiring;
  /** For `resolved`: when, and how (`success`, `quiet`, or `person:<who>`). */
  readonly resolvedAtMs?: number;
  readonly resolvedBy?: string;
}

/** Why an error alert changed (or did not). */
export const ERROR_ALERT_REASONS = [
  'new-activation',
  'suppressed',
  'occurrence',
  'late-occurrence',
  'older-than-resolution',
  'worse-severity',
  'unsuppressed',
  'resolved-by-success',
  'success-older-than-error',
  'success-other-task',
  'quiet-period-elapsed',
  'quiet-period-not-due',
  'quiet-period-disabled',
  'resolved-by-person',
  'no-person',
  'not-firing',
  'resolved-unnotified',
] as const;
/** One of {@link ERROR_ALERT_REASONS}. */
export type ErrorAlertReason = (typeof ERROR_ALERT_REASONS)[number];

/** Readable text for each {@link ErrorAlertReason}. */
export const ERROR_ALERT_REASON_TEXT: Readonly<Record<ErrorAlertReason, string>> = {
  'new-activation': 'first failure of this error (or the first since it resolved): it fires',
  suppressed: 'first failure of this error, but its classification suppresses it: recorded, not notified',
  occurrence: 'the error fires already: one more occurrence, counted, not notified',
  'late-occurrence': 'a failure older than the last one seen (out of order or replayed): counted, times kept',
  'older-than-resolution': 'a failure older than the error\'s resolution (out of order or replayed): counted, it does not fire again',
  'worse-severity': 'the error fires already, but this failure is classified more severe than what was notified: it fires again',
  unsuppressed: 'the error was recorded suppressed so far; this failure is not suppressed: it fires',
  'resolved-by-success': 'the task succeeded after its last failure: the error resolves',
  'success-older-than-error': 'the success is older than the last failure: the error still fires',
  'success-other-task': 'the success is of another task than the error\'s',
  'quiet-period-elapsed': 'no failure for the quiet period: the error resolves',
  'quiet-period-not-due': 'the quiet period since the last failure has not elapsed',
  'quiet-period-disabled': 'the quiet period is 0: errors never resolve by silence',
  'resolved-by-person': 'resolved by hand',
  'no-person': 'a resolution by hand must name who resolved it',
  'not-firing': 'the error does not fire: nothing to resolve',
  'resolved-unnotified': 'the error resolves; it was never notified (suppressed), so no resolution is sent',
};

/** What one decision gives: the state to keep, the transition to send (if any), and why. */
export interface ErrorAlertResult {
  readonly state: ErrorAlertState;
  readonly transition?: AlertTransition;
  readonly reason: ErrorAlertReason;
}

const RANK: Readonly<Record<Severity, number>> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

/** Whether `a` is more severe than `b` (SEVERITIES is ordered most severe first). */
export function moreSevere(a: Severity, b: Severity): boolean {
  return RANK[a] < RANK[b];
}

/** The transitions' fingerprint of an error fingerprint: `err:<fingerprint>`. */
export function errorAlertFingerprint(fingerprint: string): string {
  return `${ERROR_FINGERPRINT_PREFIX}${fingerprint}`;
}

/** The error type's last dotted part (`botocore.exceptions.ClientError` → `ClientError`), or the whole type. */
export function alertNameOf(errorType: string): string {
  const t = errorType.trim();
  const last = t.slice(t.lastIndexOf('.') + 1);
  return last || t;
}

/** `2026-11-30 09:12:00 UTC`: a time as notifications show it. */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
/** `09:12 UTC`. */
function hhmm(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

/** The latest time the state has seen: its last failure, or its last firing (which a worse severity may set just after it). */
export function lastTimeMs(s: ErrorAlertState): number {
  return Math.max(s.lastSeenMs, s.notified?.firedAtMs ?? s.lastSeenMs);
}

/** The newest failure's fields, as the state keeps them. */
function fromEvent(e: ErrorEvent, id: ErrorFingerprint, d: ClassifyDecision, config: ErrorAlertingConfig) {
  return {
    rule: d.rule,
    severity: d.severity,
    reason: d.reason,
    labels: d.labels,
    source: e.source,
    service: e.service,
    task: e.task,
    ...(e.run !== undefined ? { run: e.run } : {}),
    ...(e.try !== undefined ? { try: e.try } : {}),
    ...(e.maxTries !== undefined ? { maxTries: e.maxTries } : {}),
    final: e.final,
    normalized: id.normalized,
    ...(id.rule !== undefined ? { fingerprintRule: id.rule } : {}),
    errorType: e.error.type,
    excerpt: cutText(redactSecrets(e.error.message.trim()), config.excerptChars),
    ...(e.logUrl !== undefined ? { logUrl: e.logUrl } : {}),
  };
}

/**
 * The transition labels: the classification's labels (team, owner, category...), under the
 * alert's own (`alertname`, `source`, `service`, `task`, `error_type`, `error_fingerprint`, and
 * `run`: the run whose failure fired it), which a rule cannot override; sorted by name. Nothing
 * that changes between occurrences (count, time, a later run): labels are the alert's identity and
 * grouping key downstream, so `run` is the FIRING's run, kept when a worse severity fires the
 * activation again (`firingRun`): `group_by: [service, run]` gathers one DAG run's failures.
 */
export function errorAlertLabels(s: ErrorAlertState, firingRun: string | undefined = s.run): Labels {
  const merged: Record<string, string> = {
    ...s.labels,
    ...(firingRun !== undefined ? { run: firingRun } : {}),
    alertname: alertNameOf(s.errorType),
    source: s.source,
    service: s.service,
    task: s.task,
    error_type: s.errorType,
    error_fingerprint: s.fingerprint,
  };
  const out: Record<string, string> = {};
  for (const k of Object.keys(merged).sort()) out[k] = merged[k]!;
  return out;
}

/** What a transition needs from the state and how it came about. */
function annotations(s: ErrorAlertState, matched: readonly string[] | undefined, extra: Labels = {}): Labels {
  const name = `${alertNameOf(s.errorType)} in ${s.service}.${s.task}`;
  const since = s.count > 1 ? ` (+${s.count - 1} since ${hhmm(s.activeAtMs)})` : '';
  const attempt = s.try !== undefined ? `try ${s.try}${s.maxTries !== undefined ? ` of ${s.maxTries}` : ''}, ` : '';
  const run = s.run !== undefined ? `run ${s.run} (${attempt}${s.final ? 'final' : 'will retry'})` : s.final ? 'final failure' : 'will retry';
  // The normalized message can be as long as a message's first two lines (8 KB): cut as the excerpt is.
  const group = cutText(s.normalized, DEFAULT_EXCERPT_CHARS);
  return {
    summary: `${name}${since}`,
    description: `${s.errorType}: ${s.excerpt}\nLast failure: ${run}, ${utc(s.lastSeenMs)}.\nError group: ${group}`,
    occurrences: `${s.count} since ${utc(s.activeAtMs)}, last ${utc(s.lastSeenMs)}${s.late ? ` (${s.late} arrived out of order)` : ''}`,
    classification: `rule ${s.rule}: ${s.reason}${matched && matched.length > 0 ? ` (${matched.join('; ')})` : ''}`,
    normalized: group,
    ...(s.run !== undefined ? { run: s.run } : {}),
    ...(s.logUrl !== undefined ? { log_url: s.logUrl } : {}),
    ...(s.fingerprintRule !== undefined ? { fingerprint_rule: s.fingerprintRule } : {}),
    ...extra,
  };
}

/**
 * Builds a transition of the state. `emittedAtMs` is set to `atMs` (event time: core reads no
 * clock); the evaluator's handler overwrites it with its clock for the pipeline latency metric.
 */
function transitionOf(s: ErrorAlertState, n: NotifiedFiring, kind: AlertTransition['kind'], atMs: number, config: Pick<ErrorAlertingConfig, 'policy'>, matched?: readonly string[], extra?: Labels): AlertTransition {
  const fp = errorAlertFingerprint(s.fingerprint);
  return {
    version: 1,
    transitionId: transitionIdOf(fp, kind, s.activeAtMs, atMs),
    kind,
    fingerprint: fp,
    ruleId: n.ruleId,
    ruleName: n.ruleName,
    severity: n.severity,
    labels: n.labels,
    annotations: annotations(s, matched, extra),
    value: s.count,
    condition: s.reason,
    atMs,
    activeAtMs: s.activeAtMs,
    firedAtMs: n.firedAtMs,
    ...(kind === 'resolved' ? { resolvedAtMs: atMs } : {}),
    ...(config.policy !== undefined ? { policy: config.policy } : {}),
    emittedAtMs: atMs,
  };
}

/** A firing of the state at `firedAtMs`: the notified record and the transition. */
function fire(s: ErrorAlertState, firedAtMs: number, d: ClassifyDecision, config: ErrorAlertingConfig): { state: ErrorAlertState; transition: AlertTransition } {
  const notified: NotifiedFiring = {
    firedAtMs,
    severity: d.severity,
    labels: errorAlertLabels(s, s.notified !== undefined ? s.notified.labels.run : s.run),
    ruleId: `error:${d.rule}`,
    ruleName: `${alertNameOf(s.errorType)} in ${s.service}.${s.task}`,
  };
  const state: ErrorAlertState = { ...s, notified };
  return { state, transition: transitionOf(state, notified, 'firing', firedAtMs, config, d.matched) };
}

/**
 * Applies one failure to the error's state (undefined: never seen).
 *
 * - No state, or resolved: a new activation, firing at the event's time (`new-activation`); when
 *   the classification suppresses it, recorded without a transition (`suppressed`). A failure
 *   older than the resolution is counted and changes nothing else (`older-than-resolution`).
 * - Firing: an occurrence, counted, no transition (`occurrence`); an event older than the last
 *   seen is counted too but moves no time nor the newest failure's fields (`late-occurrence`).
 * - Firing but never notified (every failure so far suppressed) and this one is not suppressed:
 *   it fires now (`unsuppressed`).
 * - WORSE SEVERITY (firing, notified, this failure not suppressed and more severe than the
 *   notified firing): the same activation fires again with a NEW `firedAtMs` (`worse-severity`).
 *
 *   Why this and not resolve-then-fire: the failure has not gone away, and a resolution would tell
 *   the on-call (and every group) that it did. Why dispatch accepts it (dedup/index.ts
 *   `decideDedup`): a firing is stale only when its `firedAtMs` equals the record's `startsAtMs`
 *   (`already-firing`) or is older (`older-activation`); a later `firedAtMs` is a
 *   `new-transition`, and the record's `startsAtMs` becomes it, so later resolutions (which carry
 *   the newest `firedAtMs`) match. `activeAtMs` stays the activation's start, and the transition id
 *   (`transitionIdOf(fp, 'firing', activeAtMs, firedAtMs)`) differs from the first firing's. The
 *   new `firedAtMs` is the event's time, but never before the last failure seen and always after
 *   the previous firing, so a late worse failure is still a later firing. Throttling then applies
 *   with the NEW severity's window (critical has none by default).
 *
 * The failure's own severity decides; a failure less severe than the notified firing changes
 * nothing downstream (the alert keeps the severity it fired with until it resolves).
 */
export function applyErrorEvent(state: ErrorAlertState | undefined, e: ErrorEvent, id: ErrorFingerprint, d: ClassifyDecision, config: ErrorAlertingConfig = DEFAULT_ERROR_ALERTING_CONFIG): ErrorAlertResult {
  const t = e.timestampMs;
  if (state !== undefined && state.status === 'resolved' && state.resolvedAtMs !== undefined && t < state.resolvedAtMs) {
    // It happened before the resolution (a success that came after it, a person who saw it): it
    // does not reopen the alert, and dispatch would drop its firing as older than the record.
    return { state: { ...state, count: state.count + 1, late: (state.late ?? 0) + 1 }, reason: 'older-than-resolution' };
  }
  if (state === undefined || state.status === 'resolved') {
    const fresh: ErrorAlertState = { v: 1, fingerprint: id.fingerprint, status: 'firing', activeAtMs: t, lastSeenMs: t, count: 1, ...fromEvent(e, id, d, config) };
    if (d.suppress) return { state: fresh, reason: 'suppressed' };
    return { ...fire(fresh, t, d, config), reason: 'new-activation' };
  }
  const late = t < state.lastSeenMs;
  const counted: ErrorAlertState = late
    ? { ...state, count: state.count + 1, late: (state.late ?? 0) + 1 }
    : { ...withoutNewest(state), count: state.count + 1, lastSeenMs: t, ...fromEvent(e, id, d, config) };
  if (!d.suppress) {
    if (counted.notified === undefined) return { ...fire(counted, Math.max(t, lastTimeMs(state)), d, config), reason: 'unsuppressed' };
    if (moreSevere(d.severity, counted.notified.severity)) {
      const firedAtMs = Math.max(t, lastTimeMs(state), counted.notified.firedAtMs + 1);
      return { ...fire(counted, firedAtMs, d, config), reason: 'worse-severity' };
    }
  }
  return { state: counted, reason: late ? 'late-occurrence' : 'occurrence' };
}

/** The state without the newest failure's optional fields (a failure without a run id must not keep the previous one's; no `undefined` is stored). */
function withoutNewest(s: ErrorAlertState): ErrorAlertState {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the fields are dropped
  const { run, try: _try, maxTries, logUrl, fingerprintRule, ...rest } = s;
  return rest;
}

/** Resolves a firing state at `atMs`: the resolved transition when its firing was notified. */
function resolve(s: ErrorAlertState, atMs: number, by: string, reason: ErrorAlertReason, config: Pick<ErrorAlertingConfig, 'policy'>, extra?: Labels): ErrorAlertResult {
  const state: ErrorAlertState = { ...s, status: 'resolved', resolvedAtMs: atMs, resolvedBy: by };
  if (s.notified === undefined) return { state, reason: 'resolved-unnotified' };
  return { state, transition: transitionOf(state, s.notified, 'resolved', atMs, config, undefined, extra), reason };
}

/**
 * A success of a task resolves every firing error alert of that task (same source, service and
 * task), at the success's time, unless the success is older than the alert's last failure (a late
 * success of an earlier run: the error still fires). One result per state, in order; states that
 * do not fire, or are of another task, are returned unchanged.
 */
export function applySuccess(states: readonly ErrorAlertState[], s: SuccessEvent, config: Pick<ErrorAlertingConfig, 'policy'> = DEFAULT_ERROR_ALERTING_CONFIG): readonly ErrorAlertResult[] {
  return states.map((state): ErrorAlertResult => {
    if (state.status !== 'firing') return { state, reason: 'not-firing' };
    if (state.source !== s.source || state.service !== s.service || state.task !== s.task) return { state, reason: 'success-other-task' };
    if (s.timestampMs < lastTimeMs(state)) return { state, reason: 'success-older-than-error' };
    return resolve(state, s.timestampMs, 'success', 'resolved-by-success', config, s.run !== undefined ? { resolved_by: `success of run ${s.run}` } : { resolved_by: 'success' });
  });
}

/**
 * The quiet-period resolution the timers ask for at `nowMs`: due when `lastSeen + quietPeriodMs <=
 * nowMs`, resolved AT `lastSeen + quietPeriodMs` (not at `nowMs`), so every timer run that finds
 * it due gives the same transition id (dispatch drops the repeats as duplicates). A quiet period
 * of 0 (or not a positive finite number) never resolves.
 */
export function quietResolution(state: ErrorAlertState, nowMs: number, quietPeriodMs: number = DEFAULT_QUIET_PERIOD_MS, config: Pick<ErrorAlertingConfig, 'policy'> = DEFAULT_ERROR_ALERTING_CONFIG): ErrorAlertResult {
  if (state.status !== 'firing') return { state, reason: 'not-firing' };
  if (!(quietPeriodMs > 0) || !Number.isFinite(quietPeriodMs)) return { state, reason: 'quiet-period-disabled' };
  const dueAtMs = lastTimeMs(state) + quietPeriodMs;
  if (dueAtMs > nowMs) return { state, reason: 'quiet-period-not-due' };
  return resolve(state, dueAtMs, 'quiet', 'quiet-period-elapsed', config, { resolved_by: `no failure for ${formatDuration(quietPeriodMs)}` });
}

/**
 * Resolution by hand: `who` (trimmed, cut to {@link MAX_RESOLVER_CHARS}) at `atMs`, never before
 * the alert's last failure or firing (a resolution older than the record is stale to dispatch).
 */
export function resolveByPerson(state: ErrorAlertState, who: string, atMs: number, config: Pick<ErrorAlertingConfig, 'policy'> = DEFAULT_ERROR_ALERTING_CONFIG): ErrorAlertResult {
  if (state.status !== 'firing') return { state, reason: 'not-firing' };
  const name = cutText(who.trim(), MAX_RESOLVER_CHARS);
  if (name === '') return { state, reason: 'no-person' };
  return resolve(state, Math.max(atMs, lastTimeMs(state)), `person:${name}`, 'resolved-by-person', config, { resolved_by: name });
}

/** `24h`, `90m`, `45s`, `1500ms`: the largest whole unit. */
function formatDuration(ms: number): string {
  for (const [unit, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % n === 0) return `${ms / n}${unit}`;
  return `${ms}ms`;
}
