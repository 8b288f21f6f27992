/**
 * Notification groups as dispatch stores them (docs/routing.md, "Grouping"; docs/design.md, "The
 * notification pipeline": group): one item per (route, receiver, group labels) in the groups
 * table, holding its alerts (members), per channel what the last notification said and the
 * throttle's memory, and when it is due to be flushed. The decisions here are pure; the group
 * stage (`index.ts`) adds alerts, the flush (`flush.ts`) sends.
 *
 * Alertmanager's semantics (dispatch.go `aggrGroup`, notify.go `DedupStage`), per channel, as
 * Alertmanager keeps its notification log per receiver integration:
 * - a new group is flushed `group_wait` after its first alert (at once when that alert started
 *   longer ago than that), then every `group_interval` while it has alerts;
 * - a flush notifies a channel when a firing alert was not in its last notification, when every
 *   alert of that notification resolved, when an alert resolved since, or, nothing having
 *   changed, when `repeat_interval` has passed since it last notified;
 * - resolved alerts leave the group after the flush; a group without firing alerts is deleted.
 * Klaxon adds, per (group, channel): the severity matrix (each alert reaches the channels of its
 * own severity), the throttle window of the group's highest severity (a held update is counted:
 * "+2 updates held since …"), and the route's mute time intervals (a muted flush sends nothing
 * and remembers nothing, so the flush after the interval tells everything; a resolution of the
 * whole group is never muted or held).
 */
import {
  GROUP_JOB_MAX_LISTED,
  MESSAGE_VERSION,
  SEVERITIES,
  type AlertTransition,
  type Channel,
  type Destination,
  type GroupMemberView,
  type GroupNotice,
  type GroupNoticeReason,
  type Labels,
  type NotificationJob,
  type Severity,
} from '../../model/index.ts';
import { formatValue } from '../../deliver/alert-view.ts';
import { sha256Hex } from '../hash.ts';
import { decideThrottle, type ThrottleWindows } from '../throttle/throttle.ts';
import type { GroupTiming } from './aggregation.ts';
import type { AlertRecord } from '../record/alert-record.ts';

/** What identifies a group and how it is timed (written when its first alert arrives). */
export interface GroupHeader {
  /** `group:<32 hex>`: the item's key, the group jobs' fingerprint and the Slack thread's key. */
  readonly id: string;
  /** The unambiguous key it hashes (route, receiver, sorted group labels). */
  readonly key: string;
  readonly routePath: string;
  readonly receiver: string;
  readonly labels: Labels;
  readonly timing: GroupTiming;
}

/** One alert of a group, as the group last saw it. */
export interface GroupMember {
  readonly status: 'firing' | 'resolved';
  readonly severity: Severity;
  /** The receiver's channels for the alert's severity (the severity matrix). */
  readonly channels: readonly Channel[];
  /** When its activation started firing (its identity). */
  readonly startsAtMs: number;
  readonly endsAtMs?: number;
}

/** What the last notification of the group on one channel held, and that channel's throttle memory. */
export interface GroupChannelState {
  /** Notifications sent on this channel (the next one's number is `seq + 1`). */
  readonly seq: number;
  readonly notified?: { readonly atMs: number; readonly firing: readonly string[]; readonly resolved: readonly string[] };
  /** Dispatch time of the last notification sent (the throttle window's start). */
  readonly lastSentAtMs?: number;
  /** Updates the throttle held since then, and since when. */
  readonly heldCount: number;
  readonly heldSinceMs?: number;
}

/** Where the group's notifications go on one channel (the receiver's destination, as last routed). */
export interface GroupDestination {
  readonly destination: Destination;
  readonly destinationId: string;
}

