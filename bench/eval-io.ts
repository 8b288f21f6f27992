/**
 * Evaluation I/O benchmark (issue 2): DynamoDB requests per 1,000 samples at steady state, against
 * a naive per-sample read/write loop on the same table, and the peak memory of one 10,000-record
 * batch through the real evaluator handler. Starts its own DynamoDB Local and fauxqs.
 *
 * Steady state: every series already has an item, each batch carries 10 samples per series, and no
 * sample crosses the threshold, so no transition is published; what is left is reading and writing
 * state. Requests are counted by a middleware on the DynamoDB client (every `send`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { createEvaluatorHandler } from '../functions/evaluator/app.ts';
import { DynamoSampleLog } from '../shared/adapters/dynamodb/sample-log.ts';
import { DynamoSeriesStateStore } from '../shared/adapters/dynamodb/series-state-store.ts';
import { DynamoSeriesBudget } from '../shared/adapters/dynamodb/series-budget.ts';
import { SqsTransitionPublisher } from '../shared/adapters/sqs/transition-publisher.ts';
import { SqsRejectedSink } from '../shared/adapters/sqs/rejected-sink.ts';
import { CachedRules } from '../shared/adapters/rules/index.ts';
import { createMetrics } from '../shared/adapters/observability/index.ts';
import type { Provisioned } from '../local/provision.ts';
import { evaluateSeries, groupSamples, type SeriesState } from '../shared/core/evaluate/index.ts';
import { parseRules, RuleIndex } from '../shared/core/rules/index.ts';
import { decodeRecord, defaultEventTimeBounds } from '../shared/core/decode/index.ts';
import type { MskEvent, MskRecord } from '../shared/adapters/kafka/index.ts';
import type { MetricSample } from '../shared/core/model/index.ts';

const RULES = `
rules:
  - id: bench_high
    metric: bench_metric
    condition: '> 1000000'
    for: 1m
    severity: low
  - id: bench_avg
    metric: bench_metric
    aggregate: { fn: avg, window: 5m }
    condition: '> 1000000'
    severity: low
`;
const T0 = 1_795_300_000_000;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function countSends(client: DynamoDBClient): { total(): number; reset(): void } {
  let n = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      n++;
      return await next(args);
    },
    { step: 'initialize', name: 'bench-count' },
  );
  return { total: () => n, reset: () => void (n = 0) };
}

/** An MSK event of `series` × `perSeries` one-sample records, series spread over 4 partitions. */
function event(series: number, perSeries: number, batch: number, prefix: string): MskEvent {
  const records: Record<string, MskRecord[]> = {};
  const offsets = [0, 0, 0, 0];
  // Contiguous offsets per partition from one batch to the next, as Kafka gives them.
  const perPartitionPerBatch = perSeries * Math.ceil(series / 4);
  for (let j = 0; j < perSeries; j++) {
    const t = T0 + (batch * perSeries + j) * 10_000;
    for (let s = 0; s < series; s++) {
      const partition = s % 4;
      const value = Buffer.from(
        JSON.stringify({ name: 'bench_metric', value: 40 + ((s + j) % 20), timestamp: t, labels: { instance: `${prefix}-${s}`, environment: 'production', region: 'eu-west-1' } }),
      ).toString('base64');
      (records[`bench-${partition}`] ??= []).push({ topic: 'bench', partition, offset: batch * perPartitionPerBatch + offsets[partition]!++, timestamp: t, timestampType: 'CREATE_TIME', key: null, value, headers: [] });
    }
  }
  return { eventSource: 'aws:kafka', records };
}

/**
 * The real evaluator handler on the bench's tables and queues (silent logger and metrics), with
 * `rules` (YAML), windows derived (the default deployment) unless told otherwise.
 */
