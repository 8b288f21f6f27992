import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseRule, RuleIndex, type Rule } from '../../shared/core/rules/index.ts';
import {
  advanceClock,
  alertLabels,
  deletedRuleTransition,
  evaluateSeries,
  expectedAbsenceSeries,
  fingerprint,
  groupSamples,
  initialAbsenceState,
  MAX_WINDOW_SAMPLES,
  nextDueMs,
  seriesKey,
  stateKeyOf,
  stateSizeBytes,
  toTransition,
  transitionIdOf,
  type SeriesBatch,
  type SeriesState,
} from '../../shared/core/evaluate/index.ts';
import { legacyFingerprint } from '../../shared/core/evaluate/identity.ts';
import type { MetricSample, StateChange } from '../../shared/core/model/index.ts';
import { alertTransitionSchema } from '../../shared/core/dispatch/transition-schema.ts';

const M = 60_000;
const T0 = 1_795_300_000_000;
const LABELS = { instance: 'web-1' };

function rule(extra: Record<string, unknown>): Rule {
  return parseRule({ id: 'r', metric: 'm', severity: 'high', condition: '> 0', ...extra }, 'test');
}

function samplesOf(values: readonly (number | null)[], stepMs = M): MetricSample[] {
  const out: MetricSample[] = [];
  values.forEach((v, i) => {
    if (v !== null) out.push({ name: 'm', value: v, timestampMs: T0 + i * stepMs, labels: LABELS });
  });
  return out;
}

function batch(r: Rule, samples: MetricSample[]): SeriesBatch {
  return { stateKey: `${r.id}#${seriesKey('m', LABELS)}`, rule: r, metric: 'm', labels: LABELS, samples };
}

const CODE: Record<string, string> = { 'inactive>pending': 'P', 'pending>firing': 'F', 'pending>inactive': 'D', 'firing>resolved': 'R', 'inactive>firing': 'A' };
/**
 * Changes as `P@0 F@5` (minutes from T0): P pending, F firing, D pending dropped, R resolved, A
 * absence fired; `R@5+` is one millisecond after minute 5 (the first instant a sample is out of the
 * lookback or window).
 */
function timeline(changes: readonly StateChange[]): string {
  const at = (ms: number) => ((ms - T0) % M === 1 ? `${(ms - T0 - 1) / M}+` : `${(ms - T0) / M}`);
  return changes.map((c) => `${CODE[`${c.from}>${c.to}`]}@${at(c.atMs)}`).join(' ');
}

function run(r: Rule, values: readonly (number | null)[]): string {
  return timeline(evaluateSeries(batch(r, samplesOf(values)), undefined).changes);
}

const ones = (n: number) => Array<number>(n).fill(1);
const zeros = (n: number) => Array<number>(n).fill(0);

describe('state machine (Prometheus semantics, one sample per minute, 1 = condition true)', () => {
  it.each([
    // T1: pending at the first true sample, firing at the first sample at least `for` later
    ['T1 for basic', { for: '5m' }, ones(16), 'P@0 F@5'],
    // T2: a pending series that turns false is dropped silently, then starts over
    ['T2 for interrupted', { for: '5m' }, [...ones(4), 0, ...ones(8)], 'P@0 D@4 P@5 F@10'],
    // T3: for 0 fires at the first true sample
    ['T3 for 0', {}, [0, 0, 1, 1], 'P@2 F@2'],
    // T4: keepFiringFor resolves at the first sample at least that long after the condition cleared (9 - 6 = 3m, not < 3m)
    ['T4 keepFiringFor boundary', { for: '2m', keepFiringFor: '3m' }, [...ones(6), ...zeros(6)], 'P@0 F@2 R@9'],
    // T5: a re-breach while kept firing keeps the same alert and resets keepFiringSince
    ['T5 keepFiringFor reset', { for: '2m', keepFiringFor: '3m' }, [...ones(6), 0, 0, 1, ...zeros(5)], 'P@0 F@2 R@12'],
    // T6: keepFiringFor does not cover a pending alert
    ['T6 keepFiringFor not for pending', { for: '5m', keepFiringFor: '10m' }, [1, 1, 1, 0, 0, 0, 0, 0, 0], 'P@0 D@3'],
    // without keepFiringFor a firing alert resolves at the first false sample
    ['resolves at once', { for: '1m' }, [1, 1, 1, 0, 1], 'P@0 F@1 R@3 P@4'],
    // the promotion is inclusive: exactly `for` later fires
    ['for boundary inclusive', { for: '2m' }, [1, 1, 1], 'P@0 F@2'],
    // a gap within the lookback does not delay firing: the last sample still holds at activeAt + for
    ['gaps', { for: '3m' }, [1, null, null, null, 1], 'P@0 F@3'],
    // a gap longer than the lookback (5m): pending dropped once the sample is out of it, then pending again
    ['stale gap', { for: '6m' }, [1, null, null, null, null, null, 1], 'P@0 D@5+ P@6'],
  ])('%s', (_name, extra, values, expected) => {
    expect(run(rule(extra), values)).toBe(expected);
  });

  it('keeps activeAt and the fingerprint across a re-breach while kept firing (T5)', () => {
    const r = rule({ for: '2m', keepFiringFor: '3m' });
    const res = evaluateSeries(batch(r, samplesOf([...ones(6), 0, 0, 1])), undefined);
    expect(res.state).toMatchObject({ state: 'firing', activeAtMs: T0, firedAtMs: T0 + 2 * M });
    expect(res.state.keepFiringSinceMs).toBeUndefined();
    expect(new Set(res.changes.map((c) => c.fingerprint)).size).toBe(1);
  });

  it.each([
    // hysteresis: firing stays until clearCondition holds (75 and 72 are not > 80 but not < 70 either)
    ['clears only below the clear threshold', { clearCondition: '< 70', condition: '> 80' }, [85, 75, 72, 69, 75, 81], 'P@0 F@0 R@3 P@5 F@5'],
    // hysteresis with keepFiringFor: the clear starts the keep-firing period
    ['clear then keep firing', { clearCondition: '< 70', condition: '> 80', keepFiringFor: '2m' }, [85, 60, 60, 60], 'P@0 F@0 R@3'],
    // a pending series is not held by hysteresis
    ['pending ignores hysteresis', { clearCondition: '< 70', condition: '> 80', for: '5m' }, [85, 75], 'P@0 D@1'],
  ])('%s', (_name, extra, values, expected) => {
    expect(run(rule(extra), values)).toBe(expected);
  });
});

