/**
 * The dispatch stages' pure decisions, one table each (docs/design.md, "The notification
 * pipeline"), and the declared order of the pipeline.
 */
import { describe, expect, it } from 'vitest';
import {
  decideDedup,
  decideFlapping,
  decideFiringChannels,
  decideResolvedChannels,
  decideResolvedSeverity,
  decideRoute,
  DEFAULT_DISPATCH_CONFIG,
  DISPATCH_PIPELINE,
  nextRecord,
  startContext,
  type AlertRecord,
  type DedupReason,
  type DeliveryState,
  type RoutingConfig,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, Labels, Severity } from '../../shared/core/model/index.ts';
import { severityOfLabels, withSeverityLabel } from '../../shared/core/model/severity.ts';
import { stageNames } from '../../shared/core/pipeline/stage.ts';

const MIN = 60_000;
const NOW = 1_700_000_000_000;
const T0 = 10_000_000;

const routes: RoutingConfig = compileRoutes(
  {
    receivers: [
      { name: 'db', slack: { channel: 'C0DB' }, pagerduty: { routingKey: 'db' } },
      { name: 'pager', pagerduty: { routingKey: 'pager' } },
      { name: 'audit', slack: { webhook: 'audit' }, severities: { low: ['slack'], medium: ['slack'], high: ['slack'], critical: ['slack'] } },
    ],
    routes: [
      { matchers: ['env="prod"'], receivers: ['audit'], continue: true },
      { matchers: ['severity="critical"', 'team="db"'], receivers: ['pager'] },
      { matchers: ['team="db"'], receivers: ['db'] },
    ],
  },
  'routes.yaml',
  { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'primary' },
);

function transition(kind: 'firing' | 'resolved', over: Partial<AlertTransition> = {}): AlertTransition {
  const firedAtMs = over.firedAtMs ?? T0;
  const atMs = kind === 'firing' ? firedAtMs : firedAtMs + MIN;
  return {
    version: 1,
    transitionId: `${kind}-${firedAtMs}`,
    kind,
    fingerprint: 'fp1',
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'high',
    labels: { alertname: 'cpu', team: 'db' },
    annotations: {},
    value: 97,
    condition: '> 80',
    atMs,
    activeAtMs: firedAtMs - MIN,
    firedAtMs,
    ...(kind === 'resolved' ? { resolvedAtMs: atMs } : {}),
    emittedAtMs: atMs,
    ...over,
  };
}

const delivery = (receiver: string, channel: 'slack' | 'email' | 'pagerduty', notifiedFiredAtMs: number | undefined): DeliveryState => ({
  receiver,
  channel,
  destination: channel === 'slack' ? { kind: 'slack', channel: 'C0DB' } : channel === 'email' ? { kind: 'email', to: ['a@example.com'] } : { kind: 'pagerduty', routingKeyName: 'db' },
  destinationId: `${channel}:x`,
  lastSentAtMs: NOW - MIN,
  suppressedCount: 0,
  ...(notifiedFiredAtMs !== undefined ? { notifiedFiredAtMs } : {}),
});

function record(over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    fingerprint: 'fp1',
    version: 3,
    state: 'firing',
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity: 'high',
    effectiveSeverity: 'high',
    labels: { alertname: 'cpu', team: 'db' },
    annotations: {},
    activeAtMs: T0 - MIN,
    startsAtMs: T0,
    fireCount: 2,
    fireTimesMs: [T0 - 30 * MIN, T0],
    lastTransition: { id: `firing-${T0}`, kind: 'firing', atMs: T0 },
    recentTransitionIds: [`firing-${T0}`],
    deliveries: {},
    updatedAtMs: NOW - MIN,
    ...over,
  };
}

describe('the dispatch pipeline', () => {
  it('is declared in this order (docs/design.md, "The notification pipeline")', () => {
    expect(stageNames(DISPATCH_PIPELINE)).toEqual(['dedup', 'route', 'inhibit', 'silence', 'time-intervals', 'flapping', 'lower', 'channels', 'group', 'throttle', 'record', 'publish', 'remediate', 'group-sync', 'inhibit-sync', 'history', 'commit']);
  });

  it('acts only after deciding: publish, the remediation request, the group members, the inhibit items, then commit', () => {
    expect(DISPATCH_PIPELINE.filter((s) => s.kind === 'effect').map((s) => s.name)).toEqual(['publish', 'remediate', 'group-sync', 'inhibit-sync', 'history', 'commit']);
  });
});

describe('severity is a label', () => {
  it.each<[string, Labels, Severity, Labels]>([
    // the label is added
    ['added', { alertname: 'cpu' }, 'high', { alertname: 'cpu', severity: 'high' }],
    // a rule that wrote labels.severity already has it: unchanged
    ['already there', { alertname: 'cpu', severity: 'low' }, 'low', { alertname: 'cpu', severity: 'low' }],
    // a series label named severity is overridden by the alert's severity (as rule labels override series labels)
    ['series label overridden', { alertname: 'cpu', severity: 'info' }, 'critical', { alertname: 'cpu', severity: 'critical' }],
  ])('%s', (_name, labels, severity, expected) => {
    expect(withSeverityLabel(labels, severity)).toEqual(expected);
  });

  it.each<[Labels, Severity | undefined]>([
    // a severity label
    [{ severity: 'medium' }, 'medium'],
    // none
    [{ alertname: 'x' }, undefined],
    // a label that is not one of the four
    [{ severity: 'warning' }, undefined],
  ])('reads the severity of %j', (labels, expected) => {
    expect(severityOfLabels(labels)).toBe(expected);
  });
});

