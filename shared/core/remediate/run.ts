/**
 * The remediate function's work (issue 13; docs/remediation.md): read, decide (./decide.ts), write
 * the audit record, run, write the outcome, post it to the alert's Slack thread. Through ports
 * only (./ports.ts); the decisions stay pure.
 *
 * At-least-once, run once: an attempt's id comes from its request (the transition), its token from
 * the attempt. A redelivered request finds its attempt and does nothing, unless the attempt is
 * still `running` (the function died or the action was unreachable mid-run): then it runs again
 * with the SAME token, which SSM (ClientToken), the Lambda and the webhook receiver use to
 * recognise the repeat. The (action, target) state is written with the attempt in one transaction
 * (version-guarded), so two alerts racing for the same target cannot both pass the cooldown.
 *
 * A remediation never resolves an alert: nothing here writes a transition or an alert record; the
 * outcome is a NOTE (shared/core/lifecycle/action.ts), which changes nothing of the alert's state.
 */
import type { NoteMessage } from '../lifecycle/action.ts';
import { noteText } from '../lifecycle/action.ts';
import { decideApproval, decideExpiry, decideRequest, prepare, targetKey, withRun } from './decide.ts';
import { attemptIdOf, tokenOf, type ApprovalMessage, type AttemptRecord, type AttemptStatus, type ExpiryMessage, type RemediationMessage, type RemediationRequest, type TargetState } from './messages.ts';
import { ActionFailedError, type RemediationPorts } from './ports.ts';
import type { ActionDefinition, RemediationActionsConfig } from './spec.ts';

/** Who the notes of remediation are by. */
export const REMEDIATION_ACTOR = 'Klaxon auto-remediation';

/** What one message came to (logged; tests assert it). */
export type RemediationOutcome =
  | { readonly kind: 'duplicate'; readonly attemptId: string; readonly status: AttemptStatus }
  | { readonly kind: 'recorded'; readonly attemptId: string; readonly status: AttemptStatus; readonly reason?: string }
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'rescheduled'; readonly attemptId: string; readonly inMs: number };

/** SQS's longest message delay (15 minutes: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-delay-queues.html). */
export const MAX_SQS_DELAY_MS = 900_000;

const describe = (d: ActionDefinition): string => (d.kind === 'ssmAutomation' ? `SSM Automation ${d.document}` : d.kind === 'lambda' ? `Lambda ${d.functionName}` : 'signed webhook');

function note(a: AttemptRecord, text: string, atMs: number, approval?: NoteMessage['approval']): NoteMessage {
  return {
    version: 1,
    kind: 'action',
    action: 'note',
    fingerprint: a.fingerprint,
    text: noteText(text),
    by: REMEDIATION_ACTOR,
    source: 'remediation',
    atMs,
    // One note per attempt and status: a redelivery posts it once (noteDedupId, dispatch's job keys).
    requestId: `${a.attemptId}:${a.status}`,
    ...(approval ? { approval } : {}),
  };
}

const subject = (a: AttemptRecord): string => `Remediation ${a.action}${a.target ? ` on ${a.target}` : ''}`;

/** The text posted for an attempt's status. */
export function outcomeText(a: AttemptRecord): string {
  switch (a.status) {
    case 'refused':
      return `${subject(a)} not run: ${a.text}.`;
    case 'dry-run':
      return `${subject(a)}: dry run, nothing was run (${a.text}).`;
    case 'awaiting-approval':
      return `${subject(a)} needs approval (${a.text}). Approve or Reject before ${new Date(a.expiresAtMs ?? 0).toISOString().slice(11, 16)} UTC.`;
    case 'rejected':
      return `${subject(a)} rejected by ${a.approver ?? 'someone'}: not run.`;
    case 'expired':
      return `${subject(a)}: ${a.text}; not run.`;
    case 'running':
      return `${subject(a)} running${a.approver ? ` (approved by ${a.approver})` : ''}.`;
    case 'succeeded':
      return `${subject(a)} ran${a.approver ? ` (approved by ${a.approver})` : ''}: ${a.text} (execution ${a.executionId ?? '-'}). The alert resolves when its metric recovers.`;
    case 'failed':
      return `${subject(a)} failed${a.approver ? ` (approved by ${a.approver})` : ''}: ${a.text}.`;
  }
}

async function post(ports: RemediationPorts, a: AttemptRecord, approval?: NoteMessage['approval']): Promise<void> {
  await ports.notes.publish([note(a, outcomeText(a), ports.clock.now(), approval)]);
}

