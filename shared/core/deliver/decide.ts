/**
 * The decisions of the channel pipeline (`pipeline.ts`; docs/design.md, "The channel pipeline"),
 * as pure functions:
 *  - {@link decideGate}: before any write, hold (breaker open, probe in flight, Retry-After) or go;
 *  - {@link decideClaim}, {@link decideProbeTaken}: after the idempotency claim and the probe lease;
 *  - {@link decideAfterSend}, {@link decideAfterThrow}: after the attempt, delivered / retry later /
 *    dead-letter / fail the batch;
 *  - {@link decideBreakerUpdate}, {@link heldUntilAfter}: what the outcome does to the breaker and
 *    to the rest of the batch;
 *  - {@link decideBatchItem}, {@link decideRecordError}: the batch loop's FIFO order, time budget
 *    and errors outside a send.
 *
 * "Retry later" always names a delay: the handler extends the message's visibility to it
 * (ChangeMessageVisibility) instead of letting SQS redeliver after the default timeout, so an open
 * breaker or a Retry-After holds the message without burning receives quickly.
 *
 * Receives still count toward the queue's maxReceiveCount (10 on the channel queues). The delay
 * therefore grows with the receive count: 30 s, 1, 2, 4, 8 min, then the cap (15 min by
 * default), never less than the breaker's reopen time or Retry-After. A job survives about 75
 * minutes of continuous outage before SQS moves it to the dead-letter queue, from where
 * `klaxon dlq redrive` replays it (idempotent: nothing is sent twice).
 */
import type { DeliveryFailureReason } from '../model/metrics.ts';
import { needsSuccessWrite, type BreakerGate, type BreakerState } from '../breaker/index.ts';
import { errorMessage, failureAction } from '../errors/index.ts';
import { MAX_FAILURE_DETAIL_CHARS, type SendResult } from './classify.ts';
import { RenderError } from './notifier.ts';
import { redactSecrets } from './redact.ts';

/** Retry tunables. */
export interface RetryConfig {
  /** First backoff step (ms). */
  readonly baseMs: number;
  /** Backoff cap (ms); Retry-After and breaker reopen times may exceed it up to {@link SQS_MAX_VISIBILITY_MS}. */
  readonly maxBackoffMs: number;
}

/** Defaults: 30 s doubling, capped at 15 min. */
export const DEFAULT_RETRY_CONFIG: RetryConfig = { baseMs: 30_000, maxBackoffMs: 15 * 60_000 };

/** SQS's maximum visibility timeout: 12 hours (ChangeMessageVisibility API reference). */
export const SQS_MAX_VISIBILITY_MS = 12 * 60 * 60_000;

/** Why a job was not sent (now). */
export const HOLD_REASONS = ['breaker-open', 'probe-in-flight', 'retry-after', 'in-progress', 'group-blocked'] as const;
/** One of {@link HOLD_REASONS}. */
export type HoldReason = (typeof HOLD_REASONS)[number];
/** Readable text per hold reason. */
export const HOLD_REASON_TEXT: Readonly<Record<HoldReason, string>> = {
  'breaker-open': "the destination's circuit breaker is open",
  'probe-in-flight': 'another instance is probing the half-open breaker',
  'retry-after': 'the destination asked to retry later (Retry-After)',
  'in-progress': 'another attempt holds the idempotency lease',
  'group-blocked': 'an earlier message of the same alert (FIFO group) was not delivered',
};

/** The state of the idempotency claim. */
export type ClaimOutcome =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'already-sent' }
  | { readonly kind: 'in-progress'; readonly leaseUntilMs: number };

/** What to do with a job before (or instead of) sending it. */
export type BeforeSend =
  | { readonly action: 'send'; readonly probe: boolean }
  | { readonly action: 'skip-duplicate' }
  | { readonly action: 'hold'; readonly reason: HoldReason; readonly untilMs: number };

/**
 * The gate, checked first from the (cached) breaker state, before any write: a destination held by
 * a Retry-After earlier in this batch, or a shut breaker, holds the job without claiming it (an
 * outage costs no DynamoDB writes per held message).
 */
export function decideGate(breaker: BreakerGate, heldUntilMs: number | undefined, nowMs: number): BeforeSend {
  if (heldUntilMs !== undefined && heldUntilMs > nowMs) return { action: 'hold', reason: 'retry-after', untilMs: heldUntilMs };
  if (!breaker.allow) return { action: 'hold', reason: breaker.why === 'open' ? 'breaker-open' : 'probe-in-flight', untilMs: breaker.retryAtMs };
  return { action: 'send', probe: breaker.probe };
}

