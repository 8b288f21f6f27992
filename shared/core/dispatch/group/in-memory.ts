/**
 * In-memory implementations of the grouping ports, with the DynamoDB adapter's semantics that
 * matter (one request per call, version-guarded flush commit, a flush applied without rewriting members, a resolution never recreates a
 * deleted group). For fast tests and `klaxon` simulations.
 */
import type { FlushMessage, FlushScheduler, GroupStore, GroupUpsert, MemberRecords } from './ports.ts';
import type { InMemoryAlertStore } from '../in-memory.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import { GroupChangedError, GroupFullError } from './ports.ts';
import type { GroupItem } from './group.ts';

/** {@link GroupStore} in a Map, counting requests. */
export class InMemoryGroupStore implements GroupStore {
  private readonly items = new Map<string, GroupItem>();
  reads = 0;
  writes = 0;

  /** `capacity`: members a group holds before a new member write fails with GroupFullError (DynamoDB's item limit). */
  constructor(private readonly capacity = Number.POSITIVE_INFINITY) {}

  async get(id: string): Promise<GroupItem | undefined> {
    this.reads++;
    return this.items.get(id);
  }

  async upsertMember(u: GroupUpsert): Promise<{ readonly created: boolean }> {
    this.writes++;
    const cur = this.items.get(u.header.id);
    if (cur && !cur.members[u.fingerprint] && Object.keys(cur.members).length >= this.capacity) {
      throw new GroupFullError(u.header.id, `group ${u.header.id} is full (${this.capacity} members)`);
    }
    const base: GroupItem = cur ?? { ...u.header, version: 0, flushed: false, dueAtMs: u.dueIfNewMs, members: {}, channels: {}, destinations: {} };
    this.items.set(u.header.id, {
      ...base,
      version: base.version + 1,
      members: { ...base.members, [u.fingerprint]: u.member },
      destinations: { ...base.destinations, ...u.destinations },
    });
    return { created: cur === undefined };
  }

  async resolveMember(id: string, fingerprint: string, endsAtMs: number): Promise<void> {
    this.writes++;
    const cur = this.items.get(id);
    const m = cur?.members[fingerprint];
    if (!cur || !m) return;
    this.items.set(id, { ...cur, version: cur.version + 1, members: { ...cur.members, [fingerprint]: { ...m, status: 'resolved', endsAtMs } } });
  }

  async commitFlush(id: string, next: GroupItem | undefined, expectedVersion: number): Promise<void> {
    this.writes++;
    const cur = this.items.get(id);
    if (!cur || cur.version !== expectedVersion) throw new GroupChangedError(`group ${id} changed since version ${expectedVersion}`);
    if (next) this.items.set(id, { ...next, version: expectedVersion + 1 });
    else this.items.delete(id);
  }

  async applyFlush(read: GroupItem, next: GroupItem): Promise<boolean> {
    this.writes++;
    const cur = this.items.get(read.id);
    if (!cur || cur.dueAtMs !== read.dueAtMs) return false;
    const dropped = Object.keys(read.members).filter((fp) => next.members[fp] === undefined);
    if (dropped.some((fp) => cur.members[fp]?.status !== 'resolved' || cur.members[fp]?.startsAtMs !== read.members[fp]!.startsAtMs)) return false;
    const members = { ...cur.members };
    for (const fp of dropped) delete members[fp];
    this.items.set(read.id, { ...cur, version: cur.version + 1, flushed: next.flushed, dueAtMs: next.dueAtMs, members, channels: { ...cur.channels, ...next.channels } });
    return true;
  }

  async overdue(beforeMs: number, limit: number): Promise<readonly { readonly id: string; readonly dueAtMs: number }[]> {
    this.reads++;
    return [...this.items.values()]
      .filter((g) => g.dueAtMs < beforeMs)
      .sort((a, b) => a.dueAtMs - b.dueAtMs)
      .slice(0, limit)
      .map((g) => ({ id: g.id, dueAtMs: g.dueAtMs }));
  }

  /** Every group (tests). */
  all(): GroupItem[] {
    return [...this.items.values()];
  }

  /** A group without counting a read (tests). */
  peek(id: string): GroupItem | undefined {
    return this.items.get(id);
  }
}

/** {@link FlushScheduler} that keeps the messages (a test or simulation delivers them when due). */
export class CollectingFlushScheduler implements FlushScheduler {
  readonly scheduled: FlushMessage[] = [];

  async schedule(messages: readonly FlushMessage[]): Promise<void> {
    this.scheduled.push(...messages);
  }

  /** Removes and returns the messages due at `nowMs`. */
  takeDue(nowMs: number): FlushMessage[] {
    const due = this.scheduled.filter((m) => m.dueAtMs <= nowMs);
    for (const m of due) this.scheduled.splice(this.scheduled.indexOf(m), 1);
    return due;
  }
}

/** {@link MemberRecords} over an {@link InMemoryAlertStore} (one request per call, as one BatchGetItem). */
export class InMemoryMemberRecords implements MemberRecords {
  reads = 0;
  constructor(private readonly alerts: InMemoryAlertStore) {}

  async records(fingerprints: readonly string[]): Promise<ReadonlyMap<string, AlertRecord>> {
    this.reads++;
    const out = new Map<string, AlertRecord>();
    for (const fp of fingerprints) {
      const r = this.alerts.peek(fp);
      if (r) out.set(fp, r);
    }
    return out;
  }
}
