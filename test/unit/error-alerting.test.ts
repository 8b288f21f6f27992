/**
 * Error alerting (shared/core/events/alerting.ts): error and success events of job runners become
 * alert transitions. Every path of each decision as a table; then the transition's content, the
 * ids under replay, and dispatch's own dedup and record accepting the sequences produced.
 */
import { describe, expect, it } from 'vitest';
import {
  alertNameOf,
  applyErrorEvent,
  applySuccess,
  DEFAULT_ERROR_ALERTING_CONFIG,
  ERROR_ALERT_REASONS,
  ERROR_ALERT_REASON_TEXT,
  quietResolution,
  resolveByPerson,
  type ErrorAlertReason,
  type ErrorAlertResult,
  type ErrorAlertState,
} from '../../shared/core/events/alerting.ts';
import type { ClassifyDecision } from '../../shared/core/events/classify.ts';
import { fingerprintOf } from '../../shared/core/events/fingerprint.ts';
import type { ErrorEvent, SuccessEvent } from '../../shared/core/events/types.ts';
import type { AlertTransition, Severity } from '../../shared/core/model/index.ts';
import { decideDedup } from '../../shared/core/dispatch/dedup/index.ts';
import { nextRecord, type AlertRecord } from '../../shared/core/dispatch/record/index.ts';

