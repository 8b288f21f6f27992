/**
 * Alertmanager v4 conformance of the `alertmanager` webhook format, against the REAL Alertmanager
 * (0.25, Debian's `prometheus-alertmanager`, as .ci/run installs it): the server runs on free
 * loopback ports (clustering off, storage in a temp dir) with a webhook_config to a capture server;
 * the same alert is posted through its API v2, firing then resolved, and its webhook bodies are
 * compared with ours for the same alert: the same keys and JSON types at every level, and the same
 * values where they must agree (version, status, receiver, labels, annotations, times, fingerprint,
 * group and common labels, the group key of an alert notified one by one). Only `externalURL` (its
 * own address) is Alertmanager's own. Without the binary the test is reported skipped, never passed;
 * under CI=true it fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderWebhook } from '../../shared/core/format/webhook.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { listenOnLoopback } from '../../local/runtime/listen.ts';
import { job, resolvedOf } from './deliver-fixtures.ts';
import { groupJob } from './group-fixtures.ts';
import { waitFor } from '../support/wait.ts';

const CI = process.env.CI === 'true';
const BIN = 'prometheus-alertmanager';
const available = spawnSync(BIN, ['--version'], { encoding: 'utf8' }).status === 0;
const run = available || CI;

/** A free loopback port (listen on 0, close). */
async function freePort(): Promise<number> {
  const s = createServer();
  const { port, stop } = await listenOnLoopback(s, 0);
  await stop();
  return port;
}

/** The shape of a JSON value: keys (sorted) and JSON types at every level; arrays by their first element. */
function shape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (typeof v === 'object') return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}

/** The fields that must agree (everything but externalURL). */
function comparable(m: Record<string, unknown>): Record<string, unknown> {
  const { externalURL: _e, ...rest } = m;
  return rest;
}

let am: ChildProcess | undefined;
let capture: { stop(): Promise<void> } | undefined;
let dir = '';
let amUrl = '';
const bodies: Record<string, unknown>[] = [];

