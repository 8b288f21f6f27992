/**
 * Flushing a due group (docs/routing.md, "Grouping"): the flush-groups function receives a
 * {@link FlushMessage} at the group's due time (a delayed message on the group-flush queue; SQS
 * delays at most 15 minutes, so a later due time comes early and is scheduled again), and runs
 * read → decide ({@link decideGroupFlush}) → publish → commit → schedule the next flush.
 *
 * Publish-then-commit, as dispatch: a crash between the two redelivers the message, which decides
 * again from the same group and publishes the same jobs (same idempotency keys: deduplicated). A
 * member written meanwhile makes the commit fail (version): the published flush is then applied to
 * the group as it is now ({@link rebaseFlush}), never decided and published again (that would be a
 * second notification, on Slack a second message, per member written during the flush: in a storm,
 * every flush); the new member is told by the next flush, as Alertmanager does.
 * A message for another due time than the group's is obsolete (the group was flushed by another
 * message, or created again): dropped. Nothing sleeps; every time comes from the injected clock.
 */
import type { Clock, GroupMemberView } from '../../model/index.ts';
import type { JobPublisher, RoutesSource } from '../ports.ts';
import type { RoutingConfig } from '../route/routing.ts';
import { decideGroupFlush, rebaseFlush, type GroupFlushConfig, type GroupFlushDecision, type GroupItem, type GroupMute, listedMembers, memberViewOf } from './group.ts';
import { GroupChangedError, type FlushMessage, type FlushScheduler, type GroupStore, type MemberRecords } from './ports.ts';
import { TransientError } from '../../errors/index.ts';
import type { SilenceStore } from '../silence/ports.ts';
import { expireSilencesUntilResolved } from '../silence/manage.ts';

/** What the flush needs. */
export interface FlushPorts {
  readonly groups: GroupStore;
  readonly jobs: JobPublisher;
  readonly scheduler: FlushScheduler;
  readonly routes: RoutesSource;
  readonly clock: Clock;
  /** The records of the members a notification lists (absent: messages list what the group knows). */
  readonly records?: MemberRecords;
  /**
   * Where silences are expired: a group's message silenced "until resolved" (Slack's button,
   * docs/incidents.md) ends when the whole group resolved (absent: it runs to its end).
   */
  readonly silenceStore?: SilenceStore;
}

/** Options of {@link flushGroup}. */
export interface FlushOptions {
  readonly config: GroupFlushConfig;
  /** Whether the group's route is muted now by its time intervals (default: never). */
  readonly muteOf?: (routes: RoutingConfig, routePath: string, nowMs: number) => GroupMute;
  /** Commits tried after publishing when others keep writing the group (default 5). */
  readonly maxAttempts?: number;
  /** Told when a commit lost a race and the flush is applied to the group read again. */
  readonly onConflict?: (attempt: number) => void;
}

/** What became of a flush message. */
export type FlushOutcome =
  | { readonly outcome: 'gone' }
  | { readonly outcome: 'obsolete'; readonly dueAtMs: number }
  | { readonly outcome: 'early'; readonly dueAtMs: number }
  | { readonly outcome: 'flushed'; readonly decision: GroupFlushDecision };

/** Readable text of each outcome (logs). */
export const FLUSH_OUTCOME_TEXT: Readonly<Record<FlushOutcome['outcome'], string>> = {
  gone: 'the group no longer exists (every alert resolved and notified): nothing to do',
  obsolete: 'a message for an earlier due time: the group was flushed since; dropped',
  early: 'not due yet (a due time past the queue delay limit): scheduled again',
  flushed: 'flushed',
};

/** The group kept changing under us for every attempt: transient, the message is received again. */
export class FlushConflictError extends TransientError {}