const T0 = Date.parse('2026-11-30T09:12:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A failure of etl_daily.load_orders, `min` minutes after T0. */
function failure(min: number, over: Partial<ErrorEvent> = {}): ErrorEvent {
  return {
    kind: 'error',
    source: 'airflow',
    service: 'etl_daily',
    task: 'load_orders',
    run: `scheduled__run_${min}`,
    try: 1,
    maxTries: 3,
    final: false,
    error: { type: 'botocore.exceptions.ClientError', message: `An error occurred (AccessDenied) when calling the GetObject operation: request ${1000 + min}` },
    logUrl: 'https://airflow.example.com/log?dag_id=etl_daily',
    tags: { team: 'data' },
    timestampMs: T0 + min * MIN,
    ...over,
  };
}

/** A success of etl_daily.load_orders, `min` minutes after T0. */
function success(min: number, over: Partial<SuccessEvent> = {}): SuccessEvent {
  return { kind: 'success', source: 'airflow', service: 'etl_daily', task: 'load_orders', run: `scheduled__run_${min}`, tags: {}, timestampMs: T0 + min * MIN, ...over };
}

/** A classification decision (what classifyEvent returns), of the given severity. */
function decision(severity: Severity, over: Partial<ClassifyDecision> = {}): ClassifyDecision {
  return {
    rule: severity === 'low' ? 'retry' : 'final-failure',
    outcome: 'matched',
    severity,
    reason: severity === 'low' ? 'the runner will retry' : 'failed for good',
    labels: { team: 'data', category: 'permissions' },
    suppress: false,
    matched: ['attempt is retry'],
    final: severity !== 'low',
    ...over,
  };
}

/** One step of a sequence: a failure (with its severity), a success, a quiet-period check, a resolution by hand. */
type Step =
  | { readonly fail: number; readonly severity?: Severity; readonly suppress?: boolean; readonly event?: Partial<ErrorEvent> }
  | { readonly succeed: number; readonly event?: Partial<SuccessEvent> }
  | { readonly quietAt: number; readonly quietMs?: number }
  | { readonly person: string; readonly at: number };

/** Runs the steps from no state; every result, in order. */
function run(steps: readonly Step[]): ErrorAlertResult[] {
  let state: ErrorAlertState | undefined;
  const out: ErrorAlertResult[] = [];
  for (const s of steps) {
    let r: ErrorAlertResult;
    if ('fail' in s) {
      const e = failure(s.fail, s.event);
      r = applyErrorEvent(state, e, fingerprintOf(e), decision(s.severity ?? 'high', { suppress: s.suppress ?? false }));
    } else if ('succeed' in s) {
      r = applySuccess([state!], success(s.succeed, s.event))[0]!;
    } else if ('quietAt' in s) {
      r = quietResolution(state!, T0 + s.quietAt * MIN, s.quietMs);
    } else {
      r = resolveByPerson(state!, s.person, T0 + s.at * MIN);
    }
    out.push(r);
    state = r.state;
  }
  return out;
}

const last = (steps: readonly Step[]): ErrorAlertResult => run(steps).at(-1)!;
/** The kinds of the transitions a sequence sends, `-` where none. */
const kinds = (steps: readonly Step[]): string => run(steps).map((r) => r.transition?.kind ?? '-').join(' ');

describe('reasons', () => {
  it('has a readable text for every reason', () => {
    for (const r of ERROR_ALERT_REASONS) expect(ERROR_ALERT_REASON_TEXT[r].length).toBeGreaterThan(10);
  });
});

describe('applyErrorEvent', () => {
  it.each<[string, readonly Step[], ErrorAlertReason, string]>([
    // The first failure of an error fires.
    ['new: first failure fires', [{ fail: 0 }], 'new-activation', 'firing'],
    // Suppressed by its classification: recorded, nothing sent.
    ['suppressed: recorded, no transition', [{ fail: 0, suppress: true }], 'suppressed', '-'],
    // A second failure while it fires: counted only.
    ['occurrence: counted, no transition', [{ fail: 0 }, { fail: 5 }], 'new-activation', 'firing -'],
    // A failure older than the last one: counted, no time moves back.
    ['out of order: counted, no transition', [{ fail: 0 }, { fail: 10 }, { fail: 5 }], 'new-activation', 'firing - -'],
    // A retry (low), then the final failure (high): fires again.
    ['worse severity: fires again', [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'high' }], 'new-activation', 'firing firing'],
    // Less severe than notified: nothing.
    ['better severity: nothing', [{ fail: 0, severity: 'critical' }, { fail: 5, severity: 'low' }], 'new-activation', 'firing -'],
    // Worse but suppressed: nothing.
    ['worse but suppressed: nothing', [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'critical', suppress: true }], 'new-activation', 'firing -'],
    // Suppressed retries, then an unsuppressed final failure: fires then.
    ['suppressed then not: fires', [{ fail: 0, suppress: true }, { fail: 5, suppress: true }, { fail: 9 }], 'suppressed', '- - firing'],
    // A failure older than the success that resolved it (late, replayed): it stays resolved.
    ['older than the resolution: nothing', [{ fail: 0 }, { succeed: 10 }, { fail: 5 }], 'new-activation', 'firing resolved -'],
    // Older than a resolution by hand: nothing either.
    ['older than a person\'s resolution: nothing', [{ fail: 0 }, { person: 'alice', at: 10 }, { fail: 5 }], 'new-activation', 'firing resolved -'],
    // Resolved, then failing again: a new activation.
    ['resolved then failing: fires again', [{ fail: 0 }, { succeed: 10 }, { fail: 20 }], 'new-activation', 'firing resolved firing'],
  ])('%s', (_name, steps, firstReason, expectedKinds) => {
    expect(run(steps)[0]!.reason).toBe(firstReason);
    expect(kinds(steps)).toBe(expectedKinds);
  });

  it.each<[string, readonly Step[], ErrorAlertReason, Partial<ErrorAlertState>]>([
    // One failure: count 1, first and last seen its time.
    ['new', [{ fail: 0 }], 'new-activation', { status: 'firing', count: 1, activeAtMs: T0, lastSeenMs: T0, severity: 'high', run: 'scheduled__run_0' }],
    // Suppressed: the state fires (recorded) but holds no notified firing.
    ['suppressed', [{ fail: 0, suppress: true }], 'suppressed', { status: 'firing', count: 1, notified: undefined }],
    // Occurrence: count and last seen move, the start does not; the newest run is kept.
    ['occurrence', [{ fail: 0 }, { fail: 5 }], 'occurrence', { count: 2, activeAtMs: T0, lastSeenMs: T0 + 5 * MIN, run: 'scheduled__run_5' }],
    // Out of order: counted as late, last seen and the newest run stay.
    ['out of order', [{ fail: 0 }, { fail: 10 }, { fail: 5 }], 'late-occurrence', { count: 3, late: 1, lastSeenMs: T0 + 10 * MIN, run: 'scheduled__run_10' }],
    // A failure without a run id does not keep the previous one's.
    ['occurrence without run', [{ fail: 0 }, { fail: 5, event: { run: undefined } }], 'occurrence', { count: 2, run: undefined }],
    // Worse severity: the notified firing moves to the event's time, with the new severity.
    ['worse severity', [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'critical' }], 'worse-severity', { count: 2, activeAtMs: T0, severity: 'critical' }],
    // Less severe: the last classification is kept, the notified one stays.
    ['better severity', [{ fail: 0, severity: 'high' }, { fail: 5, severity: 'low' }], 'occurrence', { count: 2, severity: 'low' }],
    // Suppressed so far, then not: fires.
    ['unsuppressed', [{ fail: 0, suppress: true }, { fail: 5 }], 'unsuppressed', { count: 2, activeAtMs: T0 }],
    // Older than the resolution: counted as late, still resolved.
    ['older than the resolution', [{ fail: 0 }, { succeed: 10 }, { fail: 5 }], 'older-than-resolution', { status: 'resolved', count: 2, late: 1, lastSeenMs: T0 }],
    // Resolved, then failing: a fresh activation.
    ['after resolution', [{ fail: 0 }, { fail: 1 }, { succeed: 10 }, { fail: 20 }], 'new-activation', { count: 1, activeAtMs: T0 + 20 * MIN, resolvedAtMs: undefined }],
  ])('%s', (_name, steps, reason, expected) => {
    const r = last(steps);
    expect(r.reason).toBe(reason);
    // `undefined` in a row: the field is absent (never stored as undefined).
    expect(r.state).toMatchObject(Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)));
    for (const [k, v] of Object.entries(expected)) if (v === undefined) expect(k in r.state).toBe(false);
  });

  it.each<[string, readonly Step[], number]>([
    // The escalation fires at the failure's time.
    ['at the failure', [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'high' }], T0 + 5 * MIN],
    // A late worse failure fires at the last time seen, never before it.
    ['late worse failure', [{ fail: 0, severity: 'low' }, { fail: 10, severity: 'low' }, { fail: 5, severity: 'high' }], T0 + 10 * MIN],
    // Same millisecond as the first firing: one millisecond later (a later activation to dispatch).
    ['same millisecond', [{ fail: 0, severity: 'low' }, { fail: 0, severity: 'critical' }], T0 + 1],
    // Twice worse: low, high, critical, each later.
    ['twice worse', [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'high' }, { fail: 7, severity: 'critical' }], T0 + 7 * MIN],
  ])('a worse severity fires with a later firedAtMs: %s', (_name, steps, firedAtMs) => {
    const results = run(steps);
    const firings = results.map((r) => r.transition).filter((t) => t !== undefined);
    const t = firings.at(-1)!;
    expect(t.firedAtMs).toBe(firedAtMs);
    expect(t.atMs).toBe(firedAtMs);
    expect(t.activeAtMs).toBe(T0);
    expect(new Set(firings.map((f) => f.transitionId)).size).toBe(firings.length);
    expect(results.at(-1)!.state.notified?.firedAtMs).toBe(firedAtMs);
  });
});

