/**
 * Alert records in DynamoDB (alerts table, partition key `fingerprint`): one strongly consistent
 * GetItem to read, one conditional UpdateItem to commit, guarded by the record's `version`.
 *
 * The commit SETs only the attributes dispatch owns, so `slackThread` (written by the Slack channel
 * function) survives every dispatch commit. An item that has no `version` (the Slack function
 * wrote its thread before dispatch's first commit landed) reads as "no record" and is committed
 * with `attribute_not_exists(version)`.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetByKey } from './batch.ts';
import type { MemberRecords } from '../../core/dispatch/group/ports.ts';
import { recheckDueAt, type AlertRecord } from '../../core/dispatch/record/alert-record.ts';
import { RECORD_RETENTION_MS } from '../../core/dispatch/record/index.ts';
import { AlertRecordConflictError, type AlertStore } from '../../core/dispatch/ports.ts';

// The port and its error are declared in core (shared/core/dispatch/ports.ts); re-exported for callers of this adapter.
export { AlertRecordConflictError, type AlertStore };

/** The one partition of the by-recheck index: muted firings are few (a silence's worth), and a sweep reads them in time order. */
export const RECHECK_SHARD = 'muted';

/** Attributes the commit writes (everything dispatch owns); `slackThread` is not among them. */
const OWNED = [
  'version',
  'state',
  'ruleId',
  'ruleName',
  'severity',
  'effectiveSeverity',
  'escalation',
  'labels',
  'annotations',
  'value',
  'activeAtMs',
  'startsAtMs',
  'endsAtMs',
  'fireCount',
  'fireTimesMs',
  'lastTransition',
  'recentTransitionIds',
  'deliveries',
  'held',
  'muted',
  'groups',
  'repeat',
  'ack',
  'escalating',
  'updatedAtMs',
] as const satisfies readonly (keyof AlertRecord)[];

/**
 * Whether an alerts-table item is an alert record: not an inhibit item (`kind: inhibit`), not a
 * bare Slack-thread item (a group's message, keyed by the group id, or a thread written before
 * dispatch's first commit: no `version`).
 */
export function isAlertRecordItem(item: Record<string, unknown>): boolean {
  return item.kind !== 'inhibit' && typeof item.version === 'number';
}

/** {@link AlertStore} on DynamoDB. */
export class DynamoAlertStore implements AlertStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  /** `client` is shared (module scope); `table` is the alerts table's physical name. */
  constructor(client: DynamoDBClient, table: string) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = table;
  }

  async get(fingerprint: string): Promise<AlertRecord | undefined> {
    // Strongly consistent: the version guard needs the latest version or every race costs a retry.
    const r = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { fingerprint }, ConsistentRead: true }));
    const item = r.Item;
    if (!item || typeof item.version !== 'number') return undefined;
    const { expiresAt: _expiresAt, recheckShard: _rs, recheckAt: _ra, ...rest } = item;
    return rest as AlertRecord;
  }

  async commit(record: AlertRecord, expectedVersion: number | undefined): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    OWNED.forEach((attr, i) => {
      names[`#a${i}`] = attr;
      const v = record[attr];
      if (v === undefined) remove.push(`#a${i}`);
      else {
        values[`:a${i}`] = v;
        set.push(`#a${i} = :a${i}`);
      }
    });
    // The sparse by-recheck index holds exactly the records with something due: a muted firing to
    // decide again (silence.ts, recheck.ts) or a reminder (repeat/index.ts); the earliest of the two.
    names['#rs'] = 'recheckShard';
    names['#ra'] = 'recheckAt';
    const due = recheckDueAt(record);
    if (due !== undefined) {
      values[':rs'] = RECHECK_SHARD;
      values[':ra'] = due;
      set.push('#rs = :rs', '#ra = :ra');
    } else remove.push('#rs', '#ra');
    names['#exp'] = 'expiresAt';
    values[':exp'] = Math.floor((record.updatedAtMs + RECORD_RETENTION_MS[record.state]) / 1000);
    set.push('#exp = :exp');
    // OWNED[0] is `version`: its placeholder #a0 serves the condition too.
    let condition: string;
    if (expectedVersion === undefined || expectedVersion === 0) condition = 'attribute_not_exists(#a0)';
    else {
      condition = '#a0 = :expected';
      values[':expected'] = expectedVersion;
    }
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { fingerprint: record.fingerprint },
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new AlertRecordConflictError(`alert record ${record.fingerprint} changed since version ${expectedVersion ?? 0}`, { cause: err });
      }
      throw err;
    }
  }
}

/**
 * The records of the members a group notification lists (shared/core/dispatch/group/flush.ts):
 * one strongly consistent BatchGetItem per 100, projecting what a listed alert shows.
 */
export class DynamoMemberRecords implements MemberRecords {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async records(fingerprints: readonly string[]): Promise<ReadonlyMap<string, AlertRecord>> {
    const items = await batchGetByKey(this.client, this.table, 'fingerprint', fingerprints, {
      projection: ['fingerprint', 'version', 'ruleId', 'ruleName', 'labels', 'annotations', 'value', 'startsAtMs', 'state'],
    });
    const out = new Map<string, AlertRecord>();
    for (const [fp, item] of items) {
      const r = unmarshall(item) as AlertRecord;
      if (typeof r.version === 'number') out.set(fp, r);
    }
    return out;
  }
}