export function benchHandler(dynamodb: DynamoDBClient, sqs: SQSClient, p: Provisioned, rules = RULES, windows: 'derived' | 'stored' = 'derived') {
  const clock = { now: () => Date.now() };
  const metrics = createMetrics('evaluator');
  const silent = { log: () => undefined };
  (metrics as unknown as { console: typeof silent }).console = silent;
  // A dimensioned metric is its own Metrics instance with its own console: silence those too (stdout carries only the bench's JSON line).
  const single = metrics.singleMetric.bind(metrics);
  metrics.singleMetric = () => {
    const m = single();
    (m as unknown as { console: typeof silent }).console = silent;
    return m;
  };
  return createEvaluatorHandler({
    rules: new CachedRules({ source: { name: 'bench', fetch: async () => [{ origin: 'bench', kind: 'document', text: rules }] }, ttlMs: 3_600_000, clock }),
    states: new DynamoSeriesStateStore<SeriesState>({ client: dynamodb, table: p.tables.state, clock }),
    publisher: new SqsTransitionPublisher({ client: sqs, queueUrl: p.queues.alertEvents.url }),
    rejected: new SqsRejectedSink({ client: sqs, queueUrl: p.queues.rejected.url }),
    budget: new DynamoSeriesBudget({ client: dynamodb, table: p.tables.state }),
    clock,
    logger: new Logger({ serviceName: 'evaluator', logLevel: 'SILENT' }),
    metrics,
    staleAfterMs: 300_000,
    // The samples are at a fixed event time (T0, in the past) while this clock is the wall clock:
    // no event-time bound here (they are not what this bench measures).
    eventTime: { maxFutureSkewMs: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER },
    ...(windows === 'derived' ? { derived: { log: new DynamoSampleLog({ client: dynamodb, table: p.tables.samples }) } } : {}),
  });
}

/** Decode bounds of the naive loop: no clock (see benchHandler). */
const NO_CLOCK = defaultEventTimeBounds(undefined);

/**
 * Child-process side of the memory measurement: a bundled copy of this module (as Lambda runs the
 * function: esbuild bundle, plain `node`, no TypeScript loader) runs one 10,000-record batch and
 * reports its RSS high-water mark, sampled every 2 ms.
 */
async function memoryChild(): Promise<void> {
  const cfg = JSON.parse(process.env.KLAXON_BENCH_CFG!) as { dynamodb: string; sqs: string; p: Provisioned };
  const dynamodb = new DynamoDBClient({ endpoint: cfg.dynamodb, region: 'us-east-1', credentials: CREDENTIALS });
  const sqs = new SQSClient({ endpoint: cfg.sqs, region: 'us-east-1', credentials: CREDENTIALS });
  const handler = benchHandler(dynamodb, sqs, cfg.p);
  await handler(event(4, 1, 0, 'warm')); // module init and connections, like an earlier invocation
  const big = event(1000, 10, 0, 'memory'); // built before measuring: Lambda's runtime holds the event too
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  const res = await handler(big);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(`${JSON.stringify({ peakRss: peak, rssBefore: before, failures: res.batchItemFailures.length })}\n`);
  dynamodb.destroy();
  sqs.destroy();
}

/** Bundles this module with esbuild and runs {@link memoryChild} in a fresh `node`. */
async function measureMemoryInChild(cfg: { dynamodb: string; sqs: string; p: Provisioned }): Promise<{ peakRss: number; rssBefore: number }> {
  const { build } = await import('esbuild');
  const dir = await mkdtemp(join(tmpdir(), 'klaxon-bench-'));
  try {
    const out = join(dir, 'eval-io-child.mjs');
    await build({
      entryPoints: [fileURLToPath(import.meta.url)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      outfile: out,
      // The emulators are started by the parent only.
      external: ['../local/*', 'esbuild'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'error',
    });
    const text = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [out], { env: { ...process.env, KLAXON_BENCH_CHILD: 'memory', KLAXON_BENCH_CFG: JSON.stringify(cfg) }, stdio: ['ignore', 'pipe', 'inherit'], cwd: dirname(fileURLToPath(import.meta.url)) });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`memory child exited with ${code}`))));
    });
    const res = JSON.parse(text.trim().split('\n').pop()!) as { peakRss: number; rssBefore: number; failures: number };
    if (res.failures) throw new Error('bench memory batch failed');
    return res;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The naive baseline: for every sample, read its state, evaluate it, write it back (conditional). */
