/**
 * From a verified request to what to do (shared/core/interact): the buttons Klaxon renders and
 * their values, the reading of Slack's block_actions payloads and PagerDuty's v3 webhooks, who may
 * act (authorized users and user groups), and the plans (action messages, silences, resolutions,
 * refusals, notes).
 */
import { describe, expect, it } from 'vitest';
import { alertButtonValue, renderSlackMessage, SLACK_ACTION_IDS, SLACK_GROUP_ACTION_IDS, type SlackButton } from '../../shared/core/format/slack.ts';
import { parseButtonValue, readSlackInteraction, slackActor } from '../../shared/core/interact/slack.ts';
import { readPagerDutyWebhook } from '../../shared/core/interact/pagerduty.ts';
import { decideAuthorization, userGroupsToCheck, type SlackAuthorization } from '../../shared/core/interact/authorize.ts';
import { planPagerDutyEvent, planSlackAction, SLACK_SILENCE_MS, type PlanGroup, type PlanRecord } from '../../shared/core/interact/plan.ts';
import { parseInteractionWork, type PagerDutyEventWork, type SlackActionWork } from '../../shared/core/interact/work.ts';
import { actionDedupId, isNoteDocument, MAX_NOTE_CHARS, noteDedupId, parseActionMessage, parseNoteMessage, type NoteMessage } from '../../shared/core/lifecycle/action.ts';
import { compileRoutes, RoutesConfigError } from '../../shared/core/dispatch/route/routes-config.ts';
import { InMemorySilenceStore } from '../../shared/core/dispatch/silence/in-memory.ts';
import { expireSilencesUntilResolved } from '../../shared/core/dispatch/silence/manage.ts';
import { job } from '../integration/deliver-fixtures.ts';

const NOW = 1_800_000_000_000;
const FP = 'a'.repeat(64);
const GROUP = `group:${'b'.repeat(32)}`;

function payload(over: { action_id?: string; value?: string; user?: unknown; type?: string } = {}): string {
  const p = {
    type: over.type ?? 'block_actions',
    user: over.user ?? { id: 'U0ALICE', username: 'alice', team_id: 'T1' },
    team: { id: 'T1' },
    channel: { id: 'C0OPS' },
    container: { type: 'message', message_ts: '1800000000.000100', channel_id: 'C0OPS' },
    response_url: 'https://hooks.slack.com/actions/T1/1/abc',
    trigger_id: '1.2.3',
    actions: [{ action_id: over.action_id ?? SLACK_ACTION_IDS.acknowledge, value: over.value ?? alertButtonValue(FP, 1000), type: 'button', action_ts: '1800000000.123456' }],
  };
  return new URLSearchParams({ payload: JSON.stringify(p) }).toString();
}

function clickWork(over: Partial<SlackActionWork> = {}): SlackActionWork {
  return { version: 1, kind: 'slack-action', action: 'acknowledge', target: { kind: 'alert', fingerprint: FP, firedAtMs: 1000 }, user: { id: 'U0ALICE', name: 'alice' }, actionTs: '1800000000.123456', receivedAtMs: NOW, responseUrl: 'https://hooks.slack.com/x', ...over };
}

const firing: PlanRecord = { fingerprint: FP, state: 'firing', startsAtMs: 1000, labels: { alertname: 'HighCPU', instance: 'web-1', team: 'ops' } };

