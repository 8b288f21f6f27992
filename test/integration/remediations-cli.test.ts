/**
 * `klaxon remediations list` against DynamoDB Local (the remediations table provisioned from the
 * topology under a local-mode prefix): the audit log newest first, one alert's attempts, a status,
 * JSON lines, and usage errors that name what was wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { EXIT } from '../../cli/index.ts';
import { run } from '../../cli/remediations.ts';
import { DynamoRemediationStore } from '../../shared/adapters/remediate/store.ts';
import { RemediationConflictError } from '../../shared/core/remediate/ports.ts';
import type { AttemptRecord } from '../../shared/core/remediate/messages.ts';
import { endpoints, provisionFresh } from '../support/aws.ts';

type Fresh = Awaited<ReturnType<typeof provisionFresh>>;
let p: Fresh;
const T0 = Date.UTC(2026, 10, 30, 2, 0, 0);

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await run(args, { stdout, stderr, stdin: new PassThrough() }, {});
  return { code, out, err };
}

const attempt = (n: number, over: Partial<AttemptRecord>): AttemptRecord => ({
  attemptId: `rem_${String(n).padStart(32, '0')}`,
  token: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  requestId: `t${n}`,
  ruleId: 'disk_full',
  fingerprint: 'fp-db-1',
  firedAtMs: T0,
  action: 'restart-log-rotator',
  actionKind: 'webhook',
  target: 'Service=log-rotator-db-1',
  parameters: { Service: 'log-rotator-db-1' },
  safety: { cooldownMs: 1_800_000, maxAttempts: 2, attemptsWindowMs: 86_400_000 },
  status: 'succeeded',
  text: 'restarted',
  requestedAtMs: T0 + n * 60_000,
  ...over,
});

beforeAll(async () => {
  p = await provisionFresh();
  const store = new DynamoRemediationStore(p.dynamodb, p.tables.remediations);
  await store.write(attempt(1, { status: 'succeeded', executionId: 'HTTP 204' }), 'absent');
  await store.write(attempt(2, { status: 'refused', reason: 'cooldown', text: 'in cooldown until 02:31' }), 'absent');
  await store.write(attempt(3, { fingerprint: 'fp-web-1', ruleId: 'cpu_high', action: 'restart-web', target: 'Service=web', status: 'awaiting-approval', text: 'waiting for an approval', expiresAtMs: T0 + 3_600_000 }), 'absent');
  await store.write(attempt(4, { fingerprint: 'fp-web-1', ruleId: 'cpu_high', action: 'restart-web', target: 'Service=web', status: 'succeeded', approver: 'U123 (alice)', executionId: 'HTTP 200', text: 'approved and run' }), 'absent');
});
afterAll(() => {
  p.dynamodb.destroy();
  p.sqs.destroy();
});

describe('klaxon remediations list', () => {
  it('lists the whole audit log, newest first, with approver and execution', async () => {
    const r = await cli(['list', '--prefix', p.prefix, '--endpoint', endpoints().dynamodb, '--format', 'json']);
    expect(r.code).toBe(EXIT.ok);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as { attempt: string; status: string; approver: string; execution: string; reason: string });
    expect(rows.map((x) => x.attempt.slice(-1))).toEqual(['4', '3', '2', '1']);
    expect(rows[0]).toMatchObject({ status: 'succeeded', approver: 'U123 (alice)', execution: 'HTTP 200' });
    expect(rows[2]).toMatchObject({ status: 'refused', reason: 'cooldown' });
  });

  it.each([
    // one alert's attempts (the by-fingerprint index)
    [['--fingerprint', 'fp-db-1'], ['2', '1']],
    // one status
    [['--status', 'succeeded'], ['4', '1']],
    // both, and a limit
    [['--fingerprint', 'fp-web-1', '--limit', '1'], ['4']],
  ])('%j → attempts %j', async (args, ids) => {
    const r = await cli(['list', '--prefix', p.prefix, '--endpoint', endpoints().dynamodb, '--format', 'json', ...args]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out.trim().split('\n').map((l) => (JSON.parse(l) as { attempt: string }).attempt.slice(-1))).toEqual(ids);
  });

  it('prints a table by default', async () => {
    const r = await cli(['list', '--prefix', p.prefix, '--endpoint', endpoints().dynamodb]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out.split('\n')[0]).toMatch(/^REQUESTED\s+ALERT\s+RULE\s+ACTION\s+TARGET\s+STATUS\s+APPROVER\s+EXECUTION\s+OUTCOME$/);
    expect(r.out).toContain('refused (cooldown)');
  });

  it.each([
    // a status that does not exist
    [['list', '--status', 'done'], /--status: one of refused, .*; got 'done'/],
    // a limit that is not a number
    [['list', '--limit', 'ten'], /--limit: expected a positive whole number, got 'ten'/],
    // no table named
    [['list'], /name the remediations table/],
    // another subcommand
    [['purge'], /unknown subcommand 'purge'/],
  ])('%j is a usage error naming what is wrong', async (args, message) => {
    const withTable = args.includes('--status') || args.includes('--limit') ? [...args, '--prefix', p.prefix, '--endpoint', endpoints().dynamodb] : args;
    const r = await cli(withTable);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toMatch(message);
  });

  it('a table that cannot be read is an external failure, named', async () => {
    const r = await cli(['list', '--table', 'no-such-table', '--endpoint', endpoints().dynamodb]);
    expect(r.code).toBe(EXIT.external);
    expect(r.err).toMatch(/cannot read no-such-table/);
  });
});

describe('the remediations store: each write under its condition', () => {
  const runs = { key: 't#bench', action: 'restart-log-rotator', target: 'Service=x', runsAtMs: [T0], version: 1 };
  it.each([
    // a second first write of the same attempt (plain conditional Put)
    ['an attempt written twice as new', async (s: DynamoRemediationStore) => s.write(attempt(1, {}), 'absent')],
    // an outcome whose attempt is not in the status it expects (plain conditional Put)
    ['an outcome over another status', async (s: DynamoRemediationStore) => s.write(attempt(2, { status: 'failed' }), 'running')],
    // a new attempt with a target whose version moved (the transaction)
    ['a target run over a stale version', async (s: DynamoRemediationStore) => {
      await s.write(attempt(10, { status: 'running' }), 'absent', { state: runs, expectedVersion: 0 });
      await s.write(attempt(11, { status: 'running' }), 'absent', { state: { ...runs, version: 2 }, expectedVersion: 0 });
    }],
  ])('%s: refused as a conflict, nothing written over', async (_c, act) => {
    const store = new DynamoRemediationStore(p.dynamodb, p.tables.remediations);
    await expect(act(store)).rejects.toBeInstanceOf(RemediationConflictError);
  });
});
