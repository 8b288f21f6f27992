/**
 * Notification groups in the groups table (docs/routing.md, "Grouping"), key `id` = the group id.
 * Each member is its own attribute `m:<fingerprint>` (a map), each channel's state `c:<channel>`
 * and destination `d:<channel>`, so an alert joining a group is ONE UpdateItem that neither reads
 * nor rewrites the others (no read-modify-write, no transaction), and creates the group when it
 * is the first (header fields `if_not_exists`; `ReturnValues: UPDATED_OLD` says whether it was).
 * Every write adds 1 to `ver`; the flush's rewrite (PutItem) or delete is conditional on it.
 * While a group exists it is in the sparse `by-due` index (`dueShard`, `dueAt`), where the timers
 * find groups whose flush message was lost.
 *
 * Cost: an update is billed on the larger of the item before and after (1 WRU per KB). A member
 * is its state only (status, severity, channels, start and end: about 80 bytes with its
 * fingerprint); what a notification shows of it is read from its alert record when a flush lists
 * it. A group of 100 alerts is then ~8 KB (its 100th member costs ~8 WRU), and a group holds about
 * 4,500 alerts within DynamoDB's 400 KB item limit; past it, the member write fails with
 * {@link GroupFullError}, and dispatch decides that transition again with the group taken as
 * full: the alert is notified on its own on that route (nothing lost); the group goes on.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
 */
import { ConditionalCheckFailedException, DynamoDBServiceException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel, Labels, Severity } from '../../core/model/index.ts';
import { GroupChangedError, GroupFullError, type GroupStore, type GroupUpsert } from '../../core/dispatch/group/ports.ts';
import type { GroupChannelState, GroupDestination, GroupItem, GroupMember } from '../../core/dispatch/group/group.ts';
import type { GroupTiming } from '../../core/dispatch/group/aggregation.ts';

/** The one partition of the by-due index of the groups table. */
export const GROUP_DUE_SHARD = 'g';
/** How long a group outlives its last write (a firing group is rewritten every group_interval). */
export const GROUP_RETENTION_MS = 7 * 86_400_000;

/** Most dropped members {@link DynamoGroupStore.applyFlush} removes in one conditional write. */
const MAX_APPLY_DROPPED = 40;
const MEMBER = 'm:';
const CHANNEL = 'c:';
const DEST = 'd:';

/** A member as stored: a few dozen bytes (the alert's facts are read from its record when a notification lists it). */
interface StoredMember {
  st: 'firing' | 'resolved';
  sev: Severity;
  ch: Channel[];
  at: number;
  e?: number;
}

const toStored = (m: GroupMember): StoredMember => ({ st: m.status, sev: m.severity, ch: [...m.channels], at: m.startsAtMs, ...(m.endsAtMs !== undefined ? { e: m.endsAtMs } : {}) });
const fromStored = (s: StoredMember): GroupMember => ({
  status: s.st,
  severity: s.sev,
  channels: s.ch,
  startsAtMs: s.at,
  ...(s.e !== undefined ? { endsAtMs: s.e } : {}),
});

/** Reads a stored item into a {@link GroupItem}. */
function itemOf(raw: Record<string, unknown>): GroupItem {
  const members: Record<string, GroupMember> = {};
  const channels: Partial<Record<Channel, GroupChannelState>> = {};
  const destinations: Partial<Record<Channel, GroupDestination>> = {};
  for (const [name, v] of Object.entries(raw)) {
    if (name.startsWith(MEMBER)) members[name.slice(MEMBER.length)] = fromStored(v as StoredMember);
    else if (name.startsWith(CHANNEL)) channels[name.slice(CHANNEL.length) as Channel] = v as GroupChannelState;
    else if (name.startsWith(DEST)) destinations[name.slice(DEST.length) as Channel] = v as GroupDestination;
  }
  return {
    id: raw.id as string,
    key: raw.gk as string,
    routePath: raw.rp as string,
    receiver: raw.rcv as string,
    labels: raw.gl as Labels,
    timing: raw.tm as GroupTiming,
    version: raw.ver as number,
    flushed: raw.fl === true,
    dueAtMs: raw.dueAt as number,
    members,
    channels,
    destinations,
  };
}

/**
 * Whether DynamoDB refused a write because the item would pass 400 KB. The SDK has no class for
 * ValidationException (it is DynamoDBServiceException with that name), and the same exception
 * covers malformed requests, so its message is what tells them apart ("Item size has exceeded the
 * maximum allowed size", "Item size to update has exceeded the maximum allowed size").
 */
function isItemTooLarge(err: unknown): boolean {
  return err instanceof DynamoDBServiceException && err.name === 'ValidationException' && /item size .*exceeded the maximum allowed size/i.test(err.message);
}

