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
 * - Airflow job events (docs/events.md), routed by the demo routes to the `data` receiver, grouped
 *   by category and error: `etl_daily.load_orders` fails with S3 AccessDenied at 20 s and 50 s
 *   (tries 1 and 2 of 3: low, the runner will retry) and for good at 80 s (high: credentials, the
 *   same alert fires again at the worse severity); three more tasks of three DAGs fail the same
 *   way from 90 s to 110 s, so one Slack message says `ClientError in 4 tasks of 3 DAGs`; they all
 *   succeed at 230 s (auto-resolution). `reporting.refresh_dashboard` times out at 120 s every
 *   cycle and never succeeds: one alert whose occurrence count grows ("+N since").
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

/** A job event in the wire format (docs/events.md). */
export type WireJobEvent = Readonly<Record<string, unknown>> & { readonly kind: 'error' | 'success'; readonly service: string; readonly task: string };

/** One record for the topic: a sample, a job event, or a malformed value with what is wrong with it. */
export type DemoRecord =
  | { readonly kind: 'sample'; readonly sample: WireSample }
  | { readonly kind: 'event'; readonly event: WireJobEvent }
  | { readonly kind: 'malformed'; readonly value: string; readonly why: string };

/** The demo's Airflow tasks that fail with S3 AccessDenied (DAG, task). */
export const DEMO_ACCESS_DENIED_TASKS = [
  ['etl_daily', 'load_orders'],
  ['etl_daily', 'load_customers'],
  ['finance', 'export_ledger'],
  ['ml_features', 'build_features'],
] as const;

/** The Airflow events of the demo at cycle time `t` (ms), stamped `atMs`. */
function airflowEvents(t: number, atMs: number, cycle: number): WireJobEvent[] {
  const run = `scheduled__${new Date(atMs - t).toISOString().slice(0, 19)}+00:00`;
  const logUrl = (dag: string, task: string) => `http://localhost:8080/dags/${dag}/grid?task_id=${task}&dag_run_id=${encodeURIComponent(run)}`;
  const accessDenied = (dag: string, task: string, tryNumber: number, maxTries: number): WireJobEvent => ({
    kind: 'error',
    source: 'airflow',
    service: dag,
    task,
    run,
    try: tryNumber,
    maxTries,
    error: {
      type: 'botocore.exceptions.ClientError',
      message: `An error occurred (AccessDenied) when calling the GetObject operation: Access Denied\ns3://lake-raw/${dag}/${task}/part-${cycle}-${tryNumber}.parquet`,
      stack: `Traceback (most recent call last):\n  File "/opt/airflow/dags/${dag}.py", line 42, in ${task}\n    s3.get_object(Bucket="lake-raw", Key=key)\nbotocore.exceptions.ClientError: An error occurred (AccessDenied)`,
    },
    logUrl: logUrl(dag, task),
    tags: { team: 'data', tier: '2', owner: 'data-eng' },
    timestamp: atMs,
  });
  const out: WireJobEvent[] = [];
  const [first, ...others] = DEMO_ACCESS_DENIED_TASKS;
  if (t === 20_000) out.push(accessDenied(first[0], first[1], 1, 3));
  if (t === 50_000) out.push(accessDenied(first[0], first[1], 2, 3));
  if (t === 80_000) out.push(accessDenied(first[0], first[1], 3, 3));
  others.forEach(([dag, task], i) => {
    if (t === 90_000 + i * SCRAPE_MS) out.push(accessDenied(dag, task, 1, 1));
  });
  if (t === 120_000) {
    out.push({
      kind: 'error',
      source: 'airflow',
      service: 'reporting',
      task: 'refresh_dashboard',
      run,
      try: 2,
      maxTries: 2,
      error: { type: 'airflow.exceptions.AirflowTaskTimeout', message: `Timeout, PID: ${4000 + cycle}` },
      logUrl: logUrl('reporting', 'refresh_dashboard'),
      tags: { team: 'data', tier: '3' },
      timestamp: atMs,
    });
  }
  if (t === 230_000) for (const [dag, task] of DEMO_ACCESS_DENIED_TASKS) out.push({ kind: 'success', source: 'airflow', service: dag, task, run, timestamp: atMs });
  return out;
}

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

  for (const event of airflowEvents(t, atMs, Math.floor((atMs - startMs) / CYCLE_MS))) out.push({ kind: 'event', event });

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
