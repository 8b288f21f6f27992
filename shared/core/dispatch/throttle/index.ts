/**
 * The throttle stage (docs/design.md, "The notification pipeline": throttle): per target, whether
 * the notification goes out now (a job) or is held by the severity's window and counted
 * (`throttle.ts`); the next notification sent there says "+N occurrences since …". A resolution
 * is never held: it closes a firing that was sent.
 *
 * The stage also writes the per-destination memory the next transition's throttle reads
 * (`deliveries` of the alert record): when the last firing was sent, what was held since, and
 * which activation's firing was notified (its resolution goes there).
 */
import { MESSAGE_VERSION, type AlertTransition, type NotificationJob, type Severity } from '../../model/index.ts';
import { decision, next } from '../../pipeline/stage.ts';
import { type DispatchContext, type DispatchDecision, type Escalation, type Lowering, type NotifyTarget, type StageNote, type Suppression } from '../context.ts';
import { deliveryKey, type DeliveryState } from '../record/alert-record.ts';
import { isReminder } from '../repeat/index.ts';
import { decideThrottle, throttleWindowMs, THROTTLE_REASON_TEXT } from './throttle.ts';

export * from './throttle.ts';

/** The job of one transition for one (receiver, channel); its idempotency key is the transition id + receiver + channel. */
export function jobFor(t: AlertTransition, to: NotifyTarget, severity: Severity, escalation: Escalation | undefined, fireCount: number, lowered?: Lowering): NotificationJob {
  return {
    version: MESSAGE_VERSION,
    idempotencyKey: `${t.transitionId}:${to.receiver}:${to.channel}`,
    channel: to.channel,
    receiver: to.receiver,
    destination: to.destination,
    destinationId: to.destinationId,
    transition: t,
    severity,
    ...(escalation ? { escalation } : {}),
    ...(lowered ? { lowered } : {}),
    fireCount,
  };
}

/**
 * The fire count after this transition: a firing adds one, unless it was counted when it first
 * arrived (a released held firing, a re-check of a silenced one); a resolution keeps the record's.
 */
export function fireCountAfter(ctx: Pick<DispatchContext, 'transition' | 'record'> & Partial<Pick<DispatchContext, 'release'>>): number {
  const t = ctx.transition;
  const recorded = ctx.record?.state === 'firing' && ctx.record.startsAtMs === t.firedAtMs;
  return (ctx.record?.fireCount ?? 0) + (t.kind === 'firing' && ctx.release !== true && !recorded ? 1 : 0);
}

/**
 * Whether the firing is the record's muted firing decided again (a silence or a time interval
 * ended): some of its targets may have been notified when it first arrived (time intervals muted
 * only some routes), and must not be notified twice.
 */
export function isMutedRecheck(ctx: Pick<DispatchContext, 'transition' | 'record'>): boolean {
  const r = ctx.record;
  const t = ctx.transition;
  return t.kind === 'firing' && r?.state === 'firing' && r.startsAtMs === t.firedAtMs && r.muted?.transition.firedAtMs === t.firedAtMs;
}

/** Throttles a firing: per target, a job or a held (counted) notification, and the deliveries memory after it. */
function throttleFiring(ctx: DispatchContext): DispatchContext {
  const t = ctx.transition;
  const nowMs = ctx.nowMs;
  const fireCount = fireCountAfter(ctx);
  const deliveries: Record<string, DeliveryState> = { ...ctx.deliveries };
  const jobs: NotificationJob[] = [];
  const suppressed: Suppression[] = [];
  const notes: StageNote[] = [];
  const windowMs = throttleWindowMs(ctx.severity, ctx.config.throttleWindows, t.policy);
  const recheck = isMutedRecheck(ctx);
  // A reminder (repeat/index.ts) says when the alert was last notified.
  const reminder = isReminder(ctx.record, t) ? { lastSentAtMs: ctx.record!.repeat!.lastSentAtMs } : undefined;
  for (const target of ctx.targets) {
    const key = deliveryKey(target.receiver, target.channel);
    const prev = deliveries[key];
    if (recheck && prev?.notifiedFiredAtMs === t.firedAtMs) {
      notes.push({ stage: 'throttle', reason: 'already-notified', text: THROTTLE_REASON_TEXT['already-notified'], subject: key });
      continue;
    }
    const throttle = decideThrottle(prev?.lastSentAtMs, windowMs, nowMs);
    notes.push({ stage: 'throttle', reason: throttle.reason, text: THROTTLE_REASON_TEXT[throttle.reason], subject: key });
    if (throttle.send) {
      const held = prev && prev.suppressedCount > 0 ? { count: prev.suppressedCount, sinceMs: prev.suppressedSinceMs ?? prev.lastSentAtMs ?? nowMs } : undefined;
      jobs.push({ ...jobFor(t, target, ctx.severity, ctx.escalation, fireCount, ctx.lowered), ...(held ? { suppressed: held } : {}), ...(reminder ? { reminder } : {}) });
      deliveries[key] = {
        receiver: target.receiver,
        channel: target.channel,
        destination: target.destination,
        destinationId: target.destinationId,
        lastSentAtMs: nowMs,
        suppressedCount: 0,
        notifiedFiredAtMs: t.firedAtMs,
      };
    } else {
      const count = (prev?.suppressedCount ?? 0) + 1;
      suppressed.push({ receiver: target.receiver, channel: target.channel, destinationId: target.destinationId, count });
      deliveries[key] = {
        receiver: target.receiver,
        channel: target.channel,
        destination: prev?.destination ?? target.destination,
        destinationId: prev?.destinationId ?? target.destinationId,
        ...(prev?.lastSentAtMs !== undefined ? { lastSentAtMs: prev.lastSentAtMs } : {}),
        suppressedCount: count,
        suppressedSinceMs: prev?.suppressedSinceMs ?? t.firedAtMs,
        // This activation's firing was not sent here, so neither will its resolution be.
        ...(prev?.notifiedFiredAtMs !== undefined ? { notifiedFiredAtMs: prev.notifiedFiredAtMs } : {}),
      };
    }
  }
  return { ...ctx, jobs, suppressed, deliveries, trail: [...ctx.trail, ...notes] };
}

/** A resolution: one job per target, never held; the deliveries memory is unchanged. */
function sendResolution(ctx: DispatchContext): DispatchContext {
  const fireCount = fireCountAfter(ctx);
  const jobs = ctx.targets.map((target) => jobFor(ctx.transition, target, ctx.severity, ctx.escalation, fireCount));
  const notes = ctx.targets.map((target): StageNote => ({ stage: 'throttle', reason: 'resolution', text: THROTTLE_REASON_TEXT.resolution, subject: deliveryKey(target.receiver, target.channel) }));
  return { ...ctx, jobs, trail: [...ctx.trail, ...notes] };
}

/** The throttle stage. */
export const throttleStage = decision<DispatchContext, DispatchDecision>('throttle', (ctx) => next(ctx.transition.kind === 'firing' ? throttleFiring(ctx) : sendResolution(ctx)));
