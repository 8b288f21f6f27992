/**
 * The channel pipeline, shared by deliver-slack, deliver-email and deliver-pagerduty: one
 * notification job from its channel queue to the destination. Read the list top to bottom
 * (docs/design.md, "The channel pipeline"); every decision is a pure function of `decide.ts` and
 * shared/core/breaker, every stage does only the I/O they ask for:
 *
 *   gate ─▶ claim ─▶ probe ─▶ send ─▶ settle
 *   held (breaker open, probe in flight, Retry-After earlier in the batch): visibility = the time to
 *   come back, nothing claimed (an outage costs no writes per held message);
 *   delivered: one write (status `sent` + delivery record); a breaker success only if needed;
 *   retryable: claim released, breaker failure, visibility = backoff / Retry-After;
 *   permanent (the destination refused, or the job cannot be rendered): to the DLQ at once with
 *   the reason, recorded, message deleted; never a breaker failure.
 *
 * {@link deliverBatch} runs it over one SQS batch in order, keeping FIFO order per alert and the
 * batch's time budget. A thrown error (ours, not the destination's answer) goes through the one
 * policy of shared/core/errors `failureAction`, applied in one place per stage
 * ({@link decideAfterThrow} for a job's render and send, {@link decideRecordError} for the rest).
 */
import { claimProbe, gate, onFailure, onSuccess, releaseProbe, type BreakerConfig, type BreakerState } from '../breaker/index.ts';
import { FAILURE_ACTION_TEXT } from '../errors/index.ts';
import type { Channel, Clock, NotificationJob } from '../model/index.ts';
import type { Enrichment } from '../enrich/types.ts';
import { effect, next, runStages, stop, type Stage } from '../pipeline/stage.ts';
import type { SendResult } from './classify.ts';
import {
  decideAfterSend,
  decideAfterThrow,
  decideBatchItem,
  decideBreakerUpdate,
  decideClaim,
  decideGate,
  decideProbeTaken,
  decideRecordError,
  heldUntilAfter,
  holdDelayMs,
  HOLD_REASON_TEXT,
  type AfterSend,
  type BeforeSend,
  type BreakerUpdate,
  type RetryConfig,
} from './decide.ts';
import { parseNotificationJob } from './job.ts';
import { renderJob, type Notifier } from './notifier.ts';
import { ClaimLostError, type BreakerStore, type ChannelQueue, type DeliveryLog, type DeliveryMetrics, type NotificationStore } from './ports.ts';

