/**
 * The history report's figures (shared/core/history/report.ts; docs/incidents.md "History and
 * analytics") from a scripted history of two weeks, checked against values computed by hand: the
 * arithmetic is written beside each expectation.
 */
import { describe, expect, it } from 'vitest';
import { buildReport, DEFAULT_REPORT_OPTIONS, firedOverTime, loadReport, NO_TEAM, previousPeriodOf, reportQuery, trendOf, type GroupFigures } from '../../shared/core/history/report.ts';
import { InMemoryHistoryStore, type HistoryEvent, type HistoryKind } from '../../shared/core/history/types.ts';
import type { Channel, Severity } from '../../shared/core/model/index.ts';

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
/** The period: the week from Monday 2027-01-04 00:00 UTC; the previous period is the week before. */
const T0 = Date.UTC(2027, 0, 4);
const PERIOD = { fromMs: T0, toMs: T0 + 7 * D };

let n = 0;
/** One history event (ids are unique and deterministic in order of writing). */
function ev(kind: HistoryKind, atMs: number, a: { fp: string; rule: string; sev: Severity; team?: string; firedAtMs?: number }, extra: { channel?: Channel; reason?: string; noFiredAt?: boolean } = {}): HistoryEvent {
  n++;
  return {
    id: `${kind}:${n}`,
    kind,
    atMs,
    fingerprint: a.fp,
    ...(extra.noFiredAt ? {} : { firedAtMs: a.firedAtMs ?? atMs }),
    ruleId: a.rule,
    severity: a.sev,
    ...(a.team !== undefined ? { team: a.team } : {}),
    ...(extra.channel ? { channel: extra.channel, receiver: 'default' } : {}),
    ...(extra.reason ? { reason: extra.reason } : {}),
  };
}

// The activations (fingerprint + firedAtMs). Times are offsets from T0.
const cpu = (fp: string, firedAtMs: number) => ({ fp, rule: 'cpu_high', sev: 'high' as const, team: 'web', firedAtMs });
const disk = (fp: string, firedAtMs: number, sev: Severity = 'critical') => ({ fp, rule: 'disk_full', sev, team: 'db', firedAtMs });
const P1 = cpu('cpu-web2', T0 - 20 * MIN); // previous period
const P2 = disk('disk-db1', T0 - 60 * MIN); // previous period, acknowledged and resolved in the current one
const P3 = { fp: 'job-1', rule: 'job_failed', sev: 'low' as const, firedAtMs: T0 - 3 * D }; // previous period, no team
const A1 = cpu('cpu-web1', T0 + 1 * H);
const A2 = cpu('cpu-web1', T0 + 1 * H + 40 * MIN);
const A3 = cpu('cpu-web1', T0 + 1 * H + 58 * MIN);
const A4 = cpu('cpu-web2', T0 + 5 * MIN);
const D1 = disk('disk-db1', T0 + 1 * D + 10 * H);
const D2 = disk('disk-db2', T0 + 2 * D + 8 * H);
const J1 = { fp: 'job-1', rule: 'job_failed', sev: 'low' as const, firedAtMs: T0 + 3 * D };
const J2 = { fp: 'job-2', rule: 'job_failed', sev: 'medium' as const, team: 'web', firedAtMs: T0 + 7 * D - MIN };