/** A stored group. */
export interface GroupItem extends GroupHeader {
  /** Bumped by every write (member added or changed, flush): the flush's commit is conditional on it. */
  readonly version: number;
  /** True once flushed: later alerts never shorten the wait. */
  readonly flushed: boolean;
  /** When the group is due to be flushed (dispatch's clock). */
  readonly dueAtMs: number;
  readonly members: Readonly<Record<string, GroupMember>>;
  readonly channels: Readonly<Partial<Record<Channel, GroupChannelState>>>;
  readonly destinations: Readonly<Partial<Record<Channel, GroupDestination>>>;
}

/** The group id of a key. */
export function groupIdOf(key: string): string {
  return `group:${sha256Hex(key).slice(0, 32)}`;
}

const MAX_VIEW_LABELS = 30;
const MAX_VIEW_VALUE = 200;
const MAX_VIEW_SUMMARY = 300;

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * How a member is listed: the alert's facts from its record (read by the flush for the members a
 * notification lists, not kept in the group: a member is a few dozen bytes), bounded.
 */
export function memberViewOf(record: AlertRecord, fingerprint: string, m: GroupMember): GroupMemberView {
  const names = Object.keys(record.labels).sort().slice(0, MAX_VIEW_LABELS);
  const labels: Record<string, string> = {};
  for (const k of names) labels[k] = cut(record.labels[k]!, MAX_VIEW_VALUE);
  const l = record.labels;
  const summary = record.annotations.summary;
  const runbook = record.annotations.runbook_url;
  return {
    fingerprint,
    status: m.status,
    severity: m.severity,
    name: cut(record.ruleName || l.alertname || record.ruleId, MAX_VIEW_VALUE),
    instance: cut(l.instance ?? l.host ?? l.job ?? l.service ?? '-', MAX_VIEW_VALUE),
    ...(summary ? { summary: cut(summary, MAX_VIEW_SUMMARY) } : {}),
    value: formatValue(record.value ?? null),
    startsAtMs: m.startsAtMs,
    ...(m.endsAtMs !== undefined ? { endsAtMs: m.endsAtMs } : {}),
    labels,
    ...(runbook && runbook.length <= 1000 ? { runbookUrl: runbook } : {}),
  };
}

/** The view of a member whose record could not be read (not committed yet, expired): what the group knows. */
export function bareMemberView(item: Pick<GroupItem, 'labels'>, fingerprint: string, m: GroupMember): GroupMemberView {
  return {
    fingerprint,
    status: m.status,
    severity: m.severity,
    name: item.labels.alertname ?? 'alert',
    instance: '-',
    value: 'n/a',
    startsAtMs: m.startsAtMs,
    ...(m.endsAtMs !== undefined ? { endsAtMs: m.endsAtMs } : {}),
    labels: {},
  };
}

/**
 * When a new group is due: `group_wait` after now, or now when its first alert started longer
 * ago than that (Alertmanager: `alert.StartsAt.Add(groupWait).Before(now)`).
 */
export function firstDueAt(startsAtMs: number, nowMs: number, timing: GroupTiming): number {
  return startsAtMs + timing.waitMs < nowMs ? nowMs : nowMs + timing.waitMs;
}

/** Why a flush did or did not notify a channel. */
export const GROUP_FLUSH_REASONS = [
  'first-notification',
  'new-firing',
  'all-resolved',
  'new-resolved',
  'repeat',
  'unchanged',
  'nothing-seen',
  'muted',
  'throttled',
] as const;
/** One of {@link GROUP_FLUSH_REASONS}. */
export type GroupFlushReason = (typeof GROUP_FLUSH_REASONS)[number];

/** Readable text of each reason (logs, `klaxon` output). */
export const GROUP_FLUSH_REASON_TEXT: Readonly<Record<GroupFlushReason, string>> = {
  'first-notification': 'the first notification of the group on this channel',
  'new-firing': 'an alert fires that the last notification did not include',
  'all-resolved': 'every alert of the last notification resolved',
  'new-resolved': 'an alert resolved since the last notification',
  repeat: 'nothing changed, and the repeat interval has passed: a reminder',
  unchanged: 'nothing changed since the last notification (repeat interval not reached)',
  'nothing-seen': 'nothing to say: no firing alert was notified, none fires',
  muted: "the route's time intervals mute it now: nothing sent, nothing remembered",
  throttled: "held by the throttle window of the group's highest severity: counted, sent with the next update",
};