/** One message of a channel queue, as the batch loop needs it. */
export interface ChannelMessage {
  readonly id: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** The FIFO group (the alert's fingerprint), when the queue gives one. */
  readonly groupId?: string;
  /** How many times SQS has delivered it (1 on the first receive). */
  readonly receiveCount: number;
}

/** The ports and settings of the channel pipeline. */
export interface DeliveryDeps<R = unknown> {
  readonly channel: Channel;
  readonly notifier: Notifier<R>;
  readonly notifications: NotificationStore;
  readonly breakers: BreakerStore;
  readonly queue: ChannelQueue;
  readonly metrics: DeliveryMetrics;
  readonly logger: DeliveryLog;
  readonly clock: Clock;
  readonly breaker: BreakerConfig;
  readonly retry: RetryConfig;
  /** Which thrown errors are transient (the adapters' SDK errors). */
  readonly isTransient: (err: unknown) => boolean;
  /** Wall-clock budget of one batch (ms): once spent, the remaining messages are handed back unsent. */
  readonly batchBudgetMs: number;
  /** Elapsed-time source of the batch budget (ms, monotonic). */
  readonly stopwatch: () => number;
  /** The enrichment stage (docs/enrichment.md); absent: jobs are rendered as they come. */
  readonly enrich?: JobEnricher;
}

/**
 * The enrichment stage of a channel (shared/core/enrich): run after the claim, just before
 * rendering, so a duplicate or a held job costs no lookup. Neither method may delay past its
 * budget; a throw is logged and the job goes without enrichment.
 */
export interface JobEnricher {
  enrich(job: NotificationJob, nowMs: number): Promise<Enrichment | undefined>;
  /** After the enriched job was delivered (e.g. schedule the Slack logs follow-up). */
  delivered?(job: NotificationJob, nowMs: number): Promise<void>;
}

/**
 * The job as rendered: the enrichment stage's result set, or (no stage, or it threw) none at all:
 * an `enrichment` arriving on the queue is dropped, never rendered.
 */
async function enrichedJob(job: NotificationJob, deps: DeliveryDeps, nowMs: number): Promise<NotificationJob> {
  const { enrichment: _ignored, ...bare } = job;
  if (!deps.enrich) return bare;
  try {
    const enrichment = await deps.enrich.enrich(bare, nowMs);
    return enrichment ? { ...bare, enrichment } : bare;
  } catch (err) {
    deps.logger.warn('enrichment failed; sending without it', { ...about(job), error: err });
    return bare;
  }
}

/** What happened to one message: done (deleted by Lambda), or handed back with a visibility delay. */
export type MessageResult = { readonly ok: true } | { readonly ok: false; readonly delayMs: number };

/** One job in the channel pipeline; each stage fills its part. */
export interface DeliveryContext {
  readonly message: ChannelMessage;
  readonly job: NotificationJob;
  /** The clock when the stage began (read again after the send). */
  readonly nowMs: number;
  /** Destinations held by a Retry-After earlier in this batch (until when, epoch ms); shared by the batch's jobs. */
  readonly heldUntil: Map<string, number>;
  /** gate: the breaker as read (cached) and whether this send is its half-open probe. */
  readonly breakerAtGate: BreakerState | undefined;
  readonly probe: boolean;
  /** claim: our claim token. */
  readonly token: string | undefined;
  /** send: the job as rendered (with its enrichment). */
  readonly sent?: NotificationJob;
  /** send: the destination's answer (absent when render or send threw) and what follows. */
  readonly result: SendResult | undefined;
  readonly after: Exclude<AfterSend, { action: 'fail-batch' }> | undefined;
}

/** A stage of the channel pipeline. */
export type DeliveryStage = Stage<DeliveryContext, DeliveryDeps, MessageResult>;

/** Log fields naming the job. */
function about(job: NotificationJob): Record<string, unknown> {
  return { idempotencyKey: job.idempotencyKey, destinationId: job.destinationId, fingerprint: job.transition.fingerprint, kind: job.transition.kind };
}

/** Holds the job: its message comes back after the hold (visibility), counted as deferred. */
function hold(h: BeforeSend & { action: 'hold' }, ctx: DeliveryContext, deps: DeliveryDeps): { readonly stop: MessageResult } {
  const delayMs = holdDelayMs(h.untilMs, ctx.nowMs, ctx.message.receiveCount, deps.retry);
  deps.metrics.deferred(deps.channel);
  deps.logger.info('notification deferred', { ...about(ctx.job), why: HOLD_REASON_TEXT[h.reason], retryInMs: delayMs });
  return stop({ ok: false, delayMs });
}

/** A write of our claim that may find the claim taken over (our lease ran out): that attempt decides; we must not fail the batch. */
async function guardClaim(write: () => Promise<void>, job: NotificationJob, deps: DeliveryDeps): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (err instanceof ClaimLostError) deps.logger.warn('idempotency claim lost before the final write', { ...about(job), error: err.message });
    else throw err;
  }
}

/** Applies a {@link BreakerUpdate} to the destination's breaker (nothing for `none`). */
async function updateBreaker(update: BreakerUpdate, ctx: DeliveryContext, deps: DeliveryDeps, nowMs: number): Promise<BreakerState | null | undefined> {
  const id = ctx.job.destinationId;
  switch (update) {
    case 'success':
      return deps.breakers.apply(id, nowMs, (s) => onSuccess(s, nowMs, deps.breaker));
    case 'failure':
      return deps.breakers.apply(id, nowMs, (s) => onFailure(s, nowMs, deps.breaker));
    case 'release-probe':
      return deps.breakers.apply(id, nowMs, (s) => releaseProbe(s));
    case 'none':
      return undefined;
  }
}

/** gate: the breaker from its cached state and a Retry-After earlier in the batch; a hold costs no write. */
const gateStage = effect<DeliveryContext, DeliveryDeps, MessageResult>('gate', async (ctx, deps) => {
  const state = await deps.breakers.current(ctx.job.destinationId, ctx.nowMs);
  deps.metrics.breakerOpen(deps.channel, state.state === 'open');
  const g = decideGate(gate(state, ctx.nowMs, deps.breaker), ctx.heldUntil.get(ctx.job.destinationId), ctx.nowMs);
  if (g.action === 'hold') return hold(g, ctx, deps);
  return next({ ...ctx, breakerAtGate: state, probe: g.action === 'send' && g.probe });
});

/** claim: the idempotency key; a job already sent is acknowledged without sending again. */
const claimStage = effect<DeliveryContext, DeliveryDeps, MessageResult>('claim', async (ctx, deps) => {
  const claim = await deps.notifications.claim(ctx.job, ctx.nowMs);
  const c = decideClaim(claim);
  if (c?.action === 'skip-duplicate') {
    deps.logger.info('duplicate job skipped: already sent', about(ctx.job));
    return stop({ ok: true });
  }
  if (c?.action === 'hold') return hold(c, ctx, deps);
  // decideClaim leaves only a successful claim here.
  return next({ ...ctx, token: (claim as { token: string }).token });
});

