/**
 * The ports of the remediate function (issue 13; docs/remediation.md). Adapters in
 * shared/adapters/remediate (DynamoDB store, SSM / Lambda / webhook executors, SQS scheduler);
 * tests use the in-memory ones of ./in-memory.ts or the local stand-ins.
 */
import { PermanentError, TransientError } from '../errors/index.ts';
import type { Clock } from '../model/index.ts';
import type { ActionPublisher, SlackResponder } from '../interact/ports.ts';
import type { ActionDefinition } from './spec.ts';
import type { AttemptRecord, AttemptStatus, ExpiryMessage, TargetState } from './messages.ts';

/** The audit log and the (action, target) states: the `remediations` table. */
export interface RemediationStore {
  getAttempt(attemptId: string): Promise<AttemptRecord | undefined>;
  getTarget(key: string): Promise<TargetState | undefined>;
  /**
   * Writes `attempt` if its stored status is `expected` (`absent`: no attempt yet), and with it
   * `target` if its stored version is `expectedVersion` (0: none), atomically. Throws
   * {@link RemediationConflictError} when either condition fails.
   */
  write(attempt: AttemptRecord, expected: AttemptStatus | 'absent', target?: { readonly state: TargetState; readonly expectedVersion: number }): Promise<void>;
  /** The attempts of one alert, oldest first (the console, tests). */
  attemptsOf(fingerprint: string): Promise<AttemptRecord[]>;
}

/** Another writer changed the attempt or the target first: transient, the message is decided again. */
export class RemediationConflictError extends TransientError {}

/** What an executor is asked to run. */
export interface ExecutionCall {
  readonly attemptId: string;
  /** The idempotency token (UUID-shaped): the same for every try of the attempt. */
  readonly token: string;
  readonly action: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly fingerprint: string;
  readonly ruleId: string;
}

/** What a run started or did. */
export interface ExecutionResult {
  /** SSM's AutomationExecutionId, the Lambda invocation's request id, the webhook's `HTTP <status>`. */
  readonly executionId: string;
  /** A short human detail (the Lambda's answer, the webhook's status). */
  readonly detail?: string;
}

/** Runs an action. Throws {@link ActionFailedError} when the action refused or failed (not retried), a TransientError when it may work later. */
export interface ActionExecutor {
  execute(definition: ActionDefinition, call: ExecutionCall): Promise<ExecutionResult>;
}

/** The action refused or failed: recorded as failed and posted, not retried. */
export class ActionFailedError extends PermanentError {}

/** Schedules an expiry check (SQS DelaySeconds, at most 15 minutes: longer waits are chained). */
export interface ExpiryScheduler {
  schedule(message: ExpiryMessage, delayMs: number): Promise<void>;
}

/** What the function reads of an alert (approval: is it still firing at that activation?). */
export interface AlertStateReader {
  get(fingerprint: string): Promise<{ readonly state: 'firing' | 'resolved'; readonly startsAtMs: number } | undefined>;
}

/** Everything the remediate function works through. */
export interface RemediationPorts {
  readonly store: RemediationStore;
  readonly executor: ActionExecutor;
  /** Notes (outcomes, approval requests) onto the alert-events queue: dispatch posts them to the alert's Slack thread and history. */
  readonly notes: ActionPublisher;
  readonly scheduler: ExpiryScheduler;
  readonly alerts: AlertStateReader;
  /** Ephemeral answers to a click (expired, already decided); absent: none. */
  readonly responder?: SlackResponder;
  readonly clock: Clock;
}