const HISTORY: HistoryEvent[] = [
  // ---- previous period [T0-7d, T0)
  ev('fired', P1.firedAtMs, P1),
  ev('notified', P1.firedAtMs, P1, { channel: 'slack' }),
  ev('resolved', T0 - 5 * MIN, P1), // TTR 15 min
  ev('fired', P2.firedAtMs, P2),
  ev('notified', P2.firedAtMs, P2, { channel: 'slack' }),
  ev('fired', P3.firedAtMs, P3),
  ev('suppressed', P3.firedAtMs, P3, { reason: 'throttle' }),
  ev('resolved', P3.firedAtMs + 60 * MIN, P3), // TTR 60 min
  // ---- the period [T0, T0+7d)
  ev('acknowledged', T0 + 20 * MIN, P2), // P2: TTA 80 min (counts in the previous period: it fired there)
  ev('resolved', T0 + 30 * MIN, P2), // P2: TTR 90 min
  // cpu-web2 fires again 10 min after P1 resolved (a quick re-firing across the periods' boundary); never acknowledged nor resolved.
  ev('fired', A4.firedAtMs, A4),
  ev('notified', A4.firedAtMs, A4, { channel: 'slack' }),
  // A1: acknowledged at +5 min, unacknowledged, acknowledged again (only the first counts), resolved at +30 min.
  ev('fired', A1.firedAtMs, A1),
  ev('notified', A1.firedAtMs, A1, { channel: 'slack' }),
  ev('notified', A1.firedAtMs, A1, { channel: 'pagerduty' }),
  ev('acknowledged', A1.firedAtMs + 5 * MIN, A1),
  ev('unacknowledged', A1.firedAtMs + 10 * MIN, A1),
  ev('acknowledged', A1.firedAtMs + 20 * MIN, A1),
  ev('resolved', A1.firedAtMs + 30 * MIN, A1),
  // A2: 10 min after A1's resolution (quick re-firing); throttled twice, silenced once; resolved after 10 min.
  ev('fired', A2.firedAtMs, A2),
  ev('suppressed', A2.firedAtMs, A2, { channel: 'slack', reason: 'throttle' }),
  ev('suppressed', A2.firedAtMs, A2, { channel: 'pagerduty', reason: 'throttle' }),
  ev('suppressed', A2.firedAtMs + MIN, A2, { channel: 'slack', reason: 'silence' }),
  ev('resolved', A2.firedAtMs + 10 * MIN, A2),
  // A3: 8 min after A2's resolution (quick re-firing, the shortest gap); TTA 2 min, TTR 15 min.
  ev('fired', A3.firedAtMs, A3),
  ev('notified', A3.firedAtMs, A3, { channel: 'slack' }),
  ev('acknowledged', A3.firedAtMs + 2 * MIN, A3),
  ev('resolved', A3.firedAtMs + 15 * MIN, A3),
  // D1 fires at high, then again (same activation) at critical: one activation, counted as critical.
  // Its acknowledgement carries no firedAtMs: it belongs to the latest activation of disk-db1 before it (D1, not P2).
  ev('fired', D1.firedAtMs, { ...D1, sev: 'high' }),
  ev('fired', D1.firedAtMs + 10 * MIN, D1),
  ev('notified', D1.firedAtMs, D1, { channel: 'slack' }),
  ev('notified', D1.firedAtMs, D1, { channel: 'email' }),
  ev('notified', D1.firedAtMs, D1, { channel: 'pagerduty' }),
  ev('acknowledged', D1.firedAtMs + 30 * MIN, D1, { noFiredAt: true }), // TTA 30 min
  ev('resolved', D1.firedAtMs + 2 * H, D1), // TTR 120 min
  // D2: escalated once; TTA 10 min, TTR 60 min; a notification kept by a time interval.
  ev('fired', D2.firedAtMs, D2),
  ev('notified', D2.firedAtMs, D2, { channel: 'email' }),
  ev('notified', D2.firedAtMs, D2, { channel: 'pagerduty' }),
  ev('suppressed', D2.firedAtMs, D2, { channel: 'slack', reason: 'time-interval' }),
  ev('escalated', D2.firedAtMs + 5 * MIN, D2, { reason: 'policy db level 2' }),
  ev('acknowledged', D2.firedAtMs + 10 * MIN, D2),
  ev('resolved', D2.firedAtMs + 60 * MIN, D2),
  // J1 (no team): never acknowledged, resolved after 6 h.
  ev('fired', J1.firedAtMs, J1),
  ev('notified', J1.firedAtMs, J1, { channel: 'email' }),
  ev('resolved', J1.firedAtMs + 6 * H, J1),
  // J2 fires in the period's last minute, inhibited, acknowledged after the period ends (TTA 5 min).
  ev('fired', J2.firedAtMs, J2),
  ev('suppressed', J2.firedAtMs, J2, { channel: 'email', reason: 'inhibition' }),
  // ---- after the period
  ev('acknowledged', J2.firedAtMs + 5 * MIN, J2),
];