/** probe: a half-open breaker lets one probe through at a time, by a conditional write (a lease). */
const probeStage = effect<DeliveryContext, DeliveryDeps, MessageResult>('probe', async (ctx, deps) => {
  if (!ctx.probe) return next(ctx);
  const { job, nowMs } = ctx;
  const claimed = await deps.breakers.apply(job.destinationId, nowMs, (s) => claimProbe(s, nowMs, deps.breaker));
  if (claimed) return next(ctx);
  await deps.notifications.release(job, ctx.token!, { nowMs, attempted: false, reason: 'breaker-open', detail: 'probe taken by another instance' });
  const again = gate(await deps.breakers.current(job.destinationId, nowMs), nowMs, deps.breaker);
  return hold(decideProbeTaken(again, nowMs), ctx, deps);
});

/** send: render and send; the answer, or what was thrown, decided. A bug hands the claim and the probe back and fails the batch. */
const sendStage = effect<DeliveryContext, DeliveryDeps, MessageResult>('send', async (ctx, deps) => {
  const { job } = ctx;
  try {
    const sent = await enrichedJob(job, deps, ctx.nowMs);
    const result = await deps.notifier.send(sent, renderJob(deps.notifier, sent), ctx.nowMs);
    const nowMs = deps.clock.now();
    return next({ ...ctx, nowMs, sent, result, after: decideAfterSend(result, nowMs, ctx.message.receiveCount, deps.retry) });
  } catch (err) {
    const nowMs = deps.clock.now();
    const thrown = decideAfterThrow(err, deps.isTransient, ctx.message.receiveCount, deps.retry);
    if (thrown.action !== 'fail-batch') return next({ ...ctx, nowMs, after: thrown });
    // Hand the claim and the probe back so the redelivered batch is not held behind our leases.
    await guardClaim(() => deps.notifications.release(job, ctx.token!, { nowMs, attempted: true, reason: 'other', detail: thrown.detail }), job, deps);
    await updateBreaker(decideBreakerUpdate(thrown, ctx.probe, ctx.breakerAtGate!), ctx, deps, nowMs);
    throw err;
  }
});

/** settle: the outcome's one write, the breaker's transition, the DLQ; the result for the batch. */
const settleStage = effect<DeliveryContext, DeliveryDeps, MessageResult>('settle', async (ctx, deps) => {
  const { job, message, nowMs, result } = ctx;
  const after = ctx.after!;
  const token = ctx.token!;
  const breakerUpdate = decideBreakerUpdate(after, ctx.probe, ctx.breakerAtGate!);
  switch (after.action) {
    case 'delivered': {
      const latencyMs = Math.max(0, nowMs - job.transition.atMs);
      await guardClaim(() => deps.notifications.markSent(job, token, { nowMs, latencyMs, ...(result?.ok && result.detail ? { detail: result.detail } : {}) }), job, deps);
      await updateBreaker(breakerUpdate, ctx, deps, nowMs);
      deps.metrics.sent(deps.channel, latencyMs);
      deps.logger.info('notification sent', { ...about(job), latencyMs, pipelineMs: nowMs - job.transition.emittedAtMs });
      if (deps.enrich?.delivered && ctx.sent) {
        // After the one write: a failure here cannot make the notification go twice, so it is only logged.
        try {
          await deps.enrich.delivered(ctx.sent, nowMs);
        } catch (err) {
          deps.logger.warn('enrichment follow-up could not be scheduled', { ...about(job), error: err });
        }
      }
      return stop({ ok: true });
    }
    case 'retry': {
      await guardClaim(() => deps.notifications.release(job, token, { nowMs, attempted: true, reason: after.reason, detail: after.detail }), job, deps);
      const breaker = await updateBreaker(breakerUpdate, ctx, deps, nowMs);
      const heldUntil = heldUntilAfter(result, after, nowMs);
      if (heldUntil !== undefined) ctx.heldUntil.set(job.destinationId, heldUntil);
      deps.metrics.failed(deps.channel, after.reason);
      deps.logger.warn('notification failed; will retry', { ...about(job), reason: after.reason, detail: after.detail, retryInMs: after.delayMs, breaker: breaker?.state });
      return stop({ ok: false, delayMs: after.delayMs });
    }
    case 'dead-letter': {
      await deps.queue.deadLetter(message.body, { groupId: job.transition.fingerprint, dedupId: `${job.idempotencyKey}#${message.id}`, reason: after.reason, detail: after.detail, channel: deps.channel, destinationId: job.destinationId });
      await guardClaim(() => deps.notifications.markFailed(job, token, { nowMs, reason: after.reason, detail: after.detail }), job, deps);
      await updateBreaker(breakerUpdate, ctx, deps, nowMs);
      deps.metrics.failed(deps.channel, after.reason);
      deps.metrics.deadLettered(deps.channel);
      deps.logger.error('notification failed permanently; dead-lettered', { ...about(job), reason: after.reason, detail: after.detail });
      return stop({ ok: true });
    }
  }
});

