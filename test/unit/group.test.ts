/**
 * Grouping (shared/core/dispatch/group): group labels and keys, when a group is due, when a flush
 * notifies a channel (Alertmanager 0.25's needsUpdate, per channel, with Klaxon's severity
 * matrix, throttle and mute), and the whole path on the in-memory ports: transitions through
 * dispatch into a group, the flush message, the jobs.
 */
import { describe, expect, it } from 'vitest';
import {
  CollectingFlushScheduler,
  CollectingJobPublisher,
  decideGroupFlush,
  DEFAULT_DISPATCH_CONFIG,
  DEFAULT_GROUP_TIMING,
  dispatchTransition,
  firstDueAt,
  fixedRoutes,
  flushGroup,
  groupIdOf,
  groupKeyOf,
  groupLabelsOf,
  InMemoryAlertStore,
  InMemoryGroupStore,
  InMemoryMemberRecords,
  notifyReason,
  parseFlushMessage,
  routeMuteAt,
  scheduleOverdueFlushes,
  type DispatchPorts,
  type GroupChannelState,
  type GroupItem,
  type GroupMember,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes, RoutesConfigError } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, Channel, Severity } from '../../shared/core/model/index.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import { isAlertRecordItem } from '../../shared/adapters/dynamodb/alert-store.ts';
import { InMemorySilenceStore } from '../../shared/core/dispatch/silence/in-memory.ts';
import { parseSilenceMatchers } from '../../shared/core/dispatch/silence/silence.ts';

const T = 1_795_300_000_000;
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const TIMING = DEFAULT_GROUP_TIMING;
const CONFIG = { throttleWindows: DEFAULT_DISPATCH_CONFIG.throttleWindows };

describe('group labels and keys', () => {
  it.each<[string, readonly string[] | 'all', Record<string, string>, Record<string, string>]>([
    ['the listed labels', ['alertname', 'cluster'], { alertname: 'CPU', cluster: 'eu', instance: 'a' }, { alertname: 'CPU', cluster: 'eu' }],
    ['a missing label is left out', ['alertname', 'cluster'], { alertname: 'CPU' }, { alertname: 'CPU' }],
    ['an empty label is missing', ['cluster'], { cluster: '' }, {}],
    ['group_by []: one group', [], { alertname: 'CPU', instance: 'a' }, {}],
    ["'...': every label", 'all', { alertname: 'CPU', instance: 'a' }, { alertname: 'CPU', instance: 'a' }],
  ])('%s', (_what, by, labels, expected) => {
    expect(groupLabelsOf(by, labels)).toEqual(expected);
  });

  it('keys differ by route, receiver and labels, not by label order; ids are stable hashes', () => {
    const k = groupKeyOf('0.1', 'ops', { a: '1', b: '2' });
    expect(groupKeyOf('0.1', 'ops', { b: '2', a: '1' })).toBe(k);
    expect(new Set([k, groupKeyOf('0.2', 'ops', { a: '1', b: '2' }), groupKeyOf('0.1', 'db', { a: '1', b: '2' }), groupKeyOf('0.1', 'ops', { a: '1', b: '3' })]).size).toBe(4);
    // No value can imitate another split of the fields.
    expect(groupKeyOf('0.1', 'ops', { a: '1","b' })).not.toBe(groupKeyOf('0.1', 'ops', { a: '1', b: '' }));
    expect(groupIdOf(k)).toMatch(/^group:[0-9a-f]{32}$/);
    expect(groupIdOf(k)).toBe(groupIdOf(groupKeyOf('0.1', 'ops', { b: '2', a: '1' })));
  });
});

