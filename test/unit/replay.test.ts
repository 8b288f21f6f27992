import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InMemoryEvaluator } from '../../shared/core/replay/index.ts';
import { parseRules } from '../../shared/core/rules/index.ts';
import { run, resolveUntil } from '../../cli/replay.ts';
import type { MetricSample } from '../../shared/core/model/index.ts';
import { captureIo } from '../support/cli-io.ts';

const M = 60_000;
const T0 = Date.UTC(2026, 10, 21, 0, 0, 0);

const RULES_YAML = `
rules:
  - id: disk_full
    metric: disk_used_percent
    condition: '>= 95'
    for: 1m
    severity: critical
  - id: heartbeat
    metric: job_heartbeat
    absent: { expected: [ { job: export } ] }
    for: 10m
    severity: high
`;
const RULES = parseRules(RULES_YAML, 'rules.yaml');

const disk = (i: number, value: number): MetricSample => ({ name: 'disk_used_percent', value, timestampMs: T0 + i * M, labels: { instance: 'db-1' } });

describe('InMemoryEvaluator', () => {
  it('reports every change in event-time order, pending ones included, whatever the input order', async () => {
    const ev = new InMemoryEvaluator(RULES);
    const changes = await ev.ingest([disk(2, 97), disk(0, 90), disk(1, 96), disk(3, 80)]);
    expect(changes.filter((c) => c.ruleId === 'disk_full').map((c) => `${c.from}>${c.to}@${(c.atMs - T0) / M}`)).toEqual([
      'inactive>pending@1',
      'pending>firing@2',
      'firing>resolved@3',
    ]);
  });

  it('advances a virtual clock so absence rules fire and stale alerts resolve', async () => {
    const ev = new InMemoryEvaluator(RULES, { staleAfterMs: 5 * M });
    await ev.ingest([disk(0, 99), disk(1, 99)]);
    expect(ev.firing().map((f) => f.rule.id)).toEqual(['disk_full']);
    const later = await ev.advanceTo(T0 + 11 * M);
    // the last disk sample (1m) is in the 5m lookback through 6m (Prometheus 2.x includes a sample exactly 5m old): resolved at 6m + 1 ms
    expect(later.map((c) => `${c.ruleId} ${c.from}>${c.to}@${(c.atMs - T0) / M}`)).toEqual([`disk_full firing>resolved@${(6 * M + 1) / M}`, 'heartbeat inactive>firing@10']);
    expect(ev.firing().map((f) => [f.rule.id, f.labels])).toEqual([['heartbeat', { job: 'export' }]]);
  });

  it('counts out-of-order samples across ingests', async () => {
    const ev = new InMemoryEvaluator(RULES);
    await ev.ingest([disk(5, 90)]);
    await ev.ingest([disk(4, 99), disk(5, 99)]);
    expect(ev.skipped).toBe(2);
  });

  it('takes a batch in arrival order as production does: a late sample in a later batch is skipped, not sorted into place', async () => {
    const ev = new InMemoryEvaluator(RULES);
    // disk(1) arrives after disk(2) was evaluated: production skips it, so the alert goes pending at 2, not 1.
    const changes = [...(await ev.ingestBatch([disk(0, 50)])), ...(await ev.ingestBatch([disk(2, 96)])), ...(await ev.ingestBatch([disk(1, 96)])), ...(await ev.ingestBatch([disk(3, 97)]))];
    expect(changes.filter((c) => c.ruleId === 'disk_full').map((c) => `${c.from}>${c.to}@${(c.atMs - T0) / M}`)).toEqual(['inactive>pending@2', 'pending>firing@3']);
    expect(ev.skipped).toBe(1);
  });

  it('does not evaluate a sample stamped beyond the clock and the future skew, so it cannot blind its series', async () => {
    const ev = new InMemoryEvaluator(RULES, { maxFutureSkewMs: 10 * M });
    await ev.ingestBatch([disk(0, 96)]);
    // A clock at T0+1m: a sample a day ahead is refused, and the series goes on with real samples.
    await ev.ingestBatch([disk(24 * 60, 10)], T0 + M);
    const changes = await ev.ingestBatch([disk(1, 97), disk(2, 98)], T0 + 2 * M);
    expect(ev.future).toBe(1);
    expect(changes.filter((c) => c.ruleId === 'disk_full').map((c) => `${c.from}>${c.to}@${(c.atMs - T0) / M}`)).toEqual(['pending>firing@1']);
  });

  it('refuses new series past a rule series limit and names the label that explodes', async () => {
    const ev = new InMemoryEvaluator(RULES, { seriesLimitPerRule: 3 });
    const burst = Array.from({ length: 10 }, (_, i): MetricSample => ({ name: 'disk_used_percent', value: 99, timestampMs: T0, labels: { instance: 'db-1', request_id: `r${i}` } }));
    await ev.ingestBatch(burst);
    expect(ev.limited).toEqual([{ ruleId: 'disk_full', limit: 3, refusedSeries: 7, refusedSamples: 7, explodingLabel: 'request_id', distinctValues: 7 }]);
    // The three admitted series go on; a fourth is still refused.
    await ev.ingestBatch([{ name: 'disk_used_percent', value: 99, timestampMs: T0 + M, labels: { instance: 'db-1', request_id: 'r0' } }, { name: 'disk_used_percent', value: 99, timestampMs: T0 + M, labels: { instance: 'db-1', request_id: 'new' } }]);
    expect(ev.limited.map((l) => l.refusedSeries)).toEqual([7, 1]);
  });
});