/** Runs a `running` attempt and records its outcome (a TransientError leaves it running: the redelivery runs it again, same token). */
async function run(ports: RemediationPorts, a: AttemptRecord, definition: ActionDefinition): Promise<RemediationOutcome> {
  let done: AttemptRecord;
  try {
    const r = await ports.executor.execute(definition, { attemptId: a.attemptId, token: a.token, action: a.action, parameters: a.parameters, fingerprint: a.fingerprint, ruleId: a.ruleId });
    done = { ...a, status: 'succeeded', text: r.detail ?? `${describe(definition)} started`, executionId: r.executionId, finishedAtMs: ports.clock.now() };
  } catch (err) {
    if (!(err instanceof ActionFailedError)) throw err;
    done = { ...a, status: 'failed', reason: 'action-failed', text: err.message.slice(0, 500), finishedAtMs: ports.clock.now() };
  }
  await ports.store.write(done, 'running');
  await post(ports, done);
  return { kind: 'recorded', attemptId: done.attemptId, status: done.status, ...(done.reason ? { reason: done.reason } : {}) };
}

/** The state after a run, and the version it must still have. */
function claim(state: TargetState | undefined, a: AttemptRecord, nowMs: number): { state: TargetState; expectedVersion: number } {
  const keepMs = Math.max(a.safety.attemptsWindowMs, a.safety.cooldownMs);
  return { state: withRun(state, targetKey(a.action, a.target!), a.action, a.target!, keepMs, nowMs), expectedVersion: state?.version ?? 0 };
}

/** Handles a request from dispatch. */
export async function handleRequest(ports: RemediationPorts, config: RemediationActionsConfig, req: RemediationRequest): Promise<RemediationOutcome> {
  const attemptId = attemptIdOf(req);
  const existing = await ports.store.getAttempt(attemptId);
  if (existing) {
    const def = config.actions.get(existing.action);
    if (existing.status === 'running' && def) return run(ports, existing, def);
    return { kind: 'duplicate', attemptId, status: existing.status };
  }
  const nowMs = ports.clock.now();
  const prepared = prepare(req, config);
  const state = prepared ? await ports.store.getTarget(prepared.key) : undefined;
  const d = decideRequest(req, config, state, nowMs);
  const base = {
    attemptId,
    token: tokenOf(attemptId),
    requestId: req.requestId,
    ruleId: req.ruleId,
    fingerprint: req.fingerprint,
    firedAtMs: req.firedAtMs,
    action: req.spec.action,
    safety: { cooldownMs: req.spec.cooldownMs, maxAttempts: req.spec.maxAttempts, attemptsWindowMs: req.spec.attemptsWindowMs },
    requestedAtMs: nowMs,
  };
  if (d.kind === 'refuse') {
    const a: AttemptRecord = { ...base, ...(prepared ? { target: prepared.target } : {}), parameters: d.parameters ?? {}, status: 'refused', reason: d.reason, text: d.text, ...(config.actions.get(req.spec.action) ? { actionKind: config.actions.get(req.spec.action)!.kind } : {}) };
    await ports.store.write(a, 'absent');
    await post(ports, a);
    return { kind: 'recorded', attemptId, status: 'refused', reason: d.reason };
  }
  const common = { ...base, actionKind: d.definition.kind, target: d.target, parameters: d.parameters };
  const params = Object.entries(d.parameters).map(([k, v]) => `${k}=${v}`).join(', ') || 'no parameters';
  if (d.kind === 'dry-run') {
    const a: AttemptRecord = { ...common, status: 'dry-run', text: `would run ${describe(d.definition)} with ${params}` };
    await ports.store.write(a, 'absent');
    await post(ports, a);
    return { kind: 'recorded', attemptId, status: 'dry-run' };
  }
  if (d.kind === 'await-approval') {
    const a: AttemptRecord = { ...common, status: 'awaiting-approval', text: `${describe(d.definition)} with ${params}`, expiresAtMs: d.expiresAtMs };
    await ports.store.write(a, 'absent');
    await ports.scheduler.schedule({ version: 1, kind: 'expire', attemptId }, Math.min(d.expiresAtMs - nowMs + 1, MAX_SQS_DELAY_MS));
    await post(ports, a, { attemptId, expiresAtMs: d.expiresAtMs });
    return { kind: 'recorded', attemptId, status: 'awaiting-approval' };
  }
  const a: AttemptRecord = { ...common, status: 'running', text: `${describe(d.definition)} with ${params}` };
  await ports.store.write(a, 'absent', claim(state, a, nowMs));
  return run(ports, a, d.definition);
}

