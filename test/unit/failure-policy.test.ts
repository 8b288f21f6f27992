/**
 * The one failure policy (shared/core/errors failureAction) as dispatch and the channel functions
 * apply it: what each error class they raise on purpose, and the AWS SDK's own errors, lead to.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ChannelConfigError } from '../../shared/config/channels.ts';
import { DispatchConfigError } from '../../shared/config/dispatch.ts';
import { AlertRecordConflictError } from '../../shared/adapters/dynamodb/alert-store.ts';
import { isTransientError, UnprocessedKeysError } from '../../shared/adapters/dynamodb/batch.ts';
import { BreakerContentionError } from '../../shared/adapters/dynamodb/breaker-store.ts';
import { ClaimLostError } from '../../shared/adapters/dynamodb/notification-store.ts';
import { VisibilityChangeError } from '../../shared/adapters/channel/queue.ts';
import { RulesUnavailableError } from '../../shared/adapters/rules/cached-rules.ts';
import { SecretConfigError, SecretUnavailableError } from '../../shared/adapters/secrets/index.ts';
import { SqsSendError } from '../../shared/adapters/sqs/transition-publisher.ts';
import { DispatchConflictError } from '../../functions/dispatch/app.ts';
import { decideAfterThrow, DEFAULT_RETRY_CONFIG } from '../../shared/core/deliver/decide.ts';
import { RenderError, renderJob, type Notifier } from '../../shared/core/deliver/notifier.ts';
import { RoutesConfigError } from '../../shared/core/dispatch/route/routes-config.ts';
import { InvalidTransitionError } from '../../shared/core/dispatch/transition-schema.ts';
import { failureAction } from '../../shared/core/errors/index.ts';
import { job } from '../integration/deliver-fixtures.ts';

const sdk = { $metadata: {} };

describe('failureAction of each error class (with the AWS SDK transient check)', () => {
  it.each([
    // a version conflict on the alert record: read and decide again
    ['AlertRecordConflictError', new AlertRecordConflictError('changed'), 'retry'],
    // conflicts that outlasted dispatch's attempts: the message comes back
    ['DispatchConflictError', new DispatchConflictError('still changing'), 'retry'],
    // DynamoDB left keys unprocessed after every retry: throughput, transient
    ['UnprocessedKeysError', new UnprocessedKeysError(3), 'retry'],
    // breaker writes kept losing races
    ['BreakerContentionError', new BreakerContentionError('contended'), 'retry'],
    // another attempt owns the idempotency key now; it decides
    ['ClaimLostError', new ClaimLostError('taken over'), 'retry'],
    // SQS refused a visibility change: the message returns at the default visibility
    ['VisibilityChangeError', new VisibilityChangeError('failed'), 'retry'],
    // the rule source is unreachable and nothing was ever loaded
    ['RulesUnavailableError', new RulesUnavailableError('down'), 'retry'],
    // Secrets Manager unreachable or throttled
    ['SecretUnavailableError', new SecretUnavailableError('cannot read'), 'retry'],
    // SQS failed entries on its side
    ['SqsSendError (service)', new SqsSendError('failed', ['1'], false), 'retry'],
    // SQS refused the entries for their content: the same entries fail again
    ['SqsSendError (sender fault)', new SqsSendError('refused', ['1'], true), 'dead-letter'],
    // the secret is missing or malformed: a human must fix it
    ['SecretConfigError', new SecretConfigError('no such secret'), 'dead-letter'],
    // not a transition: fails the same way on every receive
    ['InvalidTransitionError', new InvalidTransitionError('kind: invalid'), 'dead-letter'],
    // the routes document is invalid
    ['RoutesConfigError', new RoutesConfigError('ssm:/routes', ['routes.0: bad']), 'dead-letter'],
    // a bad environment (thrown at init)
    ['ChannelConfigError', new ChannelConfigError('QUEUE_URL: must be set'), 'dead-letter'],
    ['DispatchConfigError', new DispatchConfigError('ALERTS_TABLE: must be set'), 'dead-letter'],
    // a job that cannot be rendered
    ['RenderError', new RenderError('template threw'), 'dead-letter'],
    // the AWS SDK's throttling error: transient by isTransientError
    ['SDK ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'slow down', ...sdk }), 'retry'],
    // the AWS SDK's conditional failure escaping an adapter: a bug, not transient
    ['SDK ConditionalCheckFailedException', new ConditionalCheckFailedException({ message: 'no', ...sdk }), 'fail-batch'],
    // a plain bug
    ['TypeError', new TypeError("Cannot read properties of undefined (reading 'x')"), 'fail-batch'],
  ] as const)('%s → %s', (_name, err, action) => {
    expect(failureAction(err, isTransientError)).toBe(action);
  });
});

describe('decideAfterThrow: a channel job whose render or send threw', () => {
  it.each([
    // rendering failed: dead-lettered with reason `render`, and no breaker is involved
    ['render error', new RenderError('slack message could not be rendered: TypeError: boom'), { action: 'dead-letter', reason: 'render' }],
    // a permanent error of ours (the secret is malformed): dead-lettered as a client error
    ['secret config', new SecretConfigError('secret klaxon/slack does not have the expected shape'), { action: 'dead-letter', reason: 'client' }],
    // our own store throttled: retried with backoff, never counted against the destination
    ['DynamoDB throttled', new ProvisionedThroughputExceededException({ message: 'slow down', ...sdk }), { action: 'retry', reason: 'other', countsAsBreakerFailure: false, delayMs: DEFAULT_RETRY_CONFIG.baseMs }],
    // a bug in a notifier: the invocation fails
    ['bug', new RangeError('Invalid array length'), { action: 'fail-batch' }],
  ] as const)('%s', (_name, err, expected) => {
    expect(decideAfterThrow(err, isTransientError, 1, DEFAULT_RETRY_CONFIG)).toMatchObject(expected);
  });

  it('redacts the detail', () => {
    const d = decideAfterThrow(new SecretConfigError('bad webhook https://u:pw@hooks.example/x'), isTransientError, 1, DEFAULT_RETRY_CONFIG);
    expect(d).toMatchObject({ action: 'dead-letter', detail: 'SecretConfigError: bad webhook https://***@hooks.example/x' });
  });
});

describe('renderJob', () => {
  it('turns a formatter throw into a RenderError naming the channel and job, with the cause', () => {
    const boom = new TypeError('template bug');
    const notifier: Notifier<string> = {
      channel: 'pagerduty',
      render: () => {
        throw boom;
      },
      send: async () => ({ ok: true }),
    };
    const j = job('pagerduty');
    let thrown: unknown;
    try {
      renderJob(notifier, j);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RenderError);
    expect((thrown as RenderError).message).toBe(`pagerduty message could not be rendered for job ${j.idempotencyKey}: TypeError: template bug`);
    expect((thrown as RenderError).cause).toBe(boom);
    expect(failureAction(thrown)).toBe('dead-letter');
  });
});
