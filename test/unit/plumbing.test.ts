/**
 * Lambda plumbing: every functions/<name>/handler.ts is its app handler inside withPlumbing (middy,
 * Powertools' injectLambdaContext then logMetrics), and the logger redacts secrets. Observed the
 * way Powertools' own tests do: logs and EMF metrics are JSON lines on stdout, captured here.
 */
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createLogger, createMetrics } from '../../shared/adapters/observability/index.ts';
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/** A Lambda context as the runtime passes it (fields Powertools reads). */
const context = (functionName: string): Context =>
  ({
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }) as Context;

let lines: Record<string, unknown>[];
const capture = (chunk: string | Uint8Array): boolean => {
  for (const l of String(chunk).split('\n')) if (l.trim().startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
  return true;
};
beforeEach(() => {
  lines = [];
  // As Lambda sets it for on-demand functions: Powertools reports cold starts only then.
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  // Logs at INFO go to stdout, WARN and ERROR to stderr; EMF to stdout.
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

type Emf = { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }; service?: string; function_name?: string };
const emf = () => lines.filter((l): l is Record<string, unknown> & Emf => '_aws' in l);
const metricNames = (e: Emf) => e._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name));

describe('withPlumbing', () => {
  it('gives every log line the Lambda context and flushes stored metrics once when the handler returns', async () => {
    const logger = createLogger('plumbing-ok');
    const metrics = createMetrics('plumbing-ok');
    const handler = withPlumbing(async (event: { n: number }) => {
      logger.info('working', { n: event.n });
      metrics.addMetric('Worked', MetricUnit.Count, event.n);
      return event.n * 2;
    }, { logger, metrics });

    await expect(handler({ n: 3 }, context('fn-ok'))).resolves.toBe(6);
    const log = lines.find((l) => l.message === 'working');
    expect(log).toMatchObject({ function_request_id: 'req-fn-ok', function_name: 'fn-ok', n: 3 });
    const worked = emf().filter((e) => metricNames(e).includes('Worked'));
    expect(worked).toHaveLength(1);
    expect(worked[0]).toMatchObject({ Worked: 3, service: 'plumbing-ok' });
    // The cold start of the first invocation, with the function's name (captureColdStartMetric).
    expect(emf().filter((e) => metricNames(e).includes('ColdStart'))).toEqual([expect.objectContaining({ function_name: 'fn-ok', ColdStart: 1 })]);
  });

  it('flushes stored metrics once when the handler throws, and the error still reaches Lambda', async () => {
    const logger = createLogger('plumbing-throw');
    const metrics = createMetrics('plumbing-throw');
    const handler = withPlumbing(async () => {
      metrics.addMetric('BeforeThrow', MetricUnit.Count, 1);
      throw new Error('boom');
    }, { logger, metrics });

    await expect(handler({}, context('fn-throw'))).rejects.toThrow('boom');
    expect(emf().filter((e) => metricNames(e).includes('BeforeThrow'))).toHaveLength(1);
  });

  it('drops keys a handler appended when the invocation ends (no leak into the next one)', async () => {
    const logger = createLogger('plumbing-keys');
    const metrics = createMetrics('plumbing-keys');
    const handler = withPlumbing(async (event: { tag?: string }) => {
      if (event.tag) logger.appendKeys({ tag: event.tag });
      logger.info('seen');
      return null;
    }, { logger, metrics });
    await handler({ tag: 'first' }, context('fn-keys'));
    await handler({}, context('fn-keys'));
    const seen = lines.filter((l) => l.message === 'seen');
    expect(seen.map((l) => l.tag)).toEqual(['first', undefined]);
  });
});

describe('the logger redacts secrets in every line', () => {
  it('in the message, in extra fields and in a logged error', () => {
    const logger = createLogger('redaction');
    const err = new TypeError('Request cannot be constructed from a URL that includes credentials: https://bob:s3cret@hooks.example/x');
    logger.error('send to https://hooks.slack.com/services/T1/B2/abcdef failed', { url: 'https://h.example/x?token=t0k', error: err });
    const line = JSON.stringify(lines.find((l) => String(l.message).startsWith('send to')));
    expect(line).toContain('https://hooks.slack.com/***');
    expect(line).toContain('?token=***');
    expect(line).toContain('https://***@hooks.example/x');
    for (const secret of ['s3cret', 'abcdef', 't0k', 'T1/B2']) expect(line).not.toContain(secret);
  });
});

