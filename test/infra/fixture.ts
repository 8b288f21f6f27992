/**
 * Shared setup of the infra tests: the example configuration, and a throw-away project root with a
 * stub handler for every topology entry, so the stacks can be built with bundling skipped even
 * while the real handlers are being written (NodejsFunction checks that the entry exists).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { mergeConfig, parseConfig, type KlaxonConfig } from '../../infra/config/index.ts';
import { createKlaxonApp, type KlaxonApp } from '../../infra/stacks/klaxon-app.ts';
import { FUNCTIONS } from '../../infra/topology.ts';

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The example configuration file, parsed but not validated. */
export function exampleConfigDocument(): Record<string, unknown> {
  return parseYaml(readFileSync(join(REPO_ROOT, 'examples/klaxon.config.yaml'), 'utf8')) as Record<string, unknown>;
}

/** The example configuration with `overrides` merged over it, validated. */
export function exampleConfig(overrides: unknown = {}): KlaxonConfig {
  return parseConfig(mergeConfig(exampleConfigDocument(), overrides), 'example');
}

/** A project root holding package-lock.json and one stub handler per topology function. */
export function stubProjectRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'klaxon-infra-'));
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}');
  for (const spec of Object.values(FUNCTIONS)) {
    mkdirSync(dirname(join(root, spec.entry)), { recursive: true });
    writeFileSync(join(root, spec.entry), 'export const handler = async () => ({});\n');
  }
  return root;
}

/** Routes document used by the tests. */
export const TEST_ROUTES = 'routes: []\n';

/**
 * The app built from the example config (plus overrides) with bundling skipped. `validate: false`
 * leaves out cdk-nag and CDK's template validation (seconds per file), for tests that only read
 * the template; test/infra/nag.test.ts runs them.
 */
export function synthApp(overrides: unknown = {}, options: { validate?: boolean } = {}): KlaxonApp {
  const validate = options.validate ?? true;
  return createKlaxonApp({
    config: exampleConfig(overrides),
    routesDocument: TEST_ROUTES,
    projectRoot: stubProjectRoot(),
    appProps: { context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: validate },
    nag: validate,
  });
}
