/**
 * Decode: base64 Kafka record values into validated {@link MetricSample}s.
 *
 * A record value is one JSON sample or a JSON array of samples, in the wire format
 * `{"name","value","timestamp"?,"labels"?}` or the seed format
 * `{"metric_name","value","instance_id"?,"tags"?,"timestamp"?}`. In the seed format `instance_id`
 * becomes the label `instance` (Prometheus's name for it, so one rule matches both formats) and wins
 * over a `tags.instance`. `timestamp` is epoch milliseconds or an RFC 3339 string; when absent the
 * Kafka record's timestamp is used.
 *
 * Nothing here throws: an undecodable value (not base64 UTF-8 JSON, not an object or array) rejects
 * the record; one bad sample in an array rejects only that sample, with a reason naming `[i].field`.
 * Unknown fields are rejected (a typo such as `lables` must not silently drop labels).
 *
 * Validation is defined by the zod schemas below. The hot path first tries a hand-written check
 * that accepts exactly what the schemas accept (a property test holds them together) and falls
 * back to zod, for the message, only when that check fails.
 */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { REJECTED_RAW_MAX_CHARS, type Labels, type MetricSample, type RejectedRecord, type RecordCoordinates } from '../model/index.ts';

/** A Kafka record as the evaluator receives it (MSK event record, value base64). */
export interface KafkaRecordInput {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The record's timestamp, epoch ms: the sample time when a sample has none. */
  readonly timestamp: number;
  /** Base64 of the record value. */
  readonly value: string | null | undefined;
}

/** At most this many labels per sample. */
export const MAX_LABELS = 64;
/** Longest label value accepted. */
export const MAX_LABEL_VALUE_CHARS = 1024;
/**
 * Most characters of all label names and values of one sample together. Labels are stored in
 * series state and alert records, so this bound (with the window bound) keeps every DynamoDB item
 * far below its 400 KB limit: even escaped as `\uXXXX` (6 bytes a character) they stay under 50 KB.
 */
export const MAX_LABELS_TOTAL_CHARS = 8192;