/** Environment of every function (dummy names; the clients point at a closed port and try once). */
const ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_MAX_ATTEMPTS: '1',
  DELIVERY_TABLE: 'delivery',
  ALERTS_TABLE: 'alerts',
  STATE_TABLE: 'state',
  SAMPLE_LOG_TABLE: 'samples',
  RULES_TABLE: 'rules',
  RULES_SOURCE: 'dynamodb',
  QUEUE_URL: 'http://127.0.0.1:9/000000000000/q.fifo',
  DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:9/000000000000/dlq.fifo',
  SLACK_QUEUE_URL: 'http://127.0.0.1:9/000000000000/slack.fifo',
  EMAIL_QUEUE_URL: 'http://127.0.0.1:9/000000000000/email.fifo',
  PAGERDUTY_QUEUE_URL: 'http://127.0.0.1:9/000000000000/pagerduty.fifo',
  WEBHOOK_QUEUE_URL: 'http://127.0.0.1:9/000000000000/webhook.fifo',
  ALERT_EVENTS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/alert-events.fifo',
  REJECTED_QUEUE_URL: 'http://127.0.0.1:9/000000000000/rejected',
  SLACK_SECRET_NAME: 'klaxon/slack',
  PAGERDUTY_SECRET_NAME: 'klaxon/pagerduty',
  WEBHOOK_SECRET_NAME: 'klaxon/webhooks',
  SES_SENDER: 'alerts@example.com',
};

describe('each functions/*/handler.ts is wrapped', () => {
  it.each([
    // [module, Powertools service name, an event the handler accepts]
    ['deliver-slack', 'deliverSlack', { Records: [] }],
    ['deliver-email', 'deliverEmail', { Records: [] }],
    ['deliver-pagerduty', 'deliverPagerduty', { Records: [] }],
    ['deliver-webhook', 'deliverWebhook', { Records: [] }],
    ['dispatch', 'dispatch', { Records: [] }],
    // the evaluator with an empty MSK batch, timers with a scheduler event: both may fail on the closed port
    ['evaluator', 'evaluator', { eventSource: 'aws:kafka', records: {} }],
    ['timers', 'timers', {}],
  ])('%s: the ColdStart metric of its service is written when it is invoked', async (dir, service, event) => {
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    const mod = (await import(`../../functions/${dir}/handler.ts`)) as { handler: (e: unknown, c: Context) => Promise<unknown> };
    await mod.handler(event, context(`klaxon-${dir}`)).catch(() => undefined);
    expect(emf().filter((e) => metricNames(e).includes('ColdStart'))).toEqual([expect.objectContaining({ service, function_name: `klaxon-${dir}` })]);
  });

  it('deliver-slack: a log line written inside the handler carries the Lambda context', async () => {
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    const mod = (await import('../../functions/deliver-slack/handler.ts')) as { handler: (e: unknown, c: Context) => Promise<unknown> };
    // Not a job: dead-lettering it fails on the closed port (transient), which the handler logs.
    const record = { messageId: 'm1', receiptHandle: 'r1', body: 'not json', attributes: { MessageGroupId: 'g', ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'eu-west-1' };
    const out = await mod.handler({ Records: [record] }, context('klaxon-slack-ctx'));
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(lines.find((l) => l.message === 'record processing failed; will retry')).toMatchObject({ function_request_id: 'req-klaxon-slack-ctx', service: 'deliverSlack' });
  });
});

describe('withPlumbing: tracing', () => {
  /** A stand-in for Powertools' Tracer that records what the middleware asks of it (no X-Ray daemon here). */
  function recordingTracer() {
    const calls: string[] = [];
    const segment = (name: string) => ({ name, addNewSubsegment: (n: string) => (calls.push(`open ${n}`), segment(n)), close: () => void calls.push(`close ${name}`) });
    const lambda = segment('lambda');
    let current: unknown = lambda;
    const tracer = {
      isTracingEnabled: () => true,
      getSegment: () => current,
      setSegment: (s: unknown) => void (current = s),
      annotateColdStart: () => void calls.push('annotate cold start'),
      addServiceNameAnnotation: () => void calls.push('annotate service'),
      addResponseAsMetadata: () => void calls.push('response as metadata'),
      addErrorAsMetadata: (e: Error) => void calls.push(`error ${e.message}`),
    };
    return { tracer: tracer as unknown as Tracer, calls };
  }

  it('opens one subsegment per invocation around the handler, without the response, and records an error', async () => {
    const logger = createLogger('plumbing-trace');
    const metrics = createMetrics('plumbing-trace');
    const { tracer, calls } = recordingTracer();
    const ok = withPlumbing(async () => ({ secret: 'alert labels' }), { logger, metrics, tracer });
    await ok({}, context('fn-trace'));
    expect(calls.map((c) => c.replace(/## .*/, '## handler'))).toEqual(['open ## handler', 'annotate cold start', 'annotate service', 'close ## handler']);
    calls.length = 0;
    const failing = withPlumbing(async () => {
      throw new Error('boom');
    }, { logger, metrics, tracer });
    await expect(failing({}, context('fn-trace'))).rejects.toThrow('boom');
    expect(calls.map((c) => c.replace(/## .*/, '## handler'))).toEqual(['open ## handler', 'annotate cold start', 'annotate service', 'error boom', 'close ## handler']);
  });
});
