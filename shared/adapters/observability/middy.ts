/**
 * The Lambda plumbing every function's handler.ts wraps its handler in: middy with Powertools'
 * own middlewares, in one declared order.
 *
 * Order (middy runs `before` in this order and `after` / `onError` in reverse):
 *  1. `captureLambdaHandler(tracer)`: the invocation's X-Ray subsegment (with the cold start and the
 *     service as annotations, and the error when it throws; not the response, which can hold alert
 *     labels and pass X-Ray's 64 KB document limit), so everything below is inside it; the
 *     AWS SDK clients the adapters create are traced by the Lambda's active tracing. Outside Lambda
 *     (tests, local mode) Powertools' Tracer disables itself;
 *  2. `injectLambdaContext(logger, { resetKeys: true })`: every log line of the invocation carries
 *     the Lambda context (request id, function name, cold start), and keys a handler appended are
 *     dropped when it ends, so nothing leaks into the next invocation;
 *  3. `logMetrics(metrics, { captureColdStartMetric: true })`: a `ColdStart` metric on the first
 *     invocation, and the stored metrics written (EMF to stdout) once when the handler returns and
 *     once when it throws, so no handler flushes by hand.
 * The tracer goes first so that its subsegment spans the other two; the logger before the metrics
 * so that it already has the context when the metrics middleware runs, and the metrics are flushed
 * (reverse order) before the logger's keys are reset.
 * https://docs.aws.amazon.com/powertools/typescript/latest/core/tracer/#middy-middleware,
 * https://docs.aws.amazon.com/powertools/typescript/latest/core/logger/#using-a-middleware,
 * https://docs.aws.amazon.com/powertools/typescript/latest/core/metrics/#middy-middleware
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';

/** The function's logger and metrics, created once at module scope and shared with its deps. */
export interface Plumbing {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Default: a Tracer named by POWERTOOLS_SERVICE_NAME (set per function by infra/constructs/klaxon-function.ts). */
  readonly tracer?: Tracer;
}

/** A Lambda handler as the functions' app.ts files build it. */
export type PlainHandler<E, R> = (event: E, context: Context) => Promise<R>;

/** Wraps a handler in the plumbing, in the order the module comment gives. */
export function withPlumbing<E, R>(handler: PlainHandler<E, R>, { logger, metrics, tracer = new Tracer() }: Plumbing): MiddyfiedHandler<E, R, Error, Context> {
  return middy<E, R, Error, Context>(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