describe('buttons', () => {
  const buttonsOf = (m: ReturnType<typeof renderSlackMessage>): SlackButton[] => m.attachments[0].blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));

  it('values an alert button with the activation it shows, and reads it back', () => {
    const j = job('slack');
    const ack = buttonsOf(renderSlackMessage(j, { productName: 'K' })).find((b) => b.action_id === SLACK_ACTION_IDS.acknowledge)!;
    expect(ack.value).toBe(`a1:${j.transition.firedAtMs}:${j.transition.fingerprint}`);
    expect(parseButtonValue(ack.value!, 'alert')).toEqual({ kind: 'alert', fingerprint: j.transition.fingerprint, firedAtMs: j.transition.firedAtMs });
  });

  it('adds Resolve only for error alerts (labels with error_fingerprint)', () => {
    const plain = buttonsOf(renderSlackMessage(job('slack'), { productName: 'K' })).map((b) => b.action_id);
    const error = buttonsOf(renderSlackMessage(job('slack', { t: { labels: { alertname: 'TaskFailed', error_fingerprint: 'e1' } } }), { productName: 'K' })).map((b) => b.action_id);
    expect(plain).not.toContain(SLACK_ACTION_IDS.resolve);
    expect(error).toContain(SLACK_ACTION_IDS.resolve);
  });

  it('shows Unacknowledge instead of Acknowledge once the job says acknowledged, and Acknowledge again once taken back', () => {
    const acked = { ...job('slack'), ack: { state: 'acknowledged' as const, by: '<@U1>', atMs: 1, source: 'slack' } };
    const ids = buttonsOf(renderSlackMessage(acked, { productName: 'K' })).map((b) => b.action_id);
    expect(ids).toContain(SLACK_ACTION_IDS.unacknowledge);
    expect(ids).not.toContain(SLACK_ACTION_IDS.acknowledge);
    const back = buttonsOf(renderSlackMessage({ ...acked, ack: { ...acked.ack, state: 'unacknowledged' as const } }, { productName: 'K' })).map((b) => b.action_id);
    expect(back).toContain(SLACK_ACTION_IDS.acknowledge);
  });

  it.each<[string, string, 'alert' | 'group', unknown]>([
    // The current format.
    ['alert value', `a1:123:${FP}`, 'alert', { kind: 'alert', fingerprint: FP, firedAtMs: 123 }],
    // Messages posted before the activation was in the value: the bare fingerprint.
    ['bare fingerprint (older messages)', FP, 'alert', { kind: 'alert', fingerprint: FP }],
    // A group button's value is the group id.
    ['group id', GROUP, 'group', { kind: 'group', id: GROUP }],
    // Not a group id on a group button.
    ['group button without a group id', FP, 'group', undefined],
    // A malformed activation.
    ['bad activation', `a1:x:${FP}`, 'alert', undefined],
    // Over the bound.
    ['too long', 'f'.repeat(400), 'alert', undefined],
  ])('reads %s', (_n, value, target, expected) => {
    expect(parseButtonValue(value, target)).toEqual(expected);
  });
});

describe('reading Slack block_actions payloads', () => {
  it('keeps the action, target, user, channel, response_url and action_ts', () => {
    const r = readSlackInteraction(payload(), NOW);
    expect(r).toEqual({
      ok: true,
      work: {
        version: 1,
        kind: 'slack-action',
        action: 'acknowledge',
        target: { kind: 'alert', fingerprint: FP, firedAtMs: 1000 },
        user: { id: 'U0ALICE', name: 'alice' },
        teamId: 'T1',
        channelId: 'C0OPS',
        messageTs: '1800000000.000100',
        responseUrl: 'https://hooks.slack.com/actions/T1/1/abc',
        actionTs: '1800000000.123456',
        receivedAtMs: NOW,
      },
    });
    // What the endpoint queues is what the worker accepts.
    expect(parseInteractionWork(r.ok ? r.work : undefined).ok).toBe(true);
  });

  it.each<[string, string, string]>([
    // The Runbook link button also sends block_actions: nothing to do.
    ['a link button', payload({ action_id: SLACK_ACTION_IDS.runbook }), 'not-ours'],
    // Someone else's app action.
    ['an unknown action id', payload({ action_id: 'other_app' }), 'not-ours'],
    // A prototype key must not select a button.
    ['action id "__proto__"', payload({ action_id: '__proto__' }), 'not-ours'],
    // A view submission or a shortcut.
    ['not block_actions', payload({ type: 'view_submission' }), 'not-block-actions'],
    // A value we never rendered.
    ['a bad value', payload({ value: `a1:x:${FP}` }), 'bad-value'],
    // A group button with an alert value.
    ['group button, alert value', payload({ action_id: SLACK_GROUP_ACTION_IDS.acknowledge, value: FP }), 'bad-value'],
    // No user id, or one that is not a Slack user id.
    ['no user', payload({ user: {} }), 'no-user'],
    ['user id with markup', payload({ user: { id: '<!channel>' } }), 'no-user'],
    // Form without payload, payload not JSON.
    ['no payload field', 'token=x', 'no-payload'],
    ['payload not JSON', 'payload=%7Bnope', 'not-json'],
  ])('skips %s', (_n, body, skip) => {
    const r = readSlackInteraction(body, NOW);
    expect(r.ok ? 'ok' : r.skip).toBe(skip);
  });

  it('names the actor as <@U…> (name), without markup from the name', () => {
    expect(slackActor({ id: 'U0ALICE', name: 'alice' })).toBe('<@U0ALICE> (alice)');
    expect(slackActor({ id: 'U0ALICE', name: 'a<!here>' })).toBe('<@U0ALICE> (a!here)');
  });
});

