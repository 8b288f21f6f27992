/**
 * Acknowledgements in dispatch (shared/core/dispatch/ack, shared/core/lifecycle/action.ts): the
 * lifecycle's decisions as a table, then an action message applied to a record dispatch wrote
 * (in-memory ports): kept on the record for its activation, recorded in the history, told to Slack
 * (message updated in place) and PagerDuty (acknowledge), never looped back to PagerDuty; and how
 * the channels render it.
 */
import { describe, expect, it } from 'vitest';
import { decideAction, lifecycleStateOf, parseActionMessage, InvalidActionError, type ActionMessage, type AckableRecord } from '../../shared/core/lifecycle/action.ts';
import { CollectingJobPublisher, DEFAULT_DISPATCH_CONFIG, dispatchAction, dispatchTransition, fixedRoutes, InMemoryAlertStore, type DispatchPorts } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import { InMemoryHistoryStore } from '../../shared/core/history/types.ts';
import type { AlertTransition } from '../../shared/core/model/index.ts';
import { renderPagerDutyEvent } from '../../shared/core/format/pagerduty.ts';
import { renderSlackMessage, renderSlackThreadReply } from '../../shared/core/format/slack.ts';

const T = Date.UTC(2026, 10, 30, 9, 0, 0);
const M = 60_000;

describe('decideAction (the lifecycle)', () => {
  const firing: AckableRecord = { state: 'firing', startsAtMs: T };
  const acked: AckableRecord = { ...firing, ack: { by: 'alice', atMs: T + M, source: 'slack' } };
  const act = (action: 'acknowledge' | 'unacknowledge', firedAtMs?: number) => ({ action, by: 'bob', source: 'slack' as const, atMs: T + 2 * M, ...(firedAtMs !== undefined ? { firedAtMs } : {}) });
  it.each<[string, AckableRecord | undefined, ReturnType<typeof act>, string]>([
    // A firing alert is acknowledged; the record keeps who, when, from where.
    ['acknowledge a firing alert', firing, act('acknowledge'), 'ok:bob'],
    ['acknowledge the activation the person saw', firing, act('acknowledge', T), 'ok:bob'],
    // The button of an older message: that activation resolved and a new one fired since.
    ['acknowledge an older activation', firing, act('acknowledge', T - M), 'stale-activation'],
    ['acknowledge twice', acked, act('acknowledge'), 'already-acknowledged'],
    ['acknowledge a resolved alert', { state: 'resolved', startsAtMs: T }, act('acknowledge'), 'not-firing'],
    ['acknowledge an alert dispatch never saw', undefined, act('acknowledge'), 'unknown-alert'],
    ['take an acknowledgement back', acked, act('unacknowledge'), 'ok:none'],
    ['take back what nobody acknowledged', firing, act('unacknowledge'), 'not-acknowledged'],
  ])('%s', (_what, record, a, expected) => {
    const d = decideAction(record, a);
    expect(d.ok ? `ok:${d.ack?.by ?? 'none'}` : d.refusal).toBe(expected);
  });

  it.each<[AckableRecord, string]>([
    [{ state: 'firing', startsAtMs: T }, 'firing'],
    [{ state: 'firing', startsAtMs: T, ack: { by: 'a', atMs: T, source: 'cli' } }, 'acknowledged'],
    [{ state: 'resolved', startsAtMs: T, ack: { by: 'a', atMs: T, source: 'cli' } }, 'resolved'],
  ])('lifecycle state of %j is %s', (r, s) => {
    expect(lifecycleStateOf(r)).toBe(s);
  });

  it('refuses a malformed action message, naming the field', () => {
    expect(() => parseActionMessage({ version: 1, kind: 'action', action: 'snooze', fingerprint: 'x', by: 'a', source: 'slack', atMs: 1, requestId: 'r' })).toThrow(InvalidActionError);
    expect(() => parseActionMessage({ version: 1, kind: 'action', action: 'acknowledge', fingerprint: 'x', by: '', source: 'slack', atMs: 1, requestId: 'r' })).toThrow(/by:/);
  });
});

const ROUTES = compileRoutes(
  {
    receivers: [{ name: 'db', slack: { channel: 'C0DB' }, pagerduty: { routingKey: 'db' }, email: { to: ['db@example.com'] } }],
    routes: [{ matchers: ['team="db"'], receivers: ['db'] }],
  },
  'routes.yaml',
);

