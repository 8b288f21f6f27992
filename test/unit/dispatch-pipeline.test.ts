/**
 * The composed dispatch pipeline on the in-memory ports: what production runs against DynamoDB
 * and SQS (functions/dispatch), run here against Maps, with a clock moved by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  AlertRecordConflictError,
  CollectingJobPublisher,
  decideDispatch,
  DEFAULT_DISPATCH_CONFIG,
  DispatchConflictError,
  dispatchTransition,
  fixedRoutes,
  InMemoryAlertStore,
  type AlertStore,
  type DispatchPorts,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, NotificationJob } from '../../shared/core/model/index.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';

const MIN = 60_000;
const NOW = 1_700_000_000_000;
const routes = compileRoutes(
  {
    receivers: [
      { name: 'db', slack: { channel: 'C0DB' }, pagerduty: { routingKey: 'db' } },
      { name: 'db-pager', pagerduty: { routingKey: 'db-pager' } },
    ],
    routes: [
      { matchers: ['team="db"', 'severity="critical"'], receivers: ['db-pager'] },
      { matchers: ['team="db"'], receivers: ['db'] },
    ],
  },
  'routes.yaml',
  { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'primary' },
);
const options = { config: DEFAULT_DISPATCH_CONFIG };

let seq = 0;
function activation(over: Partial<AlertTransition> = {}, firedAtMs = 10_000_000 + (seq += 1) * 10 * MIN): { firing: AlertTransition; resolved: AlertTransition } {
  const base = {
    version: 1 as const,
    fingerprint: 'fp1',
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'high' as const,
    labels: { alertname: 'cpu', instance: 'web-1' },
    annotations: {},
    value: 95,
    condition: '> 80',
    activeAtMs: firedAtMs - MIN,
    firedAtMs,
    emittedAtMs: firedAtMs,
    ...over,
  };
  return {
    firing: { ...base, transitionId: `f-${base.fingerprint}-${firedAtMs}`, kind: 'firing', atMs: firedAtMs },
    resolved: { ...base, transitionId: `r-${base.fingerprint}-${firedAtMs}`, kind: 'resolved', atMs: firedAtMs + MIN, resolvedAtMs: firedAtMs + MIN },
  };
}

/** The in-memory ports, with the concrete store kept at hand to look at. */
function ports(): DispatchPorts & { jobs: CollectingJobPublisher; store: InMemoryAlertStore; clock: ManualClock } {
  const store = new InMemoryAlertStore();
  return { alerts: store, jobs: new CollectingJobPublisher(), routes: fixedRoutes(routes), clock: new ManualClock(NOW), store };
}

const where = (js: readonly NotificationJob[]): string[] => js.map((j) => `${j.transition.kind}:${j.receiver}:${j.channel}`);

