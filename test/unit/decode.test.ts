import { describe, expect, it } from 'vitest';
import {
  decodeRecord,
  truncateRaw,
  decodeJsonText,
  parseRfc3339,
  defaultEventTimeBounds,
  MAX_SAMPLES_PER_RECORD,
  type EventTimeBounds,
  type KafkaRecordInput,
} from '../../shared/core/decode/index.ts';
import { REJECTED_ITEMS_PER_RECORD, REJECTED_RAW_MAX_CHARS, REJECTED_REASON_MAX_CHARS } from '../../shared/core/model/index.ts';

const REC_TS = 1795300000000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The evaluator's defaults with the clock just at the record's time. */
const B = defaultEventTimeBounds(REC_TS);
function rec(value: unknown, raw = false): KafkaRecordInput {
  const text = raw ? (value as string) : JSON.stringify(value);
  return { topic: 'metrics', partition: 3, offset: 42, timestamp: REC_TS, value: Buffer.from(text, 'utf8').toString('base64') };
}

describe('decodeRecord', () => {
  it('decodes one wire-format sample', () => {
    const out = decodeRecord(rec({ name: 'cpu_usage_percent', value: 93.5, timestamp: 1795300000123, labels: { instance: 'i-0abc', environment: 'production' } }), B);
    expect(out.rejected).toEqual([]);
    expect(out.samples).toEqual([{ name: 'cpu_usage_percent', value: 93.5, timestampMs: 1795300000123, labels: { instance: 'i-0abc', environment: 'production' } }]);
  });

  it.each([
    // epoch milliseconds are taken as they are
    [1795300000123, 1795300000123],
    // RFC 3339 with Z
    ['2026-11-21T22:26:40Z', Date.UTC(2026, 10, 21, 22, 26, 40)],
    // RFC 3339 with an offset and sub-millisecond digits (truncated to ms)
    ['2026-11-21T23:26:40.123456+01:00', Date.UTC(2026, 10, 21, 22, 26, 40, 123)],
    // absent: the Kafka record's timestamp
    [undefined, REC_TS],
  ])('reads timestamp %j as %d', (timestamp, expected) => {
    const out = decodeRecord(rec({ name: 'm', value: 1, ...(timestamp !== undefined ? { timestamp } : {}) }), B);
    expect(out.samples[0]?.timestampMs).toBe(expected);
  });

  it('rejects a sample without timestamp when the record has none', () => {
    const out = decodeRecord({ ...rec([{ name: 'a', value: 1 }, { name: 'b', value: 2, timestamp: 1795300000000 }]), timestamp: Number.NaN }, B);
    expect(out.samples.map((s) => s.name)).toEqual(['b']);
    expect(out.rejected.map((r) => r.reason)).toEqual(['[0].timestamp: missing, and the record has no usable timestamp']);
  });

  it('accepts the seed format, instance_id becoming the label `instance`', () => {
    const out = decodeRecord(rec({ metric_name: 'disk_used_percent', value: 96, instance_id: 'db-1', tags: { mount: '/data', instance: 'ignored' } }), B);
    expect(out.samples).toEqual([{ name: 'disk_used_percent', value: 96, timestampMs: REC_TS, labels: { mount: '/data', instance: 'db-1' } }]);
  });

  it('rejects only the bad sample of an array, naming its index and field', () => {
    const out = decodeRecord(rec([{ name: 'a', value: 1 }, { name: 'b', value: 'high' }, { value: 3 }, { name: 'd', value: 4 }]), B);
    expect(out.samples.map((s) => s.name)).toEqual(['a', 'd']);
    expect(out.rejected.map((r) => r.reason)).toEqual(['[1].value: expected a finite number', '[2].name: expected a metric name']);
    expect(out.rejected[0]).toMatchObject({ source: { topic: 'metrics', partition: 3, offset: 42, timestampMs: REC_TS }, raw: '{"name":"b","value":"high"}', rawTruncated: false });
  });

  it('accepts labels up to the total size bound', () => {
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`l${i}`, 'x'.repeat(1000)]));
    expect(decodeRecord(rec({ name: 'm', value: 1, labels }), B).samples).toHaveLength(1);
  });

  it.each([
    // not JSON at all
    ['{"name": "cpu", value', true, /^value: not JSON/],
    // JSON, but neither an object nor an array
    ['42', true, /^value: expected a JSON sample object or an array/],
    // a label value that is not a string
    [{ name: 'm', value: 1, labels: { a: 1 } }, false, /^labels\.a: expected a string/],
    // seconds instead of milliseconds
    [{ name: 'm', value: 1, timestamp: 1795300000 }, false, /^timestamp: /],
    // an invalid date
    [{ name: 'm', value: 1, timestamp: '2026-13-45T00:00:00Z' }, false, /^timestamp: /],
    // a typo in a field name is not silently dropped
    [{ name: 'm', value: 1, lables: { a: 'b' } }, false, /lables/],
    // reserved label name
    [{ name: 'm', value: 1, labels: { __name__: 'x' } }, false, /^labels\.__name__: /],
    // metric name with spaces
    [{ name: 'cpu usage', value: 1 }, false, /^name: expected a metric name/],
    // labels over 8,192 characters in all (each value within its own 1,024 limit): they would bloat stored state
    [{ name: 'm', value: 1, labels: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`l${i}`, 'x'.repeat(1000)])) }, false, /^labels: labels too large: 9,018 UTF-16 code units of names and values \(at most 8,192 in all\)$/],
    // the same in the seed format's tags
    [{ metric_name: 'm', value: 1, tags: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`l${i}`, 'x'.repeat(1000)])) }, false, /^tags: labels too large/],
  ])('rejects %# with a reason', (value, raw, reason) => {
    const out = decodeRecord(rec(value, raw), B);
    expect(out.samples).toEqual([]);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]!.reason).toMatch(reason);
  });

  it.each([
    // a tombstone
    [null, /empty/],
    // base64 of bytes that are not UTF-8
    [Buffer.from([0xff, 0xfe, 0xfd]).toString('base64'), /not base64 of UTF-8 text/],
    // not base64: decodes to bytes that are not UTF-8 JSON
    ['%%%not-base64%%%', /not base64 of UTF-8 text|not JSON/],
  ])('rejects the undecodable record value %j', (value, reason) => {
    const out = decodeRecord({ topic: 't', partition: 0, offset: 1, timestamp: REC_TS, value }, B);
    expect(out.samples).toEqual([]);
    // One rejection, at the record's Kafka coordinates, with a reason that says what was wrong.
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]!.source).toEqual({ topic: 't', partition: 0, offset: 1, timestampMs: REC_TS });
    expect(out.rejected[0]!.reason).toMatch(reason);
  });

  it('truncates a long raw value without splitting a surrogate pair', () => {
    const emoji = '😀';
    const text = `x${emoji.repeat(REJECTED_RAW_MAX_CHARS)}`; // the cut falls inside a pair
    const t = truncateRaw(text);
    expect(t.rawTruncated).toBe(true);
    expect(t.raw.length).toBe(REJECTED_RAW_MAX_CHARS - 1);
    expect(t.raw.endsWith(emoji)).toBe(true);
    const out = decodeRecord(rec(`not json ${'a'.repeat(20_000)}`, true), B);
    expect(out.rejected[0]!.raw.length).toBe(REJECTED_RAW_MAX_CHARS);
    expect(out.rejected[0]!.rawTruncated).toBe(true);
  });
});

