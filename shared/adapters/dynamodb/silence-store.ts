/**
 * Silences in DynamoDB (silences table, partition key `id`) and the alerts a silence muted (the
 * alerts table's sparse `by-recheck` index). docs/routing.md ("Silences").
 *
 * The silences table is small (the silences people create, and the expired ones for 5 days, as
 * Alertmanager's default `--data.retention=120h`): dispatch lists it with a Scan at most once per
 * cache lifetime (`CachedSilences`), not per transition.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertRecord } from '../../core/dispatch/record/alert-record.ts';
import { expiredAt } from '../../core/dispatch/silence/in-memory.ts';
import { SilenceExistsError, SilenceNotFoundError, type MutedAlertIndex, type SilenceStore } from '../../core/dispatch/silence/ports.ts';
import type { Silence } from '../../core/dispatch/silence/silence.ts';
import { RECHECK_SHARD } from './alert-store.ts';

/** How long an expired silence is kept (TTL after its end): 5 days, Alertmanager's default retention. */
export const SILENCE_RETENTION_MS = 5 * 86_400_000;

const FIELDS = ['id', 'matchers', 'startsAtMs', 'endsAtMs', 'createdBy', 'comment', 'updatedAtMs', 'untilResolved'] as const satisfies readonly (keyof Silence)[];

function toSilence(item: Record<string, unknown>): Silence {
  // Optional fields are left out when absent (not present as undefined).
  return Object.fromEntries(FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])) as unknown as Silence;
}

/** The TTL of a silence ending at `endsAtMs` (epoch seconds): kept {@link SILENCE_RETENTION_MS} after its end for `query --expired`. */
function expiresAtOf(endsAtMs: number): number {
  return Math.floor((endsAtMs + SILENCE_RETENTION_MS) / 1000);
}

function toItem(s: Silence): Record<string, unknown> {
  return { ...Object.fromEntries(FIELDS.map((f) => [f, s[f]])), expiresAt: expiresAtOf(s.endsAtMs) };
}

/** {@link SilenceStore} on DynamoDB. */
export class DynamoSilenceStore implements SilenceStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  /** `client` is shared (module scope); `table` is the silences table's physical name. */
  constructor(client: DynamoDBClient, table: string) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = table;
  }

  async list(): Promise<Silence[]> {
    const out: Silence[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.#doc.send(new ScanCommand({ TableName: this.#table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of r.Items ?? []) out.push(toSilence(item));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async get(id: string): Promise<Silence | undefined> {
    const r = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { id }, ConsistentRead: true }));
    return r.Item ? toSilence(r.Item) : undefined;
  }

  async create(silence: Silence): Promise<void> {
    try {
      await this.#doc.send(new PutCommand({ TableName: this.#table, Item: toItem(silence), ConditionExpression: 'attribute_not_exists(id)' }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new SilenceExistsError(`silence ${silence.id} exists already`, { cause: err });
      throw err;
    }
  }

  async put(silence: Silence): Promise<void> {
    await this.#doc.send(new PutCommand({ TableName: this.#table, Item: toItem(silence) }));
  }

  async expire(id: string, nowMs: number): Promise<Silence> {
    const cur = await this.get(id);
    if (!cur) throw new SilenceNotFoundError(`silence ${id} not found`);
    const next = expiredAt(cur, nowMs); // throws SilenceExpiredError when it already ended
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { id },
          UpdateExpression: 'SET startsAtMs = :s, endsAtMs = :e, updatedAtMs = :now, expiresAt = :exp',
          // Guarded on the end read: two expiries at once store one of them.
          ConditionExpression: 'endsAtMs = :was',
          ExpressionAttributeValues: { ':s': next.startsAtMs, ':e': next.endsAtMs, ':now': nowMs, ':exp': expiresAtOf(next.endsAtMs), ':was': cur.endsAtMs },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return this.expire(id, nowMs);
      throw err;
    }
    return next;
  }
}

/** {@link MutedAlertIndex} on the alerts table's sparse `by-recheck` index (projection: all). */
export class DynamoMutedAlertIndex implements MutedAlertIndex {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, alertsTable: string) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = alertsTable;
  }

  async due(nowMs: number, limit: number): Promise<AlertRecord[]> {
    const out: AlertRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'by-recheck',
          KeyConditionExpression: 'recheckShard = :s AND recheckAt <= :now',
          ExpressionAttributeValues: { ':s': RECHECK_SHARD, ':now': nowMs },
          Limit: limit - out.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of r.Items ?? []) {
        const { expiresAt: _e, recheckShard: _rs, recheckAt: _ra, ...rest } = item;
        out.push(rest as AlertRecord);
      }
      start = r.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async recheckNow(silenceId: string, atMs: number): Promise<number> {
    let n = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'by-recheck',
          KeyConditionExpression: 'recheckShard = :s AND recheckAt > :now',
          ExpressionAttributeValues: { ':s': RECHECK_SHARD, ':now': atMs },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of r.Items ?? []) {
        const muted = (item as Partial<AlertRecord>).muted;
        if (!muted?.silencedBy.includes(silenceId)) continue;
        try {
          await this.#doc.send(
            new UpdateCommand({
              TableName: this.#table,
              Key: { fingerprint: item.fingerprint },
              // Only while the same muted firing is there (dispatch may have decided it since): not a version change.
              UpdateExpression: 'SET recheckAt = :now, muted.recheckAtMs = :now',
              ConditionExpression: 'attribute_exists(muted) AND #v = :v',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':now': atMs, ':v': item.version },
            }),
          );
          n++;
        } catch (err) {
          if (!(err instanceof ConditionalCheckFailedException)) throw err;
        }
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return n;
  }
}
