/**
 * The channel handler shared by deliver-slack, deliver-email and deliver-pagerduty: one SQS batch
 * loop, parameterised by the channel's {@link Notifier}. Reading this file shows the whole path of
 * a notification job:
 *
 *   parse ─▶ breaker gate (cached) ─▶ idempotency claim ─▶ [probe lease] ─▶ render ─▶ send
 *     ─▶ delivered: one write (status `sent` + delivery record); breaker success only if needed
 *     ─▶ retryable: release claim, breaker failure, visibility = backoff / Retry-After, batch item failure
 *     ─▶ permanent (the destination refused, or the job cannot be rendered): job to the DLQ at once
 *        with the reason, record, message deleted (reported success); never a breaker failure
 *   held (breaker open, probe in flight, Retry-After earlier in the batch): visibility = the time to
 *   come back, batch item failure, nothing claimed (an outage costs no writes per held message).
 *
 * A thrown error (ours, not the destination's answer) goes through the one policy of
 * shared/core/errors `failureAction`, applied in one place per stage (decideAfterThrow for a job's
 * render and send, {@link ChannelHandler}'s record loop for everything else): retry the message,
 * dead-letter it, or fail the invocation (a bug: Lambda redelivers the batch; jobs already sent
 * are skipped by their idempotency records).
 *
 * FIFO: messages are processed in order; once a message of a group (= alert fingerprint) is not
 * delivered, the later messages of that group in the batch are failed too without sending, so a
 * resolution never overtakes its firing (Powertools' SqsFifoPartialProcessor with
 * skipGroupOnError does the same; this loop also needs the per-message visibility and the
 * per-destination hold, hence its own 100 lines).
 *
 * The decisions are the pure functions of shared/core/deliver and shared/core/breaker; this file
 * does the I/O they ask for. Metrics are flushed by the `logMetrics` middleware (handler.ts).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { claimProbe, gate, needsSuccessWrite, onFailure, onSuccess, releaseProbe, type BreakerConfig } from '../../core/breaker/index.ts';
import type { SendResult } from '../../core/deliver/classify.ts';
import { decideAfterSend, decideAfterThrow, decideClaim, decideGate, holdDelayMs, HOLD_REASON_TEXT, type AfterSend, type BeforeSend, type RetryConfig } from '../../core/deliver/decide.ts';
import { parseNotificationJob } from '../../core/deliver/job.ts';
import { renderJob, type Notifier } from '../../core/deliver/notifier.ts';
import { redactSecrets } from '../../core/deliver/redact.ts';
import { errorMessage, failureAction, FAILURE_ACTION_TEXT } from '../../core/errors/index.ts';
import type { Channel, Clock } from '../../core/model/index.ts';
import { CHANNEL_BATCH_BUDGET_MS } from '../../config/timing.ts';
import { isTransientError } from '../dynamodb/batch.ts';
import type { BreakerStore } from '../dynamodb/breaker-store.ts';
import { ClaimLostError, type NotificationStore } from '../dynamodb/notification-store.ts';
import type { DeliveryMetrics } from './metrics.ts';
import type { ChannelQueue } from './queue.ts';

/** The logger methods used (Powertools Logger satisfies it). */
export interface ChannelLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** Everything a channel handler needs; built by `<channel>DepsFromEnv` or by tests. */
export interface ChannelHandlerDeps<R> {
  readonly channel: Channel;
  readonly notifier: Notifier<R>;
  readonly notifications: NotificationStore;
  readonly breakers: BreakerStore;
  readonly queue: ChannelQueue;
  readonly metrics: DeliveryMetrics;
  readonly logger: ChannelLogger;
  readonly clock: Clock;
  readonly breaker: BreakerConfig;
  readonly retry: RetryConfig;
  /**
   * Wall-clock budget of one batch (ms, default CHANNEL_BATCH_BUDGET_MS of shared/config/timing.ts,
   * derived from the function timeout): once spent, the remaining messages are handed back without
   * sending, so a slow destination cannot run the function into its timeout (which would fail the
   * whole batch and leave claims in progress).
   */
  readonly batchBudgetMs?: number;
  /** Elapsed-time source of the batch budget (ms, monotonic): `performance.now` unless a test gives its own. */
  readonly stopwatch?: () => number;
  /** Which thrown errors are transient (default: the AWS SDK's, {@link isTransientError}). */
  readonly isTransient?: (err: unknown) => boolean;
}

/** A channel Lambda handler: SQS batch in, partial batch response out. */
export type ChannelHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** What happened to one record (for the visibility change and the response). */
type RecordResult = { readonly ok: true } | { readonly ok: false; readonly delayMs: number };