describe('reading PagerDuty v3 webhooks', () => {
  const doc = (type: string, data: Record<string, unknown> = { incident_key: FP, html_url: 'https://acme.pagerduty.com/incidents/P1' }) =>
    JSON.stringify({ event: { id: 'E1', event_type: type, resource_type: 'incident', occurred_at: '2027-01-15T08:00:00Z', agent: { summary: 'Bob', type: 'user_reference' }, data } });

  it('keeps the event type, id, incident key, agent, link and time', () => {
    expect(readPagerDutyWebhook(doc('incident.acknowledged'), NOW)).toEqual({
      ok: true,
      work: { version: 1, kind: 'pagerduty-event', eventType: 'incident.acknowledged', eventId: 'E1', incidentKey: FP, agent: 'Bob', incidentUrl: 'https://acme.pagerduty.com/incidents/P1', occurredAtMs: Date.parse('2027-01-15T08:00:00Z'), receivedAtMs: NOW },
    });
  });

  it.each<[string, string, string]>([
    // Other events are fine, just not ours to apply.
    ['incident.priority_updated', doc('incident.priority_updated'), 'not-applied'],
    // An incident opened by another integration has no key of ours.
    ['no incident_key', doc('incident.acknowledged', {}), 'no-incident-key'],
    ['not JSON', '{', 'not-json'],
    ['no event', '{}', 'no-event'],
  ])('skips %s', (_n, body, skip) => {
    const r = readPagerDutyWebhook(body, NOW);
    expect(r.ok ? 'ok' : r.skip).toBe(skip);
  });
});

describe('authorization', () => {
  const ops: SlackAuthorization = { users: ['U0ALICE'], userGroups: ['S0ONCALL'] };
  const members = new Map([['S0ONCALL', new Set(['U0BOB'])]]);

  it.each<[string, (SlackAuthorization | undefined)[], string, boolean, string | undefined]>([
    // No receiver says who: anyone in the workspace.
    ['no authorized configured', [undefined], 'U0EVE', true, 'anyone'],
    // The receiver is gone from the routes: anyone (never lock everyone out).
    ['no receiver known', [], 'U0EVE', true, 'anyone'],
    // Listed as a user.
    ['listed user', [ops], 'U0ALICE', true, 'user'],
    // In a listed user group.
    ['member of a listed group', [ops], 'U0BOB', true, 'user-group'],
    // Neither.
    ['someone else', [ops], 'U0EVE', false, undefined],
    // Two receivers notified: one of them lets anyone act.
    ['one of two receivers open', [ops, undefined], 'U0EVE', true, 'anyone'],
  ])('%s', (_n, auths, user, ok, how) => {
    const d = decideAuthorization(auths, user, members);
    expect(d.ok).toBe(ok);
    expect(d.ok ? d.how : undefined).toBe(how);
  });

  it('asks Slack about user groups only when users do not decide', () => {
    expect(userGroupsToCheck([ops], 'U0ALICE')).toEqual([]);
    expect(userGroupsToCheck([undefined], 'U0EVE')).toEqual([]);
    expect(userGroupsToCheck([ops, { users: [], userGroups: ['S0ONCALL', 'S0LEADS'] }], 'U0EVE')).toEqual(['S0LEADS', 'S0ONCALL']);
  });

  it('compiles `authorized` from the routes config, and refuses ids that are not Slack ids', () => {
    const c = compileRoutes({ receivers: [{ name: 'ops', slack: { channel: 'C0OPS', authorized: { users: ['U0ALICE'], user_groups: ['S0ONCALL'] } } }] }, 'routes.yaml');
    expect(c.receivers.get('ops')?.slackAuthorized).toEqual({ users: ['U0ALICE'], userGroups: ['S0ONCALL'] });
    expect(() => compileRoutes({ receivers: [{ name: 'ops', slack: { channel: 'C0OPS', authorized: { users: ['alice'] } } }] }, 'routes.yaml')).toThrow(RoutesConfigError);
    expect(() => compileRoutes({ receivers: [{ name: 'ops', slack: { channel: 'C0OPS', authorized: {} } }] }, 'routes.yaml')).toThrow(/at least one user or user group/);
  });
});

