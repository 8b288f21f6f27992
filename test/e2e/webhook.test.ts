/**
 * Outgoing webhooks in local mode, end to end: a critical alert routed to a webhook receiver (an
 * "incident tool" taking Alertmanager webhooks) reaches the local webhook receiver through
 * dispatch, the webhook queue and deliver-webhook, signed; the receiver verified every signature
 * (none refused), and so does the scheme's own library (`standardwebhooks`) here.
 */
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_WEBHOOK_SECRET } from '../../local/config/index.ts';
import { listenOnLoopback } from '../../local/runtime/listen.ts';
import { createLocalLog } from '../../local/runtime/log.ts';
import { type LocalPipeline } from '../../local/start.ts';
import { startScriptedPipeline } from '../support/scripted-pipeline.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - id: e2e_webhook_disk
    name: Disk full
    metric: disk_used_percent
    condition: '> 90'
    for: 20s
    severity: critical
    annotations: { summary: 'Disk {{ $value }}% on {{ $labels.instance }}' }
`;

// Event time of the script: ten minutes ago, in 10 s steps; firing at 30 s, resolved at 50 s.
const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;
const sample = (s: number, value: number): string => JSON.stringify({ name: 'disk_used_percent', value, timestamp: T0 + s * 1000, labels: { instance: 'db-7', mount: '/data' } });
const SCRIPT = [sample(0, 50), sample(10, 95), sample(20, 96), sample(30, 97), sample(40, 97), sample(50, 40), sample(60, 41)];

let pipeline: LocalPipeline;

beforeAll(async () => {
  // A free port for the receiver, named by the routes (local mode's demo uses 8790).
  const probe = await listenOnLoopback(createServer(), 0);
  await probe.stop();
  const routes = [
    'receivers:',
    '  - name: incident-tool',
    `    webhook: { url: 'http://127.0.0.1:${probe.port}/hooks/incident-tool', format: alertmanager }`,
    'routes:',
    `  - matchers: ['severity="critical"']`,
    '    receivers: [incident-tool]',
    '',
  ].join('\n');
  pipeline = await startScriptedPipeline('webhook', { rules: RULES, routes }, {
    webhookReceiverPort: probe.port,
    log: createLocalLog({ json: true, out: { write: () => true } as unknown as NodeJS.WritableStream }),
  });
  for (const r of SCRIPT) pipeline.send(r);
  await pipeline.drain();
}, 90_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('local mode: outgoing webhook', () => {
  it('delivers the firing and the resolution to the local webhook receiver, signed, verified by the receiver and by standardwebhooks', async () => {
    const wh = pipeline.receivers.webhook;
    expect(wh.port).toBeGreaterThan(0);
    const got = await waitFor('a firing and a resolved webhook', () => wh.received(), (r) => r.filter((x) => x.status === 204).length >= 2);
    expect(wh.refusals()).toEqual([]);
    const bodies = got.map((r) => new Webhook(LOCAL_WEBHOOK_SECRET).verify(r.body, { ...r.headers }) as { version: string; status: string; receiver: string; alerts: { labels: Record<string, string> }[] });
    expect(bodies.map((b) => b.status)).toEqual(['firing', 'resolved']);
    for (const b of bodies) expect(b).toMatchObject({ version: '4', receiver: 'incident-tool', alerts: [{ labels: { alertname: 'e2e_webhook_disk', instance: 'db-7', severity: 'critical' } }] });
    expect(got[0]!.path).toBe('/hooks/incident-tool');
    // The console lists them.
    expect((await pipeline.observer.snapshot()).received.webhook.map((w) => w.status)).toEqual([204, 204]);
  });
});