const subset = (a: readonly string[], of: readonly string[]): boolean => {
  const s = new Set(of);
  return a.every((x) => s.has(x));
};

/** Alertmanager's `needsUpdate` (send_resolved on) for one channel: why a flush would notify, or not. */
export function notifyReason(
  firing: readonly string[],
  resolved: readonly string[],
  last: GroupChannelState['notified'],
  nowMs: number,
  repeatMs: number,
): Exclude<GroupFlushReason, 'muted' | 'throttled'> {
  if (!last) return firing.length > 0 ? 'first-notification' : 'nothing-seen';
  if (!subset(firing, last.firing)) return 'new-firing';
  if (firing.length === 0) return last.firing.length > 0 ? 'all-resolved' : 'nothing-seen';
  if (!subset(resolved, last.resolved)) return 'new-resolved';
  // Strictly before, as Alertmanager (`Timestamp.Before(now.Add(-repeat))`): at exactly the interval, the next flush repeats.
  return last.atMs < nowMs - repeatMs ? 'repeat' : 'unchanged';
}

/** The flush's view of the route now: muted by its time intervals, and which (names); `routeMuteAt` (time-intervals) gives one. */
export type GroupMute = { readonly muted: false } | { readonly muted: true; readonly by: readonly string[] };

/** What a flush decided for one channel. */
export interface ChannelFlush {
  readonly channel: Channel;
  readonly reason: GroupFlushReason;
  /** The job to send, when the channel gets a notification. */
  readonly job?: NotificationJob;
}

/** What a flush decided for a group. */
export interface GroupFlushDecision {
  readonly channels: readonly ChannelFlush[];
  /** The group after the flush (version unchanged: the store bumps it); undefined: delete it. */
  readonly next: GroupItem | undefined;
  /** Each channel's state after the flush (also when the group is deleted: {@link rebaseFlush} needs it). */
  readonly channelStates: Readonly<Partial<Record<Channel, GroupChannelState>>>;
}

/** Settings of the flush decision. */
export interface GroupFlushConfig {
  readonly throttleWindows: ThrottleWindows;
}

const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Members most severe first, then oldest first, then by fingerprint (a stable order for messages). */
function ordered(members: readonly [string, GroupMember][]): [string, GroupMember][] {
  return [...members].sort(
    ([fa, a], [fb, b]) => severityRank(a.severity) - severityRank(b.severity) || a.startsAtMs - b.startsAtMs || (fa < fb ? -1 : fa > fb ? 1 : 0),
  );
}

