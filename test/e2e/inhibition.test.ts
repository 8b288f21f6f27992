/**
 * Inhibition end to end in local mode, through the real evaluator, dispatch and channel handlers
 * and the local receivers: a critical alert of a cluster mutes that cluster's high and medium
 * alerts; another cluster's medium alert is notified; when the critical alert resolves, the muted
 * alerts that still fire are notified.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPipeline } from '../../local/start.ts';
import type { LocalLog } from '../../local/runtime/log.ts';
import { startScriptedPipeline } from '../support/scripted-pipeline.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - { id: node_down, metric: node_up, condition: '< 1', severity: critical }
  - { id: errors_high, metric: http_errors, condition: '> 5', severity: high }
  - { id: latency_medium, metric: latency_seconds, condition: '> 1', severity: medium }
`;
const ROUTES = `routes: []
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity=~"high|medium"']
    equal: [cluster]
`;

const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;
const s = (name: string, cluster: string, value: number, at: number): string => JSON.stringify({ name, value, timestamp: T0 + at * 1000, labels: { cluster } });

type Delivery = Parameters<LocalLog['delivery']>[0];
let pipeline: LocalPipeline;
const deliveries: Delivery[] = [];
const transitions: { rule: string; to: string; labels: Record<string, string>; seq: number }[] = [];
let seq = 0;

beforeAll(async () => {
  pipeline = await startScriptedPipeline('inhibit', { rules: RULES, routes: ROUTES }, {
    log: {
      info() {},
      warn() {},
      error() {},
      rejected() {},
      transition: (t) => void transitions.push({ rule: t.ruleId, to: t.kind, labels: t.labels, seq: ++seq }),
      delivery: (d) => void deliveries.push({ ...d, seq: ++seq } as Delivery),
    },
    drainRejected: true,
  });
  // The critical alert of eu fires first; then eu's high and medium alerts, and us's medium one.
  pipeline.send(s('node_up', 'eu', 0, 0));
  await pipeline.drain();
  await waitFor('node_down to fire', async () => transitions, (ts) => ts.some((t) => t.rule === 'node_down' && t.to === 'firing'));
  for (const r of [s('http_errors', 'eu', 9, 10), s('latency_seconds', 'eu', 3, 10), s('latency_seconds', 'us', 3, 10)]) pipeline.send(r);
  await pipeline.drain();
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

const sentFiring = (rule: string, cluster: string) => deliveries.filter((d) => d.ruleId === rule && d.kind === 'firing' && d.labels.cluster === cluster && d.outcome === 'sent');

describe('inhibition in local mode', () => {
  it('mutes the critical cluster’s high and medium alerts and notifies the other cluster’s', async () => {
    await waitFor('us latency notified', async () => deliveries, () => sentFiring('latency_medium', 'us').length > 0, { timeoutMs: 60_000 });
    // The evaluator fired all three; dispatch held eu's two.
    expect(transitions.filter((t) => t.to === 'firing').map((t) => `${t.rule}/${t.labels.cluster}`).sort()).toEqual(['errors_high/eu', 'latency_medium/eu', 'latency_medium/us', 'node_down/eu']);
    expect(sentFiring('errors_high', 'eu')).toEqual([]);
    expect(sentFiring('latency_medium', 'eu')).toEqual([]);
  }, 90_000);

  it('notifies them when the critical alert resolves, after its resolution', async () => {
    const before = seq;
    pipeline.send(s('node_up', 'eu', 1, 20));
    await pipeline.drain();
    await waitFor('eu high and medium notified', async () => deliveries, () => sentFiring('errors_high', 'eu').length > 0 && sentFiring('latency_medium', 'eu').length > 0, { timeoutMs: 60_000 });
    const resolvedAt = transitions.find((t) => t.rule === 'node_down' && t.to === 'resolved')!.seq;
    expect(resolvedAt).toBeGreaterThan(before);
    for (const d of [...sentFiring('errors_high', 'eu'), ...sentFiring('latency_medium', 'eu')]) expect((d as Delivery & { seq: number }).seq).toBeGreaterThan(resolvedAt);
  }, 90_000);
});
