/**
 * What a verified click or webhook event does (issue 12), decided from what the worker read: the
 * alert's record, or the group's members. Pure. Acknowledgements become action messages for
 * dispatch (the one writer of alert records, which decides them again); silences and the
 * resolution of an error alert are done by the worker through their existing code; a refusal is
 * an ephemeral Slack message with the reason.
 */
import { sha256Hex } from '../dispatch/hash.ts';
import type { SilenceMatcher } from '../dispatch/silence/silence.ts';
import type { Labels } from '../model/index.ts';
import {
  ACTION_REFUSAL_TEXT,
  decideAction,
  noteText,
  type Acknowledgement,
  type ActionMessage,
  type LifecycleAction,
  type NoteMessage,
} from '../lifecycle/action.ts';
import { slackActor } from './slack.ts';
import type { ApprovalMessage } from '../remediate/messages.ts';
import type { PagerDutyEventWork, SlackActionWork, SlackButtonAction } from './work.ts';

/** What the worker knows of an alert (its record; `ack` once dispatch keeps acknowledgements). */
export interface PlanRecord {
  readonly fingerprint: string;
  readonly state: 'firing' | 'resolved';
  readonly startsAtMs: number;
  readonly labels: Labels;
  readonly ack?: Acknowledgement;
}

/** What the worker knows of a group. */
export interface PlanGroup {
  readonly id: string;
  readonly labels: Labels;
  readonly members: Readonly<Record<string, { readonly status: 'firing' | 'resolved'; readonly startsAtMs: number }>>;
}

/** Silence lengths of the buttons. "Until resolved" ends at the resolution (the marker) or, at the latest, after 30 days. */
export const SLACK_SILENCE_MS: Readonly<Record<'silence-1h' | 'silence-4h' | 'silence-until-resolved', number>> = {
  'silence-1h': 3_600_000,
  'silence-4h': 4 * 3_600_000,
  // A bound, so a silence whose alert never resolves (a rule deleted while firing) does not live forever.
  'silence-until-resolved': 30 * 86_400_000,
};

/** A silence the worker creates. */
export interface PlannedSilence {
  /** Deterministic (from the click): a redelivered message creates it once. */
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly createdBy: string;
  readonly comment: string;
  /** Set for "until resolved": the alert fingerprint (or group id) whose resolution expires it. */
  readonly untilResolved?: string;
}

/** What to do with a click. */
export type SlackPlan =
  | { readonly kind: 'refuse'; readonly text: string }
  | { readonly kind: 'publish'; readonly messages: readonly ActionMessage[] }
  | { readonly kind: 'silence'; readonly silence: PlannedSilence; readonly text: string }
  | { readonly kind: 'resolve-error'; readonly errorFingerprint: string; readonly who: string }
  /** Approve / Reject of an auto-remediation: forwarded to the remediate function, which decides (expired, decided already). */
  | { readonly kind: 'remediation'; readonly message: ApprovalMessage };

const isSilence = (a: SlackButtonAction): a is keyof typeof SLACK_SILENCE_MS => a in SLACK_SILENCE_MS;
const SILENCE_WORDS: Readonly<Record<keyof typeof SLACK_SILENCE_MS, string>> = { 'silence-1h': '1 h', 'silence-4h': '4 h', 'silence-until-resolved': 'until resolved' };

