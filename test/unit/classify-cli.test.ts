/**
 * `klaxon classify`: the `--json` contract (one line per event, in input order), invalid lines
 * named by file and line, custom rules and fingerprint rules, and `classify test` passing and
 * failing with the test named.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../cli/classify.ts';
import { EXIT } from '../../cli/index.ts';
import { captureIo } from '../support/cli-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'classify-cli-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const AIRFLOW = new URL('../../examples/airflow/fixtures/events.jsonl', import.meta.url).pathname;
const EXAMPLE_TESTS = new URL('../../examples/classification.test.yaml', import.meta.url).pathname;

async function classify(args: string[]) {
  const c = captureIo();
  const code = await run(args, c.io);
  return { code, out: c.out(), err: c.err() };
}

const event = (over: Record<string, unknown> = {}) => ({
  kind: 'error',
  source: 'airflow',
  service: 'etl',
  task: 'load',
  error: { type: 'ClientError', message: 'An error occurred (AccessDenied) when calling the GetObject operation: Access Denied' },
  timestamp: '2026-11-28T02:04:10Z',
  ...over,
});

describe('klaxon classify', () => {
  it('prints one JSON line per event of the Airflow example, in input order, with the contract fields', async () => {
    const r = await classify(['--events', AIRFLOW, '--json']);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.rule ?? l.kind)).toEqual(['will-retry', 'tier1-final', 'unclassified', 'success']);
    for (const l of lines.slice(0, 3)) {
      expect(Object.keys(l)).toEqual(expect.arrayContaining(['fingerprint', 'normalized', 'severity', 'rule', 'reasons', 'final']));
      expect(l.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(lines[0]).toMatchObject({ severity: 'low', final: false, normalized: 'load_orders: statement timeout after <duration>' });
    expect(lines[3]).toEqual({ kind: 'success', resolves: 'airflow/etl_daily/publish' });
  });

  it('names an invalid line by file and line, classifies the others, and exits 1', async () => {
    const events = file('mixed.jsonl', [JSON.stringify(event()), '{not json', JSON.stringify(event({ task: '' })), JSON.stringify(event())].join('\n'));
    const r = await classify(['--events', events, '--json']);
    expect(r.code).toBe(EXIT.failed);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => (l.error ? 'error' : l.rule))).toEqual(['credentials', 'error', 'error', 'credentials']);
    expect(r.err).toContain(`${events}:2: not JSON`);
    expect(r.err).toContain(`${events}:3: task:`);
  });

  it('takes custom rules and fingerprint rules', async () => {
    const rules = file('rules.yaml', "rules:\n  - { name: s3, when: { message: 'AccessDenied' }, then: { severity: critical, reason: 'S3 access' } }\n  - { name: rest, then: { severity: medium, reason: other } }\n");
    const fps = file('fps.yaml', "fingerprints:\n  - { name: access, match: { message: 'AccessDenied' }, fingerprint: ['access-denied'] }\n");
    const events = file('two.jsonl', [JSON.stringify(event()), JSON.stringify(event({ service: 'other', task: 'x' }))].join('\n'));
    const r = await classify(['--rules', rules, '--fingerprints', fps, '--events', events, '--json']);
    expect(r.code).toBe(EXIT.ok);
    const [a, b] = r.out.trim().split('\n').map((l) => JSON.parse(l) as { rule: string; severity: string; fingerprint: string });
    expect([a!.rule, a!.severity, b!.rule]).toEqual(['s3', 'critical', 's3']);
    // The fingerprint rule makes the two tasks' failures one alert.
    expect(a!.fingerprint).toBe(b!.fingerprint);
  });

  it('takes the pipeline\'s events configuration as --rules, with its fingerprint rules (the demo\'s)', async () => {
    const demo = new URL('../../local/config/demo-events.yaml', import.meta.url).pathname;
    const events = file('s3.jsonl', [JSON.stringify(event({ error: { type: 'ClientError', message: 'An error occurred (AccessDenied)\ns3://a/1.parquet' } })), JSON.stringify(event({ error: { type: 'ClientError', message: 'An error occurred (AccessDenied)\ns3://b/2.parquet' } }))].join('\n'));
    const r = await classify(['--rules', demo, '--events', events, '--json']);
    expect(r.code).toBe(EXIT.ok);
    const [a, b] = r.out.trim().split('\n').map((l) => JSON.parse(l) as { rule: string; fingerprint: string });
    expect(a!.rule).toBe('credentials');
    expect(a!.fingerprint).toBe(b!.fingerprint);
    const bad = file('bad-events.yaml', 'quiet_period: soon\n');
    const r2 = await classify(['--rules', bad, '--events', events]);
    expect(r2.code).toBe(EXIT.failed);
    expect(r2.err).toMatch(/quiet_period: invalid duration/);
  });

  it('refuses bad rules naming the field', async () => {
    const rules = file('bad.yaml', "rules:\n  - { name: x, when: { message: 'a(b' }, then: { severity: high, reason: r } }\n  - { name: rest, then: { severity: medium, reason: other } }\n");
    const r = await classify(['--rules', rules, '--events', AIRFLOW]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.err).toContain('rules[0].when.message');
  });

  it('prints the built-in rules', async () => {
    const r = await classify(['--print-defaults']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain('tier1-final');
  });
});

describe('klaxon classify test', () => {
  it('passes the example tests of the built-in rules', async () => {
    const r = await classify(['test', EXAMPLE_TESTS]);
    expect(r.out).toContain('5 passed, 0 failed');
    expect(r.code).toBe(EXIT.ok);
  });

  it('fails a wrong expectation and a wrong fingerprint equality, naming the test and what differed', async () => {
    const tests = file(
      'wrong.test.yaml',
      `tests:
  - name: expects the wrong severity
    event: ${JSON.stringify(event())}
    expect: { severity: low }
  - name: two tasks are not one alert
    events: [${JSON.stringify(event())}, ${JSON.stringify(event({ task: 'other' }))}]
    same_fingerprint: true
`,
    );
    const r = await classify(['test', tests]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.out).toContain('tests[0] (expects the wrong severity)');
    expect(r.out).toContain('severity: expected low, got high (rule credentials)');
    expect(r.out).toContain('same_fingerprint: expected one fingerprint, got 2');
    expect(r.out).toContain('0 passed, 2 failed');
  });

  it('refuses a test without expectations', async () => {
    const tests = file('empty.test.yaml', `tests:\n  - name: nothing\n    event: ${JSON.stringify(event())}\n`);
    const r = await classify(['test', tests]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.err).toContain('give expect or same_fingerprint');
  });
});
