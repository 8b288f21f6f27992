/**
 * The ports of grouping (docs/routing.md, "Grouping"): the group store (the groups table) and the
 * flush scheduler (a delayed message on the group-flush queue). Adapters in shared/adapters;
 * in-memory implementations in `in-memory.ts`.
 */
import { PermanentError, TransientError } from '../../errors/index.ts';
import type { Channel } from '../../model/index.ts';
import type { GroupDestination, GroupHeader, GroupItem, GroupMember } from './group.ts';
import type { AlertRecord } from '../record/alert-record.ts';


/** An alert joining (or changing in) a group: one write. */
export interface GroupUpsert {
  readonly header: GroupHeader;
  readonly fingerprint: string;
  readonly member: GroupMember;
  /** The receiver's destination on each of the member's channels. */
  readonly destinations: Readonly<Partial<Record<Channel, GroupDestination>>>;
  /** When the group is due if this write creates it. */
  readonly dueIfNewMs: number;
}

/** Groups, one item each; every write is one request. */
export interface GroupStore {
  /** The group (strongly consistent), or undefined. */
  get(id: string): Promise<GroupItem | undefined>;
  /**
   * Puts a member in (or replaces it in) its group, creating the group with `dueIfNewMs` when it
   * does not exist; returns whether this write created it (then the caller schedules its flush).
   * Idempotent: the same upsert again changes nothing that matters.
   */
  upsertMember(u: GroupUpsert, nowMs: number): Promise<{ readonly created: boolean }>;
  /** Marks a member resolved at `endsAtMs`, only if the group still holds it (a group already deleted stays deleted). */
  resolveMember(id: string, fingerprint: string, endsAtMs: number, nowMs: number): Promise<void>;
  /**
   * Writes the group after a flush (`next`), or deletes it (undefined), if its version is still
   * `expectedVersion`; throws {@link GroupChangedError} otherwise.
   */
  commitFlush(id: string, next: GroupItem | undefined, expectedVersion: number, nowMs: number): Promise<void>;
  /**
   * Writes a flush of `read` (its result `next`) onto the group WITHOUT rewriting the members
   * written since: the due time, each channel's state, and the removal of the members the flush
   * dropped (resolved when read), if the group is still due at `read.dueAtMs` and each dropped
   * member is unchanged. Returns false, writing nothing, when that does not hold or the store
   * cannot say it in one write (then the caller commits with {@link commitFlush}). Optional: a
   * store without it always commits by version. Members are written all the time during a storm:
   * a commit by version would lose to them flush after flush.
   */
  applyFlush?(read: GroupItem, next: GroupItem, nowMs: number): Promise<boolean>;
  /** Groups due before `beforeMs` (the timers' safety net), at most `limit`, ids and due times. */
  overdue(beforeMs: number, limit: number): Promise<readonly { readonly id: string; readonly dueAtMs: number }[]>;
}

/** A group changed between the flush's read and its commit: read and decide again (transient). */
export class GroupChangedError extends TransientError {}

/**
 * A group holds as many alerts as its item can (DynamoDB's 400 KB item limit, about 4,500 alerts):
 * the member write is refused, and would be on every retry. Dispatch then decides the transition
 * again with that group taken as full: the alert is notified on its own on that route (nothing
 * lost); permanent only if it ever escaped that (dead-lettered with the group named).
 */
export class GroupFullError extends PermanentError {
  /** The full group. */
  readonly groupId: string;
  constructor(groupId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.groupId = groupId;
  }
}

/** A request to flush a group at its due time (the group-flush queue's message body). */
export interface FlushMessage {
  readonly version: 1;
  readonly kind: 'flush';
  readonly id: string;
  /** The due time this message is for: a message for another due time than the group's is obsolete. */
  readonly dueAtMs: number;
}

/** Schedules flushes: a message delivered at (or, past 15 minutes, before) the due time. */
export interface FlushScheduler {
  schedule(messages: readonly FlushMessage[], nowMs: number): Promise<void>;
}

/**
 * The alert records of the members a notification lists (their name, instance, summary, labels,
 * value: a group keeps only a few dozen bytes per member). Strongly consistent; a fingerprint
 * without a record is absent from the map (the notification then lists what the group knows).
 */
export interface MemberRecords {
  records(fingerprints: readonly string[]): Promise<ReadonlyMap<string, AlertRecord>>;
}
