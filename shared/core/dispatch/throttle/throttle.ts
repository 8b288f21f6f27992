/**
 * Throttling per (alert, receiver, channel): after a firing notification, further firings of the
 * same alert to the same place are held for a window that depends on the (escalated) severity.
 * What a window holds back is counted, and the next notification sent says "+N since ...".
 * Resolutions are never throttled (they follow the firing they close).
 *
 * The window is measured on dispatch's clock (when people get notified), not on event time.
 */
import type { NotificationPolicy, Severity } from '../../model/index.ts';

/** Throttle window per severity, in ms (0 = never held). */
export type ThrottleWindows = Readonly<Record<Severity, number>>;

/** docs/design.md ("Severity is a label"): critical none, high 5 min, medium 15 min, low 1 h. */
export const DEFAULT_THROTTLE_WINDOWS: ThrottleWindows = {
  critical: 0,
  high: 5 * 60_000,
  medium: 15 * 60_000,
  low: 60 * 60_000,
};

/** Why a notification was sent or held. */
export const THROTTLE_REASONS = ['first', 'no-window', 'window-elapsed', 'within-window', 'resolution', 'already-notified'] as const;
/** One of {@link THROTTLE_REASONS}. */
export type ThrottleReason = (typeof THROTTLE_REASONS)[number];

/** Readable text for each {@link ThrottleReason}. */
export const THROTTLE_REASON_TEXT: Readonly<Record<ThrottleReason, string>> = {
  first: 'first notification to this receiver and channel',
  'no-window': 'no throttle window for this severity',
  'window-elapsed': 'throttle window elapsed since the last notification',
  'within-window': 'held: within the throttle window of the last notification',
  resolution: 'a resolution is never held: it closes a firing that was sent',
  'already-notified': 'a muted firing decided again: this receiver and channel were notified of it already (its route was not muted)',
};

/** The throttle decision for one (alert, receiver, channel). */
export interface ThrottleDecision {
  readonly send: boolean;
  readonly reason: ThrottleReason;
  readonly windowMs: number;
}

/** The window for a severity: the rule's policy, else the deployment's windows (THROTTLE_WINDOWS), else the defaults. */
export function throttleWindowMs(severity: Severity, windows: ThrottleWindows, policy?: NotificationPolicy): number {
  return policy?.throttleMs?.[severity] ?? windows[severity];
}

/**
 * Decides whether a firing notification goes out now. `lastSentAtMs` is when the last firing
 * notification to this receiver and channel was sent (undefined: never). Sent when the window is
 * 0, when nothing was sent before, or when `nowMs >= lastSentAtMs + windowMs`.
 */
export function decideThrottle(lastSentAtMs: number | undefined, windowMs: number, nowMs: number): ThrottleDecision {
  if (windowMs <= 0) return { send: true, reason: 'no-window', windowMs };
  if (lastSentAtMs === undefined) return { send: true, reason: 'first', windowMs };
  if (nowMs >= lastSentAtMs + windowMs) return { send: true, reason: 'window-elapsed', windowMs };
  return { send: false, reason: 'within-window', windowMs };
}
