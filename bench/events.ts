/**
 * Error events (issue 11): events validated, classified (the built-in rules) and fingerprinted per
 * second, and the ratio to plain `JSON.parse` of the same event lines in the same run (goal
 * ≥ 0.5). Interleaved rounds, best of each, as bench/eval-core.ts measures evaluation.
 *
 * The events are what Airflow sends: a mix of the default classification's cases (credentials,
 * out of memory, timeouts, upstream, data quality, network, retries, tier-1 final failures,
 * unclassified), with real-looking messages carrying ids, addresses, times and durations for the
 * normaliser, a stack of ~1.5 KB each, and distinct services and tasks.
 */
import { classifyEvent } from '../shared/core/events/classify.ts';
import { DEFAULT_CLASSIFICATION } from '../shared/core/events/default-classification.ts';
import { parseJobEvent } from '../shared/core/events/event.ts';
import { fingerprintOf } from '../shared/core/events/fingerprint.ts';

const EVENTS_PER_ROUND = 5_000;
const ROUNDS = 7;

const ERRORS: readonly { type: string; message: (i: number) => string }[] = [
  { type: 'botocore.exceptions.ClientError', message: (i) => `An error occurred (AccessDenied) when calling the GetObject operation: Access Denied for s3://bucket-${i % 7}/path/${i}.parquet` },
  { type: 'MemoryError', message: () => '' },
  { type: 'airflow.exceptions.AirflowTaskTimeout', message: (i) => `Timeout, PID: ${10_000 + i}` },
  { type: 'psycopg2.OperationalError', message: (i) => `could not connect to server: Connection refused\n\tIs the server running on host "10.0.${i % 255}.7" and accepting TCP/IP connections on port 5432?` },
  { type: 'great_expectations.exceptions.ValidationError', message: (i) => `expect_column_values_to_not_be_null failed for column customer_id: ${i} unexpected values (run 2026-11-28T02:0${i % 10}:00Z)` },
  { type: 'ConnectionResetError', message: (i) => `[Errno 104] Connection reset by peer after ${(i % 90) + 0.5}s (request ${i.toString(16).padStart(8, '0')}-1b44-4e1a-9f00-3c2d1e0a9b77)` },
  { type: 'ValueError', message: (i) => `invalid literal for int() with base 10: 'row-${i}' in file https://data.example.com/exports/${i}.csv` },
];

const STACK = `Traceback (most recent call last):\n${'  File "/opt/airflow/dags/etl.py", line 120, in load\n    rows = fetch(conn, query)\n'.repeat(16)}`;

export function eventLine(i: number): string {
  const e = ERRORS[i % ERRORS.length]!;
  const tryNumber = (i % 3) + 1;
  return JSON.stringify({
    kind: 'error',
    source: 'airflow',
    service: `dag_${i % 50}`,
    task: `task_${i % 13}`,
    run: `scheduled__2026-11-28T02:00:00+00:00`,
    try: tryNumber,
    maxTries: 3,
    error: { type: e.type, message: e.message(i), stack: STACK },
    logUrl: `https://airflow.example.com/log?dag_id=dag_${i % 50}&task_id=task_${i % 13}`,
    tags: { team: `team-${i % 5}`, tier: String((i % 3) + 1) },
    timestamp: '2026-11-28T02:04:10Z',
  });
}

/**
 * Events per second through JSON.parse + validate + classify + fingerprint (the whole path, the
 * figure held against the goal), plain JSON.parse of the same lines, and their ratio; and, beside
 * it, classification + fingerprinting alone of the same (already validated) events and its ratio
 * to JSON.parse: the words ("events classified and fingerprinted per second") can be read
 * either way, so both are reported.
 */
export function benchEvents(): { eventsPerSec: number; jsonParsePerSec: number; ratio: number; classifyFingerprintPerSec: number; classifyFingerprintRatio: number } {
  let sink = 0;
  let best = Infinity;
  let bestParse = Infinity;
  let bestCore = Infinity;
  for (let round = 0; round <= ROUNDS; round++) {
    const lines = Array.from({ length: EVENTS_PER_ROUND }, (_, i) => eventLine(round * EVENTS_PER_ROUND + i));
    let t = performance.now();
    for (const line of lines) {
      const r = parseJobEvent(JSON.parse(line));
      if (!r.ok || r.event.kind !== 'error') throw new Error(`bench event refused: ${r.ok ? 'not an error' : r.reason}`);
      const d = classifyEvent(r.event, DEFAULT_CLASSIFICATION, r.event.timestampMs);
      const f = fingerprintOf(r.event);
      sink += d.severity.length + f.fingerprint.length;
    }
    // Round 0 warms the JIT up.
    if (round > 0) best = Math.min(best, performance.now() - t);
    t = performance.now();
    for (const line of lines) sink += Object.keys(JSON.parse(line) as object).length;
    if (round > 0) bestParse = Math.min(bestParse, performance.now() - t);
    const events = lines.map((line) => {
      const r = parseJobEvent(JSON.parse(line));
      if (!r.ok || r.event.kind !== 'error') throw new Error('bench event refused');
      return r.event;
    });
    t = performance.now();
    for (const e of events) sink += classifyEvent(e, DEFAULT_CLASSIFICATION, e.timestampMs).severity.length + fingerprintOf(e).fingerprint.length;
    if (round > 0) bestCore = Math.min(bestCore, performance.now() - t);
  }
  if (sink === 0) throw new Error('benchmark did no work');
  const eventsPerSec = EVENTS_PER_ROUND / (best / 1000);
  const jsonParsePerSec = EVENTS_PER_ROUND / (bestParse / 1000);
  const classifyFingerprintPerSec = EVENTS_PER_ROUND / (bestCore / 1000);
  return { eventsPerSec, jsonParsePerSec, ratio: eventsPerSec / jsonParsePerSec, classifyFingerprintPerSec, classifyFingerprintRatio: classifyFingerprintPerSec / jsonParsePerSec };
}
