/**
 * Slack interactivity payloads (issue 12): the button values Klaxon renders, and the reading of a
 * `block_actions` payload into {@link SlackActionWork}. Slack POSTs
 * `application/x-www-form-urlencoded` with one field, `payload`, a JSON document
 * (https://api.slack.com/reference/interaction-payloads/block-actions-payload). Only what the
 * worker needs is kept, each field bounded; anything else about the payload is ignored.
 */
import { alertButtonValue, SLACK_ACTION_IDS, SLACK_GROUP_ACTION_IDS, SLACK_REMEDIATION_ACTION_IDS } from '../format/slack.ts';
import { MAX_ACTOR_CHARS } from '../lifecycle/action.ts';
import { MAX_KEY_CHARS, type ButtonTarget, type SlackActionWork, type SlackButtonAction } from './work.ts';

/** The action id of each button, and whether its value names an alert or a group. */
export const SLACK_BUTTONS: Readonly<Record<string, { readonly action: SlackButtonAction; readonly target: 'alert' | 'group' | 'remediation' }>> = {
  [SLACK_REMEDIATION_ACTION_IDS.approve]: { action: 'remediation-approve', target: 'remediation' },
  [SLACK_REMEDIATION_ACTION_IDS.reject]: { action: 'remediation-reject', target: 'remediation' },
  [SLACK_ACTION_IDS.acknowledge]: { action: 'acknowledge', target: 'alert' },
  [SLACK_ACTION_IDS.unacknowledge]: { action: 'unacknowledge', target: 'alert' },
  [SLACK_ACTION_IDS.silence1h]: { action: 'silence-1h', target: 'alert' },
  [SLACK_ACTION_IDS.silence4h]: { action: 'silence-4h', target: 'alert' },
  [SLACK_ACTION_IDS.silenceUntilResolved]: { action: 'silence-until-resolved', target: 'alert' },
  [SLACK_ACTION_IDS.resolve]: { action: 'resolve', target: 'alert' },
  [SLACK_GROUP_ACTION_IDS.acknowledge]: { action: 'acknowledge', target: 'group' },
  [SLACK_GROUP_ACTION_IDS.unacknowledge]: { action: 'unacknowledge', target: 'group' },
  [SLACK_GROUP_ACTION_IDS.silence1h]: { action: 'silence-1h', target: 'group' },
  [SLACK_GROUP_ACTION_IDS.silence4h]: { action: 'silence-4h', target: 'group' },
  [SLACK_GROUP_ACTION_IDS.silenceUntilResolved]: { action: 'silence-until-resolved', target: 'group' },
};

/** Prefix of an alert button's value (format/slack.ts `alertButtonValue`: `a1:<firedAtMs>:<fingerprint>`). */
const ALERT_VALUE_PREFIX = 'a1:';

export { alertButtonValue };

/**
 * Reads a button value: `a1:<firedAtMs>:<fingerprint>` for an alert button; a group button's value
 * is the group id; a bare value (messages rendered before the activation was in the value) is the
 * fingerprint. Undefined when it is not one of these or too long.
 */
export function parseButtonValue(value: string, target: 'alert' | 'group'): ButtonTarget | undefined {
  if (value.length === 0 || value.length > MAX_KEY_CHARS + 32) return undefined;
  if (value.startsWith('r1:')) return undefined;
  if (target === 'group') return value.startsWith('group:') && value.length <= MAX_KEY_CHARS ? { kind: 'group', id: value } : undefined;
  if (value.startsWith(ALERT_VALUE_PREFIX)) {
    const m = /^a1:(\d{1,15}):(.+)$/s.exec(value);
    if (!m || m[2]!.length > MAX_KEY_CHARS) return undefined;
    return { kind: 'alert', fingerprint: m[2]!, firedAtMs: Number(m[1]) };
  }
  return value.length <= MAX_KEY_CHARS ? { kind: 'alert', fingerprint: value } : undefined;
}

/**
 * Reads a remediation button's value, `r1:<attemptId>:<fingerprint>` (format/slack.ts
 * `remediationButtonValue`): the alert (whose receivers' authorization applies) and the attempt.
 */
export function parseRemediationButtonValue(value: string): { readonly target: ButtonTarget; readonly attemptId: string } | undefined {
  const m = /^r1:(rem_[0-9a-f]{32}):(.+)$/s.exec(value);
  if (!m || m[2]!.length > MAX_KEY_CHARS) return undefined;
  return { target: { kind: 'alert', fingerprint: m[2]! }, attemptId: m[1]! };
}

