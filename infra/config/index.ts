/**
 * Deployment configuration: the zod schema, the loader used by `infra/app.ts`, and the rendering
 * of the topology's `config` environment sources.
 */
export { ConfigError, LOG_RETENTION_DAYS, klaxonConfigSchema, parseConfig, type KlaxonConfig, type KlaxonConfigInput } from './schema.ts';
export { DEFAULT_CONFIG_FILE, loadConfig, mergeConfig, type ConfigSources, type LoadedConfig } from './load.ts';
export { renderConfigValues, type DeployedNames } from './render.ts';
