/**
 * Time intervals on routes and severity by business hours (docs/routing.md, "Time intervals",
 * "Severity by business hours"): the routes config (errors naming the field), `routeMuteAt`, the
 * time-intervals and lower decisions as tables, and the pipeline end to end: a route muted by an
 * interval, notified when it ends, the receivers already notified not notified twice; a severity
 * lowered outside business hours, with the job saying why.
 */
import { describe, expect, it } from 'vitest';
import {
  decideDispatch,
  decideLowering,
  decideTimeIntervals,
  DEFAULT_DISPATCH_CONFIG,
  lowerSeverity,
  matchRoutes,
  receiversOf,
  recheckTransition,
  routeMuteAt,
  type LowerReason,
  type RouteMute,
  type RoutingConfig,
  type TimeIntervalsReason,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes, RoutesConfigError } from '../../shared/core/dispatch/route/routes-config.ts';
import { NotificationJobSchema } from '../../shared/core/deliver/job.ts';
import { alertView } from '../../shared/core/deliver/alert-view.ts';
import type { AlertTransition, Labels, Severity } from '../../shared/core/model/index.ts';
import { withSeverityLabel } from '../../shared/core/model/severity.ts';

const at = (iso: string): number => Date.parse(iso);
// 2026-11-27 is a Friday, 2026-11-28 a Saturday, 2026-11-30 a Monday.
const SAT_NOON = at('2026-11-28T12:00:00Z');
const MON_0000 = at('2026-11-30T00:00:00Z');
const MON_0800 = at('2026-11-30T08:00:00Z');
const MON_0900 = at('2026-11-30T09:00:00Z');
const MON_1000 = at('2026-11-30T10:00:00Z');

const INTERVALS = [
  { name: 'business-hours', time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] }] },
  { name: 'weekends', time_intervals: [{ weekdays: ['saturday', 'sunday'] }] },
  { name: 'past', time_intervals: [{ years: ['2020'] }] },
];
const RECEIVERS = [
  { name: 'db', slack: { channel: 'C0DB' } },
  { name: 'audit', slack: { webhook: 'audit' } },
  { name: 'pager', pagerduty: { routingKey: 'pager' } },
];

const config: RoutingConfig = compileRoutes(
  {
    receivers: RECEIVERS,
    time_intervals: INTERVALS,
    routes: [
      { matchers: ['env="prod"'], receivers: ['audit'], continue: true, mute_time_intervals: ['weekends'] },
      { matchers: ['team="db"'], receivers: ['db'], routes: [{ matchers: ['tier="batch"'], receivers: ['pager'], active_time_intervals: ['business-hours'] }] },
      { matchers: ['team="web"'], receivers: ['db'], mute_time_intervals: ['weekends'], active_time_intervals: ['business-hours'] },
      { matchers: ['team="legacy"'], receivers: ['db'], active_time_intervals: ['past'] },
    ],
  },
  'routes.yaml',
);

