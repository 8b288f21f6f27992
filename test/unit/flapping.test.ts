import { describe, expect, it } from 'vitest';
import { decideFlapping, MAX_FIRE_TIMES, raiseSeverity, recordFireTime } from '../../shared/core/dispatch/flapping/flapping.ts';
import { formatDuration, parseDuration } from '../../shared/core/dispatch/duration.ts';
import type { Severity } from '../../shared/core/model/index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('escalation', () => {
  it.each<[string, Severity, number[], number, { count: number; windowMs: number } | undefined, Severity, string | undefined]>([
    // first firing: nothing to escalate
    ['first firing', 'medium', [], 0, undefined, 'medium', undefined],
    // second firing within the hour: still below the default 3
    ['two in an hour', 'medium', [0], 30 * MIN, undefined, 'medium', undefined],
    // third firing within the hour: raised one level, and says why
    ['three in an hour', 'medium', [0, 20 * MIN], 40 * MIN, undefined, 'high', 'fired 3 times in the last 1h'],
    // the window is (t - 1h, t]: a firing exactly 1 h earlier is outside it
    ['window edge excluded', 'medium', [0, 20 * MIN], HOUR, undefined, 'medium', undefined],
    // just inside the window
    ['window edge included', 'medium', [1, 20 * MIN], HOUR, undefined, 'high', 'fired 3 times in the last 1h'],
    // low escalates to medium
    ['low → medium', 'low', [0, MIN], 2 * MIN, undefined, 'medium', 'fired 3 times in the last 1h'],
    // high escalates to critical (and so pages)
    ['high → critical', 'high', [0, MIN], 2 * MIN, undefined, 'critical', 'fired 3 times in the last 1h'],
    // critical has nowhere to go
    ['critical stays', 'critical', [0, MIN], 2 * MIN, undefined, 'critical', undefined],
    // one level only, however many firings
    ['one level only', 'low', [0, 1, 2, 3, 4, 5], 6, undefined, 'medium', 'fired 7 times in the last 1h'],
    // a rule's policy: 2 in 10 minutes
    ['rule policy', 'medium', [0], 5 * MIN, { count: 2, windowMs: 10 * MIN }, 'high', 'fired 2 times in the last 10m'],
    // the rule's policy window excludes an older firing
    ['rule policy window', 'medium', [0], 11 * MIN, { count: 2, windowMs: 10 * MIN }, 'medium', undefined],
    // the current firing already recorded is not counted twice (redelivery)
    ['no double count', 'medium', [0, 40 * MIN], 40 * MIN, undefined, 'medium', undefined],
    // later firings than this one (reordered) are not counted
    ['future firings ignored', 'medium', [50 * MIN, 55 * MIN], 40 * MIN, undefined, 'medium', undefined],
  ])('%s', (_name, severity, times, at, policy, expected, reason) => {
    const d = decideFlapping(severity, times, at, policy);
    expect(d.severity).toBe(expected);
    expect(d.escalation?.reason).toBe(reason);
    if (reason) expect(d.escalation?.from).toBe(severity);
  });

  it('raises one level at a time', () => {
    expect(['low', 'medium', 'high', 'critical'].map((s) => raiseSeverity(s as Severity))).toEqual(['medium', 'high', 'critical', 'critical']);
  });

  it('keeps a bounded, sorted, unique history of firing times', () => {
    let times: number[] = [];
    for (let i = 0; i < 50; i++) times = recordFireTime(times, 1000 * (50 - i));
    times = recordFireTime(times, 50_000);
    expect(times).toHaveLength(MAX_FIRE_TIMES);
    expect(times[times.length - 1]).toBe(50_000);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});

describe('durations', () => {
  it.each<[string, number | undefined]>([
    ['0', 0],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1d', 86_400_000],
    ['5 m', undefined],
    ['m5', undefined],
    ['', undefined],
    ['1w', 604_800_000], // the rule files' grammar: weeks too
    ['30m1h', undefined], // and units largest first, as in rule files (Prometheus)
  ])('parses %j', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each<[number, string]>([
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [900_000, '15m'],
    [1500, '1500ms'],
    [0, '0s'],
  ])('formats %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