/**
 * After the idempotency claim: a job already sent is skipped (a redelivered job notifies once); a
 * job whose lease another attempt holds waits for the lease to end.
 */
export function decideClaim(claim: ClaimOutcome): BeforeSend | null {
  if (claim.kind === 'already-sent') return { action: 'skip-duplicate' };
  if (claim.kind === 'in-progress') return { action: 'hold', reason: 'in-progress', untilMs: claim.leaseUntilMs };
  return null;
}

/**
 * What to do after the attempt. `retry` counts against the destination's breaker only when the
 * destination itself answered badly (`countsAsBreakerFailure`); `fail-batch` is a bug or an unknown
 * failure: the handler releases what it holds and lets the invocation fail.
 */
export type AfterSend =
  | { readonly action: 'delivered' }
  | { readonly action: 'retry'; readonly reason: DeliveryFailureReason; readonly delayMs: number; readonly countsAsBreakerFailure: boolean; readonly detail: string }
  | { readonly action: 'dead-letter'; readonly reason: DeliveryFailureReason; readonly detail: string }
  | { readonly action: 'fail-batch'; readonly detail: string };

/** Backoff by receive count (1st receive → base, doubling, capped). */
export function backoffMs(receiveCount: number, cfg: RetryConfig): number {
  const n = Math.max(1, Math.floor(receiveCount));
  return Math.min(cfg.maxBackoffMs, cfg.baseMs * 2 ** Math.min(n - 1, 20));
}

/** The visibility delay for a held or failed job: at least `untilMs`, at least the backoff, at most SQS's 12 h. */
export function holdDelayMs(untilMs: number | undefined, nowMs: number, receiveCount: number, cfg: RetryConfig): number {
  const floor = untilMs !== undefined ? untilMs - nowMs : 0;
  // The first hold of a job waits only as long as asked; later receives back off.
  const backoff = receiveCount > 1 ? backoffMs(receiveCount - 1, cfg) : 0;
  return Math.min(SQS_MAX_VISIBILITY_MS, Math.max(1000, floor, backoff));
}

/** Decides what follows a send. */
export function decideAfterSend(result: SendResult, nowMs: number, receiveCount: number, cfg: RetryConfig): Exclude<AfterSend, { action: 'fail-batch' }> {
  if (result.ok) return { action: 'delivered' };
  if (!result.retryable) return { action: 'dead-letter', reason: result.reason, detail: result.detail };
  // Retry-After is honoured exactly (at least); without it, exponential backoff by receive count.
  const delayMs =
    result.retryAfterMs !== undefined ? holdDelayMs(nowMs + result.retryAfterMs, nowMs, receiveCount, cfg) : Math.min(SQS_MAX_VISIBILITY_MS, backoffMs(receiveCount, cfg));
  return { action: 'retry', reason: result.reason, delayMs, countsAsBreakerFailure: true, detail: result.detail };
}

/**
 * Decides what follows a render or send that threw instead of answering, by the one policy
 * ({@link failureAction}): a {@link RenderError} or another permanent error is dead-lettered
 * (reason `render` or `client`); a transient error (ours: DynamoDB, the secret store) is retried
 * with backoff but never counted against the destination, which did not answer; anything else is a
 * bug and fails the batch. `isTransient` classifies errors of the libraries the adapter wraps.
 */
export function decideAfterThrow(err: unknown, isTransient: (e: unknown) => boolean, receiveCount: number, cfg: RetryConfig): AfterSend {
  const detail = redactSecrets(errorMessage(err)).slice(0, MAX_FAILURE_DETAIL_CHARS);
  switch (failureAction(err, isTransient)) {
    case 'dead-letter':
      return { action: 'dead-letter', reason: err instanceof RenderError ? 'render' : 'client', detail };
    case 'retry':
      return { action: 'retry', reason: 'other', delayMs: Math.min(SQS_MAX_VISIBILITY_MS, backoffMs(receiveCount, cfg)), countsAsBreakerFailure: false, detail };
    case 'fail-batch':
      return { action: 'fail-batch', detail };
  }
}

/**
 * The hold of a job whose half-open probe lease another instance took between our gate and our
 * claim of it: wait for that probe (the breaker's state read again says until when), or a second
 * when the breaker let go of it meanwhile.
 */
export function decideProbeTaken(again: BreakerGate, nowMs: number): BeforeSend & { action: 'hold' } {
  return { action: 'hold', reason: 'probe-in-flight', untilMs: again.allow ? nowMs + 1000 : again.retryAtMs };
}

/** What an outcome does to the destination's breaker. */
export const BREAKER_UPDATES = ['success', 'failure', 'release-probe', 'none'] as const;
/** One of {@link BREAKER_UPDATES}. */
export type BreakerUpdate = (typeof BREAKER_UPDATES)[number];