describe('dedup', () => {
  it.each<[string, AlertRecord | undefined, AlertTransition, 'apply' | 'duplicate' | 'stale', DedupReason]>([
    // no record: the alert's first transition
    ['first transition', undefined, transition('firing'), 'apply', 'new-alert'],
    // a redelivered transition id
    ['redelivered', record(), transition('firing'), 'duplicate', 'duplicate-transition'],
    // older event time than the record's last transition
    ['older than the record', record({ lastTransition: { id: 'x', kind: 'firing', atMs: T0 + MIN } }), transition('firing', { transitionId: 'new' }), 'stale', 'older-than-record'],
    // the same activation firing again (a new transition id for the same firing)
    ['already firing', record(), transition('firing', { transitionId: 'other' }), 'stale', 'already-firing'],
    // a firing of an older activation
    ['older activation firing', record({ startsAtMs: T0 + MIN, lastTransition: { id: 'x', kind: 'firing', atMs: T0 - MIN } }), transition('firing', { transitionId: 'other' }), 'stale', 'older-activation'],
    // a resolution of an older activation
    ['older activation resolved', record({ startsAtMs: T0 + 2 * MIN, lastTransition: { id: 'x', kind: 'firing', atMs: T0 } }), transition('resolved'), 'stale', 'older-activation'],
    // a second resolution of the activation the record holds resolved
    ['already resolved', record({ state: 'resolved', lastTransition: { id: 'x', kind: 'resolved', atMs: T0 + MIN } }), transition('resolved', { transitionId: 'other' }), 'stale', 'already-resolved'],
    // the resolution of the firing the record holds
    ['resolution', record(), transition('resolved'), 'apply', 'new-transition'],
    // a new activation after a resolution
    ['new activation', record({ state: 'resolved' }), transition('firing', { firedAtMs: T0 + 10 * MIN }), 'apply', 'new-transition'],
  ])('%s', (_name, rec, t, verdict, reason) => {
    expect(decideDedup(rec, t)).toEqual({ verdict, reason });
  });
});

describe('route', () => {
  const labelsOf = (t: AlertTransition): Labels => withSeverityLabel(t.labels, t.severity);
  it.each<[string, AlertTransition, AlertRecord | undefined, string, string[], string[]]>([
    // team=db, high: the db route (the critical-only pager route does not match the severity label)
    ['by labels', transition('firing'), undefined, 'matched', ['routes[2]'], ['db']],
    // the same alert at critical: its severity label picks the pager route first
    ['by the severity label', transition('firing', { severity: 'critical' }), undefined, 'matched', ['routes[1]'], ['pager']],
    // continue: the prod audit route, then the db route
    ['continue', transition('firing', { labels: { alertname: 'cpu', team: 'db', env: 'prod' } }), undefined, 'matched', ['routes[0]', 'routes[2]'], ['audit', 'db']],
    // nothing matches: the root receiver
    ['no route', transition('firing', { labels: { alertname: 'cpu' } }), undefined, 'no-route-matched', ['root'], ['default']],
    // a resolution is not routed again: it follows its firing
    ['resolution', transition('resolved'), record(), 'follows-firing', [], []],
    // a resolution of an activation the record does not hold
    ['resolution not seen', transition('resolved'), undefined, 'firing-not-seen', [], []],
  ])('%s', (_name, t, rec, reason, paths, receivers) => {
    const d = decideRoute(t, labelsOf(t), rec, routes);
    expect(d.reason).toBe(reason);
    expect(d.routes.map((r) => r.path)).toEqual(paths);
    expect(d.receivers.map((r) => r.name)).toEqual(receivers);
  });
});

describe('flapping', () => {
  it.each<[string, Severity, number[], number, { count: number; windowMs: number }, string, Severity]>([
    // the third firing within the hour: raised
    ['fired often', 'medium', [0, 10 * MIN], 20 * MIN, { count: 3, windowMs: 60 * MIN }, 'fired-often', 'high'],
    // below the count
    ['not often enough', 'medium', [0], 20 * MIN, { count: 3, windowMs: 60 * MIN }, 'not-often-enough', 'medium'],
    // critical has nowhere to go
    ['already critical', 'critical', [0, 10 * MIN], 20 * MIN, { count: 3, windowMs: 60 * MIN }, 'already-critical', 'critical'],
    // a policy of count 0 switches escalation off
    ['disabled', 'low', [0, 1, 2, 3], 4, { count: 0, windowMs: 60 * MIN }, 'disabled', 'low'],
  ])('%s', (_name, severity, times, at, policy, reason, expected) => {
    const d = decideFlapping(severity, times, at, policy);
    expect(d.reason).toBe(reason);
    expect(d.severity).toBe(expected);
  });

  it.each<[string, AlertRecord | undefined, string, Severity, boolean]>([
    // the resolution repeats its firing's escalated severity and reason
    ['as firing', record({ effectiveSeverity: 'critical', escalation: { from: 'high', reason: 'fired 3 times in the last 1h' } }), 'as-firing', 'critical', true],
    // its firing never reached dispatch: the rule's severity, no escalation
    ['not seen', undefined, 'firing-not-seen', 'high', false],
  ])('a resolution: %s', (_name, rec, reason, severity, escalated) => {
    const d = decideResolvedSeverity(rec, transition('resolved'));
    expect(d.reason).toBe(reason);
    expect(d.severity).toBe(severity);
    expect(d.escalation !== undefined).toBe(escalated);
  });
});

