/**
 * The group stage (docs/design.md, "The notification pipeline": group; docs/routing.md,
 * "Grouping"): a firing that reaches a route with `group_by` is not notified on its own. Its
 * targets on that route become one member write in the (route, receiver, group labels) group;
 * the group's flush notifies all of its alerts at once (`flush.ts`). Targets of routes without
 * `group_by` go on to the throttle as before. A resolution marks the alert resolved in the groups
 * its firing joined (the record keeps their ids); the next flush says so.
 *
 * `group-sync` (an effect, after publish) writes the members and schedules the flush of each
 * group this transition created. A crash between the two leaves a group without its scheduled
 * flush: the timers function finds it overdue and schedules it (`scheduleOverdueFlushes`).
 */
import type { Channel } from '../../model/index.ts';
import { decision, effect, next } from '../../pipeline/stage.ts';
import { noted, type DispatchContext, type DispatchDecision, type NotifyTarget } from '../context.ts';
import type { DispatchPorts } from '../ports.ts';
import { groupKeyOf, groupLabelsOf } from './aggregation.ts';
import { firstDueAt, groupIdOf, type GroupDestination } from './group.ts';
import type { FlushMessage, GroupUpsert } from './ports.ts';

export * from './aggregation.ts';
export * from './group.ts';
export * from './in-memory.ts';
export * from './ports.ts';

/** Why the group stage decided as it did. */
export const GROUP_REASONS = ['ungrouped', 'grouped', 'partly-grouped', 'group-full', 'resolved-in-groups', 'no-group'] as const;
/** One of {@link GROUP_REASONS}. */
export type GroupReason = (typeof GROUP_REASONS)[number];

/** Readable text of each {@link GroupReason}. */
export const GROUP_REASON_TEXT: Readonly<Record<GroupReason, string>> = {
  ungrouped: 'no route of it sets group_by: notified on its own',
  grouped: "joins its routes' groups: notified with them when they flush",
  'partly-grouped': 'joins the groups of its routes with group_by; notified on its own through the others',
  'group-full': 'its group is full (DynamoDB item limit): notified on its own there, nothing lost',
  'resolved-in-groups': 'marked resolved in the groups its firing joined: their next flush says so',
  'no-group': 'its firing joined no group',
};

/** What the group stage decided. */
export interface GroupStageDecision {
  readonly reason: GroupReason;
  /** Targets notified on their own (routes without group_by). */
  readonly targets: readonly NotifyTarget[];
  /** Member writes (one per group). */
  readonly upserts: readonly GroupUpsert[];
  /** Groups to mark this alert resolved in. */
  readonly resolves: readonly string[];
}

/** The group decision of a transition (pure). */
export function decideGroups(ctx: Pick<DispatchContext, 'transition' | 'labels' | 'routed' | 'targets' | 'severity' | 'record' | 'nowMs'> & Partial<Pick<DispatchContext, 'fullGroups'>>): GroupStageDecision {
  const t = ctx.transition;
  if (t.kind === 'resolved') {
    const ids = ctx.record && ctx.record.startsAtMs === t.firedAtMs ? (ctx.record.groups ?? []) : [];
    return { reason: ids.length > 0 ? 'resolved-in-groups' : 'no-group', targets: ctx.targets, upserts: [], resolves: ids };
  }
  const routes = new Map(ctx.routed.map((r) => [r.path, r]));
  const own: NotifyTarget[] = [];
  let full = false;
  const groups = new Map<string, { upsert: Omit<GroupUpsert, 'member' | 'destinations'>; channels: Channel[]; destinations: Partial<Record<Channel, GroupDestination>> }>();
  for (const target of ctx.targets) {
    const route = target.routePath !== undefined ? routes.get(target.routePath) : undefined;
    if (!route || route.groupBy === undefined) {
      own.push(target);
      continue;
    }
    const labels = groupLabelsOf(route.groupBy, ctx.labels);
    const key = groupKeyOf(route.path, target.receiver, labels);
    if (ctx.fullGroups?.has(groupIdOf(key))) {
      full = true;
      own.push(target);
      continue;
    }
    let g = groups.get(key);
    if (!g) {
      const header = { id: groupIdOf(key), key, routePath: route.path, receiver: target.receiver, labels, timing: route.timing };
      g = { upsert: { header, fingerprint: t.fingerprint, dueIfNewMs: firstDueAt(t.firedAtMs, ctx.nowMs, route.timing) }, channels: [], destinations: {} };
      groups.set(key, g);
    }
    g.channels.push(target.channel);
    g.destinations[target.channel] = { destination: target.destination, destinationId: target.destinationId };
  }
  const upserts: GroupUpsert[] = [...groups.values()].map((g) => ({
    ...g.upsert,
    member: { status: 'firing', severity: ctx.severity, channels: g.channels, startsAtMs: t.firedAtMs },
    destinations: g.destinations,
  }));
  const reason: GroupReason = full ? 'group-full' : upserts.length === 0 ? 'ungrouped' : own.length === 0 ? 'grouped' : 'partly-grouped';
  return { reason, targets: own, upserts, resolves: [] };
}

/** The group stage. */
export const groupStage = decision<DispatchContext, DispatchDecision>('group', (ctx) => {
  const d = decideGroups(ctx);
  const subject = d.upserts.length > 0 ? d.upserts.map((u) => u.header.id).join(',') : d.resolves.length > 0 ? d.resolves.join(',') : undefined;
  return next(
    noted(ctx, { stage: 'group', reason: d.reason, text: GROUP_REASON_TEXT[d.reason], ...(subject ? { subject } : {}) }, { targets: d.targets, groupUpserts: d.upserts, groupResolves: d.resolves }),
  );
});

/** group-sync: the member writes, then a flush scheduled for each group they created. */
export const groupSyncStage = effect<DispatchContext, DispatchPorts, DispatchDecision>('group-sync', async (ctx, ports) => {
  if (ctx.groupUpserts.length === 0 && ctx.groupResolves.length === 0) return next(ctx);
  if (!ports.groups || !ports.flushes) throw new Error('the routes config groups alerts (group_by) but dispatch was given no GroupStore and FlushScheduler');
  const created: FlushMessage[] = [];
  for (const u of ctx.groupUpserts) {
    const r = await ports.groups.upsertMember(u, ctx.nowMs);
    if (r.created) created.push({ version: 1, kind: 'flush', id: u.header.id, dueAtMs: u.dueIfNewMs });
  }
  const t = ctx.transition;
  for (const id of ctx.groupResolves) await ports.groups.resolveMember(id, t.fingerprint, t.resolvedAtMs ?? t.atMs, ctx.nowMs);
  if (created.length > 0) await ports.flushes.schedule(created, ctx.nowMs);
  return next(ctx);
});
export * from './flush.ts';
