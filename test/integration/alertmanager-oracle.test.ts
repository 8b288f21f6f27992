/**
 * `klaxon routes import` against Alertmanager itself: for many alerts, the receivers Klaxon's
 * routing of the imported file reaches are the receivers `amtool config routes test` (Alertmanager
 * 0.25, Debian's `prometheus-alertmanager` package) reaches with the original file. Without amtool
 * on PATH the test is reported skipped, never passed; under CI=true it fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Receivers amtool routes these labels to with the configuration `file`, sorted. */
function amtoolReceivers(labels: Record<string, string>, file = FIXTURE): string[] {
  const r = spawnSync('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)], { encoding: 'utf8', timeout: 30_000 });
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

  const escTitle = 'reads matcher escapes as Alertmanager does: \\. stays an escaped dot in a regex, \\\\ a backslash';
  it.skipIf(!run)(run ? escTitle : `${escTitle} (skipped: amtool not on PATH)`, () => {
    expect(available, 'amtool not on PATH (CI=true): apt-get install prometheus-alertmanager').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'am-esc-'));
    const file = join(dir, 'am.yml');
    // YAML single quotes keep backslashes: the matchers are host=~"db\.example" and path="C:\\temp".
    writeFileSync(
      file,
      [
        "global: { smtp_smarthost: 'localhost:25', smtp_from: 'am@example.org' }",
        'route:',
        '  receiver: root',
        '  routes:',
        `    - matchers: ['host=~"db\\.example"']`,
        '      receiver: esc',
        `    - matchers: ['path="C:\\\\temp"']`,
        '      receiver: windows',
        'receivers: [{ name: root, email_configs: [{ to: r@example.org }] }, { name: esc, email_configs: [{ to: e@example.org }] }, { name: windows, email_configs: [{ to: w@example.org }] }]',
        '',
      ].join('\n'),
    );
    const config = compileRoutes(importAlertmanager(parseYaml(readFileSync(file, 'utf8'))).document, 'imported');
    const cases: Record<string, string>[] = [{ host: 'db.example' }, { host: 'dbXexample' }, { path: 'C:\\temp' }, { path: 'C:temp' }];
    for (const labels of cases) expect(routeAlert(labels, 'low', config).receivers, JSON.stringify(labels)).toEqual(amtoolReceivers(labels, file));
    // What Alertmanager says, so the comparison above cannot pass vacuously.
    expect(cases.map((l) => amtoolReceivers(l, file)[0])).toEqual(['esc', 'root', 'windows', 'root']);
  });
});
