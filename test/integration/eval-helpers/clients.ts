/**
 * Client middleware for tests: count requests per command, and inject failures into chosen calls.
 * This is the one place the tests do not use a real behaviour of the emulators: DynamoDB Local and
 * fauxqs cannot throttle or time out on demand, so a middleware throws the error the real service
 * would (before the request, or after it succeeded, as a lost response).
 */
import { ProvisionedThroughputExceededException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

type AnyClient = DynamoDBClient | SQSClient;

/** Counts the commands sent through a client. */
export interface RequestCounter {
  readonly counts: Map<string, number>;
  total(): number;
  reset(): void;
}

/** Adds a counting middleware (counts every send, including SDK retries' first attempt only). */
export function countRequests(client: AnyClient, onRequest?: (command: string, input: unknown) => void): RequestCounter {
  const counts = new Map<string, number>();
  (client.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
    (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: unknown }) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      onRequest?.(name, args.input);
      return await next(args);
    },
    { step: 'initialize', name: `count-${Math.random()}` },
  );
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
  };
}

/** When to fail: the nth call (1-based) of a command, before sending it or after it succeeded. */
export interface FaultPlan {
  command: string;
  nth: number;
  when: 'before' | 'after';
  /** Error to throw; default a DynamoDB throttling error (transient). */
  error?: () => Error;
}

/** A switchable fault injector on a client. */
export interface FaultInjector {
  arm(plan: FaultPlan | undefined): void;
  /** True once the armed fault has fired. */
  fired(): boolean;
  /** Calls seen per command since the last arm(). */
  readonly seen: Map<string, number>;
}

/** Throttling as DynamoDB reports it. */
export function throttlingError(): Error {
  return new ProvisionedThroughputExceededException({ message: 'injected: throughput exceeded', $metadata: { httpStatusCode: 400 } });
}

/** Adds a fault-injecting middleware. */
export function injectFaults(client: AnyClient): FaultInjector {
  let plan: FaultPlan | undefined;
  let fired = false;
  const seen = new Map<string, number>();
  (client.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const name = context.commandName ?? 'unknown';
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      const hit = !fired && plan !== undefined && plan.command === name && plan.nth === n;
      if (hit && plan!.when === 'before') {
        fired = true;
        throw (plan!.error ?? throttlingError)();
      }
      const out = await next(args);
      if (hit && plan!.when === 'after') {
        fired = true;
        throw (plan!.error ?? throttlingError)();
      }
      return out;
    },
    { step: 'initialize', name: `fault-${Math.random()}` },
  );
  return {
    arm: (p) => {
      plan = p;
      fired = false;
      seen.clear();
    },
    fired: () => fired,
    seen,
  };
}