/** The group job of one channel's notification: the group's own transition (see `NotificationJob.group`) and its alerts. */
export function groupJob(
  item: GroupItem,
  channel: Channel,
  dest: GroupDestination,
  firing: readonly [string, GroupMember][],
  resolved: readonly [string, GroupMember][],
  reason: GroupNoticeReason,
  state: GroupChannelState | undefined,
  nowMs: number,
  views: ReadonlyMap<string, GroupMemberView> = new Map(),
): NotificationJob {
  const seq = (state?.seq ?? 0) + 1;
  const view = (fp: string, m: GroupMember): GroupMemberView => {
    const v = views.get(fp);
    return v ? { ...v, status: m.status, severity: m.severity, startsAtMs: m.startsAtMs, ...(m.endsAtMs !== undefined ? { endsAtMs: m.endsAtMs } : {}) } : bareMemberView(item, fp, m);
  };
  const lastFiring = new Set(state?.notified?.firing ?? []);
  const lastResolved = new Set(state?.notified?.resolved ?? []);
  const severity = firing.length > 0 ? firing.map(([, m]) => m.severity).sort((a, b) => severityRank(a) - severityRank(b))[0]! : (resolved[0]?.[1].severity ?? 'low');
  const all = [...firing, ...resolved];
  const firedAtMs = Math.min(...all.map(([, m]) => m.startsAtMs));
  const first = firing[0] ?? resolved[0];
  const name = item.labels.alertname ?? (first ? views.get(first[0])?.name : undefined) ?? 'alerts';
  const transition: AlertTransition = {
    version: 1,
    transitionId: `${item.id}:${channel}:${seq}`,
    kind: firing.length > 0 ? 'firing' : 'resolved',
    fingerprint: item.id,
    ruleId: item.routePath,
    ruleName: name,
    severity,
    labels: item.labels,
    annotations: {},
    value: null,
    condition: `${firing.length} firing, ${resolved.length} resolved`,
    atMs: nowMs,
    activeAtMs: firedAtMs,
    firedAtMs,
    ...(firing.length === 0 ? { resolvedAtMs: nowMs } : {}),
    emittedAtMs: nowMs,
  };
  const group: GroupNotice = {
    id: item.id,
    routePath: item.routePath,
    labels: item.labels,
    reason,
    firing: firing.slice(0, GROUP_JOB_MAX_LISTED).map(([fp, m]) => ({ ...view(fp, m), ...(lastFiring.has(fp) ? {} : { isNew: true }) })),
    resolved: resolved.slice(0, GROUP_JOB_MAX_LISTED).map(([fp, m]) => view(fp, m)),
    firingCount: firing.length,
    resolvedCount: resolved.length,
    changes: { newFiring: firing.filter(([fp]) => !lastFiring.has(fp)).length, newResolved: resolved.filter(([fp]) => !lastResolved.has(fp)).length },
    seq,
  };
  // The content is in the key: a flush decided again after a conflict with other alerts is a new
  // notification; the same decision redelivered is the same key (deduplicated by the channel).
  const content = sha256Hex(JSON.stringify([firing.map(([fp]) => fp), resolved.map(([fp]) => fp), reason])).slice(0, 12);
  return {
    version: MESSAGE_VERSION,
    idempotencyKey: `${item.id}:${seq}:${channel}:${content}`,
    channel,
    receiver: item.receiver,
    destination: dest.destination,
    destinationId: dest.destinationId,
    transition,
    severity,
    fireCount: firing.length,
    ...(state && state.heldCount > 0 ? { suppressed: { count: state.heldCount, sinceMs: state.heldSinceMs ?? state.lastSentAtMs ?? nowMs } } : {}),
    group,
  };
}

/**
 * Flushes a due group: per channel, Alertmanager's decision, then the route's mute, then the
 * throttle; the jobs to send; the group after it (resolved members out, the next due time one
 * `group_interval` on), or undefined when no member fires any more (deleted).
 */
