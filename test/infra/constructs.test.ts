/**
 * The constructs' own rules, outside a full stack: a channel refuses a queue Lambda cannot drain
 * safely, the Kafka IAM resources derive from the cluster ARN, and each channel maps to the
 * function that delivers it.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { Channel } from '../../infra/constructs/channel.ts';
import { deliveryFunctions, kafkaResourceArns } from '../../infra/stacks/pipeline-stack.ts';
import { FUNCTIONS, QUEUES, type QueueSpec } from '../../infra/topology.ts';
import { stubProjectRoot } from './fixture.ts';

describe('Channel', () => {
  const build = (queueSpec: QueueSpec, queueName: 'slack' | 'email' = 'slack') => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'T');
    return new Channel(stack, 'C', {
      queueName,
      queueSpec,
      functionName: 'deliverSlack',
      functionSpec: FUNCTIONS.deliverSlack,
      alarmTopic: new sns.Topic(stack, 'Alarms'),
      projectRoot: stubProjectRoot(),
      logLevel: 'INFO',
      logRetention: logs.RetentionDays.ONE_WEEK,
      tracing: false,
    });
  };

  it.each([
    // no dead-letter queue at all
    [{ ...QUEUES.slack, deadLetter: undefined }, 'needs a dead-letter queue with maxReceiveCount >= 5'],
    // Lambda's guidance is at least 5 receives before dead-lettering
    [{ ...QUEUES.slack, deadLetter: { maxReceiveCount: 2 } }, 'needs a dead-letter queue with maxReceiveCount >= 5'],
  ])('refuses %j', (spec, message) => {
    expect(() => build(spec as QueueSpec)).toThrow(message);
  });

  it('refuses a function that is not triggered by the queue', () => {
    expect(() => build(QUEUES.email, 'email')).toThrow('deliverSlack is not triggered by queue email');
  });

  it('creates the DLQ and breaker alarms of a delivery channel only when asked', () => {
    expect(build(QUEUES.slack).alarms.map((a) => a.node.id)).toEqual(['DeadLetterNotEmpty']);
  });
});

describe('kafkaResourceArns', () => {
  it('derives the topic and group ARNs IAM access control checks from the cluster ARN', () => {
    expect(kafkaResourceArns('arn:aws:kafka:us-east-1:111122223333:cluster/prod/abcd-1', 'metrics', 'klaxon')).toEqual({
      cluster: 'arn:aws:kafka:us-east-1:111122223333:cluster/prod/abcd-1',
      topic: 'arn:aws:kafka:us-east-1:111122223333:topic/prod/abcd-1/metrics',
      group: 'arn:aws:kafka:us-east-1:111122223333:group/prod/abcd-1/klaxon',
    });
  });
});

describe('deliveryFunctions', () => {
  it('maps each channel to the function consuming its queue', () => {
    expect(deliveryFunctions()).toEqual({ slack: 'deliverSlack', email: 'deliverEmail', pagerduty: 'deliverPagerduty', webhook: 'deliverWebhook' });
  });
});
