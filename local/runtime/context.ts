/**
 * A Lambda `Context` for handlers run locally: the fields Powertools and our handlers read
 * (function name, request id, remaining time) with the values Lambda would give.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** What the fake context needs to know about the function. */
export interface ContextOptions {
  readonly functionName: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly region?: string;
  /** Wall clock (ms); injected in tests. */
  readonly now?: () => number;
}

/** Builds a fresh context for one invocation; `getRemainingTimeInMillis` counts down from the function timeout. */
export function lambdaContext(opts: ContextOptions): Context {
  const now = opts.now ?? Date.now;
  const deadline = now() + opts.timeoutSeconds * 1000;
  const region = opts.region ?? 'us-east-1';
  const unsupported = (): never => {
    throw new Error('The callback-style context methods are not supported; return a promise.');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: opts.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${opts.functionName}`,
    memoryLimitInMB: String(opts.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${opts.functionName}`,
    logStreamName: `local/${opts.functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