describe('routes: group_by and timing', () => {
  it('inherits group_by and timing, with Alertmanager defaults at the root, and leaves routes without group_by ungrouped', () => {
    const r = compileRoutes(
      {
        group_wait: '10s',
        routes: [
          { matchers: ['team="db"'], group_by: ['alertname', 'cluster'], repeat_interval: '1h', routes: [{ matchers: ['env="prod"'], group_interval: '1m' }] },
          { matchers: ['team="web"'], group_by: ['...'] },
          { matchers: ['team="ops"'] },
        ],
      },
      'routes.yaml',
    );
    expect(r.root.groupBy).toBeUndefined();
    expect(r.root.timing).toEqual({ waitMs: 10 * S, intervalMs: 5 * M, repeatMs: 4 * H });
    const [db, web, ops] = r.root.routes;
    expect(db!.groupBy).toEqual(['alertname', 'cluster']);
    expect(db!.routes[0]!.groupBy).toEqual(['alertname', 'cluster']);
    expect(db!.routes[0]!.timing).toEqual({ waitMs: 10 * S, intervalMs: M, repeatMs: H });
    expect(web!.groupBy).toBe('all');
    expect(ops!.groupBy).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ["'...' with other labels", { group_by: ['...', 'a'] }, "group_by: '...' (every label) must be the only entry"],
    ['a bad label name', { routes: [{ group_by: ['ok', 'not-a-label'] }] }, 'routes[0].group_by[1]: "not-a-label" is not a label name'],
    ['a duplicate label', { group_by: ['a', 'a'] }, 'group_by[1]: duplicate label "a"'],
    ['not a duration', { routes: [{ group_wait: 'soon' }] }, 'routes[0].group_wait: "soon" is not a duration'],
    ['a zero interval', { group_interval: '0s' }, 'group_interval: 0s is out of range'],
    ['past a week', { repeat_interval: '30d' }, 'repeat_interval: 30d is out of range'],
  ])('refuses %s, naming the field', (_what, doc, problem) => {
    expect(() => compileRoutes(doc, 'routes.yaml')).toThrow(RoutesConfigError);
    try {
      compileRoutes(doc, 'routes.yaml');
    } catch (err) {
      expect((err as RoutesConfigError).problems.join('\n')).toContain(problem);
    }
  });
});

describe('when a new group is due', () => {
  it.each<[string, number, number]>([
    ['a new alert: group_wait from now', T, T + 30 * S],
    ['an alert that started longer than group_wait ago: at once', T - 5 * M, T],
    ['exactly group_wait ago: waits (strictly before)', T - 30 * S, T + 30 * S],
  ])('%s', (_what, startsAtMs, due) => {
    expect(firstDueAt(startsAtMs, T, TIMING)).toBe(due);
  });
});

describe('whether a flush notifies a channel (Alertmanager needsUpdate, send_resolved)', () => {
  const last = (firing: string[], resolved: string[] = [], atMs = T - M) => ({ atMs, firing, resolved });
  it.each<[string, string[], string[], ReturnType<typeof last> | undefined, string]>([
    ['first flush with firing alerts', ['a', 'b'], [], undefined, 'first-notification'],
    ['first flush, everything already resolved', [], ['a'], undefined, 'nothing-seen'],
    ['a new firing alert', ['a', 'b'], [], last(['a']), 'new-firing'],
    ['one of two resolved', ['a'], ['b'], last(['a', 'b']), 'new-resolved'],
    ['all resolved', [], ['a', 'b'], last(['a', 'b']), 'all-resolved'],
    ['nothing fired that was notified, nothing fires', [], ['c'], last([], ['a']), 'nothing-seen'],
    ['unchanged within repeat_interval', ['a'], [], last(['a']), 'unchanged'],
    ['unchanged past repeat_interval', ['a'], [], last(['a'], [], T - 4 * H - 1), 'repeat'],
    ['unchanged exactly at repeat_interval', ['a'], [], last(['a'], [], T - 4 * H), 'unchanged'],
    ['a firing alert left the set (subset): no news', ['a'], [], last(['a', 'b']), 'unchanged'],
  ])('%s', (_what, firing, resolved, l, reason) => {
    expect(notifyReason(firing, resolved, l, T, 4 * H)).toBe(reason);
  });
});

const member = (fp: string, severity: Severity, status: 'firing' | 'resolved' = 'firing', channels: Channel[] = ['slack']): GroupMember => ({
  status,
  severity,
  channels,
  startsAtMs: T - M,
  ...(status === 'resolved' ? { endsAtMs: T - S } : {}),
});
const SLACK = { destination: { kind: 'slack' as const, channel: 'C1' }, destinationId: 'slack:channel:C1' };
const PD = { destination: { kind: 'pagerduty' as const, routingKeyName: 'ops' }, destinationId: 'pagerduty:ops' };
function group(members: Record<string, GroupMember>, channels: Partial<Record<Channel, GroupChannelState>> = {}): GroupItem {
  return {
    id: groupIdOf('k'),
    key: 'k',
    routePath: 'routes[0]',
    receiver: 'ops',
    labels: { alertname: 'CPU' },
    timing: TIMING,
    version: 3,
    flushed: Object.keys(channels).length > 0,
    dueAtMs: T,
    members,
    channels,
    destinations: { slack: SLACK, pagerduty: PD },
  };
}
const sent = (firing: string[], atMs = T - 10 * M, resolved: string[] = []): GroupChannelState => ({ seq: 1, notified: { atMs, firing, resolved }, lastSentAtMs: atMs, heldCount: 0 });

