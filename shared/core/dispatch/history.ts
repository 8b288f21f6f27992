/**
 * What a dispatch decision adds to the alert history (shared/core/history/types.ts; docs/incidents.md,
 * "History and analytics"): the activation fired or resolved, each notification published, each
 * one held back and why. Pure; ids are deterministic, so a transition decided again after a crash
 * writes the same events.
 */
import type { AlertTransition } from '../model/index.ts';
import { teamOf, type HistoryEvent, type SuppressionReason } from '../history/types.ts';
import type { DispatchDecision } from './context.ts';
import type { AlertRecord } from './record/alert-record.ts';

/** The history events of a decision on transition `t` (the record as it was read: `before`). */
export function historyOfDecision(t: AlertTransition, before: AlertRecord | undefined, d: DispatchDecision, nowMs: number): HistoryEvent[] {
  if (d.outcome !== 'dispatched') return [];
  const team = teamOf(t.labels);
  const base = { fingerprint: t.fingerprint, firedAtMs: t.firedAtMs, ruleId: t.ruleId, severity: d.severity, ...(team ? { team } : {}) };
  const out: HistoryEvent[] = [];
  const sameActivation = before?.startsAtMs === t.firedAtMs;
  if (t.kind === 'firing' && !(sameActivation && before?.state === 'firing')) out.push({ ...base, id: `fired:${t.transitionId}`, kind: 'fired', atMs: t.firedAtMs });
  if (t.kind === 'resolved' && d.reason === 'resolved') out.push({ ...base, id: `resolved:${t.transitionId}`, kind: 'resolved', atMs: t.resolvedAtMs ?? t.atMs, ...(t.annotations.resolved_by ? { by: t.annotations.resolved_by } : {}) });
  for (const j of d.jobs) out.push({ ...base, id: `notified:${j.idempotencyKey}`, kind: 'notified', atMs: nowMs, receiver: j.receiver, channel: j.channel, ...(j.reminder ? { reason: 'reminder' } : {}) });
  const suppressed = (reason: SuppressionReason, extra: Partial<HistoryEvent> = {}, key = ''): void => {
    out.push({ ...base, id: `suppressed:${t.transitionId}:${reason}${key ? `:${key}` : ''}`, kind: 'suppressed', atMs: nowMs, reason, ...extra });
  };
  for (const s of d.suppressed) suppressed('throttle', { receiver: s.receiver, channel: s.channel }, `${s.receiver}|${s.channel}`);
  if (d.silencedBy && d.silencedBy.length > 0) suppressed('silence');
  if (d.inhibitedBy && d.inhibitedBy.length > 0) suppressed('inhibition');
  if (d.mutedBy && d.mutedBy.length > 0) suppressed('time-interval');
  if (d.unrouted) suppressed('no-channel');
  return out;
}
