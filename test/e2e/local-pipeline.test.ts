/**
 * The local pipeline end to end, through the real handlers, the real emulators (DynamoDB Local,
 * fauxqs, aws-ses-v2-local, the local Secrets Manager) and the local Slack and PagerDuty receivers,
 * on a short scripted stream: one alert fires and resolves, and one record is malformed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startLocal, type LocalPipeline } from '../../local/start.ts';
import { FUNCTIONS } from '../../infra/topology.ts';
import { createLocalLog } from '../../local/runtime/log.ts';
import type { ConsoleSnapshot } from '../../local/console/observer.ts';
import type { RejectedMessage } from '../../shared/adapters/sqs/rejected-sink.ts';
import { endpoints } from '../support/aws.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - id: e2e_disk_full
    name: Disk full
    metric: disk_used_percent
    condition: '> 90'
    for: 20s
    severity: critical
    annotations: { summary: 'Disk {{ $value }}% on {{ $labels.instance }}' }
`;

// Event time of the script: ten minutes ago, in 10 s steps.
const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;
const sample = (s: number, value: number): string =>
  JSON.stringify({ name: 'disk_used_percent', value, timestamp: T0 + s * 1000, labels: { instance: 'db-9', mount: '/data' } });
// pending at 10 s, firing at 30 s (20 s later), resolved at 50 s.
const SCRIPT = [sample(0, 50), sample(10, 95), sample(20, 96), sample(30, 97), sample(40, 97), sample(50, 40), sample(60, 41)];
const MALFORMED = '{"name":"disk_used_percent","value":"full"}';

let pipeline: LocalPipeline;
const logLines: string[] = [];
/** Where the batcher put the malformed record (the rejected message must name it). */
let malformedAt: { partition: number; offset: number };

/** Messages on the pipeline's work queues (visible, in flight or delayed); the rejected queue is left out. */
async function queuedWork(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, q] of Object.entries(pipeline.provisioned.queues)) {
    if (name === 'rejected') continue;
    const a = (
      await pipeline.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
      )
    ).Attributes!;
    out[name] = Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  }
  return out;
}

const received = async (): Promise<ConsoleSnapshot['received']> => (await pipeline.observer.snapshot()).received;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'klaxon-e2e-'));
  writeFileSync(join(dir, 'rules.yaml'), RULES);
  writeFileSync(join(dir, 'routes.yaml'), 'routes: []\n');
  pipeline = await startLocal({
    endpoints: endpoints(),
    source: { kind: 'none' },
    consolePort: false,
    rulesFile: join(dir, 'rules.yaml'),
    routesFile: join(dir, 'routes.yaml'),
    drainRejected: false,
    maxBatchingWindowMs: 100,
    handlerLogLevel: 'ERROR',
    log: createLocalLog({ json: true, out: { write: (s: string) => logLines.push(s) } as unknown as NodeJS.WritableStream }),
  });
  // Records in order, two of them in one batch with the malformed one.
  pipeline.send(SCRIPT[0]!);
  malformedAt = pipeline.send(MALFORMED);
  for (const r of SCRIPT.slice(1)) pipeline.send(r);
  await pipeline.drain();
}, 90_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('local pipeline', () => {
  it('runs every function of the topology', () => {
    // Every entry of the topology (issue 13 adds enrichFollowUp and others): none missing from this checkout.
    expect([...pipeline.functions].sort()).toEqual(Object.keys(FUNCTIONS).sort());
  });

  it('notifies Slack, email and PagerDuty of the firing and then the resolution, once each', async () => {
    await waitFor('two notifications per channel', received, (r) => r.slack.length >= 2 && r.pagerduty.length >= 2 && r.email.length >= 2);
    // A duplicate could only come from work still queued, in flight or held: once every work queue
    // is empty, what the receivers got is final.
    await waitFor('empty work queues', queuedWork, (q) => Object.values(q).every((n) => n === 0));
    const final = await received();
    expect(final.slack).toHaveLength(2);
    expect(final.pagerduty).toHaveLength(2);
    expect(final.email).toHaveLength(2);

    // Newest first in the snapshot: [resolved, firing].
    const [slackResolved, slackFiring] = final.slack;
    expect(JSON.stringify(slackFiring!.payload)).not.toContain('RESOLVED');
    expect(JSON.stringify(slackFiring!.payload)).toContain('db-9');
    expect(JSON.stringify(slackResolved!.payload)).toContain('RESOLVED');
    expect(slackFiring!.html).toContain('sk-header');

    const [pdResolve, pdTrigger] = final.pagerduty as { event: { event_action: string; dedup_key: string; payload?: { severity: string } } }[];
    expect(pdTrigger!.event.event_action).toBe('trigger');
    expect(pdTrigger!.event.payload?.severity).toBe('critical');
    expect(pdResolve!.event.event_action).toBe('resolve');
    expect(pdResolve!.event.dedup_key).toBe(pdTrigger!.event.dedup_key);

    const [mailResolved, mailFiring] = final.email;
    expect(mailFiring!.subject).toMatch(/^\[CRITICAL\]/);
    expect(mailResolved!.subject).toMatch(/^\[RESOLVED\]/);
    expect(mailFiring!.html).toContain('db-9');
  });

  it('logs one line per transition, firing before resolved', () => {
    const transitions = logLines.map((l) => JSON.parse(l) as { kind: string; to?: string; rule?: string }).filter((l) => l.kind === 'transition');
    expect(transitions.map((t) => [t.rule, t.to])).toEqual([
      ['e2e_disk_full', 'firing'],
      ['e2e_disk_full', 'resolved'],
    ]);
  });

  it('leaves every dead-letter queue empty', async () => {
    for (const [name, q] of Object.entries(pipeline.provisioned.queues)) {
      if (!q.dlq) continue;
      const a = await pipeline.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.dlq.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      expect({ name, n: Number(a.Attributes!.ApproximateNumberOfMessages) + Number(a.Attributes!.ApproximateNumberOfMessagesNotVisible) }).toEqual({ name, n: 0 });
    }
  });

  it('puts the malformed record on the rejected queue with its coordinates and the reason', async () => {
    const res = await pipeline.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: pipeline.provisioned.queues.rejected.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    const rejected = (res.Messages ?? []).map((m) => JSON.parse(m.Body!) as RejectedMessage);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.raw).toBe(MALFORMED);
    expect(rejected[0]!.reason).toMatch(/value/);
    expect(rejected[0]!.topic).toBe('klaxon-metrics');
    expect({ partition: rejected[0]!.partition, offset: rejected[0]!.offset }).toEqual(malformedAt);
  });
});
