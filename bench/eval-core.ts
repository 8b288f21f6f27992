/**
 * Core evaluation benchmark: 1,000 rules over 10,000 series (100 metrics × 100 series, 10 rules per
 * metric, each series matched by 1-2 rules, half of the rules windowed: avg, rate, quantile), records
 * as base64 JSON values of 10 samples each (one series per record), 10 samples per series per batch. Measures
 * decodeRecord + groupSamples + evaluateSeries (states in a Map, steady state after a warm-up
 * round) against plain JSON.parse of the same record values (their JSON text), in the same run.
 * Best of several rounds each, because shared machines are noisy.
 */
import { decodeRecord, defaultEventTimeBounds, MAX_LABEL_VALUE_CHARS, type KafkaRecordInput } from '../shared/core/decode/index.ts';
import { evaluateSeries, groupSamples, type SeriesState } from '../shared/core/evaluate/index.ts';
import { parseRules, RuleIndex } from '../shared/core/rules/index.ts';

const METRICS = 100;
const SERIES_PER_METRIC = 100;
const RULES_PER_METRIC = 10;
const SAMPLES_PER_SERIES = 10;
const SAMPLES_PER_RECORD = 10;
/** Lambda's default batch size for an MSK event source (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html). */
const RECORDS_PER_BATCH = 100;
const STEP_MS = 10_000;
const T0 = 1_795_300_000_000;
const ROUNDS = 6;

function rulesYaml(): string {
  const lines = ['rules:'];
  for (let m = 0; m < METRICS; m++) {
    for (let j = 0; j < RULES_PER_METRIC; j++) {
      const matcher = j % 2 === 0 ? `shard="s${j}"` : `shard=~"s${j}|s${(j + 3) % 10}"`;
      const kind = j % 4;
      const agg = kind === 1 ? '\n    aggregate: { fn: avg, window: 5m }' : kind === 2 ? '\n    aggregate: { fn: rate, window: 5m }' : kind === 3 && j % 8 === 3 ? '\n    aggregate: { fn: quantile, q: 0.9, window: 2m }' : '';
      lines.push(`  - id: r_${m}_${j}\n    metric: metric_${m}\n    matchers: ['${matcher}', 'env="prod"']${agg}\n    condition: '> 1e9'\n    for: 5m\n    severity: medium`);
    }
  }
  return lines.join('\n');
}

function buildRound(round: number): { records: KafkaRecordInput[]; texts: string[]; samples: number } {
  const records: KafkaRecordInput[] = [];
  const texts: string[] = [];
  let buf: unknown[] = [];
  let offset = round * 1_000_000;
  let samples = 0;
  // A producer keyed by series: a series' samples of the round travel together, so a batch holds
  // 10 samples per series (as the steady state).
  for (let m = 0; m < METRICS; m++) {
    for (let s = 0; s < SERIES_PER_METRIC; s++) {
      for (let k = 0; k < SAMPLES_PER_SERIES; k++) {
        const ts = T0 + (round * SAMPLES_PER_SERIES + k) * STEP_MS;
        buf.push({ name: `metric_${m}`, value: (round * SAMPLES_PER_SERIES + k) * 7 + s * 0.25, timestamp: ts, labels: { instance: `i-${m}-${s}`, shard: `s${s % 10}`, env: 'prod', region: 'eu-west-1' } });
        samples++;
        if (buf.length === SAMPLES_PER_RECORD) {
          const text = JSON.stringify(buf);
          texts.push(text);
          records.push({ topic: 'metrics', partition: offset % 6, offset: offset++, timestamp: ts, value: Buffer.from(text).toString('base64') });
          buf = [];
        }
      }
    }
  }
  return { records, texts, samples };
}

/** Evaluates records as Lambda batches of {@link RECORDS_PER_BATCH}; returns the samples evaluated. */
function evaluateRecords(index: RuleIndex, states: Map<string, SeriesState>, records: readonly KafkaRecordInput[]): number {
  let evaluated = 0;
  for (let b = 0; b < records.length; b += RECORDS_PER_BATCH) {
    const samples = [];
    const end = Math.min(records.length, b + RECORDS_PER_BATCH);
    // The clock as the evaluator would read it: just after the batch's newest record.
    const bounds = defaultEventTimeBounds(records[end - 1]!.timestamp);
    for (let i = b; i < end; i++) {
      const d = decodeRecord(records[i]!, bounds);
      for (const s of d.samples) samples.push(s);
    }
    for (const batch of groupSamples(index, samples)) {
      const res = evaluateSeries(batch, states.get(batch.stateKey));
      states.set(batch.stateKey, res.state);
      evaluated += batch.samples.length;
    }
  }
  return evaluated;
}

/** Runs the benchmark; see the file comment. */
export async function benchCoreEvaluation(): Promise<{ samplesPerSec: number; jsonParsePerSec: number; ratio: number }> {
  const index = new RuleIndex(parseRules(rulesYaml(), 'bench'));
  const states = new Map<string, SeriesState>();
  let evaluated = 0;

  const evaluate = (records: readonly KafkaRecordInput[]): void => {
    evaluated += evaluateRecords(index, states, records);
  };

  evaluate(buildRound(0).records); // warm-up: states exist, JIT warm
  // Interleaved, best of each: the two measurements see the same machine conditions. Rounds are
  // built one at a time (untimed) so the heap holds one round, not all of them.
  let best = Infinity;
  let bestParse = Infinity;
  let sink = 0;
  let samples = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const r = buildRound(round);
    samples = r.samples;
    let t = performance.now();
    evaluate(r.records);
    best = Math.min(best, performance.now() - t);
    t = performance.now();
    for (const text of r.texts) sink += (JSON.parse(text) as unknown[]).length;
    bestParse = Math.min(bestParse, performance.now() - t);
  }
  if (sink === 0 || evaluated === 0) throw new Error('benchmark did no work');
  const samplesPerSec = samples / (best / 1000);
  const jsonParsePerSec = samples / (bestParse / 1000);
  return { samplesPerSec, jsonParsePerSec, ratio: samplesPerSec / jsonParsePerSec };
}

