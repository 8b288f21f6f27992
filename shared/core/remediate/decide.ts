/**
 * The remediation decisions (issue 13; docs/remediation.md), pure: what a remediation request,
 * an approval click and an expiry check come to, from the deployment's actions, the (action,
 * target) state and a time argument. The remediate function (./run.ts) reads, decides, acts.
 *
 * Order of the checks on a request, each one a refusal that is recorded and posted, never run:
 * kill switch → the action exists in the deployment → the rendered parameters are safe →
 * cooldown per (action, target) → attempts per (action, target) in the window → dry run (decided,
 * recorded, nothing run, nobody asked) → approval (a request in the Slack thread) → run.
 * An approval re-checks cooldown and attempts at the click: time passed since the request.
 */
import { sha256Hex } from '../dispatch/hash.ts';
import type { ActionDefinition, RemediationActionsConfig, RemediationSpec } from './spec.ts';
import { renderParameters } from './spec.ts';
import type { AttemptRecord, RemediationRequest, TargetState } from './messages.ts';

/** Why a remediation was not run. */
export const REMEDIATION_REFUSALS = ['disabled', 'unknown-action', 'hostile-parameters', 'cooldown', 'max-attempts', 'alert-not-firing'] as const;
/** One of {@link REMEDIATION_REFUSALS}. */
export type RemediationRefusal = (typeof REMEDIATION_REFUSALS)[number];

/** Readable text of each refusal (posted to the thread, kept in the audit log). */
export const REMEDIATION_REFUSAL_TEXT: Readonly<Record<RemediationRefusal, string>> = {
  disabled: 'auto-remediation is switched off in this deployment (remediation.enabled: false)',
  'unknown-action': 'the rule names an action this deployment does not declare (remediation.actions)',
  'hostile-parameters': 'a parameter rendered from the alert labels is not safe to pass on',
  cooldown: 'the same action ran on the same target within its cooldown',
  'max-attempts': 'the same action ran on the same target as many times as allowed in its window',
  'alert-not-firing': 'the alert is no longer firing at this activation (it resolved, or fired again since)',
};

/** The decision on a request. */
export type RequestDecision =
  | { readonly kind: 'refuse'; readonly reason: RemediationRefusal; readonly text: string; readonly parameters?: Readonly<Record<string, string>> }
  | { readonly kind: 'dry-run'; readonly definition: ActionDefinition; readonly parameters: Readonly<Record<string, string>>; readonly target: string }
  | { readonly kind: 'await-approval'; readonly definition: ActionDefinition; readonly parameters: Readonly<Record<string, string>>; readonly target: string; readonly expiresAtMs: number }
  | { readonly kind: 'execute'; readonly definition: ActionDefinition; readonly parameters: Readonly<Record<string, string>>; readonly target: string };

/**
 * The target of an action: the rendered parameters, sorted, as `Name=value,...` (values are of
 * the safe character set, so the text is unambiguous). Two alerts that would restart the same
 * service share the cooldown and the attempts, whichever rule or instance asked.
 */
export function targetOf(parameters: Readonly<Record<string, string>>): string {
  const text = Object.keys(parameters)
    .sort()
    .map((k) => `${k}=${parameters[k]}`)
    .join(',');
  return text === '' ? '(no parameters)' : text;
}

/** The key of an (action, target) state item. */
export function targetKey(action: string, target: string): string {
  return `t#${sha256Hex(`${action}\n${target}`).slice(0, 40)}`;
}

/** Runs of the state still inside the attempts window at `nowMs`. */
export function runsInWindow(state: TargetState | undefined, windowMs: number, nowMs: number): number[] {
  return (state?.runsAtMs ?? []).filter((t) => t > nowMs - windowMs);
}

/** Cooldown and attempts for (action, target) at `nowMs`: undefined when a run is allowed. */
export function decideSafety(spec: Pick<RemediationSpec, 'cooldownMs' | 'maxAttempts' | 'attemptsWindowMs'>, state: TargetState | undefined, nowMs: number): { reason: 'cooldown' | 'max-attempts'; text: string } | undefined {
  const last = state?.runsAtMs.length ? Math.max(...state.runsAtMs) : undefined;
  if (last !== undefined && nowMs - last < spec.cooldownMs) {
    return { reason: 'cooldown', text: `${REMEDIATION_REFUSAL_TEXT.cooldown} (last run ${Math.round((nowMs - last) / 1000)} s ago, cooldown ${Math.round(spec.cooldownMs / 1000)} s)` };
  }
  const runs = runsInWindow(state, spec.attemptsWindowMs, nowMs);
  if (runs.length >= spec.maxAttempts) {
    return { reason: 'max-attempts', text: `${REMEDIATION_REFUSAL_TEXT['max-attempts']} (${runs.length} of ${spec.maxAttempts} in ${Math.round(spec.attemptsWindowMs / 60_000)} min)` };
  }
  return undefined;
}

/**
 * Decides a request. `state` is the (action, target) state read for the request's target (the
 * caller renders the parameters first with {@link prepare} to know which target to read).
 */