describe('applySuccess', () => {
  const firing = run([{ fail: 0 }, { fail: 10 }])[1]!.state;

  it.each<[string, SuccessEvent, ErrorAlertReason, string | undefined]>([
    // After the last failure: resolves at the success's time.
    ['success after the last failure resolves', success(20), 'resolved-by-success', 'resolved'],
    // At the same millisecond as the last failure: resolves.
    ['success at the last failure resolves', success(10), 'resolved-by-success', 'resolved'],
    // Older than the last failure (a late success of an earlier run): still fires.
    ['older success does not resolve', success(5), 'success-older-than-error', undefined],
    // Another task of the same job: not this alert.
    ['other task does not resolve', success(20, { task: 'load_customers' }), 'success-other-task', undefined],
    // Another job with the same task name: not this alert.
    ['other service does not resolve', success(20, { service: 'etl_hourly' }), 'success-other-task', undefined],
  ])('%s', (_name, s, reason, kind) => {
    const [r] = applySuccess([firing], s);
    expect(r!.reason).toBe(reason);
    expect(r!.transition?.kind).toBe(kind);
    if (kind) expect(r!.state).toMatchObject({ status: 'resolved', resolvedAtMs: s.timestampMs, resolvedBy: 'success' });
    else expect(r!.state).toBe(firing);
  });

  it.each<[string, readonly Step[], ErrorAlertReason]>([
    // Already resolved: nothing.
    ['resolved state', [{ fail: 0 }, { succeed: 5 }], 'not-firing'],
    // Never notified (suppressed): resolves without a transition.
    ['suppressed state', [{ fail: 0, suppress: true }], 'resolved-unnotified'],
  ])('%s', (_name, steps, reason) => {
    const [r] = applySuccess([last(steps).state], success(30));
    expect(r!.reason).toBe(reason);
    expect(r!.transition).toBeUndefined();
  });

  it('resolves every firing error of the task, one result per state', () => {
    const a = run([{ fail: 0 }])[0]!.state;
    const b = run([{ fail: 2, event: { error: { type: 'TimeoutError', message: 'timed out' } } }])[0]!.state;
    const other = run([{ fail: 2, event: { task: 'export' } }])[0]!.state;
    const results = applySuccess([a, b, other], success(30));
    expect(results.map((r) => r.reason)).toEqual(['resolved-by-success', 'resolved-by-success', 'success-other-task']);
    expect(results.map((r) => r.transition?.fingerprint)).toEqual([`err:${a.fingerprint}`, `err:${b.fingerprint}`, undefined]);
  });
});

