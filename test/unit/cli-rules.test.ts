import { mkdtemp, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../cli/rules.ts';
import { billionLaughs } from '../support/billion-laughs.ts';
import { captureIo } from '../support/cli-io.ts';


async function dir(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'klaxon-rules-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
  return d;
}

const GOOD = "rules:\n  - id: a\n    metric: m\n    condition: '> 1'\n    severity: low\n";

describe('klaxon rules validate', () => {
  it('exits 0 for valid files', async () => {
    const d = await dir({ 'a.yaml': GOOD });
    const c = captureIo();
    expect(await run(['validate', join(d, 'a.yaml'), 'examples/rules.yaml'], c.io)).toBe(0);
    expect(c.out()).toBe('7 rule(s) valid in 2 file(s)\n');
  });

  it('exits 1 listing every issue as FILE: rule <id>: <path>: <message>', async () => {
    const d = await dir({
      'bad.yaml': "rules:\n  - id: a\n    metric: m\n    condition: '> 1'\n    severity: urgent\n    for: soon\n  - id: b\n    metric: m\n    condition: '> 1'\n    severity: low\n    labels: { v: '{{ $value }}' }\n",
    });
    const file = join(d, 'bad.yaml');
    const c = captureIo();
    expect(await run(['validate', file, join(d, 'missing.yaml')], c.io)).toBe(1);
    const lines = c.out().trim().split('\n');
    expect(lines).toEqual([
      `${file}: rule a: rules[0].for: expected a duration like 30s, 5m or 1h30m (units w d h m s ms, largest first)`,
      expect.stringMatching(new RegExp(`^${file}: rule a: rules\\[0\\]\\.severity: `)),
      `${file}: rule b: rules[1].labels.v: templating $value into a label is not allowed: it changes the alert identity at every sample (put it in an annotation)`,
      expect.stringMatching(new RegExp(`^${join(d, 'missing.yaml')}: cannot read: ENOENT`)),
    ]);
  });

  const EMPTY_FOR = "rules:\n  - id: a\n    metric: m\n    condition: '> 1'\n    for: ''\n    severity: low\n  - id: b\n    metric: m\n    condition: 'high'\n    severity: low\n";
  it.each([
    // an empty `for` used to crash the command with a stack trace, hiding rule b's problem
    [
      'an empty for',
      EMPTY_FOR,
      [
        'rule a: rules[0].for: expected a duration like 30s, 5m or 1h30m (units w d h m s ms, largest first)',
        "rule b: rules[1].condition: expected a comparison like '> 80' (operators > >= < <= == !=)",
      ],
    ],
    // a billion-laughs file used to crash it with the yaml package's ReferenceError
    ['a billion-laughs file', billionLaughs(5), ['too many YAML alias expansions (more than 100): the document expands like a billion-laughs attack']],
  ])('exits 1 on %s, printing every problem as FILE: ... (never a stack trace)', async (_name, text, problems) => {
    const d = await dir({ 'bad.yaml': text });
    const file = join(d, 'bad.yaml');
    const c = captureIo();
    expect(await run(['validate', file, 'examples/rules.yaml'], c.io)).toBe(1);
    expect(c.out()).toBe(problems.map((p) => `${file}: ${p}\n`).join(''));
    expect(c.err()).toBe(`${problems.length} problem(s) found\n`);
  });

  it('rejects the same id in two files', async () => {
    const d = await dir({ 'a.yaml': GOOD, 'b.yaml': GOOD });
    const c = captureIo();
    expect(await run(['validate', join(d, 'a.yaml'), join(d, 'b.yaml')], c.io)).toBe(1);
    expect(c.out()).toBe(`${join(d, 'b.yaml')}: rule a: id: duplicate rule id (also defined in ${join(d, 'a.yaml')})\n`);
  });

  it('exits 2 without files or with an unknown subcommand', async () => {
    expect(await run(['validate'], captureIo().io)).toBe(2);
    const c = captureIo();
    expect(await run(['frobnicate'], c.io)).toBe(2);
    expect(c.err()).toMatch(/unknown subcommand 'frobnicate'/);
  });
});

describe('klaxon rules test', () => {
  it('passes the example tests', async () => {
    const c = captureIo();
    expect(await run(['test', 'examples/rules.test.yaml'], c.io)).toBe(0);
    expect(c.out()).toMatch(/SUCCESS \(2 test\(s\), 5 alert check\(s\)\)/);
  });

  it('exits 1 with a readable diff when an expectation fails', async () => {
    const d = await dir({
      'rules.yaml': GOOD,
      't.yaml': "rule_files: ['rule*.yaml']\ntests:\n  - name: fires\n    input_series:\n      - series: 'm{x=\"1\"}'\n        values: '0 5'\n    alert_rule_test:\n      - eval_time: 1m\n        alertname: a\n        exp_alerts: []\n",
    });
    const c = captureIo();
    expect(await run(['test', join(d, 't.yaml')], c.io)).toBe(1);
    expect(c.out()).toContain('FAILED (1 of 1 alert check(s))');
    expect(c.out()).toContain('fires: alertname a, time 1m: expected 0 firing alert(s), got 1');
    expect(c.out()).toContain('+ got:      labels {x="1"}');
  });

  it.each([
    // the test file itself expands like a billion laughs
    ['the test file', (t: string) => ({ 't.yaml': t, 'r.yaml': GOOD }), 't.yaml'],
    // a rule file the test points at does
    ['a rule file it reads', (t: string) => ({ 't.yaml': "rule_files: [r.yaml]\ntests: []\n", 'r.yaml': t }), 'r.yaml'],
  ])('exits 1 naming the file when %s has too many YAML aliases', async (_name, files, culprit) => {
    const d = await dir(files(billionLaughs(5)));
    const c = captureIo();
    expect(await run(['test', join(d, 't.yaml')], c.io)).toBe(1);
    expect(c.out()).toBe(`Unit testing: ${join(d, 't.yaml')}\n  ${join(d, culprit)}: too many YAML alias expansions (more than 100): the document expands like a billion-laughs attack\n`);
  });

  it('reports invalid rule files the test points at', async () => {
    const d = await dir({ 't.yaml': "rule_files: [r.yaml]\ntests: []\n", 'r.yaml': 'rules:\n  - id: a\n' });
    await copyFile(join(d, 't.yaml'), join(d, 't2.yaml'));
    const c = captureIo();
    expect(await run(['test', join(d, 't2.yaml')], c.io)).toBe(1);
    expect(c.out()).toMatch(/r\.yaml: rule a: rules\[0\]\.metric: /);
  });
});
