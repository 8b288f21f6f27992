/**
 * What a person does to an alert (issue 12): acknowledge it, take the acknowledgement back, or
 * resolve it by hand. From Slack's buttons, PagerDuty's webhooks, the local console or the CLI, an
 * action becomes an ACTION MESSAGE on the alert-events FIFO queue (group = the alert's fingerprint,
 * so it stays in order with the alert's own transitions), and dispatch, the one writer of alert
 * records, applies it: the record keeps who acknowledged and when, the change is recorded in the
 * alert's history, and the channels are told (the Slack message updated in place, PagerDuty's
 * incident acknowledged). An action that does not apply is refused with a reason, never half done.
 *
 * The lifecycle (the seed's state machine): pending → firing → acknowledged → resolved, silenced
 * as an overlay. Pending lives in the evaluator (dispatch sees firings); acknowledged is a firing
 * with an acknowledgement of its current activation; a new activation starts unacknowledged.
 */
import { z } from 'zod';
import { PermanentError } from '../errors/index.ts';
import { sha256Hex } from '../dispatch/hash.ts';

/** Where an action came from. */
export const ACTION_SOURCES = ['slack', 'pagerduty', 'console', 'cli', 'remediation'] as const;
/** One of {@link ACTION_SOURCES}. */
export type ActionSource = (typeof ACTION_SOURCES)[number];

/** What a person can do to an alert. */
export const LIFECYCLE_ACTIONS = ['acknowledge', 'unacknowledge'] as const;
/** One of {@link LIFECYCLE_ACTIONS}. (Resolving an error alert by hand is the error-events sequence's `resolveErrorByPerson`: a transition, not an action.) */
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

/** Longest name of who acted (a Slack user id and name, a PagerDuty user, a console name). */
export const MAX_ACTOR_CHARS = 200;

/** An acknowledgement of an alert's current activation, as its record keeps it. */
export interface Acknowledgement {
  /** Who: `<@U123> (alice)` for Slack, a PagerDuty user's name, a console or CLI name. */
  readonly by: string;
  readonly atMs: number;
  readonly source: ActionSource;
}

/** An action message (version 1) on the alert-events queue. */
export interface ActionMessage {
  readonly version: 1;
  readonly kind: 'action';
  readonly action: LifecycleAction;
  /** The alert. */
  readonly fingerprint: string;
  /**
   * The activation acted on (the `firedAtMs` the person saw, e.g. in the Slack button's value):
   * an action on an older activation is refused (`stale-activation`). Absent: the current one.
   */
  readonly firedAtMs?: number;
  readonly by: string;
  readonly source: ActionSource;
  /** When the person acted (epoch ms). */
  readonly atMs: number;
  /** The request it came from (Slack's action_ts, PagerDuty's event id): the action's identity. */
  readonly requestId: string;
}

/** The action's SQS deduplication id (≤ 128 characters): the same request sent twice is applied once. */
export function actionDedupId(a: ActionMessage): string {
  return sha256Hex(`action:${a.fingerprint}:${a.action}:${a.source}:${a.requestId}`);
}

const epochMs = z.number().int().nonnegative();

/** zod schema of an {@link ActionMessage}. */
export const actionMessageSchema = z.object({
  version: z.literal(1),
  kind: z.literal('action'),
  action: z.enum(LIFECYCLE_ACTIONS),
  fingerprint: z.string().min(1).max(512),
  firedAtMs: epochMs.optional(),
  by: z.string().min(1).max(MAX_ACTOR_CHARS),
  source: z.enum(ACTION_SOURCES),
  atMs: epochMs,
  requestId: z.string().min(1).max(512),
});

/** The message is not a valid action (permanent: dead-lettered at once). */
export class InvalidActionError extends PermanentError {}

/** Whether a parsed alert-events message is an action. */
export function isActionDocument(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && (doc as { kind?: unknown }).kind === 'action';
}

