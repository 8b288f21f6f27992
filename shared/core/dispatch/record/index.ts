/**
 * The record stage (docs/design.md, "The notification pipeline": record): what the alert record
 * remembers after this transition, committed by the pipeline's last stage once the jobs are
 * published. One item per alert holds everything the next transition's stages read (activation,
 * escalation history, per-destination throttle and delivery memory), so a transition costs one
 * read and one conditional write whatever the number of channels.
 */
import type { AlertTransition } from '../../model/index.ts';
import { decision, next } from '../../pipeline/stage.ts';
import { noted, type DispatchContext, type DispatchDecision } from '../context.ts';
import { recordFireTime } from '../flapping/flapping.ts';
import { fireCountAfter } from '../throttle/index.ts';
import { MAX_RECENT_TRANSITION_IDS, type AlertRecord, type MutedFiring, type RepeatDue } from './alert-record.ts';
import { repeatAfter } from '../repeat/index.ts';
import { policyFor, startEscalation } from '../escalation-policy/index.ts';

export * from './alert-record.ts';

/** The alerts-table TTL: how long a record outlives its last transition. */
export const RECORD_RETENTION_MS = { firing: 90 * 86_400_000, resolved: 30 * 86_400_000 } as const;

/** Why the record is written as it is. */
export const RECORD_REASONS = ['firing', 'resolved', 'firing-not-seen'] as const;
/** One of {@link RECORD_REASONS}. */
export type RecordReason = (typeof RECORD_REASONS)[number];

/** Readable text for each {@link RecordReason}. */
export const RECORD_REASON_TEXT: Readonly<Record<RecordReason, string>> = {
  firing: 'a new activation (or a repeat of one) firing: its time joins the escalation history',
  resolved: 'the activation it recorded firing is resolved',
  'firing-not-seen': 'resolved without its firing: recorded so a late firing of it is known stale',
};

/** The transition ids a record keeps after applying `id`, newest last, bounded. */
function recentIds(record: AlertRecord | undefined, id: string): string[] {
  // A released held firing is already among them.
  if (record?.recentTransitionIds.includes(id)) return [...record.recentTransitionIds];
  return [...(record?.recentTransitionIds ?? []), id].slice(-MAX_RECENT_TRANSITION_IDS);
}

/** What the previous stages decided that the record keeps. */
export type RecordInput = Pick<DispatchContext, 'transition' | 'record' | 'severity' | 'escalation' | 'deliveries' | 'nowMs'> &
  Partial<Pick<DispatchContext, 'release' | 'inhibition' | 'muted' | 'groupUpserts' | 'routed' | 'jobs' | 'routes'>>;

/**
 * The record after `t` (version incremented), from the record as read and the stages' decisions:
 * the transition's activation, the notified severity, the deliveries memory, the escalation
 * history (a firing's time added), the recent transition ids; `slackThread` carried over untouched
 * (the Slack channel function owns it).
 */
export function nextRecord(input: RecordInput): { readonly reason: RecordReason; readonly record: AlertRecord } {
  const { transition: t, record, nowMs } = input;
  const firing = t.kind === 'firing';
  const seen = record !== undefined && t.firedAtMs === record.startsAtMs;
  const next: AlertRecord = {
    fingerprint: t.fingerprint,
    version: (record?.version ?? 0) + 1,
    state: firing ? 'firing' : 'resolved',
    ruleId: t.ruleId,
    ruleName: t.ruleName,
    severity: t.severity,
    effectiveSeverity: input.severity,
    ...(input.escalation ? { escalation: input.escalation } : {}),
    labels: t.labels,
    annotations: t.annotations,
    value: t.value === null || Number.isFinite(t.value) ? t.value : null,
    activeAtMs: t.activeAtMs,
    startsAtMs: t.firedAtMs,
    ...(firing ? {} : { endsAtMs: endOf(t) }),
    fireCount: fireCountAfter(input),
    fireTimesMs: firing ? recordFireTime(record?.fireTimesMs ?? [], t.firedAtMs) : (record?.fireTimesMs ?? []),
    lastTransition: { id: t.transitionId, kind: t.kind, atMs: t.atMs },
    recentTransitionIds: recentIds(record, t.transitionId),
    deliveries: input.deliveries,
    ...(firing && input.inhibition?.muted ? { held: heldAfter(input) } : {}),
    ...(firing && input.muted && input.muted.length > 0 ? { muted: mutedFiring(t, input.muted) } : {}),
    ...groupsAfter(input, seen),
    ...repeatOf(input),
    // An acknowledgement belongs to its activation: kept through its re-checks and resolution, dropped by a new one.
    ...(seen && record?.ack ? { ack: record.ack } : {}),
    ...escalatingAfter(input, seen),
    ...(record?.slackThread ? { slackThread: record.slackThread } : {}),
    updatedAtMs: nowMs,
  };
  return { reason: firing ? 'firing' : seen ? 'resolved' : 'firing-not-seen', record: next };
}