describe('decodeJsonText', () => {
  it('requires a timestamp when there is no record timestamp', () => {
    const replay = { bounds: defaultEventTimeBounds(undefined) };
    expect(decodeJsonText('{"name":"m","value":1}', replay).reasons).toEqual(['timestamp: missing, and the record has no usable timestamp']);
    expect(decodeJsonText('[{"name":"m","value":1,"timestamp":1795300000000}]', replay).samples).toHaveLength(1);
  });
  it('parses RFC 3339 strictly', () => {
    expect(parseRfc3339('2026-11-21 22:26:40Z')).toBe(Date.UTC(2026, 10, 21, 22, 26, 40));
    expect(parseRfc3339('2026-11-21')).toBeUndefined();
  });
});

describe('event time at decode', () => {
  /** A record at `recordMs` holding `sample`, decoded with the clock at `nowMs`. */
  function at(sample: Record<string, unknown>, opts: { nowMs?: number | undefined; recordMs?: number; bounds?: Partial<EventTimeBounds> } = {}) {
    const bounds: EventTimeBounds = { ...defaultEventTimeBounds('nowMs' in opts ? opts.nowMs : REC_TS), ...opts.bounds };
    return decodeRecord({ ...rec([{ name: 'm', value: 1, ...sample }]), timestamp: opts.recordMs ?? REC_TS }, bounds);
  }

  it.each([
    // a day ahead of the clock: it would make every later sample of its series "out of order"
    [{ timestamp: REC_TS + DAY }, {}, '[1].timestamp: 1d in the future (max skew 10m)'],
    // the year 2100, as RFC 3339
    [{ timestamp: '2100-01-01T00:00:00Z' }, {}, '[1].timestamp: 73 years in the future (max skew 10m)'],
    // microseconds taken for milliseconds: refused before any clock is consulted
    [{ timestamp: REC_TS * 1000 }, {}, '[1].timestamp: expected epoch milliseconds, below 100000000000000 (year 5138): this looks like microseconds or nanoseconds'],
    // older than the maximum age (Kafka's retention, the state TTL)
    [{ timestamp: REC_TS - 9 * DAY }, {}, '[1].timestamp: 9d old (max age 7d)'],
    // ahead of its own Kafka record by more than the skew, though the clock is later still
    [{ timestamp: REC_TS + HOUR }, { nowMs: REC_TS + 2 * HOUR }, "[1].timestamp: 1h after its Kafka record's timestamp (max skew 10m)"],
    // no timestamp of its own, and the record's is a day ahead of the clock
    [{}, { recordMs: REC_TS + DAY }, "[1].timestamp: missing, and the record's timestamp is 1d in the future (max skew 10m)"],
    // configured bounds are the ones applied, and named
    [{ timestamp: REC_TS + 2 * MIN }, { bounds: { maxFutureSkewMs: MIN } }, '[1].timestamp: 2m in the future (max skew 1m)'],
    [{ timestamp: REC_TS - 2 * DAY }, { bounds: { maxAgeMs: DAY } }, '[1].timestamp: 2d old (max age 1d)'],
    // replay (no clock): bounded by the record's time only
    [{ timestamp: REC_TS - 9 * DAY }, { nowMs: undefined }, "[1].timestamp: 9d before its Kafka record's timestamp (max age 7d)"],
  ])('rejects %j (%j) as %s', (sample, opts, reason) => {
    const out = at(sample, opts);
    expect(out.rejected.map((r) => r.reason)).toEqual([reason.replace('[1]', '[0]')]);
    expect(out.samples).toEqual([]);
  });

  it('rejects only the out-of-bounds sample of a record', () => {
    const out = decodeRecord(rec([{ name: 'a', value: 1 }, { name: 'b', value: 2, timestamp: REC_TS + DAY }, { name: 'c', value: 3 }]), B);
    expect(out.samples.map((s) => s.name)).toEqual(['a', 'c']);
    expect(out.rejected.map((r) => r.reason)).toEqual(['[1].timestamp: 1d in the future (max skew 10m)']);
  });

  it.each([
    // 5 minutes ahead: clocks drift, within the 10-minute skew
    [{ timestamp: REC_TS + 5 * MIN }, {}],
    // 6 days old: a late producer, within the 7-day age
    [{ timestamp: REC_TS - 6 * DAY }, {}],
    // replay of old data: 9 days behind a clock that does not exist, at its record's time
    [{ timestamp: REC_TS - 9 * DAY }, { nowMs: undefined, recordMs: REC_TS - 9 * DAY }],
    // a record without a timestamp (Kafka's -1): the sample's own time is bounded by the clock only
    [{ timestamp: REC_TS }, { recordMs: -1 }],
  ])('accepts %j (%j)', (sample, opts) => {
    const out = at(sample, opts);
    expect(out.rejected).toEqual([]);
    expect(out.samples.map((s) => s.name)).toEqual(['m']);
  });

  it.each([
    // February 30: Date.parse rolls it over to March 2
    ['2026-02-30T00:00:00Z', 'timestamp: 2026-02-30 does not exist'],
    // February 29 of a common year
    ['2025-02-29T00:00:00Z', 'timestamp: 2025-02-29 does not exist'],
    // hour 24: Date.parse reads it as the next midnight; RFC 3339 allows 00-23
    ['2026-02-03T24:00:00Z', 'timestamp: hour 24 does not exist (00-23)'],
    // a leap second: RFC 3339 allows it, epoch time cannot hold it (refused, as Go's time.Parse does)
    ['2016-12-31T23:59:60Z', 'timestamp: second 60 (a leap second) cannot be represented in epoch time; send 23:59:59.999'],
    // minute 60
    ['2026-02-03T10:60:00Z', 'timestamp: minute 60 does not exist (00-59)'],
    // an offset that does not exist
    ['2026-02-03T10:00:00+24:00', 'timestamp: offset +24:00 does not exist'],
    // before the Unix epoch
    ['1969-12-31T23:59:59Z', 'timestamp: 1969-12-31T23:59:59Z is before 1973-03-03T09:46:40.000Z, the earliest time accepted'],
  ])('rejects the impossible time %s', (timestamp, reason) => {
    const out = decodeRecord(rec({ name: 'm', value: 1, timestamp }), { ...B, nowMs: undefined });
    expect(out.rejected.map((r) => r.reason)).toEqual([reason]);
  });

  it('accepts February 29 of a leap year', () => {
    expect(parseRfc3339('2028-02-29T12:00:00Z')).toBe(Date.UTC(2028, 1, 29, 12));
  });
});

