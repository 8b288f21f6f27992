import { PassThrough } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../cli/routes.ts';
import { EXIT } from '../../cli/index.ts';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await run(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, out, err };
}

const example = new URL('../../examples/routes.yaml', import.meta.url).pathname;

describe('klaxon routes test', () => {
  it('prints the matched routes, receivers and channels', async () => {
    const r = await cli(['test', '--routes', example, '--severity', 'critical', 'team=db', 'env=prod']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain('severity: critical');
    expect(r.out).toContain('matched routes[0] {env="prod"} -> audit');
    expect(r.out).toContain('matched routes[1] {team="db"} -> db-team');
    expect(r.out).toMatch(/db-team: email \(email:[0-9a-f]{16}\), slack \(slack:channel:C0DBTEAM\), pagerduty \(pagerduty:db\)/);
  });

  it('takes the severity from the severity label, and says when nothing is sent', async () => {
    const r = await cli(['test', `--routes=${example}`, 'team=ops', 'severity=low']);
    expect(r.out).toContain('severity: low');
    expect(r.out).toContain('default: no channel for this severity (recorded only)');
  });

  it('prints JSON with --json', async () => {
    const r = await cli(['test', '--routes', example, '--json', '--severity', 'medium', 'team=db', 'env=dev']);
    const j = JSON.parse(r.out) as { routes: { path: string }[]; targets: { receiver: string; channel: string }[] };
    expect(j.routes.map((x) => x.path)).toEqual(['routes[1].routes[0]']);
    expect(j.targets).toEqual([
      { receiver: 'data-platform', channel: 'slack', destinationId: 'slack:webhook:data', route: 'routes[1].routes[0]' },
      { receiver: 'data-platform', channel: 'email', destinationId: expect.stringMatching(/^email:/) as unknown as string, route: 'routes[1].routes[0]' },
    ]);
  });

  it.each<[string, string, number]>([
    // exactly the receivers reached, in any order
    ['the receivers reached', 'db-team,audit', EXIT.ok],
    ['repeated names', 'audit,db-team,audit', EXIT.ok],
    // one missing, one extra
    ['one of them only', 'db-team', EXIT.failed],
    ['one more', 'db-team,audit,default', EXIT.failed],
  ])('--verify-receivers with %s exits %i (as amtool --verify.receivers)', async (_what, expected, code) => {
    const r = await cli(['test', '--routes', example, '--severity', 'critical', '--verify-receivers', expected, 'team=db', 'env=prod']);
    expect(r.code).toBe(code);
    if (code !== EXIT.ok) expect(r.err).toContain('receivers did not match: expected');
  });

  it.each<[string, string[]]>([
    // an empty expectation
    ['empty --verify-receivers', ['test', '--verify-receivers', ',', 'a=b']],
    // no subcommand
    ['no subcommand', []],
    // no labels
    ['no labels', ['test']],
    // a bad severity
    ['bad severity', ['test', '--severity', 'urgent', 'a=b']],
    // not label=value
    ['bad label', ['test', 'a']],
    // unknown option
    ['unknown option', ['test', '--tree', 'a=b']],
  ])('exits 2 on a usage error: %s', async (_name, args) => {
    const r = await cli(args);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('Usage: klaxon routes test');
  });

  it('exits 1 naming the file and field for an invalid routes file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klaxon-routes-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'routes:\n  - matchers: [\'team=~"("\']\n');
    const r = await cli(['test', '--routes', file, 'team=x']);
    expect(r.code).toBe(EXIT.failed);
    expect(r.err).toContain(`${file}: invalid routes config`);
    expect(r.err).toContain('routes[0].matchers[0]');
  });
});

describe('klaxon routes show', () => {
  it('prints the tree with matchers, receivers and continue, then the receivers and their channels', async () => {
    const r = await cli(['show', '--routes', example]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain(`routes: ${example}`);
    expect(r.out).toMatch(/^root \{\} -> default$/m);
    expect(r.out).toMatch(/^ {2}routes\[0\] \{env="prod"\} -> audit continue$/m);
    expect(r.out).toMatch(/^ {4}routes\[1\]\.routes\[0\] \{.*\} -> data-platform/m);
    expect(r.out).toMatch(/^ {2}db-team: slack, email, pagerduty$/m);
  });

  it('prints JSON with --json, children nested', async () => {
    const r = await cli(['show', '--routes', example, '--json']);
    const j = JSON.parse(r.out) as { root: { path: string; routes: { path: string; continue: boolean; routes: { path: string }[] }[] }; receivers: { name: string }[] };
    expect(j.root.path).toBe('root');
    expect(j.root.routes.map((x) => x.path)).toEqual(['routes[0]', 'routes[1]', 'routes[2]']);
    expect(j.root.routes[1]!.routes.map((x) => x.path)).toEqual(['routes[1].routes[0]']);
    expect(j.receivers.map((x) => x.name)).toContain('db-team');
  });

  it("shows each route's time intervals, and a severity lowering where it is declared", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-show-'));
    const f = join(dir, 'routes.yaml');
    writeFileSync(
      f,
      `time_intervals:
  - { name: weekends, time_intervals: [{ weekdays: [saturday, sunday] }] }
  - { name: bh, time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }] }] }
receivers: [{ name: a, slack: { channel: C } }]
lower_severity_outside: { time_intervals: [bh] }
routes:
  - { matchers: ['team="db"'], receivers: [a], mute_time_intervals: [weekends], routes: [{ matchers: ['x="y"'], active_time_intervals: [bh] }] }
`,
    );
    const r = await cli(['show', '--routes', f]);
    expect(r.out).toMatch(/^root \{\} -> default \[severity -1 outside bh\]$/m);
    expect(r.out).toMatch(/^ {2}routes\[0\] \{team="db"\} -> a \[muted in weekends\]$/m);
    expect(r.out).toMatch(/^ {4}routes\[0\]\.routes\[0\] \{x="y"\} -> a \[active in bh\]$/m);
    const j = JSON.parse((await cli(['show', '--routes', f, '--json'])).out) as { root: { routes: { muteTimeIntervals?: string[] }[] } };
    expect(j.root.routes[0]!.muteTimeIntervals).toEqual(['weekends']);
  });

  it('exits 1 naming the problem for a bad routes file, 2 for a bad argument', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-show-'));
    const bad = join(dir, 'routes.yaml');
    writeFileSync(bad, 'routes: [ { receiver: nobody } ]\n');
    const r = await cli(['show', '--routes', bad]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.err).toContain(`klaxon routes show: ${bad}: invalid routes config:`);
    expect(r.err).toContain('routes[0]: Unrecognized key: "receiver"');
    expect((await cli(['show', 'extra'])).code).toBe(EXIT.usage);
  });
});
