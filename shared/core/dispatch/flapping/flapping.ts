/**
 * Flapping (formerly "escalation" for repeated issues): an alert that fires `count` times within
 * `windowMs` (event time) is raised one severity level, and the notification says why ("fired 3
 * times in the last 1h").
 * Uses the alerts' own firing times, so a replay escalates the same way.
 */
import { SEVERITIES, type Severity } from '../../model/index.ts';
import { formatDuration } from '../duration.ts';

/** Default policy: 3 firings within 1 hour. */
export const DEFAULT_FLAPPING = { count: 3, windowMs: 3_600_000 } as const;

/** How many firing times an alert record keeps for escalation (the policy's count must fit). */
export const MAX_FIRE_TIMES = 20;

/** Escalation policy: `count` firings within `windowMs`. */
export interface FlappingPolicy {
  readonly count: number;
  readonly windowMs: number;
}

/** Why escalation decided as it did. */
export const FLAPPING_REASONS = ['fired-often', 'not-often-enough', 'already-critical', 'disabled'] as const;
/** One of {@link FLAPPING_REASONS}. */
export type FlappingReason = (typeof FLAPPING_REASONS)[number];

/** Readable text for each {@link FlappingReason}. */
export const FLAPPING_REASON_TEXT: Readonly<Record<FlappingReason, string>> = {
  'fired-often': 'fired often enough within the window: raised one level',
  'not-often-enough': 'not fired often enough within the window to escalate',
  'already-critical': 'critical already: nowhere higher to go',
  disabled: 'escalation is off for this rule (count 0)',
};

/** What escalation decided. */
export interface FlappingDecision {
  readonly reason: FlappingReason;
  readonly severity: Severity;
  /** Present when raised. */
  readonly escalation?: { readonly from: Severity; readonly reason: string };
  /** Firings counted within the window (including this one). */
  readonly firingsInWindow: number;
}

/** One level up (`low → medium → high → critical`); critical stays critical. */
export function raiseSeverity(s: Severity): Severity {
  const i = SEVERITIES.indexOf(s);
  return SEVERITIES[Math.max(0, i - 1)]!;
}

/**
 * Decides escalation for a firing at `firedAtMs`, given earlier firing times (`fireTimesMs`, which
 * may or may not already include this one). The window is `(firedAtMs - windowMs, firedAtMs]`.
 */
export function decideFlapping(
  severity: Severity,
  fireTimesMs: readonly number[],
  firedAtMs: number,
  policy: FlappingPolicy = DEFAULT_FLAPPING,
): FlappingDecision {
  const times = new Set(fireTimesMs.filter((t) => t <= firedAtMs && t > firedAtMs - policy.windowMs));
  times.add(firedAtMs);
  const n = times.size;
  if (policy.count < 1) return { reason: 'disabled', severity, firingsInWindow: n };
  if (n < policy.count) return { reason: 'not-often-enough', severity, firingsInWindow: n };
  if (severity === 'critical') return { reason: 'already-critical', severity, firingsInWindow: n };
  return {
    reason: 'fired-often',
    severity: raiseSeverity(severity),
    escalation: { from: severity, reason: `fired ${n} times in the last ${formatDuration(policy.windowMs)}` },
    firingsInWindow: n,
  };
}

/** Appends a firing time, keeping the most recent {@link MAX_FIRE_TIMES}, sorted, without repeats. */
export function recordFireTime(fireTimesMs: readonly number[], firedAtMs: number): number[] {
  const all = [...new Set([...fireTimesMs, firedAtMs])].sort((a, b) => a - b);
  return all.slice(-MAX_FIRE_TIMES);
}
