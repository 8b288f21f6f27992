/**
 * The dispatch decision: one pure function from (alert record, transition, routes, config, now) to
 * the next record and the notification jobs to publish.
 *
 * Order of checks, each with a reason:
 * 1. duplicate: the transition id was already applied (redelivery) → no jobs, no write;
 * 2. stale: older event time than the record's last transition, a resolution of an older
 *    activation, or a second transition for the same state of the same activation → dropped;
 * 3. firing: escalate (repeats within the window raise one level), route by labels and the
 *    (escalated) severity, throttle per (receiver, channel), count what the window held back;
 * 4. resolved: one resolution job wherever the activation's firing was published; never throttled.
 *
 * Deterministic given the same inputs: a redelivery after a crash between publish and commit
 * re-decides from the same record and yields the same jobs with the same idempotency keys.
 */
import { MESSAGE_VERSION, type AlertTransition, type NotificationJob, type Severity, type Channel } from '../model/index.ts';
import { deliveryKey, MAX_RECENT_TRANSITION_IDS, type AlertRecord, type DeliveryState } from './alert-record.ts';
import { DEFAULT_ESCALATION, decideEscalation, recordFireTime, type EscalationPolicy } from './escalation.ts';
import { routeAlert, type RoutingConfig } from './routing.ts';
import { decideThrottle, DEFAULT_THROTTLE_WINDOWS, throttleWindowMs, type ThrottleWindows } from './throttle.ts';

/** Deployment settings of the decision. */
export interface DispatchConfig {
  /** Throttle windows per severity (THROTTLE_WINDOWS over the defaults); a rule's policy overrides. */
  readonly throttleWindows: ThrottleWindows;
  /** Escalation when a rule's policy gives none. */
  readonly escalation: EscalationPolicy;
}

/** The defaults: the throttle windows of docs/design.md (*Severity*), escalation 3 firings in 1 h. */
export const DEFAULT_DISPATCH_CONFIG: DispatchConfig = { throttleWindows: DEFAULT_THROTTLE_WINDOWS, escalation: DEFAULT_ESCALATION };

/** Outcomes of a decision. */
export const DISPATCH_OUTCOMES = ['stale', 'duplicate', 'dispatched'] as const;
/** One of {@link DISPATCH_OUTCOMES}. */
export type DispatchOutcome = (typeof DISPATCH_OUTCOMES)[number];

/** Why the decision came out as it did. */
export const DISPATCH_REASONS = [
  'duplicate-transition',
  'older-than-record',
  'older-activation',
  'already-firing',
  'already-resolved',
  'firing',
  'resolved',
  'firing-not-seen',
] as const;
/** One of {@link DISPATCH_REASONS}. */
export type DispatchReason = (typeof DISPATCH_REASONS)[number];

/** Readable text for each {@link DispatchReason}. */
export const DISPATCH_REASON_TEXT: Readonly<Record<DispatchReason, string>> = {
  'duplicate-transition': 'transition already applied (redelivered)',
  'older-than-record': 'transition is older than the last one the record holds',
  'older-activation': 'resolution of an older activation than the record holds',
  'already-firing': 'the record already holds this activation as firing',
  'already-resolved': 'the record already holds this activation as resolved',
  firing: 'firing: routed and throttled',
  resolved: 'resolved: sent where the firing was sent',
  'firing-not-seen': 'resolved, but its firing never reached dispatch: recorded, nothing to send',
};

/** A notification the throttle held back. */
export interface Suppression {
  readonly receiver: string;
  readonly channel: Channel;
  readonly destinationId: string;
  /** Suppressed count on the record after this one. */
  readonly count: number;
}

/** The decision. */
export interface DispatchDecision {
  readonly outcome: DispatchOutcome;
  readonly reason: DispatchReason;
  /**
   * The record to commit (`version` already incremented) when `outcome` is `dispatched`; for
   * `stale` and `duplicate` the record as read (nothing to write).
   */
  readonly record: AlertRecord;
  readonly jobs: readonly NotificationJob[];
  readonly suppressed: readonly Suppression[];
  /** Route paths that took the alert (firing only). */
  readonly routes: readonly string[];
  /** A firing that reached no channel at all (low severity, or no receiver has a channel for it). */
  readonly unrouted: boolean;
  /** Severity after escalation. */
  readonly severity: Severity;
  readonly escalation?: { readonly from: Severity; readonly reason: string };
}

/** The alerts-table TTL: how long a record outlives its last transition. */
export const RECORD_RETENTION_MS = { firing: 90 * 86_400_000, resolved: 30 * 86_400_000 } as const;

function noop(outcome: 'stale' | 'duplicate', reason: DispatchReason, record: AlertRecord): DispatchDecision {
  return { outcome, reason, record, jobs: [], suppressed: [], routes: [], unrouted: false, severity: record.effectiveSeverity, ...(record.escalation ? { escalation: record.escalation } : {}) };
}

function recentIds(record: AlertRecord | undefined, id: string): string[] {
  return [...(record?.recentTransitionIds ?? []), id].slice(-MAX_RECENT_TRANSITION_IDS);
}

/** The job of one transition for one (receiver, channel); its idempotency key is the transition id + receiver + channel. */
function jobFor(
  t: AlertTransition,
  to: Pick<DeliveryState, 'receiver' | 'channel' | 'destination' | 'destinationId'>,
  severity: Severity,
  escalation: DispatchDecision['escalation'],
  fireCount: number,
): NotificationJob {
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
    fireCount,
  };
}

/**
 * Decides what to do with one transition. `record` is the alert record as read (undefined when
 * there is none); `nowMs` is dispatch's clock (throttle windows).
 */
