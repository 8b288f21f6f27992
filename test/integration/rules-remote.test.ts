/**
 * `klaxon rules push|list|diff` against DynamoDB Local and a minimal fake of SSM's HTTP API (no
 * local SSM emulator exists), through the real SDK clients and the `--endpoint` flag.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRemote } from '../../cli/rules-remote.ts';
import { EXIT, type CliIo } from '../../cli/index.ts';
import { CachedRules, DynamoRuleSource } from '../../shared/adapters/rules/index.ts';
import { endpoints, provisionFresh } from '../support/aws.ts';
import { startFakeSsm, type FakeSsm } from './eval-helpers/fake-ssm.ts';
import { captureIo } from '../support/cli-io.ts';

function io(): CliIo & { out(): string; err(): string } {
  const c = captureIo();
  return { ...c.io, out: c.out, err: c.err };
}

const RULES = `rules:
  - id: cpu_high
    metric: cpu_usage_percent
    condition: '> 80'
    for: 5m
    severity: high
  - id: disk_full
    metric: disk_used_percent
    condition: '> 90'
    severity: critical
`;

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'klaxon-cli-'));
  const f = join(dir, 'rules.yaml');
  await writeFile(f, text);
  return f;
}

describe('klaxon rules push/list/diff', () => {
  let ssm: FakeSsm;
  beforeAll(async () => {
    ssm = await startFakeSsm();
    // The emulators accept any credentials; the CLI takes them from the usual AWS variables.
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
  });
  afterAll(async () => {
    await ssm.stop();
  });

  it('pushes a valid file to the DynamoDB rules table, where the evaluator reads it', async () => {
    const p = await provisionFresh();
    const common = ['--table', p.tables.rules, '--endpoint', endpoints().dynamodb, '--region', 'us-east-1'];
    const f = await file(RULES);
    const push = io();
    expect(await runRemote('push', ['--to', 'dynamodb', f, ...common], push)).toBe(EXIT.ok);
    expect(push.out()).toBe('added cpu_high\nadded disk_full\n');

    const rules = new CachedRules({ source: new DynamoRuleSource({ client: p.dynamodb, table: p.tables.rules }), ttlMs: 1, clock: { now: () => 0 } });
    expect((await rules.current()).rules.map((r) => [r.id, r.forMs]).sort()).toEqual([
      ['cpu_high', 300_000],
      ['disk_full', 0],
    ]);

    const list = io();
    expect(await runRemote('list', common, list)).toBe(EXIT.ok);
    expect(list.out()).toMatch(/^cpu_high\thigh\tcpu_usage_percent\t/m);
    expect(list.out()).toMatch(/^disk_full\tcritical\tdisk_used_percent\t/m);

    const same = io();
    expect(await runRemote('diff', [f, ...common], same)).toBe(EXIT.ok);
    expect(same.out()).toBe('');

    const edited = await file(RULES.replace("'> 80'", "'> 85'").replace(/ {2}- id: disk_full[\s\S]*$/, '  - id: mem_high\n    metric: mem\n    condition: "> 1"\n    severity: low\n'));
    const diff = io();
    expect(await runRemote('diff', [edited, ...common], diff)).toBe(EXIT.failed);
    expect(diff.out()).toBe('+ mem_high\n~ cpu_high\n- disk_full\n');

    const prune = io();
    expect(await runRemote('push', ['--to', 'dynamodb', edited, '--prune', ...common], prune)).toBe(EXIT.ok);
    expect(prune.out()).toBe('added mem_high\nupdated cpu_high\ndeleted disk_full\n');
    expect(await runRemote('diff', [edited, ...common], io())).toBe(EXIT.ok);
  });

  it('validates before pushing: an invalid file pushes nothing and names the rule and field', async () => {
    const p = await provisionFresh();
    const bad = await file(RULES.replace('severity: critical', 'severity: urgent'));
    const out = io();
    expect(await runRemote('push', ['--to', 'dynamodb', bad, '--table', p.tables.rules, '--endpoint', endpoints().dynamodb], out)).toBe(EXIT.failed);
    expect(out.err()).toContain('rule disk_full');
    expect(out.err()).toContain('severity');
    expect(out.err()).toContain('nothing pushed');
    const list = io();
    await runRemote('list', ['--from', 'dynamodb', '--table', p.tables.rules, '--endpoint', endpoints().dynamodb], list);
    expect(list.out()).toBe('');
  });

  it('pushes to SSM, one parameter per rule under the path, and diffs against it', async () => {
    const common = ['--path', '/klaxon/test-rules', '--endpoint', ssm.endpoint, '--region', 'us-east-1'];
    const f = await file(RULES);
    expect(await runRemote('push', ['--to', 'ssm', f, ...common], io())).toBe(EXIT.ok);
    expect([...ssm.parameters.keys()].sort()).toEqual(['/klaxon/test-rules/cpu_high', '/klaxon/test-rules/disk_full']);
    expect(ssm.parameters.get('/klaxon/test-rules/cpu_high')).toMatch(/^rules:\n {2}- id: cpu_high/);
    expect(await runRemote('diff', [f, '--from', 'ssm', ...common], io())).toBe(EXIT.ok);
  });

  it('answers usage errors with exit code 2 and an unreachable service with 3', async () => {
    const f = await file(RULES);
    const noTarget = io();
    expect(await runRemote('push', [f], noTarget)).toBe(EXIT.usage);
    expect(noTarget.err()).toMatch(/--to/);
    expect(await runRemote('diff', ['--from', 'ssm', '--path', '/x'], io())).toBe(EXIT.usage);
    const down = io();
    // A port nothing listens on: the SDK fails to connect.
    expect(await runRemote('list', ['--from', 'dynamodb', '--table', 'x', '--endpoint', 'http://127.0.0.1:9', '--region', 'us-east-1'], down)).toBe(EXIT.external);
    expect(down.err()).toContain('dynamodb:x');
  });
});
