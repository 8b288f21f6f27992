/**
 * The `remediation` SQS queue (issue 13; docs/remediation.md), a standard queue: expiry checks
 * need per-message delays, which FIFO queues lack, and every message is idempotent on its own
 * (a request's attempt id comes from its transition, an approval is decided on the attempt's
 * status, an expiry check on its time). Dispatch sends requests, the interactions worker
 * approvals, the remediate function its own delayed expiry checks.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RemediationRequestPublisher } from '../../core/dispatch/remediate/index.ts';
import type { ApprovalMessage, ExpiryMessage, RemediationMessage, RemediationRequest } from '../../core/remediate/messages.ts';
import type { ExpiryScheduler } from '../../core/remediate/ports.ts';
import type { RetryPolicy } from '../dynamodb/batch.ts';
import { delaySecondsFor } from '../sqs/flush-scheduler.ts';
import { sendAllBatched, sqsSafeBody } from '../sqs/transition-publisher.ts';

/** The remediation queue: requests (dispatch), approvals (interactions worker), expiry checks (remediate). */
export class SqsRemediationQueue implements RemediationRequestPublisher, ExpiryScheduler {
  constructor(private readonly deps: { readonly client: SQSClient; readonly queueUrl: string; readonly speed?: number; readonly retry?: RetryPolicy }) {}

  /** The same queue on a clock running `speed` times real time (local mode: delays in clock ms, waited in real seconds). */
  withSpeed(speed: number): SqsRemediationQueue {
    return new SqsRemediationQueue({ ...this.deps, speed });
  }

  async #send(messages: readonly RemediationMessage[], delayMs = 0): Promise<void> {
    const entries = messages.map((m, i) => ({ Id: String(i), MessageBody: sqsSafeBody(JSON.stringify(m)), ...(delayMs > 0 ? { DelaySeconds: delaySecondsFor(delayMs, 0, this.deps.speed) } : {}) }));
    if (entries.length > 0) await sendAllBatched(this.deps.client, this.deps.queueUrl, entries, this.deps.retry);
  }

  publish(requests: readonly RemediationRequest[]): Promise<void> {
    return this.#send(requests);
  }

  /** An Approve / Reject click, from the interactions worker. */
  approve(message: ApprovalMessage): Promise<void> {
    return this.#send([message]);
  }

  schedule(message: ExpiryMessage, delayMs: number): Promise<void> {
    return this.#send([message], delayMs);
  }
}
