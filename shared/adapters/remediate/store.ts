/**
 * The `remediations` table (issue 13; docs/remediation.md): the audit log of auto-remediation and
 * the (action, target) states its safety is decided on.
 * - `a#<attemptId>`: one item per attempt (every request, refusals included), updated as it is
 *   approved, run, finished; in the sparse `by-fingerprint` index (fingerprint, requestedAt) so an
 *   alert's attempts are one Query. Kept `AUDIT_RETENTION_DAYS`.
 * - `t#<hash>`: one item per (action, target): the recent runs and a version. Expires after its
 *   longest window.
 * Attempt and target are written in ONE TransactWriteItems, each under its condition (the attempt's
 * status, the target's version), so two alerts racing for a target cannot both pass its cooldown;
 * an attempt alone (an outcome, a refusal) is one conditional PutItem.
 */
import { ConditionalCheckFailedException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AttemptRecord, AttemptStatus, TargetState } from '../../core/remediate/messages.ts';
import { RemediationConflictError, type RemediationStore } from '../../core/remediate/ports.ts';

/** How long attempts are kept (the audit log), days. */
export const AUDIT_RETENTION_DAYS = 400;
/** The index of an alert's attempts. */
export const BY_FINGERPRINT_INDEX = 'by-fingerprint';

const attemptPk = (id: string): string => `a#${id}`;

/** {@link RemediationStore} on DynamoDB. */
export class DynamoRemediationStore implements RemediationStore {
  readonly #doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getAttempt(attemptId: string): Promise<AttemptRecord | undefined> {
    const r = await this.#doc.send(new GetCommand({ TableName: this.table, Key: { pk: attemptPk(attemptId) }, ConsistentRead: true }));
    return r.Item ? (r.Item.attempt as AttemptRecord) : undefined;
  }

  async getTarget(key: string): Promise<TargetState | undefined> {
    const r = await this.#doc.send(new GetCommand({ TableName: this.table, Key: { pk: key }, ConsistentRead: true }));
    if (!r.Item) return undefined;
    return { key, action: r.Item.action as string, target: r.Item.target as string, runsAtMs: r.Item.runsAtMs as number[], version: r.Item.version as number };
  }

  async write(attempt: AttemptRecord, expected: AttemptStatus | 'absent', target?: { readonly state: TargetState; readonly expectedVersion: number }): Promise<void> {
    const nowS = Math.floor(attempt.requestedAtMs / 1000);
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: this.table,
          Item: { pk: attemptPk(attempt.attemptId), kind: 'attempt', fingerprint: attempt.fingerprint, requestedAt: attempt.requestedAtMs, status: attempt.status, attempt, expiresAt: nowS + AUDIT_RETENTION_DAYS * 86400 },
          ...(expected === 'absent' ? { ConditionExpression: 'attribute_not_exists(pk)' } : { ConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': expected } }),
        },
      },
    ];
    if (target) {
      const s = target.state;
      const last = Math.max(...s.runsAtMs);
      items.push({
        Put: {
          TableName: this.table,
          // Kept a day past the last run at least (the longest window is re-checked on read anyway).
          Item: { pk: s.key, kind: 'target', action: s.action, target: s.target, runsAtMs: [...s.runsAtMs], version: s.version, expiresAt: Math.floor(last / 1000) + 8 * 86400 },
          ...(target.expectedVersion === 0 ? { ConditionExpression: 'attribute_not_exists(pk)' } : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': target.expectedVersion } }),
        },
      });
    }
    if (!target) {
      // One item, one condition: a plain conditional write gives the same guarantee at half the
      // write units of a transaction (an outcome, a refusal, an approval decided or expired).
      try {
        await this.#doc.send(new PutCommand(items[0]!.Put!));
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException') {
          throw new RemediationConflictError(`attempt ${attempt.attemptId}: write refused (ConditionalCheckFailed)`, { cause: err });
        }
        throw err;
      }
      return;
    }
    // The attempt and its target's new run together: a crash between two writes would either count a
    // run no attempt records (the redelivery then refused by its own cooldown) or record a running
    // attempt whose run the target never counts. Two items, two conditions: a transaction.
    try {
      await this.#doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException || (err as { name?: string }).name === 'TransactionCanceledException') {
        const reasons = (err as TransactionCanceledException).CancellationReasons?.map((r) => r.Code ?? 'None').join(',') ?? '';
        // ConditionalCheckFailed: another writer came first. TransactionConflict: a concurrent transaction on the same items. Both: decide again.
        throw new RemediationConflictError(`attempt ${attempt.attemptId}: write cancelled (${reasons})`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * The most recent attempts of every alert, newest first, at most `limit` (the audit log for an
   * operator: `klaxon remediations list`). A Scan of the attempt items: the table holds one per
   * request, kept AUDIT_RETENTION_DAYS; bounded by `maxItems` read, so a huge log costs a known
   * amount (the newest are then the newest of what was read, and `truncated` says so).
   */
  async recentAttempts(limit: number, maxItems = 10_000): Promise<{ attempts: AttemptRecord[]; truncated: boolean }> {
    const out: AttemptRecord[] = [];
    let start: Record<string, unknown> | undefined;
    let read = 0;
    do {
      const r = await this.#doc.send(
        new ScanCommand({ TableName: this.table, FilterExpression: '#k = :a', ExpressionAttributeNames: { '#k': 'kind' }, ExpressionAttributeValues: { ':a': 'attempt' }, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      read += r.ScannedCount ?? 0;
      for (const i of r.Items ?? []) out.push(i.attempt as AttemptRecord);
      start = r.LastEvaluatedKey;
    } while (start && read < maxItems);
    out.sort((a, b) => b.requestedAtMs - a.requestedAtMs);
    return { attempts: out.slice(0, limit), truncated: start !== undefined };
  }

  async attemptsOf(fingerprint: string): Promise<AttemptRecord[]> {
    const out: AttemptRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.#doc.send(
        new QueryCommand({ TableName: this.table, IndexName: BY_FINGERPRINT_INDEX, KeyConditionExpression: 'fingerprint = :f', ExpressionAttributeValues: { ':f': fingerprint }, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const i of r.Items ?? []) out.push(i.attempt as AttemptRecord);
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
