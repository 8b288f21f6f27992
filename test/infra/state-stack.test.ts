/**
 * The state stack: one table per topology entry, on-demand, point-in-time recovery, TTL where the
 * topology declares it, deletion protection, retained on teardown, no physical names.
 */
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { KlaxonStateStack } from '../../infra/stacks/state-stack.ts';
import { TABLES, type TableName, type TableSpec } from '../../infra/topology.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
let resources: Record<string, Resource>;
let stack: KlaxonStateStack;

beforeAll(() => {
  stack = new KlaxonStateStack(new App({ builtinCloudFormationValidation: false }), 'KlaxonState');
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
});

const table = (name: TableName) => resources[stack.getLogicalId(stack.tables[name].node.defaultChild as CfnElement)]!;
const names = Object.keys(TABLES) as TableName[];

describe('tables', () => {
  it('renders exactly the topology tables', () => {
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::GlobalTable')).toHaveLength(names.length);
  });

  it.each(names)('%s: on-demand, PITR, deletion protection, retained, no physical name', (name) => {
    const t = table(name);
    expect(t.Type).toBe('AWS::DynamoDB::GlobalTable');
    expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(t.Properties.TableName).toBeUndefined();
    expect(t.Properties.Replicas).toEqual([
      expect.objectContaining({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
    ]);
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.UpdateReplacePolicy).toBe('Retain');
  });

  it.each(names)('%s: key schema and TTL as the topology declares', (name) => {
    const spec: TableSpec = TABLES[name];
    const t = table(name).Properties;
    expect(t.KeySchema).toEqual([{ AttributeName: spec.partitionKey.name, KeyType: 'HASH' }, ...(spec.sortKey ? [{ AttributeName: spec.sortKey.name, KeyType: 'RANGE' }] : [])]);
    expect(t.TimeToLiveSpecification).toEqual(spec.ttlAttribute ? { AttributeName: spec.ttlAttribute, Enabled: true } : undefined);
  });

  it('gives the state table its sparse, keys-only by-due and by-firing indexes', () => {
    expect(table('state').Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'by-due',
        KeySchema: [
          { AttributeName: 'dueShard', KeyType: 'HASH' },
          { AttributeName: 'dueAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'by-firing',
        KeySchema: [{ AttributeName: 'firingShard', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
    expect(table('state').Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'dueShard', AttributeType: 'S' },
        { AttributeName: 'dueAt', AttributeType: 'N' },
        { AttributeName: 'firingShard', AttributeType: 'S' },
      ]),
    );
  });
});
