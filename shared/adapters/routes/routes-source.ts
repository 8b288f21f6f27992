/**
 * Where the routes config comes from: a YAML file (local mode, the CLI), an SSM parameter (AWS),
 * or the built-in defaults; cached for a TTL on an injected clock.
 *
 * A reload that fails (a bad edit pushed to SSM, a throttled GetParameter) keeps serving the last
 * good config and reports the error: routing must not stop because a config change was broken.
 */
import { readFile } from 'node:fs/promises';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parse as parseYaml } from 'yaml';
import { compileRoutes, DEFAULT_RECEIVER_SETTINGS, RoutesConfigError, type DefaultReceiverSettings } from '../../core/dispatch/route/routes-config.ts';
import type { RoutingConfig } from '../../core/dispatch/route/routing.ts';
import type { Clock } from '../../core/model/index.ts';
import type { RoutesSource } from '../../core/dispatch/ports.ts';
import { fixedRoutes } from '../../core/dispatch/in-memory.ts';
import type { RoutesLocation } from '../../config/dispatch.ts';
import { LastGoodCache, type LastGoodCacheOptions } from '../cache/last-good-cache.ts';

// The port is declared in core (shared/core/dispatch/ports.ts); re-exported for callers of this adapter.
export type { RoutesSource };

/** Parses YAML (JSON is YAML) text into a compiled config. Throws {@link RoutesConfigError}. */
export function routesFromText(text: string, source: string, defaults: DefaultReceiverSettings = DEFAULT_RECEIVER_SETTINGS): RoutingConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new RoutesConfigError(source, [`not valid YAML: ${(cause as Error).message}`], { cause });
  }
  return compileRoutes(doc, source, defaults);
}

/** Reads and compiles a routes YAML file. Throws {@link RoutesConfigError} (also for a missing file). */
export async function loadRoutesFile(path: string, defaults: DefaultReceiverSettings = DEFAULT_RECEIVER_SETTINGS): Promise<RoutingConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new RoutesConfigError(path, [`cannot read: ${(cause as Error).message}`], { cause });
  }
  return routesFromText(text, path, defaults);
}

/** Reads and compiles the routes YAML held in an SSM parameter (String or SecureString). */
export async function loadRoutesParameter(ssm: SSMClient, name: string, defaults: DefaultReceiverSettings = DEFAULT_RECEIVER_SETTINGS): Promise<RoutingConfig> {
  const r = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  return routesFromText(r.Parameter?.Value ?? '', `ssm:${name}`, defaults);
}

/** A source that never changes (the built-in defaults, or a config built in a test): core's {@link fixedRoutes}. */
export const staticRoutesSource: (config: RoutingConfig) => RoutesSource = fixedRoutes;

/** Options of {@link CachedRoutesSource}. */
export type CachedRoutesOptions = LastGoodCacheOptions<RoutingConfig>;

/** Caches a loader's result for `ttlMs` on the injected clock; serves the last good config when a reload fails. */
export class CachedRoutesSource extends LastGoodCache<RoutingConfig> implements RoutesSource {}

/**
 * The routes source of a function from its settings (dispatch, flush-groups): the built-in
 * defaults, or a file or SSM parameter read through {@link CachedRoutesSource}. Reads once, so a
 * bad config fails the function's init rather than every message after it.
 */
export async function routesSourceFromSettings(
  s: { readonly routes: RoutesLocation; readonly defaultReceiver: DefaultReceiverSettings; readonly routesCacheTtlMs: number },
  clock: Clock,
  onStale: (err: unknown) => void,
): Promise<RoutesSource> {
  const loc = s.routes;
  if (loc.kind === 'defaults') return staticRoutesSource(compileRoutes(undefined, 'built-in defaults', s.defaultReceiver));
  const ssm = loc.kind === 'ssm' ? new SSMClient({}) : undefined;
  const routes = new CachedRoutesSource({
    load: () => (loc.kind === 'file' ? loadRoutesFile(loc.path, s.defaultReceiver) : loadRoutesParameter(ssm!, loc.name, s.defaultReceiver)),
    clock,
    ttlMs: s.routesCacheTtlMs,
    onStale,
  });
  await routes.get();
  return routes;
}