describe('a flush, per channel', () => {
  it.each<[string, GroupItem, boolean, string]>([
    ['first flush: one job per channel its members use', group({ a: member('a', 'critical', 'firing', ['slack', 'pagerduty']), b: member('b', 'medium') }), false, 'pagerduty:first-notification:1 slack:first-notification:1'],
    ['a medium alert does not reach PagerDuty', group({ b: member('b', 'medium') }), false, 'slack:first-notification:1'],
    ['muted by a time interval: nothing', group({ a: member('a', 'high') }), true, 'slack:muted:-'],
    ['a new alert within the throttle window of the group severity (medium 15 min): held', group({ a: member('a', 'medium'), b: member('b', 'medium') }, { slack: sent(['a']) }), false, 'slack:throttled:-'],
    ['a new critical alert is never held', group({ a: member('a', 'medium'), b: member('b', 'critical') }, { slack: sent(['a']) }), false, 'slack:new-firing:2'],
    ['all resolved: sent even when muted', group({ a: member('a', 'high', 'resolved') }, { slack: sent(['a']) }), true, 'slack:all-resolved:2'],
    ['unchanged: nothing', group({ a: member('a', 'high') }, { slack: sent(['a']) }), false, 'slack:unchanged:-'],
  ])('%s', (_what, item, muted, expected) => {
    const d = decideGroupFlush(item, T, muted ? { muted: true, by: ['nights'] } : { muted: false }, CONFIG);
    expect(d.channels.map((c) => `${c.channel}:${c.reason}:${c.job?.group?.seq ?? '-'}`).join(' ')).toBe(expected);
  });

  it('lists the firing alerts most severe first, says what changed, and drops resolved members afterwards', () => {
    const item = group({ a: member('a', 'medium'), b: member('b', 'critical'), c: member('c', 'high', 'resolved') }, { slack: sent(['a', 'c']) });
    const d = decideGroupFlush(item, T, { muted: false }, CONFIG);
    const job = d.channels[0]!.job!;
    expect(job.group).toMatchObject({ reason: 'new-firing', firingCount: 2, resolvedCount: 1, changes: { newFiring: 1, newResolved: 1 }, seq: 2 });
    expect(job.group!.firing.map((m) => m.fingerprint)).toEqual(['b', 'a']);
    expect(job.severity).toBe('critical');
    expect(job.transition).toMatchObject({ kind: 'firing', fingerprint: item.id, labels: { alertname: 'CPU' } });
    expect(job.idempotencyKey).toMatch(new RegExp(`^${item.id}:2:slack:[0-9a-f]{12}$`));
    expect(Object.keys(d.next!.members).sort()).toEqual(['a', 'b']);
    expect(d.next!.dueAtMs).toBe(T + TIMING.intervalMs);
    expect(d.next!.channels.slack).toMatchObject({ seq: 2, notified: { atMs: T, firing: ['a', 'b'], resolved: ['c'] }, heldCount: 0 });
  });

  it('counts held updates and says so with the next one sent', () => {
    const item = group({ a: member('a', 'medium'), b: member('b', 'medium') }, { slack: sent(['a'], T - 10 * M) });
    const held = decideGroupFlush(item, T, { muted: false }, CONFIG);
    expect(held.next!.channels.slack).toMatchObject({ heldCount: 1, heldSinceMs: T });
    const later = decideGroupFlush({ ...held.next!, dueAtMs: T + 5 * M }, T + 5 * M, { muted: false }, CONFIG);
    expect(later.channels[0]!.job!.suppressed).toEqual({ count: 1, sinceMs: T });
  });

  it('deletes a group with no firing member once its resolution is sent; a group resolved before its first flush says nothing', () => {
    const done = decideGroupFlush(group({ a: member('a', 'high', 'resolved') }, { slack: sent(['a']) }), T, { muted: false }, CONFIG);
    expect(done.next).toBeUndefined();
    expect(done.channels[0]!.job!.transition.kind).toBe('resolved');
    const unseen = decideGroupFlush(group({ a: member('a', 'high', 'resolved') }), T, { muted: false }, CONFIG);
    expect(unseen.channels.map((c) => c.reason)).toEqual(['nothing-seen']);
    expect(unseen.next).toBeUndefined();
  });
});

