/**
 * What travels on the `remediation` queue and what the `remediations` table keeps (issue 13;
 * docs/remediation.md):
 * - a REQUEST from dispatch when it notified a firing whose rule declares a remediation;
 * - an APPROVAL (Approve / Reject clicked in Slack) from the interactions worker;
 * - an EXPIRY check the remediate function schedules for itself (SQS delay) when it asks for an
 *   approval, so an approval nobody clicks is recorded as expired.
 * Every message is bounded and validated with zod; a message that fails is dead-lettered naming
 * the field.
 */
import { z } from 'zod';
import { PermanentError } from '../errors/index.ts';
import { sha256Hex } from '../dispatch/hash.ts';
import { SEVERITIES, type Labels, type Severity } from '../model/index.ts';
import { MAX_ACTOR_CHARS } from '../lifecycle/action.ts';
import { remediationSpecSchema, type RemediationSpec } from './spec.ts';

const epochMs = z.number().int().nonnegative();
const id = z.string().min(1).max(256);

/** A remediation request (dispatch → remediate). */
export interface RemediationRequest {
  readonly version: 1;
  readonly kind: 'request';
  /** The transition that asked (its id): the request's identity, so a redelivery is the same attempt. */
  readonly requestId: string;
  readonly fingerprint: string;
  /** The activation (its firedAtMs). */
  readonly firedAtMs: number;
  readonly ruleId: string;
  readonly severity: Severity;
  readonly labels: Labels;
  readonly spec: RemediationSpec;
  /** When dispatch asked (epoch ms). */
  readonly atMs: number;
}

/** An Approve / Reject click (interactions worker → remediate). */
export interface ApprovalMessage {
  readonly version: 1;
  readonly kind: 'approval';
  readonly attemptId: string;
  readonly decision: 'approve' | 'reject';
  /** Who clicked, as records name a Slack user (`<@U123> (alice)`). */
  readonly by: string;
  /** When the endpoint received the click. */
  readonly clickedAtMs: number;
  /** Where an ephemeral answer goes (a refusal: expired, already decided). */
  readonly responseUrl?: string;
}

/** An expiry check (remediate → itself, delayed). */
export interface ExpiryMessage {
  readonly version: 1;
  readonly kind: 'expire';
  readonly attemptId: string;
}

/** A message on the remediation queue. */
export type RemediationMessage = RemediationRequest | ApprovalMessage | ExpiryMessage;

const labels = z.record(z.string().max(256), z.string().max(1024)).refine((l) => Object.keys(l).length <= 64, { error: 'at most 64 labels' });

/** zod schema of a {@link RemediationMessage}. */
export const remediationMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    version: z.literal(1),
    kind: z.literal('request'),
    requestId: id,
    fingerprint: id,
    firedAtMs: epochMs,
    ruleId: id,
    severity: z.enum(SEVERITIES),
    labels,
    spec: remediationSpecSchema,
    atMs: epochMs,
  }),
  z.strictObject({
    version: z.literal(1),
    kind: z.literal('approval'),
    attemptId: id,
    decision: z.enum(['approve', 'reject']),
    by: z.string().min(1).max(MAX_ACTOR_CHARS),
    clickedAtMs: epochMs,
    responseUrl: z.string().max(2048).optional(),
  }),
  z.strictObject({ version: z.literal(1), kind: z.literal('expire'), attemptId: id }),
]);

/** The message is not a remediation message (permanent: dead-lettered at once). */
export class InvalidRemediationMessageError extends PermanentError {}

/** Parses a queue message body. Throws {@link InvalidRemediationMessageError} naming the field. */
export function parseRemediationMessage(body: string): RemediationMessage {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (cause) {
    throw new InvalidRemediationMessageError(`not JSON: ${(cause as Error).message}`, { cause });
  }
  const r = remediationMessageSchema.safeParse(doc);
  if (!r.success) throw new InvalidRemediationMessageError(`invalid remediation message: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data as RemediationMessage;
}

/** What an attempt came to (the audit log's status). */
export const ATTEMPT_STATUSES = ['refused', 'dry-run', 'awaiting-approval', 'rejected', 'expired', 'running', 'succeeded', 'failed'] as const;
/** One of {@link ATTEMPT_STATUSES}. */
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/**
 * One attempt, the audit log's record: every request makes exactly one (a refusal too), updated
 * as it is approved, run and finished. Kept in the `remediations` table (`a#<attemptId>`).
 */
export interface AttemptRecord {
  readonly attemptId: string;
  /** The idempotency token of the run: SSM's ClientToken, the Lambda payload's, the webhook-id. UUID-shaped (SSM requires it). */
  readonly token: string;
  readonly requestId: string;
  readonly ruleId: string;
  readonly fingerprint: string;
  readonly firedAtMs: number;
  readonly action: string;
  /** `ssmAutomation`, `lambda`, `webhook` (absent: the action is unknown). */
  readonly actionKind?: string;
  /** {@link ../remediate/decide.ts targetOf}; absent when the parameters could not be rendered. */
  readonly target?: string;
  readonly parameters: Readonly<Record<string, string>>;
  /** The safety policy the request carried (re-checked at approval). */
  readonly safety: Pick<RemediationSpec, 'cooldownMs' | 'maxAttempts' | 'attemptsWindowMs'>;
  readonly status: AttemptStatus;
  /** A refusal's reason (`cooldown`, ...), or a failure's class. */
  readonly reason?: string;
  /** Human text of the outcome. */
  readonly text: string;
  readonly requestedAtMs: number;
  /** Approval: when it expires; who approved or rejected, and when. */
  readonly expiresAtMs?: number;
  readonly approver?: string;
  readonly decidedAtMs?: number;
  /** The run: the execution id (SSM AutomationExecutionId, Lambda request id, webhook status), when it finished. */
  readonly executionId?: string;
  readonly finishedAtMs?: number;
}

/** The runs of one (action, target): cooldown and attempts are decided on it. Version-guarded. */
export interface TargetState {
  readonly key: string;
  readonly action: string;
  readonly target: string;
  /** When runs started (epoch ms), the last {@link ../remediate/decide.ts withRun} keeps. */
  readonly runsAtMs: readonly number[];
  readonly version: number;
}

/** A UUID-shaped id from a hash (SSM's ClientToken must be a UUID). */
export function uuidOf(text: string): string {
  const h = sha256Hex(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The attempt of a request: one per (request, action), the same for every redelivery. */
export function attemptIdOf(req: Pick<RemediationRequest, 'requestId' | 'spec'>): string {
  return `rem_${sha256Hex(`remediation:${req.requestId}:${req.spec.action}`).slice(0, 32)}`;
}

/** The idempotency token of an attempt's run. */
export function tokenOf(attemptId: string): string {
  return uuidOf(`token:${attemptId}`);
}