describe('hostile records', () => {
  it('a deeply nested 10 KB record is one rejection, not a thrown stack overflow', () => {
    const text = `[${'['.repeat(5000)}${']'.repeat(5000)}]`;
    const out = decodeRecord(rec(text, true), B);
    expect(out.rejected.map((r) => r.reason)).toEqual(['[0]: expected a sample object']);
    expect(out.rejected[0]!.rawTruncated).toBe(true);
    expect(out.rejected[0]!.raw.length).toBeLessThan(100);
  });

  it('250,000 invalid samples become 10 rejected items and one summary', () => {
    const text = `[${Array.from({ length: 250_000 }, () => '1').join(',')}]`;
    expect(text.length).toBe(500_001); // 488 KiB: within Kafka's 1 MB record
    const out = decodeRecord(rec(text, true), B);
    expect(out.samples).toEqual([]);
    expect(out.rejectedSamples).toBe(250_000);
    expect(out.rejected).toHaveLength(REJECTED_ITEMS_PER_RECORD + 1);
    expect(out.rejected.slice(0, REJECTED_ITEMS_PER_RECORD).map((r) => r.reason)).toEqual(Array.from({ length: 10 }, (_, i) => `[${i}]: expected a sample object`));
    expect(out.rejected.at(-1)!.reason).toBe(
      'and 249,990 more rejected samples in this record, summarized here: 9,990 invalid, first reasons: [10]: expected a sample object; [11]: expected a sample object; [12]: expected a sample object; 240,000 past the limit of 10,000 samples per record ([10,000] on), not evaluated',
    );
  });

  it('evaluates at most 10,000 samples of one record; the rest is one rejection', () => {
    const items = Array.from({ length: MAX_SAMPLES_PER_RECORD + 5 }, (_, i) => ({ name: 'm', value: i }));
    const out = decodeRecord(rec(items), B);
    expect(out.samples).toHaveLength(MAX_SAMPLES_PER_RECORD);
    expect(out.rejected.map((r) => r.reason)).toEqual(['and 5 more rejected samples in this record, summarized here: 5 past the limit of 10,000 samples per record ([10,000] on), not evaluated']);
    expect(out.rejected[0]!.raw).toBe('{"name":"m","value":10000}');
  });

  it('50,000 unknown keys give a short reason naming a few of them', () => {
    const sample: Record<string, unknown> = { name: 'm', value: 1 };
    for (let i = 0; i < 50_000; i++) sample[`k${i}`] = 1;
    const out = decodeRecord(rec(sample), B);
    expect(out.rejected.map((r) => r.reason)).toEqual(['value: unknown fields k0, k1, k2 and 49,997 more (expected name, value, timestamp, labels)']);
    expect(out.rejected[0]!.raw).toHaveLength(REJECTED_RAW_MAX_CHARS);
  });

  it('cuts a reason quoting a huge key to the reason bound', () => {
    const out = decodeRecord(rec({ name: 'm', value: 1, labels: { ['x'.repeat(100_000)]: 'v', ['é'.repeat(100_000)]: 'w' } }), B);
    expect(out.rejected[0]!.reason).toBe(`labels.${'x'.repeat(64)}…: label name too long: 100,000 characters (at most 100)`);
    expect(out.rejected[0]!.reason.length).toBeLessThanOrEqual(REJECTED_REASON_MAX_CHARS);
  });

  it.each([
    // JSON.parse makes `__proto__` an own key; zod's record dropped it silently
    ['{"name":"m","value":1,"labels":{"__proto__":"x","a":"b"}}', 'labels.__proto__: label names starting with __ are reserved'],
    // the same in the seed format's tags (spread into the labels)
    ['{"metric_name":"m","value":1,"tags":{"__proto__":"x"}}', 'tags.__proto__: label names starting with __ are reserved'],
    // at the top level it is an unknown field like any other
    ['{"name":"m","value":1,"__proto__":{"a":1}}', 'value: unknown field __proto__ (expected name, value, timestamp, labels)'],
    // 600 emoji are 1,200 UTF-16 code units: the reason says which unit the limit counts
    [JSON.stringify({ name: 'm', value: 1, labels: { a: '😀'.repeat(600) } }), 'labels.a: label value too long: 1,200 UTF-16 code units (at most 1,024; an emoji counts 2)'],
    // instance_id has the same limit, with the same words
    [JSON.stringify({ metric_name: 'm', value: 1, instance_id: '😀'.repeat(600) }), 'instance_id: instance_id too long: 1,200 UTF-16 code units (at most 1,024; an emoji counts 2)'],
    // more labels than allowed: counted, not listed
    [JSON.stringify({ name: 'm', value: 1, labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) }), 'labels: at most 64 labels (got 65)'],
    // a metric name over 200 characters says so, instead of blaming its characters
    [JSON.stringify({ name: 'm'.repeat(201), value: 1 }), 'name: metric name too long: 201 characters (at most 200)'],
    // an empty array has no sample: the record must not vanish
    ['[]', 'value: an empty array: no samples'],
  ])('rejects %# with a clear reason: %s', (text, reason) => {
    // JSON text, so `__proto__` is an own key as a producer's JSON makes it (an object literal would set the prototype).
    const out = decodeRecord(rec(text, true), B);
    expect(out.samples).toEqual([]);
    expect(out.rejected.map((r) => r.reason)).toEqual([reason]);
    expect(out.rejectedSamples).toBe(1);
  });
});