/** Parses an action message. Throws {@link InvalidActionError} naming the field. */
export function parseActionMessage(doc: unknown): ActionMessage {
  const r = actionMessageSchema.safeParse(doc);
  if (!r.success) throw new InvalidActionError(`invalid action message: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data as ActionMessage;
}

/** Why an action was refused. */
export const ACTION_REFUSALS = ['unknown-alert', 'not-firing', 'stale-activation', 'already-acknowledged', 'not-acknowledged'] as const;
/** One of {@link ACTION_REFUSALS}. */
export type ActionRefusal = (typeof ACTION_REFUSALS)[number];

/** Readable text of each refusal (shown to the person: an ephemeral Slack message, the CLI). */
export const ACTION_REFUSAL_TEXT: Readonly<Record<ActionRefusal, string>> = {
  'unknown-alert': 'there is no such alert',
  'not-firing': 'the alert is not firing (it resolved)',
  'stale-activation': 'the alert resolved and fired again since: act on its new message',
  'already-acknowledged': 'the alert is already acknowledged',
  'not-acknowledged': 'the alert is not acknowledged',
};

/** What a record needs for the decision. */
export interface AckableRecord {
  readonly state: 'firing' | 'resolved';
  /** The current activation's `firedAtMs`. */
  readonly startsAtMs: number;
  readonly ack?: Acknowledgement;
}

/** The decision on an action: the record's acknowledgement after it, or why not. */
export type ActionDecision = { readonly ok: true; readonly ack: Acknowledgement | undefined } | { readonly ok: false; readonly refusal: ActionRefusal };

/**
 * Decides an action on a record (undefined: dispatch never recorded the alert). Pure.
 * - acknowledge: only a firing alert, of the activation acted on, not acknowledged yet;
 * - unacknowledge: only an acknowledged firing alert of that activation.
 */
export function decideAction(record: AckableRecord | undefined, a: Pick<ActionMessage, 'action' | 'firedAtMs' | 'by' | 'source' | 'atMs'>): ActionDecision {
  if (!record) return { ok: false, refusal: 'unknown-alert' };
  if (a.firedAtMs !== undefined && a.firedAtMs !== record.startsAtMs) return { ok: false, refusal: a.firedAtMs < record.startsAtMs ? 'stale-activation' : 'unknown-alert' };
  if (record.state !== 'firing') return { ok: false, refusal: 'not-firing' };
  if (a.action === 'acknowledge') {
    if (record.ack) return { ok: false, refusal: 'already-acknowledged' };
    return { ok: true, ack: { by: a.by, atMs: a.atMs, source: a.source } };
  }
  if (!record.ack) return { ok: false, refusal: 'not-acknowledged' };
  return { ok: true, ack: undefined };
}

/** The lifecycle state of a record as people see it. */
export type LifecycleState = 'firing' | 'acknowledged' | 'resolved';

/** `acknowledged` for a firing record with an acknowledgement of its activation. */
export function lifecycleStateOf(record: AckableRecord): LifecycleState {
  return record.state === 'resolved' ? 'resolved' : record.ack ? 'acknowledged' : 'firing';
}

/**
 * The longest note (characters): a few lines in a Slack thread. A Slack section holds 3,000
 * characters (https://docs.slack.dev/reference/block-kit/blocks/section-block); a note is cut well
 * under it, leaving room for the line dispatch adds (who, when).
 */
export const MAX_NOTE_CHARS = 1000;

/**
 * A NOTE on an alert (issue 12): something worth telling its Slack thread and its history that
 * changes nothing of its state, e.g. "Resolved in PagerDuty by Alice" or "Escalated in PagerDuty
 * to Bob". Same queue and keys as an {@link ActionMessage} (kind `action`, group = fingerprint,
 * dedup = {@link noteDedupId}); `action` is `note`, which {@link parseActionMessage} refuses:
 * dispatch checks {@link isNoteDocument} first and posts the text (escaped) to the alert's thread.
 * The fingerprint may be a group id (`group:<hex>`): the group's thread (its Slack thread key).
 */
export interface NoteMessage {
  readonly version: 1;
  readonly kind: 'action';
  readonly action: 'note';
  /** The alert, or a group id. */
  readonly fingerprint: string;
  /** Plain text (not mrkdwn), at most {@link MAX_NOTE_CHARS}; dispatch escapes it. */
  readonly text: string;
  readonly by: string;
  readonly source: ActionSource;
  readonly atMs: number;
  readonly requestId: string;
  /**
   * An approval request of auto-remediation (docs/remediation.md): the note is posted with Approve /
   * Reject buttons whose value names the attempt; clicks after `expiresAtMs` are refused.
   */
  readonly approval?: { readonly attemptId: string; readonly expiresAtMs: number };
}

/** zod schema of a {@link NoteMessage}. */
export const noteMessageSchema = z.object({
  version: z.literal(1),
  kind: z.literal('action'),
  action: z.literal('note'),
  fingerprint: z.string().min(1).max(512),
  text: z.string().min(1).max(MAX_NOTE_CHARS),
  by: z.string().min(1).max(MAX_ACTOR_CHARS),
  source: z.enum(ACTION_SOURCES),
  atMs: epochMs,
  requestId: z.string().min(1).max(512),
  approval: z.strictObject({ attemptId: z.string().regex(/^rem_[0-9a-f]{32}$/), expiresAtMs: epochMs }).optional(),
});

/** Whether a parsed alert-events message is a note (check it before {@link parseActionMessage}). */
export function isNoteDocument(doc: unknown): boolean {
  return isActionDocument(doc) && (doc as { action?: unknown }).action === 'note';
}

/** Parses a note. Throws {@link InvalidActionError} naming the field. */
export function parseNoteMessage(doc: unknown): NoteMessage {
  const r = noteMessageSchema.safeParse(doc);
  if (!r.success) throw new InvalidActionError(`invalid note message: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data as NoteMessage;
}

/** The note's SQS deduplication id: the same event told twice is posted once. */
export function noteDedupId(n: NoteMessage): string {
  return sha256Hex(`note:${n.fingerprint}:${n.source}:${n.requestId}`);
}

/** A note's text cut to {@link MAX_NOTE_CHARS} (an ellipsis marks the cut). */
export function noteText(text: string): string {
  return text.length > MAX_NOTE_CHARS ? `${text.slice(0, MAX_NOTE_CHARS - 1)}…` : text;
}
