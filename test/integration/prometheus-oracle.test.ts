/**
 * Prometheus as the oracle of time-based ends. test/fixtures/prometheus-oracle/scenarios.yml is a
 * promtool rule-test file (series that stop, pause, resume exactly at the lookback end, keep firing,
 * windows that outlive or end before the lookback, a rate), with the firing alerts at every minute
 * 0-15m of each scenario. Two engines must pass the same file:
 * - promtool (Prometheus 2.42, Debian's `prometheus` package) against prometheus-rules.yml: the
 *   expectations are what Prometheus computes. Without promtool on PATH the test is reported
 *   skipped, never passed; under CI=true it fails.
 * - Klaxon's replay (the promtool-format runner, shared/core/promtool) against klaxon-rules.yml,
 *   the same rules in Klaxon's format: always.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseRuleTestFile, runRuleTests } from '../../shared/core/promtool/index.ts';
import { parseRules } from '../../shared/core/rules/index.ts';

const DIR = join(import.meta.dirname, '../fixtures/prometheus-oracle');
const SCENARIOS = join(DIR, 'scenarios.yml');

function promtoolVersion(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}

const version = promtoolVersion();
const CI = process.env.CI === 'true';

describe('time-based ends against Prometheus (promtool test rules)', () => {
  const title = 'promtool passes the scenarios (the expectations are Prometheus 2.42 behaviour)';
  // Under CI a missing promtool runs the test, which fails on the missing binary below.
  const run = version !== undefined || CI;
  it.skipIf(!run)(run ? title : `${title} (skipped: promtool not on PATH; apt-get install prometheus)`, () => {
    expect(version, 'promtool not on PATH (CI=true): apt-get install prometheus').toBeDefined();
    const r = spawnSync('promtool', ['test', 'rules', 'scenarios.yml'], { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('Klaxon replays the same series to the same firing alerts at every evaluation time', async () => {
    const spec = parseRuleTestFile(parse(readFileSync(SCENARIOS, 'utf8')), SCENARIOS);
    const rules = parseRules(readFileSync(join(DIR, 'klaxon-rules.yml'), 'utf8'), 'klaxon-rules.yml');
    const res = await runRuleTests(spec, rules);
    expect(res.failures.map((f) => `${f.test}: ${f.message}`)).toEqual([]);
    // every scenario and minute was compared (11 scenarios × 16 evaluation times)
    expect(res.cases).toBe(176);
  });
});