/** Why a signed Slack payload is not work (answered 200 empty: Slack needs no more). */
export const SLACK_PAYLOAD_SKIPS = ['not-form', 'no-payload', 'not-json', 'not-block-actions', 'no-action', 'not-ours', 'bad-value', 'no-user'] as const;
/** One of {@link SLACK_PAYLOAD_SKIPS}. */
export type SlackPayloadSkip = (typeof SLACK_PAYLOAD_SKIPS)[number];

/** The reading of a payload: the work, or why there is none. */
export type SlackPayloadReading = { readonly ok: true; readonly work: SlackActionWork } | { readonly ok: false; readonly skip: SlackPayloadSkip };

const str = (x: unknown, max: number): string | undefined => (typeof x === 'string' && x.length > 0 ? x.slice(0, max) : undefined);
const obj = (x: unknown): Record<string, unknown> | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined);

/**
 * Reads a verified interactivity request body (form-encoded `payload=<json>`) at `receivedAtMs`.
 * Only `block_actions` with one of Klaxon's action ids become work; the Runbook and Dashboard link
 * buttons also send block_actions (Slack acknowledges every button), and are skipped.
 */
export function readSlackInteraction(body: string, receivedAtMs: number): SlackPayloadReading {
  let payloadText: string | null;
  try {
    payloadText = new URLSearchParams(body).get('payload');
  } catch {
    return { ok: false, skip: 'not-form' };
  }
  if (!payloadText) return { ok: false, skip: 'no-payload' };
  let doc: unknown;
  try {
    doc = JSON.parse(payloadText);
  } catch {
    return { ok: false, skip: 'not-json' };
  }
  const p = obj(doc);
  if (!p || p.type !== 'block_actions') return { ok: false, skip: 'not-block-actions' };
  const actions = Array.isArray(p.actions) ? p.actions : [];
  // One click is one action (Slack sends a list, with one element for a button).
  const a = obj(actions[0]);
  if (!a) return { ok: false, skip: 'no-action' };
  const actionId = str(a.action_id, 255);
  const button = actionId ? SLACK_BUTTONS[actionId] : undefined;
  if (!button || !Object.hasOwn(SLACK_BUTTONS, actionId!)) return { ok: false, skip: 'not-ours' };
  const remediation = button.target === 'remediation' && typeof a.value === 'string' ? parseRemediationButtonValue(a.value) : undefined;
  const target = remediation?.target ?? (typeof a.value === 'string' && button.target !== 'remediation' ? parseButtonValue(a.value, button.target) : undefined);
  if (!target) return { ok: false, skip: 'bad-value' };
  const user = obj(p.user);
  const userId = str(user?.id, 32);
  if (!userId || !/^[UW][A-Z0-9]{1,31}$/.test(userId)) return { ok: false, skip: 'no-user' };
  const name = str(user?.username, MAX_ACTOR_CHARS) ?? str(user?.name, MAX_ACTOR_CHARS);
  const channel = obj(p.channel);
  const container = obj(p.container);
  const message = obj(p.message);
  const team = obj(p.team);
  const channelId = str(channel?.id, 64) ?? str(container?.channel_id, 64);
  const messageTs = str(container?.message_ts, 64) ?? str(message?.ts, 64);
  const responseUrl = str(p.response_url, 2048);
  const teamId = str(team?.id, 32) ?? str(user?.team_id, 32);
  // action_ts identifies the click; a payload without one (never seen) is identified by the trigger.
  const actionTs = str(a.action_ts, 64) ?? str(p.trigger_id, 64) ?? `${userId}:${receivedAtMs}`;
  return {
    ok: true,
    work: {
      version: 1,
      kind: 'slack-action',
      action: button.action,
      target,
      ...(remediation ? { remediation: { attemptId: remediation.attemptId } } : {}),
      user: { id: userId, ...(name ? { name } : {}) },
      ...(teamId ? { teamId } : {}),
      ...(channelId ? { channelId } : {}),
      ...(messageTs ? { messageTs } : {}),
      ...(responseUrl ? { responseUrl } : {}),
      actionTs,
      receivedAtMs,
    },
  };
}

/** Who acted, as records, silences and history name a Slack user: `<@U123> (alice)`. */
export function slackActor(user: { readonly id: string; readonly name?: string | undefined }): string {
  const who = `<@${user.id}>${user.name ? ` (${user.name.replace(/[<>&\n\r]/g, '')})` : ''}`;
  return who.slice(0, MAX_ACTOR_CHARS);
}