function labelChars(l: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const k in l) if (hasOwn.call(l, k)) n += k.length + l[k]!.length;
  return n;
}
/** Epoch-ms timestamps below this (1973-03-03) are taken for seconds by mistake and rejected. */
export const MIN_TIMESTAMP_MS = 1e11;
/** Latest representable JS date. */
export const MAX_TIMESTAMP_MS = 8.64e15;

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,199}$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp to epoch ms (sub-millisecond digits truncated); undefined if invalid. */
export function parseRfc3339(text: string): number | undefined {
  if (!RFC3339_RE.test(text)) return undefined;
  // Date.parse wants `T` and at most millisecond precision.
  let s = `${text.slice(0, 10)}T${text.slice(11)}`;
  s = s.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

const labelsSchema = z
  .record(
    z.string().regex(LABEL_NAME_RE, { error: 'expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)' }).refine((k) => !k.startsWith('__'), { error: 'label names starting with __ are reserved' }),
    z.string({ error: 'expected a string' }).max(MAX_LABEL_VALUE_CHARS),
  )
  .refine((l) => Object.keys(l).length <= MAX_LABELS, { error: `at most ${MAX_LABELS} labels` })
  .refine((l) => labelChars(l) <= MAX_LABELS_TOTAL_CHARS, { error: `labels too large: at most ${MAX_LABELS_TOTAL_CHARS} characters of names and values in all` });

const timestampSchema = z.union(
  [
    z.number().int().min(MIN_TIMESTAMP_MS, { error: 'expected epoch milliseconds (this looks like seconds)' }).max(MAX_TIMESTAMP_MS),
    z.string().refine((s) => parseRfc3339(s) !== undefined, { error: 'expected an RFC 3339 time' }),
  ],
  { error: 'expected epoch milliseconds or an RFC 3339 time' },
);

const valueSchema = z.number({ error: 'expected a finite number' });

/** The wire format of one sample. */
export const wireSampleSchema = z.strictObject({
  name: z.string({ error: 'expected a metric name' }).regex(METRIC_NAME_RE, { error: 'expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:.-]*)' }),
  value: valueSchema,
  timestamp: timestampSchema.optional(),
  labels: labelsSchema.optional(),
});

/** The seed format of one sample (`instance_id` becomes label `instance`). */
export const seedSampleSchema = z.strictObject({
  metric_name: z.string({ error: 'expected a metric name' }).regex(METRIC_NAME_RE, { error: 'expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:.-]*)' }),
  value: valueSchema,
  timestamp: timestampSchema.optional(),
  instance_id: z.string().min(1).max(MAX_LABEL_VALUE_CHARS).optional(),
  tags: labelsSchema.optional(),
});

function toMs(ts: number | string | undefined, fallback: number): number {
  if (ts === undefined) return fallback;
  return typeof ts === 'number' ? ts : parseRfc3339(ts)!;
}

function seedLabels(tags: Labels | undefined, instanceId: string | undefined): Labels {
  if (instanceId === undefined) return tags ?? EMPTY_LABELS;
  return { ...tags, instance: instanceId };
}

const EMPTY_LABELS: Labels = Object.freeze({});
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Names already validated (label names and metric names repeat across samples): a Set lookup is
 * cheaper than a regex per name in the hot path. Bounded: cleared when it grows past
 * {@link NAME_CACHE_MAX}, so hostile input cannot grow it without limit.
 */
const NAME_CACHE_MAX = 10_000;
const goodLabelNames = new Set<string>();
const goodMetricNames = new Set<string>();

function isLabelName(k: string): boolean {
  if (goodLabelNames.has(k)) return true;
  if (!LABEL_NAME_RE.test(k) || (k.charCodeAt(0) === 95 && k.charCodeAt(1) === 95)) return false;
  if (goodLabelNames.size >= NAME_CACHE_MAX) goodLabelNames.clear();
  goodLabelNames.add(k);
  return true;
}

function isMetricName(n: string): boolean {
  if (goodMetricNames.has(n)) return true;
  if (!METRIC_NAME_RE.test(n)) return false;
  if (goodMetricNames.size >= NAME_CACHE_MAX) goodMetricNames.clear();
  goodMetricNames.add(n);
  return true;
}

function fastLabels(l: unknown): boolean {
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return false;
  let n = 0;
  let chars = 0;
  for (const k in l) {
    if (!hasOwn.call(l, k)) continue;
    n++;
    const v = (l as Record<string, unknown>)[k];
    if (typeof v !== 'string' || v.length > MAX_LABEL_VALUE_CHARS || !isLabelName(k)) return false;
    chars += k.length + v.length;
  }
  return n <= MAX_LABELS && chars <= MAX_LABELS_TOTAL_CHARS;
}

function fastTimestamp(ts: unknown): boolean {
  if (ts === undefined) return true;
  if (typeof ts === 'number') return Number.isInteger(ts) && ts >= MIN_TIMESTAMP_MS && ts <= MAX_TIMESTAMP_MS;
  return typeof ts === 'string' && parseRfc3339(ts) !== undefined;
}

/**
 * The hot-path check: returns the sample when the object is valid (exactly what the zod schemas
 * accept), else undefined (then zod explains why).
 */
export function fastSample(o: unknown, recordTimestampMs: number): MetricSample | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const s = o as Record<string, unknown>;
  let keys = 0;
  for (const k in s) if (hasOwn.call(s, k)) keys++;
  const value = s.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const ts = s.timestamp;
  if (!fastTimestamp(ts)) return undefined;
  if (s.name !== undefined) {
    const name = s.name;
    const labels = s.labels;
    const expected = 2 + (ts !== undefined ? 1 : 0) + (labels !== undefined ? 1 : 0);
    if (keys !== expected || typeof name !== 'string' || !isMetricName(name)) return undefined;
    if (labels !== undefined && !fastLabels(labels)) return undefined;
    return { name, value, timestampMs: toMs(ts as number | string | undefined, recordTimestampMs), labels: (labels as Labels | undefined) ?? EMPTY_LABELS };
  }
  const name = s.metric_name;
  const tags = s.tags;
  const inst = s.instance_id;
  const expected = 2 + (ts !== undefined ? 1 : 0) + (tags !== undefined ? 1 : 0) + (inst !== undefined ? 1 : 0);
  if (keys !== expected || typeof name !== 'string' || !isMetricName(name)) return undefined;
  if (inst !== undefined && (typeof inst !== 'string' || inst.length === 0 || inst.length > MAX_LABEL_VALUE_CHARS)) return undefined;
  if (tags !== undefined && !fastLabels(tags)) return undefined;
  return { name, value, timestampMs: toMs(ts as number | string | undefined, recordTimestampMs), labels: seedLabels(tags as Labels | undefined, inst as string | undefined) };
}

function formatIssuePath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** Validates one sample object with zod: the sample, or the reason (`[i].field: message`). */
export function validateSample(o: unknown, recordTimestampMs: number, prefix = ''): { sample: MetricSample } | { reason: string } {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { reason: `${prefix || 'value'}: expected a sample object` };
  const isSeed = !('name' in o) && 'metric_name' in o;
  if (isSeed) {
    const r = seedSampleSchema.safeParse(o);
    if (r.success) return { sample: { name: r.data.metric_name, value: r.data.value, timestampMs: toMs(r.data.timestamp, recordTimestampMs), labels: seedLabels(r.data.tags, r.data.instance_id) } };
    const iss = r.error.issues[0]!;
    return { reason: `${formatIssuePath(prefix, iss.path) || 'value'}: ${iss.message}` };
  }
  const r = wireSampleSchema.safeParse(o);
  if (r.success) return { sample: { name: r.data.name, value: r.data.value, timestampMs: toMs(r.data.timestamp, recordTimestampMs), labels: r.data.labels ?? EMPTY_LABELS } };
  const iss = r.error.issues[0]!;
  const extra = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
  return { reason: `${formatIssuePath(prefix, iss.path) || 'value'}: ${iss.message}${extra}` };
}

