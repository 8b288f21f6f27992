/**
 * The stateful half: the topology's DynamoDB tables. Kept apart from the functions and queues so a
 * pipeline change never puts a table at risk of replacement, and deletion protection plus a RETAIN
 * policy keep data through a teardown of the pipeline stack.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLES, type KeyAttribute, type TableName, type TableSpec } from '../topology.ts';

const attribute = (k: KeyAttribute): dynamodb.Attribute => ({
  name: k.name,
  type: k.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

/** A table rendered from its {@link TableSpec}: on-demand, PITR, TTL as declared, deletion protection, no physical name. */
export function renderTable(scope: Construct, id: string, spec: TableSpec): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, id, {
    partitionKey: attribute(spec.partitionKey),
    ...(spec.sortKey ? { sortKey: attribute(spec.sortKey) } : {}),
    billing: dynamodb.Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
    ...(spec.ttlAttribute ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
    globalSecondaryIndexes: (spec.globalIndexes ?? []).map((gsi) => ({
      indexName: gsi.name,
      partitionKey: attribute(gsi.partitionKey),
      ...(gsi.sortKey ? { sortKey: attribute(gsi.sortKey) } : {}),
      projectionType: gsi.projection === 'keys-only' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL,
    })),
  });
}

/** Construct ids of the tables (PascalCase of the logical name). */
export const tableId = (name: TableName): string => `${name[0]!.toUpperCase()}${name.slice(1)}Table`;

/** Every table of the topology. */
export class KlaxonStateStack extends Stack {
  /** The tables by logical name. */
  readonly tables: Record<TableName, dynamodb.TableV2>;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.tables = Object.fromEntries(
      (Object.entries(TABLES) as [TableName, TableSpec][]).map(([name, spec]) => [name, renderTable(this, tableId(name), spec)]),
    ) as Record<TableName, dynamodb.TableV2>;
    // For `klaxon rules push --to dynamodb --table <RulesTableName>` and the operations guide.
    for (const name of Object.keys(TABLES) as TableName[]) {
      new CfnOutput(this, `${tableId(name)}Name`, { value: this.tables[name].tableName, description: `The ${name} table` });
    }
  }
}
