import { describe, expect, it } from 'vitest';
import { MAX_RECENT_TRANSITION_IDS, type AlertRecord } from '../../shared/core/dispatch/record/alert-record.ts';
import { decideDispatch, DEFAULT_DISPATCH_CONFIG, type DispatchDecision } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { InvalidTransitionError, parseTransition } from '../../shared/core/dispatch/transition-schema.ts';
import type { AlertTransition, Severity } from '../../shared/core/model/index.ts';

const MIN = 60_000;
const NOW = 1_700_000_000_000;
const routes = compileRoutes(
  {
    receivers: [{ name: 'db', slack: { channel: 'C0DB' }, pagerduty: { routingKey: 'db' } }],
    routes: [{ matchers: ['team="db"'], receivers: ['db'] }],
  },
  'routes.yaml',
  { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'primary' },
);

function firing(firedAtMs: number, over: Partial<AlertTransition> = {}): AlertTransition {
  return {
    version: 1,
    transitionId: `fire-${firedAtMs}`,
    kind: 'firing',
    fingerprint: 'fp1',
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'critical',
    labels: { alertname: 'CPU high', instance: 'web-1' },
    annotations: { summary: 'CPU is high' },
    value: 97,
    condition: 'avg_over_time(5m) > 80',
    atMs: firedAtMs,
    activeAtMs: firedAtMs - MIN,
    firedAtMs,
    emittedAtMs: firedAtMs + 10,
    ...over,
  };
}

function resolved(firedAtMs: number, atMs: number, over: Partial<AlertTransition> = {}): AlertTransition {
  return { ...firing(firedAtMs), transitionId: `res-${firedAtMs}-${atMs}`, kind: 'resolved', atMs, resolvedAtMs: atMs, ...over };
}

/** Applies transitions in order, committing each decision's record as dispatch would. */
function apply(ts: AlertTransition[], start?: AlertRecord, now = NOW): { record: AlertRecord | undefined; decisions: DispatchDecision[] } {
  let record = start;
  const decisions: DispatchDecision[] = [];
  for (const t of ts) {
    const d = decideDispatch(record, t, routes, DEFAULT_DISPATCH_CONFIG, now);
    decisions.push(d);
    if (d.outcome === 'dispatched') record = d.record;
  }
  return { record, decisions };
}

const T0 = 10_000_000;

