/**
 * Where the error-events configuration comes from (shared/core/events/config.ts): an SSM
 * parameter (AWS, `EVENTS_SSM_PARAMETER`), a YAML file (local mode and tests, `EVENTS_FILE`), or
 * the built-in defaults when neither is set; cached for a TTL on an injected clock.
 *
 * As with routes, a reload that fails (a bad edit pushed to SSM, a throttled GetParameter) keeps
 * serving the last good configuration and reports the error: events must not stop being
 * classified because a configuration change was broken. The first load must succeed: a bad
 * configuration fails the function's init, with the problem named.
 */
import { readFile } from 'node:fs/promises';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../../core/model/index.ts';
import { DEFAULT_EVENTS_CONFIG, EventsConfigError, eventsConfigFromText, type EventsConfig } from '../../core/events/config.ts';
import { LastGoodCache } from '../cache/last-good-cache.ts';

/** Where the configuration is. */
export type EventsLocation = { readonly kind: 'defaults' } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'ssm'; readonly name: string };

/** How long a loaded configuration is used before it is read again. */
export const EVENTS_CACHE_TTL_MS = 60_000;

/** Gives the current configuration. */
export interface EventsConfigSource {
  current(): Promise<EventsConfig>;
}

/** Reads and compiles an events YAML file. Throws {@link EventsConfigError} (also for a missing file). */
export async function loadEventsFile(path: string): Promise<EventsConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new EventsConfigError(path, [`cannot read: ${(cause as Error).message}`], { cause });
  }
  return eventsConfigFromText(text, path);
}

/** Reads and compiles the events YAML held in an SSM parameter. */
export async function loadEventsParameter(ssm: SSMClient, name: string): Promise<EventsConfig> {
  const r = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  return eventsConfigFromText(r.Parameter?.Value ?? '', `ssm:${name}`);
}

/** A source that never changes. */
export function fixedEventsConfig(config: EventsConfig = DEFAULT_EVENTS_CONFIG): EventsConfigSource {
  return { current: () => Promise.resolve(config) };
}

/** Caches a loader's result for `ttlMs`; serves the last good configuration when a reload fails. */
export class CachedEventsConfig extends LastGoodCache<EventsConfig> implements EventsConfigSource {
  current(): Promise<EventsConfig> {
    return this.get();
  }
}

/** The location from a function's environment: `EVENTS_FILE` wins (local mode), then `EVENTS_SSM_PARAMETER`, else the defaults. */
export function eventsLocationFromEnv(env: NodeJS.ProcessEnv): EventsLocation {
  const file = env.EVENTS_FILE?.trim();
  if (file) return { kind: 'file', path: file };
  const name = env.EVENTS_SSM_PARAMETER?.trim();
  if (name) return { kind: 'ssm', name };
  return { kind: 'defaults' };
}

/** The source of a location, loaded once now (a bad configuration fails the init). */
export async function eventsConfigSource(loc: EventsLocation, clock: Clock, onStale: (err: unknown) => void, ttlMs = EVENTS_CACHE_TTL_MS): Promise<EventsConfigSource> {
  if (loc.kind === 'defaults') return fixedEventsConfig();
  const ssm = loc.kind === 'ssm' ? new SSMClient({}) : undefined;
  const source = new CachedEventsConfig({ load: () => (loc.kind === 'file' ? loadEventsFile(loc.path) : loadEventsParameter(ssm!, loc.name)), clock, ttlMs, onStale });
  await source.current();
  return source;
}
