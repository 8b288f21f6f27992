/**
 * Per-notification idempotency and delivery record, one item per idempotency key
 * (`notif#<idempotencyKey>` in the delivery table), and the Slack thread of an alert (the
 * `slackThread` attribute of the alert record, the only attribute of that item this module writes,
 * besides a TTL on an item dispatch has not committed yet).
 *
 * The claim is one conditional UpdateItem: it succeeds when the item does not exist, when an
 * earlier attempt released it (`retrying`) or dead-lettered it (`failed`, so a DLQ redrive can send
 * again), or when an `in-progress` lease expired (its holder died). The successful send is ONE
 * write that both marks the key `sent` and is the delivery record (channel, destination, outcome,
 * attempts, latency, TTL). So a delivered notification costs two DynamoDB requests here.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NotificationJob } from '../../core/model/index.ts';
import type { SlackThread } from '../../core/dispatch/record/alert-record.ts';
import { RECORD_RETENTION_MS } from '../../core/dispatch/record/index.ts';
import type { DeliveryFailureReason } from '../../core/model/metrics.ts';
import { ClaimLostError, NOTIFICATION_STATUSES, type Claim, type NotificationStatus, type NotificationStore, type SlackThreadStore } from '../../core/deliver/ports.ts';

// The ports and their error are declared in core (shared/core/deliver/ports.ts); re-exported for callers of this adapter.
export { ClaimLostError, NOTIFICATION_STATUSES, type Claim, type NotificationStatus, type NotificationStore, type SlackThreadStore };

/** Options. */
export interface NotificationStoreOptions {
  /** How long an in-progress claim protects the key (ms); at least the function timeout. */
  readonly leaseMs: number;
  /** How long delivery records are kept (days). */
  readonly retentionDays: number;
}

/** Partition key of a notification item. */
export const notificationKey = (idempotencyKey: string): string => `notif#${idempotencyKey}`;