describe('plans for clicks', () => {
  it('acknowledges: one action message, by the Slack user, at the activation shown', () => {
    const p = planSlackAction(clickWork(), { record: firing }, NOW);
    expect(p).toEqual({ kind: 'publish', messages: [{ version: 1, kind: 'action', action: 'acknowledge', fingerprint: FP, firedAtMs: 1000, by: '<@U0ALICE> (alice)', source: 'slack', atMs: NOW, requestId: '1800000000.123456' }] });
    // A valid action message for dispatch.
    if (p.kind === 'publish') expect(() => parseActionMessage(p.messages[0])).not.toThrow();
  });

  it.each<[string, SlackActionWork, PlanRecord | undefined, string]>([
    // decideAction's refusals, told early.
    ['already acknowledged', clickWork(), { ...firing, ack: { by: 'x', atMs: 1, source: 'slack' } }, 'the alert is already acknowledged'],
    ['unacknowledge a non-acknowledged alert', clickWork({ action: 'unacknowledge' }), firing, 'the alert is not acknowledged'],
    ['resolved', clickWork(), { ...firing, state: 'resolved' }, 'the alert is not firing (it resolved)'],
    ['an older activation', clickWork({ target: { kind: 'alert', fingerprint: FP, firedAtMs: 500 } }), firing, 'the alert resolved and fired again since: act on its new message'],
    ['unknown alert', clickWork(), undefined, 'there is no such alert'],
    // Resolve is for error alerts only.
    ['resolve a metric alert', clickWork({ action: 'resolve' }), firing, 'only error alerts are resolved by hand (this one resolves when its condition clears)'],
    // Silence a resolved alert.
    ['silence a resolved alert', clickWork({ action: 'silence-1h' }), { ...firing, state: 'resolved' }, 'the alert is not firing (it resolved)'],
  ])('refuses: %s', (_n, w, record, text) => {
    expect(planSlackAction(w, record ? { record } : {}, NOW)).toEqual({ kind: 'refuse', text });
  });

  it.each<[SlackActionWork['action'], number, boolean]>([
    ['silence-1h', 3_600_000, false],
    ['silence-4h', 4 * 3_600_000, false],
    ['silence-until-resolved', SLACK_SILENCE_MS['silence-until-resolved'], true],
  ])('%s: a silence on the alert labels (equality), by the Slack user', (action, lengthMs, marked) => {
    const p = planSlackAction(clickWork({ action }), { record: firing }, NOW);
    expect(p.kind).toBe('silence');
    if (p.kind !== 'silence') return;
    expect(p.silence.matchers).toEqual([
      { name: 'alertname', op: '=', value: 'HighCPU' },
      { name: 'instance', op: '=', value: 'web-1' },
      { name: 'team', op: '=', value: 'ops' },
    ]);
    expect(p.silence.endsAtMs - p.silence.startsAtMs).toBe(lengthMs);
    expect(p.silence.createdBy).toBe('<@U0ALICE> (alice)');
    expect(p.silence.comment).toMatch(/^Silenced from Slack/);
    expect(p.silence.untilResolved).toBe(marked ? FP : undefined);
    // The same click (a redelivery) gives the same id: created once.
    expect(planSlackAction(clickWork({ action }), { record: firing }, NOW + 5000)).toMatchObject({ silence: { id: p.silence.id } });
  });

  it('resolves an error alert by its error fingerprint, who = the Slack user', () => {
    const p = planSlackAction(clickWork({ action: 'resolve' }), { record: { ...firing, labels: { alertname: 'TaskFailed', error_fingerprint: 'e123' } } }, NOW);
    expect(p).toEqual({ kind: 'resolve-error', errorFingerprint: 'e123', who: '<@U0ALICE> (alice)' });
  });

  const group: PlanGroup = {
    id: GROUP,
    labels: { alertname: 'HighCPU', cluster: 'eu1' },
    members: { f1: { status: 'firing', startsAtMs: 10 }, f2: { status: 'resolved', startsAtMs: 20 }, f3: { status: 'firing', startsAtMs: 30 } },
  };

  it('acknowledges a group: one action message per firing member, at its activation', () => {
    const p = planSlackAction(clickWork({ target: { kind: 'group', id: GROUP } }), { group }, NOW);
    expect(p.kind === 'publish' ? p.messages.map((m) => [m.fingerprint, m.firedAtMs]) : p).toEqual([
      ['f1', 10],
      ['f3', 30],
    ]);
  });

  it('silences a group on its common labels; refuses a group with none (it would mute a whole route)', () => {
    const p = planSlackAction(clickWork({ action: 'silence-4h', target: { kind: 'group', id: GROUP } }), { group }, NOW);
    expect(p.kind === 'silence' ? p.silence.matchers.map((m) => m.name) : p).toEqual(['alertname', 'cluster']);
    expect(planSlackAction(clickWork({ action: 'silence-4h', target: { kind: 'group', id: GROUP } }), { group: { ...group, labels: {} } }, NOW).kind).toBe('refuse');
  });
});

