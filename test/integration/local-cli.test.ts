/**
 * `klaxon alerts list` and `klaxon dlq list | redrive` against DynamoDB Local and fauxqs, with
 * resources provisioned from the topology under a local-mode prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { run as alerts, toAlertRow } from '../../cli/alerts.ts';
import { run as dlq } from '../../cli/dlq.ts';
import { EXIT } from '../../cli/index.ts';
import { endpoints, provisionFresh } from '../support/aws.ts';

type Fresh = Awaited<ReturnType<typeof provisionFresh>>;
let p: Fresh;

async function cli(run: typeof alerts, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await run(args, { stdout, stderr, stdin: new PassThrough() }, {});
  return { code, out, err };
}

async function depth(url: string): Promise<number> {
  const a = (await p.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
}

beforeAll(async () => {
  p = await provisionFresh();
  const put = (fingerprint: string, state: string, startsAtMs: number, extra: Record<string, unknown> = {}) =>
    p.dynamodb.send(
      new PutItemCommand({
        TableName: p.tables.alerts,
        Item: {
          fingerprint: { S: fingerprint },
          version: { N: '2' },
          state: { S: state },
          ruleId: { S: 'cpu_high' },
          severity: { S: 'high' },
          effectiveSeverity: { S: 'high' },
          startsAtMs: { N: String(startsAtMs) },
          fireCount: { N: '3' },
          labels: { M: { instance: { S: fingerprint === 'a' ? 'web-1' : 'web-2' }, alertname: { S: 'cpu_high' } } },
          ...extra,
        },
      }),
    );
  await put('a', 'resolved', 1_800_000_000_000, { endsAtMs: { N: '1800000060000' } });
  await put('b', 'firing', 1_800_000_100_000, { deliveries: { M: { 'default|slack': { M: { suppressedCount: { N: '4' } } } } } });
  // A group's Slack thread shares the table (keyed by the group id, no version): not an alert.
  await p.dynamodb.send(
    new PutItemCommand({ TableName: p.tables.alerts, Item: { fingerprint: { S: 'group:0123456789abcdef0123456789abcdef' }, slackThread: { M: { channel: { S: 'C1' }, ts: { S: '1.2' } } } } }),
  );
});
afterAll(() => {
  p.dynamodb.destroy();
  p.sqs.destroy();
});

describe('klaxon alerts list', () => {
  const common = () => ['--endpoint', endpoints().dynamodb, '--prefix', p.prefix];

  it('lists firing alerts first, with severity, since, fire and suppressed counts', async () => {
    const r = await cli(alerts, ['list', ...common()]);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^STATE\s+SEVERITY\s+RULE\s+SINCE\s+FIRED\s+SUPPRESSED\s+INHIBITED BY\s+SILENCED BY\s+ACKNOWLEDGED BY\s+LABELS$/);
    expect(lines[1]).toMatch(/^firing\s+high\s+cpu_high\s+2027-01-15T\S+\s+3\s+4\s+-\s+-\s+-\s+instance=web-2$/);
    expect(lines[2]).toMatch(/^resolved\s+high\s+cpu_high/);
    expect(lines).toHaveLength(3);
  });

  it('filters by state and prints JSON lines', async () => {
    const r = await cli(alerts, ['list', '--state', 'firing', '--format', 'json', ...common()]);
    expect(r.code).toBe(EXIT.ok);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as { fingerprint: string });
    expect(rows.map((x) => x.fingerprint)).toEqual(['b']);
  });

  it.each([
    // no subcommand
    [[], EXIT.usage],
    // unknown option
    [['list', '--nope', 'x'], EXIT.usage],
    // bad state
    [['list', '--state', 'sleeping', '--table', 't'], EXIT.usage],
    // no table named anywhere
    [['list'], EXIT.usage],
  ])('exits %j → %d', async (args, code) => {
    expect((await cli(alerts, args)).code).toBe(code);
  });

  it('exits 3 when the table cannot be read', async () => {
    const r = await cli(alerts, ['list', '--endpoint', endpoints().dynamodb, '--table', 'no-such-table']);
    expect(r.code).toBe(EXIT.external);
    expect(r.err).toContain('no-such-table');
  });

  it('shows a firing alert somebody acknowledged as acknowledged, with who', () => {
    const row = toAlertRow({ fingerprint: 'x', state: 'firing', startsAtMs: 1000, ack: { by: 'alice', atMs: 2000, source: 'slack' } });
    expect([row.state, row.acknowledgedBy]).toEqual(['acknowledged', 'alice']);
    // A resolved one is resolved, whoever acknowledged it.
    expect(toAlertRow({ fingerprint: 'x', state: 'resolved', startsAtMs: 1000, ack: { by: 'alice', atMs: 2000, source: 'slack' } }).state).toBe('resolved');
  });

  it('ack puts an action message on the alert-events queue, grouped by the alert, from the CLI', async () => {
    const r = await cli(alerts, ['ack', 'b', '--by', 'alice', '--endpoint', endpoints().sqs, '--prefix', p.prefix]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const got = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: p.queues.alertEvents.url, MessageSystemAttributeNames: ['MessageGroupId'], WaitTimeSeconds: 1 }));
    const [m] = got.Messages ?? [];
    expect(m?.Attributes?.MessageGroupId).toBe('b');
    expect(JSON.parse(m!.Body!)).toMatchObject({ version: 1, kind: 'action', action: 'acknowledge', fingerprint: 'b', by: 'alice', source: 'cli' });
    expect((await cli(alerts, ['ack', '--by', 'x', '--prefix', p.prefix])).code).toBe(EXIT.usage);
    expect((await cli(alerts, ['unack', 'b', '--prefix', p.prefix])).code).toBe(EXIT.usage);
  });

  it('reads a resolved alert as since its end', () => {
    expect(toAlertRow({ fingerprint: 'x', state: 'resolved', startsAtMs: 1000, endsAtMs: 2000 }).since).toBe(new Date(2000).toISOString());
  });
});

describe('klaxon dlq', () => {
  const common = () => ['--endpoint', endpoints().sqs, '--prefix', p.prefix];

  it('lists every dead-letter queue with its depth and a sample of messages', async () => {
    const job = { idempotencyKey: 't1:default:slack', channel: 'slack', destinationId: 'slack:webhook:default', transition: { ruleId: 'cpu_high', kind: 'firing' } };
    await p.sqs.send(new SendMessageCommand({ QueueUrl: p.queues.slack.dlq!.url, MessageBody: JSON.stringify(job), MessageGroupId: 'fp1', MessageDeduplicationId: 'd1' }));
    const r = await cli(dlq, ['list', '--messages', '5', ...common()]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/^slack\s+\S+-slack-dlq\.fifo\s+1$/m);
    expect(r.out).toMatch(/^email\s+\S+-email-dlq\.fifo\s+0$/m);
    expect(r.out).toContain('cpu_high firing slack slack:webhook:default t1:default:slack');
  });

  it('redrives a dead-letter queue back to its source queue, keeping the FIFO group', async () => {
    await p.sqs.send(new SendMessageCommand({ QueueUrl: p.queues.email.dlq!.url, MessageBody: '{"n":1}', MessageGroupId: 'fp-email', MessageDeduplicationId: 'e1' }));
    const r = await cli(dlq, ['redrive', 'email', ...common()]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/email: 1 message\(s\) moved back to \S+-email\.fifo/);
    expect(await depth(p.queues.email.dlq!.url)).toBe(0);
    const back = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: p.queues.email.url, MessageSystemAttributeNames: ['MessageGroupId'], WaitTimeSeconds: 1 }));
    expect(back.Messages?.map((m) => [m.Body, m.Attributes?.MessageGroupId])).toEqual([['{"n":1}', 'fp-email']]);
    // The slack DLQ was not touched.
    expect(await depth(p.queues.slack.dlq!.url)).toBe(1);
  });

  it.each([
    // unknown queue
    [['redrive', 'nope'], EXIT.usage],
    // two queues
    [['redrive', 'slack', 'email'], EXIT.usage],
    // bad --max
    [['redrive', '--max', '0'], EXIT.usage],
  ])('exits %j → %d', async (args, code) => {
    expect((await cli(dlq, [...args, ...common()])).code).toBe(code);
  });
});