describe('the dispatch pipeline on in-memory ports', () => {
  it('notifies a firing by the severity matrix and its resolution where the firing went, with one read and one write each', async () => {
    const p = ports();
    const a = activation();
    const fired = await dispatchTransition(p, a.firing, options);
    expect(fired.outcome).toBe('dispatched');
    expect(where(p.jobs.published)).toEqual(['firing:default:email', 'firing:default:slack']);
    const resolved = await dispatchTransition(p, a.resolved, options);
    expect(resolved.reason).toBe('resolved');
    expect(where(p.jobs.published.slice(2))).toEqual(['resolved:default:email', 'resolved:default:slack']);
    // Dispatch's whole DynamoDB cost: one GetItem and one conditional write per transition.
    expect({ reads: p.store.reads, writes: p.store.writes }).toEqual({ reads: 2, writes: 2 });
  });

  it('routes on the severity label: a critical db alert pages db-pager, a high one goes to db', async () => {
    const p = ports();
    await dispatchTransition(p, activation({ fingerprint: 'crit', severity: 'critical', labels: { alertname: 'cpu', team: 'db' } }).firing, options);
    await dispatchTransition(p, activation({ fingerprint: 'high', severity: 'high', labels: { alertname: 'cpu', team: 'db' } }).firing, options);
    expect(where(p.jobs.published)).toEqual(['firing:db-pager:pagerduty', 'firing:db:slack']);
  });

  it('routes an escalated alert by its rule severity and notifies it on the escalated channels', async () => {
    const p = ports();
    // Three firings of a high db alert within the hour: the third is raised to critical.
    const acts = [activation({ labels: { alertname: 'cpu', team: 'db' } }), activation({ labels: { alertname: 'cpu', team: 'db' } }), activation({ labels: { alertname: 'cpu', team: 'db' } })];
    let last;
    for (const a of acts) {
      last = await dispatchTransition(p, a.firing, options);
      await dispatchTransition(p, a.resolved, options);
      p.clock.advance(10 * MIN);
    }
    expect(last!.severity).toBe('critical');
    expect(last!.escalation?.from).toBe('high');
    // The route is the one for severity="high" (db), the channels are critical's: Slack and PagerDuty.
    expect(last!.jobs.map((j) => `${j.receiver}:${j.channel}`)).toEqual(['db:slack', 'db:pagerduty']);
  });

  it('decides as decideDispatch does, and explains each stage', async () => {
    const p = ports();
    const a = activation();
    const expected = decideDispatch(undefined, a.firing, routes, DEFAULT_DISPATCH_CONFIG, NOW);
    expect(await dispatchTransition(p, a.firing, options)).toEqual(expected);
    expect(expected.trail.map((n) => `${n.stage}:${n.reason}${n.subject ? `:${n.subject}` : ''}`)).toEqual([
      'dedup:new-alert',
      'route:no-route-matched',
      'inhibit:not-a-target',
      'silence:not-silenced',
      'time-intervals:no-time-intervals',
      'flapping:not-often-enough',
      'lower:no-lowering',
      'channels:severity-matrix',
      'group:ungrouped',
      'throttle:first:default|email',
      'throttle:first:default|slack',
      'record:firing',
    ]);
  });

  it('stops a redelivered transition at dedup: nothing published, nothing written', async () => {
    const p = ports();
    const a = activation();
    await dispatchTransition(p, a.firing, options);
    const again = await dispatchTransition(p, a.firing, options);
    expect(again).toMatchObject({ outcome: 'duplicate', reason: 'duplicate-transition', jobs: [] });
    expect(p.jobs.calls).toBe(1);
    expect(p.store.writes).toBe(1);
  });

  it('holds a repeat within the throttle window and says "+N" on the next notification sent', async () => {
    const p = ports();
    const acts = [activation({ policy: { escalation: { count: 1000, windowMs: 1 } } }), activation({ policy: { escalation: { count: 1000, windowMs: 1 } } })];
    await dispatchTransition(p, acts[0]!.firing, options);
    await dispatchTransition(p, acts[0]!.resolved, options);
    p.clock.advance(MIN);
    const held = await dispatchTransition(p, acts[1]!.firing, options);
    expect(held.jobs).toEqual([]);
    expect(held.suppressed.map((s) => `${s.channel}:${s.count}`)).toEqual(['email:1', 'slack:1']);
    // Its resolution goes nowhere: its firing was not sent.
    expect((await dispatchTransition(p, acts[1]!.resolved, options)).jobs).toEqual([]);
    p.clock.advance(5 * MIN);
    const third = activation({ policy: { escalation: { count: 1000, windowMs: 1 } } });
    const sent = await dispatchTransition(p, third.firing, options);
    expect(sent.jobs.map((j) => j.suppressed?.count)).toEqual([1, 1]);
  });

  it('publishes the same jobs again after a crash between publish and commit, and FIFO deduplication delivers each once', async () => {
    const p = ports();
    const a = activation();
    let crash = true;
    const crashing: AlertStore = {
      get: (fp) => p.store.get(fp),
      commit: async (r, v) => {
        if (crash) {
          crash = false;
          throw new Error('the function died after publishing');
        }
        await p.store.commit(r, v);
      },
    };
    await expect(dispatchTransition({ ...p, alerts: crashing }, a.firing, options)).rejects.toThrow('died');
    expect(p.jobs.calls).toBe(1);
    // Redelivered: decided again from the same (absent) record, the same idempotency keys.
    await dispatchTransition({ ...p, alerts: crashing }, a.firing, options);
    expect(p.jobs.calls).toBe(2);
    expect(where(p.jobs.published)).toEqual(['firing:default:email', 'firing:default:slack']);
    expect(p.store.peek('fp1')?.version).toBe(1);
  });

  it('reads and decides again when another writer committed first, and gives up after maxAttempts', async () => {
    const p = ports();
    const a = activation();
    let raced = false;
    const racing: AlertStore = {
      get: async (fp) => {
        const r = await p.store.get(fp);
        if (!raced) {
          raced = true;
          await dispatchTransition(p, a.firing, options);
        }
        return r;
      },
      commit: (r, v) => p.store.commit(r, v),
    };
    // The second round sees the other writer's record: the same transition, already applied.
    expect((await dispatchTransition({ ...p, alerts: racing }, a.firing, options)).outcome).toBe('duplicate');

    const always: AlertStore = { get: async () => undefined, commit: async () => Promise.reject(new AlertRecordConflictError('changed')) };
    const conflicts: number[] = [];
    await expect(dispatchTransition({ ...p, alerts: always }, activation().firing, { ...options, maxAttempts: 2, onConflict: (n) => conflicts.push(n) })).rejects.toBeInstanceOf(DispatchConflictError);
    expect(conflicts).toEqual([1]);
  });

  it('keeps a Slack thread the Slack channel function wrote (the record stage never drops it)', async () => {
    const p = ports();
    const a = activation();
    // The Slack function was quicker than dispatch's first commit: a thread, no record yet.
    p.store.setSlackThread('fp1', { channel: 'C1', ts: '1.1' });
    expect(await p.store.get('fp1')).toBeUndefined();
    await dispatchTransition(p, a.firing, options);
    p.store.setSlackThread('fp1', { channel: 'C1', ts: '2.2' });
    await dispatchTransition(p, a.resolved, options);
    expect(p.store.peek('fp1')).toMatchObject({ state: 'resolved', version: 2, slackThread: { channel: 'C1', ts: '2.2' } });
  });
});
