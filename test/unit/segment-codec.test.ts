import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../../shared/core/model/index.ts';
import { InvalidSegmentError, LOG_TIME_LIMIT_MS } from '../../shared/core/sequence/sample-log.ts';
import { CorruptSegmentError, decodeSamples, encodeChunks, encodeSamples, SEGMENT_FORMAT } from '../../shared/adapters/dynamodb/segment-codec.ts';

const T = 1_795_300_000_000;
const WHAT = 'segment metrics-3@1200';

const sample = (value: number, timestampMs = T, labels: Record<string, string> = { instance: 'web-1' }, name = 'cpu_usage_percent'): MetricSample => ({ name, value, timestampMs, labels });
const roundTrip = (samples: readonly MetricSample[]): MetricSample[] => decodeSamples(encodeSamples(samples, WHAT), WHAT);

/** The 8 bytes of a float64, as hex (big-endian), to compare values bit for bit. */
const bits = (x: number): string => {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0).toString(16).padStart(16, '0');
};
const fromBits = (hex: string): number => {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, BigInt(`0x${hex}`));
  return v.getFloat64(0);
};

/** A small deterministic PRNG (mulberry32), so the size check measures the same data every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('segment codec', () => {
  it.each([
    // nothing: a batch whose records were all rejected still has a segment
    [[]],
    // one sample
    [[sample(93.5)]],
    // one series over time, and another series in between
    [[sample(1, T), sample(2, T + 10_000, { instance: 'web-2' }), sample(3, T + 10_000)]],
    // times going backwards within the segment (a late sample): negative deltas
    [[sample(1, T + 60_000), sample(2, T), sample(3, T + 30_000)]],
    // times far apart and near the limits of what the log stores
    [[sample(1, -LOG_TIME_LIMIT_MS), sample(2, LOG_TIME_LIMIT_MS), sample(3, 0)]],
    // the same series with its labels in another order is one series
    [[sample(1, T, { a: '1', b: '2' }), sample(2, T, { b: '2', a: '1' })]],
    // no labels at all, an empty label value, an empty label name, an empty metric name
    [[sample(1, T, {}), sample(2, T, { env: '' }), sample(3, T, { '': 'x' }), sample(4, T, {}, '')]],
  ])('round-trips %j', (samples) => {
    expect(roundTrip(samples)).toEqual(samples);
  });

  it.each([
    // NaN (the canonical quiet NaN)
    ['7ff8000000000000'],
    // a NaN with a payload, and a negative one
    ['7ff80000deadbeef'],
    ['fff8000000000001'],
    // +Infinity, -Infinity
    ['7ff0000000000000'],
    ['fff0000000000000'],
    // -0 and +0
    ['8000000000000000'],
    ['0000000000000000'],
    // the smallest subnormal, the largest finite, its negative
    ['0000000000000001'],
    ['7fefffffffffffff'],
    ['ffefffffffffffff'],
    // 0.1 + 0.2 (not 0.3)
    [bits(0.1 + 0.2)],
  ])('keeps the value with bits %s bit for bit', (hex) => {
    const [got] = roundTrip([sample(fromBits(hex))]);
    expect(bits(got!.value)).toBe(hex);
  });

  it('keeps -0 distinct from 0 (Object.is)', () => {
    const [a, b] = roundTrip([sample(-0), sample(0)]);
    expect(Object.is(a!.value, -0)).toBe(true);
    expect(Object.is(b!.value, 0)).toBe(true);
  });

  it.each([
    // the characters of the Prometheus text format that need escaping there
    [[['path', '/a="b",c\\d\n']]],
    // NUL, tabs, control characters
    [[['k', '\u0000\t\u0001\u007f']]],
    // non-ASCII: accents, CJK, an emoji (a surrogate pair), a right-to-left mark
    [[['city', 'Zürich'], ['jp', '東京'], ['mood', '🔥'], ['rtl', '\u200f']]],
    // a lone surrogate, which JSON's \ud800 escape can put in a label value (not UTF-8 encodable)
    [[['broken', 'a\ud800b'], ['tail', '\udc00'], ['\udbff', 'key']]],
    // labels named like Object.prototype properties (JSON.parse makes `__proto__` an own key)
    [[['__proto__', 'x'], ['constructor', 'y'], ['toString', 'z']]],
    // a long value (decode allows 1,024 characters)
    [[['big', 'x'.repeat(1024)]]],
    // a value and a name starting with U+FEFF (a decoder must not take it for a byte order mark)
    [[['bom', '\ufeffv'], ['\ufeff', '\ufeff']]],
  ])('round-trips labels %j', (entries) => {
    const labels = Object.fromEntries(entries) as Record<string, string>;
    const [got] = roundTrip([sample(1, T, labels)]);
    expect(Object.entries(got!.labels).sort()).toEqual(Object.entries(labels).sort());
    expect(Object.getPrototypeOf(got!.labels)).toBe(Object.prototype);
  });

  it('round-trips any samples (property)', () => {
    // Any code point, or any UTF-16 code unit (lone surrogates included).
    const unit = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.nat({ max: 0xffff }).map((c) => String.fromCharCode(c)));
    const text = (maxLength: number) => fc.string({ unit, maxLength });
    const labels = fc.dictionary(text(12), text(20), { maxKeys: 5 });
    const value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0));
    const arb = fc.array(
      fc.record({
        name: text(20),
        value,
        timestampMs: fc.integer({ min: -LOG_TIME_LIMIT_MS, max: LOG_TIME_LIMIT_MS }),
        labels,
      }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(arb, (samples) => {
        const got = roundTrip(samples);
        expect(got).toHaveLength(samples.length);
        got.forEach((g, i) => {
          const s = samples[i]!;
          expect(g.name).toBe(s.name);
          expect(g.timestampMs).toBe(s.timestampMs);
          expect(bits(g.value)).toBe(bits(s.value));
          expect(Object.entries(g.labels).sort()).toEqual(Object.entries(s.labels).sort());
        });
      }),
      { numRuns: 300 },
    );
  });

  it('writes 1,000 samples of 100 series with typical labels in under 9 bytes a sample (measured 7.7)', () => {
    const rnd = prng(42);
    const metrics = ['cpu_usage_percent', 'memory_used_bytes', 'disk_used_percent', 'http_requests_total', 'http_request_duration_seconds'];
    const series = Array.from({ length: 100 }, (_, i) => ({
      name: metrics[i % 5]!,
      labels: {
        instance: `i-0${(0xabc1234 + Math.floor(i / 5) * 7919).toString(16)}def5678`,
        environment: i % 2 ? 'production' : 'staging',
        region: i % 2 ? 'eu-west-1' : 'us-east-1',
        job: 'node-exporter',
        service: `svc-${Math.floor(i / 10)}`,
      },
    }));
    // Ten scrapes 10 s apart (a little jitter), the series in their scrape order; values as such
    // metrics have them: percentages to one decimal, byte counts, a growing counter, a latency.
    const samples: MetricSample[] = [];
    for (let k = 0; k < 10; k++) {
      for (const s of series) {
        const value = s.name.endsWith('percent')
          ? Math.round(rnd() * 1000) / 10
          : s.name.endsWith('bytes')
            ? Math.floor(rnd() * 8e9)
            : s.name.endsWith('total')
              ? 1000 * k + Math.floor(rnd() * 100)
              : rnd();
        samples.push({ name: s.name, value, timestampMs: T + k * 10_000 + Math.floor(rnd() * 50), labels: s.labels });
      }
    }
    const bytes = encodeSamples(samples, WHAT).length;
    expect(bytes / samples.length).toBeLessThan(9);
    // JSON of the same samples is about 205 bytes a sample.
    expect(bytes).toBeLessThan(JSON.stringify(samples).length / 20);
  });

  it.each([
    // a fraction of a millisecond
    [1.5, /segment metrics-3@1200: samples\[0\]\.timestampMs 1\.5 is not a whole number/],
    // beyond what a zigzag delta keeps exact
    [LOG_TIME_LIMIT_MS + 1, /samples\[0\]\.timestampMs .* beyond ±2\^50/],
    // not a time at all
    [NaN, /timestampMs NaN/],
  ])('refuses to encode the time %s, naming the segment and the sample', (t, message) => {
    expect(() => encodeSamples([sample(1, t)], WHAT)).toThrow(InvalidSegmentError);
    expect(() => encodeSamples([sample(1, t)], WHAT)).toThrow(message);
  });
});

describe('segment codec: decoding what it did not write', () => {
  const good = encodeSamples([sample(1, T), sample(2, T + 10_000, { instance: 'web-2' })], WHAT);
  /** Encodes a raw body (before compression) as the codec frames it. */
  const framed = (body: number[]): Buffer => Buffer.concat([Buffer.from([SEGMENT_FORMAT]), deflateRawSync(Buffer.from(body))]);

  it.each([
    // nothing at all
    [Buffer.alloc(0), /segment metrics-3@1200: empty/],
    // another format byte
    [Buffer.concat([Buffer.from([9]), good.subarray(1)]), /unknown format byte 9/],
    // cut short: the deflate stream ends early
    [good.subarray(0, good.length - 5), /segment metrics-3@1200: does not inflate/],
    // not deflate at all
    [Buffer.from([SEGMENT_FORMAT, 0xff, 0xff, 0xff, 0xff]), /does not inflate/],
    // a series count the bytes cannot hold
    [framed([0xff, 0xff, 0x7f]), /series count 2097151 exceeds/],
    // a string longer than what is left
    [framed([1, 100, 0]), /series 0 name: 50 bytes announced, 1 left/],
    // invalid UTF-8 in a name
    [framed([1, 2, 0xc3, 0]), /series 0 name: invalid UTF-8/],
    // a UTF-16 string of odd length
    [framed([1, 3, 0x41, 0]), /odd length 1 of UTF-16 text/],
    // a sample of a series the dictionary does not have
    [framed([1, 0, 0, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), /sample 0: series 5 of 1/],
    // a sample cut before its value
    [framed([1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), /sample count 1 exceeds/],
    // a varint that never ends
    [framed([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /series count: varint longer than 8 bytes/],
    // bytes after the last sample
    [framed([0, 0, 7]), /1 bytes after the last sample/],
  ])('refuses %#, naming the segment', (bytes, message) => {
    expect(() => decodeSamples(bytes, WHAT)).toThrow(CorruptSegmentError);
    expect(() => decodeSamples(bytes, WHAT)).toThrow(message);
  });

  it('never throws anything but CorruptSegmentError on corrupted bytes (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Buffer.from(good);
        bad[at] = bad[at]! ^ xor;
        try {
          decodeSamples(bad, WHAT);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptSegmentError);
          expect((err as Error).message).toContain(WHAT);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a body that inflates beyond 64 MiB', () => {
    // 70 MiB of zeros deflate to about 70 KB.
    const bomb = Buffer.concat([Buffer.from([SEGMENT_FORMAT]), deflateRawSync(Buffer.alloc(70 * 1024 * 1024))]);
    expect(() => decodeSamples(bomb, WHAT)).toThrow(/does not inflate/);
  });
});

describe('segment chunks', () => {
  const many = (n: number): MetricSample[] => Array.from({ length: n }, (_, i) => sample(Math.sin(i) * 1e6, T + i * 1000, { instance: `web-${i % 7}` }));

  it('keeps a segment that fits in one chunk', () => {
    const samples = many(100);
    const chunks = encodeChunks(samples, 10_000, WHAT);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toEqual(encodeSamples(samples, WHAT));
  });

  it('splits a larger one into chunks under the bound whose samples, in order, are the segment', () => {
    const samples = many(5000);
    const chunks = encodeChunks(samples, 8_000, WHAT);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(8_000);
    expect(chunks.flatMap((c) => decodeSamples(c, WHAT))).toEqual(samples);
  });

  it('refuses a sample that alone exceeds a chunk', () => {
    expect(() => encodeChunks([sample(1, T, { big: randomBytes(200).toString('hex') })], 50, WHAT)).toThrow(/one sample encodes to \d+ bytes, more than a chunk's 50/);
  });
});
