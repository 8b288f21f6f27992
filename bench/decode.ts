/**
 * Decode of adversarial records against ordinary ones, in the same run (ratios, because shared
 * machines are noisy). Adversarial: a 10 KB record of nested arrays (it used to overflow the stack),
 * a 10 KB record of 5,000 invalid samples (it used to become 5,000 rejected messages), a sample with
 * 1,000 unknown keys (its reason used to list them all) and a sample stamped a day in the future.
 * Ordinary: records of 10 valid samples, as bench/eval-core.ts sends. Best of several rounds each.
 */
import { decodeRecord, defaultEventTimeBounds, type KafkaRecordInput } from '../shared/core/decode/index.ts';

const T0 = 1_795_300_000_000;
const ROUNDS = 5;
const RECORDS_PER_ROUND = 2_000;

function record(text: string, offset: number): KafkaRecordInput {
  return { topic: 'metrics', partition: 0, offset, timestamp: T0, value: Buffer.from(text, 'utf8').toString('base64') };
}

function ordinary(i: number): string {
  return JSON.stringify(Array.from({ length: 10 }, (_, k) => ({ name: `metric_${i % 100}`, value: i + k, timestamp: T0 - k * 10_000, labels: { instance: `i-${i}`, env: 'prod', region: 'eu-west-1' } })));
}

const ADVERSARIAL = [
  `[${'['.repeat(5_000)}${']'.repeat(5_000)}]`,
  `[${Array.from({ length: 5_000 }, () => '1').join(',')}]`,
  `{"name":"m","value":1,${Array.from({ length: 1_000 }, (_, i) => `"k${i}":1`).join(',')}}`,
  JSON.stringify({ name: 'm', value: 1, timestamp: T0 + 86_400_000 }),
];

/** Records decoded per second (best round). */
function rate(records: readonly KafkaRecordInput[]): number {
  const bounds = defaultEventTimeBounds(T0);
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    let n = 0;
    for (const rec of records) n += decodeRecord(rec, bounds).rejected.length;
    const secs = (performance.now() - start) / 1000;
    if (n < 0) throw new Error('unreachable'); // keeps the work observable
    best = Math.max(best, records.length / secs);
  }
  return best;
}

/** Runs the benchmark; see the file comment. */
export function benchDecode(): { adversarialDecodeRecordsPerSec: number; ordinaryDecodeRecordsPerSec: number; adversarialDecodeRatio: number } {
  const ord = Array.from({ length: RECORDS_PER_ROUND }, (_, i) => record(ordinary(i), i));
  const adv = Array.from({ length: RECORDS_PER_ROUND }, (_, i) => record(ADVERSARIAL[i % ADVERSARIAL.length]!, i));
  rate(ord.slice(0, 200)); // warm-up
  rate(adv.slice(0, 200));
  const ordinaryDecodeRecordsPerSec = rate(ord);
  const adversarialDecodeRecordsPerSec = rate(adv);
  return { adversarialDecodeRecordsPerSec, ordinaryDecodeRecordsPerSec, adversarialDecodeRatio: adversarialDecodeRecordsPerSec / ordinaryDecodeRecordsPerSec };
}
