/**
 * `klaxon errors list | resolve` against DynamoDB Local and fauxqs (resources provisioned from the
 * topology under a local-mode prefix): the firing error alerts listed, one resolved by a person,
 * its resolution on the alert-events queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { run as errors } from '../../cli/errors.ts';
import { EXIT } from '../../cli/index.ts';
import { endpoints, provisionFresh } from '../support/aws.ts';
import { DynamoErrorAlertStore } from '../../shared/adapters/dynamodb/error-alert-store.ts';
import { SqsTransitionPublisher } from '../../shared/adapters/sqs/transition-publisher.ts';
import { applyJobEvents } from '../../shared/core/events/sequence.ts';
import { DEFAULT_EVENTS_CONFIG } from '../../shared/core/events/config.ts';
import type { ErrorEvent } from '../../shared/core/events/types.ts';
import type { AlertTransition } from '../../shared/core/model/index.ts';
import { drainQueue } from './eval-helpers/queue.ts';

type Fresh = Awaited<ReturnType<typeof provisionFresh>>;
let p: Fresh;
let fingerprints: string[];
const T0 = Date.UTC(2026, 10, 30, 2, 0, 0);

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await run(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, out, err };
}
const run = (args: string[], io: Parameters<typeof errors>[1]) => errors(args, io, {}, () => T0 + 3_600_000);

const failure = (task: string, type: string, min: number): ErrorEvent => ({
  kind: 'error',
  source: 'airflow',
  service: 'etl_daily',
  task,
  final: true,
  error: { type, message: `failed after ${min} attempts` },
  tags: {},
  timestampMs: T0 + min * 60_000,
});

beforeAll(async () => {
  p = await provisionFresh();
  const store = new DynamoErrorAlertStore(p.dynamodb, p.tables.errors);
  const publisher = new SqsTransitionPublisher({ client: p.sqs, queueUrl: p.queues.alertEvents.url });
  await applyJobEvents({ store, publisher }, DEFAULT_EVENTS_CONFIG, [failure('load', 'TimeoutError', 1), failure('load', 'TimeoutError', 2), failure('export', 'PermissionError', 5)].map((event) => ({ event })), { nowMs: T0 });
  const ts = await drainQueue<AlertTransition>(p.sqs, p.queues.alertEvents.url);
  fingerprints = ts.map((t) => t.fingerprint.slice(4));
});
afterAll(() => {
  p.dynamodb.destroy();
  p.sqs.destroy();
});

describe('klaxon errors', () => {
  const common = () => ['--endpoint', endpoints().dynamodb, '--prefix', p.prefix];

  it('lists the firing error alerts, newest failure first, with their count', async () => {
    const r = await cli(['list', ...common()]);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^FINGERPRINT\s+SEVERITY\s+RULE\s+ERROR\s+TASK\s+COUNT\s+SINCE\s+LAST\s+MESSAGE$/);
    expect(lines[1]).toMatch(/^[0-9a-f]{16}\s+high\s+credentials\s+PermissionError\s+airflow\/etl_daily\/export\s+1\s/);
    expect(lines[2]).toMatch(/^[0-9a-f]{16}\s+medium\s+timeout\s+TimeoutError\s+airflow\/etl_daily\/load\s+2\s/);
  });

  it('a person resolves one: the resolution goes on the alert-events queue, and it is no longer listed', async () => {
    const fp = fingerprints[0]!;
    const r = await cli(['resolve', fp, '--by', 'alice', ...common(), '--sqs-endpoint', endpoints().sqs]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain(`resolved ${fp}`);
    const [t] = await drainQueue<AlertTransition>(p.sqs, p.queues.alertEvents.url);
    expect(t).toMatchObject({ kind: 'resolved', fingerprint: `err:${fp}`, resolvedAtMs: T0 + 3_600_000, annotations: expect.objectContaining({ resolved_by: 'alice' }) });
    const list = await cli(['list', '--format', 'json', ...common()]);
    expect(list.out.trim().split('\n').map((l) => (JSON.parse(l) as { fingerprint: string }).fingerprint)).toEqual([fingerprints[1]]);
    // Again: refused, it does not fire.
    const again = await cli(['resolve', fp, '--by', 'bob', ...common(), '--sqs-endpoint', endpoints().sqs]);
    expect(again.code).toBe(EXIT.failed);
    expect(again.err).toMatch(/is not firing/);
  });

  it.each<[string[], number, RegExp]>([
    [[], EXIT.usage, /Usage/],
    [['resolve', '--table', 't', '--by', 'x'], EXIT.usage, /give the fingerprint/],
    [['resolve', 'abc', '--table', 't'], EXIT.usage, /--by NAME/],
    [['list'], EXIT.usage, /name the errors table/],
    [['list', '--table', 't', '--limit', '0'], EXIT.usage, /--limit/],
  ])('%j exits %d', async (args, code, message) => {
    const r = await cli(args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
  });

  it('an unknown fingerprint: refused, naming it', async () => {
    const r = await cli(['resolve', 'ffffffffffffffff', '--by', 'alice', ...common(), '--sqs-endpoint', endpoints().sqs]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.err).toMatch(/no error alert with fingerprint ffffffffffffffff/);
  });
});
