/**
 * Creates the topology's tables and queues in local emulators (DynamoDB Local, fauxqs) and returns
 * their physical names and URLs. The same `infra/topology.ts` is what the CDK app renders, so local
 * and AWS share one list of resources.
 */
import type {
  DynamoDBClient} from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { QUEUES, TABLES, type QueueName, type QueueSpec, type TableName, type TableSpec } from '../infra/topology.ts';

/** Physical names of the provisioned resources, by logical name. */
export interface Provisioned {
  readonly tables: Record<TableName, string>;
  readonly queues: Record<QueueName, { readonly url: string; readonly arn: string; readonly name: string; readonly dlq?: { url: string; arn: string; name: string } }>;
}

/** Clients and a name prefix (so several test suites can share one emulator). */
export interface ProvisionOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly prefix: string;
  /** Queue visibility timeouts, seconds (default 30). */
  readonly visibilityTimeoutSeconds?: Partial<Record<QueueName, number>>;
  /**
   * Turn on the tables' TTL (default true, as the CDK app does). Tests turn it off: their event
   * times are fixed dates, so the items' `expiresAt` (derived from event time) passes on the wall
   * clock as the calendar moves on, and DynamoDB Local's TTL sweeper then deletes them at moments
   * of its own, in the middle of a test.
   */
  readonly ttl?: boolean;
}

/** The physical table definition rendered from a {@link TableSpec} (also used by the drift test). */
export function tableDefinition(name: string, spec: TableSpec): {
  TableName: string;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
} {
  const attrs = new Map<string, 'S' | 'N'>();
  const keySchema = (pk: TableSpec['partitionKey'], sk?: TableSpec['sortKey']): KeySchemaElement[] => {
    attrs.set(pk.name, pk.type);
    const ks: KeySchemaElement[] = [{ AttributeName: pk.name, KeyType: 'HASH' }];
    if (sk) {
      attrs.set(sk.name, sk.type);
      ks.push({ AttributeName: sk.name, KeyType: 'RANGE' });
    }
    return ks;
  };
  const KeySchema = keySchema(spec.partitionKey, spec.sortKey);
  const GlobalSecondaryIndexes = spec.globalIndexes?.map((gsi) => ({
    IndexName: gsi.name,
    KeySchema: keySchema(gsi.partitionKey, gsi.sortKey),
    Projection: { ProjectionType: gsi.projection === 'keys-only' ? ('KEYS_ONLY' as const) : ('ALL' as const) },
  }));
  return {
    TableName: name,
    KeySchema,
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    ...(GlobalSecondaryIndexes ? { GlobalSecondaryIndexes } : {}),
  };
}

/** Physical queue name for a logical queue (`.fifo` suffix where FIFO). */
export function queueName(prefix: string, logical: string, spec: Pick<QueueSpec, 'fifo'>, dlq = false): string {
  return `${prefix}-${logical}${dlq ? '-dlq' : ''}${spec.fifo ? '.fifo' : ''}`;
}

async function createTable(ddb: DynamoDBClient, name: string, spec: TableSpec, ttl: boolean): Promise<void> {
  try {
    await ddb.send(new CreateTableCommand({ ...tableDefinition(name, spec), BillingMode: 'PAY_PER_REQUEST' }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 100; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: name }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (spec.ttlAttribute && ttl) {
    await ddb.send(
      new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true } }),
    );
  }
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string; name: string }> {
  const res = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = res.QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: attrs.Attributes!.QueueArn!, name };
}

/** Creates every table and queue of the topology (idempotent) and returns their names. */
export async function provision(opts: ProvisionOptions): Promise<Provisioned> {
  const tables = {} as Record<TableName, string>;
  await Promise.all(
    (Object.entries(TABLES) as [TableName, TableSpec][]).map(async ([logical, spec]) => {
      const name = `${opts.prefix}-${logical}`;
      await createTable(opts.dynamodb, name, spec, opts.ttl ?? true);
      tables[logical] = name;
    }),
  );
  const queues = {} as Provisioned['queues'];
  for (const [logical, spec] of Object.entries(QUEUES) as [QueueName, QueueSpec][]) {
    const base: Record<string, string> = {
      MessageRetentionPeriod: String(spec.retentionDays * 86400),
      VisibilityTimeout: String(opts.visibilityTimeoutSeconds?.[logical] ?? 30),
    };
    if (spec.fifo) {
      base.FifoQueue = 'true';
      if (spec.contentBasedDeduplication) base.ContentBasedDeduplication = 'true';
    }
    let dlq: { url: string; arn: string; name: string } | undefined;
    if (spec.deadLetter) {
      dlq = await createQueue(opts.sqs, queueName(opts.prefix, logical, spec, true), {
        MessageRetentionPeriod: String(14 * 86400),
        ...(spec.fifo ? { FifoQueue: 'true' } : {}),
      });
      base.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: spec.deadLetter.maxReceiveCount });
    }
    const q = await createQueue(opts.sqs, queueName(opts.prefix, logical, spec), base);
    queues[logical] = dlq ? { ...q, dlq } : q;
  }
  return { tables, queues };
}