describe('out-of-order and duplicate samples', () => {
  it('skips and counts samples at or before the newest time seen', () => {
    const r = rule({ for: '1m' });
    const first = evaluateSeries(batch(r, samplesOf([1, 1])), undefined);
    expect(timeline(first.changes)).toBe('P@0 F@1');
    const s = (i: number, v: number): MetricSample => ({ name: 'm', value: v, timestampMs: T0 + i * M, labels: LABELS });
    // a redelivered batch, a duplicate of the newest and an older sample: all skipped
    const again = evaluateSeries(batch(r, [s(0, 1), s(1, 0), s(1, 0), s(2, 1)]), first.state);
    expect(again.skipped).toBe(3);
    expect(again.changes).toEqual([]);
    expect(again.state.lastSampleMs).toBe(T0 + 2 * M);
  });

  it('hashes a series identity too long for a DynamoDB key', () => {
    const index = new RuleIndex([rule({})]);
    const long = { a: 'x'.repeat(1500) };
    const [g] = groupSamples(index, [{ name: 'm', value: 1, timestampMs: 1, labels: long }]);
    expect(g!.stateKey).toMatch(/^r#m#sha256:[0-9a-f]{64}$/);
    expect(stateKeyOf(rule({}), 'm', long)).toBe(g!.stateKey);
    expect(g!.labels).toBe(long);
  });

  it('treats the same labels in another order as the same series', () => {
    const index = new RuleIndex([rule({})]);
    const groups = groupSamples(index, [
      { name: 'm', value: 1, timestampMs: 1, labels: { a: '1', b: '2' } },
      { name: 'm', value: 1, timestampMs: 2, labels: { b: '2', a: '1' } },
      { name: 'm', value: 1, timestampMs: 3, labels: { a: '1', b: '2' } },
    ]);
    expect(groups.map((g) => [g.stateKey, g.samples.length])).toEqual([['r#m{a="1",b="2"}', 3]]);
  });

  it('groups by rule and series and sorts each group by time', () => {
    const a = rule({});
    const b = parseRule({ id: 'b', metric: 'm', severity: 'low', condition: '> 0', matchers: ['instance="web-1"'] }, 'test');
    const c = parseRule({ id: 'c', metric: 'other', severity: 'low', condition: '> 0' }, 'test');
    const index = new RuleIndex([a, b, c]);
    const s = (t: number, inst: string): MetricSample => ({ name: 'm', value: 1, timestampMs: t, labels: { instance: inst } });
    const groups = groupSamples(index, [s(3, 'web-1'), s(1, 'web-1'), s(2, 'web-2'), { name: 'unwatched', value: 1, timestampMs: 1, labels: {} }]);
    expect(groups.map((g) => [g.stateKey, g.samples.map((x) => x.timestampMs)])).toEqual([
      ['r#m{instance="web-1"}', [1, 3]],
      ['b#m{instance="web-1"}', [1, 3]],
      ['r#m{instance="web-2"}', [2]],
    ]);
  });
});

describe('time-based ends, as Prometheus 2.42 evaluates them (promtool, test/fixtures/prometheus-oracle)', () => {
  const opts = { staleAfterMs: 5 * M };
  /** The samples (one a minute), then the clock to minute `endM`: every change, in order. */
  function withClock(r: Rule, values: readonly (number | null)[], endM: number): string {
    const res = evaluateSeries(batch(r, samplesOf(values)), undefined, opts);
    return timeline([...res.changes, ...advanceClock(r, LABELS, res.state, T0 + endM * M, opts).changes]);
  }

  it.each([
    // samples stop while pending: the last one holds for the 5m lookback, `for` elapses inside it (promtool: firing 3m..6m)
    ['pending, samples stop', { for: '3m' }, [1, 1], 'P@0 F@3 R@6+'],
    // samples pause while pending: fires at activeAt + for, the sample after the pause continues it
    ['pending, samples pause', { for: '3m' }, [1, 1, null, null, 1], 'P@0 F@3 R@9+'],
    // `for` longer than the lookback: dropped when the sample leaves it
    ['pending, for beyond the lookback', { for: '10m' }, [1], 'P@0 D@5+'],
    // a sample exactly 5m after the previous one is still within the lookback: one alert (promtool: firing 0..10m)
    ['sample exactly at the lookback end', {}, [1, null, null, null, null, 1], 'P@0 F@0 R@10+'],
    // one millisecond later it is not: resolved, then a new alert
    ['sample after the lookback end', {}, [1, null, null, null, null, null, 1], 'P@0 F@0 R@5+ P@6 F@6 R@11+'],
    // cleared with keepFiringFor 2m at 2m: resolved at 4m although the last sample is in the lookback until 7m (promtool: firing 0..3m)
    ['keepFiringFor ends before staleness', { keepFiringFor: '2m' }, [1, 1, 0], 'P@0 F@0 R@4'],
    // stale with keepFiringFor 2m: kept from 6m+1ms for 2m
    ['keepFiringFor after staleness', { keepFiringFor: '2m' }, [1, 1], 'P@0 F@0 R@8+'],
    // a 10m window keeps a stopped series for 10m after its last sample (promtool: firing 0..11m)
    ['10m window outlives the lookback', { aggregate: { fn: 'avg', window: '10m' } }, [1, 1], 'P@0 F@0 R@11+'],
    // a 2m window empties 2m after the last sample (promtool: firing 0..3m)
    ['2m window empties before the lookback', { aggregate: { fn: 'avg', window: '2m' } }, [1, 1], 'P@0 F@0 R@3+'],
    // the window's value changes as samples leave it: avg of [9, 1] is 5, of [1] is 1 after 9 leaves (at 3m+1ms)
    ['window value after an eviction', { aggregate: { fn: 'avg', window: '3m' }, condition: '> 4' }, [9, 1], 'P@0 F@0 R@3+'],
    // a pending windowed series fires while its samples stop, the value holding inside the window
    ['windowed pending fires without samples', { for: '4m', aggregate: { fn: 'max', window: '10m' } }, [1], 'P@0 F@4 R@10+'],
  ])('%s', (_name, extra, values, expected) => {
    expect(withClock(rule(extra), values, 30)).toBe(expected);
  });

  it.each([
    // pending, `for` ends inside the lookback: activeAt + for
    ['for inside the lookback', { for: '3m' }, T0 + 3 * M + 1],
    // pending, `for` ends after the lookback: when the sample leaves it
    ['for beyond the lookback', { for: '10m' }, T0 + 5 * M + 2],
    // pending windowed: when the oldest sample leaves the window (before activeAt + for)
    ['windowed pending', { for: '10m', aggregate: { fn: 'avg', window: '2m' } }, T0 + 2 * M + 2],
    // inactive windowed: not revisited before it can be deleted (out of lookback and window)
    ['inactive windowed', { condition: '> 5', aggregate: { fn: 'avg', window: '10m' } }, T0 + 10 * M + 1],
  ])('nextDueMs: %s', (_name, extra, due) => {
    const r = rule(extra);
    expect(nextDueMs(r, evaluateSeries(batch(r, samplesOf([1])), undefined, opts).state, opts)).toBe(due);
  });
});

describe('staleness and absence (event time)', () => {
  const opts = { staleAfterMs: 5 * M };

  it('resolves a firing series once its sample is out of the lookback, whether a later sample or the clock notices', () => {
    const r = rule({});
    const first = evaluateSeries(batch(r, samplesOf([1])), undefined, opts);
    // the sample is out of the lookback from 5m+1ms; the clock applies instants before its time
    expect(nextDueMs(r, first.state, opts)).toBe(T0 + 5 * M + 2);
    expect(advanceClock(r, LABELS, first.state, T0 + 5 * M + 1, opts).changes).toEqual([]);
    const byClock = advanceClock(r, LABELS, first.state, T0 + 9 * M, opts);
    const bySample = evaluateSeries(batch(r, [{ name: 'm', value: 1, timestampMs: T0 + 9 * M, labels: LABELS }]), first.state, opts);
    expect(timeline(byClock.changes)).toBe('R@5+');
    expect(timeline(bySample.changes)).toBe('R@5+ P@9 F@9');
    expect(toTransition(r, byClock.changes[0]!, first.state, 0)!.transitionId).toBe(toTransition(r, bySample.changes[0]!, first.state, 0)!.transitionId);
  });

  it('keeps a stale firing alert for keepFiringFor, or until keepFiringSince + keepFiringFor', () => {
    const r = rule({ keepFiringFor: '10m' });
    const firing = evaluateSeries(batch(r, samplesOf([1])), undefined, opts).state;
    // out of the lookback at 5m+1ms: keepFiringFor starts then
    expect(nextDueMs(r, firing, opts)).toBe(T0 + 5 * M + 2);
    const kept = advanceClock(r, LABELS, firing, T0 + 6 * M, opts);
    expect(kept.changes).toEqual([]);
    expect(kept.state).toMatchObject({ state: 'firing', keepFiringSinceMs: T0 + 5 * M + 1 });
    expect(nextDueMs(r, kept.state!, opts)).toBe(T0 + 15 * M + 2);
    expect(timeline(advanceClock(r, LABELS, kept.state!, T0 + 20 * M, opts).changes)).toBe('R@15+');
    const cleared = evaluateSeries(batch(r, samplesOf([1, 0])), undefined, opts).state;
    expect(cleared.keepFiringSinceMs).toBe(T0 + M);
    expect(nextDueMs(r, cleared, opts)).toBe(T0 + 11 * M + 1);
    expect(advanceClock(r, LABELS, cleared, T0 + 11 * M, opts).changes).toEqual([]);
    expect(timeline(advanceClock(r, LABELS, cleared, T0 + 11 * M + 1, opts).changes)).toBe('R@11');
  });

  it('drops a stale pending series and deletes an inactive one once out of the lookback and its window', () => {
    const r = rule({ for: '10m' });
    const pending = evaluateSeries(batch(r, samplesOf([1])), undefined, opts).state;
    const res = advanceClock(r, LABELS, pending, T0 + 5 * M + 2, opts);
    expect(timeline(res.changes)).toBe('D@5+');
    // inactive and out of the lookback (a threshold rule has no window): deleted in the same run
    expect(res.state).toBeUndefined();
    const w = rule({ condition: '> 5', aggregate: { fn: 'avg', window: '15m' } });
    const inactive = evaluateSeries(batch(w, samplesOf([1])), undefined, opts).state;
    expect(nextDueMs(w, inactive, opts)).toBe(T0 + 15 * M + 1);
    expect(advanceClock(w, LABELS, inactive, T0 + 15 * M, opts).state).toBe(inactive);
    expect(advanceClock(w, LABELS, inactive, T0 + 15 * M + 1, opts).state).toBeUndefined();
  });

  it('fires an absence rule when a series sent nothing for `for`, and resolves it at the next sample', () => {
    const r = parseRule({ id: 'hb', metric: 'm', severity: 'high', absent: {}, for: '10m' }, 'test');
    const seen = evaluateSeries(batch(r, samplesOf([1])), undefined, opts).state;
    expect(nextDueMs(r, seen, opts)).toBe(T0 + 10 * M + 1);
    const fired = advanceClock(r, LABELS, seen, T0 + 12 * M, opts);
    expect(timeline(fired.changes)).toBe('A@10');
    expect(toTransition(r, fired.changes[0]!, fired.state!, 0)).toMatchObject({ kind: 'firing', atMs: T0 + 10 * M, activeAtMs: T0 + 10 * M, value: null, condition: 'absent_over_time(m[10m])' });
    expect(nextDueMs(r, fired.state!, opts)).toBeUndefined();
    const back = evaluateSeries(batch(r, samplesOf([null, null, null, null, null, null, null, null, null, null, null, null, null, 1])), fired.state!, opts);
    expect(timeline(back.changes)).toBe('R@13');
    // the same timeline when only samples are seen (the gap itself fires the rule)
    const direct = evaluateSeries(batch(r, samplesOf([1, ...Array(12).fill(null), 1])), undefined, opts);
    expect(timeline(direct.changes)).toBe('A@10 R@13');
  });

  it('creates expected absence series and counts silence from their creation', () => {
    const r = parseRule({ id: 'hb', metric: 'job_heartbeat', severity: 'high', absent: { expected: [{ job: 'export' }] }, for: '10m' }, 'test');
    const [e] = expectedAbsenceSeries(r);
    expect(e).toEqual({ stateKey: 'hb#job_heartbeat{job="export"}', labels: { job: 'export' } });
    const st = initialAbsenceState(r, T0);
    expect(nextDueMs(r, st, opts)).toBe(T0 + 10 * M + 1);
    // a sample at exactly the creation time is not a duplicate
    const res = evaluateSeries({ stateKey: e!.stateKey, rule: r, metric: 'job_heartbeat', labels: e!.labels, samples: [{ name: 'job_heartbeat', value: 1, timestampMs: T0, labels: e!.labels }] }, st, opts);
    expect(res.skipped).toBe(0);
  });
});

describe('alert identity and transitions', () => {
  const r = parseRule(
    {
      id: 'cpu_high',
      name: 'High CPU',
      metric: 'm',
      severity: 'high',
      condition: '> 80',
      labels: { team: 'platform', host: '{{ $labels.instance }}' },
      annotations: { summary: 'CPU {{ $value }}% on {{ $labels.instance }}' },
      runbookUrl: 'https://wiki.example.com/cpu',
      throttle: { high: '10m' },
    },
    'test',
  );

  it('builds alert labels from series labels, rule labels and alertname', () => {
    expect(alertLabels(r, { instance: 'web-1', team: 'x' })).toEqual({ alertname: 'cpu_high', host: 'web-1', instance: 'web-1', team: 'platform' });
  });

  it('fingerprints independently of label order and distinguishes rules', () => {
    expect(fingerprint('a', { x: '1', y: '2' })).toBe(fingerprint('a', { y: '2', x: '1' }));
    expect(fingerprint('a', { x: '1' })).not.toBe(fingerprint('b', { x: '1' }));
    expect(fingerprint('a', { x: '1' })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('emits firing and resolved transitions only, with rendered annotations and a stable id', () => {
    const res = evaluateSeries(batch(r, samplesOf([93.5, 50])), undefined);
    const ts = res.changes.map((c) => toTransition(r, c, res.state, 123));
    expect(ts.map((t) => t?.kind)).toEqual([undefined, 'firing', 'resolved']);
    const firing = ts[1]!;
    expect(firing).toMatchObject({
      version: 1,
      ruleId: 'cpu_high',
      ruleName: 'High CPU',
      severity: 'high',
      annotations: { summary: 'CPU 93.5% on web-1' },
      value: 93.5,
      condition: 'm > 80',
      atMs: T0,
      activeAtMs: T0,
      firedAtMs: T0,
      runbookUrl: 'https://wiki.example.com/cpu',
      policy: { throttleMs: { high: 600_000 } },
      emittedAtMs: 123,
    });
    expect(ts[2]).toMatchObject({ kind: 'resolved', atMs: T0 + M, resolvedAtMs: T0 + M, activeAtMs: T0, firedAtMs: T0 });
    const replayed = evaluateSeries(batch(r, samplesOf([93.5, 50])), undefined).changes.map((c) => toTransition(r, c, res.state, 999)?.transitionId);
    expect(replayed).toEqual(ts.map((t) => t?.transitionId));
    expect(firing.transitionId).not.toBe(ts[2]!.transitionId);
  });

  it('keeps the alert identity in the state exactly while firing', () => {
    const r2 = parseRule({ id: 'cpu_high', name: 'High CPU', metric: 'm', severity: 'high', condition: '> 80', for: '1m', labels: { team: 'platform' } }, 'test');
    const pending = evaluateSeries(batch(r2, samplesOf([93.5])), undefined);
    expect(pending.state.state).toBe('pending');
    expect(pending.state.alert).toBeUndefined();
    const fired = evaluateSeries(batch(r2, samplesOf([null, 95])), pending.state);
    const firing = toTransition(r2, fired.changes[0]!, fired.state, 0)!;
    expect(fired.state.alert).toEqual({ fingerprint: firing.fingerprint, ruleName: 'High CPU', severity: 'high', labels: firing.labels, condition: 'm > 80' });
    // Carried over while it keeps firing, dropped when it resolves (also by staleness).
    const still = evaluateSeries(batch(r2, samplesOf([null, null, 96])), fired.state);
    expect(still.state.alert).toEqual(fired.state.alert);
    expect(evaluateSeries(batch(r2, samplesOf([null, null, null, 10])), still.state).state.alert).toBeUndefined();
    expect(advanceClock(r2, LABELS, still.state, T0 + 60 * M, { staleAfterMs: 5 * M }).state?.alert).toBeUndefined();
    // A firing state stored before the identity was kept gets it at its next evaluation, with the
    // fingerprint it was published with then (the legacy one).
    const { alert: _drop, ...legacy } = fired.state;
    expect(evaluateSeries(batch(r2, samplesOf([null, null, 96])), legacy).state.alert).toEqual({ ...fired.state.alert, fingerprint: legacyFingerprint('cpu_high', firing.labels) });
  });

  it('resolves the firing alert of a deleted rule with its stored identity, a valid and stable transition', () => {
    const fired = evaluateSeries(batch(r, samplesOf([93.5])), undefined);
    const firing = toTransition(r, fired.changes.find((c) => c.to === 'firing')!, fired.state, 0)!;
    const t = deletedRuleTransition('cpu_high', fired.state, T0 + 10 * M)!;
    expect(alertTransitionSchema.safeParse(t).success).toBe(true);
    expect(t).toEqual({
      version: 1,
      transitionId: transitionIdOf(firing.fingerprint, 'resolved', T0, T0 + 10 * M),
      kind: 'resolved',
      fingerprint: firing.fingerprint,
      ruleId: 'cpu_high',
      ruleName: 'High CPU',
      severity: 'high',
      labels: firing.labels,
      annotations: { summary: 'rule cpu_high was deleted' },
      value: null,
      condition: 'm > 80',
      atMs: T0 + 10 * M,
      activeAtMs: T0,
      firedAtMs: T0,
      resolvedAtMs: T0 + 10 * M,
      emittedAtMs: T0 + 10 * M,
    });
    expect(deletedRuleTransition('cpu_high', fired.state, T0 + 10 * M)).toEqual(t);
  });

  it.each([
    // pending: nothing was ever published, nothing to resolve
    ['a pending state', { v: 1, lastSampleMs: T0, state: 'pending', activeAtMs: T0 } as SeriesState],
    // firing, written before the identity was kept: cannot be resolved (deleted silently)
    ['a firing state without identity', { v: 1, lastSampleMs: T0, state: 'firing', activeAtMs: T0, firedAtMs: T0 } as SeriesState],
  ])('gives no deleted-rule resolution for %s', (_name, state) => {
    expect(deletedRuleTransition('r', state, T0 + M)).toBeUndefined();
  });
});

describe('unambiguous identities and the fingerprint migration', () => {
  const opts = { staleAfterMs: 5 * M };

  it.each([
    // a producer folds another team's label into a value: service="api\u00ffteam\u00ffpayments" vs service="api", team="payments"
    ['a value imitating the next label', { alertname: 'r', service: 'api\u00ffteam\u00ffpayments' }, { alertname: 'r', service: 'api', team: 'payments' }],
    // a value imitating a following label with an empty value
    ['a value imitating an empty label', { alertname: 'r', z: 'x\u00ffzz\u00ff' }, { alertname: 'r', z: 'x', zz: '' }],
    // two different lone surrogates: both UTF-8-encode to U+FFFD's bytes
    ['lone surrogates', { alertname: 'r', a: '\ud800' }, { alertname: 'r', a: '\udc00' }],
  ])('gives different fingerprints to a former collision pair: %s', (_name, a, b) => {
    expect(legacyFingerprint('r', a)).toBe(legacyFingerprint('r', b)); // the pair really collided
    expect(fingerprint('r', a)).not.toBe(fingerprint('r', b));
    expect(fingerprint('r', a)).not.toBe(legacyFingerprint('r', a));
  });

  it('gives two series crafted to collide different alerts under one rule', () => {
    const r = rule({});
    const fp = (labels: Record<string, string>) =>
      evaluateSeries({ stateKey: stateKeyOf(r, 'm', labels), rule: r, metric: 'm', labels, samples: [{ name: 'm', value: 1, timestampMs: T0, labels }] }, undefined).changes.find((c) => c.to === 'firing')!.fingerprint;
    expect(fp({ service: 'api\u00ffteam\u00ffpayments' })).not.toBe(fp({ service: 'api', team: 'payments' }));
  });

  it.each([
    // stored identity with the legacy fingerprint (written by a version that kept `alert`): resolved by a false sample
    ['a stored legacy identity, resolved by a sample', true, 'sample'],
    // stored identity, resolved by staleness (timers)
    ['a stored legacy identity, resolved by the clock', true, 'clock'],
    // no stored identity (written before `alert` existed): the legacy fingerprint is recomputed
    ['no stored identity, resolved by a sample', false, 'sample'],
    // no stored identity, resolved by staleness (timers)
    ['no stored identity, resolved by the clock', false, 'clock'],
  ])('resolves an alert that fired before the upgrade with its old fingerprint: %s', (_name, stored, by) => {
    const r = rule({});
    const labels = alertLabels(r, LABELS);
    const old = legacyFingerprint('r', labels);
    const base: SeriesState = { v: 1, lastSampleMs: T0, state: 'firing', activeAtMs: T0, firedAtMs: T0, value: 1 };
    const state: SeriesState = stored ? { ...base, alert: { fingerprint: old, ruleName: 'r', severity: 'high', labels, condition: 'm > 0' } } : base;
    const res = by === 'sample' ? evaluateSeries(batch(r, samplesOf([null, 0])), state, opts) : advanceClock(r, LABELS, state, T0 + 10 * M, opts);
    expect(res.changes.map((c) => [c.to, c.fingerprint])).toEqual([['resolved', old]]);
    expect(toTransition(r, res.changes[0]!, state, 0)!.transitionId).toBe(transitionIdOf(old, 'resolved', T0, res.changes[0]!.atMs));
    // the next alert of the same series is a new alert: the new fingerprint
    const next = evaluateSeries(batch(r, samplesOf([null, null, null, null, null, null, null, null, null, null, null, 1])), res.state!, opts);
    expect(next.changes.map((c) => [c.to, c.fingerprint])).toEqual([['pending', fingerprint('r', labels)], ['firing', fingerprint('r', labels)]]);
  });

  it('keeps the published identity of a firing alert when the rule labels change meanwhile', () => {
    const before = rule({ labels: { team: 'a' } });
    const after = rule({ labels: { team: 'b' } });
    const fired = evaluateSeries(batch(before, samplesOf([1])), undefined, opts);
    const published = fired.changes.find((c) => c.to === 'firing')!;
    const res = evaluateSeries(batch(after, samplesOf([null, 0])), fired.state, opts);
    expect(res.changes.map((c) => [c.to, c.fingerprint, c.labels.team])).toEqual([['resolved', published.fingerprint, 'a']]);
  });

  /** Reads `metric{a="1",...}` back (the inverse that proves seriesKey one-to-one). */
  function parseSeriesKey(key: string): { metric: string; labels: Record<string, string> } {
    const open = key.indexOf('{');
    const labels: Record<string, string> = {};
    let i = open + 1;
    while (key[i] !== '}') {
      const eq = key.indexOf('=', i);
      const name = key.slice(i, eq);
      let j = eq + 2;
      while (key[j] !== '"') j += key[j] === '\\' ? 2 : 1;
      labels[name] = JSON.parse(key.slice(eq + 1, j + 1)) as string;
      i = key[j + 1] === ',' ? j + 2 : j + 1;
    }
    return { metric: key.slice(0, open), labels };
  }

  it('writes series keys that read back to the same labels, also after UTF-8 encoding (property)', () => {
    const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,5}$/);
    // characters that matter to the encoding (quotes, escapes, separators, lone surrogates), or any code point
    const unit = fc.oneof(fc.constantFrom('\ud800', '\udfff', '"', '\\', ',', '=', '{', '}', '\n', '\u00ff', '\ud83d\ude00'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,5}$/), fc.dictionary(name, fc.string({ unit, maxLength: 8 }), { maxKeys: 4 }), (metric, labels) => {
        // what DynamoDB stores: the key's UTF-8 bytes
        const stored = new TextDecoder().decode(new TextEncoder().encode(seriesKey(metric, labels)));
        expect(parseSeriesKey(stored)).toEqual({ metric, labels: { ...labels } });
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a lone surrogate distinct in the stored series key and the hashed state key', () => {
    const a = stateKeyOf(rule({}), 'm', { a: '\ud800' });
    const b = stateKeyOf(rule({}), 'm', { a: '\udc00' });
    expect(new TextEncoder().encode(a)).not.toEqual(new TextEncoder().encode(b));
    const long = (v: string) => stateKeyOf(rule({}), 'm', { a: v, b: 'x'.repeat(1500) });
    expect(long('\ud800')).not.toBe(long('\udc00'));
  });
});

describe('window state bound', () => {
  it('keeps at most MAX_WINDOW_SAMPLES and stays far below 400 KB (< 40 KB)', () => {
    const r = rule({ aggregate: { fn: 'avg', window: '1d' } });
    // worst case: values with the longest JSON text
    const samples = Array.from({ length: MAX_WINDOW_SAMPLES + 500 }, (_, i) => ({ name: 'm', value: -1.2345678901234567e-100, timestampMs: T0 + i, labels: LABELS }));
    const res = evaluateSeries(batch(r, samples), undefined);
    expect(res.state.wt).toHaveLength(MAX_WINDOW_SAMPLES);
    expect(res.state.wt![0]).toBe(T0 + 500);
    expect(stateSizeBytes(res.state)).toBeLessThan(40_000);
  });

  it.each([
    // a 2m window [t - 2m, t] holds the sample exactly 2m old (Prometheus 2.x): three samples at 2m;
    // the oldest leaves 1 ms later (two: resolved) and the sample at 3m makes three again
    ['closed window', '2m', '>= 3', 'P@2 F@2 R@2+ P@3 F@3'],
    // never four samples in a 2m window at one a minute
    ['never more', '2m', '>= 4', ''],
    // a 1m59s window never holds three samples a minute apart
    ['shorter window', '1m59s', '>= 3', ''],
  ])('evaluates windows over [t - window, t]: %s', (_name, window, condition, expected) => {
    expect(run(rule({ aggregate: { fn: 'count', window }, condition }), [1, 1, 1, 1])).toBe(expected);
  });
});

describe('redelivery and duplication (property)', () => {
  it('gives the same transitions whatever the batching, redelivery and timer ticks', () => {
    const opts = { staleAfterMs: 5 * M };
    fc.assert(
      fc.property(
        fc.record({
          forM: fc.integer({ min: 0, max: 4 }),
          kffM: fc.integer({ min: 0, max: 4 }),
          kind: fc.constantFrom('threshold', 'avg', 'rate', 'absence'),
          steps: fc.array(fc.record({ gapM: fc.integer({ min: 1, max: 8 }), v: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 30 }),
          cuts: fc.array(fc.integer({ min: 1, max: 29 }), { maxLength: 6 }),
          modes: fc.array(fc.constantFrom('once', 'crash-before-write', 'redeliver-after-write', 'timer'), { minLength: 8, maxLength: 8 }),
        }),
        ({ forM, kffM, kind, steps, cuts, modes }) => {
          const r =
            kind === 'absence'
              ? parseRule({ id: 'r', metric: 'm', severity: 'high', absent: {}, for: `${forM + 1}m` }, 'test')
              : rule({ for: `${forM}m`, keepFiringFor: `${kffM}m`, ...(kind === 'avg' ? { aggregate: { fn: 'avg', window: '3m' } } : kind === 'rate' ? { aggregate: { fn: 'rate', window: '5m' } } : {}), condition: '> 1' });
          let t = T0;
          const samples: MetricSample[] = steps.map((s, i) => {
            t += s.gapM * M;
            return { name: 'm', value: kind === 'rate' ? i * s.v : s.v, timestampMs: t, labels: LABELS };
          });
          const endMs = t + 20 * M;
          const ids = (changes: readonly StateChange[], st: SeriesState) => changes.map((c) => toTransition(r, c, st, 0)?.transitionId).filter((x): x is string => x !== undefined);
          // reference: one batch, then the clock
          const ref = evaluateSeries(batch(r, samples), undefined, opts);
          const refIds = new Set(ids(ref.changes, ref.state));
          const end = advanceClock(r, LABELS, ref.state, endMs, opts);
          for (const id of ids(end.changes, ref.state)) refIds.add(id);
          // under test: batches cut anywhere, each delivered in some failure mode
          const bounds = [...new Set([0, ...cuts.filter((c) => c < samples.length), samples.length])].sort((a, b) => a - b);
          const got = new Set<string>();
          let state: SeriesState | undefined;
          for (let b = 0; b + 1 < bounds.length; b++) {
            const part = samples.slice(bounds[b], bounds[b + 1]);
            const mode = modes[b % modes.length]!;
            if (mode === 'timer' && state) {
              // the timers function runs between batches, at any time before the next sample
              const at = part[0]!.timestampMs - 1;
              const adv = advanceClock(r, LABELS, state, at, opts);
              for (const id of ids(adv.changes, state)) got.add(id);
              if (adv.state) state = adv.state;
              else state = undefined;
            }
            const res = evaluateSeries(batch(r, part), state, opts);
            for (const id of ids(res.changes, res.state)) got.add(id);
            if (mode === 'crash-before-write') {
              // died after publishing, before writing state: the batch comes again on the old state
              const again = evaluateSeries(batch(r, part), state, opts);
              for (const id of ids(again.changes, again.state)) got.add(id);
            }
            state = res.state;
            if (mode === 'redeliver-after-write') {
              const again = evaluateSeries(batch(r, part), state, opts);
              expect(again.changes).toEqual([]);
              expect(again.skipped).toBe(part.length);
            }
          }
          const fin = advanceClock(r, LABELS, state!, endMs, opts);
          for (const id of ids(fin.changes, state!)) got.add(id);
          expect([...got].sort()).toEqual([...refIds].sort());
        },
      ),
      { numRuns: 400 },
    );
  });
});
