/**
 * The work the interactions endpoint hands the worker (issue 12): one message per verified click or
 * webhook event on the `interactions` SQS queue. The endpoint parses just enough to know what was
 * asked (which button, on what, by whom; which PagerDuty event, for which incident) and answers at
 * once; the worker does the slow part (records, authorization, queues, Slack's response_url).
 */
import { z } from 'zod';
import { MAX_ACTOR_CHARS } from '../lifecycle/action.ts';

/** What a Klaxon Slack button asks for. */
export const SLACK_BUTTON_ACTIONS = ['acknowledge', 'unacknowledge', 'silence-1h', 'silence-4h', 'silence-until-resolved', 'resolve', 'remediation-approve', 'remediation-reject'] as const;
/** One of {@link SLACK_BUTTON_ACTIONS}. */
export type SlackButtonAction = (typeof SLACK_BUTTON_ACTIONS)[number];

/** The PagerDuty v3 webhook events the worker applies (others are acknowledged and ignored). */
export const PAGERDUTY_EVENT_TYPES = ['incident.acknowledged', 'incident.unacknowledged', 'incident.resolved', 'incident.escalated'] as const;
/** One of {@link PAGERDUTY_EVENT_TYPES}. */
export type PagerDutyEventType = (typeof PAGERDUTY_EVENT_TYPES)[number];

/** Longest fingerprint or group id accepted from a button or an incident key (PagerDuty's dedup_key limit). */
export const MAX_KEY_CHARS = 255;

const key = z.string().min(1).max(MAX_KEY_CHARS);
const epochMs = z.number().int().nonnegative();

/** What a button acts on: one alert (at the activation the message showed), or a group. */
export const buttonTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('alert'), fingerprint: key, firedAtMs: epochMs.optional() }),
  z.strictObject({ kind: z.literal('group'), id: key }),
]);
/** See {@link buttonTargetSchema}. */
export type ButtonTarget = z.infer<typeof buttonTargetSchema>;

/** A Slack button click, verified. */
export const slackActionWorkSchema = z.strictObject({
  version: z.literal(1),
  kind: z.literal('slack-action'),
  action: z.enum(SLACK_BUTTON_ACTIONS),
  target: buttonTargetSchema,
  /** Approve / Reject of an auto-remediation (docs/remediation.md): the attempt decided. */
  remediation: z.strictObject({ attemptId: z.string().regex(/^rem_[0-9a-f]{32}$/) }).optional(),
  /** The Slack user: id (`U…`/`W…`) and the name Slack gave (username), for `<@U…> (name)`. */
  user: z.strictObject({ id: z.string().min(1).max(32), name: z.string().max(MAX_ACTOR_CHARS).optional() }),
  teamId: z.string().max(32).optional(),
  /** The channel the message was in (picks the receiver whose authorization applies). */
  channelId: z.string().max(64).optional(),
  messageTs: z.string().max(64).optional(),
  /** Where an ephemeral answer goes (5 uses in 30 minutes: https://api.slack.com/interactivity/handling#message_responses). */
  responseUrl: z.string().max(2048).optional(),
  /** Slack's action_ts: the click's identity (its action messages' requestId). */
  actionTs: z.string().min(1).max(64),
  /** When the endpoint received it (epoch ms). */
  receivedAtMs: epochMs,
});
/** See {@link slackActionWorkSchema}. */
export type SlackActionWork = z.infer<typeof slackActionWorkSchema>;

/** A PagerDuty v3 webhook event, verified. */
export const pagerDutyEventWorkSchema = z.strictObject({
  version: z.literal(1),
  kind: z.literal('pagerduty-event'),
  eventType: z.enum(PAGERDUTY_EVENT_TYPES),
  /** The event's id (its action messages' requestId). */
  eventId: z.string().min(1).max(128),
  /** `data.incident_key`: the Events API dedup_key Klaxon sent (an alert fingerprint or a group id). */
  incidentKey: key,
  /** Who did it (`agent.summary`), when PagerDuty says. */
  agent: z.string().max(MAX_ACTOR_CHARS).optional(),
  /** PagerDuty's incident page. */
  incidentUrl: z.string().max(2048).optional(),
  /** For incident.escalated: the assignees' names (bounded). */
  assignees: z.array(z.string().max(MAX_ACTOR_CHARS)).max(10).optional(),
  occurredAtMs: epochMs,
  receivedAtMs: epochMs,
});
/** See {@link pagerDutyEventWorkSchema}. */
export type PagerDutyEventWork = z.infer<typeof pagerDutyEventWorkSchema>;

/** A message on the interactions queue. */
export const interactionWorkSchema = z.discriminatedUnion('kind', [slackActionWorkSchema, pagerDutyEventWorkSchema]);
/** See {@link interactionWorkSchema}. */
export type InteractionWork = z.infer<typeof interactionWorkSchema>;

/** Parses a queue message body; a clear error naming each bad field, or the work. */
export function parseInteractionWork(doc: unknown): { ok: true; work: InteractionWork } | { ok: false; error: string } {
  const r = interactionWorkSchema.safeParse(doc);
  if (r.success) return { ok: true, work: r.data };
  return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}