describe('quietResolution', () => {
  it.each<[string, readonly Step[], ErrorAlertReason, number | undefined]>([
    // Exactly 24h after the last failure: due, resolved at lastSeen + 24h.
    ['due at the end of the default period', [{ fail: 0 }, { fail: 60 }, { quietAt: 60 + 24 * 60 }], 'quiet-period-elapsed', T0 + HOUR + DAY],
    // Found due later by the timers: still resolved at lastSeen + period (stable id).
    ['due, found late', [{ fail: 0 }, { quietAt: 3 * 24 * 60 }], 'quiet-period-elapsed', T0 + DAY],
    // One minute short: not due.
    ['not due', [{ fail: 0 }, { fail: 60 }, { quietAt: 24 * 60 + 59 }], 'quiet-period-not-due', undefined],
    // A configured period of 1h.
    ['configured period', [{ fail: 0 }, { quietAt: 60, quietMs: HOUR }], 'quiet-period-elapsed', T0 + HOUR],
    // 0: never.
    ['disabled', [{ fail: 0 }, { quietAt: 365 * 24 * 60, quietMs: 0 }], 'quiet-period-disabled', undefined],
    // Already resolved: nothing.
    ['not firing', [{ fail: 0 }, { succeed: 1 }, { quietAt: 3 * 24 * 60 }], 'not-firing', undefined],
    // Never notified: resolved silently.
    ['suppressed', [{ fail: 0, suppress: true }, { quietAt: 24 * 60 }], 'resolved-unnotified', undefined],
  ])('%s', (_name, steps, reason, resolvedAtMs) => {
    const r = last(steps);
    expect(r.reason).toBe(reason);
    expect(r.transition?.resolvedAtMs).toBe(resolvedAtMs);
    if (resolvedAtMs !== undefined) expect(r.state).toMatchObject({ status: 'resolved', resolvedBy: 'quiet' });
  });

  it('gives the same transition id whenever the timers find it due', () => {
    const s = run([{ fail: 0 }])[0]!.state;
    const ids = [DAY, DAY + HOUR, 2 * DAY].map((d) => quietResolution(s, T0 + d).transition!.transitionId);
    expect(new Set(ids).size).toBe(1);
  });

  it('defaults to 24h', () => {
    expect(DEFAULT_ERROR_ALERTING_CONFIG.quietPeriodMs).toBe(DAY);
  });
});