/** Builds the handler. */
export function createChannelHandler<R>(deps: ChannelHandlerDeps<R>): ChannelHandler {
  const { channel, logger, metrics, clock } = deps;
  const isTransient = deps.isTransient ?? isTransientError;

  async function processRecord(rec: SQSRecord, held: Map<string, number>): Promise<RecordResult> {
    const parsed = parseNotificationJob(rec.body);
    const receiveCount = Number(rec.attributes?.ApproximateReceiveCount ?? '1') || 1;
    if (!parsed.ok) {
      await deps.queue.deadLetter(rec.body, { groupId: rec.attributes?.MessageGroupId ?? 'invalid', dedupId: rec.messageId, reason: 'client', detail: parsed.reason, channel, destinationId: '-' });
      metrics.failed(channel, 'client');
      metrics.deadLettered(channel);
      logger.error('invalid notification job dead-lettered', { messageId: rec.messageId, reason: parsed.reason });
      return { ok: true };
    }
    const job = parsed.job;
    const ctx = { idempotencyKey: job.idempotencyKey, destinationId: job.destinationId, fingerprint: job.transition.fingerprint, kind: job.transition.kind };
    let now = clock.now();

    // 1. Breaker gate from the cached state: no write while the destination is known to be down.
    const state = await deps.breakers.current(job.destinationId, now);
    metrics.breakerOpen(channel, state.state === 'open');
    const g = decideGate(gate(state, now, deps.breaker), held.get(job.destinationId), now);
    if (g.action === 'hold') return hold(g, now, receiveCount, ctx);

    // 2. Idempotency claim: a job already sent is acknowledged without sending again.
    const claim = await deps.notifications.claim(job, now);
    const c = decideClaim(claim);
    if (c?.action === 'skip-duplicate') {
      logger.info('duplicate job skipped: already sent', ctx);
      return { ok: true };
    }
    if (c?.action === 'hold') return hold(c, now, receiveCount, ctx);
    if (claim.kind !== 'claimed') return hold({ action: 'hold', reason: 'in-progress', untilMs: now + 1000 }, now, receiveCount, ctx);
    const token = claim.token;

    // 3. Half-open: one probe at a time, by a conditional write (a lease).
    const probe = g.action === 'send' && g.probe;
    if (probe) {
      const claimed = await deps.breakers.apply(job.destinationId, now, (s) => claimProbe(s, now, deps.breaker));
      if (!claimed) {
        await deps.notifications.release(job, token, { nowMs: now, attempted: false, reason: 'breaker-open', detail: 'probe taken by another instance' });
        const again = gate(await deps.breakers.current(job.destinationId, now), now, deps.breaker);
        return hold({ action: 'hold', reason: 'probe-in-flight', untilMs: again.allow ? now + 1000 : again.retryAtMs }, now, receiveCount, ctx);
      }
    }

    // 4. Render and send. A throw is not the destination's answer: the one policy decides (core).
    let result: SendResult | undefined;
    let after: Exclude<AfterSend, { action: 'fail-batch' }>;
    try {
      result = await deps.notifier.send(job, renderJob(deps.notifier, job), now);
      now = clock.now();
      after = decideAfterSend(result, now, receiveCount, deps.retry);
    } catch (err) {
      now = clock.now();
      const thrown = decideAfterThrow(err, isTransient, receiveCount, deps.retry);
      if (thrown.action === 'fail-batch') {
        // Hand the claim and the probe back so the redelivered batch is not held behind our leases.
        await guardClaim(() => deps.notifications.release(job, token, { nowMs: now, attempted: true, reason: 'other', detail: thrown.detail }), ctx);
        if (probe) await deps.breakers.apply(job.destinationId, now, (s) => releaseProbe(s));
        throw err;
      }
      after = thrown;
    }

    switch (after.action) {
      case 'delivered': {
        const latencyMs = Math.max(0, now - job.transition.atMs);
        await guardClaim(() => deps.notifications.markSent(job, token, { nowMs: now, latencyMs, ...(result?.ok && result.detail ? { detail: result.detail } : {}) }), ctx);
        if (probe || needsSuccessWrite(state)) await deps.breakers.apply(job.destinationId, now, (s) => onSuccess(s, now, deps.breaker));
        metrics.sent(channel, latencyMs);
        logger.info('notification sent', { ...ctx, latencyMs, pipelineMs: now - job.transition.emittedAtMs });
        return { ok: true };
      }
      case 'retry': {
        await guardClaim(() => deps.notifications.release(job, token, { nowMs: now, attempted: true, reason: after.reason, detail: after.detail }), ctx);
        // Only the destination's own answer counts against its breaker; our failures release the probe.
        const next = after.countsAsBreakerFailure
          ? await deps.breakers.apply(job.destinationId, now, (s) => onFailure(s, now, deps.breaker))
          : probe
            ? await deps.breakers.apply(job.destinationId, now, (s) => releaseProbe(s))
            : undefined;
        if (result && !result.ok && result.retryAfterMs !== undefined) held.set(job.destinationId, now + result.retryAfterMs);
        metrics.failed(channel, after.reason);
        logger.warn('notification failed; will retry', { ...ctx, reason: after.reason, detail: after.detail, retryInMs: after.delayMs, breaker: next?.state });
        return { ok: false, delayMs: after.delayMs };
      }
      case 'dead-letter': {
        await deps.queue.deadLetter(rec.body, { groupId: job.transition.fingerprint, dedupId: `${job.idempotencyKey}#${rec.messageId}`, reason: after.reason, detail: after.detail, channel, destinationId: job.destinationId });
        await guardClaim(() => deps.notifications.markFailed(job, token, { nowMs: now, reason: after.reason, detail: after.detail }), ctx);
        if (probe) await deps.breakers.apply(job.destinationId, now, (s) => releaseProbe(s));
        metrics.failed(channel, after.reason);
        metrics.deadLettered(channel);
        logger.error('notification failed permanently; dead-lettered', { ...ctx, reason: after.reason, detail: after.detail });
        return { ok: true };
      }
    }
  }

  function hold(h: BeforeSend & { action: 'hold' }, now: number, receiveCount: number, ctx: Record<string, unknown>): RecordResult {
    const delayMs = holdDelayMs(h.untilMs, now, receiveCount, deps.retry);
    metrics.deferred(channel);
    logger.info('notification deferred', { ...ctx, why: HOLD_REASON_TEXT[h.reason], retryInMs: delayMs });
    return { ok: false, delayMs };
  }

  async function guardClaim(write: () => Promise<void>, ctx: Record<string, unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      // Our lease ran out and another attempt owns the key now: it decides; we must not fail the batch.
      if (err instanceof ClaimLostError) logger.warn('idempotency claim lost before the final write', { ...ctx, error: err.message });
      else throw err;
    }
  }

  /**
   * The loop's one application of `failureAction` to an error thrown outside a job's render and
   * send (our DynamoDB or SQS calls): retry the message (not counted against the destination),
   * dead-letter it with the reason, or fail the invocation (returned as `fail-batch`).
   */
  async function onRecordError(rec: SQSRecord, err: unknown): Promise<RecordResult | 'fail-batch'> {
    const action = failureAction(err, isTransient);
    const detail = redactSecrets(errorMessage(err));
    const log = { messageId: rec.messageId, action: FAILURE_ACTION_TEXT[action], error: err };
    if (action === 'retry') {
      logger.warn('record processing failed; will retry', log);
      return { ok: false, delayMs: deps.retry.baseMs };
    }
    if (action === 'fail-batch') {
      logger.error('record processing failed unexpectedly; the invocation fails', log);
      return 'fail-batch';
    }
    await deps.queue.deadLetter(rec.body, { groupId: rec.attributes?.MessageGroupId ?? 'invalid', dedupId: rec.messageId, reason: 'client', detail, channel, destinationId: '-' });
    metrics.failed(channel, 'client');
    metrics.deadLettered(channel);
    logger.error('record failed permanently; dead-lettered', log);
    return { ok: true };
  }

  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: { id: string; receiptHandle: string; delayMs: number }[] = [];
    const blockedGroups = new Map<string, number>();
    const held = new Map<string, number>();
    const now = deps.stopwatch ?? (() => performance.now());
    const started = now();
    const budget = deps.batchBudgetMs ?? CHANNEL_BATCH_BUDGET_MS;
    let fatal: { err: unknown } | undefined;
    for (const rec of event.Records) {
      const group = rec.attributes?.MessageGroupId;
      // A later message of a group that already failed, or any message once the budget is spent: hand back unsent.
      const overBudget = now() - started > budget;
      const blocked = (group !== undefined ? blockedGroups.get(group) : undefined) ?? (overBudget ? 1000 : undefined);
      if (blocked !== undefined) {
        failures.push({ id: rec.messageId, receiptHandle: rec.receiptHandle, delayMs: blocked });
        if (group !== undefined) blockedGroups.set(group, blocked);
        metrics.deferred(channel);
        continue;
      }
      let r: RecordResult;
      try {
        r = await processRecord(rec, held);
      } catch (err) {
        const handled = await onRecordError(rec, err);
        if (handled === 'fail-batch') {
          fatal = { err };
          break;
        }
        r = handled;
      }
      if (!r.ok) {
        failures.push({ id: rec.messageId, receiptHandle: rec.receiptHandle, delayMs: r.delayMs });
        if (group !== undefined) blockedGroups.set(group, r.delayMs);
      }
    }
    if (failures.length) {
      try {
        await deps.queue.changeVisibility(failures.map((f) => ({ receiptHandle: f.receiptHandle, seconds: f.delayMs / 1000 })));
      } catch (err) {
        // The messages come back after the queue's visibility timeout instead: earlier, never lost.
        logger.warn('could not extend visibility of failed messages', { error: err });
      }
    }
    // A bug: fail the invocation; nothing is acknowledged and Lambda delivers the batch again.
    if (fatal) throw fatal.err;
    return { batchItemFailures: failures.map((f) => ({ itemIdentifier: f.id })) };
  };
}
