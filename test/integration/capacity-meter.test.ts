/**
 * The consumed-capacity meter against DynamoDB Local, on the topology's state table (two keys-only
 * indexes): what DynamoDB Local reports for each single-item and batched operation, checked
 * against a hand computation by AWS's rules, and the transactions it misreports, computed instead.
 *
 * Hand computations (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * item size = attribute names + values (a number: 1 byte per 2 significant digits + 1); a write
 * unit per started KB, a strongly consistent read unit per started 4 KB (half for eventually
 * consistent), two write units per KB in a transaction.
 */
import { BatchGetItemCommand, DeleteItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { itemBytes, meterCapacity, type CapacityMeter } from '../../shared/adapters/dynamodb/capacity.ts';
import { dynamoClient, provisionFresh } from '../support/aws.ts';

type Item = Record<string, AttributeValue>;
const s = (v: string): AttributeValue => ({ S: v });

/** 2 ('pk') + 1 + 1 ('v') + 2,000 = 2,004 bytes: 2 write units, 1 read unit. */
const twoKb = (pk: string): Item => ({ pk: s(pk), v: s('x'.repeat(2000)) });
/** 2 + 1 + 1 + 9,000 = 9,004 bytes: 3 read units (4 KB each), 9 write units. */
const nineKb = (pk: string): Item => ({ pk: s(pk), v: s('x'.repeat(9000)) });
/**
 * In both indexes: 2+1 + 8+5 ('dueShard' 'due#1') + 5+3 ('dueAt' 123: 3 digits → 2+1) + 11+8
 * ('firingShard' 'firing#1') + 1+1,100 = 1,144 bytes: 2 write units; each index entry is well under 1 KB.
 */
const indexed = (pk: string, dueAt = '123', firing = true): Item => ({
  pk: s(pk),
  dueShard: s('due#1'),
  dueAt: { N: dueAt },
  ...(firing ? { firingShard: s('firing#1') } : {}),
  v: s('x'.repeat(1100)),
});

describe('capacity meter (DynamoDB Local)', () => {
  let table: string;
  let raw: DynamoDBClient;
  let client: DynamoDBClient;
  let meter: CapacityMeter;
  const put = (item: Item): Promise<unknown> => raw.send(new PutItemCommand({ TableName: table, Item: item }));
  const units = (): Record<string, { read: number; write: number }> =>
    Object.fromEntries(meter.lines().map((l) => [l.index ?? 'table', { read: l.read.measured + l.read.computed, write: l.write.measured + l.write.computed }]));

  beforeAll(async () => {
    const p = await provisionFresh();
    table = p.tables.state;
    raw = p.dynamodb;
    client = dynamoClient();
    meter = meterCapacity(client);
  });
  beforeEach(() => meter.reset());

  it('checks the item size rule used below', () => {
    expect([itemBytes(twoKb('a')), itemBytes(nineKb('a')), itemBytes(indexed('a'))]).toEqual([2004, 9004, 1144]);
  });

  it.each([
    // a new 2,004-byte item: 2 units, table only (no index key attribute)
    ['PutItem of a new 2 KB item', async () => {}, () => client.send(new PutItemCommand({ TableName: table, Item: twoKb('p1') })), { table: { read: 0, write: 2 } }],
    // replacing a 9 KB item with a 2 KB one: the larger of the two sizes counts (9 units)
    ['PutItem replacing a larger item', () => put(nineKb('p2')), () => client.send(new PutItemCommand({ TableName: table, Item: twoKb('p2') })), { table: { read: 0, write: 9 } }],
    // an item in both indexes: 2 table units + one write per index entry
    [
      'PutItem of an item in both indexes',
      async () => {},
      () => client.send(new PutItemCommand({ TableName: table, Item: indexed('p3') })),
      { table: { read: 0, write: 2 }, 'by-due': { read: 0, write: 1 }, 'by-firing': { read: 0, write: 1 } },
    ],
    // the due time changes (by-due: delete + put = 2) and the item leaves by-firing (1)
    [
      'PutItem moving an index key and leaving an index',
      () => put(indexed('p4')),
      () => client.send(new PutItemCommand({ TableName: table, Item: indexed('p4', '124', false) })),
      { table: { read: 0, write: 2 }, 'by-due': { read: 0, write: 2 }, 'by-firing': { read: 0, write: 1 } },
    ],
    // 2,004 bytes + 'w' (1) + 3,000 = 5,005 bytes after the update: the larger size counts, 5 units
    [
      'UpdateItem growing an item to 5 KB',
      () => put(twoKb('u1')),
      () => client.send(new UpdateItemCommand({ TableName: table, Key: { pk: s('u1') }, UpdateExpression: 'SET w = :w', ExpressionAttributeValues: { ':w': s('y'.repeat(3000)) } })),
      { table: { read: 0, write: 5 } },
    ],
    // deleting a 9,004-byte item: its size counts, 9 units
    ['DeleteItem of a 9 KB item', () => put(nineKb('d1')), () => client.send(new DeleteItemCommand({ TableName: table, Key: { pk: s('d1') } })), { table: { read: 0, write: 9 } }],
    // deleting an item in by-due: 2 table units + the index entry's removal
    [
      'DeleteItem of an item in an index',
      () => put(indexed('d2', '5', false)),
      () => client.send(new DeleteItemCommand({ TableName: table, Key: { pk: s('d2') } })),
      { table: { read: 0, write: 2 }, 'by-due': { read: 0, write: 1 } },
    ],
    // strongly consistent: 2 KB → 1, 9 KB → 3, missing key → 0: 4 units
    [
      'BatchGetItem, strongly consistent',
      () => Promise.all([put(twoKb('g1')), put(nineKb('g2'))]),
      () => client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [{ pk: s('g1') }, { pk: s('g2') }, { pk: s('g-missing') }], ConsistentRead: true } } })),
      { table: { read: 4, write: 0 } },
    ],
    // eventually consistent: half of the above
    [
      'BatchGetItem, eventually consistent',
      () => Promise.all([put(twoKb('g3')), put(nineKb('g4'))]),
      () => client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [{ pk: s('g3') }, { pk: s('g4') }] } } })),
      { table: { read: 2, write: 0 } },
    ],
    // a Query of the keys-only index: the entries read are far under 4 KB, eventually consistent: 0.5, on the index
    [
      'Query of a keys-only index',
      () => Promise.all([put(indexed('q1', '7', false)), put(indexed('q2', '8', false))]),
      () =>
        client.send(
          new QueryCommand({ TableName: table, IndexName: 'by-due', KeyConditionExpression: 'dueShard = :s AND dueAt < :t', ExpressionAttributeValues: { ':s': s('due#1'), ':t': { N: '10' } } }),
        ),
      { table: { read: 0, write: 0 }, 'by-due': { read: 0.5, write: 0 } },
    ],
  ])('%s: what DynamoDB Local reports matches the hand computation', async (_name, setup, op, expected) => {
    await setup();
    meter.reset();
    await op();
    expect(units()).toEqual(expected);
    expect(meter.totals().read.computed + meter.totals().write.computed).toBe(0);
  });

  it('computes TransactWriteItems by AWS rules (DynamoDB Local reports 4 units for 10 one-unit items)', async () => {
    const small = Array.from({ length: 10 }, (_, i) => ({ pk: s(`t${i}`), v: s('x') }));
    const tx = (items: Item[]) => new TransactWriteItemsCommand({ TransactItems: items.map((Item) => ({ Put: { TableName: table, Item } })) });
    // What DynamoDB Local says, through a meter that trusts it: 4, where AWS bills 10 × 1 × 2 = 20.
    const trusting = dynamoClient();
    const measured = meterCapacity(trusting, { transactions: 'measured' });
    await trusting.send(tx(small));
    expect(measured.totals().write).toEqual({ measured: 4, computed: 0 });
    await client.send(tx(small));
    expect(units()).toEqual({ table: { read: 0, write: 20 } });
    // An item in both indexes: 2 units × 2 on the table, + one write per index entry.
    meter.reset();
    await client.send(tx([...small.slice(0, 9), indexed('t-indexed')]));
    expect(units()).toEqual({ table: { read: 0, write: 22 }, 'by-due': { read: 0, write: 1 }, 'by-firing': { read: 0, write: 1 } });
    expect(meter.totals().write).toEqual({ measured: 0, computed: 24 });
  });

  it('counts a failed conditional write as computed, and leaves the caller input untouched', async () => {
    await put(twoKb('c1'));
    meter.reset();
    const input = { TableName: table, Item: twoKb('c1'), ConditionExpression: 'attribute_not_exists(pk)' };
    await expect(client.send(new PutItemCommand(input))).rejects.toThrow(/conditional/i);
    expect(meter.totals().write).toEqual({ measured: 0, computed: 2 });
    expect(input).not.toHaveProperty('ReturnConsumedCapacity');
    expect(meter.requests.get('PutItemCommand')).toBe(1);
  });
});
