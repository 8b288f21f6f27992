/**
 * The flapping stage (docs/design.md, "The notification pipeline": flapping): the severity a
 * notification is sent with. A firing alert that fired `count` times within the window (event
 * time) is flapping and raised one level (`flapping.ts`; the rule's `flapping`, formerly called
 * `escalation`); a resolution speaks of the firing it closes, with that firing's severity and reason.
 * Not to be confused with escalation policies (shared/core/dispatch/paging), which notify further
 * receivers when nobody acknowledges an alert.
 *
 * Routing by labels (the stage before) sees the rule's severity; the channels and throttle stages
 * (after) use the raised one: flapping changes how loudly a receiver is notified, not which
 * receivers are. (The record's and the job's `escalation` field keeps its wire name.)
 */
import type { AlertTransition, Severity } from '../../model/index.ts';
import { decision, next } from '../../pipeline/stage.ts';
import { closesRecordedActivation, noted, type DispatchContext, type DispatchDecision, type Escalation } from '../context.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import { decideFlapping, FLAPPING_REASON_TEXT } from './flapping.ts';

export * from './flapping.ts';

/** Why a resolution has the severity it has. */
export const RESOLVED_SEVERITY_REASONS = ['as-firing', 'firing-not-seen'] as const;
/** One of {@link RESOLVED_SEVERITY_REASONS}. */
export type ResolvedSeverityReason = (typeof RESOLVED_SEVERITY_REASONS)[number];

/** Readable text for each {@link ResolvedSeverityReason}. */
export const RESOLVED_SEVERITY_REASON_TEXT: Readonly<Record<ResolvedSeverityReason, string>> = {
  'as-firing': "a resolution repeats its firing's severity and escalation",
  'firing-not-seen': "its firing never reached dispatch: the rule's severity",
};

/** The severity of a resolution: its firing's (escalated) one when the record holds that firing, else the rule's. */
export function decideResolvedSeverity(
  record: AlertRecord | undefined,
  t: Pick<AlertTransition, 'firedAtMs' | 'severity'>,
): { readonly reason: ResolvedSeverityReason; readonly severity: Severity; readonly escalation: Escalation | undefined } {
  if (closesRecordedActivation(record, t)) return { reason: 'as-firing', severity: record.effectiveSeverity, escalation: record.escalation };
  return { reason: 'firing-not-seen', severity: t.severity, escalation: undefined };
}

/** The escalate stage. */
export const flappingStage = decision<DispatchContext, DispatchDecision>('flapping', (ctx) => {
  const t = ctx.transition;
  if (t.kind === 'resolved') {
    const r = decideResolvedSeverity(ctx.record, t);
    return next(noted(ctx, { stage: 'flapping', reason: r.reason, text: RESOLVED_SEVERITY_REASON_TEXT[r.reason] }, { severity: r.severity, escalation: r.escalation }));
  }
  const e = decideFlapping(t.severity, ctx.record?.fireTimesMs ?? [], t.firedAtMs, t.policy?.escalation ?? ctx.config.escalation);
  return next(noted(ctx, { stage: 'flapping', reason: e.reason, text: FLAPPING_REASON_TEXT[e.reason] }, { severity: e.severity, escalation: e.escalation }));
});
