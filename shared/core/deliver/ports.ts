/**
 * The ports of the channel pipeline (`pipeline.ts`): what delivering one notification job needs
 * from the outside world (docs/design.md, "The channel pipeline"). The channel functions implement
 * them with DynamoDB, SQS and Powertools (shared/adapters), tests and simulations with the
 * in-memory implementations beside this file (`in-memory.ts`).
 */
import type { BreakerState } from '../breaker/index.ts';
import type { SlackThread } from '../dispatch/record/alert-record.ts';
import { TransientError } from '../errors/index.ts';
import type { Channel, NotificationJob } from '../model/index.ts';
import type { DeliveryFailureReason } from '../model/metrics.ts';
import type { ClaimOutcome } from './decide.ts';

/** Statuses of a notification's idempotency item. */
export const NOTIFICATION_STATUSES = ['in-progress', 'sent', 'retrying', 'failed'] as const;
/** One of {@link NOTIFICATION_STATUSES}. */
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** A successful claim carries the token that later writes must match. */
export type Claim = (ClaimOutcome & { readonly kind: 'already-sent' | 'in-progress' }) | { readonly kind: 'claimed'; readonly token: string };

/**
 * Per-notification idempotency and delivery record, one per idempotency key. The claim succeeds
 * when the key is new, was released after a retryable failure (`retrying`), was dead-lettered
 * (`failed`: a redrive may send again), or when an `in-progress` lease expired (its holder died).
 * The successful send is ONE write that marks the key `sent` and is the delivery record.
 */
export interface NotificationStore {
  claim(job: NotificationJob, nowMs: number): Promise<Claim>;
  /** The one write of a delivered notification: status `sent` + the delivery record. */
  markSent(job: NotificationJob, token: string, r: { nowMs: number; latencyMs: number; detail?: string }): Promise<void>;
  /** Releases the claim after a retryable failure (`attempted`) or without sending (held). */
  release(job: NotificationJob, token: string, r: { nowMs: number; attempted: boolean; reason?: DeliveryFailureReason; detail?: string }): Promise<void>;
  /** Records a permanent failure (dead-lettered); a redrive from the DLQ may claim it again. */
  markFailed(job: NotificationJob, token: string, r: { nowMs: number; reason: DeliveryFailureReason; detail: string }): Promise<void>;
}

/** Our claim's lease expired and another attempt took the key over (transient: that attempt decides; a redelivery sees its outcome). */
export class ClaimLostError extends TransientError {}

/** Circuit-breaker state per destination, shared by every instance of a channel function. */
export interface BreakerStore {
  /** The breaker's state, possibly cached (at most the breaker's `cacheMs` old). */
  current(destinationId: string, nowMs: number): Promise<BreakerState>;
  /**
   * Applies a transition atomically. `transition` returns the next state, or null to leave it (e.g.
   * a probe already claimed). Returns the written state, or null when `transition` declined.
   */
  apply(destinationId: string, nowMs: number, transition: (s: BreakerState) => BreakerState | null): Promise<BreakerState | null>;
}

/** A transition kept losing races (more than its attempts of conflicting writers): transient. */
export class BreakerContentionError extends TransientError {}

/** Where and why a job is dead-lettered (message attributes of the DLQ message). */
export interface DeadLetterMeta {
  readonly groupId: string;
  readonly dedupId: string;
  readonly reason: string;
  readonly detail: string;
  readonly channel: string;
  readonly destinationId: string;
}

/** The channel queue operations beyond Lambda's own delete-on-success. */
export interface ChannelQueue {
  /** Sets each message's visibility timeout (seconds, 0..43200). */
  changeVisibility(entries: readonly { readonly receiptHandle: string; readonly seconds: number }[]): Promise<void>;
  /** Sends the original body to the dead-letter queue with the reason. */
  deadLetter(body: string, meta: DeadLetterMeta): Promise<void>;
}

/** The Slack thread of an alert's current activation (the alert record's `slackThread`). */
export interface SlackThreadStore {
  get(fingerprint: string): Promise<SlackThread | undefined>;
  /** Keeps the thread on the alert record (creating a bare item when dispatch has not committed yet). */
  set(fingerprint: string, thread: SlackThread, nowMs: number): Promise<void>;
}

/** What a channel function counts (metric `channel` dimension; failures also by `reason`). */
export interface DeliveryMetrics {
  sent(channel: Channel, latencyMs: number): void;
  failed(channel: Channel, reason: DeliveryFailureReason): void;
  deadLettered(channel: Channel): void;
  deferred(channel: Channel): void;
  breakerOpen(channel: Channel, open: boolean): void;
}

/** The log lines of the channel pipeline (Powertools Logger satisfies it). */
export interface DeliveryLog {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}
