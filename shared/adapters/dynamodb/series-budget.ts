/**
 * The per-rule series budget (the cardinality limit) on DynamoDB: one counter item per rule in the
 * state table, `pk = #budget#<rule id>`, attribute `series` (Number). State keys always start with
 * a rule id, which cannot start with `#`, so a counter never collides with a series; it carries no
 * `dueShard` or `firingShard`, so it never appears in the sparse indexes.
 *
 * A reservation is one conditional UpdateItem (`ADD series :n` if `series <= limit - n`), made
 * only by a batch that creates new series: steady traffic on known series costs nothing. When the
 * full reservation does not fit, the counter is read (strongly consistent) and what is left is
 * reserved, at most {@link RESERVE_ATTEMPTS} times under contention, after which nothing is
 * granted this batch (the next batch tries again).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.ADD
 */
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SeriesBudget } from '../../core/sequence/ports.ts';

/** Conditional attempts of one reservation before giving up for this batch. */
export const RESERVE_ATTEMPTS = 3;

/** The pk of a rule's counter item. */
export function budgetKey(ruleId: string): string {
  return `#budget#${ruleId}`;
}

/** {@link SeriesBudget} on the state table. */
export class DynamoSeriesBudget implements SeriesBudget {
  constructor(private readonly deps: { readonly client: DynamoDBClient; readonly table: string }) {}

  async reserve(ruleId: string, n: number, limit: number): Promise<number> {
    let want = Math.min(n, limit);
    for (let attempt = 1; want > 0 && attempt <= RESERVE_ATTEMPTS; attempt++) {
      try {
        await this.deps.client.send(
          new UpdateItemCommand({
            TableName: this.deps.table,
            Key: { pk: { S: budgetKey(ruleId) } },
            UpdateExpression: 'ADD #s :n',
            ConditionExpression: 'attribute_not_exists(#s) OR #s <= :max',
            ExpressionAttributeNames: { '#s': 'series' },
            ExpressionAttributeValues: { ':n': { N: String(want) }, ':max': { N: String(limit - want) } },
          }),
        );
        return want;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      want = Math.min(n, limit - (await this.count(ruleId)));
    }
    return 0;
  }

  async release(ruleId: string, n: number): Promise<void> {
    if (n <= 0) return;
    try {
      await this.deps.client.send(
        new UpdateItemCommand({
          TableName: this.deps.table,
          Key: { pk: { S: budgetKey(ruleId) } },
          UpdateExpression: 'ADD #s :neg',
          ConditionExpression: '#s >= :n',
          ExpressionAttributeNames: { '#s': 'series' },
          ExpressionAttributeValues: { ':neg': { N: String(-n) }, ':n': { N: String(n) } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Fewer counted than released (items written before the budget existed): floor at zero.
      await this.deps.client.send(
        new UpdateItemCommand({
          TableName: this.deps.table,
          Key: { pk: { S: budgetKey(ruleId) } },
          UpdateExpression: 'SET #s = :zero',
          ExpressionAttributeNames: { '#s': 'series' },
          ExpressionAttributeValues: { ':zero': { N: '0' } },
        }),
      );
    }
  }

  /** Series counted for a rule (strongly consistent read). */
  async count(ruleId: string): Promise<number> {
    const res = await this.deps.client.send(new GetItemCommand({ TableName: this.deps.table, Key: { pk: { S: budgetKey(ruleId) } }, ConsistentRead: true }));
    return Number(res.Item?.series?.N ?? '0');
  }
}