export function decideDispatch(
  record: AlertRecord | undefined,
  t: AlertTransition,
  routes: RoutingConfig,
  config: DispatchConfig,
  nowMs: number,
): DispatchDecision {
  if (record) {
    if (record.recentTransitionIds.includes(t.transitionId)) return noop('duplicate', 'duplicate-transition', record);
    if (t.atMs < record.lastTransition.atMs) return noop('stale', 'older-than-record', record);
  }
  return t.kind === 'firing' ? decideFiring(record, t, routes, config, nowMs) : decideResolved(record, t, nowMs);
}

function decideFiring(record: AlertRecord | undefined, t: AlertTransition, routes: RoutingConfig, config: DispatchConfig, nowMs: number): DispatchDecision {
  if (record && record.state === 'firing' && record.startsAtMs === t.firedAtMs) return noop('stale', 'already-firing', record);
  if (record && t.firedAtMs < record.startsAtMs) return noop('stale', 'older-activation', record);

  const esc = decideEscalation(t.severity, record?.fireTimesMs ?? [], t.firedAtMs, t.policy?.escalation ?? config.escalation);
  const severity = esc.severity;
  const routing = routeAlert(t.labels, severity, routes);
  const fireCount = (record?.fireCount ?? 0) + 1;

  const deliveries: Record<string, DeliveryState> = { ...(record?.deliveries ?? {}) };
  const jobs: NotificationJob[] = [];
  const suppressed: Suppression[] = [];
  const windowMs = throttleWindowMs(severity, config.throttleWindows, t.policy);
  for (const target of routing.targets) {
    const key = deliveryKey(target.receiver, target.channel);
    const prev = deliveries[key];
    const throttle = decideThrottle(prev?.lastSentAtMs, windowMs, nowMs);
    if (throttle.send) {
      const held = prev && prev.suppressedCount > 0 ? { count: prev.suppressedCount, sinceMs: prev.suppressedSinceMs ?? prev.lastSentAtMs ?? nowMs } : undefined;
      jobs.push({ ...jobFor(t, target, severity, esc.escalation, fireCount), ...(held ? { suppressed: held } : {}) });
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

  const next: AlertRecord = {
    fingerprint: t.fingerprint,
    version: (record?.version ?? 0) + 1,
    state: 'firing',
    ruleId: t.ruleId,
    ruleName: t.ruleName,
    severity: t.severity,
    effectiveSeverity: severity,
    ...(esc.escalation ? { escalation: esc.escalation } : {}),
    labels: t.labels,
    annotations: t.annotations,
    activeAtMs: t.activeAtMs,
    startsAtMs: t.firedAtMs,
    fireCount,
    fireTimesMs: recordFireTime(record?.fireTimesMs ?? [], t.firedAtMs),
    lastTransition: { id: t.transitionId, kind: t.kind, atMs: t.atMs },
    recentTransitionIds: recentIds(record, t.transitionId),
    deliveries,
    ...(record?.slackThread ? { slackThread: record.slackThread } : {}),
    updatedAtMs: nowMs,
  };
  return {
    outcome: 'dispatched',
    reason: 'firing',
    record: next,
    jobs,
    suppressed,
    routes: routing.routes.map((r) => r.path),
    unrouted: routing.targets.length === 0,
    severity,
    ...(esc.escalation ? { escalation: esc.escalation } : {}),
  };
}

function decideResolved(record: AlertRecord | undefined, t: AlertTransition, nowMs: number): DispatchDecision {
  if (record) {
    if (t.firedAtMs < record.startsAtMs) return noop('stale', 'older-activation', record);
    if (t.firedAtMs === record.startsAtMs && record.state === 'resolved') return noop('stale', 'already-resolved', record);
  }
  const seen = record !== undefined && t.firedAtMs === record.startsAtMs;
  const jobs: NotificationJob[] = [];
  if (seen) {
    for (const d of Object.values(record.deliveries)) {
      if (d.notifiedFiredAtMs !== record.startsAtMs) continue;
      // The resolution speaks of the firing it closes: same (escalated) severity and reason.
      jobs.push(jobFor(t, d, record.effectiveSeverity, record.escalation, record.fireCount));
    }
  }
  const severity = seen ? record.effectiveSeverity : t.severity;
  const escalation = seen ? record.escalation : undefined;
  const next: AlertRecord = {
    fingerprint: t.fingerprint,
    version: (record?.version ?? 0) + 1,
    state: 'resolved',
    ruleId: t.ruleId,
    ruleName: t.ruleName,
    severity: t.severity,
    effectiveSeverity: severity,
    ...(escalation ? { escalation } : {}),
    labels: t.labels,
    annotations: t.annotations,
    activeAtMs: t.activeAtMs,
    startsAtMs: t.firedAtMs,
    endsAtMs: t.resolvedAtMs ?? t.atMs,
    fireCount: record?.fireCount ?? 0,
    fireTimesMs: record?.fireTimesMs ?? [],
    lastTransition: { id: t.transitionId, kind: t.kind, atMs: t.atMs },
    recentTransitionIds: recentIds(record, t.transitionId),
    deliveries: record?.deliveries ?? {},
    ...(record?.slackThread ? { slackThread: record.slackThread } : {}),
    updatedAtMs: nowMs,
  };
  return {
    outcome: 'dispatched',
    reason: seen ? 'resolved' : 'firing-not-seen',
    record: next,
    jobs,
    suppressed: [],
    routes: [],
    unrouted: false,
    severity,
    ...(escalation ? { escalation } : {}),
  };
}