export function decideGroupFlush(
  item: GroupItem,
  nowMs: number,
  mute: GroupMute,
  config: GroupFlushConfig,
  views: ReadonlyMap<string, GroupMemberView> = new Map(),
): GroupFlushDecision {
  const members = Object.entries(item.members);
  const channelSet = new Set<Channel>();
  for (const [, m] of members) for (const c of m.channels) channelSet.add(c);
  for (const c of Object.keys(item.channels) as Channel[]) channelSet.add(c);
  const channels: ChannelFlush[] = [];
  const nextChannels: Partial<Record<Channel, GroupChannelState>> = { ...item.channels };
  for (const channel of [...channelSet].sort()) {
    const mine = ordered(members.filter(([, m]) => m.channels.includes(channel)));
    const firing = mine.filter(([, m]) => m.status === 'firing');
    const resolved = mine.filter(([, m]) => m.status === 'resolved');
    const state = item.channels[channel];
    const base = notifyReason(
      firing.map(([fp]) => fp).sort(),
      resolved.map(([fp]) => fp).sort(),
      state?.notified,
      nowMs,
      item.timing.repeatMs,
    );
    if (base === 'unchanged' || base === 'nothing-seen') {
      channels.push({ channel, reason: base });
      continue;
    }
    const dest = item.destinations[channel];
    // A resolution of the whole group is never muted or held: it closes what was sent.
    if (base !== 'all-resolved') {
      if (mute.muted) {
        channels.push({ channel, reason: 'muted' });
        continue;
      }
      const top = firing[0]![1].severity;
      const t = decideThrottle(state?.lastSentAtMs, config.throttleWindows[top], nowMs);
      if (!t.send) {
        channels.push({ channel, reason: 'throttled' });
        nextChannels[channel] = { ...state!, heldCount: state!.heldCount + 1, heldSinceMs: state!.heldSinceMs ?? nowMs };
        continue;
      }
    }
    if (!dest) {
      // A channel no member was ever routed to with a destination cannot happen; remember nothing.
      channels.push({ channel, reason: 'nothing-seen' });
      continue;
    }
    const job = groupJob(item, channel, dest, firing, resolved, base, state, nowMs, views);
    channels.push({ channel, reason: base, job });
    nextChannels[channel] = {
      seq: job.group!.seq,
      notified: { atMs: nowMs, firing: firing.map(([fp]) => fp).sort(), resolved: resolved.map(([fp]) => fp).sort() },
      lastSentAtMs: nowMs,
      heldCount: 0,
    };
  }
  const remaining: Record<string, GroupMember> = {};
  for (const [fp, m] of members) if (m.status === 'firing') remaining[fp] = m;
  const next: GroupItem | undefined =
    Object.keys(remaining).length === 0
      ? undefined
      : { ...item, flushed: true, dueAtMs: nowMs + item.timing.intervalMs, members: remaining, channels: nextChannels };
  return { channels, next, channelStates: nextChannels };
}

/**
 * The group to commit after a flush whose jobs are published but whose commit lost a race: the
 * group as it is now (`fresh`) with the flush applied, instead of a new decision. Deciding again
 * would publish again: a second first notification (a second Slack message for the group) for
 * every member written meanwhile, which in a storm is every flush. As Alertmanager, an alert that
 * arrives during a flush waits for the next one: members written since the read are kept as they
 * are (not in what was notified, so the next flush tells them); members the flush dropped
 * (resolved when read) leave unless they fire again; each channel's state is the flush's.
 * Undefined (delete) only when nothing remains. Returns `'obsolete'` when another flush committed
 * in between (another due time).
 */
export function rebaseFlush(read: GroupItem, decision: GroupFlushDecision, fresh: GroupItem, nowMs: number): GroupItem | undefined | 'obsolete' {
  if (fresh.dueAtMs !== read.dueAtMs) return 'obsolete';
  const members: Record<string, GroupMember> = {};
  for (const [fp, m] of Object.entries(fresh.members)) {
    const was = read.members[fp];
    const dropped = was !== undefined && was.status === 'resolved' && m.status === 'resolved' && m.startsAtMs === was.startsAtMs;
    if (!dropped) members[fp] = m;
  }
  if (Object.keys(members).length === 0) return undefined;
  return {
    ...fresh,
    flushed: true,
    dueAtMs: decision.next?.dueAtMs ?? nowMs + fresh.timing.intervalMs,
    members,
    channels: { ...fresh.channels, ...decision.channelStates },
  };
}

/** The members a flush decision lists in its notifications (whose views the flush reads). */
export function listedMembers(decision: GroupFlushDecision): string[] {
  const fps = new Set<string>();
  for (const c of decision.channels) for (const m of [...(c.job?.group?.firing ?? []), ...(c.job?.group?.resolved ?? [])]) fps.add(m.fingerprint);
  return [...fps].sort();
}
