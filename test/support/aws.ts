/**
 * Test access to the real local AWS implementations started by `global-setup.ts`: clients pointed
 * at them, and a freshly provisioned copy of the topology under a unique prefix.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { provision, type Provisioned, type ProvisionOptions } from '../../local/provision.ts';

/** Credentials the emulators accept (they check none). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
/** Region used with the emulators. */
export const LOCAL_REGION = 'us-east-1';

/** Endpoints of the shared emulators. */
export function endpoints(): { dynamodb: string; sqs: string } {
  return { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') };
}

/** A DynamoDB client for DynamoDB Local. */
export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: endpoints().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** An SQS client for fauxqs. */
export function sqsClient(): SQSClient {
  return new SQSClient({ endpoint: endpoints().sqs, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** A fresh copy of every table and queue of the topology, under a unique prefix. */
export async function provisionFresh(
  opts: Partial<Pick<ProvisionOptions, 'visibilityTimeoutSeconds' | 'ttl'>> & { prefix?: string } = {},
): Promise<Provisioned & { dynamodb: DynamoDBClient; sqs: SQSClient; prefix: string }> {
  const dynamodb = dynamoClient();
  const sqs = sqsClient();
  const prefix = opts.prefix ?? `t${randomUUID().slice(0, 8)}`;
  // No TTL unless asked: the tests' event times are fixed dates, whose items DynamoDB Local would
  // expire under them (ProvisionOptions.ttl).
  const p = await provision({ dynamodb, sqs, prefix, ttl: opts.ttl ?? false, ...(opts.visibilityTimeoutSeconds ? { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds } : {}) });
  return { ...p, dynamodb, sqs, prefix };
}
