/**
 * In-memory implementations of the remediation ports, for unit tests and simulations (the
 * integration tests use the DynamoDB store and the local stand-ins instead).
 */
import type { ActionDefinition } from './spec.ts';
import type { AttemptRecord, AttemptStatus, ExpiryMessage, TargetState } from './messages.ts';
import { RemediationConflictError, type ActionExecutor, type ExecutionCall, type ExecutionResult, type ExpiryScheduler, type RemediationStore } from './ports.ts';

/** {@link RemediationStore} in memory, with the same conditions as the DynamoDB one. */
export class InMemoryRemediationStore implements RemediationStore {
  readonly attempts = new Map<string, AttemptRecord>();
  readonly targets = new Map<string, TargetState>();

  getAttempt(attemptId: string): Promise<AttemptRecord | undefined> {
    return Promise.resolve(this.attempts.get(attemptId));
  }

  getTarget(key: string): Promise<TargetState | undefined> {
    return Promise.resolve(this.targets.get(key));
  }

  write(attempt: AttemptRecord, expected: AttemptStatus | 'absent', target?: { readonly state: TargetState; readonly expectedVersion: number }): Promise<void> {
    const cur = this.attempts.get(attempt.attemptId);
    if ((expected === 'absent' && cur) || (expected !== 'absent' && cur?.status !== expected)) return Promise.reject(new RemediationConflictError(`attempt ${attempt.attemptId} is ${cur?.status ?? 'absent'}, expected ${expected}`));
    if (target && (this.targets.get(target.state.key)?.version ?? 0) !== target.expectedVersion) return Promise.reject(new RemediationConflictError(`target ${target.state.key} changed`));
    this.attempts.set(attempt.attemptId, attempt);
    if (target) this.targets.set(target.state.key, target.state);
    return Promise.resolve();
  }

  attemptsOf(fingerprint: string): Promise<AttemptRecord[]> {
    return Promise.resolve([...this.attempts.values()].filter((a) => a.fingerprint === fingerprint).sort((a, b) => a.requestedAtMs - b.requestedAtMs));
  }
}

/** An executor that records its calls and answers as told (a stand-in: nothing is run). */
export class RecordingExecutor implements ActionExecutor {
  readonly calls: { definition: ActionDefinition; call: ExecutionCall }[] = [];
  constructor(private readonly answer: (call: ExecutionCall) => ExecutionResult | Error = (c) => ({ executionId: `exec-${c.token}` })) {}

  execute(definition: ActionDefinition, call: ExecutionCall): Promise<ExecutionResult> {
    this.calls.push({ definition, call });
    const r = this.answer(call);
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  }
}

/** An expiry scheduler that keeps what it was given. */
export class CollectingScheduler implements ExpiryScheduler {
  readonly scheduled: { message: ExpiryMessage; delayMs: number }[] = [];
  schedule(message: ExpiryMessage, delayMs: number): Promise<void> {
    this.scheduled.push({ message, delayMs });
    return Promise.resolve();
  }
}
