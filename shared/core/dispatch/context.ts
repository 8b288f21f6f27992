/**
 * What flows through the dispatch pipeline (`pipeline.ts`): one transition, the record read for
 * it, and what each stage has decided so far; and the decision the pipeline ends with.
 * docs/design.md, "The notification pipeline".
 */
import type { AlertTransition, Channel, Destination, Labels, NotificationJob, Severity } from '../model/index.ts';
import { withSeverityLabel } from '../model/severity.ts';
import type { RoutedReceiver, RouteNode, RoutingConfig } from './route/routing.ts';
import type { AlertRecord, DeliveryState } from './record/alert-record.ts';
import { DEFAULT_FLAPPING, type FlappingPolicy } from './flapping/flapping.ts';
import { DEFAULT_THROTTLE_WINDOWS, type ThrottleWindows } from './throttle/throttle.ts';
import type { InhibitDecision, InhibitItem } from './inhibit/inhibition.ts';
import type { CompiledSilence } from './silence/silence.ts';
import type { GroupUpsert } from './group/ports.ts';

/** Deployment settings of the decision. */
export interface DispatchConfig {
  /** Throttle windows per severity (THROTTLE_WINDOWS over the defaults); a rule's policy overrides. */
  readonly throttleWindows: ThrottleWindows;
  /** Escalation when a rule's policy gives none. */
  readonly escalation: FlappingPolicy;
}

/** The defaults: the throttle windows of docs/design.md ("Severity is a label"), escalation 3 firings in 1 h. */
export const DEFAULT_DISPATCH_CONFIG: DispatchConfig = { throttleWindows: DEFAULT_THROTTLE_WINDOWS, escalation: DEFAULT_FLAPPING };

/** A severity raised by escalation, and why (shown in the notification). */
export interface Escalation {
  readonly from: Severity;
  readonly reason: string;
}

/** One place a notification may go: a receiver's destination on one channel. */
export interface NotifyTarget {
  readonly receiver: string;
  readonly channel: Channel;
  readonly destination: Destination;
  readonly destinationId: string;
  /** The route that chose the receiver (a firing's targets; the group stage groups by it). */
  readonly routePath?: string;
}

/** A notification the throttle held back. */
export interface Suppression {
  readonly receiver: string;
  readonly channel: Channel;
  readonly destinationId: string;
  /** Suppressed count on the record after this one. */
  readonly count: number;
}

/**
 * A firing muted by a stage (silence, time intervals; inhibit takes the same shape): it is
 * recorded and notified nowhere, and decided again at `untilMs` if it still fires. A muting
 * with `receivers` mutes only those (time intervals of some of its routes): the others are
 * notified now, and the re-check notifies the muted ones, not the others again.
 */
export interface Muting {
  readonly stage: string;
  /** What mutes it (silence ids, time interval names). */
  readonly by: readonly string[];
  /** When to decide it again (epoch ms, dispatch's clock). */
  readonly untilMs: number;
  /** Only these receivers are muted; absent: the whole firing. */
  readonly receivers?: readonly string[];
}

/** Whether a muting keeps the whole firing from every channel (not only some receivers). */
export function mutesWholeFiring(muted: readonly Muting[]): boolean {
  return muted.some((m) => m.receivers === undefined);
}

/** A severity lowered outside given time intervals (docs/routing.md, "Severity by business hours"), and why (shown in the notification). */
export interface Lowering {
  readonly from: Severity;
  readonly reason: string;
}

/** Why one stage decided as it did (the decision's trail: logs, simulations). */
export interface StageNote {
  readonly stage: string;
  readonly reason: string;
  /** The reason's readable text. */
  readonly text: string;
  /** What the note is about when a stage decides per item, e.g. `default|slack`. */
  readonly subject?: string;
}

