/**
 * Local and AWS cannot drift: the tables and queues local mode provisions in DynamoDB Local and
 * fauxqs (local/provision.ts, from infra/topology.ts) are compared with what the CDK app
 * synthesizes from the same topology: key schemas, attribute types, indexes, TTL attributes;
 * FIFO, content-based deduplication, retention, dead-letter queues and maxReceiveCount.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KlaxonApp } from '../../infra/stacks/klaxon-app.ts';
import { QUEUES, TABLES, type QueueName, type TableName } from '../../infra/topology.ts';
import { synthApp } from '../infra/fixture.ts';
import { provisionFresh } from '../support/aws.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Provisioned = Awaited<ReturnType<typeof provisionFresh>>;

let local: Provisioned;
let k: KlaxonApp;
let stateResources: Record<string, Resource>;
let pipelineResources: Record<string, Resource>;

beforeAll(async () => {
  k = synthApp({}, { validate: false });
  stateResources = Template.fromStack(k.state).toJSON().Resources as Record<string, Resource>;
  pipelineResources = Template.fromStack(k.pipeline).toJSON().Resources as Record<string, Resource>;
  // With TTL, as local mode provisions (tests turn it off for their fixed event times).
  local = await provisionFresh({ ttl: true });
});

const sortBy = <T>(items: readonly T[] | undefined, key: (t: T) => string): T[] => [...(items ?? [])].sort((a, b) => key(a).localeCompare(key(b)));

/** The comparable shape of a table, from either side. */
interface TableShape {
  keySchema: { AttributeName?: string; KeyType?: string }[];
  attributes: { AttributeName?: string; AttributeType?: string }[];
  indexes: { name?: string; keySchema: { AttributeName?: string; KeyType?: string }[]; projection?: string }[];
  ttlAttribute: string | undefined;
}

async function localTable(name: TableName): Promise<TableShape> {
  const d = (await local.dynamodb.send(new DescribeTableCommand({ TableName: local.tables[name] }))).Table!;
  const ttl = await local.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: local.tables[name] }));
  const enabled = ttl.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED' || ttl.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLING';
  return {
    keySchema: (d.KeySchema ?? []).map(({ AttributeName, KeyType }) => ({ AttributeName, KeyType })),
    attributes: sortBy(d.AttributeDefinitions, (a) => a.AttributeName!).map(({ AttributeName, AttributeType }) => ({ AttributeName, AttributeType })),
    indexes: sortBy(d.GlobalSecondaryIndexes, (g) => g.IndexName!).map((g) => ({
      name: g.IndexName,
      keySchema: (g.KeySchema ?? []).map(({ AttributeName, KeyType }) => ({ AttributeName, KeyType })),
      projection: g.Projection?.ProjectionType,
    })),
    ttlAttribute: enabled ? ttl.TimeToLiveDescription?.AttributeName : undefined,
  };
}

function synthesizedTable(name: TableName): TableShape {
  const p = stateResources[k.state.getLogicalId(k.state.tables[name].node.defaultChild as CfnElement)]!.Properties as {
    KeySchema: TableShape['keySchema'];
    AttributeDefinitions: TableShape['attributes'];
    GlobalSecondaryIndexes?: { IndexName: string; KeySchema: TableShape['keySchema']; Projection: { ProjectionType: string } }[];
    TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
  };
  return {
    keySchema: p.KeySchema,
    attributes: sortBy(p.AttributeDefinitions, (a) => a.AttributeName!),
    indexes: sortBy(p.GlobalSecondaryIndexes, (g) => g.IndexName).map((g) => ({ name: g.IndexName, keySchema: g.KeySchema, projection: g.Projection.ProjectionType })),
    ttlAttribute: p.TimeToLiveSpecification?.Enabled ? p.TimeToLiveSpecification.AttributeName : undefined,
  };
}

/** The comparable shape of a queue, from either side. */
interface QueueShape {
  fifo: boolean;
  contentBasedDeduplication: boolean;
  retentionSeconds: number;
  deadLetter?: { maxReceiveCount: number; fifo: boolean; retentionSeconds: number };
}

async function localQueue(name: QueueName): Promise<QueueShape> {
  const attrs = async (url: string) => (await local.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
  const q = local.queues[name];
  const a = await attrs(q.url);
  const redrive = a.RedrivePolicy ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number | string }) : undefined;
  let deadLetter: QueueShape['deadLetter'];
  if (redrive) {
    expect(redrive.deadLetterTargetArn, `${name}: redrive target is its own DLQ`).toBe(q.dlq?.arn);
    const d = await attrs(q.dlq!.url);
    deadLetter = { maxReceiveCount: Number(redrive.maxReceiveCount), fifo: d.FifoQueue === 'true', retentionSeconds: Number(d.MessageRetentionPeriod) };
  }
  return {
    fifo: a.FifoQueue === 'true',
    contentBasedDeduplication: a.ContentBasedDeduplication === 'true',
    retentionSeconds: Number(a.MessageRetentionPeriod),
    ...(deadLetter ? { deadLetter } : {}),
  };
}

function synthesizedQueue(name: QueueName): QueueShape {
  const wq = k.pipeline.queues[name];
  const props = (c: { node: { defaultChild?: unknown } }) => pipelineResources[k.pipeline.getLogicalId(c.node.defaultChild as CfnElement)]!.Properties;
  const q = props(wq.queue);
  const redrive = q.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': string[] }; maxReceiveCount: number } | undefined;
  let deadLetter: QueueShape['deadLetter'];
  if (redrive) {
    expect(redrive.deadLetterTargetArn['Fn::GetAtt'][0], `${name}: redrive target is its own DLQ`).toBe(k.pipeline.getLogicalId(wq.deadLetterQueue!.node.defaultChild as CfnElement));
    const d = props(wq.deadLetterQueue!);
    deadLetter = { maxReceiveCount: redrive.maxReceiveCount, fifo: d.FifoQueue === true, retentionSeconds: d.MessageRetentionPeriod as number };
  }
  return {
    fifo: q.FifoQueue === true,
    contentBasedDeduplication: q.ContentBasedDeduplication === true,
    retentionSeconds: q.MessageRetentionPeriod as number,
    ...(deadLetter ? { deadLetter } : {}),
  };
}

describe('topology drift between local and AWS', () => {
  it('has the same tables and queues on both sides', () => {
    expect(Object.keys(local.tables).sort()).toEqual(Object.keys(TABLES).sort());
    expect(Object.keys(k.state.tables).sort()).toEqual(Object.keys(TABLES).sort());
    expect(Object.values(stateResources).filter((r) => r.Type === 'AWS::DynamoDB::GlobalTable')).toHaveLength(Object.keys(TABLES).length);
    expect(Object.keys(local.queues).sort()).toEqual(Object.keys(QUEUES).sort());
    expect(Object.keys(k.pipeline.queues).sort()).toEqual(Object.keys(QUEUES).sort());
    const queueCount = Object.keys(QUEUES).length + Object.values(QUEUES).filter((q) => 'deadLetter' in q).length;
    expect(Object.values(pipelineResources).filter((r) => r.Type === 'AWS::SQS::Queue')).toHaveLength(queueCount);
  });

  it.each(Object.keys(TABLES) as TableName[])('table %s: same keys, attribute types, indexes and TTL attribute', async (name) => {
    expect(await localTable(name)).toEqual(synthesizedTable(name));
  });

  it.each(Object.keys(QUEUES) as QueueName[])('queue %s: same FIFO, deduplication, retention, dead-letter queue and maxReceiveCount', async (name) => {
    expect(await localQueue(name)).toEqual(synthesizedQueue(name));
  });
});
