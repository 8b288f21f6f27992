/**
 * Rule sources (file, DynamoDB rules table, SSM parameters) and the cache in front of them:
 * lifetime honoured with an injected clock, a broken rule keeps its last good version.
 * SSM has no local emulator: these tests use a minimal fake of its HTTP API (eval-helpers/fake-ssm.ts)
 * with the real SDK client.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedRules, DynamoRuleSource, FileRuleSource, RulesUnavailableError, SsmRuleSource, type RuleProblem, type RuleSource } from '../../shared/adapters/rules/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionFresh } from '../support/aws.ts';
import { startFakeSsm, type FakeSsm } from './eval-helpers/fake-ssm.ts';

const rule = (id: string, threshold = 80): string => `  - id: ${id}\n    metric: cpu_usage_percent\n    condition: '> ${threshold}'\n    severity: high\n`;
const doc = (...rules: string[]): string => `rules:\n${rules.join('')}`;

function manualClock(start = 0): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

async function ids(c: CachedRules): Promise<string[]> {
  return (await c.current()).rules.map((r) => r.id).sort();
}

describe('file rule source', () => {
  it('loads the rules of a YAML file and picks up an edit after the cache lifetime', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-rules-'));
    const file = join(dir, 'rules.yaml');
    await writeFile(file, doc(rule('cpu_high')));
    const clock = manualClock();
    const cache = new CachedRules({ source: new FileRuleSource(file), ttlMs: 60_000, clock });
    expect(await ids(cache)).toEqual(['cpu_high']);
    await writeFile(file, doc(rule('cpu_high'), rule('cpu_very_high', 95)));
    clock.advance(59_999);
    expect(await ids(cache)).toEqual(['cpu_high']); // still cached
    clock.advance(1);
    expect(await ids(cache)).toEqual(['cpu_high', 'cpu_very_high']);
  });

  it('keeps the last good version of a rule that an edit broke, and the other rules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-rules-'));
    const file = join(dir, 'rules.yaml');
    await writeFile(file, doc(rule('a', 10), rule('b', 20)));
    const clock = manualClock();
    const problems: RuleProblem[] = [];
    const cache = new CachedRules({ source: new FileRuleSource(file), ttlMs: 1000, clock, onProblem: (p) => problems.push(p) });
    await cache.current();
    // b gets an invalid severity; c is new and valid; d is new and invalid (nothing to fall back to).
    await writeFile(file, doc(rule('a', 11), rule('b', 21).replace('high', 'urgent'), rule('c'), rule('d').replace('metric: cpu_usage_percent', 'metric: "bad name!"')));
    clock.advance(1000);
    const index = await cache.current();
    expect(index.rules.map((r) => r.id).sort()).toEqual(['a', 'b', 'c']);
    expect(index.rules.find((r) => r.id === 'a')?.condition?.threshold).toBe(11);
    expect(index.rules.find((r) => r.id === 'b')?.condition?.threshold).toBe(20); // last good
    expect(problems.map((p) => [p.ruleId, p.fallback, p.source])).toEqual([
      ['b', 'last-good', `file:${file}`],
      ['d', 'none', `file:${file}`],
    ]);
    expect(problems[0]!.message).toContain('severity');
  });

  it('keeps every rule of a document that no longer parses as YAML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-rules-'));
    const file = join(dir, 'rules.yaml');
    await writeFile(file, doc(rule('a')));
    const clock = manualClock();
    const problems: RuleProblem[] = [];
    const cache = new CachedRules({ source: new FileRuleSource(file), ttlMs: 1000, clock, onProblem: (p) => problems.push(p) });
    await cache.current();
    await writeFile(file, 'rules: [ {{{');
    clock.advance(1000);
    expect(await ids(cache)).toEqual(['a']);
    expect(problems[0]).toMatchObject({ origin: file, fallback: 'last-good' });
  });
});

describe('rule cache when the source is unreachable', () => {
  it('fails with RulesUnavailableError before any load, and keeps the cached rules after one', async () => {
    let up = false;
    let fetches = 0;
    const source: RuleSource = {
      name: 'flaky',
      fetch: async () => {
        fetches++;
        if (!up) throw new Error('connect ECONNREFUSED');
        return [{ origin: 'flaky', kind: 'document', text: doc(rule('a')) }];
      },
    };
    const clock = manualClock();
    const cache = new CachedRules({ source, ttlMs: 60_000, clock, retryAfterMs: 5000 });
    await expect(cache.current()).rejects.toBeInstanceOf(RulesUnavailableError);
    up = true;
    expect(await ids(cache)).toEqual(['a']);
    up = false;
    clock.advance(60_000);
    expect(await ids(cache)).toEqual(['a']); // stale but alerting goes on
    const after = fetches;
    clock.advance(4999);
    await cache.current();
    expect(fetches).toBe(after); // no hammering of a failing source
    clock.advance(1);
    await cache.current();
    expect(fetches).toBe(after + 1);
  });
});

describe('DynamoDB rule source', () => {
  it('reads one rule per item and sees an edit after the cache lifetime', async () => {
    const p = await provisionFresh();
    const putRule = (id: string, threshold: number) =>
      p.dynamodb.send(new PutItemCommand({ TableName: p.tables.rules, Item: { id: { S: id }, definition: { S: rule(id, threshold).replace(/^ {2}- /, '').replace(/\n {4}/g, '\n') } } }));
    await putRule('disk_full', 90);
    await putRule('mem_high', 85);
    const clock = manualClock();
    const problems: RuleProblem[] = [];
    const cache = new CachedRules({ source: new DynamoRuleSource({ client: p.dynamodb, table: p.tables.rules }), ttlMs: 30_000, clock, onProblem: (x) => problems.push(x) });
    expect(await ids(cache)).toEqual(['disk_full', 'mem_high']);
    expect((await cache.current()).rules.find((r) => r.id === 'disk_full')?.source).toBe(`dynamodb:${p.tables.rules}/disk_full`);
    await putRule('disk_full', 95);
    await p.dynamodb.send(new DeleteItemCommand({ TableName: p.tables.rules, Key: { id: { S: 'mem_high' } } }));
    // A broken item: reported with its id, the others still load.
    await p.dynamodb.send(new PutItemCommand({ TableName: p.tables.rules, Item: { id: { S: 'broken' }, definition: { S: 'id: broken\nmetric: x\n' } } }));
    clock.advance(30_000);
    const index = await cache.current();
    expect(index.rules.map((r) => r.id)).toEqual(['disk_full']);
    expect(index.rules[0]!.condition?.threshold).toBe(95);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ ruleId: 'broken', fallback: 'none', origin: `dynamodb:${p.tables.rules}/broken` });
  });
});

describe('SSM rule source', () => {
  let ssm: FakeSsm;
  beforeAll(async () => {
    ssm = await startFakeSsm();
  });
  afterAll(async () => {
    await ssm.stop();
  });

  it('reads every parameter under the path (paginated), each a rules document', async () => {
    ssm.parameters.set('/klaxon/rules/cpu', doc(rule('cpu_high')));
    ssm.parameters.set('/klaxon/rules/disk', doc(rule('disk_full'), rule('disk_warn')));
    ssm.parameters.set('/klaxon/rules/team/api', doc(rule('api_errors')));
    ssm.parameters.set('/klaxon/other/x', doc(rule('not_mine')));
    const client = new SSMClient({ endpoint: ssm.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const clock = manualClock();
    const cache = new CachedRules({ source: new SsmRuleSource({ client, path: '/klaxon/rules' }), ttlMs: 10_000, clock });
    expect(await ids(cache)).toEqual(['api_errors', 'cpu_high', 'disk_full', 'disk_warn']);
    const calls = ssm.calls();
    expect(calls).toBe(2); // 3 parameters, pages of 2
    await cache.current();
    expect(ssm.calls()).toBe(calls); // cached
    ssm.parameters.delete('/klaxon/rules/disk');
    clock.advance(10_000);
    expect(await ids(cache)).toEqual(['api_errors', 'cpu_high']);
  });
});