/** Truncates to {@link REJECTED_RAW_MAX_CHARS} without splitting a surrogate pair. */
export function truncateRaw(raw: string, max = REJECTED_RAW_MAX_CHARS): { raw: string; rawTruncated: boolean } {
  if (raw.length <= max) return { raw, rawTruncated: false };
  let end = max;
  const c = raw.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return { raw: raw.slice(0, end), rawTruncated: true };
}


function reject(source: RecordCoordinates, reason: string, raw: string): RejectedRecord {
  return { source, reason, ...truncateRaw(raw) };
}

/**
 * Decodes one Kafka record into samples and rejected items. Never throws.
 * Rejected samples of an array carry the sample's own JSON as `raw`; a rejected record its whole value.
 */
export function decodeRecord(rec: KafkaRecordInput): { samples: MetricSample[]; rejected: RejectedRecord[] } {
  const source: RecordCoordinates = { topic: rec.topic, partition: rec.partition, offset: rec.offset, timestampMs: rec.timestamp };
  const samples: MetricSample[] = [];
  const rejected: RejectedRecord[] = [];
  const value = rec.value;
  if (value === null || value === undefined || value === '') {
    rejected.push(reject(source, 'value: empty record value (a tombstone or a producer bug)', ''));
    return { samples, rejected };
  }
  // Buffer skips characters outside the base64 alphabet (no regex pass over every value in the
  // hot path); a value that was not base64 then fails as UTF-8 or as JSON, with its raw text kept.
  const bytes = Buffer.from(value, 'base64');
  if (!isUtf8(bytes)) {
    rejected.push(reject(source, 'value: not base64 of UTF-8 text', value));
    return { samples, rejected };
  }
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    rejected.push(reject(source, `value: not JSON (${(e as Error).message})`, text));
    return { samples, rejected };
  }
  // A sample without a timestamp takes the record's; a record without a usable one gives NaN, and
  // such samples are rejected below rather than evaluated at a made-up time.
  const ts = Number.isFinite(rec.timestamp) && rec.timestamp >= 0 ? rec.timestamp : NaN;
  const accept = (s: MetricSample, raw: () => string, prefix: string): void => {
    if (s.timestampMs === s.timestampMs) samples.push(s);
    else rejected.push(reject(source, `${prefix ? `${prefix}.` : ''}timestamp: missing, and the record has no timestamp`, raw()));
  };
  if (Array.isArray(parsed)) {
    for (let i = 0; i < parsed.length; i++) {
      const o: unknown = parsed[i];
      const s = fastSample(o, ts);
      if (s && s.timestampMs === s.timestampMs) {
        samples.push(s);
        continue;
      }
      if (s) {
        accept(s, () => safeStringify(o), `[${i}]`);
        continue;
      }
      const v = validateSample(o, ts, `[${i}]`);
      if ('sample' in v) accept(v.sample, () => safeStringify(o), `[${i}]`);
      else rejected.push(reject(source, v.reason, safeStringify(o)));
    }
  } else if (typeof parsed === 'object' && parsed !== null) {
    const s = fastSample(parsed, ts);
    if (s) accept(s, () => text, '');
    else {
      const v = validateSample(parsed, ts);
      if ('sample' in v) accept(v.sample, () => text, '');
      else rejected.push(reject(source, v.reason, text));
    }
  } else {
    rejected.push(reject(source, 'value: expected a JSON sample object or an array of samples', text));
  }
  return { samples, rejected };
}

function safeStringify(o: unknown): string {
  try {
    return JSON.stringify(o) ?? String(o);
  } catch {
    return String(o);
  }
}

/**
 * Decodes a JSON text (one sample or an array), as a JSONL line of `klaxon replay` holds.
 * Samples without a timestamp get `fallbackTimestampMs`, or are rejected when it is undefined.
 */
export function decodeJsonText(text: string, fallbackTimestampMs?: number): { samples: MetricSample[]; reasons: string[] } {
  const samples: MetricSample[] = [];
  const reasons: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { samples, reasons: [`value: not JSON (${(e as Error).message})`] };
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  items.forEach((o: unknown, i) => {
    const prefix = Array.isArray(parsed) ? `[${i}]` : '';
    const v = validateSample(o, fallbackTimestampMs ?? NaN, prefix);
    if (!('sample' in v)) reasons.push(v.reason);
    else if (Number.isNaN(v.sample.timestampMs)) reasons.push(`${prefix ? `${prefix}.` : ''}timestamp: required here (no record timestamp to fall back to)`);
    else samples.push(v.sample);
  });
  return { samples, reasons };
}
