import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRecord, fastSample, truncateRaw, validateSample, decodeJsonText, parseRfc3339, type KafkaRecordInput } from '../../shared/core/decode/index.ts';
import { REJECTED_RAW_MAX_CHARS } from '../../shared/core/model/index.ts';

const REC_TS = 1795300000000;
function rec(value: unknown, raw = false): KafkaRecordInput {
  const text = raw ? (value as string) : JSON.stringify(value);
  return { topic: 'metrics', partition: 3, offset: 42, timestamp: REC_TS, value: Buffer.from(text, 'utf8').toString('base64') };
}

describe('decodeRecord', () => {
  it('decodes one wire-format sample', () => {
    const out = decodeRecord(rec({ name: 'cpu_usage_percent', value: 93.5, timestamp: 1795300000123, labels: { instance: 'i-0abc', environment: 'production' } }));
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
    const out = decodeRecord(rec({ name: 'm', value: 1, ...(timestamp !== undefined ? { timestamp } : {}) }));
    expect(out.samples[0]?.timestampMs).toBe(expected);
  });

  it('rejects a sample without timestamp when the record has none', () => {
    const out = decodeRecord({ ...rec([{ name: 'a', value: 1 }, { name: 'b', value: 2, timestamp: 1795300000000 }]), timestamp: Number.NaN });
    expect(out.samples.map((s) => s.name)).toEqual(['b']);
    expect(out.rejected.map((r) => r.reason)).toEqual(['[0].timestamp: missing, and the record has no timestamp']);
  });

  it('accepts the seed format, instance_id becoming the label `instance`', () => {
    const out = decodeRecord(rec({ metric_name: 'disk_used_percent', value: 96, instance_id: 'db-1', tags: { mount: '/data', instance: 'ignored' } }));
    expect(out.samples).toEqual([{ name: 'disk_used_percent', value: 96, timestampMs: REC_TS, labels: { mount: '/data', instance: 'db-1' } }]);
  });

  it('rejects only the bad sample of an array, naming its index and field', () => {
    const out = decodeRecord(rec([{ name: 'a', value: 1 }, { name: 'b', value: 'high' }, { value: 3 }, { name: 'd', value: 4 }]));
    expect(out.samples.map((s) => s.name)).toEqual(['a', 'd']);
    expect(out.rejected.map((r) => r.reason)).toEqual(['[1].value: expected a finite number', '[2].name: expected a metric name']);
    expect(out.rejected[0]).toMatchObject({ source: { topic: 'metrics', partition: 3, offset: 42, timestampMs: REC_TS }, raw: '{"name":"b","value":"high"}', rawTruncated: false });
  });

  it('accepts labels up to the total size bound', () => {
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`l${i}`, 'x'.repeat(1000)]));
    expect(decodeRecord(rec({ name: 'm', value: 1, labels })).samples).toHaveLength(1);
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
    [{ name: 'm', value: 1, labels: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`l${i}`, 'x'.repeat(1000)])) }, false, /^labels: labels too large: at most 8192 characters/],
    // the same in the seed format's tags
    [{ metric_name: 'm', value: 1, tags: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`l${i}`, 'x'.repeat(1000)])) }, false, /^tags: labels too large/],
  ])('rejects %j with a reason', (value, raw, reason) => {
    const out = decodeRecord(rec(value, raw));
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
    const out = decodeRecord({ topic: 't', partition: 0, offset: 1, timestamp: REC_TS, value });
    expect(out.samples).toEqual([]);
    expect(out.rejected[0]!.reason).toMatch(reason);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array().map((b) => Buffer.from(b).toString('latin1'))), (text) => {
        const out = decodeRecord({ topic: 't', partition: 0, offset: 0, timestamp: REC_TS, value: Buffer.from(text).toString('base64') });
        expect(out.samples.length + out.rejected.length).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('truncates a long raw value without splitting a surrogate pair', () => {
    const emoji = '😀';
    const text = `x${emoji.repeat(REJECTED_RAW_MAX_CHARS)}`; // the cut falls inside a pair
    const t = truncateRaw(text);
    expect(t.rawTruncated).toBe(true);
    expect(t.raw.length).toBe(REJECTED_RAW_MAX_CHARS - 1);
    expect(t.raw.endsWith(emoji)).toBe(true);
    const out = decodeRecord(rec(`not json ${'a'.repeat(20_000)}`, true));
    expect(out.rejected[0]!.raw.length).toBe(REJECTED_RAW_MAX_CHARS);
    expect(out.rejected[0]!.rawTruncated).toBe(true);
  });
});

describe('fast path', () => {
  const labelName = fc.oneof(fc.constantFrom('instance', 'env', '__x', 'a b', ''), fc.string({ maxLength: 4 }));
  const anyValue = fc.oneof(fc.double(), fc.string({ maxLength: 3 }), fc.constant(null), fc.boolean(), fc.integer());
  const sampleish = fc.record(
    {
      name: fc.oneof(fc.constantFrom('cpu', 'a.b-c', 'bad name', ''), fc.integer()),
      metric_name: fc.constantFrom('cpu', 'x y'),
      value: anyValue,
      timestamp: fc.oneof(fc.constantFrom(1795300000000, 1795300000, 1.5e12 + 0.5, '2026-11-21T22:26:40Z', 'yesterday'), anyValue),
      labels: fc.oneof(fc.dictionary(labelName, anyValue, { maxKeys: 3 }), anyValue),
      tags: fc.dictionary(labelName, fc.string({ maxLength: 2 }), { maxKeys: 3 }),
      instance_id: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()),
      extra: fc.integer(),
    },
    { requiredKeys: [] },
  );

  // Mostly valid samples, so both outcomes are well represented.
  const nearlyValid = fc.oneof(
    fc.record(
      {
        name: fc.constantFrom('cpu', 'a.b-c', 'ns:metric_1'),
        value: fc.oneof(fc.double(), fc.integer()),
        timestamp: fc.constantFrom(1795300000000, '2026-11-21T22:26:40.5+02:00', 1795300000),
        labels: fc.dictionary(fc.constantFrom('instance', 'env', 'a_b', '__x'), fc.string({ maxLength: 3 }), { maxKeys: 3 }),
      },
      { requiredKeys: ['name', 'value'] },
    ),
    fc.record(
      {
        metric_name: fc.constantFrom('disk', 'bad name'),
        value: fc.double(),
        instance_id: fc.oneof(fc.constant(''), fc.string({ minLength: 1, maxLength: 3 })),
        tags: fc.dictionary(fc.constantFrom('mount', 'instance'), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
      },
      { requiredKeys: ['metric_name', 'value'] },
    ),
  );

  it('accepts exactly what the zod schemas accept, with the same result', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(sampleish, nearlyValid), (o) => {
        const fast = fastSample(o, REC_TS);
        const slow = validateSample(o, REC_TS);
        if (fast) {
          accepted++;
          expect(slow).toEqual({ sample: fast });
        } else {
          refused++;
          expect('reason' in slow).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});

describe('decodeJsonText', () => {
  it('requires a timestamp when there is no record timestamp', () => {
    expect(decodeJsonText('{"name":"m","value":1}').reasons).toEqual(['timestamp: required here (no record timestamp to fall back to)']);
    expect(decodeJsonText('[{"name":"m","value":1,"timestamp":1795300000000}]').samples).toHaveLength(1);
  });
  it('parses RFC 3339 strictly', () => {
    expect(parseRfc3339('2026-11-21 22:26:40Z')).toBe(Date.UTC(2026, 10, 21, 22, 26, 40));
    expect(parseRfc3339('2026-11-21')).toBeUndefined();
  });
});
