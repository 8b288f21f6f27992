/**
 * The alert record: dispatch's memory of one alert (alerts table, key `fingerprint`). One item per
 * alert holds everything a transition's decision needs (state, activation, escalation history,
 * per-destination throttle and delivery state), so a decision costs one read and one conditional
 * write whatever the number of channels.
 */
import type { AlertTransition, Channel, Destination, Labels, NotificationPolicy, Severity, TransitionKind } from '../../model/index.ts';
import type { Acknowledgement } from '../../lifecycle/action.ts';
import type { EscalationState } from '../escalation-policy/index.ts';

/** What dispatch remembers per (receiver, channel). */
export interface DeliveryState {
  readonly receiver: string;
  readonly channel: Channel;
  /** Where the last firing went: its resolution goes to the same place even if routes changed since. */
  readonly destination: Destination;
  readonly destinationId: string;
  /** Dispatch time (epoch ms) of the last firing notification published here: the throttle window's start. */
  readonly lastSentAtMs?: number;
  /** Firings held back by the throttle window since the last notification sent here. */
  readonly suppressedCount: number;
  /** Event time (epoch ms) of the first firing held back, when `suppressedCount > 0`. */
  readonly suppressedSinceMs?: number;
  /**
   * `firedAtMs` of the activation whose firing notification was published here. A resolution is
   * sent only where this equals the record's `startsAtMs` (its firing went there).
   */
  readonly notifiedFiredAtMs?: number;
}

/** The last transition applied to a record. */
export interface AppliedTransition {
  readonly id: string;
  readonly kind: TransitionKind;
  /** Event time of the transition (epoch ms). */
  readonly atMs: number;
}

/** The Slack message of the current activation, written by the Slack channel function only. */
export interface SlackThread {
  readonly channel: string;
  readonly ts: string;
}

/**

 * A firing that was muted (inhibited) and not notified: kept whole so that, when what muted it
 * ends (a release message), the same transition runs through the pipeline again and is notified
 * with its own idempotency keys. docs/routing.md, "Inhibition".
 */
export interface HeldNotification {
  readonly transition: AlertTransition;
  /** Fingerprints of the firing source alerts that inhibit it, sorted. */
  readonly inhibitedBy: readonly string[];
  /** The inhibit items it is registered in as a target (where a leaving source finds it). */
  readonly inhibitKeys: readonly string[];
  /** Dispatch time it was first held (this activation). */
  readonly sinceMs: number;
}

/**
 * A firing that silences kept from being notified (docs/design.md, "The notification pipeline":
 * silence): kept with the record so that it is decided again, and notified, when they end.
 */
export interface MutedFiring {
  /** The ids of the silences that muted it, sorted. */
  readonly silencedBy: readonly string[];
  /** When to decide it again (epoch ms, dispatch's clock): the earliest end of those silences. */
  readonly recheckAtMs: number;
  /** The firing as received (a re-check publishes it again with an id of its own). */
  readonly transition: AlertTransition;
}

/**
 * The next reminder of a firing notified on its own (docs/routing.md, "Grouping": repeat_interval;
 * shared/core/dispatch/repeat): when it is due, and what the reminder transition needs that the
 * record does not otherwise keep.
 */
export interface RepeatDue {
  /** When the reminder is due (dispatch's clock). */
  readonly atMs: number;
  /** When the alert was last notified on its own. */
  readonly lastSentAtMs: number;
  /** The activation's firing transition id (reminder ids derive from it). */
  readonly firingId: string;
  readonly value: number | null;
  readonly condition: string;
  readonly runbookUrl?: string;
  readonly dashboardUrl?: string;
  readonly policy?: NotificationPolicy;
}

/** How many transition ids a record keeps to recognise redelivered transitions. */
export const MAX_RECENT_TRANSITION_IDS = 16;

/** One alert, as dispatch last recorded it. */
export interface AlertRecord {
  readonly fingerprint: string;
  /** Optimistic-lock version: 0 for a record never written; each commit writes `version + 1`. */
  readonly version: number;
  readonly state: 'firing' | 'resolved';
  readonly ruleId: string;
  readonly ruleName: string;
  /** Severity the rule gave. */
  readonly severity: Severity;
  /** Severity after escalation (what routing and throttling used). */
  readonly effectiveSeverity: Severity;
  readonly escalation?: { readonly from: Severity; readonly reason: string };
  readonly labels: Labels;
  readonly annotations: Labels;
  /** The value of its last transition (what a group notification lists; absent on records written before it was kept). */
  readonly value?: number | null;
  /** When the alert became active (pending) in its current activation (epoch ms). */
  readonly activeAtMs: number;
  /** When the current activation started firing (epoch ms): the activation's identity. */
  readonly startsAtMs: number;
  /** When the current activation resolved (epoch ms), if it has. */
  readonly endsAtMs?: number;
  /** How many times the alert has fired (over the record's life). */
  readonly fireCount: number;
  /** Recent firing times (event time, ascending, bounded) for escalation. */
  readonly fireTimesMs: readonly number[];
  readonly lastTransition: AppliedTransition;
  /** Recently applied transition ids (bounded), newest last. */
  readonly recentTransitionIds: readonly string[];
  /** Per `receiver|channel` (see {@link deliveryKey}). */
  readonly deliveries: Readonly<Record<string, DeliveryState>>;
  /** The current activation's firing, inhibited and not notified (absent once notified or resolved). */
  readonly held?: HeldNotification;
  /** Present while the current activation's firing is silenced (never notified yet): why, and when to decide it again. */
  readonly muted?: MutedFiring;
  /** Present while the current activation fires and was notified on its own: its next reminder. */
  readonly repeat?: RepeatDue;
  /** Groups the current activation's firing joined (docs/routing.md, "Grouping"): its resolution is marked there. */
  readonly groups?: readonly string[];
  /** Who acknowledged the current activation, when and from where (docs/incidents.md); a new activation starts without. */
  readonly ack?: Acknowledgement;
  /**
   * The current activation's escalation (docs/incidents.md, "Escalation policies"): its next step
   * and when it is due; `paused` while it is acknowledged (taking the acknowledgement back starts
   * it again). `firingId` names the step messages.
   */
  readonly escalating?: EscalationState & { readonly firingId: string; readonly paused?: true };
  /** Owned by the Slack channel function; dispatch reads it and never writes it. */
  readonly slackThread?: SlackThread;
  /** Dispatch time of the last commit (epoch ms). */
  readonly updatedAtMs: number;
}

/** Key of a {@link DeliveryState} in {@link AlertRecord.deliveries}. */
export function deliveryKey(receiver: string, channel: Channel): string {
  return `${receiver}|${channel}`;
}

/** When the timers' sweep must look at a record again: its muted firing's re-check or its reminder, the earliest (undefined: nothing due). */
export function recheckDueAt(record: Pick<AlertRecord, 'muted' | 'repeat' | 'escalating'>): number | undefined {
  const esc = record.escalating && !record.escalating.paused ? record.escalating.dueAtMs : undefined;
  const times = [record.muted?.recheckAtMs, record.repeat?.atMs, esc].filter((t): t is number => t !== undefined);
  return times.length > 0 ? Math.min(...times) : undefined;
}
