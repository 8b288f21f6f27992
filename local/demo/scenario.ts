/**
 * The demo's story, as a pure function of time: what each demo series reports at a moment of the
 * cycle, which malformed records are sent, and when the Slack outage is on. One cycle lasts
 * {@link CYCLE_MS} of event time and then repeats, so a long-running demo keeps alerting.
 *
 * At speed 1 (cycle seconds):
 * - `cpu_usage_percent{instance="web-1"}` spikes to ~95 % from 30 s to 120 s: fires ~1 min in, resolves ~2.3 min.
 * - `web-3` spikes from 60 s to 140 s and `web-2` from 100 s to 170 s, so their firings and
 *   resolutions land inside the Slack outage: with web-1's resolution, the disk and the heartbeat,
 *   at least five jobs for the one demo Slack webhook fail in a row and the breaker opens (a breaker
 *   counts consecutive failures per destination), at any `--speed`.
 * - `disk_used_percent{instance="db-1",mount="/data"}` fills 1 %/10 s from 80 %, is cleaned at 200 s.
 * - `heartbeat{job="nightly-etl"}` stops at 90 s and comes back at 200 s (an absence alert, fired by timers).
 * - `http_error_rate_percent{service="checkout"}` flaps between 0.5 and 7 every 30 s.
 * - a malformed record at 40 s and 160 s; Slack answers 503 from 100 s to 190 s (the breaker opens, then closes).
 */

/** Length of one demo cycle (event time). */
export const CYCLE_MS = 300_000;
/** Scrape interval of the demo series (event time). */
export const SCRAPE_MS = 10_000;
/** The Slack outage window within a cycle (event time, ms). */
export const SLACK_OUTAGE = { fromMs: 100_000, toMs: 190_000 } as const;

/** A sample in the wire format producers put on the topic. */
export interface WireSample {
  readonly name: string;
  readonly value: number;
  readonly timestamp: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** One record for the topic: a sample, or a malformed value with what is wrong with it. */
export type DemoRecord = { readonly kind: 'sample'; readonly sample: WireSample } | { readonly kind: 'malformed'; readonly value: string; readonly why: string };

const env = { environment: 'production' } as const;

/** Deterministic jitter in [-1, 1] so runs are reproducible. */
function jitter(seed: number): number {
  const x = Math.sin(seed * 12.9898) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

/** The records the demo sends at scrape time `atMs`, given the cycle started at `cycleStartMs`. */
export function demoRecordsAt(atMs: number, startMs: number): DemoRecord[] {
  const t = (((atMs - startMs) % CYCLE_MS) + CYCLE_MS) % CYCLE_MS;
  const step = Math.round((atMs - startMs) / SCRAPE_MS);
  const out: DemoRecord[] = [];
  const sample = (name: string, value: number, labels: Record<string, string>): void => {
    out.push({ kind: 'sample', sample: { name, value: Math.round(value * 100) / 100, timestamp: atMs, labels: { ...env, ...labels } } });
  };

  const cpuSpike = t >= 30_000 && t < 120_000;
  sample('cpu_usage_percent', cpuSpike ? 95 + 2 * jitter(step) : 35 + 5 * jitter(step), { instance: 'web-1' });
  const web2Spike = t >= 100_000 && t < 170_000;
  sample('cpu_usage_percent', web2Spike ? 93 + 2 * jitter(step + 7) : 30 + 5 * jitter(step + 7), { instance: 'web-2' });
  const web3Spike = t >= 60_000 && t < 140_000;
  sample('cpu_usage_percent', web3Spike ? 94 + 2 * jitter(step + 11) : 32 + 5 * jitter(step + 11), { instance: 'web-3' });

  const disk = t < 200_000 ? Math.min(99, 80 + t / 10_000) : 45;
  sample('disk_used_percent', disk, { instance: 'db-1', mount: '/data' });

  const heartbeatAlive = t < 90_000 || t >= 200_000;
  if (heartbeatAlive) sample('heartbeat', 1, { job: 'nightly-etl' });

  const errorHigh = Math.floor(t / 30_000) % 2 === 1;
  sample('http_error_rate_percent', errorHigh ? 7 + jitter(step) : 0.5 + 0.2 * jitter(step), { service: 'checkout' });

  if (t === 40_000) out.push({ kind: 'malformed', value: 'cpu_usage_percent{instance="web-1"} 93.5', why: 'Prometheus text instead of JSON' });
  if (t === 160_000) {
    out.push({
      kind: 'malformed',
      value: JSON.stringify({ name: 'disk_used_percent', value: 'almost full', timestamp: atMs, labels: { instance: 'db-1' } }),
      why: 'value is not a number',
    });
  }
  return out;
}

/** Whether the demo's Slack outage is on at `atMs`. */
export function slackOutageAt(atMs: number, startMs: number): boolean {
  const t = (((atMs - startMs) % CYCLE_MS) + CYCLE_MS) % CYCLE_MS;
  return t >= SLACK_OUTAGE.fromMs && t < SLACK_OUTAGE.toMs;
}