/** {@link NotificationStore} on DynamoDB. */
export class DynamoNotificationStore implements NotificationStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #opts: NotificationStoreOptions;

  constructor(client: DynamoDBClient, tableName: string, opts: NotificationStoreOptions) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = tableName;
    this.#opts = opts;
  }

  #expiresAt(nowMs: number): number {
    return Math.floor(nowMs / 1000) + this.#opts.retentionDays * 86400;
  }

  async claim(job: NotificationJob, nowMs: number): Promise<Claim> {
    const token = randomUUID();
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: notificationKey(job.idempotencyKey) },
          UpdateExpression:
            'SET #status = :inprog, leaseUntilMs = :lease, claimToken = :token, kind = :kind, channel = :ch, destinationId = :dest, receiver = :recv, fingerprint = :fp, transitionId = :tid, transitionKind = :tk, updatedAtMs = :now, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(pk) OR #status IN (:retrying, :failed) OR (#status = :inprog AND leaseUntilMs < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':inprog': 'in-progress',
            ':retrying': 'retrying',
            ':failed': 'failed',
            ':lease': nowMs + this.#opts.leaseMs,
            ':token': token,
            ':kind': 'notification',
            ':ch': job.channel,
            ':dest': job.destinationId,
            ':recv': job.receiver,
            ':fp': job.transition.fingerprint,
            ':tid': job.transition.transitionId,
            ':tk': job.transition.kind,
            ':now': nowMs,
            ':exp': this.#expiresAt(nowMs),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'claimed', token };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const status = err.Item?.status?.S;
      if (status === 'sent') return { kind: 'already-sent' };
      const lease = Number(err.Item?.leaseUntilMs?.N ?? nowMs + this.#opts.leaseMs);
      return { kind: 'in-progress', leaseUntilMs: lease };
    }
  }

  async markSent(job: NotificationJob, token: string, r: { nowMs: number; latencyMs: number; detail?: string }): Promise<void> {
    await this.#finish(job, token, 'SET #status = :s, outcome = :s, sentAtMs = :now, latencyMs = :lat, providerDetail = :d, updatedAtMs = :now, expiresAt = :exp REMOVE leaseUntilMs, lastReason, lastDetail ADD attempts :one', {
      ':s': 'sent',
      ':now': r.nowMs,
      ':lat': r.latencyMs,
      ':d': r.detail ?? '',
      ':exp': this.#expiresAt(r.nowMs),
      ':one': 1,
    });
  }

  async release(job: NotificationJob, token: string, r: { nowMs: number; attempted: boolean; reason?: DeliveryFailureReason; detail?: string }): Promise<void> {
    await this.#finish(
      job,
      token,
      `SET #status = :s, outcome = :o, lastReason = :r, lastDetail = :d, updatedAtMs = :now REMOVE leaseUntilMs${r.attempted ? ' ADD attempts :one' : ''}`,
      { ':s': 'retrying', ':o': r.attempted ? 'retrying' : 'held', ':r': r.reason ?? 'other', ':d': r.detail ?? '', ':now': r.nowMs, ...(r.attempted ? { ':one': 1 } : {}) },
    );
  }

  async markFailed(job: NotificationJob, token: string, r: { nowMs: number; reason: DeliveryFailureReason; detail: string }): Promise<void> {
    await this.#finish(job, token, 'SET #status = :s, outcome = :o, lastReason = :r, lastDetail = :d, updatedAtMs = :now, expiresAt = :exp REMOVE leaseUntilMs ADD attempts :one', {
      ':s': 'failed',
      ':o': 'dead-lettered',
      ':r': r.reason,
      ':d': r.detail,
      ':now': r.nowMs,
      ':exp': this.#expiresAt(r.nowMs),
      ':one': 1,
    });
  }

  /** A write guarded by our claim token; losing it (our lease expired and another attempt took over) is logged by the caller, not fatal. */
  async #finish(job: NotificationJob, token: string, update: string, values: Record<string, unknown>): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: notificationKey(job.idempotencyKey) },
          UpdateExpression: update,
          ConditionExpression: 'claimToken = :token',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':token': token },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ClaimLostError(`claim on ${job.idempotencyKey} was taken over`, { cause: err });
      throw err;
    }
  }

  /** Reads a notification item (tests, console). */
  async get(idempotencyKey: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { pk: notificationKey(idempotencyKey) }, ConsistentRead: true }));
    return res.Item;
  }
}

/** Where a bot-token Slack message lives, kept on the alert record to thread and update it. */
export type { SlackThread };

/** {@link SlackThreadStore} on the alerts table: reads and writes only `slackThread`. */
export class DynamoSlackThreadStore implements SlackThreadStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, alertsTable: string) {
    this.#doc = DynamoDBDocumentClient.from(client);
    this.#table = alertsTable;
  }

  async get(fingerprint: string): Promise<SlackThread | undefined> {
    const res = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: { fingerprint }, ProjectionExpression: 'slackThread', ConsistentRead: true }),
    );
    const t = res.Item?.slackThread as { channel?: unknown; ts?: unknown } | undefined;
    return t && typeof t.channel === 'string' && typeof t.ts === 'string' ? { channel: t.channel, ts: t.ts } : undefined;
  }

  async set(fingerprint: string, thread: SlackThread, nowMs: number): Promise<void> {
    // Unconditional: dispatch publishes a job BEFORE it commits the record (publish-then-commit),
    // so this write may land first. The bare item it then creates reads as "no record" to dispatch,
    // whose first commit (`attribute_not_exists(version)`) fills it in and keeps `slackThread`
    // (DynamoAlertStore). Its TTL stands in until that commit sets the record's own.
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { fingerprint },
        UpdateExpression: 'SET slackThread = :t, expiresAt = if_not_exists(expiresAt, :exp)',
        ExpressionAttributeValues: { ':t': { channel: thread.channel, ts: thread.ts }, ':exp': Math.floor((nowMs + RECORD_RETENTION_MS.firing) / 1000) },
      }),
    );
  }
}