/** {@link GroupStore} on DynamoDB. */
export class DynamoGroupStore implements GroupStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, table: string) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = table;
  }

  async get(id: string): Promise<GroupItem | undefined> {
    const r = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { id }, ConsistentRead: true }));
    return r.Item && typeof r.Item.ver === 'number' ? itemOf(r.Item) : undefined;
  }

  async upsertMember(u: GroupUpsert, nowMs: number): Promise<{ readonly created: boolean }> {
    const h = u.header;
    const names: Record<string, string> = { '#m': `${MEMBER}${u.fingerprint}` };
    const values: Record<string, unknown> = {
      ':m': toStored(u.member),
      ':gk': h.key,
      ':rp': h.routePath,
      ':rcv': h.receiver,
      ':gl': h.labels,
      ':tm': h.timing,
      ':fl': false,
      ':due': u.dueIfNewMs,
      ':shard': GROUP_DUE_SHARD,
      ':exp': Math.floor((nowMs + GROUP_RETENTION_MS) / 1000),
      ':one': 1,
    };
    const set = [
      '#m = :m',
      'gk = if_not_exists(gk, :gk)',
      'rp = if_not_exists(rp, :rp)',
      'rcv = if_not_exists(rcv, :rcv)',
      'gl = if_not_exists(gl, :gl)',
      'tm = if_not_exists(tm, :tm)',
      'fl = if_not_exists(fl, :fl)',
      'dueAt = if_not_exists(dueAt, :due)',
      'dueShard = if_not_exists(dueShard, :shard)',
      'expiresAt = :exp',
    ];
    Object.entries(u.destinations).forEach(([channel, d], i) => {
      names[`#d${i}`] = `${DEST}${channel}`;
      values[`:d${i}`] = d;
      set.push(`#d${i} = :d${i}`);
    });
    const update = new UpdateCommand({
      TableName: this.#table,
      Key: { id: h.id },
      UpdateExpression: `SET ${set.join(', ')} ADD ver :one`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'UPDATED_OLD',
    });
    let r;
    try {
      r = await this.#doc.send(update);
    } catch (err) {
      if (isItemTooLarge(err)) throw new GroupFullError(h.id, `group ${h.id} (${h.key}) is full: DynamoDB refused alert ${u.fingerprint} past its 400 KB item limit`, { cause: err });
      throw err;
    }
    return { created: r.Attributes?.gk === undefined };
  }

  async resolveMember(id: string, fingerprint: string, endsAtMs: number): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { id },
          UpdateExpression: 'SET #m.st = :r, #m.e = :e ADD ver :one',
          ConditionExpression: 'attribute_exists(#m)',
          ExpressionAttributeNames: { '#m': `${MEMBER}${fingerprint}` },
          ExpressionAttributeValues: { ':r': 'resolved', ':e': endsAtMs, ':one': 1 },
        }),
      );
    } catch (err) {
      // The group no longer holds it (deleted after its last flush): nothing to mark.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async commitFlush(id: string, next: GroupItem | undefined, expectedVersion: number, nowMs: number): Promise<void> {
    try {
      if (!next) {
        await this.#doc.send(
          new DeleteCommand({ TableName: this.#table, Key: { id }, ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        );
        return;
      }
      const item: Record<string, unknown> = {
        id,
        gk: next.key,
        rp: next.routePath,
        rcv: next.receiver,
        gl: next.labels,
        tm: next.timing,
        ver: expectedVersion + 1,
        fl: next.flushed,
        dueAt: next.dueAtMs,
        dueShard: GROUP_DUE_SHARD,
        expiresAt: Math.floor((nowMs + GROUP_RETENTION_MS) / 1000),
      };
      for (const [fp, m] of Object.entries(next.members)) item[`${MEMBER}${fp}`] = toStored(m);
      for (const [c, s] of Object.entries(next.channels)) item[`${CHANNEL}${c}`] = s;
      for (const [c, d] of Object.entries(next.destinations)) item[`${DEST}${c}`] = d;
      await this.#doc.send(new PutCommand({ TableName: this.#table, Item: item, ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': expectedVersion } }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new GroupChangedError(`group ${id} changed since version ${expectedVersion}`, { cause: err });
      throw err;
    }
  }

  async applyFlush(read: GroupItem, next: GroupItem, nowMs: number): Promise<boolean> {
    const dropped = Object.keys(read.members).filter((fp) => next.members[fp] === undefined);
    // Each dropped member is a name and two conditions: past this many, the expressions near DynamoDB's 4 KB limit.
    if (dropped.length > MAX_APPLY_DROPPED) return false;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':due': read.dueAtMs, ':next': next.dueAtMs, ':fl': next.flushed, ':exp': Math.floor((nowMs + GROUP_RETENTION_MS) / 1000), ':one': 1 };
    const set = ['dueAt = :next', 'fl = :fl', 'expiresAt = :exp'];
    const cond = ['dueAt = :due'];
    Object.entries(next.channels).forEach(([c, st], i) => {
      names[`#c${i}`] = `${CHANNEL}${c}`;
      values[`:c${i}`] = st;
      set.push(`#c${i} = :c${i}`);
    });
    dropped.forEach((fp, i) => {
      names[`#r${i}`] = `${MEMBER}${fp}`;
      values[`:a${i}`] = read.members[fp]!.startsAtMs;
      cond.push(`#r${i}.st = :res AND #r${i}.#at = :a${i}`);
    });
    if (dropped.length > 0) {
      names['#at'] = 'at';
      values[':res'] = 'resolved';
    }
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { id: read.id },
          UpdateExpression: `SET ${set.join(', ')} ADD ver :one${dropped.length ? ` REMOVE ${dropped.map((_, i) => `#r${i}`).join(', ')}` : ''}`,
          ConditionExpression: cond.join(' AND '),
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async overdue(beforeMs: number, limit: number): Promise<readonly { readonly id: string; readonly dueAtMs: number }[]> {
    const out: { id: string; dueAtMs: number }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'by-due',
          KeyConditionExpression: 'dueShard = :s AND dueAt < :before',
          ExpressionAttributeValues: { ':s': GROUP_DUE_SHARD, ':before': beforeMs },
          Limit: limit - out.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of r.Items ?? []) out.push({ id: i.id as string, dueAtMs: i.dueAt as number });
      start = r.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }
}
