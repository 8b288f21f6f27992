/**
 * A topology queue: SQS-managed encryption, TLS only, FIFO as declared, and the dead-letter queue
 * with the declared maxReceiveCount. Names are generated (CDK adds `.fifo` for FIFO queues).
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueName, QueueSpec } from '../topology.ts';

/** Dead-letter queues keep messages for the SQS maximum, 14 days (as local/provision.ts does). */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/** Props of {@link WorkQueue}. */
export interface WorkQueueProps {
  readonly name: QueueName;
  readonly spec: QueueSpec;
  /**
   * Visibility timeout; for a Lambda-consumed queue at least 6 x the function timeout
   * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
   */
  readonly visibilityTimeout?: Duration;
}

/** A queue and, when the topology declares one, its dead-letter queue. */
export class WorkQueue extends Construct {
  /** The queue. */
  readonly queue: sqs.Queue;
  /** The dead-letter queue, if declared. */
  readonly deadLetterQueue?: sqs.Queue;
  /** Logical name from the topology. */
  readonly logicalName: QueueName;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.logicalName = props.name;
    const fifo = props.spec.fifo ? { fifo: true } : {};
    if (props.spec.deadLetter) {
      // A FIFO queue's dead-letter queue must be FIFO too.
      this.deadLetterQueue = new sqs.Queue(this, 'DeadLetter', {
        ...fifo,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: DEAD_LETTER_RETENTION,
      });
    }
    this.queue = new sqs.Queue(this, 'Queue', {
      ...fifo,
      ...(props.spec.fifo && props.spec.contentBasedDeduplication ? { contentBasedDeduplication: true } : {}),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(props.spec.retentionDays),
      ...(props.visibilityTimeout ? { visibilityTimeout: props.visibilityTimeout } : {}),
      ...(this.deadLetterQueue && props.spec.deadLetter
        ? { deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.spec.deadLetter.maxReceiveCount } }
        : {}),
    });
  }
}
