/**
 * In-memory implementations of the channel pipeline's ports (`ports.ts`), with the semantics of
 * the DynamoDB and SQS adapters that the pipeline relies on: a claim that only one attempt holds
 * (lease, token), writes guarded by the token, breaker transitions applied atomically. They serve
 * fast tests and simulations; production uses shared/adapters.
 */
import { CLOSED, type BreakerState } from '../breaker/index.ts';
import type { SlackThread } from '../dispatch/record/alert-record.ts';
import type { Channel, NotificationJob } from '../model/index.ts';
import { METRIC, type DeliveryFailureReason } from '../model/metrics.ts';
import { ClaimLostError, type BreakerStore, type ChannelQueue, type Claim, type DeadLetterMeta, type DeliveryLog, type DeliveryMetrics, type NotificationStatus, type NotificationStore, type SlackThreadStore } from './ports.ts';

/** A notification item as the in-memory store keeps it. */
export interface MemoryNotification {
  readonly status: NotificationStatus;
  readonly token: string;
  readonly leaseUntilMs?: number;
  readonly attempts: number;
  readonly outcome?: string;
  readonly lastReason?: DeliveryFailureReason;
}

/** {@link NotificationStore} in a Map: the claim conditions of the DynamoDB adapter, a counter for tokens. */
export class InMemoryNotificationStore implements NotificationStore {
  readonly items = new Map<string, MemoryNotification>();
  /** Requests as DynamoDB would bill them (claims and guarded writes, failed ones included). */
  requests = 0;
  #tokens = 0;

  constructor(private readonly leaseMs: number) {}

  async claim(job: NotificationJob, nowMs: number): Promise<Claim> {
    this.requests++;
    const cur = this.items.get(job.idempotencyKey);
    if (cur?.status === 'sent') return { kind: 'already-sent' };
    if (cur?.status === 'in-progress' && (cur.leaseUntilMs ?? 0) >= nowMs) return { kind: 'in-progress', leaseUntilMs: cur.leaseUntilMs ?? nowMs + this.leaseMs };
    const token = `t${++this.#tokens}`;
    this.items.set(job.idempotencyKey, { status: 'in-progress', token, leaseUntilMs: nowMs + this.leaseMs, attempts: cur?.attempts ?? 0 });
    return { kind: 'claimed', token };
  }

  async markSent(job: NotificationJob, token: string): Promise<void> {
    this.#finish(job, token, (cur) => ({ status: 'sent', token, attempts: cur.attempts + 1, outcome: 'sent' }));
  }

  async release(job: NotificationJob, token: string, r: { attempted: boolean; reason?: DeliveryFailureReason }): Promise<void> {
    this.#finish(job, token, (cur) => ({ status: 'retrying', token, attempts: cur.attempts + (r.attempted ? 1 : 0), outcome: r.attempted ? 'retrying' : 'held', lastReason: r.reason ?? 'other' }));
  }

  async markFailed(job: NotificationJob, token: string, r: { reason: DeliveryFailureReason }): Promise<void> {
    this.#finish(job, token, (cur) => ({ status: 'failed', token, attempts: cur.attempts + 1, outcome: 'dead-lettered', lastReason: r.reason }));
  }

  #finish(job: NotificationJob, token: string, next: (cur: MemoryNotification) => MemoryNotification): void {
    this.requests++;
    const cur = this.items.get(job.idempotencyKey);
    if (!cur || cur.token !== token) throw new ClaimLostError(`claim on ${job.idempotencyKey} was taken over`);
    this.items.set(job.idempotencyKey, next(cur));
  }
}

/** {@link BreakerStore} in a Map (no cache: every read is current); counts writes. */
export class InMemoryBreakerStore implements BreakerStore {
  readonly states = new Map<string, BreakerState>();
  /** Transitions written. */
  writes = 0;

  async current(destinationId: string): Promise<BreakerState> {
    return this.states.get(destinationId) ?? CLOSED;
  }

  async apply(destinationId: string, _nowMs: number, transition: (s: BreakerState) => BreakerState | null): Promise<BreakerState | null> {
    const cur = this.states.get(destinationId) ?? CLOSED;
    const next = transition(cur);
    if (next === null) return null;
    if (next === cur || next.version === cur.version) return cur;
    this.states.set(destinationId, next);
    this.writes++;
    return next;
  }
}

/** {@link ChannelQueue} that keeps what it is asked: visibility changes and dead letters. */
export class CollectingChannelQueue implements ChannelQueue {
  readonly visibility: { readonly receiptHandle: string; readonly seconds: number }[] = [];
  readonly deadLetters: { readonly body: string; readonly meta: DeadLetterMeta }[] = [];

  async changeVisibility(entries: readonly { readonly receiptHandle: string; readonly seconds: number }[]): Promise<void> {
    this.visibility.push(...entries);
  }

  async deadLetter(body: string, meta: DeadLetterMeta): Promise<void> {
    this.deadLetters.push({ body, meta });
  }
}

/** {@link SlackThreadStore} in a Map. */
export class InMemorySlackThreadStore implements SlackThreadStore {
  readonly threads = new Map<string, SlackThread>();
  async get(fingerprint: string): Promise<SlackThread | undefined> {
    return this.threads.get(fingerprint);
  }
  async set(fingerprint: string, thread: SlackThread): Promise<void> {
    this.threads.set(fingerprint, thread);
  }
}

/** A {@link DeliveryLog} that keeps its lines (tests assert on effects; the lines help when one fails). */
export class CollectingLog implements DeliveryLog {
  readonly lines: { readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly extra: Record<string, unknown> }[] = [];
  info(message: string, extra: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, extra });
  }
  warn(message: string, extra: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, extra });
  }
  error(message: string, extra: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, extra });
  }
}

/** {@link DeliveryMetrics} that keeps counts in memory (tests, local console, benchmark). */
export class InMemoryDeliveryMetrics implements DeliveryMetrics {
  readonly counts = new Map<string, number>();
  readonly latenciesMs: number[] = [];
  #add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  /** Count of a metric, e.g. `count('NotificationsFailed', { reason: 'server' })`. */
  count(name: string, dims: { reason?: string } = {}): number {
    let n = 0;
    for (const [k, v] of this.counts) {
      const [metric, , reason] = k.split('|');
      if (metric === name && (dims.reason === undefined || reason === dims.reason)) n += v;
    }
    return n;
  }
  sent(channel: Channel, latencyMs: number): void {
    this.#add(`${METRIC.notificationsSent}|${channel}`);
    this.latenciesMs.push(latencyMs);
  }
  failed(channel: Channel, reason: DeliveryFailureReason): void {
    this.#add(`${METRIC.notificationsFailed}|${channel}|${reason}`);
  }
  deadLettered(channel: Channel): void {
    this.#add(`${METRIC.notificationsDeadLettered}|${channel}`);
  }
  deferred(channel: Channel): void {
    this.#add(`${METRIC.notificationsDeferred}|${channel}`);
  }
  breakerOpen(channel: Channel, open: boolean): void {
    if (open) this.#add(`${METRIC.breakerOpen}|${channel}`);
  }
}