describe('resolveByPerson', () => {
  it.each<[string, readonly Step[], ErrorAlertReason, Record<string, unknown> | undefined]>([
    // Named: resolved at the given time, annotated with who.
    ['by a person', [{ fail: 0 }, { person: 'alice@example.com', at: 30 }], 'resolved-by-person', { resolvedAtMs: T0 + 30 * MIN, annotations: expect.objectContaining({ resolved_by: 'alice@example.com' }) }],
    // Before the last failure (a skewed clock): at the last failure, so dispatch accepts it.
    ['before the last failure', [{ fail: 0 }, { fail: 20 }, { person: 'bob', at: 10 }], 'resolved-by-person', { resolvedAtMs: T0 + 20 * MIN }],
    // Nobody named: refused.
    ['nobody', [{ fail: 0 }, { person: '   ', at: 30 }], 'no-person', undefined],
    // Not firing: nothing.
    ['not firing', [{ fail: 0 }, { succeed: 5 }, { person: 'alice', at: 30 }], 'not-firing', undefined],
  ])('%s', (_name, steps, reason, transition) => {
    const r = last(steps);
    expect(r.reason).toBe(reason);
    if (transition) {
      expect(r.transition).toMatchObject({ kind: 'resolved', ...transition });
      expect(r.state.resolvedBy).toMatch(/^person:/);
    } else expect(r.transition).toBeUndefined();
  });
});