function firing(fp: string, firedAtMs = T): AlertTransition {
  return {
    version: 1,
    transitionId: `f-${fp}-${firedAtMs}`,
    kind: 'firing',
    fingerprint: fp,
    ruleId: 'db_down',
    ruleName: 'Database down',
    severity: 'critical',
    labels: { alertname: 'db_down', team: 'db', instance: 'db-1' },
    annotations: { summary: 'db-1 is down' },
    value: 0,
    condition: '< 1',
    atMs: firedAtMs,
    activeAtMs: firedAtMs - M,
    firedAtMs,
    emittedAtMs: firedAtMs,
  };
}

function world() {
  const clock = new ManualClock(T);
  const alerts = new InMemoryAlertStore();
  const jobs = new CollectingJobPublisher();
  const history = new InMemoryHistoryStore();
  const ports: DispatchPorts & { history: InMemoryHistoryStore } = { alerts, jobs, routes: fixedRoutes(ROUTES), clock, history };
  const action = (over: Partial<ActionMessage> = {}): ActionMessage => ({ version: 1, kind: 'action', action: 'acknowledge', fingerprint: 'fp1', by: '<@U123> (alice)', source: 'slack', atMs: T + 5 * M, requestId: 'r1', ...over });
  return { clock, alerts, jobs, history, ports, action };
}

describe('an acknowledgement through dispatch', () => {
  it('keeps who and when on the record, updates Slack, acknowledges PagerDuty (not email), and records the history', async () => {
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    expect(w.jobs.published.map((j) => j.channel).sort()).toEqual(['email', 'pagerduty', 'slack']);
    w.clock.advance(5 * M);
    const out = await dispatchAction(w.ports, w.action(), { config: DEFAULT_DISPATCH_CONFIG });
    expect(out.applied).toBe(true);
    const record = await w.alerts.get('fp1');
    expect(record?.ack).toEqual({ by: '<@U123> (alice)', atMs: T + 5 * M, source: 'slack' });
    const ackJobs = w.jobs.published.slice(3);
    expect(ackJobs.map((j) => `${j.channel}:${j.ack?.state}`).sort()).toEqual(['pagerduty:acknowledged', 'slack:acknowledged']);
    // Rendered: PagerDuty acknowledges the incident of the alert's dedup key; Slack says who.
    const pd = ackJobs.find((j) => j.channel === 'pagerduty')!;
    expect(renderPagerDutyEvent(pd, 'R'.repeat(32), { productName: 'Klaxon' })).toEqual({ routing_key: 'R'.repeat(32), event_action: 'acknowledge', dedup_key: 'fp1' });
    const slack = ackJobs.find((j) => j.channel === 'slack')!;
    expect(JSON.stringify(renderSlackMessage(slack, { productName: 'Klaxon' }))).toContain(':raised_hand: Acknowledged by <@U123> (alice) at 2026-11-30 09:05 UTC, from slack');
    expect(renderSlackThreadReply(slack, { productName: 'Klaxon' }).attachments![0]!.blocks![0]).toMatchObject({ text: { text: expect.stringContaining('Acknowledged by <@U123>') } });
    expect(w.history.all().filter((e) => e.kind === 'acknowledged')).toEqual([expect.objectContaining({ kind: 'acknowledged', fingerprint: 'fp1', firedAtMs: T, by: '<@U123> (alice)', reason: 'from slack', atMs: T + 5 * M, severity: 'critical' })]);
  });

  it('the same action message again (a redelivery) is refused and publishes nothing more', async () => {
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    await dispatchAction(w.ports, w.action(), { config: DEFAULT_DISPATCH_CONFIG });
    const n = w.jobs.published.length;
    const again = await dispatchAction(w.ports, w.action(), { config: DEFAULT_DISPATCH_CONFIG });
    expect(again).toEqual({ applied: false, refusal: 'already-acknowledged' });
    expect(w.jobs.published).toHaveLength(n);
  });

  it('an acknowledgement from PagerDuty is not sent back to PagerDuty (no loop); Slack is told', async () => {
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    await dispatchAction(w.ports, w.action({ source: 'pagerduty', by: 'Alice (PagerDuty)' }), { config: DEFAULT_DISPATCH_CONFIG });
    expect(w.jobs.published.slice(3).map((j) => j.channel)).toEqual(['slack']);
  });

  it('taking it back clears the record, tells Slack only, and a new activation starts unacknowledged', async () => {
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    await dispatchAction(w.ports, w.action(), { config: DEFAULT_DISPATCH_CONFIG });
    const n = w.jobs.published.length;
    const out = await dispatchAction(w.ports, w.action({ action: 'unacknowledge', requestId: 'r2' }), { config: DEFAULT_DISPATCH_CONFIG });
    expect(out.applied).toBe(true);
    expect((await w.alerts.get('fp1'))?.ack).toBeUndefined();
    expect(w.jobs.published.slice(n).map((j) => `${j.channel}:${j.ack?.state}`)).toEqual(['slack:unacknowledged']);
    // Acknowledged again, then it resolves and fires anew: the new activation is not acknowledged.
    await dispatchAction(w.ports, w.action({ requestId: 'r3' }), { config: DEFAULT_DISPATCH_CONFIG });
    await dispatchTransition(w.ports, { ...firing('fp1'), transitionId: 'r-fp1', kind: 'resolved', atMs: T + 20 * M, resolvedAtMs: T + 20 * M }, { config: DEFAULT_DISPATCH_CONFIG });
    expect((await w.alerts.get('fp1'))?.ack?.by).toBe('<@U123> (alice)');
    await dispatchTransition(w.ports, firing('fp1', T + 30 * M), { config: DEFAULT_DISPATCH_CONFIG });
    expect((await w.alerts.get('fp1'))?.ack).toBeUndefined();
    expect((await dispatchAction(w.ports, w.action({ requestId: 'r4', firedAtMs: T }), { config: DEFAULT_DISPATCH_CONFIG })).applied).toBe(false);
  });
});

