/**
 * The dedup stage (docs/design.md, "The notification pipeline": dedup): whether a transition is
 * new to the alert's record. A redelivered transition (SQS at-least-once, an evaluator replay) or
 * an out-of-date one (a FIFO group reordered by a redrive, a resolution of an older activation)
 * stops the pipeline here: nothing is published, nothing is written.
 */
import type { AlertTransition } from '../../model/index.ts';
import { decision, next, stop } from '../../pipeline/stage.ts';
import { noopDecision, noted, type DispatchContext, type DispatchDecision } from '../context.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import { isReminder } from '../repeat/index.ts';

/** Why a transition was applied or dropped. */
export const DEDUP_REASONS = [
  'new-alert',
  'new-transition',
  'muted-recheck',
  'reminder',
  'duplicate-transition',
  'older-than-record',
  'older-activation',
  'already-firing',
  'already-resolved',
  'held-released',
] as const;
/** One of {@link DEDUP_REASONS}. */
export type DedupReason = (typeof DEDUP_REASONS)[number];

/** Readable text for each {@link DedupReason}. */
export const DEDUP_REASON_TEXT: Readonly<Record<DedupReason, string>> = {
  'new-alert': 'no record yet: the first transition of this alert',
  'new-transition': 'a transition the record has not seen',
  'muted-recheck': 'the firing a silence or a time interval muted, decided again (it ended, or the silence was expired)',
  reminder: 'a reminder: it still fires, repeat_interval after it was last notified on its own',
  'duplicate-transition': 'transition already applied (redelivered)',
  'older-than-record': 'transition is older than the last one the record holds',
  'older-activation': 'resolution of an older activation than the record holds',
  'already-firing': 'the record already holds this activation as firing',
  'already-resolved': 'the record already holds this activation as resolved',
  'held-released': 'the record\'s held firing, released: decided again',
};

/** The dedup decision. */
export type DedupDecision =
  | { readonly verdict: 'apply'; readonly reason: 'new-alert' | 'new-transition' | 'held-released' | 'muted-recheck' | 'reminder' }
  | { readonly verdict: 'duplicate'; readonly reason: 'duplicate-transition' }
  | { readonly verdict: 'stale'; readonly reason: Exclude<DedupReason, 'new-alert' | 'new-transition' | 'duplicate-transition' | 'held-released' | 'muted-recheck' | 'reminder'> };

/**
 * Decides whether `t` is new to `record`, in this order: a transition id the record remembers is a
 * duplicate; a transition older (event time) than the record's last one is stale; a firing of the
 * activation the record already holds as firing, or a transition of an older activation, is
 * stale; a resolution of the activation the record holds as resolved is stale.
 */
export function decideDedup(record: AlertRecord | undefined, t: AlertTransition): DedupDecision {
  if (!record) return { verdict: 'apply', reason: 'new-alert' };
  if (record.recentTransitionIds.includes(t.transitionId)) return { verdict: 'duplicate', reason: 'duplicate-transition' };
  if (t.atMs < record.lastTransition.atMs) return { verdict: 'stale', reason: 'older-than-record' };
  if (t.kind === 'firing') {
    if (record.state === 'firing' && record.startsAtMs === t.firedAtMs) {
      // The activation is recorded but its firing was muted (never notified): decided again.
      if (record.muted?.transition.firedAtMs === t.firedAtMs) return { verdict: 'apply', reason: 'muted-recheck' };
      // The reminder the record has due (repeat/index.ts): notified again.
      if (isReminder(record, t)) return { verdict: 'apply', reason: 'reminder' };
      return { verdict: 'stale', reason: 'already-firing' };
    }
    if (t.firedAtMs < record.startsAtMs) return { verdict: 'stale', reason: 'older-activation' };
  } else {
    if (t.firedAtMs < record.startsAtMs) return { verdict: 'stale', reason: 'older-activation' };
    if (t.firedAtMs === record.startsAtMs && record.state === 'resolved') return { verdict: 'stale', reason: 'already-resolved' };
  }
  return { verdict: 'apply', reason: 'new-transition' };
}

/** The dedup stage: stops a duplicate or stale transition with the no-op decision. */
export const dedupStage = decision<DispatchContext, DispatchDecision>('dedup', (ctx) => {
  // A release re-runs the held firing the record holds (dispatchRelease checked it): new by construction.
  const d: DedupDecision = ctx.release ? { verdict: 'apply', reason: 'held-released' } : decideDedup(ctx.record, ctx.transition);
  const c = noted(ctx, { stage: 'dedup', reason: d.reason, text: DEDUP_REASON_TEXT[d.reason] });
  if (d.verdict === 'apply') return next(c);
  return stop(noopDecision(d.verdict, d.reason, ctx.record!, c.trail));
});