async function naiveLoop(client: DynamoDBClient, table: string, index: RuleIndex, samples: readonly MetricSample[]): Promise<void> {
  for (const s of samples) {
    for (const b of groupSamples(index, [s])) {
      const key = `naive#${b.stateKey}`;
      const got = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: key } }, ConsistentRead: true }));
      const prev = got.Item ? (JSON.parse(got.Item.state!.S!) as SeriesState) : undefined;
      const version = Number(got.Item?.version?.N ?? 0);
      const res = evaluateSeries(b, prev);
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: key }, state: { S: JSON.stringify(res.state) }, version: { N: String(version + 1) } },
          ...(got.Item ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': { N: String(version) } } } : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
    }
  }
}

/** Runs the benchmark (about half a minute); see the module comment. */
export async function benchEvaluationIo(): Promise<{
  dynamoRequestsPer1000Samples: number;
  naiveRequestsPer1000Samples: number;
  requestReduction: number;
  peakMemoryMbFor10000Records: number;
}> {
  return await withLocalAws('bench', async ({ dynamodb, sqs, p, endpoints }) => {
    const counter = countSends(dynamodb);
    const handler = benchHandler(dynamodb, sqs, p);

    // Steady state: 100 series, 10 samples each per batch (1,000 samples). Batch 0 creates the items.
    const SERIES = 100;
    const PER_SERIES = 10;
    await handler(event(SERIES, PER_SERIES, 0, 'steady'));
    counter.reset();
    const BATCHES = 5;
    for (let b = 1; b <= BATCHES; b++) {
      const res = await handler(event(SERIES, PER_SERIES, b, 'steady'));
      if (res.batchItemFailures.length) throw new Error('bench batch failed');
    }
    const samplesMeasured = BATCHES * SERIES * PER_SERIES;
    const dynamoRequestsPer1000Samples = (counter.total() / samplesMeasured) * 1000;

    // Naive: the same shape of traffic, per-sample read and write, after a warm-up batch.
    const index = new RuleIndex(parseRules(RULES, 'bench'));
    const samplesOf = (e: MskEvent): MetricSample[] => Object.values(e.records).flat().flatMap((r) => decodeRecord({ ...r, value: r.value ?? '' }, NO_CLOCK).samples);
    await naiveLoop(dynamodb, p.tables.state, index, samplesOf(event(SERIES, 1, 0, 'naive')));
    counter.reset();
    const naiveSamples = samplesOf(event(SERIES, PER_SERIES, 1, 'naive'));
    await naiveLoop(dynamodb, p.tables.state, index, naiveSamples);
    const naiveRequestsPer1000Samples = (counter.total() / naiveSamples.length) * 1000;

    // Peak memory: one 10,000-record batch (1,000 series × 10 samples) through the handler, in a
    // fresh process running the bundled code (this process carries the TypeScript loader and the
    // baseline's garbage; Lambda's "Max Memory Used" is the RSS of a process like the child).
    const mem = await measureMemoryInChild({ ...endpoints, p });
    return {
      dynamoRequestsPer1000Samples,
      naiveRequestsPer1000Samples,
      requestReduction: naiveRequestsPer1000Samples / dynamoRequestsPer1000Samples,
      peakMemoryMbFor10000Records: mem.peakRss / (1024 * 1024),
    };
  });
}

/**
 * Starts DynamoDB Local and fauxqs, provisions the topology's tables and queues under `prefix`, runs
 * `fn` with clients on them, then stops everything (whatever `fn` does).
 */
export async function withLocalAws<T>(
  prefix: string,
  fn: (env: { dynamodb: DynamoDBClient; sqs: SQSClient; p: Provisioned; endpoints: { dynamodb: string; sqs: string } }) => Promise<T>,
): Promise<T> {
  const { startDynamoDbLocal } = await import('../local/services/dynamodb-local.ts');
  const { startSqsLocal } = await import('../local/services/sqs-local.ts');
  const { provision } = await import('../local/provision.ts');
  const [ddb, sqsLocal] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
  const dynamodb = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  const sqs = new SQSClient({ endpoint: sqsLocal.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  try {
    const p = await provision({ dynamodb, sqs, prefix, ttl: false });
    return await fn({ dynamodb, sqs, p, endpoints: { dynamodb: ddb.endpoint, sqs: sqsLocal.endpoint } });
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    await Promise.all([ddb.stop(), sqsLocal.stop()]);
  }
}

if (process.env.KLAXON_BENCH_CHILD === 'memory') await memoryChild();