/** Readable text for each {@link BreakerUpdate}. */
export const BREAKER_UPDATE_TEXT: Readonly<Record<BreakerUpdate, string>> = {
  success: 'the destination accepted it: a success for its breaker (closes a half-open one)',
  failure: 'the destination failed: a failure for its breaker (opens it at the threshold)',
  'release-probe': 'no verdict on the destination: the probe lease is handed back',
  none: 'nothing to write: a closed breaker with no failures stays as it is',
};

/**
 * The breaker write an outcome calls for. Only the destination's own answer counts: a delivery is
 * a success (written only when it changes something: a probe, or failures to reset); a retryable
 * answer is a failure; our own failures (a render bug, a DynamoDB error, a bug) and permanent
 * refusals give no verdict, so a probe they ended is handed back and nothing else is written.
 */
export function decideBreakerUpdate(after: AfterSend, probe: boolean, atGate: BreakerState): BreakerUpdate {
  switch (after.action) {
    case 'delivered':
      return probe || needsSuccessWrite(atGate) ? 'success' : 'none';
    case 'retry':
      if (after.countsAsBreakerFailure) return 'failure';
      return probe ? 'release-probe' : 'none';
    case 'dead-letter':
    case 'fail-batch':
      return probe ? 'release-probe' : 'none';
  }
}

/**
 * Until when the rest of the batch holds the destination after this answer: a Retry-After the
 * destination sent with a retryable failure (a 429) is honoured for every later job of the batch
 * to it, without sending (undefined: no hold).
 */
export function heldUntilAfter(result: SendResult | undefined, after: AfterSend, nowMs: number): number | undefined {
  if (after.action !== 'retry' || !result || result.ok || result.retryAfterMs === undefined) return undefined;
  return nowMs + result.retryAfterMs;
}

/** Why a message of the batch is handed back unprocessed. */
export const HAND_BACK_REASONS = ['group-blocked', 'over-budget'] as const;
/** One of {@link HAND_BACK_REASONS}. */
export type HandBackReason = (typeof HAND_BACK_REASONS)[number];

/** Readable text for each {@link HandBackReason}. */
export const HAND_BACK_REASON_TEXT: Readonly<Record<HandBackReason, string>> = {
  'group-blocked': 'an earlier message of the same alert (FIFO group) was not delivered: this one waits behind it',
  'over-budget': "the batch's time budget is spent: handed back without sending",
};

/** How long a message handed back for an exhausted batch budget stays invisible. */
export const OVER_BUDGET_DELAY_MS = 1000;

/** Whether the batch loop processes a message, or hands it back unsent with a delay. */
export type BatchItemDecision = { readonly action: 'process' } | { readonly action: 'hand-back'; readonly reason: HandBackReason; readonly delayMs: number };

/**
 * The batch loop's decision per message, before any I/O. FIFO: once a message of a group (an
 * alert) is not delivered, the later messages of that group in the batch wait with the same
 * delay, so a resolution never overtakes its firing. Once the batch's time budget is spent, the
 * rest is handed back, so a slow destination cannot run the function into its timeout.
 * `groupDelayMs` is the delay of the group's earlier failed message (undefined: none failed).
 */
export function decideBatchItem(groupDelayMs: number | undefined, elapsedMs: number, budgetMs: number): BatchItemDecision {
  if (groupDelayMs !== undefined) return { action: 'hand-back', reason: 'group-blocked', delayMs: groupDelayMs };
  if (elapsedMs > budgetMs) return { action: 'hand-back', reason: 'over-budget', delayMs: OVER_BUDGET_DELAY_MS };
  return { action: 'process' };
}

/**
 * What follows an error thrown while handling a message outside a job's render and send (our
 * DynamoDB or SQS calls), by the one policy ({@link failureAction}): retry the message after the
 * first backoff step (never counted against the destination), dead-letter it with the reason, or
 * fail the invocation (a bug: Lambda redelivers the batch; jobs already sent are skipped by their
 * idempotency records).
 */
export function decideRecordError(
  err: unknown,
  isTransient: (e: unknown) => boolean,
  cfg: RetryConfig,
): { readonly action: 'retry'; readonly delayMs: number } | { readonly action: 'dead-letter'; readonly detail: string } | { readonly action: 'fail-batch' } {
  switch (failureAction(err, isTransient)) {
    case 'retry':
      return { action: 'retry', delayMs: cfg.baseMs };
    case 'dead-letter':
      return { action: 'dead-letter', detail: redactSecrets(errorMessage(err)) };
    case 'fail-batch':
      return { action: 'fail-batch' };
  }
}