describe('the transition', () => {
  const [first, second] = run([{ fail: 0 }, { fail: 14, event: { run: 'manual__x' } }, { fail: 30, severity: 'critical' }]);
  const t = first!.transition!;

  it('is identified by the error fingerprint, labelled stably', () => {
    const fp = fingerprintOf(failure(0)).fingerprint;
    expect(t).toMatchObject({
      version: 1,
      kind: 'firing',
      fingerprint: `err:${fp}`,
      ruleId: 'error:final-failure',
      ruleName: 'ClientError in etl_daily.load_orders',
      severity: 'high',
      value: 1,
      condition: 'failed for good',
      atMs: T0,
      activeAtMs: T0,
      firedAtMs: T0,
    });
    expect(t.labels).toEqual({
      alertname: 'ClientError',
      category: 'permissions',
      error_fingerprint: fp,
      error_type: 'botocore.exceptions.ClientError',
      run: 'scheduled__run_0',
      service: 'etl_daily',
      source: 'airflow',
      task: 'load_orders',
      team: 'data',
    });
    expect(Object.keys(t.labels)).toEqual(Object.keys(t.labels).sort());
  });

  it('puts what varies in annotations', () => {
    expect(t.annotations).toMatchObject({
      summary: 'ClientError in etl_daily.load_orders',
      log_url: 'https://airflow.example.com/log?dag_id=etl_daily',
      run: 'scheduled__run_0',
      occurrences: '1 since 2026-11-30 09:12:00 UTC, last 2026-11-30 09:12:00 UTC',
      classification: 'rule final-failure: failed for good (attempt is retry)',
    });
    expect(t.annotations.description).toContain('An error occurred (AccessDenied)');
    expect(t.annotations.normalized).toBe(fingerprintOf(failure(0)).normalized);
  });

  it('counts occurrences in the escalation it sends, keeping the labels', () => {
    const r = run([{ fail: 0, severity: 'low' }, { fail: 14, severity: 'low' }, { fail: 30, severity: 'critical', event: { run: 'manual__x' } }]);
    const esc = r[2]!.transition!;
    expect(esc.value).toBe(3);
    expect(esc.severity).toBe('critical');
    expect(esc.annotations).toMatchObject({ summary: 'ClientError in etl_daily.load_orders (+2 since 09:12 UTC)', run: 'manual__x' });
    expect(esc.labels).toEqual(r[0]!.transition!.labels);
  });

  it('resolves with the labels, severity and firedAtMs of the last firing', () => {
    const r = run([{ fail: 0, severity: 'low' }, { fail: 5, severity: 'critical' }, { succeed: 9 }]);
    const res = r[2]!.transition!;
    expect(res).toMatchObject({ kind: 'resolved', severity: 'critical', firedAtMs: T0 + 5 * MIN, activeAtMs: T0, atMs: T0 + 9 * MIN, resolvedAtMs: T0 + 9 * MIN });
    expect(res.labels).toEqual(r[1]!.transition!.labels);
  });

  it('keeps the state JSON-serialisable', () => {
    const s = second!.state;
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it.each<[string, string]>([
    ['botocore.exceptions.ClientError', 'ClientError'],
    ['TimeoutError', 'TimeoutError'],
    ['weird.', 'weird.'],
  ])('alertname of %s is %s', (type, name) => {
    expect(alertNameOf(type)).toBe(name);
  });
});

describe('identity', () => {
  const steps: readonly Step[] = [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'high' }, { succeed: 10 }, { fail: 20 }, { quietAt: 20 + 24 * 60 }];
  const ids = (s: readonly Step[]) => run(s).map((r) => r.transition?.transitionId ?? '-');

  it('gives the same ids under replay (same inputs)', () => {
    expect(ids(steps)).toEqual(ids(steps));
  });

  it('gives every transition its own id; a new activation after a resolution, new ids', () => {
    const all = ids(steps).filter((i) => i !== '-');
    expect(all).toHaveLength(5);
    expect(new Set(all).size).toBe(5);
  });
});

describe('dispatch accepts the sequences', () => {
  /** Passes each transition through dispatch's dedup, then its record; the dedup verdicts. */
  function dispatched(steps: readonly Step[], redeliver = false): string[] {
    let record: AlertRecord | undefined;
    const out: string[] = [];
    const ts = run(steps).flatMap((r) => (r.transition ? [r.transition] : []));
    for (const t of redeliver ? ts.flatMap((x) => [x, x]) : ts) {
      const d = decideDedup(record, t);
      out.push(`${t.kind}:${d.verdict}`);
      if (d.verdict === 'apply') record = nextRecord({ transition: t as AlertTransition, record, severity: t.severity, escalation: undefined, deliveries: {}, nowMs: t.atMs }).record;
    }
    return out;
  }

  it.each<[string, readonly Step[], boolean, readonly string[]]>([
    // Fire, escalate, resolve: all applied.
    ['worse severity then success', [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'critical' }, { succeed: 9 }], false, ['firing:apply', 'firing:apply', 'resolved:apply']],
    // Twice worse.
    ['twice worse', [{ fail: 0, severity: 'low' }, { fail: 0, severity: 'high' }, { fail: 0, severity: 'critical' }], false, ['firing:apply', 'firing:apply', 'firing:apply']],
    // Resolved, failing again, quiet period.
    ['new activation', [{ fail: 0 }, { succeed: 5 }, { fail: 20 }, { quietAt: 20 + 24 * 60 }], false, ['firing:apply', 'resolved:apply', 'firing:apply', 'resolved:apply']],
    // Redelivered (SQS at least once): every second copy is a duplicate.
    ['redelivered', [{ fail: 0, severity: 'low' }, { fail: 5, severity: 'high' }, { person: 'alice', at: 1 }], true, ['firing:apply', 'firing:duplicate', 'firing:apply', 'firing:duplicate', 'resolved:apply', 'resolved:duplicate']],
  ])('%s', (_name, steps, redeliver, verdicts) => {
    expect(dispatched(steps, redeliver)).toEqual(verdicts);
  });
});