describe('channels', () => {
  it.each<[string, string[], Severity, string, string[]]>([
    // high: the default receiver's email and Slack
    ['high', ['default'], 'high', 'severity-matrix', ['default:email', 'default:slack']],
    // critical: email, Slack and PagerDuty
    ['critical', ['default'], 'critical', 'severity-matrix', ['default:email', 'default:slack', 'default:pagerduty']],
    // low: recorded only
    ['low', ['default'], 'low', 'no-channel-for-severity', []],
    // a receiver's own matrix row (audit: Slack for every severity) and a receiver without email
    ['receiver rows', ['audit', 'db'], 'low', 'severity-matrix', ['audit:slack']],
    // medium to a receiver with Slack and PagerDuty: Slack only
    ['medium', ['db'], 'medium', 'severity-matrix', ['db:slack']],
  ])('a firing: %s', (_name, receivers, severity, reason, targets) => {
    const d = decideFiringChannels(receivers.map((name) => ({ name, routePath: 'x' })), severity, routes);
    expect(d.reason).toBe(reason);
    expect(d.targets.map((t) => `${t.receiver}:${t.channel}`)).toEqual(targets);
  });

  it.each<[string, AlertRecord | undefined, string, string[]]>([
    // every destination the firing of this activation was notified on
    ['where it went', record({ deliveries: { 'db|slack': delivery('db', 'slack', T0), 'db|pagerduty': delivery('db', 'pagerduty', T0) } }), 'where-firing-went', ['db:slack', 'db:pagerduty']],
    // a destination that was held (or notified an older activation) does not get the resolution
    ['not where it was held', record({ deliveries: { 'db|slack': delivery('db', 'slack', T0), 'db|pagerduty': delivery('db', 'pagerduty', T0 - 60 * MIN) } }), 'where-firing-went', ['db:slack']],
    // notified nowhere
    ['nowhere', record(), 'firing-not-notified', []],
    // no record of this activation
    ['not seen', undefined, 'firing-not-notified', []],
  ])('a resolution: %s', (_name, rec, reason, targets) => {
    const d = decideResolvedChannels(rec, transition('resolved'));
    expect(d.reason).toBe(reason);
    expect(d.targets.map((t) => `${t.receiver}:${t.channel}`)).toEqual(targets);
  });
});

describe('record', () => {
  const ctx = (t: AlertTransition, rec: AlertRecord | undefined) => ({ ...startContext(t, rec, routes, DEFAULT_DISPATCH_CONFIG, NOW), severity: 'critical' as const });
  it.each<[string, AlertTransition, AlertRecord | undefined, string, Partial<AlertRecord>]>([
    // a first firing: version 1, one firing time, the notified (escalated) severity kept apart from the rule's
    ['first firing', transition('firing'), undefined, 'firing', { version: 1, state: 'firing', fireCount: 1, fireTimesMs: [T0], severity: 'high', effectiveSeverity: 'critical' }],
    // a new activation: the fire count and history grow
    ['new activation', transition('firing', { firedAtMs: T0 + 10 * MIN }), record({ state: 'resolved' }), 'firing', { version: 4, fireCount: 3, fireTimesMs: [T0 - 30 * MIN, T0, T0 + 10 * MIN] }],
    // the resolution of the recorded firing: ends, keeps the fire count
    ['resolved', transition('resolved'), record(), 'resolved', { version: 4, state: 'resolved', endsAtMs: T0 + MIN, fireCount: 2 }],
    // a resolution whose firing never reached dispatch: recorded all the same
    ['firing not seen', transition('resolved'), undefined, 'firing-not-seen', { version: 1, state: 'resolved', fireCount: 0, fireTimesMs: [] }],
  ])('%s', (_name, t, rec, reason, expected) => {
    const r = nextRecord(ctx(t, rec));
    expect(r.reason).toBe(reason);
    expect(r.record).toMatchObject({ ...expected, lastTransition: { id: t.transitionId, kind: t.kind, atMs: t.atMs }, updatedAtMs: NOW });
  });

  it('carries the Slack thread over untouched (the Slack channel function owns it)', () => {
    const r = nextRecord(ctx(transition('resolved'), record({ slackThread: { channel: 'C1', ts: '1.2' } })));
    expect(r.record.slackThread).toEqual({ channel: 'C1', ts: '1.2' });
  });
});