/** Handles an Approve / Reject click. */
export async function handleApproval(ports: RemediationPorts, config: RemediationActionsConfig, m: ApprovalMessage): Promise<RemediationOutcome> {
  const attempt = await ports.store.getAttempt(m.attemptId);
  const state = attempt?.target !== undefined ? await ports.store.getTarget(targetKey(attempt.action, attempt.target)) : undefined;
  const d = decideApproval(attempt, { decision: m.decision, clickedAtMs: m.clickedAtMs }, config, state);
  const answer = async (text: string): Promise<void> => {
    if (m.responseUrl && ports.responder) await ports.responder.ephemeral(m.responseUrl, text);
  };
  // A decided approval: the approval message becomes the decision, its buttons gone (an ephemeral
  // answer where the responder cannot replace). The outcome is posted to the thread besides.
  const settle = async (text: string): Promise<void> => {
    if (!m.responseUrl || !ports.responder) return;
    if (ports.responder.replaceOriginal) await ports.responder.replaceOriginal(m.responseUrl, text);
    else await ports.responder.ephemeral(m.responseUrl, text);
  };
  if (d.kind === 'ignore') {
    await answer(`:no_entry_sign: ${d.text}`);
    return { kind: 'ignored', why: d.reason };
  }
  const a = attempt!;
  const nowMs = ports.clock.now();
  const decided = { approver: m.by, decidedAtMs: m.clickedAtMs };
  if (d.kind === 'expire' || d.kind === 'reject' || d.kind === 'refuse') {
    const status: AttemptStatus = d.kind === 'expire' ? 'expired' : d.kind === 'reject' ? 'rejected' : 'refused';
    const out: AttemptRecord = { ...a, ...decided, status, text: d.text, ...(d.kind === 'refuse' ? { reason: d.reason } : d.kind === 'expire' ? { reason: 'approval-expired' } : {}) };
    await ports.store.write(out, 'awaiting-approval');
    await post(ports, out);
    if (d.kind === 'expire') {
      await answer(':hourglass: approval expired: the remediation was not run');
      if (ports.responder?.replaceOriginal && m.responseUrl) await ports.responder.replaceOriginal(m.responseUrl, `:hourglass: ${outcomeText(out)}`);
    } else await settle(`:no_entry_sign: ${outcomeText(out)}`);
    return { kind: 'recorded', attemptId: a.attemptId, status, ...(out.reason ? { reason: out.reason } : {}) };
  }
  // Approved: only for the activation it was asked for, still firing.
  const alert = await ports.alerts.get(a.fingerprint);
  if (!alert || alert.state !== 'firing' || alert.startsAtMs !== a.firedAtMs) {
    const out: AttemptRecord = { ...a, ...decided, status: 'refused', reason: 'alert-not-firing', text: 'the alert is no longer firing at this activation' };
    await ports.store.write(out, 'awaiting-approval');
    await post(ports, out);
    await settle(`:no_entry_sign: ${outcomeText(out)}`);
    return { kind: 'recorded', attemptId: a.attemptId, status: 'refused', reason: 'alert-not-firing' };
  }
  const running: AttemptRecord = { ...a, ...decided, status: 'running' };
  await ports.store.write(running, 'awaiting-approval', claim(state, running, nowMs));
  await settle(`:white_check_mark: approved by ${m.by}: ${a.action} on ${a.target} is running`);
  return run(ports, running, d.definition);
}

/** Handles an expiry check. */
export async function handleExpiry(ports: RemediationPorts, m: ExpiryMessage): Promise<RemediationOutcome> {
  const attempt = await ports.store.getAttempt(m.attemptId);
  const d = decideExpiry(attempt, ports.clock.now());
  if (d.kind === 'moot') return { kind: 'ignored', why: attempt ? `already ${attempt.status}` : 'no such attempt' };
  if (d.kind === 'later') {
    await ports.scheduler.schedule(m, Math.min(d.inMs, MAX_SQS_DELAY_MS));
    return { kind: 'rescheduled', attemptId: m.attemptId, inMs: d.inMs };
  }
  const out: AttemptRecord = { ...attempt!, status: 'expired', reason: 'approval-expired', text: 'approval expired: nobody approved in time', decidedAtMs: ports.clock.now() };
  await ports.store.write(out, 'awaiting-approval');
  await post(ports, out);
  return { kind: 'recorded', attemptId: m.attemptId, status: 'expired', reason: 'approval-expired' };
}

/**
 * The last delivery of a message failed transiently (the queue moves it to its dead-letter queue
 * next): an attempt it left `running` is recorded `failed` (`gave-up`, with the last error) and
 * posted, so the audit log never keeps a run that nobody will finish. Anything else is left as it
 * is (a request refused or done, an approval already decided). A redrive of the message then finds
 * the attempt decided and runs nothing: the run is asked for again by the next firing.
 */
export async function giveUp(ports: RemediationPorts, m: RemediationMessage, lastError: string): Promise<RemediationOutcome | undefined> {
  const attemptId = m.kind === 'request' ? attemptIdOf(m) : m.attemptId;
  const a = await ports.store.getAttempt(attemptId);
  if (!a || a.status !== 'running') return undefined;
  const out: AttemptRecord = { ...a, status: 'failed', reason: 'gave-up', text: `gave up after the last delivery of its message: ${lastError.slice(0, 400)}`, finishedAtMs: ports.clock.now() };
  await ports.store.write(out, 'running');
  await post(ports, out);
  return { kind: 'recorded', attemptId, status: 'failed', reason: 'gave-up' };
}

/** Handles one message of the remediation queue. */
export async function handleRemediationMessage(ports: RemediationPorts, config: RemediationActionsConfig, m: RemediationMessage): Promise<RemediationOutcome> {
  switch (m.kind) {
    case 'request':
      return handleRequest(ports, config, m);
    case 'approval':
      return handleApproval(ports, config, m);
    case 'expire':
      return handleExpiry(ports, m);
  }
}
