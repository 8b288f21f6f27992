/**
 * Escalation policies (shared/core/dispatch/escalation-policy): the routes-config validation as a
 * table, the step arithmetic, and a whole timeline on an injected clock through dispatch and the
 * timers' sweep (in-memory ports): levels notified while nobody acknowledges, repeated, paused by
 * an acknowledgement and started again when it is taken back, ended by the resolution (which
 * reaches every level notified) or by a silence; each step in the history with why.
 */
import { describe, expect, it } from 'vitest';
import { CollectingJobPublisher, DEFAULT_DISPATCH_CONFIG, dispatchAction, dispatchTransition, fixedRoutes, InMemoryAlertStore, RoutesConfigError, type DispatchPorts } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { afterStep, startEscalation, stepOf, stepReason, type EscalationPolicy } from '../../shared/core/dispatch/escalation-policy/index.ts';
import { recheckMutedAlerts } from '../../shared/core/dispatch/silence/recheck.ts';
import { InMemoryMutedAlertIndex } from '../../shared/core/dispatch/silence/in-memory.ts';
import { formatDuration } from '../../shared/core/dispatch/duration.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import { InMemoryHistoryStore } from '../../shared/core/history/types.ts';
import type { AlertTransition } from '../../shared/core/model/index.ts';
import type { CompiledSilence } from '../../shared/core/dispatch/silence/silence.ts';
import { parseSilenceMatchers, validateSilence } from '../../shared/core/dispatch/silence/silence.ts';

const T = Date.UTC(2026, 10, 30, 3, 0, 0);
const M = 60_000;

const ROUTES_DOC = {
  receivers: [
    { name: 'team', slack: { channel: 'C0TEAM' } },
    { name: 'primary', pagerduty: { routingKey: 'primary' } },
    { name: 'lead', email: { to: ['lead@example.com'] } },
  ],
  escalation_policies: [
    {
      name: 'db-oncall',
      levels: [
        { after: '15m', receivers: ['primary'] },
        { after: '30m', receivers: ['lead'] },
      ],
      repeat: 1,
    },
  ],
  routes: [{ matchers: ['team="db"'], receivers: ['team'], escalation: { critical: 'db-oncall' } }],
};

describe('escalation_policies in the routes config', () => {
  const withPolicies = (policies: unknown, route: Record<string, unknown> = { matchers: ['team="db"'], receivers: ['team'], escalation: 'p' }) => ({ ...ROUTES_DOC, escalation_policies: policies, routes: [route] });
  it.each<[string, unknown, RegExp]>([
    // A level needs a wait of a minute at least: the timers run each minute.
    ['a wait under a minute', withPolicies([{ name: 'p', levels: [{ after: '30s', receivers: ['lead'] }] }]), /escalation_policies\[0\]\.levels\[0\]\.after: at least 1m/],
    ['waits not increasing', withPolicies([{ name: 'p', levels: [{ after: '30m', receivers: ['lead'] }, { after: '15m', receivers: ['primary'] }] }]), /levels\[1\]\.after: must be later than the level before/],
    ['an unknown receiver', withPolicies([{ name: 'p', levels: [{ after: '5m', receivers: ['nobody'] }] }]), /levels\[0\]\.receivers\[0\]: unknown receiver "nobody"/],
    ['an unknown policy on a route', withPolicies([{ name: 'q', levels: [{ after: '5m', receivers: ['lead'] }] }]), /routes\[0\]\.escalation: unknown escalation policy "p"/],
    ['an unknown policy for one severity', withPolicies([{ name: 'p', levels: [{ after: '5m', receivers: ['lead'] }] }], { receivers: ['team'], escalation: { high: 'x' } }), /routes\[0\]\.escalation\.high: unknown escalation policy "x"/],
    ['a duplicate name', withPolicies([{ name: 'p', levels: [{ after: '5m', receivers: ['lead'] }] }, { name: 'p', levels: [{ after: '5m', receivers: ['lead'] }] }]), /escalation_policies\[1\]\.name: duplicate/],
    ['ten repeats (PagerDuty allows 0 to 9)', withPolicies([{ name: 'p', levels: [{ after: '5m', receivers: ['lead'] }], repeat: 10 }]), /escalation_policies\.0\.repeat|repeat/],
    ['a bad duration', withPolicies([{ name: 'p', levels: [{ after: 'soon', receivers: ['lead'] }] }]), /levels\[0\]\.after: invalid duration "soon"/],
  ])('refuses %s, naming the field', (_what, doc, message) => {
    expect(() => compileRoutes(doc, 'routes.yaml')).toThrow(RoutesConfigError);
    expect(() => compileRoutes(doc, 'routes.yaml')).toThrow(message);
  });

  it('is inherited by child routes, and `none` turns it off', () => {
    const c = compileRoutes({ ...ROUTES_DOC, routes: [{ matchers: ['team="db"'], receivers: ['team'], escalation: 'db-oncall', routes: [{ matchers: ['env="dev"'] }, { matchers: ['env="test"'], escalation: 'none' }] }] }, 'routes.yaml');
    const [parent] = c.root.routes;
    expect(parent!.routes[0]!.escalation?.critical).toBe('db-oncall');
    expect(parent!.routes[1]!.escalation).toBeUndefined();
  });
});

