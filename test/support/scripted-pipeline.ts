/**
 * Local mode for an end-to-end test that scripts its own rules and routes (test/e2e/*): the two
 * files written to a temporary folder, no demo source and no console, quick batching, handler logs
 * at ERROR only, a silent local log, and a table/queue prefix of the test's own (several e2e files
 * share the emulators). `extra` adds or overrides any option of `startLocal`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalLog } from '../../local/runtime/log.ts';
import { startLocal, type LocalPipeline, type StartOptions } from '../../local/start.ts';
import { endpoints } from './aws.ts';

/** A local log that writes nothing (the tests read the receivers and the tables instead). */
export const SILENT_LOG: LocalLog = { info() {}, warn() {}, error() {}, rejected() {}, transition() {}, delivery() {} };

/** Starts local mode on `rules` and `routes` (YAML text) for the e2e test `name`. */
export async function startScriptedPipeline(name: string, files: { readonly rules: string; readonly routes: string }, extra: Partial<StartOptions> = {}): Promise<LocalPipeline> {
  const dir = mkdtempSync(join(tmpdir(), `klaxon-e2e-${name}-`));
  writeFileSync(join(dir, 'rules.yaml'), files.rules);
  writeFileSync(join(dir, 'routes.yaml'), files.routes);
  return startLocal({
    endpoints: endpoints(),
    source: { kind: 'none' },
    consolePort: false,
    rulesFile: join(dir, 'rules.yaml'),
    routesFile: join(dir, 'routes.yaml'),
    drainRejected: false,
    maxBatchingWindowMs: 100,
    handlerLogLevel: 'ERROR',
    prefix: `${name}${process.pid}`,
    log: SILENT_LOG,
    ...extra,
  });
}