export function decideRequest(req: RemediationRequest, config: RemediationActionsConfig, state: TargetState | undefined, nowMs: number): RequestDecision {
  const spec = req.spec;
  if (!config.enabled) return { kind: 'refuse', reason: 'disabled', text: REMEDIATION_REFUSAL_TEXT.disabled };
  const definition = config.actions.get(spec.action);
  if (!definition) return { kind: 'refuse', reason: 'unknown-action', text: `${REMEDIATION_REFUSAL_TEXT['unknown-action']}: ${spec.action}` };
  const rendered = renderParameters(spec.parameters, req.labels);
  if (!rendered.ok) return { kind: 'refuse', reason: 'hostile-parameters', text: `${REMEDIATION_REFUSAL_TEXT['hostile-parameters']}: ${rendered.reason}` };
  const parameters = rendered.parameters;
  const target = targetOf(parameters);
  const unsafe = decideSafety(spec, state, nowMs);
  if (unsafe) return { kind: 'refuse', reason: unsafe.reason, text: unsafe.text, parameters };
  if (spec.dryRun) return { kind: 'dry-run', definition, parameters, target };
  if (spec.approval) return { kind: 'await-approval', definition, parameters, target, expiresAtMs: nowMs + spec.approval.timeoutMs };
  return { kind: 'execute', definition, parameters, target };
}

/**
 * The (action, target) a request is about, or undefined when it cannot have one (unknown action,
 * unsafe parameters: {@link decideRequest} refuses those without reading any state).
 */
export function prepare(req: RemediationRequest, config: RemediationActionsConfig): { readonly target: string; readonly key: string } | undefined {
  if (!config.actions.has(req.spec.action)) return undefined;
  const rendered = renderParameters(req.spec.parameters, req.labels);
  if (!rendered.ok) return undefined;
  const target = targetOf(rendered.parameters);
  return { target, key: targetKey(req.spec.action, target) };
}

/** Why an approval click did nothing. */
export const APPROVAL_REFUSALS = ['unknown-attempt', 'already-decided', 'approval-expired'] as const;
/** One of {@link APPROVAL_REFUSALS}. */
export type ApprovalRefusal = (typeof APPROVAL_REFUSALS)[number];

/** The decision on an approval click. */
export type ApprovalDecision =
  | { readonly kind: 'ignore'; readonly reason: 'unknown-attempt' | 'already-decided'; readonly text: string }
  | { readonly kind: 'expire'; readonly text: string }
  | { readonly kind: 'reject'; readonly text: string }
  | { readonly kind: 'refuse'; readonly reason: 'cooldown' | 'max-attempts' | 'disabled' | 'unknown-action'; readonly text: string }
  | { readonly kind: 'execute'; readonly definition: ActionDefinition };

/**
 * Decides a click on Approve (`approve`) or Reject at `clickedAtMs` (when the endpoint received
 * it: the moment the person acted, not when the queue delivered it). A click after the attempt's
 * `expiresAtMs` expires it, whatever the button; one on a decided attempt changes nothing.
 */
export function decideApproval(
  attempt: AttemptRecord | undefined,
  click: { readonly decision: 'approve' | 'reject'; readonly clickedAtMs: number },
  config: RemediationActionsConfig,
  state: TargetState | undefined,
): ApprovalDecision {
  if (!attempt) return { kind: 'ignore', reason: 'unknown-attempt', text: 'there is no such remediation request' };
  if (attempt.status !== 'awaiting-approval') return { kind: 'ignore', reason: 'already-decided', text: `this remediation request was already decided (${attempt.status}${attempt.approver ? ` by ${attempt.approver}` : ''})` };
  if (attempt.expiresAtMs !== undefined && click.clickedAtMs > attempt.expiresAtMs) return { kind: 'expire', text: 'approval expired: the request timed out before the click' };
  if (click.decision === 'reject') return { kind: 'reject', text: 'rejected' };
  if (!config.enabled) return { kind: 'refuse', reason: 'disabled', text: REMEDIATION_REFUSAL_TEXT.disabled };
  const definition = config.actions.get(attempt.action);
  if (!definition) return { kind: 'refuse', reason: 'unknown-action', text: `${REMEDIATION_REFUSAL_TEXT['unknown-action']}: ${attempt.action}` };
  const unsafe = decideSafety(attempt.safety, state, click.clickedAtMs);
  if (unsafe) return { kind: 'refuse', reason: unsafe.reason, text: unsafe.text };
  return { kind: 'execute', definition };
}

/** The decision on an expiry check of an awaiting attempt. */
export type ExpiryDecision = { readonly kind: 'moot' } | { readonly kind: 'expire' } | { readonly kind: 'later'; readonly inMs: number };

/** An expiry check at `nowMs`: expire an attempt still awaiting approval past its time; check again later when not yet due. */
export function decideExpiry(attempt: AttemptRecord | undefined, nowMs: number): ExpiryDecision {
  if (!attempt || attempt.status !== 'awaiting-approval' || attempt.expiresAtMs === undefined) return { kind: 'moot' };
  if (nowMs > attempt.expiresAtMs) return { kind: 'expire' };
  return { kind: 'later', inMs: attempt.expiresAtMs - nowMs + 1 };
}

/** The state after a run at `nowMs` (older runs than the window are dropped; the list stays bounded). */
export function withRun(state: TargetState | undefined, key: string, action: string, target: string, windowMs: number, nowMs: number): TargetState {
  const runs = [...runsInWindow(state, windowMs, nowMs), nowMs].slice(-50);
  return { key, action, target, runsAtMs: runs, version: (state?.version ?? 0) + 1 };
}
