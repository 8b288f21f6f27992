/**
 * The replay guard on DynamoDB (issue 12): one conditional PutItem per verified request in the
 * delivery table, key `replay#<source>#<sha256>` (shared/core/interact/verify.ts `replayKey`), kept
 * until just past the replay window (TTL `expiresAt`). DynamoDB deletes expired items lazily (within
 * days), so the condition also accepts an item whose `expiresAt` has passed.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ReplayGuard } from '../../core/interact/ports.ts';

/** {@link ReplayGuard} on the delivery table. */
export class DynamoReplayGuard implements ReplayGuard {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #now: () => number;

  /** `now` is the wall clock (ms): an item past its `expiresAt` counts as gone. */
  constructor(client: DynamoDBClient, table: string, now: () => number) {
    this.#doc = DynamoDBDocumentClient.from(client);
    this.#table = table;
    this.#now = now;
  }

  async claim(key: string, expiresAtMs: number, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: key, expiresAt: Math.ceil(expiresAtMs / 1000) },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': Math.floor(this.#now() / 1000) },
        }),
        signal ? { abortSignal: signal } : {},
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async release(key: string): Promise<void> {
    await this.#doc.send(new DeleteCommand({ TableName: this.#table, Key: { pk: key } }));
  }
}