describe('klaxon replay', () => {
  async function files(): Promise<{ rules: string; samples: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-replay-'));
    const rules = join(dir, 'rules.yaml');
    const samples = join(dir, 'samples.jsonl');
    await writeFile(rules, RULES_YAML);
    const lines = [
      JSON.stringify({ name: 'disk_used_percent', value: 96, timestamp: new Date(T0).toISOString(), labels: { instance: 'db-1' } }),
      JSON.stringify([{ metric_name: 'disk_used_percent', value: 97, instance_id: 'db-1', timestamp: T0 + M }, { name: 'job_heartbeat', value: 1, timestamp: T0 + M, labels: { job: 'export' } }]),
      '{"name":"disk_used_percent","value":"oops","timestamp":1795300000000}',
      '',
    ];
    await writeFile(samples, lines.join('\n'));
    return { rules, samples };
  }

  it('prints one JSON line per state change', async () => {
    const f = await files();
    const c = captureIo();
    const code = await run(['--rules', f.rules, '--samples', f.samples], c.io);
    expect(code).toBe(0);
    const lines = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { rule: 'disk_full', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), labels: { alertname: 'disk_full', instance: 'db-1' }, from: 'inactive', to: 'pending', at: '2026-11-21T00:00:00.000Z', value: 96 },
      expect.objectContaining({ rule: 'disk_full', from: 'pending', to: 'firing', at: '2026-11-21T00:01:00.000Z', value: 97 }),
    ]);
    expect(c.err()).toMatch(/samples\.jsonl:3: value: expected a finite number/);
  });

  it('advances to --until so absence rules fire, reading samples from stdin, as a table', async () => {
    const f = await files();
    const input = JSON.stringify({ name: 'job_heartbeat', value: 1, timestamp: T0, labels: { job: 'export' } });
    const c = captureIo(`${input}\n`);
    const code = await run(['--rules', f.rules, '--samples', '-', '--until', '+15m', '--format', 'table'], c.io);
    expect(code).toBe(0);
    const rows = c.out().trim().split('\n');
    expect(rows[0]).toMatch(/^AT\s+RULE\s+FROM\s+TO\s+VALUE\s+LABELS$/);
    expect(rows[1]).toMatch(/^2026-11-21T00:10:00.000Z\s+heartbeat\s+inactive\s+firing\s+-\s+job=export$/);
  });

  it.each([
    // missing --samples
    [['--rules', 'x.yaml'], /--samples is required/],
    [[], /--samples is required/],
    // bad format
    [['--rules', 'x', '--samples', 'y', '--format', 'xml'], /--format must be json or table/],
    [['--bogus'], /unknown argument --bogus/],
  ])('exits 2 on usage errors %j', async (args, message) => {
    const c = captureIo();
    expect(await run(args, c.io)).toBe(2);
    expect(c.err()).toMatch(message);
  });

  it('replays job events beside samples: an error alert fires, a success resolves it, the quiet period resolves another at --until', async () => {
    const f = await files();
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-replay-'));
    await writeFile(join(dir, 'events.yaml'), 'quiet_period: 30m\n');
    const err = (task: string, min: number) => ({ kind: 'error', source: 'airflow', service: 'etl', task, error: { type: 'TimeoutError', message: `timed out after ${min}s` }, timestamp: T0 + min * M });
    const lines = [
      JSON.stringify(err('load', 0)),
      JSON.stringify([err('load', 1), { name: 'disk_used_percent', value: 96, timestamp: T0 + M, labels: { instance: 'db-1' } }, err('export', 1)]),
      JSON.stringify({ kind: 'success', source: 'airflow', service: 'etl', task: 'load', timestamp: T0 + 5 * M }),
      JSON.stringify({ kind: 'error', source: 'airflow', service: 'etl', task: '', error: { type: 'X', message: '' }, timestamp: T0 }),
    ];
    const c = captureIo(`${lines.join('\n')}\n`);
    const code = await run(['--rules', f.rules, '--events', join(dir, 'events.yaml'), '--samples', '-', '--until', '+1h'], c.io);
    expect(code).toBe(0);
    const out = c.out().trim().split('\n').map((l) => JSON.parse(l) as { rule: string; from: string; to: string; at: string; labels: Record<string, string> });
    const errors = out.filter((x) => x.rule.startsWith('error:')).map((x) => `${x.labels.task} ${x.from}>${x.to}@${(Date.parse(x.at) - T0) / M}`);
    // load: fired at 0, resolved by its success at 5; export: fired at 1, quiet for 30m: resolved at 31.
    expect(errors).toEqual(['load inactive>firing@0', 'export inactive>firing@1', 'load firing>inactive@5', 'export firing>inactive@31']);
    expect(out.some((x) => x.rule === 'disk_full')).toBe(true);
    expect(c.err()).toMatch(/-:4: job event: task:/);
  });

  it('exits 1 on an invalid events configuration, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-replay-'));
    await writeFile(join(dir, 'events.yaml'), 'quiet_period: soon\n');
    const c = captureIo();
    expect(await run(['--events', join(dir, 'events.yaml'), '--samples', '-'], c.io)).toBe(1);
    expect(c.err()).toMatch(/events\.yaml: invalid error-events configuration:\n\s+- quiet_period: invalid duration/);
  });

  it('exits 1 on invalid rules, naming the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-replay-'));
    await writeFile(join(dir, 'bad.yaml'), 'rules:\n  - id: x\n    metric: m\n    severity: urgent\n    condition: "> 1"\n');
    const c = captureIo();
    expect(await run(['--rules', join(dir, 'bad.yaml'), '--samples', '-'], c.io)).toBe(1);
    expect(c.err()).toMatch(/bad\.yaml: rule x: rules\[0\]\.severity: /);
  });

  it.each([
    ['+10m', T0 + 10 * M],
    ['2026-11-21T00:05:00Z', T0 + 5 * M],
    [String(T0), T0],
    ['tomorrow', undefined],
  ])('resolves --until %s', (text, expected) => {
    expect(resolveUntil(text, T0)).toBe(expected);
  });
});
