/**
 * `klaxon routes import` against Alertmanager itself: for many alerts, the receivers Klaxon's
 * routing of the imported file reaches are the receivers `amtool config routes test` (Alertmanager
 * 0.25, Debian's `prometheus-alertmanager` package) reaches with the original file. Without amtool
 * on PATH the test is reported skipped, never passed; under CI=true it fails.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { importAlertmanager } from '../../shared/core/dispatch/route/import-alertmanager.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { routeAlert } from '../../shared/core/dispatch/route/routing.ts';
import type { Severity } from '../../shared/core/model/index.ts';

const FIXTURE = new URL('../fixtures/alertmanager/alertmanager.yml', import.meta.url).pathname;
const CI = process.env.CI === 'true';
const amtool = spawnSync('amtool', ['--version'], { encoding: 'utf8' });
const available = amtool.status === 0;

/** Receivers amtool routes these labels to, sorted. */
function amtoolReceivers(labels: Record<string, string>): string[] {
  const r = spawnSync('amtool', ['config', 'routes', 'test', `--config.file=${FIXTURE}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`amtool failed: ${r.stderr}`);
  return r.stdout.trim().split(',').map((s) => s.trim()).filter(Boolean).sort();
}

describe('routes import against Alertmanager (amtool config routes test)', () => {
  const run = available || CI;
  const title = 'routes every generated alert to the receivers Alertmanager 0.25 routes it to';
  it.skipIf(!run)(run ? title : `${title} (skipped: amtool not on PATH; apt-get install prometheus-alertmanager)`, () => {
    expect(available, 'amtool not on PATH (CI=true): apt-get install prometheus-alertmanager').toBe(true);
    const imported = importAlertmanager(parseYaml(readFileSync(FIXTURE, 'utf8')));
    const config = compileRoutes(imported.document, 'imported');
    // Klaxon names back to Alertmanager's (a renamed receiver).
    const amName = (n: string) => (n === 'chat_ops' ? 'chat ops' : n);
    const optional = (values: string[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
    let checked = 0;
    fc.assert(
      fc.property(
        fc.record({
          service: optional(['foo1', 'foo2', 'baz', 'files', 'database', 'other']),
          owner: optional(['team-X', 'team-Y', 'team-Z']),
          team: optional(['chat ops', 'infra']),
          cluster: optional(['eu', 'us']),
        }),
        fc.constantFrom<Severity>('critical', 'high', 'medium', 'low'),
        (raw, severity) => {
          const labels: Record<string, string> = { alertname: 'Probe', severity };
          for (const [k, v] of Object.entries(raw)) if (v !== undefined) labels[k] = v;
          const klaxon = routeAlert(labels, severity, config).receivers.map(amName).sort();
          expect(klaxon, JSON.stringify(labels)).toEqual(amtoolReceivers(labels));
          checked++;
        },
      ),
      { numRuns: 60 },
    );
    expect(checked).toBe(60);
  }, 120_000);
});
