/**
 * Enrichment end to end in local mode (startLocal: the real handlers, DynamoDB Local, fauxqs, the
 * local Slack receiver, the demo catalog and the local stand-in for Logs Insights): a checkout
 * alert's Slack message shows the owner, on-call, runbook and links at once and says "logs
 * pending"; its thread gets the error lines a few seconds later (the enrich-followup function).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPipeline } from '../../local/start.ts';
import { LOCAL_LOG_GROUP } from '../../local/config/index.ts';
import { startScriptedPipeline } from '../support/scripted-pipeline.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - id: e2e_checkout_errors
    name: Checkout error rate
    metric: http_error_rate_percent
    condition: '> 5'
    for: 0s
    severity: medium
    annotations: { summary: 'Error rate {{ $value }}% on {{ $labels.service }}' }
`;
// The payments team's channel (bot token: the message has a thread).
const ROUTES = `receivers:
  - name: payments
    slack: { channel: '#payments-e2e' }
routes:
  - matchers: ['service="checkout"']
    receivers: [payments]
`;

const T0 = Math.floor((Date.now() - 120_000) / 10_000) * 10_000;
let pipeline: LocalPipeline;

interface Posted {
  readonly path: string;
  readonly json?: { channel?: string; thread_ts?: string; attachments?: unknown[] };
}
const slackPosts = async (): Promise<Posted[]> => (await (await fetch(`${pipeline.endpoints.slack}/_received`)).json()) as Posted[];

beforeAll(async () => {
  pipeline = await startScriptedPipeline('enrich', { rules: RULES, routes: ROUTES }, {
    logLines: (group, from, to) =>
      group === LOCAL_LOG_GROUP ? [{ atMs: Math.max(from, to - 2000), message: 'ERROR POST /api/checkout 502: payment gateway timeout (order 4711)', fields: { service: 'checkout' } }] : [],
  });
  pipeline.send(JSON.stringify({ name: 'http_error_rate_percent', value: 8.5, timestamp: T0, labels: { service: 'checkout' } }));
  await pipeline.drain();
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('enrichment in local mode', () => {
  it("the Slack message shows owner, on-call, runbook and links; its thread later gets the log lines", async () => {
    const message = await waitFor(
      'the checkout alert in #payments-e2e',
      async () => (await slackPosts()).find((p) => p.path.endsWith('chat.postMessage') && p.json?.channel === '#payments-e2e' && !p.json.thread_ts),
      (p) => p !== undefined,
      { timeoutMs: 60_000 },
    );
    const text = JSON.stringify(message!.json);
    expect(text).toContain('Priya Payments');
    expect(text).toContain('@payments-oncall');
    expect(text).toContain('https://runbooks.example.com/checkout-errors');
    expect(text).toContain('Service page');
    expect(text).toContain('logs pending');

    const reply = await waitFor(
      'the log lines in the alert thread',
      async () => (await slackPosts()).find((p) => p.path.endsWith('chat.postMessage') && p.json?.thread_ts !== undefined && JSON.stringify(p.json).includes('Recent error logs')),
      (p) => p !== undefined,
      { timeoutMs: 60_000 },
    );
    expect(JSON.stringify(reply!.json)).toContain('payment gateway timeout (order 4711)');
  }, 130_000);
});