describe('job events on the metrics topic: decoded beside samples', () => {
  const event = { kind: 'error', source: 'airflow', service: 'etl_daily', task: 'load_orders', error: { type: 'TimeoutError', message: 'timed out' }, timestamp: REC_TS };
  const sample = { name: 'up', labels: { job: 'api' }, value: 1, timestamp: REC_TS };
  it('a valid error event and a valid success event are events, not samples nor rejections', () => {
    const success = { kind: 'success', source: 'airflow', service: 'etl_daily', task: 'load_orders', timestamp: REC_TS };
    const out = decodeRecord(rec([event, sample, success]), B);
    expect(out.samples).toHaveLength(1);
    expect(out.events.map((e) => `${e.kind} ${e.task}`)).toEqual(['error load_orders', 'success load_orders']);
    expect(out.rejected).toEqual([]);
    expect(out.rejectedSamples).toBe(0);
  });
  it.each<[string, unknown, string]>([
    ['an invalid error event: its own reason', { ...event, task: '' }, 'job event: task:'],
    ['in an array, with its index', [{ ...event, error: { type: '' } }], '[0]: job event: error.type'],
    ['an event beyond the future skew: the time bound of samples', { ...event, timestamp: REC_TS + 3_600_000 }, 'timestamp: job event:'],
    ['an event older than the age bound', { ...event, timestamp: REC_TS - 8 * 86_400_000 }, 'timestamp: job event:'],
  ])('%s', (_what, value, reason) => {
    const out = decodeRecord(rec(value), B);
    expect(out.samples).toEqual([]);
    expect(out.events).toEqual([]);
    expect(out.rejected[0]!.reason).toContain(reason);
    // The raw text is kept, to be fixed and replayed.
    expect(out.rejected[0]!.raw).toContain('etl_daily');
  });
});