describe('plans for PagerDuty events', () => {
  const ev = (eventType: PagerDutyEventWork['eventType'], over: Partial<PagerDutyEventWork> = {}): PagerDutyEventWork => ({
    version: 1, kind: 'pagerduty-event', eventType, eventId: 'E1', incidentKey: FP, agent: 'Bob', occurredAtMs: NOW, receivedAtMs: NOW, ...over,
  });

  it.each<[PagerDutyEventWork['eventType'], string, PlanRecord]>([
    ['incident.acknowledged', 'acknowledge', firing],
    ['incident.unacknowledged', 'unacknowledge', { ...firing, ack: { by: 'Bob', atMs: 1, source: 'pagerduty' } }],
  ])('%s → %s action message from pagerduty, by the agent', (eventType, action, record) => {
    const p = planPagerDutyEvent(ev(eventType), { record });
    expect(p).toEqual({ kind: 'publish', messages: [{ version: 1, kind: 'action', action, fingerprint: FP, by: 'Bob', source: 'pagerduty', atMs: NOW, requestId: 'E1' }] });
  });

  it.each<[PagerDutyEventWork['eventType'], Partial<PagerDutyEventWork>, string]>([
    ['incident.resolved', {}, 'Resolved in PagerDuty by Bob. Klaxon resolves the alert when its condition clears.'],
    ['incident.escalated', { assignees: ['Carol'] }, 'Escalated in PagerDuty by Bob, now assigned to Carol.'],
  ])('%s → a note for the thread', (eventType, over, text) => {
    const p = planPagerDutyEvent(ev(eventType, over), { record: firing });
    expect(p.kind).toBe('publish');
    const note = p.kind === 'publish' ? (p.messages[0] as NoteMessage) : undefined;
    expect(note).toMatchObject({ action: 'note', fingerprint: FP, text, by: 'Bob', source: 'pagerduty' });
    expect(isNoteDocument(note)).toBe(true);
    expect(() => parseNoteMessage(note)).not.toThrow();
    // parseActionMessage refuses notes: dispatch checks isNoteDocument first.
    expect(() => parseActionMessage(note)).toThrow();
  });

  it.each<[string, PagerDutyEventWork['eventType'], PlanRecord]>([
    // Our own acknowledge (from a Slack click), reported back by PagerDuty: nothing loops.
    ['acknowledged, already acknowledged', 'incident.acknowledged', { ...firing, ack: { by: '<@U0ALICE> (alice)', atMs: 1, source: 'slack' } }],
    // Nothing to take back.
    ['unacknowledged, not acknowledged', 'incident.unacknowledged', firing],
    // The alert resolved meanwhile.
    ['acknowledged, alert resolved', 'incident.acknowledged', { ...firing, state: 'resolved' }],
  ])('ignores %s (the record says it does not apply)', (_n, eventType, record) => {
    expect(planPagerDutyEvent(ev(eventType), { record }).kind).toBe('ignore');
  });

  it('ignores an event for an unknown incident', () => {
    expect(planPagerDutyEvent(ev('incident.acknowledged', { incidentKey: 'unknown' }), {}).kind).toBe('ignore');
  });

  it('acknowledges every firing member of a group incident; a note goes to the group thread', () => {
    const group: PlanGroup = { id: GROUP, labels: {}, members: { f1: { status: 'firing', startsAtMs: 1 }, f2: { status: 'resolved', startsAtMs: 2 } } };
    const ack = planPagerDutyEvent(ev('incident.acknowledged', { incidentKey: GROUP }), { group });
    expect(ack.kind === 'publish' ? ack.messages.map((m) => m.fingerprint) : ack).toEqual(['f1']);
    const note = planPagerDutyEvent(ev('incident.resolved', { incidentKey: GROUP }), { group });
    expect(note.kind === 'publish' ? note.messages.map((m) => m.fingerprint) : note).toEqual([GROUP]);
  });

  it('dedup ids: the same event told twice is one message; an action and a note of one event differ', () => {
    const a = planPagerDutyEvent(ev('incident.acknowledged'), { record: firing });
    const b = planPagerDutyEvent(ev('incident.acknowledged'), { record: firing });
    const n = planPagerDutyEvent(ev('incident.resolved'), { record: firing });
    if (a.kind !== 'publish' || b.kind !== 'publish' || n.kind !== 'publish') throw new Error('expected messages');
    expect(actionDedupId(a.messages[0] as never)).toBe(actionDedupId(b.messages[0] as never));
    expect(noteDedupId(n.messages[0] as NoteMessage)).not.toBe(actionDedupId(a.messages[0] as never));
  });

  it('cuts a note to its bound', () => {
    const p = planPagerDutyEvent(ev('incident.escalated', { assignees: Array.from({ length: 10 }, () => 'x'.repeat(200)) }), { record: firing });
    expect(p.kind === 'publish' && (p.messages[0] as NoteMessage).text.length).toBe(MAX_NOTE_CHARS);
  });
});

describe('silences until resolved', () => {
  it('expires the silences marked for an alert when it resolves, and no other', async () => {
    const store = new InMemorySilenceStore();
    const base = { matchers: [{ name: 'a', op: '=' as const, value: '1' }], startsAtMs: NOW, endsAtMs: NOW + 86_400_000, createdBy: 'x', comment: 'c', updatedAtMs: NOW };
    await store.create({ ...base, id: 's1', untilResolved: FP });
    await store.create({ ...base, id: 's2', untilResolved: 'other' });
    await store.create({ ...base, id: 's3' });
    const expired = await expireSilencesUntilResolved({ silences: store }, FP, NOW + 60_000, 0);
    expect(expired.map((s) => s.id)).toEqual(['s1']);
    expect((await store.get('s1'))!.endsAtMs).toBe(NOW + 60_000);
    expect((await store.get('s2'))!.endsAtMs).toBe(base.endsAtMs);
    // Again: nothing left to expire.
    expect(await expireSilencesUntilResolved({ silences: store }, FP, NOW + 120_000, 0)).toEqual([]);
  });
});
