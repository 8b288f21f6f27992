/**
 * Inhibit items in the alerts table (docs/routing.md, "Inhibition"): one item per (inhibit rule,
 * `equal` values), key `fingerprint` = `inhibit#<rule id>#<values hash>` (`inhibitKey`), beside
 * the alert records, with `kind: inhibit` so listings skip it. Each firing source is an attribute
 * `s:<fingerprint>` = `{ f: firedAtMs, b: twoSided }`, each muted target `t:<fingerprint>` =
 * firedAtMs: one attribute per member, so every write is a single idempotent UpdateItem (SET or
 * REMOVE of one attribute; no read-modify-write, no transaction) and a target's registration
 * returns the sources in the same atomic request (ReturnValues ALL_NEW).
 *
 * Cost: an item is a few hundred bytes (≈ 40 bytes a member), so every request is 1 unit: a
 * target's firing reads its rules' items in one BatchGetItem (0.5 RRU per item, strongly
 * consistent) and, when muted, writes 1 WRU per item; a source's firing and resolution 1 WRU each
 * per rule. An item holds at most about 9,000 members (DynamoDB's 400 KB item limit).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { InhibitItem, InhibitSource } from '../../core/dispatch/inhibit/inhibition.ts';
import type { InhibitionStore } from '../../core/dispatch/ports.ts';
import type { Clock } from '../../core/model/index.ts';
import { batchGetByKey, type Item } from './batch.ts';

/** How long an inhibit item outlives its last write (as a firing alert record: 90 days). */
export const INHIBIT_ITEM_RETENTION_MS = 90 * 86_400_000;

const SOURCE = 's:';
const TARGET = 't:';

/** Reads an item's members. */
export function inhibitItemOf(key: string, item: Item | undefined): InhibitItem {
  const sources = new Map<string, InhibitSource>();
  const targets = new Map<string, number>();
  for (const [name, v] of Object.entries(item ?? {})) {
    if (name.startsWith(SOURCE) && v.M) sources.set(name.slice(SOURCE.length), { firedAtMs: Number(v.M.f?.N ?? 0), twoSided: v.M.b?.BOOL === true });
    else if (name.startsWith(TARGET) && v.N !== undefined) targets.set(name.slice(TARGET.length), Number(v.N));
  }
  return { key, sources, targets };
}

/** {@link InhibitionStore} on the alerts table. */
export class DynamoInhibitionStore implements InhibitionStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #clock: Clock;

  /** `client` is shared (module scope); `table` is the alerts table's physical name; `clock` sets the TTL. */
  constructor(client: DynamoDBClient, table: string, clock: Clock) {
    this.#client = client;
    this.#table = table;
    this.#clock = clock;
  }

  async read(keys: readonly string[]): Promise<ReadonlyMap<string, InhibitItem>> {
    const items = await batchGetByKey(this.#client, this.#table, 'fingerprint', keys);
    return new Map([...items].map(([k, item]) => [k, inhibitItemOf(k, item)]));
  }

  async addSource(key: string, fingerprint: string, source: InhibitSource): Promise<void> {
    await this.#update(key, `SET #m = :v`, SOURCE + fingerprint, { M: { f: { N: String(source.firedAtMs) }, b: { BOOL: source.twoSided } } });
  }

  async removeSource(key: string, fingerprint: string): Promise<ReadonlyMap<string, number>> {
    return (await this.#update(key, 'REMOVE #m', SOURCE + fingerprint)).targets;
  }

  async addTarget(key: string, fingerprint: string, firedAtMs: number): Promise<InhibitItem> {
    return await this.#update(key, 'SET #m = :v', TARGET + fingerprint, { N: String(firedAtMs) });
  }

  async removeTarget(key: string, fingerprint: string): Promise<void> {
    await this.#update(key, 'REMOVE #m', TARGET + fingerprint);
  }

  /** One UpdateItem on one member, refreshing `kind` and the TTL; returns the item after it. */
  async #update(key: string, action: string, member: string, value?: AttributeValue): Promise<InhibitItem> {
    const [verb, rest] = [action.slice(0, action.indexOf(' ')), action.slice(action.indexOf(' ') + 1)];
    const housekeeping = '#kind = :kind, #exp = :exp';
    const expression = verb === 'SET' ? `SET ${rest}, ${housekeeping}` : `SET ${housekeeping} REMOVE ${rest}`;
    const res = await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: { fingerprint: { S: key } },
        UpdateExpression: expression,
        ExpressionAttributeNames: { '#m': member, '#kind': 'kind', '#exp': 'expiresAt' },
        ExpressionAttributeValues: {
          ':kind': { S: 'inhibit' },
          ':exp': { N: String(Math.floor((this.#clock.now() + INHIBIT_ITEM_RETENTION_MS) / 1000)) },
          ...(value ? { ':v': value } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return inhibitItemOf(key, res.Attributes);
  }
}