/** The channel pipeline, in order (docs/design.md, "The channel pipeline"). */
export const DELIVERY_PIPELINE: readonly DeliveryStage[] = [
  gateStage, //   the breaker (cached) and a Retry-After earlier in the batch: hold without a write
  claimStage, //  the idempotency key: a job already sent is acknowledged, not sent again
  probeStage, //  a half-open breaker: one probe at a time (a lease)
  sendStage, //   render and send; the answer classified: delivered, retry later, or dead-letter
  settleStage, // the outcome's one write, the breaker's transition, the DLQ
];

/** Dead-letters a message that never became a job (it cannot be parsed, or failed permanently outside a send). */
async function deadLetterMessage(message: ChannelMessage, detail: string, deps: DeliveryDeps, log: string, extra: Record<string, unknown>): Promise<MessageResult> {
  await deps.queue.deadLetter(message.body, { groupId: message.groupId ?? 'invalid', dedupId: message.id, reason: 'client', detail, channel: deps.channel, destinationId: '-' });
  deps.metrics.failed(deps.channel, 'client');
  deps.metrics.deadLettered(deps.channel);
  deps.logger.error(log, extra);
  return { ok: true };
}

/** Parses one message and runs the pipeline on its job; a body that is not a job is dead-lettered with why. */
export async function deliverMessage(deps: DeliveryDeps, message: ChannelMessage, heldUntil: Map<string, number>): Promise<MessageResult> {
  const parsed = parseNotificationJob(message.body);
  if (!parsed.ok) return deadLetterMessage(message, parsed.reason, deps, 'invalid notification job dead-lettered', { messageId: message.id, reason: parsed.reason });
  const ctx: DeliveryContext = {
    message,
    job: parsed.job,
    nowMs: deps.clock.now(),
    heldUntil,
    breakerAtGate: undefined,
    probe: false,
    token: undefined,
    result: undefined,
    after: undefined,
  };
  return runStages(DELIVERY_PIPELINE, ctx, deps, () => {
    throw new Error(`channel pipeline for ${parsed.job.idempotencyKey} ended without an outcome (settle did not run)`);
  });
}

/** What one batch came to: the messages to hand back (with their visibility), and a bug that must fail the invocation. */
export interface BatchResult {
  readonly failures: readonly { readonly id: string; readonly receiptHandle: string; readonly delayMs: number }[];
  readonly fatal?: { readonly err: unknown };
}

/**
 * Delivers one batch in order. A later message of a FIFO group whose earlier message was not
 * delivered, and every message once the time budget is spent, is handed back unsent
 * ({@link decideBatchItem}). An error outside a send goes through {@link decideRecordError}: the
 * message is retried or dead-lettered, or (a bug) the loop stops and `fatal` says the invocation
 * must fail: nothing is acknowledged and Lambda delivers the batch again.
 */
export async function deliverBatch(deps: DeliveryDeps, messages: readonly ChannelMessage[]): Promise<BatchResult> {
  const failures: { id: string; receiptHandle: string; delayMs: number }[] = [];
  const blockedGroups = new Map<string, number>();
  const heldUntil = new Map<string, number>();
  const started = deps.stopwatch();
  for (const m of messages) {
    const item = decideBatchItem(m.groupId !== undefined ? blockedGroups.get(m.groupId) : undefined, deps.stopwatch() - started, deps.batchBudgetMs);
    if (item.action === 'hand-back') {
      failures.push({ id: m.id, receiptHandle: m.receiptHandle, delayMs: item.delayMs });
      if (m.groupId !== undefined) blockedGroups.set(m.groupId, item.delayMs);
      deps.metrics.deferred(deps.channel);
      continue;
    }
    let r: MessageResult;
    try {
      r = await deliverMessage(deps, m, heldUntil);
    } catch (err) {
      const action = decideRecordError(err, deps.isTransient, deps.retry);
      const log = { messageId: m.id, action: FAILURE_ACTION_TEXT[action.action], error: err };
      if (action.action === 'fail-batch') {
        deps.logger.error('record processing failed unexpectedly; the invocation fails', log);
        return { failures, fatal: { err } };
      }
      if (action.action === 'retry') {
        deps.logger.warn('record processing failed; will retry', log);
        r = { ok: false, delayMs: action.delayMs };
      } else r = await deadLetterMessage(m, action.detail, deps, 'record failed permanently; dead-lettered', log);
    }
    if (!r.ok) {
      failures.push({ id: m.id, receiptHandle: m.receiptHandle, delayMs: r.delayMs });
      if (m.groupId !== undefined) blockedGroups.set(m.groupId, r.delayMs);
    }
  }
  return { failures };
}
