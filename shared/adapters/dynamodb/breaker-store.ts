/**
 * Circuit-breaker state in the delivery table, one item per destination (`breaker#<destinationId>`),
 * shared by every concurrent instance of a channel function. Transitions are the pure functions of
 * shared/core/breaker, applied with optimistic locking (`version`): a lost race re-reads the item
 * from the failed condition (ReturnValuesOnConditionCheckFailure: ALL_OLD, no extra read) and
 * re-applies the transition.
 *
 * Reads are cached in memory for `cacheMs` (a few seconds) so a batch does not read the breaker per
 * message; the cache is updated by this instance's own writes.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CLOSED, type BreakerConfig, type BreakerState, type BreakerStateName } from '../../core/breaker/index.ts';
import { BreakerContentionError, type BreakerStore } from '../../core/deliver/ports.ts';

// The port and its error are declared in core (shared/core/deliver/ports.ts); re-exported for callers of this adapter.
export { BreakerContentionError, type BreakerStore };

/** Partition key of a destination's breaker item. */
export const breakerKey = (destinationId: string): string => `breaker#${destinationId}`;

/** Breaker items expire 30 days after their last write (an idle breaker is a closed one). */
const BREAKER_TTL_S = 30 * 86400;

function fromItem(item: Record<string, unknown> | undefined): BreakerState {
  if (!item) return CLOSED;
  const num = (k: string): number | undefined => (typeof item[k] === 'number' ? (item[k] as number) : undefined);
  const state = item.state as BreakerStateName;
  const openedAtMs = num('openedAtMs');
  const reopenAtMs = num('reopenAtMs');
  const probeLeaseUntilMs = num('probeLeaseUntilMs');
  return {
    state: state === 'open' || state === 'half-open' ? state : 'closed',
    failures: num('failures') ?? 0,
    successes: num('successes') ?? 0,
    ...(openedAtMs !== undefined ? { openedAtMs } : {}),
    ...(reopenAtMs !== undefined ? { reopenAtMs } : {}),
    ...(probeLeaseUntilMs !== undefined ? { probeLeaseUntilMs } : {}),
    version: num('version') ?? 0,
  };
}

/** {@link BreakerStore} on DynamoDB. */
export class DynamoBreakerStore implements BreakerStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { state: BreakerState; atMs: number }>();

  constructor(client: DynamoDBClient, tableName: string, config: Pick<BreakerConfig, 'cacheMs'>) {
    this.#doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = tableName;
    this.#cacheMs = config.cacheMs;
  }

  async current(destinationId: string, nowMs: number): Promise<BreakerState> {
    const hit = this.#cache.get(destinationId);
    if (hit && nowMs - hit.atMs < this.#cacheMs && nowMs >= hit.atMs) return hit.state;
    return await this.#read(destinationId, nowMs);
  }

  async #read(destinationId: string, nowMs: number): Promise<BreakerState> {
    const res = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { pk: breakerKey(destinationId) }, ConsistentRead: true }));
    const state = fromItem(res.Item);
    this.#cache.set(destinationId, { state, atMs: nowMs });
    return state;
  }

  async apply(destinationId: string, nowMs: number, transition: (s: BreakerState) => BreakerState | null, maxAttempts = 5): Promise<BreakerState | null> {
    let current = await this.current(destinationId, nowMs);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const next = transition(current);
      if (next === null) return null;
      if (next === current || next.version === current.version) return current;
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: { pk: breakerKey(destinationId), kind: 'breaker', destinationId, ...next, updatedAtMs: nowMs, expiresAt: Math.floor(nowMs / 1000) + BREAKER_TTL_S },
            ConditionExpression: current.version === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
            ...(current.version === 0 ? {} : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': current.version } }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.#cache.set(destinationId, { state: next, atMs: nowMs });
        return next;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        // Someone else wrote first: continue from what they wrote.
        current = err.Item ? fromItem(unmarshallLoose(err.Item)) : await this.#read(destinationId, nowMs);
        this.#cache.set(destinationId, { state: current, atMs: nowMs });
      }
    }
    throw new BreakerContentionError(`breaker ${destinationId}: ${maxAttempts} conflicting writes in a row`);
  }
}

/** Unmarshals the AttributeValue map returned with a failed condition (numbers and strings suffice here). */
function unmarshallLoose(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    const av = v as { N?: string; S?: string; BOOL?: boolean };
    out[k] = av.N !== undefined ? Number(av.N) : av.S !== undefined ? av.S : av.BOOL;
  }
  return out;
}
