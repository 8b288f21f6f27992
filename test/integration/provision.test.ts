import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { QUEUES, TABLES } from '../../infra/topology.ts';
import { provisionFresh } from '../support/aws.ts';

describe('local provisioning from the topology', () => {
  it('creates every table with its keys and indexes in DynamoDB Local', async () => {
    const p = await provisionFresh();
    for (const [logical, spec] of Object.entries(TABLES)) {
      const d = await p.dynamodb.send(new DescribeTableCommand({ TableName: p.tables[logical as keyof typeof TABLES] }));
      const sortKey = (spec as { sortKey?: { name: string } }).sortKey;
      expect(d.Table?.KeySchema).toEqual([{ AttributeName: spec.partitionKey.name, KeyType: 'HASH' }, ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : [])]);
      const gsis = (spec as { globalIndexes?: readonly { name: string }[] }).globalIndexes ?? [];
      expect((d.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName).sort()).toEqual(gsis.map((g) => g.name).sort());
    }
  });

  it('creates every queue, FIFO where declared, with a dead-letter redrive policy', async () => {
    const p = await provisionFresh();
    for (const [logical, spec] of Object.entries(QUEUES)) {
      const q = p.queues[logical as keyof typeof QUEUES];
      const a = await p.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['All'] }));
      expect(a.Attributes?.FifoQueue === 'true').toBe(spec.fifo);
      if ('deadLetter' in spec) {
        const rp = JSON.parse(a.Attributes?.RedrivePolicy ?? '{}') as { deadLetterTargetArn: string; maxReceiveCount: number };
        expect(rp.deadLetterTargetArn).toBe(q.dlq?.arn);
        expect(Number(rp.maxReceiveCount)).toBe(spec.deadLetter.maxReceiveCount);
      } else {
        expect(a.Attributes?.RedrivePolicy).toBeUndefined();
      }
    }
  });
});