const report = buildReport(HISTORY, PERIOD);

/** A row of figures: undefined means and zero counts as given. */
function row(key: string, fired: number, acknowledged: number, resolved: number, notifications: number, suppressed: number, mttaMs?: number, mttrMs?: number): GroupFigures {
  return { key, fired, acknowledged, resolved, notifications, suppressed, ...(mttaMs !== undefined ? { mttaMs } : {}), ...(mttrMs !== undefined ? { mttrMs } : {}) };
}

describe('the report of a scripted week', () => {
  it('computes the headline figures of the period', () => {
    expect(report.headline).toEqual({
      // A1 A2 A3 A4 (cpu_high) + D1 D2 (disk_full) + J1 J2 (job_failed); D1 once though it fired twice.
      fired: 8,
      // A1 A3 D1 D2 J2 (J2 after the period ends: it fired in it).
      acknowledged: 5,
      // A1 A2 A3 D1 D2 J1; A4 and J2 still firing.
      resolved: 6,
      // slack A4 A1 A3 D1 = 4, email D1 D2 J1 = 3, pagerduty A1 D1 D2 = 3: 4 + 3 + 3 = 10
      notifications: 10,
      // throttle ×2, silence, time-interval, inhibition
      suppressed: 5,
      escalations: 1,
      // first acknowledgements: A1 5 + A3 2 + D1 30 + D2 10 + J2 5 = 52 min / 5 = 10.4 min = 624,000 ms
      mttaMs: 624_000,
      // A1 30 + A2 10 + A3 15 + D1 120 + D2 60 + J1 360 = 595 min / 6 = 99.1666… min = 5,950,000 ms
      mttrMs: 5_950_000,
    });
  });

  it('computes the previous period alike (P2 acknowledged and resolved after it ended)', () => {
    expect(report.previousPeriod).toEqual({ fromMs: T0 - 7 * D, toMs: T0 });
    expect(report.previousHeadline).toEqual({
      // P1 P2 P3
      fired: 3,
      // P2 only (80 min, at T0+20min)
      acknowledged: 1,
      // P1 15 min, P2 90 min, P3 60 min
      resolved: 3,
      notifications: 2,
      suppressed: 1,
      escalations: 0,
      mttaMs: 80 * MIN, // 4,800,000
      mttrMs: 55 * MIN, // (15 + 90 + 60) / 3 = 55 min = 3,300,000
    });
  });

  it.each([
    // 8 vs 3: +5, 5/3 = 166.67 %
    ['fired', 8, 3, 5, (5 / 3) * 100],
    // 5 vs 1: +4, 400 %
    ['acknowledged', 5, 1, 4, 400],
    // 6 vs 3: +3, 100 %
    ['resolved', 6, 3, 3, 100],
    // 10 vs 2: +8, 400 %
    ['notifications', 10, 2, 8, 400],
    // 5 vs 1: +4, 400 %
    ['suppressed', 5, 1, 4, 400],
    // 1 vs 0: +1, no percentage of zero
    ['escalations', 1, 0, 1, undefined],
    // 624,000 vs 4,800,000: −4,176,000 ms, −87 %
    ['mttaMs', 624_000, 4_800_000, -4_176_000, -87],
    // 5,950,000 vs 3,300,000: +2,650,000 ms, 2.65/3.3 = 80.30 %
    ['mttrMs', 5_950_000, 3_300_000, 2_650_000, (2_650_000 / 3_300_000) * 100],
  ] as const)('trend of %s: %d vs %d', (figure, current, previous, change, percent) => {
    const t = report.trends.find((x) => x.figure === figure)!;
    expect(t.current).toBe(current);
    expect(t.previous).toBe(previous);
    expect(t.change).toBe(change);
    if (percent === undefined) expect(t.changePercent).toBeUndefined();
    else expect(t.changePercent).toBeCloseTo(percent, 9);
  });

  it('breaks the figures down by rule, most fired first', () => {
    expect(report.byRule).toEqual([
      // A1..A4; acknowledged A1 (5) A3 (2): 7/2 = 3.5 min = 210,000; resolved A1 30 A2 10 A3 15: 55/3 min = 1,100,000;
      // notified A4 A1×2 A3 = 4; suppressed A2 ×3.
      row('cpu_high', 4, 2, 3, 4, 3, 210_000, 1_100_000),
      // D1 D2; TTA 30, 10 → 20 min = 1,200,000; TTR 120, 60 → 90 min = 5,400,000; notified 3 + 2 = 5; time-interval 1.
      row('disk_full', 2, 2, 2, 5, 1, 1_200_000, 5_400_000),
      // J1 J2; TTA J2 5 min = 300,000; TTR J1 6 h = 21,600,000; notified J1; inhibited J2.
      row('job_failed', 2, 1, 1, 1, 1, 300_000, 21_600_000),
    ]);
  });

  it('breaks them down by severity, most severe first (an activation under the worst severity it fired at)', () => {
    expect(report.bySeverity).toEqual([
      // D1 (high, then critical) and D2: as disk_full.
      row('critical', 2, 2, 2, 5, 1, 1_200_000, 5_400_000),
      // A1..A4 as cpu_high; D1's first `fired` event at high is neither a notification nor an activation of its own.
      row('high', 4, 2, 3, 4, 3, 210_000, 1_100_000),
      // J2: acknowledged after 5 min, not resolved, inhibited.
      row('medium', 1, 1, 0, 0, 1, 300_000, undefined),
      // J1: resolved after 6 h, notified by email.
      row('low', 1, 0, 1, 1, 0, undefined, 21_600_000),
    ]);
  });

  it('breaks them down by team, alerts without one under (none)', () => {
    expect(report.byTeam).toEqual([
      // cpu_high + J2: fired 5; TTA 5, 2, 5 → 12/3 = 4 min = 240,000; TTR as cpu_high; notified 4; suppressed 3 + 1.
      row('web', 5, 3, 3, 4, 4, 240_000, 1_100_000),
      row('db', 2, 2, 2, 5, 1, 1_200_000, 5_400_000),
      row(NO_TEAM, 1, 0, 1, 1, 0, undefined, 21_600_000),
    ]);
  });

  it('counts notifications per channel and suppressions per reason', () => {
    expect(report.notificationsByChannel).toEqual([
      // A4 A1 A3 D1
      { key: 'slack', count: 4 },
      // D1 D2 J1
      { key: 'email', count: 3 },
      // A1 D1 D2
      { key: 'pagerduty', count: 3 },
    ]);
    expect(report.suppressedByReason).toEqual([
      { key: 'throttle', count: 2 },
      { key: 'inhibition', count: 1 },
      { key: 'silence', count: 1 },
      { key: 'time-interval', count: 1 },
    ]);
  });

  it('lists the noisiest rules: most firings, then most notifications', () => {
    expect(report.noisiest.map((r) => [r.key, r.fired, r.notifications])).toEqual([
      ['cpu_high', 4, 4],
      // 2 firings each: disk_full's 5 notifications before job_failed's 1
      ['disk_full', 2, 5],
      ['job_failed', 2, 1],
    ]);
    expect(buildReport(HISTORY, PERIOD, { noisiestLimit: 1 }).noisiest.map((r) => r.key)).toEqual(['cpu_high']);
  });

  it.each([
    // Defaults (15 min, 3): cpu_high re-fired A4 10 min after P1 (across the periods' boundary), A2 10 min after A1, A3 8 min after A2.
    [{}, [{ ruleId: 'cpu_high', refires: 3, fired: 4, alerts: 2, shortestGapMs: 8 * MIN }]],
    // 4 quick re-firings needed: none
    [{ flapMinRefires: 4 }, []],
    // Within 9 min only A3 (8 min) counts: 1 < 3
    [{ flapWindowMs: 9 * MIN }, []],
    // ... unless one is enough
    [{ flapWindowMs: 9 * MIN, flapMinRefires: 1 }, [{ ruleId: 'cpu_high', refires: 1, fired: 4, alerts: 1, shortestGapMs: 8 * MIN }]],
    // Within 7 days, two more: disk-db1 resolved at T0+30min (P2) and fired again at T0+1d10h (D1), 33.5 h later;
    // job-1 resolved at T0-3d+1h (P3) and fired again at T0+3d (J1), 6 d - 1 h later. One each: by rule id.
    [
      { flapWindowMs: 7 * D, flapMinRefires: 1 },
      [
        { ruleId: 'cpu_high', refires: 3, fired: 4, alerts: 2, shortestGapMs: 8 * MIN },
        { ruleId: 'disk_full', refires: 1, fired: 2, alerts: 1, shortestGapMs: D + 9 * H + 30 * MIN },
        { ruleId: 'job_failed', refires: 1, fired: 2, alerts: 1, shortestGapMs: 6 * D - H },
      ],
    ],
  ])('flapping with options %j', (options, expected) => {
    expect(buildReport(HISTORY, PERIOD, options).flapping).toEqual(expected);
  });

  it('keeps the options it used', () => {
    expect(report.options).toEqual(DEFAULT_REPORT_OPTIONS);
    expect(report.period).toEqual(PERIOD);
  });
});

