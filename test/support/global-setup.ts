/**
 * Vitest global setup: one DynamoDB Local and one fauxqs for the whole run (a JVM start costs
 * seconds; two cores). Suites isolate themselves with a unique resource prefix
 * (see `test/support/aws.ts`). The SES emulator is cheap and started per suite.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/services/dynamodb-local.ts';
import { startSqsLocal, type SqsLocal } from '../../local/services/sqs-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}

let ddb: DynamoDbLocal | undefined;
let sqs: SqsLocal | undefined;

export async function setup(project: TestProject): Promise<void> {
  [ddb, sqs] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
  project.provide('dynamodbEndpoint', ddb.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
}

export async function teardown(): Promise<void> {
  await Promise.all([ddb?.stop(), sqs?.stop()]);
}