describe('routes config: time intervals', () => {
  it('compiles intervals onto the routes they name, not inherited (Alertmanager 0.25)', () => {
    expect([...config.timeIntervals!.keys()]).toEqual(['business-hours', 'weekends', 'past']);
    expect(config.root.routes[0]!.muteTimeIntervals).toEqual(['weekends']);
    expect(config.root.routes[1]!.muteTimeIntervals).toBeUndefined();
    expect(config.root.routes[1]!.routes[0]!.activeTimeIntervals).toEqual(['business-hours']);
    expect(config.root.muteTimeIntervals).toBeUndefined();
  });

  it("accepts Alertmanager's older top-level mute_time_intervals as time_intervals", () => {
    const c = compileRoutes({ mute_time_intervals: [INTERVALS[1]], routes: [{ matchers: ['a="b"'], mute_time_intervals: ['weekends'] }] }, 'routes.yaml');
    expect(routeMuteAt('routes[0]', c, SAT_NOON)).toMatchObject({ muted: true, by: ['weekends'] });
  });

  it('inherits lower_severity_outside, remembering where it was written; by defaults to 1, 0 turns it off', () => {
    const c = compileRoutes(
      {
        receivers: RECEIVERS,
        time_intervals: INTERVALS,
        lower_severity_outside: { time_intervals: ['business-hours'] },
        routes: [{ matchers: ['a="b"'], routes: [{ matchers: ['c="d"'] }] }, { matchers: ['e="f"'], lower_severity_outside: { time_intervals: ['weekends'], by: 0 } }],
      },
      'routes.yaml',
    );
    expect(c.root.routes[0]!.routes[0]!.lowerSeverityOutside).toEqual({ timeIntervals: ['business-hours'], by: 1, declaredAt: 'root' });
    expect(c.root.routes[1]!.lowerSeverityOutside).toEqual({ timeIntervals: ['weekends'], by: 0, declaredAt: 'routes[1]' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    // an unknown name, on each field that takes names, with its path
    ['unknown mute interval', { time_intervals: INTERVALS, routes: [{ mute_time_intervals: ['weekends', 'holidays'] }] }, 'routes[0].mute_time_intervals[1]: unknown time interval "holidays" (declare it under time_intervals)'],
    ['unknown active interval, nested', { routes: [{ routes: [{ active_time_intervals: ['office'] }] }] }, 'routes[0].routes[0].active_time_intervals[0]: unknown time interval "office"'],
    ['unknown interval to lower outside', { routes: [{ lower_severity_outside: { time_intervals: ['office'] } }] }, 'routes[0].lower_severity_outside.time_intervals[0]: unknown time interval "office"'],
    ['unknown interval to lower outside, root', { lower_severity_outside: { time_intervals: ['office'] } }, 'lower_severity_outside.time_intervals[0]: unknown time interval "office"'],
    // the root takes every alert: Alertmanager refuses intervals on it
    ['mute names on the root', { time_intervals: INTERVALS, mute_time_intervals: ['weekends'] }, 'mute_time_intervals[0]: the root route cannot be muted'],
    ['active intervals on the root', { time_intervals: INTERVALS, active_time_intervals: ['business-hours'] }, 'active_time_intervals: the root route cannot have active time intervals'],
    // the interval definitions, under either key, with their path
    ['a bad weekday', { time_intervals: [{ name: 'x', time_intervals: [{ weekdays: ['funday'] }] }] }, "time_intervals[0].time_intervals[0].weekdays[0]: 'funday' is not a weekday"],
    ['a bad weekday under the older key', { mute_time_intervals: [{ name: 'x', time_intervals: [{ weekdays: ['funday'] }] }] }, "mute_time_intervals[0].time_intervals[0].weekdays[0]: 'funday' is not a weekday"],
    ['a name under both keys', { time_intervals: [{ name: 'x' }], mute_time_intervals: [{ name: 'x' }] }, 'mute_time_intervals[0].name: duplicate time interval name "x" (also under time_intervals)'],
    ['an unknown field in an entry', { time_intervals: [{ name: 'x', time_intervals: [{ hours: ['9:17'] }] }] }, 'time_intervals[0].time_intervals[0]'],
    ['lowering by too many levels', { routes: [{ lower_severity_outside: { time_intervals: ['x'], by: 5 } }] }, 'routes[0].lower_severity_outside.by'],
    ['lowering outside no interval', { routes: [{ lower_severity_outside: { time_intervals: [] } }] }, 'routes[0].lower_severity_outside.time_intervals: list at least one time interval'],
  ])('refuses %s, naming the field', (_why, doc, problem) => {
    let err: unknown;
    try {
      compileRoutes(doc, 'routes.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RoutesConfigError);
    expect((err as RoutesConfigError).problems.join('\n')).toContain(problem);
  });
});

describe('routeMuteAt', () => {
  it.each<[string, string, number, RouteMute]>([
    // [why, route path, now, result]
    ['a route without intervals is never muted', 'routes[1]', SAT_NOON, { muted: false }],
    ['in its mute interval: muted until it ends (Monday 00:00)', 'routes[0]', SAT_NOON, { muted: true, reason: 'in-mute-interval', by: ['weekends'], untilMs: MON_0000 }],
    ['outside its mute interval', 'routes[0]', MON_1000, { muted: false }],
    ['outside its active interval: muted until it starts', 'routes[1].routes[0]', MON_0800, { muted: true, reason: 'outside-active-intervals', by: ['business-hours'], untilMs: MON_0900 }],
    ['inside its active interval', 'routes[1].routes[0]', MON_1000, { muted: false }],
    ['not inherited: the parent of an active-interval route is not muted', 'routes[1]', MON_0800, { muted: false }],
    // both: muted until neither mutes any more (the weekend ends at 00:00, business hours start at 09:00)
    ['mute and active: muted until both allow it', 'routes[2]', SAT_NOON, { muted: true, reason: 'in-mute-interval', by: ['weekends'], untilMs: MON_0900 }],
    ['an active interval that never holds: no end within the horizon', 'routes[3]', MON_1000, { muted: true, reason: 'outside-active-intervals', by: ['past'], untilMs: undefined }],
    ['a path the config does not hold', 'routes[9]', SAT_NOON, { muted: false }],
  ])('%s', (_why, path, now, expected) => {
    expect(routeMuteAt(path, config, now)).toEqual(expected);
  });

  it('takes a route node as well as a path', () => {
    expect(routeMuteAt(config.root.routes[0]!, config, SAT_NOON)).toEqual(routeMuteAt('routes[0]', config, SAT_NOON));
  });
});

/** The routes and receivers an alert's labels reach. */
function routedFor(labels: Labels, severity: Severity = 'high') {
  const routed = matchRoutes(config.root, withSeverityLabel(labels, severity));
  return { routed, receivers: receiversOf(routed) };
}

describe('time-intervals decision', () => {
  it.each<[string, 'firing' | 'resolved', Labels, number, TimeIntervalsReason, string[], string[], number | undefined]>([
    // [why, kind, labels, now, reason, receivers kept, interval names, untilMs]
    ['a resolution is never muted', 'resolved', { env: 'prod' }, SAT_NOON, 'resolution', [], [], undefined],
    ['no route that took it has intervals', 'firing', { team: 'db' }, SAT_NOON, 'no-time-intervals', [], [], undefined],
    ['its route has intervals, none mutes now', 'firing', { env: 'prod' }, MON_1000, 'not-muted', [], [], undefined],
    ['one route muted, the other notified', 'firing', { env: 'prod', team: 'db' }, SAT_NOON, 'partly-muted', ['db'], ['weekends'], MON_0000],
    ['every route muted', 'firing', { env: 'prod' }, SAT_NOON, 'muted', [], ['weekends'], MON_0000],
    ['muted with no end within the horizon: decided again at the horizon', 'firing', { team: 'legacy' }, MON_1000, 'muted', [], ['past'], MON_1000 + 8 * 86_400_000],
  ])('%s', (_why, kind, labels, now, reason, kept, by, untilMs) => {
    const r = routedFor(labels);
    const d = decideTimeIntervals(kind, r.routed, r.receivers, config, now);
    expect(d.reason).toBe(reason);
    if (d.verdict === 'mute') {
      expect(d.receivers.map((x) => x.name)).toEqual(kept);
      expect(d.by).toEqual(by);
      expect(d.untilMs).toBe(untilMs);
    }
  });
});

const lowerConfig: RoutingConfig = compileRoutes(
  {
    receivers: RECEIVERS,
    time_intervals: INTERVALS,
    routes: [
      { matchers: ['env="prod"'], receivers: ['audit'], continue: true },
      { matchers: ['team="db"'], receivers: ['db'], lower_severity_outside: { time_intervals: ['business-hours'] }, routes: [{ matchers: ['tier="batch"'], lower_severity_outside: { time_intervals: ['business-hours'], by: 2 } }] },
      { matchers: ['team="web"'], receivers: ['db'], lower_severity_outside: { time_intervals: ['business-hours', 'weekends'], by: 1 } },
    ],
  },
  'routes.yaml',
);

describe('lower decision (severity by business hours)', () => {
  it.each<[string, 'firing' | 'resolved', Labels, Severity, number, LowerReason, Severity, string | undefined]>([
    // [why, kind, labels, severity, now, reason, severity after, why lowered]
    ['outside business hours: one level down, saying why', 'firing', { team: 'db' }, 'high', SAT_NOON, 'outside-intervals', 'medium', 'outside business-hours (routes[1])'],
    ['inside business hours: kept', 'firing', { team: 'db' }, 'high', MON_1000, 'inside-interval', 'high', undefined],
    ['a critical alert is never lowered', 'firing', { team: 'db' }, 'critical', SAT_NOON, 'critical', 'critical', undefined],
    ['never below low', 'firing', { team: 'db', tier: 'batch' }, 'medium', SAT_NOON, 'outside-intervals', 'low', 'outside business-hours (routes[1].routes[0])'],
    ['already low', 'firing', { team: 'db' }, 'low', SAT_NOON, 'already-lowest', 'low', undefined],
    ['a route without lowering took it too: kept', 'firing', { team: 'db', env: 'prod' }, 'high', SAT_NOON, 'not-every-route', 'high', undefined],
    ['no route lowers', 'firing', { env: 'prod' }, 'high', SAT_NOON, 'no-lowering', 'high', undefined],
    ['outside one of two intervals is not outside every one: kept', 'firing', { team: 'web' }, 'high', SAT_NOON, 'inside-interval', 'high', undefined],
    ['outside both', 'firing', { team: 'web' }, 'high', MON_0800, 'outside-intervals', 'medium', 'outside business-hours, weekends (routes[2])'],
    ['a resolution keeps its firing\'s severity', 'resolved', { team: 'db' }, 'medium', SAT_NOON, 'resolution', 'medium', undefined],
  ])('%s', (_why, kind, labels, severity, now, reason, after, why) => {
    const routed = matchRoutes(lowerConfig.root, withSeverityLabel(labels, severity));
    const d = decideLowering(kind, severity, routed, lowerConfig, now);
    expect(d.reason).toBe(reason);
    expect(d.severity).toBe(after);
    expect(d.lowered?.reason).toBe(why);
    if (d.lowered) expect(d.lowered.from).toBe(severity);
  });

  it.each<[Severity, number, Severity]>([
    ['high', 1, 'medium'],
    ['high', 3, 'low'],
    ['medium', 0, 'medium'],
  ])('lowerSeverity(%s, %d) is %s', (s, by, out) => expect(lowerSeverity(s, by)).toBe(out));
});

function firing(labels: Labels, atMs: number, severity: Severity = 'high'): AlertTransition {
  return {
    version: 1,
    transitionId: `firing-${atMs}`,
    kind: 'firing',
    fingerprint: 'fp1',
    ruleId: 'r',
    ruleName: 'R',
    severity,
    labels,
    annotations: {},
    value: 1,
    condition: '> 0',
    atMs,
    activeAtMs: atMs,
    firedAtMs: atMs,
    emittedAtMs: atMs,
  };
}

describe('the pipeline with time intervals', () => {
  it('mutes a route in its interval, notifies the others now, and only the muted ones when it ends', () => {
    const t = firing({ env: 'prod', team: 'db' }, SAT_NOON);
    const d1 = decideDispatch(undefined, t, config, DEFAULT_DISPATCH_CONFIG, SAT_NOON);
    expect(d1.jobs.map((j) => j.receiver)).toEqual(['db']);
    expect(d1.mutedBy).toEqual(['weekends']);
    expect(d1.silencedBy).toBeUndefined();
    expect(d1.record.muted).toMatchObject({ recheckAtMs: MON_0000 });
    expect(d1.trail.find((n) => n.stage === 'time-intervals')).toMatchObject({ reason: 'partly-muted', subject: 'audit by weekends' });

    // the timers' sweep re-checks it when the weekend ends
    const recheck = recheckTransition(d1.record, MON_0000)!;
    const d2 = decideDispatch(d1.record, recheck, config, DEFAULT_DISPATCH_CONFIG, MON_0000);
    expect(d2.jobs.map((j) => j.receiver)).toEqual(['audit']);
    expect(d2.trail.filter((n) => n.stage === 'throttle').map((n) => `${n.reason}:${n.subject}`)).toEqual(['first:audit|slack', 'already-notified:db|slack']);
    expect(d2.record.muted).toBeUndefined();
    expect(d2.record.fireCount).toBe(1);
  });

  it('records a firing every route of which is muted, notified nowhere, decided again at the end', () => {
    const t = firing({ env: 'prod' }, SAT_NOON);
    const d1 = decideDispatch(undefined, t, config, DEFAULT_DISPATCH_CONFIG, SAT_NOON);
    expect(d1.jobs).toEqual([]);
    expect(d1.unrouted).toBe(false);
    expect(d1.record.muted).toMatchObject({ silencedBy: ['weekends'], recheckAtMs: MON_0000 });
    expect(d1.trail.find((n) => n.stage === 'channels')?.reason).toBe('muted');
    // still in the weekend at an early re-check: muted again
    const early = decideDispatch(d1.record, recheckTransition(d1.record, SAT_NOON + 60_000)!, config, DEFAULT_DISPATCH_CONFIG, SAT_NOON + 60_000);
    expect(early.jobs).toEqual([]);
    expect(early.record.muted?.recheckAtMs).toBe(MON_0000);
    const d2 = decideDispatch(d1.record, recheckTransition(d1.record, MON_0000)!, config, DEFAULT_DISPATCH_CONFIG, MON_0000);
    expect(d2.jobs.map((j) => j.receiver)).toEqual(['audit']);
  });

  it('lowers the severity outside business hours: the matrix and the job use it, the job says why', () => {
    const d = decideDispatch(undefined, firing({ team: 'db' }, SAT_NOON), lowerConfig, DEFAULT_DISPATCH_CONFIG, SAT_NOON);
    expect(d.severity).toBe('medium');
    expect(d.jobs.map((j) => [j.channel, j.severity, j.lowered])).toEqual([['slack', 'medium', { from: 'high', reason: 'outside business-hours (routes[1])' }]]);
    expect(d.record.effectiveSeverity).toBe('medium');
    expect(alertView(d.jobs[0]!).loweredText).toBe('Lowered from HIGH: outside business-hours (routes[1])');
    expect(NotificationJobSchema.parse(JSON.parse(JSON.stringify(d.jobs[0]))).lowered).toEqual({ from: 'high', reason: 'outside business-hours (routes[1])' });
    const inside = decideDispatch(undefined, firing({ team: 'db' }, MON_1000), lowerConfig, DEFAULT_DISPATCH_CONFIG, MON_1000);
    expect(inside.severity).toBe('high');
    expect(inside.jobs[0]!.lowered).toBeUndefined();
    const critical = decideDispatch(undefined, firing({ team: 'db' }, SAT_NOON, 'critical'), lowerConfig, DEFAULT_DISPATCH_CONFIG, SAT_NOON);
    expect(critical.severity).toBe('critical');
  });
});