describe('flush messages', () => {
  it.each<[string, string, string | undefined]>([
    ['a valid message', JSON.stringify({ version: 1, kind: 'flush', id: groupIdOf('k'), dueAtMs: T }), undefined],
    ['not JSON', '{', 'not JSON'],
    ['another kind', JSON.stringify({ version: 1, kind: 'x', id: groupIdOf('k'), dueAtMs: T }), "kind: expected 'flush'"],
    ['a bad id', JSON.stringify({ version: 1, kind: 'flush', id: 'fp1', dueAtMs: T }), 'id: expected group:<32 hex>'],
    ['a bad due time', JSON.stringify({ version: 1, kind: 'flush', id: groupIdOf('k'), dueAtMs: 'soon' }), 'dueAtMs: expected an integer (epoch ms)'],
  ])('%s', (_what, body, error) => {
    const r = parseFlushMessage(body);
    if (error === undefined) expect(typeof r).toBe('object');
    else expect(r).toBe(error);
  });
});

// ---------------------------------------------------------------------------------------------
// The whole path on the in-memory ports.

const ROUTES = compileRoutes(
  {
    receivers: [{ name: 'ops', slack: { channel: 'C0OPS' }, pagerduty: { routingKey: 'ops' } }],
    routes: [
      { matchers: ['team="ops"'], receivers: ['ops'], group_by: ['alertname', 'cluster'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' },
      { matchers: ['team="solo"'], receivers: ['ops'] },
    ],
  },
  'routes.yaml',
);

function alert(i: number, over: Partial<AlertTransition> = {}): { firing: AlertTransition; resolved: AlertTransition } {
  const fp = `fp${String(i).padStart(4, '0')}`;
  const base = {
    version: 1 as const,
    fingerprint: fp,
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'critical' as const,
    labels: { alertname: 'CPU', cluster: 'eu1', team: 'ops', instance: `web-${i}` },
    annotations: { summary: `CPU on web-${i}` },
    value: 97,
    condition: '> 90',
    activeAtMs: T - M,
    firedAtMs: T,
    emittedAtMs: T,
    ...over,
  };
  return {
    firing: { ...base, transitionId: `f-${fp}`, kind: 'firing', atMs: base.firedAtMs },
    resolved: { ...base, transitionId: `r-${fp}`, kind: 'resolved', atMs: base.firedAtMs + 10 * M, resolvedAtMs: base.firedAtMs + 10 * M },
  };
}

function world(silenceStore?: InMemorySilenceStore) {
  const clock = new ManualClock(T);
  const alerts = new InMemoryAlertStore();
  const jobs = new CollectingJobPublisher();
  const groups = new InMemoryGroupStore();
  const scheduler = new CollectingFlushScheduler();
  const routes = fixedRoutes(ROUTES);
  const ports: DispatchPorts = { alerts, jobs, routes, clock, groups, flushes: scheduler };
  const records = new InMemoryMemberRecords(alerts);
  const flushDue = async () => {
    const out = [];
    for (const m of scheduler.takeDue(clock.now())) out.push(await flushGroup({ groups, jobs, scheduler, routes, clock, records, ...(silenceStore ? { silenceStore } : {}) }, m, { config: CONFIG }));
    return out;
  };
  return { clock, alerts, jobs, groups, scheduler, ports, flushDue };
}

describe('grouping through dispatch and the flush (in-memory ports)', () => {
  it('100 alerts of one group firing at once: one notification per channel, 3 requests per alert in dispatch', async () => {
    const w = world();
    for (let i = 0; i < 100; i++) {
      const d = await dispatchTransition(w.ports, alert(i).firing, { config: DEFAULT_DISPATCH_CONFIG });
      expect(d.jobs).toHaveLength(0);
      expect(d.groups).toHaveLength(1);
    }
    // One flush scheduled, group_wait after the first alert.
    expect(w.scheduler.scheduled).toEqual([{ version: 1, kind: 'flush', id: w.groups.all()[0]!.id, dueAtMs: T + 30 * S }]);
    const requests = w.alerts.reads + w.alerts.writes + w.groups.reads + w.groups.writes;
    expect(requests / 100).toBe(3);
    w.clock.advance(30 * S);
    const [flushed] = await w.flushDue();
    expect(flushed!.outcome).toBe('flushed');
    expect(w.jobs.published.map((j) => `${j.channel}:${j.group?.firingCount}`).sort()).toEqual(['pagerduty:100', 'slack:100']);
    // The listed alerts' facts come from their records (the group keeps a few dozen bytes per alert).
    expect(w.jobs.published[0]!.group!.firing[0]).toMatchObject({ name: 'CPU high', instance: 'web-0', summary: 'CPU on web-0', value: '97', isNew: true });
    // Nothing changed: the next flushes say nothing until the repeat interval.
    w.clock.advance(5 * M);
    await w.flushDue();
    expect(w.jobs.published).toHaveLength(2);
    // Half resolve: the next flush says so, on both channels.
    for (let i = 0; i < 50; i++) await dispatchTransition(w.ports, alert(i).resolved, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(5 * M);
    await w.flushDue();
    expect(w.jobs.published.slice(2).map((j) => `${j.channel}:${j.group?.reason}:${j.group?.firingCount}/${j.group?.resolvedCount}`).sort()).toEqual([
      'pagerduty:new-resolved:50/50',
      'slack:new-resolved:50/50',
    ]);
  });

  it('repeats a group that still fires every repeat_interval (on the group_interval tick after it)', async () => {
    const w = world();
    await dispatchTransition(w.ports, alert(1).firing, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(30 * S);
    await w.flushDue();
    const sentAt = w.clock.now();
    for (let k = 0; k < 60; k++) {
      w.clock.advance(5 * M);
      await w.flushDue();
    }
    const repeats = w.jobs.published.filter((j) => j.group?.reason === 'repeat');
    expect(repeats.length).toBeGreaterThanOrEqual(2);
    expect(repeats[0]!.transition.atMs - sentAt).toBe(4 * H + 5 * M);
  });

  it('resolves a group: the last flush sends the resolution and deletes the group; a late flush message finds nothing', async () => {
    const w = world();
    const a = alert(1);
    await dispatchTransition(w.ports, a.firing, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(30 * S);
    await w.flushDue();
    await dispatchTransition(w.ports, a.resolved, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(5 * M);
    await w.flushDue();
    expect(w.jobs.published.map((j) => `${j.channel}:${j.transition.kind}`).sort()).toEqual(['pagerduty:firing', 'pagerduty:resolved', 'slack:firing', 'slack:resolved']);
    expect(w.groups.all()).toHaveLength(0);
    const id = groupIdOf(groupKeyOf('routes[0]', 'ops', { alertname: 'CPU', cluster: 'eu1' }));
    expect(await flushGroup({ ...w, routes: fixedRoutes(ROUTES) }, { version: 1, kind: 'flush', id, dueAtMs: T }, { config: CONFIG })).toEqual({ outcome: 'gone' });
  });

  it("a group message silenced 'until resolved' (Slack's button): the silence ends when the whole group resolved, not before", async () => {
    const id = groupIdOf(groupKeyOf('routes[0]', 'ops', { alertname: 'CPU', cluster: 'eu1' }));
    const silences = new InMemorySilenceStore([
      { id: 's-group', matchers: parseSilenceMatchers(['cluster="eu1"']), startsAtMs: T, endsAtMs: T + 7 * 24 * H, createdBy: 'alice', comment: 'until resolved', updatedAtMs: T, untilResolved: id },
      { id: 's-other', matchers: parseSilenceMatchers(['cluster="eu2"']), startsAtMs: T, endsAtMs: T + 7 * 24 * H, createdBy: 'bob', comment: 'until resolved', updatedAtMs: T, untilResolved: 'group:other' },
    ]);
    const w = world(silences);
    const [a, b] = [alert(1), alert(2)];
    await dispatchTransition(w.ports, a.firing, { config: DEFAULT_DISPATCH_CONFIG });
    await dispatchTransition(w.ports, b.firing, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(30 * S);
    await w.flushDue();
    // One of two resolves: the group goes on, so does its silence.
    await dispatchTransition(w.ports, a.resolved, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(5 * M);
    await w.flushDue();
    expect((await silences.list()).find((s) => s.id === 's-group')!.endsAtMs).toBe(T + 7 * 24 * H);
    // Both resolved: the last flush ends the group and the silence made until then; the other stays.
    await dispatchTransition(w.ports, b.resolved, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(5 * M);
    await w.flushDue();
    expect(w.groups.all()).toHaveLength(0);
    const after = await silences.list();
    expect(after.find((s) => s.id === 's-group')!.endsAtMs).toBe(w.clock.now());
    expect(after.find((s) => s.id === 's-other')!.endsAtMs).toBe(T + 7 * 24 * H);
  });

  it('an alert on a route without group_by is notified on its own, at once', async () => {
    const w = world();
    const d = await dispatchTransition(w.ports, alert(1, { labels: { alertname: 'CPU', team: 'solo' } }).firing, { config: DEFAULT_DISPATCH_CONFIG });
    expect(d.jobs.map((j) => j.channel).sort()).toEqual(['pagerduty', 'slack']);
    expect(w.groups.all()).toHaveLength(0);
  });

  it('a flush message for another due time is obsolete; an early one is scheduled again; a lost one is found by the safety net', async () => {
    const w = world();
    await dispatchTransition(w.ports, alert(1).firing, { config: DEFAULT_DISPATCH_CONFIG });
    const id = w.groups.all()[0]!.id;
    const p = { groups: w.groups, jobs: w.jobs, scheduler: w.scheduler, routes: fixedRoutes(ROUTES), clock: w.clock };
    expect(await flushGroup(p, { version: 1, kind: 'flush', id, dueAtMs: T - 1 }, { config: CONFIG })).toEqual({ outcome: 'obsolete', dueAtMs: T + 30 * S });
    w.scheduler.takeDue(Number.MAX_SAFE_INTEGER);
    expect(await flushGroup(p, { version: 1, kind: 'flush', id, dueAtMs: T + 30 * S }, { config: CONFIG })).toEqual({ outcome: 'early', dueAtMs: T + 30 * S });
    expect(w.scheduler.takeDue(Number.MAX_SAFE_INTEGER)).toHaveLength(1);
    // The message is lost: within the grace nothing happens, after it the timers schedule it.
    w.clock.advance(30 * S + 30 * S);
    expect(await scheduleOverdueFlushes(p, w.clock.now())).toBe(0);
    w.clock.advance(31 * S);
    expect(await scheduleOverdueFlushes(p, w.clock.now())).toBe(1);
    await w.flushDue();
    expect(w.jobs.published).toHaveLength(2);
  });

  it('a member written between the flush read and commit: the flush is applied to the group again, not sent again; the next flush tells the new alert', async () => {
    const w = world();
    await dispatchTransition(w.ports, alert(1).firing, { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(30 * S);
    const racing = {
      ...w.groups,
      get: (id: string) => w.groups.get(id),
      upsertMember: w.groups.upsertMember.bind(w.groups),
      resolveMember: w.groups.resolveMember.bind(w.groups),
      overdue: w.groups.overdue.bind(w.groups),
      commitFlush: async (id: string, next: GroupItem | undefined, v: number, _now: number) => {
        if (w.groups.peek(id)!.members.fp0002 === undefined) await dispatchTransition(w.ports, alert(2).firing, { config: DEFAULT_DISPATCH_CONFIG });
        return w.groups.commitFlush(id, next, v);
      },
    };
    const conflicts: number[] = [];
    const [m] = w.scheduler.takeDue(w.clock.now());
    const r = await flushGroup({ groups: racing, jobs: w.jobs, scheduler: w.scheduler, routes: fixedRoutes(ROUTES), clock: w.clock }, m!, { config: CONFIG, onConflict: (a) => conflicts.push(a) });
    expect(conflicts).toEqual([1]);
    expect(r.outcome).toBe('flushed');
    // One notification per channel (a second would be a second first message on Slack).
    expect(w.jobs.published.map((j) => `${j.channel}:${j.group?.seq}:${j.group?.firingCount}`).sort()).toEqual(['pagerduty:1:1', 'slack:1:1']);
    const g = w.groups.all()[0]!;
    expect(Object.keys(g.members).sort()).toEqual(['fp0001', 'fp0002']);
    expect(g.channels.slack!.notified!.firing).toEqual(['fp0001']);
    // The next flush, one group_interval on, tells the alert that arrived during the first.
    w.clock.set(g.dueAtMs);
    await w.flushDue();
    const last = w.jobs.published.filter((j) => j.channel === 'slack').at(-1)!;
    expect(last.group).toMatchObject({ seq: 2, reason: 'new-firing', firingCount: 2 });
  });
});

describe('time intervals of a grouped route (decided at the flush, as Alertmanager does)', () => {
  const routes = compileRoutes(
    {
      receivers: [{ name: 'ops', slack: { channel: 'C0OPS' } }],
      time_intervals: [{ name: 'always', time_intervals: [{ weekdays: ['sunday:saturday'] }] }],
      routes: [{ matchers: ['team="ops"'], receivers: ['ops'], group_by: ['alertname'], mute_time_intervals: ['always'] }],
    },
    'routes.yaml',
  );

  it('the alert joins its group at once; the flush inside the interval sends nothing and remembers nothing', async () => {
    const clock = new ManualClock(T);
    const alerts = new InMemoryAlertStore();
    const jobs = new CollectingJobPublisher();
    const groups = new InMemoryGroupStore();
    const scheduler = new CollectingFlushScheduler();
    const d = await dispatchTransition({ alerts, jobs, routes: fixedRoutes(routes), clock, groups, flushes: scheduler }, alert(1).firing, { config: DEFAULT_DISPATCH_CONFIG });
    expect(d.groups).toHaveLength(1);
    expect(alerts.peek('fp0001')!.muted).toBeUndefined();
    clock.advance(30 * S);
    const [m] = scheduler.takeDue(clock.now());
    const r = await flushGroup({ groups, jobs, scheduler, routes: fixedRoutes(routes), clock }, m!, { config: CONFIG, muteOf: (rc, path, now) => routeMuteAt(path, rc, now) });
    expect(r.outcome === 'flushed' && r.decision.channels.map((c) => c.reason)).toEqual(['muted']);
    expect(jobs.published).toHaveLength(0);
    expect(groups.all()[0]!.channels.slack).toBeUndefined();
  });
});

describe('a full group (DynamoDB item limit)', () => {
  it('notifies the alert that does not fit on its own, at once, and its resolution where it went; the group goes on', async () => {
    const clock = new ManualClock(T);
    const alerts = new InMemoryAlertStore();
    const jobs = new CollectingJobPublisher();
    const groups = new InMemoryGroupStore(2);
    const full: string[] = [];
    const ports = { alerts, jobs, routes: fixedRoutes(ROUTES), clock, groups, flushes: new CollectingFlushScheduler() };
    const options = { config: DEFAULT_DISPATCH_CONFIG, onGroupFull: (id: string) => void full.push(id) };
    for (let i = 1; i <= 2; i++) expect((await dispatchTransition(ports, alert(i).firing, options)).jobs).toHaveLength(0);
    const third = await dispatchTransition(ports, alert(3).firing, options);
    expect(full).toEqual([groups.all()[0]!.id]);
    expect(third.trail.find((n) => n.stage === 'group')?.reason).toBe('group-full');
    expect(third.jobs.map((j) => `${j.channel}:${j.group ? 'group' : j.transition.fingerprint}`).sort()).toEqual(['pagerduty:fp0003', 'slack:fp0003']);
    expect(Object.keys(groups.all()[0]!.members)).toHaveLength(2);
    const resolved = await dispatchTransition(ports, alert(3).resolved, options);
    expect(resolved.jobs.map((j) => `${j.channel}:${j.transition.kind}`).sort()).toEqual(['pagerduty:resolved', 'slack:resolved']);
  });
});

describe('alerts-table items that are not alert records (alerts list, the console)', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['an alert record', { fingerprint: 'fp1', version: 3, state: 'firing' }, true],
    ["a group's Slack thread (keyed by the group id)", { fingerprint: groupIdOf('k'), slackThread: { channel: 'C1', ts: '1.2' }, expiresAt: 1 }, false],
    ["a thread written before dispatch's first commit", { fingerprint: 'fp2', slackThread: { channel: 'C1', ts: '1.3' } }, false],
    ['an inhibit item', { fingerprint: 'inhibit#r#h', kind: 'inhibit', version: 1 }, false],
  ])('%s', (_what, item, expected) => {
    expect(isAlertRecordItem(item)).toBe(expected);
  });
});
