/**
 * Escalation for repeated issues: an alert that fires `count` times within `windowMs` (event time)
 * is raised one severity level, and the notification says why ("fired 3 times in the last 1h").
 * Uses the alerts' own firing times, so a replay escalates the same way.
 */
import { SEVERITIES, type Severity } from '../model/index.ts';
import { formatDuration } from './duration.ts';

/** Default policy: 3 firings within 1 hour. */
export const DEFAULT_ESCALATION = { count: 3, windowMs: 3_600_000 } as const;

/** How many firing times an alert record keeps for escalation (the policy's count must fit). */
export const MAX_FIRE_TIMES = 20;

/** Escalation policy: `count` firings within `windowMs`. */
export interface EscalationPolicy {
  readonly count: number;
  readonly windowMs: number;
}

/** What escalation decided. */
export interface EscalationDecision {
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
export function decideEscalation(
  severity: Severity,
  fireTimesMs: readonly number[],
  firedAtMs: number,
  policy: EscalationPolicy = DEFAULT_ESCALATION,
): EscalationDecision {
  const times = new Set(fireTimesMs.filter((t) => t <= firedAtMs && t > firedAtMs - policy.windowMs));
  times.add(firedAtMs);
  const n = times.size;
  if (policy.count < 1 || n < policy.count || severity === 'critical') return { severity, firingsInWindow: n };
  return {
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
