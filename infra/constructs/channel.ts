/**
 * The repeated shape of the delivery half: a queue with its dead-letter queue, the function that
 * consumes it through an SQS event source (partial batch responses, a maximum concurrency), and the
 * alarms that say the channel is in trouble.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRIC } from '../../shared/core/model/metrics.ts';
import type { Channel as DeliveryChannel } from '../../shared/core/model/index.ts';
import type { FunctionName, FunctionSpec, QueueName, QueueSpec } from '../topology.ts';
import { KlaxonFunction, type KlaxonFunctionProps } from './klaxon-function.ts';
import { klaxonMetric } from './klaxon-metrics.ts';
import { WorkQueue } from './work-queue.ts';

/**
 * Lambda's rule of thumb for SQS sources: visibility timeout at least 6 x the function timeout, so a
 * batch retried after throttling is not redelivered while still running
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** How long a breaker may stay open before it alarms (issue 4: "a breaker open longer than 10 min"). */
export const BREAKER_OPEN_ALARM_MINUTES = 10;

/** Props of {@link Channel}. */
export interface ChannelProps extends Omit<KlaxonFunctionProps, 'name' | 'spec'> {
  readonly queueName: QueueName;
  readonly queueSpec: QueueSpec;
  readonly functionName: FunctionName;
  /** The consuming function; its trigger must be `sqs` on `queueName`. */
  readonly functionSpec: FunctionSpec;
  /** For delivery channels: alarms on dead-lettered notifications and a long-open breaker. */
  readonly deliveryChannel?: DeliveryChannel;
  /** Where alarms go. */
  readonly alarmTopic: sns.ITopic;
}

/** Queue + DLQ + function + SQS event source + alarms. */
export class Channel extends Construct {
  /** The queue and its dead-letter queue. */
  readonly queue: WorkQueue;
  /** The consuming function. */
  readonly function: KlaxonFunction;
  /** The channel's alarms. */
  readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ChannelProps) {
    super(scope, id);
    const trigger = props.functionSpec.trigger;
    if (trigger.kind !== 'sqs' || trigger.queue !== props.queueName) {
      throw new Error(`Channel ${id}: ${props.functionName} is not triggered by queue ${props.queueName}`);
    }
    if (!props.queueSpec.deadLetter || props.queueSpec.deadLetter.maxReceiveCount < 5) {
      // https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-queueconfig
      throw new Error(`Channel ${id}: queue ${props.queueName} needs a dead-letter queue with maxReceiveCount >= 5`);
    }
    const { queueName, queueSpec, functionName, functionSpec, deliveryChannel, alarmTopic, ...fnProps } = props;

    this.queue = new WorkQueue(this, 'Queue', {
      name: queueName,
      spec: queueSpec,
      visibilityTimeout: Duration.seconds(functionSpec.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
    });
    this.function = new KlaxonFunction(this, 'Handler', { ...fnProps, name: functionName, spec: functionSpec });
    this.function.fn.addEventSource(
      new SqsEventSource(this.queue.queue, {
        batchSize: trigger.batchSize,
        ...(trigger.maxBatchingWindowSeconds > 0 ? { maxBatchingWindow: Duration.seconds(trigger.maxBatchingWindowSeconds) } : {}),
        reportBatchItemFailures: true,
        maxConcurrency: trigger.maxConcurrency,
      }),
    );

    const action = new cwActions.SnsAction(alarmTopic);
    const alarm = (alarmId: string, alarmProps: cw.AlarmProps): cw.Alarm => {
      const a = new cw.Alarm(this, alarmId, alarmProps);
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    const dlq = this.queue.deadLetterQueue!;
    alarm('DeadLetterNotEmpty', {
      alarmDescription: `Klaxon: messages in the ${queueName} dead-letter queue. Inspect with \`klaxon dlq list\`, fix the cause, then \`klaxon dlq redrive ${queueName}\`.`,
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    if (deliveryChannel) {
      alarm('DeadLettered', {
        alarmDescription: `Klaxon: ${deliveryChannel} notifications failed permanently and were dead-lettered (bad webhook, key or address?).`,
        metric: klaxonMetric(METRIC.notificationsDeadLettered, functionName, { dimensions: { channel: deliveryChannel }, period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
      // BreakerOpen is 1 per attempt made while a breaker is open; open for every minute of 10 in a row.
      alarm('BreakerOpen', {
        alarmDescription: `Klaxon: a ${deliveryChannel} circuit breaker has been open for ${BREAKER_OPEN_ALARM_MINUTES} minutes; notifications are waiting on the queue.`,
        metric: klaxonMetric(METRIC.breakerOpen, functionName, { dimensions: { channel: deliveryChannel }, statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: BREAKER_OPEN_ALARM_MINUTES,
        datapointsToAlarm: BREAKER_OPEN_ALARM_MINUTES,
        treatMissingData: cw.TreatMissingData.IGNORE,
      });
    }
  }
}