/** One transition in the dispatch pipeline. Each stage fills its part and hands it on. */
export interface DispatchContext {
  /** The transition as the evaluator published it (jobs carry it unchanged). */
  readonly transition: AlertTransition;
  /** Its labels with `severity` (docs/design.md, "Severity is a label"): what routes match. */
  readonly labels: Labels;
  /** The alert record as read (undefined: none yet). */
  readonly record: AlertRecord | undefined;
  readonly routes: RoutingConfig;
  readonly config: DispatchConfig;
  /** The silences read for this transition (pending and active ones; cached by dispatch). */
  readonly silences: readonly CompiledSilence[];
  /** Dispatch's clock (throttle windows). */
  readonly nowMs: number;
  /** route: the routes that took a firing alert, in order (the root when none matched). */
  readonly routed: readonly RouteNode[];
  /** route: the receivers those routes name, in order, without repeats. */
  readonly receivers: readonly RoutedReceiver[];
  /** A held notification released (docs/routing.md, "Inhibition"): the record's held firing again, not a new transition. */
  readonly release: boolean;
  /** Input: the inhibit items read for a firing that an inhibit rule targets, by key (empty otherwise). */
  readonly inhibitItems: ReadonlyMap<string, InhibitItem>;
  /** inhibit: whether a firing is muted, and by which sources (undefined for a resolution). */
  readonly inhibition: InhibitDecision | undefined;
  /** silence (time intervals): what mutes a firing until a time; non-empty: it reaches no channel. */
  readonly muted: readonly Muting[];
  /** escalate: the severity notified (the rule's, or one level up). */
  readonly severity: Severity;
  readonly escalation: Escalation | undefined;
  /** lower: the severity was lowered outside business hours (`severity` is the lowered one). */
  readonly lowered: Lowering | undefined;
  /** channels: where notifications may go (after group: only those notified on their own). */
  readonly targets: readonly NotifyTarget[];
  /** Input: groups found full; their targets are notified on their own. */
  readonly fullGroups: ReadonlySet<string>;
  /** group: the member writes of the groups a firing joins (one per group). */
  readonly groupUpserts: readonly GroupUpsert[];
  /** group: the groups a resolution marks the alert resolved in. */
  readonly groupResolves: readonly string[];
  /** throttle: the jobs to publish, what was held, and the per-destination memory after this transition. */
  readonly jobs: readonly NotificationJob[];
  readonly suppressed: readonly Suppression[];
  readonly deliveries: Readonly<Record<string, DeliveryState>>;
  /** record: the record to commit. */
  readonly next: AlertRecord | undefined;
  /** Each stage's reason, in order. */
  readonly trail: readonly StageNote[];
}

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
  'released',
  'not-held',
  'escalation-step',
  'escalation-not-due',
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
  released: 'a held firing released (what muted it ended): decided again',
  'not-held': 'a release for a firing the record no longer holds (resolved, already released, or another activation): nothing to do',
  'escalation-step': "a step of the alert's escalation policy: decided by the escalation-policy stage (see its note)",
  'escalation-not-due': 'an escalation step that no longer applies (resolved, acknowledged, another activation, or taken already): nothing to do',
};

/** The decision a dispatch pipeline ends with. */
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
  readonly escalation?: Escalation;
  /** Severity lowered outside business hours, and why. */
  readonly lowered?: Lowering;
  /** A firing muted by silences: their ids (recorded on the alert, notified nowhere). */
  readonly silencedBy?: readonly string[];
  /** Time intervals that mute some or all of its receivers (a silence is never listed here). */
  readonly mutedBy?: readonly string[];
  /** Why each stage decided as it did, in pipeline order. */
  readonly trail: readonly StageNote[];
  /** Firing sources that inhibit it (a muted firing: nothing published, held on the record until released). */
  readonly inhibitedBy?: readonly string[];
  /** Groups the firing joined (their flush notifies it), or the resolution was marked in. */
  readonly groups?: readonly string[];
}

/** Inputs read before the stages besides the record and the routes. */
export interface DispatchInputs {
  /** The inhibit items of the rules that target the alert (`inhibitReadKeys`). */
  readonly inhibitItems?: ReadonlyMap<string, InhibitItem>;
  /** The transition is the record's held firing, released. */
  readonly release?: boolean;
  /** The silences that exist (active or not: the silence stage decides on the clock). */
  readonly silences?: readonly CompiledSilence[];
  /** Groups found full (`GroupFullError`): the alert is notified on its own on their routes. */
  readonly fullGroups?: ReadonlySet<string>;
}

