/**
 * One step of an escalation policy (./index.ts): the timers' sweep puts it on the alert-events
 * queue when the record says it is due ({@link escalationTransition}), and dispatch decides it
 * ({@link decideEscalationStep}): the level's receivers are notified on every channel they have
 * (their own `severities` still apply), the record remembers them (so the resolution reaches them too) and the next
 * step, and the history says why. A step that no longer applies (resolved, acknowledged, another
 * activation, a step taken already) does nothing; a silence that now matches the alert, or a policy
 * gone from the routes, ends the escalation.
 */
import type { AlertTransition, NotificationJob } from '../../model/index.ts';
import { jobFor } from '../throttle/index.ts';
import { withSeverityLabel } from '../../model/severity.ts';
import type { HistoryEvent } from '../../history/types.ts';
import { teamOf } from '../../history/types.ts';
import { activationTransition } from '../ack/index.ts';
import { formatDuration } from '../duration.ts';
import { deliveryKey, type AlertRecord, type DeliveryState } from '../record/alert-record.ts';
import { targetsFor, type RoutingConfig, type SeverityMatrix } from '../route/routing.ts';
import { CHANNELS } from '../../model/index.ts';

/** The matrix of an escalation step: every channel, whatever the severity. */
const EVERY_CHANNEL: SeverityMatrix = { critical: CHANNELS, high: CHANNELS, medium: CHANNELS, low: CHANNELS };
import { silenceMatches, silenceState, type CompiledSilence } from '../silence/silence.ts';
import { afterStep, escalationStepId, escalationStepOfId, stepCount, stepOf, stepReason } from './index.ts';

/** The step message the sweep publishes for a record whose escalation step is due at `nowMs` (undefined: none due). */
export function escalationTransition(record: AlertRecord, nowMs: number): AlertTransition | undefined {
  const e = record.escalating;
  if (!e || e.paused || record.state !== 'firing' || e.dueAtMs > nowMs) return undefined;
  return activationTransition(record, escalationStepId(e.firingId, e.startedAtMs, e.step), nowMs);
}

/** Whether a transition is an escalation step message. */
export function isEscalationStep(t: Pick<AlertTransition, 'transitionId'>): boolean {
  return escalationStepOfId(t.transitionId) !== undefined;
}

/** Why a step did what it did. */
export const ESCALATION_STEP_REASONS = ['escalated', 'not-due', 'silenced', 'policy-gone'] as const;
/** One of {@link ESCALATION_STEP_REASONS}. */
export type EscalationStepReason = (typeof ESCALATION_STEP_REASONS)[number];

/** Readable text of each reason. */
export const ESCALATION_STEP_REASON_TEXT: Readonly<Record<EscalationStepReason, string>> = {
  escalated: 'unacknowledged: the next level of its escalation policy notified',
  'not-due': 'the step no longer applies (resolved, acknowledged, another activation, or taken already): nothing to do',
  silenced: 'a silence now matches the alert: its escalation ends',
  'policy-gone': 'its escalation policy is no longer in the routes: its escalation ends',
};

/** What a step decided. */
export interface EscalationStepDecision {
  readonly reason: EscalationStepReason;
  /** The record to commit (version incremented); undefined when nothing changes. */
  readonly record?: AlertRecord;
  readonly jobs: readonly NotificationJob[];
  readonly history: readonly HistoryEvent[];
}

/** Decides a step message `t` on the record (pure). */
export function decideEscalationStep(record: AlertRecord | undefined, t: AlertTransition, routes: RoutingConfig, silences: readonly CompiledSilence[], nowMs: number): EscalationStepDecision {
  const step = escalationStepOfId(t.transitionId);
  const e = record?.escalating;
  if (!record || !e || e.paused || step === undefined || record.state !== 'firing' || record.startsAtMs !== t.firedAtMs || e.step !== step || t.transitionId !== escalationStepId(e.firingId, e.startedAtMs, step)) {
    return { reason: 'not-due', jobs: [], history: [] };
  }
  const { escalating: _e, ...rest } = record;
  const ended = (reason: EscalationStepReason): EscalationStepDecision => ({ reason, record: { ...rest, version: record.version + 1, updatedAtMs: nowMs }, jobs: [], history: [] });
  const policy = routes.escalationPolicies?.get(e.policy);
  if (!policy || step >= stepCount(policy)) return ended('policy-gone');
  const labels = withSeverityLabel(record.labels, record.severity);
  if (silences.some((s) => silenceState(s, nowMs) === 'active' && silenceMatches(s, labels))) return ended('silenced');

  const { level } = stepOf(policy, step);
  const reason = stepReason(policy, step, formatDuration);
  // Every channel the level's receivers have (their own `severities` still apply): an escalation
  // is where the matrix's quieter channels for this severity were not enough.
  const targets = targetsFor(
    policy.levels[level]!.receivers.map((name) => ({ name, routePath: `escalation_policies.${policy.name}` })),
    record.effectiveSeverity,
    { receivers: routes.receivers, matrix: EVERY_CHANNEL },
  );
  const message = activationTransition(record, t.transitionId, nowMs);
  const escalated = { policy: policy.name, level: level + 1, levels: policy.levels.length, step: step + 1, steps: stepCount(policy), reason };
  const jobs: NotificationJob[] = targets.map((to) => ({ ...jobFor(message, to, record.effectiveSeverity, record.escalation, record.fireCount), escalated }));
  // The escalated receivers get the resolution too: they are remembered where the firing went.
  const deliveries: Record<string, DeliveryState> = { ...record.deliveries };
  for (const to of targets) {
    const key = deliveryKey(to.receiver, to.channel);
    const prev = deliveries[key];
    deliveries[key] = { receiver: to.receiver, channel: to.channel, destination: to.destination, destinationId: to.destinationId, suppressedCount: prev?.suppressedCount ?? 0, lastSentAtMs: nowMs, notifiedFiredAtMs: record.startsAtMs };
  }
  const next = afterStep(policy, e);
  const team = teamOf(record.labels);
  return {
    reason: 'escalated',
    record: { ...rest, deliveries, ...(next ? { escalating: { ...next, firingId: e.firingId } } : {}), version: record.version + 1, updatedAtMs: nowMs },
    jobs,
    history: [
      {
        id: `escalated:${t.transitionId}`,
        kind: 'escalated',
        atMs: nowMs,
        fingerprint: record.fingerprint,
        firedAtMs: record.startsAtMs,
        ruleId: record.ruleId,
        severity: record.effectiveSeverity,
        ...(team ? { team } : {}),
        receiver: policy.levels[level]!.receivers.join(','),
        reason,
      },
    ],
  };
}