describe('the alertmanager webhook format against Alertmanager 0.25', () => {
  beforeAll(async () => {
    if (!available) return;
    dir = mkdtempSync(join(tmpdir(), 'klaxon-am-'));
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(200).end();
      });
    });
    const cap = await listenOnLoopback(server, 0);
    capture = cap;
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'am.yml'),
      [
        'route:',
        '  receiver: tool',
        // One by one is Klaxon's default: Alertmanager's group_by ['...'].
        "  group_by: ['...']",
        '  group_wait: 0s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        // A group of alerts (group_by cluster), its list cut to one alert.
        '  routes:',
        "    - matchers: ['cluster=\"eu1\"']",
        '      receiver: grouped',
        '      group_by: [cluster]',
        // All three alerts in its first notification (with 0s the first one would flush alone).
        '      group_wait: 1s',
        'receivers:',
        '  - name: tool',
        '    webhook_configs:',
        `      - url: ${cap.url}/hook`,
        '        send_resolved: true',
        '  - name: grouped',
        '    webhook_configs:',
        `      - url: ${cap.url}/grouped`,
        '        max_alerts: 1',
        '',
      ].join('\n'),
    );
    am = spawn(BIN, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: 'ignore' });
    await waitFor('Alertmanager ready', async () => (await fetch(`${amUrl}/-/ready`).catch(() => undefined))?.ok === true, (ok) => ok, { timeoutMs: 15_000, everyMs: 100 });
  }, 30_000);

  afterAll(async () => {
    am?.kill('SIGTERM');
    await capture?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const title = 'same keys, JSON types and values as Alertmanager for a firing and a resolved alert';
  it.skipIf(!run)(run ? title : `${title} (skipped: ${BIN} not on PATH; apt-get install prometheus-alertmanager)`, async () => {
    expect(available, `${BIN} not on PATH (CI=true): apt-get install prometheus-alertmanager`).toBe(true);
    const startsAtMs = Math.floor(Date.now() / 1000) * 1000 - 60_250;
    // Klaxon's severity is the `severity` label the payload carries (the job's labels do not hold it).
    const labels = { alertname: 'HighCPU', instance: 'web-1:9100', team: 'ops', quote: 'a "quoted" <value> & ünïcode ✓' };
    const annotations = { summary: 'CPU above 90%', description: 'web-1 is saturated' };
    const generatorURL = 'https://grafana.example.com/d/cpu?var-instance=web-1';
    const post = async (endsAtMs?: number): Promise<void> => {
      const alert = { labels: { ...labels, severity: 'critical' }, annotations, generatorURL, startsAt: new Date(startsAtMs).toISOString(), ...(endsAtMs ? { endsAt: new Date(endsAtMs).toISOString() } : {}) };
      const r = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([alert]) });
      expect(r.status).toBe(200);
    };

    const firing: NotificationJob = {
      ...job('slack', { t: { labels, annotations, firedAtMs: startsAtMs, atMs: startsAtMs, dashboardUrl: generatorURL } }),
      channel: 'webhook',
      receiver: 'tool',
      destination: { kind: 'webhook', url: 'https://tool.example.com/hook', format: 'alertmanager', secretKey: 'tool' },
      destinationId: 'webhook:tool:x',
    };
    const endsAtMs = Date.now() - 1_000;
    const resolved = resolvedOf(firing, endsAtMs);

    await post();
    await waitFor('the firing webhook from Alertmanager', () => bodies.length, (n) => n >= 1, { timeoutMs: 10_000, everyMs: 50 });
    await post(endsAtMs);
    await waitFor('the resolved webhook from Alertmanager', () => bodies.some((b) => b.status === 'resolved'), (x) => x, { timeoutMs: 10_000, everyMs: 50 });

    for (const [ours, theirs] of [
      [firing, bodies[0]!],
      [resolved, bodies.find((b) => b.status === 'resolved')!],
    ] as const) {
      const r = renderWebhook(ours, { externalUrl: 'http://klaxon.example.com' });
      if (r.kind !== 'send') throw new Error(r.reason);
      const mine = JSON.parse(r.body) as Record<string, unknown>;
      expect(shape(mine)).toEqual(shape(theirs));
      expect(comparable(mine)).toEqual(comparable(theirs));
    }
  }, 40_000);

  const groupTitle = 'a group job with truncation: same keys and types, the same status, receiver, group and common labels, truncatedAlerts';
  it.skipIf(!run)(run ? groupTitle : `${groupTitle} (skipped: ${BIN} not on PATH)`, async () => {
    expect(available, `${BIN} not on PATH (CI=true): apt-get install prometheus-alertmanager`).toBe(true);
    // Our group of three firing alerts (severities critical, high, medium), cut to one alert.
    const g = groupJob('slack', { firing: 3, labels: { cluster: 'eu1' } });
    const ours: NotificationJob = { ...g, channel: 'webhook', receiver: 'grouped', destination: { kind: 'webhook', url: 'https://tool.example.com/hook', format: 'alertmanager', maxAlerts: 1, secretKey: 'grouped' }, destinationId: 'webhook:grouped:x' };
    // The same alerts posted to Alertmanager (labels with their severity, summaries as annotations),
    // starting now: Alertmanager flushes a group at once when its first alert is older than group_wait.
    const alerts = g.group!.firing.map((m) => ({ labels: { ...m.labels, severity: m.severity }, annotations: { summary: m.summary! } }));
    const r = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    expect(r.status).toBe(200);
    const theirs = await waitFor('the grouped webhook from Alertmanager', () => bodies.find((b) => b.receiver === 'grouped'), (b) => b !== undefined, { timeoutMs: 10_000, everyMs: 50 });
    const rendered = renderWebhook(ours, { externalUrl: 'http://klaxon.example.com' });
    if (rendered.kind !== 'send') throw new Error(rendered.reason);
    const mine = JSON.parse(rendered.body) as Record<string, unknown>;
    expect(shape(mine)).toEqual(shape(theirs));
    const agree = (m: Record<string, unknown>) => ({ status: m.status, receiver: m.receiver, version: m.version, groupLabels: m.groupLabels, commonLabels: m.commonLabels, commonAnnotations: m.commonAnnotations, truncatedAlerts: m.truncatedAlerts, listed: (m.alerts as unknown[]).length });
    expect(agree(mine)).toEqual(agree(theirs!));
    // Alertmanager cuts the list first: common labels are those of the one alert listed.
    expect(agree(mine)).toMatchObject({ groupLabels: { cluster: 'eu1' }, truncatedAlerts: 2, listed: 1 });
  }, 40_000);
});