describe('a note (PagerDuty resolved or escalated the incident)', () => {
  it('is posted in the Slack thread of the alert and recorded, changing nothing of its state', async () => {
    const { dispatchNote } = await import('../../shared/core/dispatch/pipeline.ts');
    const w = world();
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    const before = await w.alerts.get('fp1');
    const out = await dispatchNote(w.ports, { version: 1, kind: 'action', action: 'note', fingerprint: 'fp1', text: 'Resolved in PagerDuty by Alice <script>', by: 'Alice (PagerDuty)', source: 'pagerduty', atMs: T + 9 * M, requestId: 'ev1' });
    expect(out.posted).toBe(true);
    const [job] = w.jobs.published.slice(3);
    expect(job).toMatchObject({ channel: 'slack', note: { text: 'Resolved in PagerDuty by Alice <script>' } });
    // Escaped for mrkdwn.
    expect(JSON.stringify(renderSlackThreadReply(job!, { productName: 'Klaxon' }))).toContain('Resolved in PagerDuty by Alice &lt;script&gt;');
    expect(await w.alerts.get('fp1')).toEqual(before);
    expect(w.history.all().filter((e) => e.kind === 'noted').map((e) => e.reason)).toEqual(['Resolved in PagerDuty by Alice <script>']);
    expect(await dispatchNote(w.ports, { version: 1, kind: 'action', action: 'note', fingerprint: 'nope', text: 'x', by: 'a', source: 'pagerduty', atMs: T, requestId: 'ev2' })).toEqual({ posted: false, reason: 'unknown-alert' });
  });
});

describe('the history survives a crash before the commit', () => {
  it('a transition whose commit failed is decided again and its events are written once, none lost', async () => {
    const w = world();
    const commit = w.alerts.commit.bind(w.alerts);
    let crash = true;
    w.alerts.commit = async (r, v) => {
      if (crash) {
        crash = false;
        throw new Error('the function died before its commit');
      }
      return commit(r, v);
    };
    await expect(dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG })).rejects.toThrow(/died/);
    // Written before the commit: already there.
    expect(w.history.all().map((e) => e.kind)).toContain('fired');
    // The message comes again: the same events, once each.
    await dispatchTransition(w.ports, firing('fp1'), { config: DEFAULT_DISPATCH_CONFIG });
    const kinds = w.history.all().map((e) => `${e.kind}:${e.channel ?? ''}`).sort();
    expect(kinds).toEqual(['fired:', 'notified:email', 'notified:pagerduty', 'notified:slack']);
  });
});