/** Flushes the group of `m` if it is due. */
export async function flushGroup(ports: FlushPorts, m: FlushMessage, options: FlushOptions): Promise<FlushOutcome> {
  const maxAttempts = options.maxAttempts ?? 5;
  const item = await ports.groups.get(m.id);
  if (!item) return { outcome: 'gone' };
  if (item.dueAtMs !== m.dueAtMs) return { outcome: 'obsolete', dueAtMs: item.dueAtMs };
  const nowMs = ports.clock.now();
  if (nowMs < item.dueAtMs) {
    await ports.scheduler.schedule([m], nowMs);
    return { outcome: 'early', dueAtMs: item.dueAtMs };
  }
  const routes = await ports.routes.get();
  const mute = options.muteOf?.(routes, item.routePath, nowMs) ?? { muted: false };
  let decision = decideGroupFlush(item, nowMs, mute, options.config);
  // The listed members' facts come from their records (at most 100 firing and 100 resolved per
  // channel: one or two BatchGetItem), read only when the flush notifies. The decision is pure,
  // so deciding again with the views gives the same reasons and jobs, now with the alerts' facts.
  const listed = listedMembers(decision);
  if (listed.length > 0 && ports.records) {
    const records = await ports.records.records(listed);
    const views = new Map<string, GroupMemberView>();
    for (const fp of listed) {
      const r = records.get(fp);
      const m = item.members[fp];
      if (r && m && r.startsAtMs === m.startsAtMs) views.set(fp, memberViewOf(r, fp, m));
    }
    decision = decideGroupFlush(item, nowMs, mute, options.config, views);
  }
  const jobs = decision.channels.flatMap((c) => (c.job ? [c.job] : []));
  if (jobs.length > 0) await ports.jobs.publish(jobs);
  // Every alert resolved and notified: the group ends, and so do the silences made until then.
  // Before the commit: a crash after it would leave a redelivery finding the group gone.
  if (decision.next === undefined && ports.silenceStore) await expireSilencesUntilResolved({ silences: ports.silenceStore }, item.id, nowMs);
  // What is published is sent: from here on, only the commit is tried again.
  let base: GroupItem = item;
  let next: GroupItem | undefined = decision.next;
  const applied = next !== undefined && ports.groups.applyFlush !== undefined && (await ports.groups.applyFlush(item, next, nowMs));
  for (let attempt = 1; !applied; attempt++) {
    try {
      await ports.groups.commitFlush(item.id, next, base.version, nowMs);
      break;
    } catch (err) {
      if (!(err instanceof GroupChangedError)) throw err;
      if (attempt >= maxAttempts) throw new FlushConflictError(`group ${m.id}: still changing after ${attempt} attempts`, { cause: err });
      options.onConflict?.(attempt);
    }
    const fresh = await ports.groups.get(item.id);
    // Deleted or flushed by another message meanwhile: that flush owns the group now.
    if (!fresh) return { outcome: 'flushed', decision };
    const rebased = rebaseFlush(item, decision, fresh, nowMs);
    if (rebased === 'obsolete') return { outcome: 'flushed', decision };
    base = fresh;
    next = rebased;
  }
  if (next) await ports.scheduler.schedule([{ version: 1, kind: 'flush', id: item.id, dueAtMs: next.dueAtMs }], nowMs);
  return { outcome: 'flushed', decision: { ...decision, next } };
}

/** How long past its due time a group must be before the timers schedule it again (its message is then taken as lost). */
export const OVERDUE_GRACE_MS = 60_000;

/**
 * The timers' safety net: a group overdue by more than {@link OVERDUE_GRACE_MS} lost its flush
 * message (dispatch died between creating the group and scheduling it, or a flush between its
 * commit and the next schedule): schedule it now. Returns how many.
 */
export async function scheduleOverdueFlushes(ports: Pick<FlushPorts, 'groups' | 'scheduler'>, nowMs: number, limit = 500): Promise<number> {
  const due = await ports.groups.overdue(nowMs - OVERDUE_GRACE_MS, limit);
  if (due.length === 0) return 0;
  await ports.scheduler.schedule(
    due.map((d) => ({ version: 1, kind: 'flush', id: d.id, dueAtMs: d.dueAtMs })),
    nowMs,
  );
  return due.length;
}

/** A group-flush message body, or undefined when it is not one (dead-lettered by the caller with this reason). */
export function parseFlushMessage(body: string): FlushMessage | string {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return 'not JSON';
  }
  const d = doc as Partial<FlushMessage> | null;
  if (!d || typeof d !== 'object') return 'not an object';
  if (d.version !== 1) return 'version: expected 1';
  if (d.kind !== 'flush') return "kind: expected 'flush'";
  if (typeof d.id !== 'string' || !/^group:[0-9a-f]{32}$/.test(d.id)) return 'id: expected group:<32 hex>';
  if (typeof d.dueAtMs !== 'number' || !Number.isSafeInteger(d.dueAtMs)) return 'dueAtMs: expected an integer (epoch ms)';
  return { version: 1, kind: 'flush', id: d.id, dueAtMs: d.dueAtMs };
}