/**
 * Regex rules that backtrack catastrophically on a crafted value in a backtracking engine (the
 * first two: polynomial and exponential), and an ordinary one. Three per metric, on `instance`.
 */
const ADVERSARIAL_RULE_REGEXES = ['.*-.*-.*-.*-prod', '(.*-)+prod', '(web|db|cache)-.*'] as const;
const ADVERSARIAL_METRICS = 10;
const ADVERSARIAL_SERIES_PER_METRIC = 100;
/** Each round is one small batch (milliseconds): more rounds than above for a stable best-of. */
const ADVERSARIAL_ROUNDS = 2 * ROUNDS;

function regexRulesYaml(): string {
  const lines = ['rules:'];
  for (let m = 0; m < ADVERSARIAL_METRICS; m++) {
    ADVERSARIAL_RULE_REGEXES.forEach((re, j) => {
      lines.push(`  - id: rx_${m}_${j}\n    metric: metric_${m}\n    matchers: ['instance=~"${re}"', 'env="prod"']\n    condition: '> 1e9'\n    for: 5m\n    severity: medium`);
    });
  }
  return lines.join('\n');
}

/**
 * One Lambda batch ({@link RECORDS_PER_BATCH} records of {@link SAMPLES_PER_RECORD}): one sample for
 * each of 1,000 known series, except the last, which comes from a series never seen before (so the
 * rule index's series memo cannot answer for it and every matcher runs): with `hostile`, its
 * `instance` is a {@link MAX_LABEL_VALUE_CHARS}-character `a-a-a-…` (the largest value decoding
 * lets through), new each round as an attacker would send it; otherwise an ordinary new instance.
 */
function regexBatch(round: number, hostile: boolean): KafkaRecordInput[] {
  const ts = T0 + round * STEP_MS;
  const samples: unknown[] = [];
  for (let m = 0; m < ADVERSARIAL_METRICS; m++) {
    for (let s = 0; s < ADVERSARIAL_SERIES_PER_METRIC; s++) {
      samples.push({ name: `metric_${m}`, value: round + s, timestamp: ts, labels: { instance: `web-eu-${m}-${s}-prod`, env: 'prod' } });
    }
  }
  // Neither new value matches a rule: the two batches differ only in the work of the regexes.
  const instance = hostile ? `${round}-${'a-'.repeat(MAX_LABEL_VALUE_CHARS)}`.slice(0, MAX_LABEL_VALUE_CHARS) : `host-new-${round}`;
  samples[samples.length - 1] = { name: 'metric_0', value: round, timestamp: ts, labels: { instance, env: 'prod' } };
  const records: KafkaRecordInput[] = [];
  for (let i = 0; i < samples.length; i += SAMPLES_PER_RECORD) {
    const text = JSON.stringify(samples.slice(i, i + SAMPLES_PER_RECORD));
    records.push({ topic: 'metrics', partition: 0, offset: round * 1_000 + i, timestamp: ts, value: Buffer.from(text).toString('base64') });
  }
  if (records.length !== RECORDS_PER_BATCH) throw new Error('the adversarial bench batch must be one Lambda batch');
  return records;
}

/**
 * Regex denial of service: evaluation of a batch carrying one adversarial label value against
 * regex rules, as a ratio to the same batch with an ordinary new value instead (goal ≤ 1.5×). Best
 * of several interleaved rounds each; rounds advance in time so both see the steady state.
 */
export async function benchAdversarialRegex(): Promise<{ plainMs: number; adversarialMs: number; ratio: number }> {
  const index = new RuleIndex(parseRules(regexRulesYaml(), 'bench-regex'));
  const states = new Map<string, SeriesState>();
  let evaluated = evaluateRecords(index, states, regexBatch(0, false)); // warm-up: states exist, JIT warm
  evaluated += evaluateRecords(index, states, regexBatch(1, true));
  let plainMs = Infinity;
  let adversarialMs = Infinity;
  for (let k = 1; k <= ADVERSARIAL_ROUNDS; k++) {
    const plain = regexBatch(2 * k, false);
    const hostile = regexBatch(2 * k + 1, true);
    let t = performance.now();
    evaluated += evaluateRecords(index, states, plain);
    plainMs = Math.min(plainMs, performance.now() - t);
    t = performance.now();
    evaluated += evaluateRecords(index, states, hostile);
    adversarialMs = Math.min(adversarialMs, performance.now() - t);
  }
  if (evaluated === 0) throw new Error('benchmark did no work');
  return { plainMs, adversarialMs, ratio: adversarialMs / plainMs };
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchCoreEvaluation();
  process.stdout.write(`${JSON.stringify({ samplesPerSec: Math.round(r.samplesPerSec), jsonParsePerSec: Math.round(r.jsonParsePerSec), ratio: Math.round(r.ratio * 1000) / 1000 })}\n`);
}
