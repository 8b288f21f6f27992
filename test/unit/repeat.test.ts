/**
 * Reminders of alerts notified one by one (shared/core/dispatch/repeat): a firing notified on its
 * own is notified again every repeat_interval while it fires, through the timers' sweep and
 * dispatch, on the in-memory ports with a clock moved by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  CollectingFlushScheduler,
  CollectingJobPublisher,
  DEFAULT_DISPATCH_CONFIG,
  dispatchTransition,
  fixedRoutes,
  InMemoryAlertStore,
  InMemoryGroupStore,
  InMemoryMutedAlertIndex,
  recheckMutedAlerts,
  parseSilenceMatchers,
  repeatAfter,
  validateSilence,
  type AlertRecord,
  type DispatchPorts,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, NotificationJob } from '../../shared/core/model/index.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';

const T = 1_795_300_000_000;
const M = 60_000;
const H = 60 * M;

const ROUTES = compileRoutes(
  {
    receivers: [{ name: 'ops', slack: { channel: 'C0OPS' } }],
    routes: [
      { matchers: ['team="ops"'], receivers: ['ops'], repeat_interval: '1h' },
      { matchers: ['team="grouped"'], receivers: ['ops'], group_by: ['alertname'] },
    ],
  },
  'routes.yaml',
);

function alert(team: string, fp = 'fp1'): { firing: AlertTransition; resolved: AlertTransition } {
  const base = {
    version: 1 as const,
    fingerprint: fp,
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'medium' as const,
    labels: { alertname: 'CPU', team, instance: 'web-1' },
    annotations: { summary: 'CPU above 90%' },
    value: 97,
    condition: '> 90',
    activeAtMs: T - M,
    firedAtMs: T,
    runbookUrl: 'https://runbooks.example.com/cpu',
    emittedAtMs: T,
  };
  return {
    firing: { ...base, transitionId: `f-${fp}`, kind: 'firing', atMs: T },
    resolved: { ...base, transitionId: `r-${fp}`, kind: 'resolved', atMs: T + 5 * H, resolvedAtMs: T + 5 * H },
  };
}

function world() {
  const clock = new ManualClock(T);
  const alerts = new InMemoryAlertStore();
  const jobs = new CollectingJobPublisher();
  const ports: DispatchPorts = { alerts, jobs, routes: fixedRoutes(ROUTES), clock, groups: new InMemoryGroupStore(), flushes: new CollectingFlushScheduler() };
  const index = new InMemoryMutedAlertIndex(alerts);
  const dispatch = (t: AlertTransition) => dispatchTransition(ports, t, { config: DEFAULT_DISPATCH_CONFIG });
  /** The timers' sweep at the clock's time: what is due goes through dispatch. */
  const sweep = async (): Promise<number> => recheckMutedAlerts({ muted: index, publisher: { publish: async (ts) => void (await Promise.all(ts.map(dispatch))) } }, clock.now());
  return { clock, alerts, jobs, dispatch, sweep };
}

const reminders = (js: readonly NotificationJob[]) => js.filter((j) => j.reminder !== undefined);

describe('reminders of alerts notified on their own', () => {
  it('notifies a firing again every repeat_interval of its route while it fires, and stops at its resolution', async () => {
    const w = world();
    const a = alert('ops');
    await w.dispatch(a.firing);
    expect(w.jobs.published).toHaveLength(1);
    expect(w.alerts.peek('fp1')!.repeat).toMatchObject({ atMs: T + H, lastSentAtMs: T });
    // Nothing is due before the interval.
    w.clock.set(T + H - 1);
    expect(await w.sweep()).toBe(0);
    w.clock.set(T + H);
    expect(await w.sweep()).toBe(1);
    const [first] = reminders(w.jobs.published);
    expect(first).toMatchObject({ reminder: { lastSentAtMs: T }, fireCount: 1, channel: 'slack' });
    expect(first!.transition).toMatchObject({ kind: 'firing', firedAtMs: T, value: 97, condition: '> 90', runbookUrl: 'https://runbooks.example.com/cpu' });
    // The sweep run twice at the same time publishes the same reminder: applied once.
    await w.sweep();
    expect(reminders(w.jobs.published)).toHaveLength(1);
    w.clock.set(T + 2 * H);
    await w.sweep();
    expect(reminders(w.jobs.published).map((j) => j.reminder!.lastSentAtMs)).toEqual([T, T + H]);
    // Resolved: no reminder any more; the resolution goes where the firing went.
    await w.dispatch(a.resolved);
    expect(w.alerts.peek('fp1')!.repeat).toBeUndefined();
    w.clock.set(T + 10 * H);
    expect(await w.sweep()).toBe(0);
    expect(w.jobs.published.at(-1)!.transition.kind).toBe('resolved');
  });

  it('leaves grouped alerts to their group (no per-alert reminder)', async () => {
    const w = world();
    await w.dispatch(alert('grouped').firing);
    expect(w.jobs.published).toHaveLength(0);
    expect(w.alerts.peek('fp1')!.repeat).toBeUndefined();
  });

  it('a reminder decided while a silence holds is muted (and notified when the silence ends), not lost', async () => {
    const w = world();
    await w.dispatch(alert('ops').firing);
    const silenced = w.alerts.peek('fp1')!;
    expect(silenced.repeat).toBeDefined();
    w.clock.set(T + H);
    // A silence now holds the alert: the reminder is decided as any firing.
    const ports = { alerts: w.alerts, jobs: w.jobs, routes: fixedRoutes(ROUTES), clock: w.clock, silences: { current: async () => [silenceAll(T + H + 30 * M)] } };
    const { reminderTransition } = await import('../../shared/core/dispatch/repeat/index.ts');
    const d = await dispatchTransition(ports, reminderTransition(silenced, w.clock.now())!, { config: DEFAULT_DISPATCH_CONFIG });
    expect(d.silencedBy).toEqual(['s1']);
    expect(reminders(w.jobs.published)).toHaveLength(0);
    expect(w.alerts.peek('fp1')!.muted?.recheckAtMs).toBe(T + H + 30 * M);
  });
});

function silenceAll(endsAtMs: number) {
  return validateSilence({ id: 's1', matchers: parseSilenceMatchers(['alertname="CPU"']), startsAtMs: T, endsAtMs, createdBy: 'me', comment: 'maintenance', updatedAtMs: T });
}

describe('when the next reminder is due', () => {
  const routed = ROUTES.root.routes;
  const job = { transition: { kind: 'firing' } } as NotificationJob;
  const base = { transition: alert('ops').firing, record: undefined as AlertRecord | undefined, nowMs: T };
  it.each<[string, Parameters<typeof repeatAfter>[0], number | undefined]>([
    ['notified on its own: repeat_interval after now', { ...base, routed: [routed[0]!], jobs: [job] }, T + H],
    ['only grouped routes: none', { ...base, routed: [routed[1]!], jobs: [job] }, undefined],
    ['nothing sent (held, low severity): none', { ...base, routed: [routed[0]!], jobs: [] }, undefined],
    ['two routes: the shorter interval', { ...base, routed: [routed[0]!, ROUTES.root], jobs: [job] }, T + H],
    ['a resolution: none', { ...base, transition: alert('ops').resolved, routed: [routed[0]!], jobs: [job] }, undefined],
  ])('%s', (_what, ctx, atMs) => {
    expect(repeatAfter(ctx)?.atMs).toBe(atMs);
  });
});