describe('trendOf', () => {
  it.each([
    // grew from 4 to 5: +1, +25 %
    [5, 4, 1, 25],
    // shrank from 4 to 3: −1, −25 %
    [3, 4, -1, -25],
    // from nothing: the change is known, a percentage of 0 is not
    [5, 0, 5, undefined],
    [0, 0, 0, undefined],
    // no MTTA now (nothing acknowledged): no change at all
    [undefined, 60_000, undefined, undefined],
    [60_000, undefined, undefined, undefined],
  ])('%s vs %s → change %s, %s %%', (current, previous, change, percent) => {
    const t = trendOf('fired', current, previous);
    expect(t.change).toBe(change);
    expect(t.changePercent).toBe(percent);
  });
});

describe('firedOverTime', () => {
  it('counts activations per hour and severity, by firing time', () => {
    const six = { fromMs: T0, toMs: T0 + 6 * H };
    const s = firedOverTime(HISTORY, six, H);
    expect(s.starts).toEqual([0, 1, 2, 3, 4, 5].map((i) => T0 + i * H));
    // A4 at 00:05; A1 01:00, A2 01:40, A3 01:58; nothing else in the first six hours.
    expect(s.bySeverity).toEqual({ critical: [0, 0, 0, 0, 0, 0], high: [1, 3, 0, 0, 0, 0], medium: [0, 0, 0, 0, 0, 0], low: [0, 0, 0, 0, 0, 0] });
  });

  it('refuses more buckets than a chart can show', () => {
    expect(() => firedOverTime(HISTORY, PERIOD, 60_000)).toThrow(RangeError);
  });
});

