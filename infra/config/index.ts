/**
 * Deployment configuration: the zod schema, the loader used by `infra/app.ts`, and the rendering
 * of the topology's `config` environment sources.
 */
export {
  ConfigError,
  LOG_RETENTION_DAYS,
  MSK_MODES,
  PROVISIONED_DEFAULTS,
  klaxonConfigSchema,
  parseConfig,
  type KlaxonConfig,
  type KlaxonConfigInput,
  type MskConfig,
  type MskMode,
} from './schema.ts';
export { DEFAULT_CONFIG_FILE, loadConfig, mergeConfig, type ConfigSources, type LoadedConfig } from './load.ts';
export { renderConfigValues, type DeployedNames } from './render.ts';
