/**
 * Properties of decode under hostile input: it never throws, every record is accounted for, and
 * everything it produces is bounded (rejected items per record, reasons, raw excerpts, the message
 * each becomes on the rejected queue).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeJsonText, decodeRecord, defaultEventTimeBounds, MAX_SAMPLES_PER_RECORD, type DecodedRecord } from '../../shared/core/decode/index.ts';
import { REJECTED_ITEMS_PER_RECORD, REJECTED_RAW_MAX_CHARS, REJECTED_REASON_MAX_CHARS } from '../../shared/core/model/index.ts';
import { rejectedMessage } from '../../shared/adapters/sqs/rejected-sink.ts';
import { sqsSafeBody } from '../../shared/adapters/sqs/transition-publisher.ts';

const NOW = 1_795_300_000_000;
const BOUNDS = defaultEventTimeBounds(NOW);
/** SQS's message size limit (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html). */
const SQS_MAX_MESSAGE_BYTES = 256 * 1024;

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hostileText = fc.string({ unit: fc.oneof(fc.constantFrom('😀', '\u0000', '\uFFFF', '"', '\\', '[', '{', '__proto__'), loneSurrogate, fc.string({ minLength: 1, maxLength: 1 })) });
const labelName = fc.oneof(fc.constantFrom('instance', 'env', '__proto__', '__name__', 'constructor', 'a b', ''), fc.string({ maxLength: 4 }), fc.constant('x'.repeat(150)));
const anyValue = fc.oneof(fc.double(), fc.integer(), hostileText, fc.constant(null), fc.boolean(), fc.constant('😀'.repeat(600)));
/** Timestamps around the clock, in and out of every bound, in every shape. */
const timestamp = fc.oneof(
  fc.integer({ min: NOW - 10 * 86_400_000, max: NOW + 86_400_000 }),
  fc.constantFrom(NOW * 1000, 1_795_300_000, '2026-02-30T00:00:00Z', '2026-11-21T24:00:00Z', '2016-12-31T23:59:60Z', '1969-12-31T23:59:59Z', '2100-01-01T00:00:00Z', '2026-11-22T04:13:20Z'),
  anyValue,
);
const sampleish = fc.record(
  {
    name: fc.oneof(fc.constantFrom('cpu', 'a.b-c', 'bad name', 'm'.repeat(201)), anyValue),
    metric_name: fc.constantFrom('cpu', 'x y'),
    value: anyValue,
    timestamp,
    labels: fc.oneof(fc.dictionary(labelName, anyValue, { maxKeys: 70 }), anyValue),
    tags: fc.dictionary(labelName, fc.oneof(fc.string({ maxLength: 3 }), anyValue), { maxKeys: 3 }),
    instance_id: fc.oneof(fc.string({ maxLength: 3 }), anyValue),
    extra: anyValue,
  },
  { requiredKeys: [] },
);
/** Mostly valid samples, so accepted ones are well represented too. */
const nearlyValid = fc.record(
  {
    name: fc.constantFrom('cpu', 'a.b-c', 'ns:metric_1'),
    value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
    timestamp: fc.oneof(fc.integer({ min: NOW - 8 * 86_400_000, max: NOW + 20 * 60_000 }), fc.constant('2026-11-21T22:26:40Z')),
    labels: fc.dictionary(fc.constantFrom('instance', 'env', 'a_b', '__proto__'), fc.string({ maxLength: 3 }), { maxKeys: 3 }),
  },
  { requiredKeys: ['name', 'value'] },
);
/** Nesting as deep as a 1 MB record can hold, arrays or objects. */
const deep = fc.tuple(fc.integer({ min: 1, max: 50_000 }), fc.boolean()).map(([d, arrays]) => (arrays ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`));
/** Many items in one record: past the per-record cap of rejected items and of samples. */
const huge = fc.tuple(fc.integer({ min: 0, max: 30_000 }), fc.constantFrom('1', '{"name":"m","value":1}', '{"name":"m","value":"x"}', '[]')).map(([n, item]) => `[${Array.from({ length: n }, () => item).join(',')}]`);
/** One sample with thousands of unknown keys. */
const manyKeys = fc.integer({ min: 1, max: 20_000 }).map((n) => `{"name":"m","value":1,${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`);
/** Every kind of record value text. */
const recordText = fc.oneof(
  hostileText,
  fc.jsonValue().map((v) => JSON.stringify(v)),
  sampleish.map((o) => JSON.stringify(o)),
  fc.array(sampleish, { maxLength: 30 }).map((a) => JSON.stringify(a)),
  nearlyValid.map((o) => JSON.stringify(o)),
  fc.array(fc.oneof(nearlyValid, nearlyValid, sampleish), { maxLength: 30 }).map((a) => JSON.stringify(a)),
  deep,
  huge,
  manyKeys,
);
/** A record value: base64 of a text, of arbitrary bytes, or not base64 at all. */
const recordValue = fc.oneof(
  recordText.map((t) => Buffer.from(t, 'utf8').toString('base64')),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')),
  hostileText,
  fc.constantFrom(null, undefined, ''),
);
const recordTimestamp = fc.oneof(fc.integer({ min: NOW - 86_400_000, max: NOW + 86_400_000 }), fc.constantFrom(-1, 0, Number.NaN, NOW * 1000));

/** How many items the record holds: its array's length, or 1 for anything else (an empty array too). */
function itemsOf(value: string | null | undefined): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8'));
    return Array.isArray(parsed) && parsed.length > 0 ? parsed.length : 1;
  } catch {
    return 1;
  }
}

/** The checks every decoded record passes. */
function checkBounded(out: DecodedRecord, items: number): void {
  // Accounted for: every item is a sample or a counted rejection; no record vanishes.
  expect(out.samples.length + out.rejectedSamples).toBe(items);
  expect(out.rejected.length > 0).toBe(out.rejectedSamples > 0);
  // Bounded output.
  expect(out.samples.length).toBeLessThanOrEqual(MAX_SAMPLES_PER_RECORD);
  expect(out.rejected.length).toBeLessThanOrEqual(REJECTED_ITEMS_PER_RECORD + 1);
  if (out.rejected.length > REJECTED_ITEMS_PER_RECORD || out.rejectedSamples > out.rejected.length) {
    // The summary says how many it stands for.
    const summarized = out.rejectedSamples - (out.rejected.length - 1);
    expect(out.rejected.at(-1)!.reason).toMatch(new RegExp(`^and ${summarized.toLocaleString('en-US')} more rejected samples in this record`));
  }
  for (const r of out.rejected) {
    expect(r.reason.length).toBeGreaterThan(0);
    expect(r.reason.length).toBeLessThanOrEqual(REJECTED_REASON_MAX_CHARS);
    expect(r.raw.length).toBeLessThanOrEqual(REJECTED_RAW_MAX_CHARS);
    expect(Buffer.byteLength(sqsSafeBody(JSON.stringify(rejectedMessage(r))), 'utf8')).toBeLessThan(SQS_MAX_MESSAGE_BYTES);
  }
  // What is accepted is within the event-time bounds and has no reserved label.
  for (const s of out.samples) {
    expect(s.timestampMs - NOW).toBeLessThanOrEqual(BOUNDS.maxFutureSkewMs);
    expect(NOW - s.timestampMs).toBeLessThanOrEqual(BOUNDS.maxAgeMs);
    for (const k of Object.keys(s.labels)) expect(k.startsWith('__')).toBe(false);
  }
}

describe('decode of hostile input (properties)', () => {
  it('never throws, accounts for every record and bounds its output', () => {
    const kinds = { samples: 0, rejected: 0, summarized: 0 };
    fc.assert(
      fc.property(recordValue, recordTimestamp, (value, ts) => {
        const out = decodeRecord({ topic: 'metrics', partition: 1, offset: 7, timestamp: ts, value }, BOUNDS);
        checkBounded(out, itemsOf(value));
        if (out.samples.length > 0) kinds.samples++;
        if (out.rejected.length > 0) kinds.rejected++;
        if (out.rejectedSamples > out.rejected.length) kinds.summarized++;
      }),
      { numRuns: 400 },
    );
    // The generators reach every outcome (a property that only ever saw rejections proves little).
    expect(kinds.samples).toBeGreaterThan(0);
    expect(kinds.rejected).toBeGreaterThan(0);
    expect(kinds.summarized).toBeGreaterThan(0);
  });

  it('decodeJsonText (klaxon replay) never throws and bounds its reasons', () => {
    fc.assert(
      fc.property(recordText, (text) => {
        const out = decodeJsonText(text, { bounds: defaultEventTimeBounds(undefined) });
        expect(out.reasons.length).toBeLessThanOrEqual(REJECTED_ITEMS_PER_RECORD + 1);
        for (const r of out.reasons) expect(r.length).toBeLessThanOrEqual(REJECTED_REASON_MAX_CHARS);
        expect(out.samples.length + out.reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