/** A UUID-shaped id from a hash (silence ids are UUIDs elsewhere). */
function uuidFrom(text: string): string {
  const h = sha256Hex(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function actionMessage(action: LifecycleAction, fingerprint: string, firedAtMs: number | undefined, w: SlackActionWork): ActionMessage {
  return {
    version: 1,
    kind: 'action',
    action,
    fingerprint,
    ...(firedAtMs !== undefined ? { firedAtMs } : {}),
    by: slackActor(w.user),
    source: 'slack',
    atMs: w.receivedAtMs,
    requestId: w.actionTs,
  };
}

function equalityMatchers(labels: Labels): SilenceMatcher[] {
  return Object.keys(labels)
    .sort()
    .filter((k) => labels[k] !== '')
    .map((name) => ({ name, op: '=' as const, value: labels[name]! }));
}

/**
 * Plans a click on one alert's button or a group's. `record` is the alert's (alert buttons),
 * `group` the group's (group buttons), `nowMs` the worker's time (a silence starts then).
 */
export function planSlackAction(w: SlackActionWork, ctx: { readonly record?: PlanRecord; readonly group?: PlanGroup }, nowMs: number): SlackPlan {
  const who = slackActor(w.user);
  if (w.target.kind === 'group') {
    const g = ctx.group;
    if (!g) return { kind: 'refuse', text: 'this group is gone (all its alerts resolved)' };
    const firing = Object.entries(g.members).filter(([, m]) => m.status === 'firing');
    if (w.action === 'acknowledge' || w.action === 'unacknowledge') {
      if (firing.length === 0) return { kind: 'refuse', text: ACTION_REFUSAL_TEXT['not-firing'] };
      // Each firing member at the activation the group holds; dispatch refuses those that do not apply.
      return { kind: 'publish', messages: firing.map(([fp, m]) => actionMessage(w.action as LifecycleAction, fp, m.startsAtMs, w)) };
    }
    if (isSilence(w.action)) {
      const matchers = equalityMatchers(g.labels);
      // A group without labels (group_by: []) is a whole route: a silence on no labels would mute everything.
      if (matchers.length === 0) return { kind: 'refuse', text: 'this group has no common labels to silence on: silence its alerts one by one (`klaxon silence add`)' };
      return silencePlan(w, matchers, g.id, who, nowMs);
    }
    return { kind: 'refuse', text: 'this button does not apply to a group' };
  }
  if (w.action === 'remediation-approve' || w.action === 'remediation-reject') {
    if (!w.remediation) return { kind: 'refuse', text: 'this button names no remediation request' };
    // Only for an alert Klaxon knows: its receivers' `authorized` decide who may approve (the worker checked them).
    if (!ctx.record) return { kind: 'refuse', text: ACTION_REFUSAL_TEXT['unknown-alert'] };
    return {
      kind: 'remediation',
      message: {
        version: 1,
        kind: 'approval',
        attemptId: w.remediation.attemptId,
        decision: w.action === 'remediation-approve' ? 'approve' : 'reject',
        by: who,
        // When the endpoint received the click: the approval window is judged on it, not on the queue's delay.
        clickedAtMs: w.receivedAtMs,
        ...(w.responseUrl ? { responseUrl: w.responseUrl } : {}),
      },
    };
  }
  const r = ctx.record;
  const { fingerprint, firedAtMs } = w.target;
  if (w.action === 'acknowledge' || w.action === 'unacknowledge') {
    // Refused early where the record already says so (dispatch decides again, authoritatively).
    const d = decideAction(r, { action: w.action, firedAtMs, by: who, source: 'slack', atMs: w.receivedAtMs });
    if (!d.ok) return { kind: 'refuse', text: ACTION_REFUSAL_TEXT[d.refusal] };
    return { kind: 'publish', messages: [actionMessage(w.action, fingerprint, firedAtMs, w)] };
  }
  if (!r) return { kind: 'refuse', text: ACTION_REFUSAL_TEXT['unknown-alert'] };
  if (w.action === 'resolve') {
    const errorFingerprint = r.labels.error_fingerprint;
    if (!errorFingerprint) return { kind: 'refuse', text: 'only error alerts are resolved by hand (this one resolves when its condition clears)' };
    if (r.state !== 'firing') return { kind: 'refuse', text: ACTION_REFUSAL_TEXT['not-firing'] };
    return { kind: 'resolve-error', errorFingerprint, who };
  }
  if (isSilence(w.action)) {
    if (r.state !== 'firing') return { kind: 'refuse', text: ACTION_REFUSAL_TEXT['not-firing'] };
    const matchers = equalityMatchers(r.labels);
    if (matchers.length === 0) return { kind: 'refuse', text: 'this alert has no labels to silence on' };
    return silencePlan(w, matchers, fingerprint, who, nowMs);
  }
  return { kind: 'refuse', text: 'unknown button' };
}

function silencePlan(w: SlackActionWork, matchers: SilenceMatcher[], target: string, who: string, nowMs: number): SlackPlan {
  const action = w.action as keyof typeof SLACK_SILENCE_MS;
  const until = action === 'silence-until-resolved';
  const silence: PlannedSilence = {
    id: uuidFrom(`slack-silence:${w.user.id}:${w.actionTs}:${target}:${action}`),
    matchers,
    startsAtMs: nowMs,
    endsAtMs: nowMs + SLACK_SILENCE_MS[action],
    createdBy: who,
    comment: `Silenced from Slack (${SILENCE_WORDS[action]}) by ${who}`,
    ...(until ? { untilResolved: target } : {}),
  };
  const text = until ? 'Silenced until it resolves (at most 30 days).' : `Silenced for ${SILENCE_WORDS[action]}.`;
  return { kind: 'silence', silence, text };
}

/** What to do with a PagerDuty event. */
export type PagerDutyPlan =
  | { readonly kind: 'ignore'; readonly why: string }
  | { readonly kind: 'publish'; readonly messages: readonly (ActionMessage | NoteMessage)[] };

/**
 * Plans a PagerDuty event for the alert (`record`) or group (`group`) its incident key names:
 * acknowledged / unacknowledged → action messages (source `pagerduty`; dispatch never sends
 * PagerDuty an acknowledge that came from PagerDuty, and refuses one already applied, so nothing
 * loops); resolved / escalated → a note for the thread (resolving in PagerDuty does not resolve
 * the alert: its condition does). Unknown key: ignored.
 */
export function planPagerDutyEvent(w: PagerDutyEventWork, ctx: { readonly record?: PlanRecord; readonly group?: PlanGroup }): PagerDutyPlan {
  const by = w.agent ?? 'PagerDuty';
  const targets: { fingerprint: string }[] = ctx.group
    ? Object.entries(ctx.group.members)
        .filter(([, m]) => m.status === 'firing')
        .map(([fingerprint]) => ({ fingerprint }))
    : ctx.record
      ? [{ fingerprint: ctx.record.fingerprint }]
      : [];
  if (!ctx.group && !ctx.record) return { kind: 'ignore', why: `no alert or group for incident key ${w.incidentKey}` };
  if (w.eventType === 'incident.acknowledged' || w.eventType === 'incident.unacknowledged') {
    if (targets.length === 0) return { kind: 'ignore', why: 'no firing alert for this incident' };
    const action: LifecycleAction = w.eventType === 'incident.acknowledged' ? 'acknowledge' : 'unacknowledge';
    // Where the record already says it does not apply (our own acknowledge reported back by
    // PagerDuty: the alert is acknowledged already), nothing is sent; dispatch would refuse it.
    if (ctx.record && !ctx.group) {
      const d = decideAction(ctx.record, { action, by, source: 'pagerduty', atMs: w.occurredAtMs });
      if (!d.ok) return { kind: 'ignore', why: `${action}: ${ACTION_REFUSAL_TEXT[d.refusal]}` };
    }
    return {
      kind: 'publish',
      messages: targets.map((t) => ({ version: 1, kind: 'action', action, fingerprint: t.fingerprint, by, source: 'pagerduty', atMs: w.occurredAtMs, requestId: w.eventId })),
    };
  }
  const text =
    w.eventType === 'incident.resolved'
      ? `Resolved in PagerDuty by ${by}. Klaxon resolves the alert when its condition clears.`
      : `Escalated in PagerDuty${w.agent ? ` by ${w.agent}` : ''}${w.assignees?.length ? `, now assigned to ${w.assignees.join(', ')}` : ''}.`;
  const note: NoteMessage = {
    version: 1,
    kind: 'action',
    action: 'note',
    // A group's thread is keyed by the group id.
    fingerprint: ctx.group ? ctx.group.id : ctx.record!.fingerprint,
    text: noteText(`${text}${w.incidentUrl ? ` ${w.incidentUrl}` : ''}`),
    by,
    source: 'pagerduty',
    atMs: w.occurredAtMs,
    requestId: w.eventId,
  };
  return { kind: 'publish', messages: [note] };
}
