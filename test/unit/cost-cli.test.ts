/**
 * `klaxon cost`: flags to a scenario, the figures file (or the defaults in code), table and JSON
 * output, and usage errors that name the flag.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deploymentShape, loadFigures, run } from '../../cli/cost.ts';
import { COMMANDS } from '../../cli/index.ts';
import { COMPONENTS, DEFAULT_FIGURES, type CostEstimate } from '../../shared/core/cost/index.ts';
import { captureIo } from '../support/cli-io.ts';


async function tmpFile(name: string, text: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'klaxon-cost-'));
  await writeFile(join(d, name), text);
  return join(d, name);
}

const ISSUE = ['--series', '10000', '--rules-per-series', '5', '--interval', '10s'];

async function json(args: readonly string[]): Promise<CostEstimate & { note: string }> {
  const c = captureIo();
  expect(await run([...args, '--json'], c.io)).toBe(0);
  return JSON.parse(c.out()) as CostEstimate & { note: string };
}

describe('klaxon cost', () => {
  it('is a command of the CLI', async () => {
    expect(COMMANDS.cost!.summary).toMatch(/^cost --series N --rules-per-series M --interval 10s/);
    expect((await COMMANDS.cost!.load()).run).toBe(run);
  });

  it('prints every component, the totals and the comparisons, saying where the figures come from', async () => {
    const c = captureIo();
    expect(await run(ISSUE, c.io)).toBe(0);
    const out = c.out();
    for (const component of COMPONENTS) expect(out).toMatch(new RegExp(`^${component.replace('.', '\\.')} +\\$`, 'm'));
    expect(out).toMatch(/^total +\$[\d,]+\.\d\d +\$[\d,]+\.\d\d {2}\(fixed: charged with no traffic\)$/m);
    expect(out).toMatch(/^CloudWatch alarms: +\$8,000\.00 \(\$5,000\.00 for 50,000 alarms \+ \$3,000\.00 custom metrics;/m);
    expect(out).toMatch(/^Prometheus self-hosted: \$13\.86 \(t4g\.small \+ 20 GB gp3;/m);
    expect(out).toMatch(/figures from docs\/cost-figures\.json \(measured \d{4}-\d\d-\d\d\)/);
  });

  it('takes the deployment shape from the topology', () => {
    expect(deploymentShape()).toEqual({
      memoryMb: { evaluator: 1024, timers: 512, dispatch: 512, channel: 256 },
      evaluatorBatchSize: 1000,
      timersEveryMinutes: 1,
      // dispatch, flush-groups, the four channels (webhook included), the interactions worker,
      // remediate, enrich-followup.
      polledQueues: 9,
      // Slack, PagerDuty, the PagerDuty webhook secret, the outgoing webhooks' signing secrets.
      secrets: 4,
      // 7 of the pipeline, 3 of the interactions endpoint, one per dead-letter queue (9), two per
      // delivery channel (8): what test/infra/pipeline-stack.test.ts finds in the synthesized stack.
      alarms: 27,
      dashboards: 1,
    });
  });

  it('models the batching window and batch size: 6 samples per batch when 10,000-record batches hold them', async () => {
    const deployed = await json(ISSUE);
    const batched = await json([...ISSUE, '--batching', '60s', '--batch-size', '10000']);
    expect(deployed.quantities.samplesPerSeriesPerBatch).toBe(1);
    expect(batched.quantities.samplesPerSeriesPerBatch).toBe(6);
    // 1,000-record batches every second against 10,000-record batches (a thousand records a second
    // either way: ten times fewer invocations), and fewer sample log
    // write units (bigger segments, fewer started kilobytes, each series once per segment)
    expect(deployed.quantities.evaluatorInvocations / batched.quantities.evaluatorInvocations).toBeCloseTo(10, 0);
    expect(batched.quantities.wruPerMonth).toBeLessThan(deployed.quantities.wruPerMonth);
  });

  it('reads a mix file: only avg over 1h reads more than only thresholds (a rebuild reads its hour of samples back)', async () => {
    const thresholds = await json([...ISSUE, '--mix', await tmpFile('mix.yaml', 'threshold-for-1m: 1\n')]);
    const hours = await json([...ISSUE, '--mix', await tmpFile('mix.json', '{"avg-1h": 1}')]);
    expect(hours.quantities.rruPerMonth).toBeGreaterThan(thresholds.quantities.rruPerMonth);
    expect(hours.quantities.wruPerMonth).toBeCloseTo(thresholds.quantities.wruPerMonth, -3); // the same refreshes and log
  });

  it('charges the provisioned MSK event source per EPU-hour', async () => {
    const e = await json([...ISSUE, '--msk', 'provisioned', '--min-pollers', '20']);
    expect(e.lines.find((l) => l.component === 'msk.eventSource')).toMatchObject({ monthly: 270.1, fixed: 270.1 });
  });

  it('uses the defaults in code when docs/cost-figures.json is missing, and says so', async () => {
    const { figures, note } = await loadFigures(undefined, join(tmpdir(), 'no-such-dir', 'cost-figures.json'));
    expect(figures).toBe(DEFAULT_FIGURES);
    expect(note).toBe(`docs/cost-figures.json missing: using ${DEFAULT_FIGURES.source}`);
  });

  it.each([
    // a negative count
    [['--series', '-5', '--rules-per-series', '5', '--interval', '10s'], "--series: expected a positive number, got '-5'"],
    // an interval that is not a duration
    [['--series', '10', '--rules-per-series', '5', '--interval', 'often'], "--interval: expected a duration like 10s, 1m or 1h30m, got 'often'"],
    // a zero interval
    [['--series', '10', '--rules-per-series', '5', '--interval', '0'], "--interval: expected a positive duration, got '0'"],
    // a flag left out
    [['--series', '10', '--interval', '10s'], '--rules-per-series: is required'],
    // an unknown MSK mode
    [[...ISSUE, '--msk', 'serverless'], "--msk: expected on-demand or provisioned, got 'serverless'"],
    // a flag without its value
    [[...ISSUE, '--batching'], '--batching: needs a value'],
    // an unknown flag
    [[...ISSUE, '--region', 'eu-west-1'], '--region: unknown option'],
    // a figures file that does not exist
    [[...ISSUE, '--figures', '/nonexistent/figures.json'], '--figures: cannot read /nonexistent/figures.json'],
  ])('exits 2 on %o naming the flag', async (args, message) => {
    const c = captureIo();
    expect(await run(args, c.io)).toBe(2);
    expect(c.err()).toMatch(new RegExp(`^klaxon cost: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(c.err()).toContain('Usage: klaxon cost');
    expect(c.out()).toBe('');
  });

  it.each([
    // a kind the model does not know
    ['mix.yaml', 'p99-5m: 1\n', "--mix: FILE: unknown rule kind 'p99-5m' (kinds: threshold-for-1m, avg-5m, quantile-15m, avg-1h)"],
    // a weight that is not a number
    ['mix.yaml', 'avg-5m: lots\n', '--mix: FILE: avg-5m: expected a weight >= 0, got "lots"'],
    // every weight zero
    ['mix.yaml', 'avg-5m: 0\n', 'mix: no rule kind has a positive weight'],
  ])('exits 2 on a bad mix file (%s: %j)', async (name, text, message) => {
    const file = await tmpFile(name, text);
    const c = captureIo();
    expect(await run([...ISSUE, '--mix', file], c.io)).toBe(2);
    expect(c.err().split('\n')[0]).toBe(`klaxon cost: ${message.replace('FILE', file)}${message.startsWith('mix:') ? ' (kinds: threshold-for-1m, avg-5m, quantile-15m, avg-1h)' : ''}`);
  });

  it('exits 2 on a figures file that is not valid, naming the field', async () => {
    const file = await tmpFile('figures.json', JSON.stringify({ kinds: { ...DEFAULT_FIGURES.kinds, 'avg-1h': { rru: { batch1: 1, batch6: 1 }, wru: { batch1: 1 }, itemBytes: 1 } } }));
    const c = captureIo();
    expect(await run([...ISSUE, '--figures', file], c.io)).toBe(2);
    expect(c.err().split('\n')[0]).toBe(`klaxon cost: ${file}: kinds.avg-1h.wru.batch6: expected a finite number >= 0, got undefined`);
  });
});