/** The context a transition enters the pipeline with, once its record and the routes are read. */
export function startContext(
  t: AlertTransition,
  record: AlertRecord | undefined,
  routes: RoutingConfig,
  config: DispatchConfig,
  nowMs: number,
  inputs: DispatchInputs = {},
): DispatchContext {
  return {
    transition: t,
    labels: withSeverityLabel(t.labels, t.severity),
    record,
    routes,
    config,
    silences: inputs.silences ?? [],
    nowMs,
    muted: [],
    routed: [],
    receivers: [],
    release: inputs.release ?? false,
    inhibitItems: inputs.inhibitItems ?? new Map(),
    inhibition: undefined,
    severity: t.severity,
    escalation: undefined,
    lowered: undefined,
    targets: [],
    fullGroups: inputs.fullGroups ?? new Set(),
    groupUpserts: [],
    groupResolves: [],
    jobs: [],
    suppressed: [],
    deliveries: record?.deliveries ?? {},
    next: undefined,
    trail: [],
  };
}

/** `ctx` with one more note on its trail. */
export function noted(ctx: DispatchContext, note: StageNote, more: Partial<DispatchContext> = {}): DispatchContext {
  return { ...ctx, ...more, trail: [...ctx.trail, note] };
}

/** Whether a resolution closes the activation the record holds (its firing reached dispatch). */
export function closesRecordedActivation(record: AlertRecord | undefined, t: Pick<AlertTransition, 'firedAtMs'>): record is AlertRecord {
  return record !== undefined && t.firedAtMs === record.startsAtMs;
}

/** The decision of a transition that stops before any notification: nothing to publish, nothing to write. */
export function noopDecision(outcome: 'stale' | 'duplicate', reason: DispatchReason, record: AlertRecord, trail: readonly StageNote[]): DispatchDecision {
  return {
    outcome,
    reason,
    record,
    jobs: [],
    suppressed: [],
    routes: [],
    unrouted: false,
    severity: record.effectiveSeverity,
    ...(record.escalation ? { escalation: record.escalation } : {}),
    trail,
  };
}

/** The decision of a transition that went through every stage. */
export function dispatchedDecision(ctx: DispatchContext): DispatchDecision {
  const t = ctx.transition;
  if (!ctx.next) throw new Error(`dispatch pipeline ended without a record for ${t.transitionId} (the record stage did not run)`);
  const firing = t.kind === 'firing';
  const inhibited = ctx.inhibition?.muted === true;
  const silencedBy = [...new Set(ctx.muted.filter((m) => m.stage === 'silence').flatMap((m) => m.by))].sort();
  const mutedBy = [...new Set(ctx.muted.filter((m) => m.stage === 'time-intervals').flatMap((m) => m.by))].sort();
  return {
    outcome: 'dispatched',
    reason: ctx.release ? 'released' : firing ? 'firing' : closesRecordedActivation(ctx.record, t) ? 'resolved' : 'firing-not-seen',
    record: ctx.next,
    jobs: ctx.jobs,
    suppressed: ctx.suppressed,
    routes: ctx.routed.map((r) => r.path),
    unrouted: firing && !inhibited && ctx.targets.length === 0 && ctx.groupUpserts.length === 0 && !mutesWholeFiring(ctx.muted),
    ...(ctx.groupUpserts.length > 0 || ctx.groupResolves.length > 0 ? { groups: ctx.groupUpserts.length > 0 ? ctx.groupUpserts.map((u) => u.header.id) : ctx.groupResolves } : {}),
    ...(inhibited ? { inhibitedBy: ctx.inhibition!.inhibitedBy } : {}),
    severity: ctx.severity,
    ...(ctx.escalation ? { escalation: ctx.escalation } : {}),
    ...(ctx.lowered ? { lowered: ctx.lowered } : {}),
    ...(silencedBy.length > 0 ? { silencedBy } : {}),
    ...(mutedBy.length > 0 ? { mutedBy } : {}),
    trail: ctx.trail,
  };
}