describe('loadReport', () => {
  it('reads the previous period and the period from the store, filtered by rule or team', async () => {
    const store = new InMemoryHistoryStore();
    await store.record(HISTORY);
    // The query spans the previous period and the period.
    expect(reportQuery({ ...PERIOD, ruleId: 'disk_full' })).toEqual({ fromMs: T0 - 7 * D, toMs: T0 + 7 * D, ruleId: 'disk_full' });
    const disk = (await loadReport(store, { ...PERIOD, ruleId: 'disk_full' })).report;
    // D1 D2 now, P2 before.
    expect([disk.headline.fired, disk.previousHeadline.fired]).toEqual([2, 1]);
    const web = (await loadReport(store, { ...PERIOD, team: 'web' })).report;
    // J2's acknowledgement is after the period: not read, so only A1 and A3 are acknowledged: 7/2 min = 210,000.
    expect(web.headline).toMatchObject({ fired: 5, acknowledged: 2, mttaMs: 210_000 });
  });

  it('refuses an empty period and impossible options', () => {
    expect(() => buildReport(HISTORY, { fromMs: T0, toMs: T0 })).toThrow(RangeError);
    expect(() => buildReport(HISTORY, PERIOD, { flapMinRefires: 0 })).toThrow(RangeError);
  });

  it('the previous period is as long as the period', () => {
    expect(previousPeriodOf({ fromMs: 1000, toMs: 1600 })).toEqual({ fromMs: 400, toMs: 1000 });
  });
});