describe('dispatch decision', () => {
  describe('a new firing', () => {
    const d = decideDispatch(undefined, firing(T0), routes, DEFAULT_DISPATCH_CONFIG, NOW);

    it('creates the record at version 1 with the alert state', () => {
      expect(d.outcome).toBe('dispatched');
      expect(d.reason).toBe('firing');
      expect(d.record).toMatchObject({
        fingerprint: 'fp1',
        version: 1,
        state: 'firing',
        severity: 'critical',
        effectiveSeverity: 'critical',
        startsAtMs: T0,
        activeAtMs: T0 - MIN,
        fireCount: 1,
        fireTimesMs: [T0],
        lastTransition: { id: `fire-${T0}`, kind: 'firing', atMs: T0 },
        labels: { alertname: 'CPU high', instance: 'web-1' },
        annotations: { summary: 'CPU is high' },
        updatedAtMs: NOW,
      });
      expect(d.record.endsAtMs).toBeUndefined();
    });

    it('makes one job per channel with the idempotency key transitionId:receiver:channel', () => {
      expect(d.jobs.map((j) => j.idempotencyKey)).toEqual([`fire-${T0}:default:email`, `fire-${T0}:default:slack`, `fire-${T0}:default:pagerduty`]);
      const pd = d.jobs.find((j) => j.channel === 'pagerduty')!;
      expect(pd).toEqual({
        version: 1,
        idempotencyKey: `fire-${T0}:default:pagerduty`,
        channel: 'pagerduty',
        receiver: 'default',
        destination: { kind: 'pagerduty', routingKeyName: 'primary' },
        destinationId: 'pagerduty:primary',
        transition: firing(T0),
        severity: 'critical',
        fireCount: 1,
      });
    });

    it('records, per receiver and channel, that the firing was sent', () => {
      expect(Object.keys(d.record.deliveries).sort()).toEqual(['default|email', 'default|pagerduty', 'default|slack']);
      expect(d.record.deliveries['default|slack']).toMatchObject({ lastSentAtMs: NOW, suppressedCount: 0, notifiedFiredAtMs: T0, destinationId: 'slack:webhook:default' });
    });

    it('is deterministic: the same record and transition give the same jobs (a redelivery after a crash)', () => {
      expect(decideDispatch(undefined, firing(T0), routes, DEFAULT_DISPATCH_CONFIG, NOW)).toEqual(d);
    });

    it('routes by labels', () => {
      const db = decideDispatch(undefined, firing(T0, { labels: { alertname: 'X', team: 'db' } }), routes, DEFAULT_DISPATCH_CONFIG, NOW);
      expect(db.jobs.map((j) => `${j.receiver}:${j.channel}:${j.destinationId}`)).toEqual(['db:slack:slack:channel:C0DB', 'db:pagerduty:pagerduty:db']);
      expect(db.routes).toEqual(['routes[0]']);
    });

    it('records a low alert without notifying (unrouted)', () => {
      const low = decideDispatch(undefined, firing(T0, { severity: 'low' }), routes, DEFAULT_DISPATCH_CONFIG, NOW);
      expect(low.outcome).toBe('dispatched');
      expect(low.jobs).toEqual([]);
      expect(low.unrouted).toBe(true);
      expect(low.record.fireCount).toBe(1);
    });
  });

  describe('stale and duplicate transitions', () => {
    const { record } = apply([firing(T0), resolved(T0, T0 + 5 * MIN), firing(T0 + 10 * MIN)]);
    it.each<[string, AlertTransition, 'stale' | 'duplicate', string]>([
      // the very same transition again (SQS redelivery, evaluator replay)
      ['redelivered firing', firing(T0 + 10 * MIN), 'duplicate', 'duplicate-transition'],
      // an older transition id still remembered
      ['redelivered older resolution', resolved(T0, T0 + 5 * MIN), 'duplicate', 'duplicate-transition'],
      // an older event time than the record holds (reordered)
      ['older event time', firing(T0 + 9 * MIN, { transitionId: 'other' }), 'stale', 'older-than-record'],
      // a resolution of the previous activation arriving late, with a later atMs
      ['resolution of an older activation', resolved(T0, T0 + 11 * MIN, { transitionId: 'late-res' }), 'stale', 'older-activation'],
      // the same activation reported firing again under another id (evaluator and timers both)
      ['same activation firing again', firing(T0 + 10 * MIN, { transitionId: 'again', atMs: T0 + 10 * MIN + 1 }), 'stale', 'already-firing'],
    ])('%s is dropped', (_name, t, outcome, reason) => {
      const d = decideDispatch(record, t, routes, DEFAULT_DISPATCH_CONFIG, NOW);
      expect(d.outcome).toBe(outcome);
      expect(d.reason).toBe(reason);
      expect(d.jobs).toEqual([]);
      // Nothing to write: the record is returned as read.
      expect(d.record).toBe(record);
    });

    it('drops a second resolution of an already resolved activation', () => {
      const { decisions } = apply([firing(T0), resolved(T0, T0 + MIN), resolved(T0, T0 + 2 * MIN, { transitionId: 'timer-res' })]);
      expect(decisions.map((d) => d.reason)).toEqual(['firing', 'resolved', 'already-resolved']);
    });

    it('forgets transition ids beyond its bound, but still drops them as older', () => {
      const ts = Array.from({ length: MAX_RECENT_TRANSITION_IDS + 4 }, (_, i) => firing(T0 + i * 2 * MIN));
      const all: AlertTransition[] = ts.flatMap((f, i) => [f, resolved(f.firedAtMs, T0 + i * 2 * MIN + MIN)]);
      const { record: r } = apply(all);
      expect(r!.recentTransitionIds).toHaveLength(MAX_RECENT_TRANSITION_IDS);
      expect(decideDispatch(r, ts[0]!, routes, DEFAULT_DISPATCH_CONFIG, NOW).outcome).toBe('stale');
    });
  });

  describe('resolution', () => {
    it('goes wherever the firing was sent, with the firing severity', () => {
      const { decisions, record } = apply([firing(T0), resolved(T0, T0 + 5 * MIN)]);
      const r = decisions[1]!;
      expect(r.reason).toBe('resolved');
      expect(r.jobs.map((j) => [j.channel, j.idempotencyKey, j.severity])).toEqual([
        ['email', `res-${T0}-${T0 + 5 * MIN}:default:email`, 'critical'],
        ['slack', `res-${T0}-${T0 + 5 * MIN}:default:slack`, 'critical'],
        ['pagerduty', `res-${T0}-${T0 + 5 * MIN}:default:pagerduty`, 'critical'],
      ]);
      expect(record).toMatchObject({ state: 'resolved', endsAtMs: T0 + 5 * MIN, version: 2, fireCount: 1 });
    });

    it('goes to the destination the firing used even when the routes changed since', () => {
      const { record } = apply([firing(T0, { labels: { team: 'db' } })]);
      const noRoutes = compileRoutes(undefined, 'x');
      const r = decideDispatch(record, resolved(T0, T0 + MIN, { labels: { team: 'db' } }), noRoutes, DEFAULT_DISPATCH_CONFIG, NOW);
      expect(r.jobs.map((j) => j.destinationId)).toEqual(['slack:channel:C0DB', 'pagerduty:db']);
    });

    it('goes nowhere when the firing was never seen, but is recorded', () => {
      const d = decideDispatch(undefined, resolved(T0, T0 + MIN), routes, DEFAULT_DISPATCH_CONFIG, NOW);
      expect(d).toMatchObject({ outcome: 'dispatched', reason: 'firing-not-seen', jobs: [] });
      expect(d.record.state).toBe('resolved');
    });

    it('goes nowhere for a low alert (its firing was not sent)', () => {
      const { decisions } = apply([firing(T0, { severity: 'low' }), resolved(T0, T0 + MIN, { severity: 'low' })]);
      expect(decisions[1]!.jobs).toEqual([]);
    });
  });

  describe('escalation', () => {
    it('raises the third firing within an hour one level, and routes by the raised severity', () => {
      const ts = [0, 10, 20].flatMap((m) => [firing(T0 + m * MIN, { severity: 'high' }), resolved(T0 + m * MIN, T0 + (m + 1) * MIN, { severity: 'high' })]);
      // Critical has no throttle window, so the raised severity also sends at once.
      const { decisions } = apply(ts);
      const third = decisions[4]!;
      expect(third.severity).toBe('critical');
      expect(third.jobs.map((j) => j.channel)).toEqual(['email', 'slack', 'pagerduty']);
      expect(third.jobs[0]).toMatchObject({ severity: 'critical', escalation: { from: 'high', reason: 'fired 3 times in the last 1h' }, fireCount: 3 });
      expect(third.record).toMatchObject({ severity: 'high', effectiveSeverity: 'critical', escalation: { from: 'high' } });
      // The resolution speaks of the escalated alert too.
      expect(decisions[5]!.jobs.map((j) => [j.severity, j.escalation?.from])).toContainEqual(['critical', 'high']);
    });
  });

  it('keeps the Slack thread the Slack function wrote', () => {
    const { record } = apply([firing(T0)]);
    const withThread: AlertRecord = { ...record!, slackThread: { channel: 'C1', ts: '1.2' } };
    const d = decideDispatch(withThread, resolved(T0, T0 + MIN), routes, DEFAULT_DISPATCH_CONFIG, NOW);
    expect(d.record.slackThread).toEqual({ channel: 'C1', ts: '1.2' });
  });

  it('counts firings over the life of the record', () => {
    const ts = [0, 120, 240].flatMap((m) => [firing(T0 + m * MIN, { severity: 'medium' }), resolved(T0 + m * MIN, T0 + (m + 1) * MIN, { severity: 'medium' })]);
    const { record } = apply(ts);
    expect(record).toMatchObject({ fireCount: 3, version: 6, fireTimesMs: [T0, T0 + 120 * MIN, T0 + 240 * MIN] });
  });
});

describe('transition parsing', () => {
  it('accepts a valid transition', () => {
    expect(parseTransition(JSON.stringify(firing(T0)))).toEqual(firing(T0));
  });

  it.each<[string, string, RegExp]>([
    // not JSON at all
    ['garbage', '{nope', /not JSON/],
    // a wrong kind
    ['bad kind', JSON.stringify({ ...firing(T0), kind: 'pending' }), /kind: /],
    // an unknown severity
    ['bad severity', JSON.stringify({ ...firing(T0), severity: 'urgent' as Severity }), /severity: /],
    // a missing fingerprint
    ['no fingerprint', JSON.stringify({ ...firing(T0), fingerprint: undefined }), /fingerprint: /],
    // a future message version
    ['version 2', JSON.stringify({ ...firing(T0), version: 2 }), /version: /],
  ])('rejects %s with a reason naming the field', (_name, body, re) => {
    expect(() => parseTransition(body)).toThrow(InvalidTransitionError);
    expect(() => parseTransition(body)).toThrow(re);
  });
});