/** The record's next reminder (repeat/index.ts), when the stages that decide it ran. */
function repeatOf(input: RecordInput): { repeat?: RepeatDue } {
  if (!input.routed || !input.jobs) return {};
  const r = repeatAfter({ transition: input.transition, record: input.record, routed: input.routed, jobs: input.jobs, nowMs: input.nowMs });
  return r ? { repeat: r } : {};
}

/**
 * The escalation of the activation (docs/incidents.md, "Escalation policies"): kept while it fires
 * (a re-check, a reminder, a release), started when its firing is notified (jobs published, or
 * groups joined: their flush notifies) by routes with a policy for its severity, and not while it
 * is acknowledged; a resolution ends it.
 */
function escalatingAfter(input: RecordInput, seen: boolean): { escalating?: NonNullable<AlertRecord['escalating']> } {
  const { transition: t, record } = input;
  if (t.kind !== 'firing') return {};
  if (seen && record?.escalating) return { escalating: record.escalating };
  if (seen && record?.ack) return {};
  const notified = (input.jobs ?? []).some((j) => j.transition.kind === 'firing') || (input.groupUpserts ?? []).length > 0;
  if (!notified) return {};
  const policy = policyFor(input.routed ?? [], input.severity, input.routes?.escalationPolicies);
  return policy ? { escalating: { ...startEscalation(policy, input.nowMs), firingId: t.transitionId } } : {};
}

/** The groups of the activation: a firing's new ones added to those it joined before (a re-check, a release); a resolution keeps them. */
function groupsAfter(input: RecordInput, seen: boolean): { groups?: readonly string[] } {
  const before = seen ? (input.record?.groups ?? []) : [];
  const ids = [...new Set([...before, ...(input.transition.kind === 'firing' ? (input.groupUpserts ?? []).map((u) => u.header.id) : [])])];
  return ids.length > 0 ? { groups: ids } : {};
}

/** The held firing an inhibited firing leaves on the record (held since its first muting in this activation). */
function heldAfter(input: RecordInput): NonNullable<AlertRecord['held']> {
  const { transition: t, record, inhibition } = input;
  const prev = record?.held && record.held.transition.firedAtMs === t.firedAtMs ? record.held : undefined;
  return { transition: prev?.transition ?? t, inhibitedBy: inhibition!.inhibitedBy, inhibitKeys: inhibition!.keys, sinceMs: prev?.sinceMs ?? input.nowMs };
}

/** The muted firing the record keeps: every muting stage's ids, decided again at the earliest end. */
function mutedFiring(t: AlertTransition, muted: NonNullable<RecordInput['muted']>): MutedFiring {
  return { silencedBy: [...new Set(muted.flatMap((m) => m.by))].sort(), recheckAtMs: Math.min(...muted.map((m) => m.untilMs)), transition: t };
}

function endOf(t: AlertTransition): number {
  return t.resolvedAtMs ?? t.atMs;
}

/** The record stage. */
export const recordStage = decision<DispatchContext, DispatchDecision>('record', (ctx) => {
  const r = nextRecord(ctx);
  return next(noted(ctx, { stage: 'record', reason: r.reason, text: RECORD_REASON_TEXT[r.reason] }, { next: r.record }));
});