describe('steps', () => {
  const p: EscalationPolicy = { name: 'db-oncall', levels: [{ afterMs: 15 * M, receivers: ['primary'] }, { afterMs: 30 * M, receivers: ['lead'] }], repeat: 1 };
  it.each<[number, number, number, number]>([
    // step, level, loop, due after the start: the second round adds the last level's wait (30m).
    [0, 0, 0, 15 * M],
    [1, 1, 0, 30 * M],
    [2, 0, 1, 45 * M],
    [3, 1, 1, 60 * M],
  ])('step %i: level %i, round %i, due %i ms after the start', (step, level, loop, offsetMs) => {
    expect(stepOf(p, step)).toEqual({ level, loop, offsetMs });
  });
  it('ends after the last level of the last round, and says why each step happens', () => {
    let s = startEscalation(p, T);
    const due: number[] = [];
    for (let i = 0; i < 10 && s; i++) {
      due.push((s.dueAtMs - T) / M);
      s = afterStep(p, s)!;
    }
    expect(due).toEqual([15, 30, 45, 60]);
    expect(stepReason(p, 2, formatDuration)).toBe('unacknowledged for 45m (db-oncall: level 1 of 2, round 2 of 2)');
  });
});

function firing(fp: string): AlertTransition {
  return {
    version: 1,
    transitionId: `f-${fp}`,
    kind: 'firing',
    fingerprint: fp,
    ruleId: 'db_down',
    ruleName: 'Database down',
    severity: 'critical',
    labels: { alertname: 'db_down', team: 'db', instance: 'db-1' },
    annotations: {},
    value: 0,
    condition: '< 1',
    atMs: T,
    activeAtMs: T - M,
    firedAtMs: T,
    emittedAtMs: T,
  };
}

