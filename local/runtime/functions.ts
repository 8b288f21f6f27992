/**
 * Loads the real Lambda functions for the local runtime: for each function of the topology, its
 * `functions/<name>/app.ts` module, the environment Lambda would give it (rendered from
 * infra/topology.ts with the local physical names), its deps from `<name>DepsFromEnv(env)`, and
 * its handler from `create<Name>Handler(deps)`. The same factories `handler.ts` calls in AWS.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { FUNCTIONS, type ConfigKey, type EnvSource, type FunctionName } from '../../infra/topology.ts';
import type { Provisioned } from '../provision.ts';
import type { Context } from 'aws-lambda';
import type { Clock } from '../../shared/core/model/index.ts';

/** Repository root. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A Lambda handler as the local runtime calls it. */
export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Thrown when a function's module or factories cannot be found or fail to build. */
export class FunctionLoadError extends Error {
  override name = 'FunctionLoadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The environment of one function, rendered from the topology (the same names the CDK app sets). */
export function functionEnv(fn: FunctionName, provisioned: Provisioned, config: Readonly<Record<ConfigKey, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, source] of Object.entries(FUNCTIONS[fn].env) as [string, EnvSource][]) {
    if ('tableName' in source) env[name] = provisioned.tables[source.tableName];
    else if ('queueUrl' in source) env[name] = provisioned.queues[source.queueUrl].url;
    else if ('deadLetterQueueUrl' in source) {
      const dlq = provisioned.queues[source.deadLetterQueueUrl].dlq;
      if (!dlq) throw new FunctionLoadError(`${fn}: ${name} names the dead-letter queue of ${source.deadLetterQueueUrl}, which has none`);
      env[name] = dlq.url;
    } else env[name] = config[source.config];
  }
  return env;
}

/** The app module path of a function (`functions/<dir>/app.ts`, beside its `handler.ts` entry). */
export function appModulePath(fn: FunctionName): string {
  return join(REPO_ROOT, dirname(FUNCTIONS[fn].entry), 'app.ts');
}

/** Whether a function's app module exists in this checkout. */
export function functionAvailable(fn: FunctionName): boolean {
  return existsSync(appModulePath(fn));
}

/** A queue port that can hold messages (the channel functions' `queue` dependency). */
interface HoldingQueue {
  changeVisibility(entries: readonly { readonly receiptHandle: string; readonly seconds: number }[]): Promise<void>;
}

/** A port whose delays follow a clock running `speed` times real time (the group flush scheduler). */
interface SpeedScalable {
  withSpeed(speed: number): unknown;
}

function isSpeedScalable(x: unknown): x is SpeedScalable {
  return typeof x === 'object' && x !== null && typeof (x as SpeedScalable).withSpeed === 'function';
}

function isHoldingQueue(q: unknown): q is HoldingQueue {
  return typeof q === 'object' && q !== null && typeof (q as HoldingQueue).changeVisibility === 'function';
}

/**
 * A queue port whose holds are given in event time: the channel functions compute how long a message
 * waits (retry backoff, breaker reopen, Retry-After) on their clock, and SQS counts visibility in real
 * seconds. With `--speed N` the local clock runs N times faster, so a hold is N times shorter in real
 * time; without this, a 60 s breaker wait would last 60 real seconds while the demo's outage lasts
 * 90 / N. At speed 1 it changes nothing, and in AWS there is no such wrapper.
 */
export function speedScaledQueue<Q extends HoldingQueue>(queue: Q, speed: number): Q {
  const changeVisibility: HoldingQueue['changeVisibility'] = (entries) => queue.changeVisibility(entries.map((e) => ({ ...e, seconds: e.seconds / speed })));
  // A proxy, not a subclass: the adapter keeps private #fields, so its other methods must run on it.
  return new Proxy(queue, {
    get(target, prop) {
      if (prop === 'changeVisibility') return changeVisibility;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Builds a function's handler from its app module. The module exports one `create...Handler`
 * factory and one `...DepsFromEnv` factory. When the deps have a `clock` (a {@link Clock}), it is
 * replaced by `clock`, so event time in local mode can run faster than the wall clock; with
 * `speed` > 1, a `queue` that holds messages holds them in event time too ({@link speedScaledQueue}).
 */
export async function loadFunction(
  fn: FunctionName,
  env: Record<string, string>,
  opts: { clock?: Clock; speed?: number; overrides?: Record<string, unknown> } = {},
): Promise<LocalHandler> {
  const path = appModulePath(fn);
  if (!existsSync(path)) throw new FunctionLoadError(`${fn}: ${path} not found`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new FunctionLoadError(`${fn}: cannot import ${path}: ${(cause as Error).message}`, { cause });
  }
  const createName = Object.keys(mod).find((k) => /^create\w*Handler$/.test(k) && typeof mod[k] === 'function');
  const depsName = Object.keys(mod).find((k) => /DepsFromEnv$/.test(k) && typeof mod[k] === 'function');
  if (!createName || !depsName) throw new FunctionLoadError(`${fn}: ${path} must export create...Handler and ...DepsFromEnv (found ${Object.keys(mod).join(', ')})`);
  const depsFromEnv = mod[depsName] as (env: NodeJS.ProcessEnv) => unknown;
  const create = mod[createName] as (deps: unknown) => LocalHandler;
  let deps: unknown;
  try {
    deps = await depsFromEnv({ ...process.env, ...env });
  } catch (cause) {
    throw new FunctionLoadError(`${fn}: ${depsName} failed: ${(cause as Error).message}`, { cause });
  }
  if (deps && typeof deps === 'object') {
    const d = deps as Record<string, unknown>;
    const patched: Record<string, unknown> = { ...d };
    // Overrides replace only what the function's deps already have.
    for (const [k, v] of Object.entries(opts.overrides ?? {})) if (k in d) patched[k] = v;
    if (opts.clock && d.clock && typeof (d.clock as Clock).now === 'function') patched.clock = opts.clock;
    if (opts.speed !== undefined && opts.speed !== 1 && isHoldingQueue(d.queue)) patched.queue = speedScaledQueue(d.queue, opts.speed);
    // Group flushes are delayed messages: a delay in virtual time is waited in real seconds / speed.
    if (opts.speed !== undefined && opts.speed !== 1) {
      for (const k of ['scheduler', 'flushes'] as const) if (isSpeedScalable(d[k])) patched[k] = d[k].withSpeed(opts.speed);
      const g = d.groups as { store?: unknown; scheduler?: unknown } | undefined;
      if (g && isSpeedScalable(g.scheduler)) patched.groups = { ...g, scheduler: g.scheduler.withSpeed(opts.speed) };
    }
    deps = patched;
  }
  return create(deps);
}
