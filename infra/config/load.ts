/**
 * Reads the configuration file (YAML or JSON) named by `-c config=PATH`, `KLAXON_CONFIG` or the
 * default example, merges the `klaxon` context object over it, validates it, and reads the routes
 * file it names. Only `infra/app.ts` calls this: the stacks receive plain values.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseConfig, type KlaxonConfig } from './schema.ts';
import { catalogFromText } from '../../shared/core/enrich/catalog.ts';

/** The configuration file used when none is named. */
export const DEFAULT_CONFIG_FILE = 'examples/klaxon.config.yaml';

/** Where the configuration comes from. */
export interface ConfigSources {
  /** `-c config=PATH` (cdk.json context). */
  readonly contextPath?: string | undefined;
  /** `KLAXON_CONFIG`. */
  readonly envPath?: string | undefined;
  /** `-c klaxon='{...}'` or cdk.json `context.klaxon`: merged over the file, key by key. */
  readonly contextOverrides?: unknown;
  /** Base directory for relative paths (the working directory of `cdk synth`). */
  readonly cwd: string;
}

/** A validated configuration plus the documents it points to. */
export interface LoadedConfig {
  readonly config: KlaxonConfig;
  /** Absolute path of the configuration file read. */
  readonly configFile: string;
  /** Text of the routes file, the value of the routes SSM parameter. */
  readonly routesDocument: string;
  /** The error-events configuration YAML (absent: the built-in classification). */
  readonly eventsDocument?: string;
  /** The service catalog YAML (`enrichment.catalogFile`), checked here so a bad catalog fails the synth with the entry named. */
  readonly catalogDocument?: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges `over` into `base` (objects merged key by key; arrays and scalars replaced; `null` removes the key). */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = mergeConfig(base[k], v);
  }
  return out;
}

/** Loads and validates the configuration; throws {@link ConfigError} with the file and field named. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const named = sources.contextPath ?? sources.envPath ?? DEFAULT_CONFIG_FILE;
  const configFile = isAbsolute(named) ? named : resolve(sources.cwd, named);
  if (!existsSync(configFile)) {
    throw new ConfigError(configFile, [`(file): not found; pass -c config=PATH or set KLAXON_CONFIG (default ${DEFAULT_CONFIG_FILE})`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(configFile, 'utf8'));
  } catch (cause) {
    throw new ConfigError(configFile, [`(file): not valid YAML or JSON: ${(cause as Error).message}`], { cause });
  }
  let overrides = sources.contextOverrides;
  if (typeof overrides === 'string') {
    try {
      overrides = JSON.parse(overrides);
    } catch (cause) {
      throw new ConfigError('context klaxon', [`(root): not valid JSON: ${(cause as Error).message}`], { cause });
    }
  }
  const config = parseConfig(mergeConfig(raw, overrides), configFile);
  const routesFile = isAbsolute(config.routes.file) ? config.routes.file : resolve(sources.cwd, config.routes.file);
  if (!existsSync(routesFile)) {
    throw new ConfigError(configFile, [`routes.file: ${routesFile} not found`]);
  }
  let eventsDocument: string | undefined;
  if (config.events.file !== undefined) {
    const eventsFile = isAbsolute(config.events.file) ? config.events.file : resolve(sources.cwd, config.events.file);
    if (!existsSync(eventsFile)) throw new ConfigError(configFile, [`events.file: ${eventsFile} not found`]);
    eventsDocument = readFileSync(eventsFile, 'utf8');
  }
  let catalogDocument: string | undefined;
  if (config.enrichment.catalogFile !== undefined) {
    const catalogFile = isAbsolute(config.enrichment.catalogFile) ? config.enrichment.catalogFile : resolve(sources.cwd, config.enrichment.catalogFile);
    if (!existsSync(catalogFile)) throw new ConfigError(configFile, [`enrichment.catalogFile: ${catalogFile} not found`]);
    catalogDocument = readFileSync(catalogFile, 'utf8');
    try {
      catalogFromText(catalogDocument, catalogFile);
    } catch (cause) {
      throw new ConfigError(configFile, [`enrichment.catalogFile: ${(cause as Error).message}`], { cause });
    }
  }
  return {
    config,
    configFile,
    routesDocument: readFileSync(routesFile, 'utf8'),
    ...(eventsDocument !== undefined ? { eventsDocument } : {}),
    ...(catalogDocument !== undefined ? { catalogDocument } : {}),
  };
}