function world(silences: CompiledSilence[] = []) {
  const clock = new ManualClock(T);
  const alerts = new InMemoryAlertStore();
  const jobs = new CollectingJobPublisher();
  const history = new InMemoryHistoryStore();
  const ports: DispatchPorts & { history: InMemoryHistoryStore } = { alerts, jobs, routes: fixedRoutes(compileRoutes(ROUTES_DOC, 'routes.yaml')), clock, history, silences: { current: () => Promise.resolve(silences) } };
  const muted = new InMemoryMutedAlertIndex(alerts);
  /** The timers each minute up to `minutes` after T: the sweep's messages dispatched as the alert-events queue would deliver them. */
  const runTimersUntil = async (minutes: number) => {
    while (clock.now() < T + minutes * M) {
      clock.advance(M);
      const published: AlertTransition[] = [];
      await recheckMutedAlerts({ muted, publisher: { publish: (ts) => (published.push(...ts), Promise.resolve()) } }, clock.now());
      for (const t of published) await dispatchTransition(ports, t, { config: DEFAULT_DISPATCH_CONFIG });
    }
  };
  const sent = () => jobs.published.map((j) => `${(clock.now() - T) / M}:${j.receiver}/${j.channel}${j.escalated ? `#${j.escalated.step}` : ''}${j.transition.kind === 'resolved' ? ':resolved' : ''}`);
  return { clock, alerts, jobs, history, ports, runTimersUntil, sent };
}

describe('an escalation timeline (injected clock, the timers each minute)', () => {
  it('notifies each level while unacknowledged, pauses on acknowledgement, starts again when it is taken back, and the resolution reaches every level', async () => {
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    expect(w.jobs.published.map((j) => `${j.receiver}/${j.channel}`)).toEqual(['team/slack']);

    await w.runTimersUntil(14);
    expect(w.jobs.published).toHaveLength(1);
    await w.runTimersUntil(15);
    expect(w.jobs.published.slice(1).map((j) => `${j.receiver}/${j.channel}:${j.escalated?.reason}`)).toEqual(['primary/pagerduty:unacknowledged for 15m (db-oncall: level 1 of 2, round 1 of 2)']);
    await w.runTimersUntil(45);
    expect(w.jobs.published.slice(2).map((j) => `${j.receiver}/${j.channel}#${j.escalated?.step}`)).toEqual(['lead/email#2', 'primary/pagerduty#3']);

    // Acknowledged at 50: the last step (due at 60) does not happen.
    await dispatchAction(w.ports, { version: 1, kind: 'action', action: 'acknowledge', fingerprint: 'fp1', by: 'alice', source: 'slack', atMs: T + 50 * M, requestId: 'a1' }, { config: DEFAULT_DISPATCH_CONFIG });
    const afterAck = w.jobs.published.length;
    await w.runTimersUntil(70);
    expect(w.jobs.published.slice(afterAck).filter((j) => j.escalated)).toEqual([]);

    // Taken back at 70: the policy starts again from its first level, 15 minutes later.
    await dispatchAction(w.ports, { version: 1, kind: 'action', action: 'unacknowledge', fingerprint: 'fp1', by: 'alice', source: 'slack', atMs: T + 70 * M, requestId: 'a2' }, { config: DEFAULT_DISPATCH_CONFIG });
    const afterUnack = w.jobs.published.length;
    await w.runTimersUntil(84);
    expect(w.jobs.published.length).toBe(afterUnack);
    await w.runTimersUntil(85);
    expect(w.jobs.published.slice(afterUnack).map((j) => `${j.receiver}/${j.channel}#${j.escalated?.step}`)).toEqual(['primary/pagerduty#1']);

    // Resolved at 90: every level notified hears of it; nothing escalates after.
    await dispatchTransition(w.ports, { ...firing('fp1'), transitionId: 'r-fp1', kind: 'resolved', atMs: T + 90 * M, resolvedAtMs: T + 90 * M }, { config: DEFAULT_DISPATCH_CONFIG });
    const resolutions = w.jobs.published.filter((j) => j.transition.kind === 'resolved').map((j) => `${j.receiver}/${j.channel}`).sort();
    expect(resolutions).toEqual(['lead/email', 'primary/pagerduty', 'team/slack']);
    expect((await w.alerts.get('fp1'))?.escalating).toBeUndefined();
    const n = w.jobs.published.length;
    await w.runTimersUntil(200);
    expect(w.jobs.published).toHaveLength(n);

    // The history: each step with why.
    const steps = w.history.all().filter((e) => e.kind === 'escalated');
    expect(steps.map((e) => [(e.atMs - T) / M, e.receiver, e.reason])).toEqual([
      [15, 'primary', 'unacknowledged for 15m (db-oncall: level 1 of 2, round 1 of 2)'],
      [30, 'lead', 'unacknowledged for 30m (db-oncall: level 2 of 2, round 1 of 2)'],
      [45, 'primary', 'unacknowledged for 45m (db-oncall: level 1 of 2, round 2 of 2)'],
      [85, 'primary', 'unacknowledged for 15m (db-oncall: level 1 of 2, round 1 of 2)'],
    ]);
    expect(w.history.all().map((e) => e.kind)).toEqual(expect.arrayContaining(['fired', 'notified', 'acknowledged', 'unacknowledged', 'resolved']));
  });

  it('a step message delivered twice notifies once', async () => {
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    w.clock.advance(15 * M);
    const published: AlertTransition[] = [];
    await recheckMutedAlerts({ muted: new InMemoryMutedAlertIndex(w.alerts), publisher: { publish: (ts) => (published.push(...ts), Promise.resolve()) } }, w.clock.now());
    expect(published).toHaveLength(1);
    await dispatchTransition(w.ports, published[0]!, { config: DEFAULT_DISPATCH_CONFIG });
    await dispatchTransition(w.ports, published[0]!, { config: DEFAULT_DISPATCH_CONFIG });
    expect(w.jobs.published.filter((j) => j.escalated)).toHaveLength(1);
  });

  it('a silence that now matches the alert ends its escalation', async () => {
    const silence = validateSilence({ id: 's1', matchers: parseSilenceMatchers(['instance="db-1"']), startsAtMs: T + 5 * M, endsAtMs: T + 600 * M, createdBy: 'bob', comment: 'maintenance', updatedAtMs: T });
    const w = world([silence]);
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    await w.runTimersUntil(60);
    expect(w.jobs.published.filter((j) => j.escalated)).toEqual([]);
    expect((await w.alerts.get('fp1'))?.escalating).toBeUndefined();
  });

  it('a high alert on a route whose policy is for critical ones is not escalated', async () => {
    const w = world();
    await dispatchTransition(w.ports, { ...firing('fp2'), severity: 'high' }, { config: DEFAULT_DISPATCH_CONFIG });
    expect((await w.alerts.get('fp2'))?.escalating).toBeUndefined();
  });
});

describe('an escalation step, rendered', () => {
  it('says it escalated and why on Slack, in the email subject and in PagerDuty', async () => {
    const { renderSlackMessage } = await import('../../shared/core/format/slack.ts');
    const { renderEmail } = await import('../../shared/core/format/email.ts');
    const { renderPagerDutyEvent } = await import('../../shared/core/format/pagerduty.ts');
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    await w.runTimersUntil(30);
    const [pd, email] = w.jobs.published.filter((j) => j.escalated);
    expect(JSON.stringify(renderPagerDutyEvent(pd!, 'R'.repeat(32), { productName: 'Klaxon' }))).toContain('"escalated":"unacknowledged for 15m (db-oncall: level 1 of 2, round 1 of 2)"');
    expect(renderEmail(email!, { productName: 'Klaxon' }).subject).toMatch(/^\[ESCALATED\] \[CRITICAL\]/);
    expect(JSON.stringify(renderSlackMessage({ ...email!, channel: 'slack' }, { productName: 'Klaxon' }))).toContain('CRITICAL (escalated)');
  });
});
