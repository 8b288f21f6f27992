/**
 * Decode: base64 Kafka record values into validated {@link MetricSample}s, with every input taken
 * as hostile.
 *
 * A record value is one JSON sample or a JSON array of samples (formats and field checks:
 * ./sample.ts; event time: ./time.ts). An item whose `kind` is `error` or `success` is a job event
 * (../events/event.ts, docs/events.md), validated as such and returned in `events`. `timestamp` is epoch milliseconds or an RFC 3339 string;
 * when absent the Kafka record's timestamp is used. Unknown fields are rejected (a typo such as
 * `lables` must not silently drop labels).
 *
 * Guarantees, whatever the bytes (a property test holds them):
 * - nothing here throws (deep nesting, huge arrays, 50,000 keys, lone surrogates...);
 * - every record is accounted for: each array item is a sample, an event or counted as rejected,
 *   and a record that yields neither yields at least one rejected item (an empty array included);
 * - output is bounded: at most {@link MAX_SAMPLES_PER_RECORD} samples, at most
 *   {@link REJECTED_ITEMS_PER_RECORD} rejected items plus ONE summary item per record, every reason
 *   at most {@link REJECTED_REASON_MAX_CHARS} and every raw excerpt at most
 *   {@link REJECTED_RAW_MAX_CHARS} characters;
 * - event time is bounded ({@link EventTimeBounds}): one sample stamped in the future can no longer
 *   make every later sample of its series "out of order".
 * Pure: the clock's reading comes in as `bounds.nowMs`.
 */
import { isJobEventKind, parseJobEvent } from '../events/event.ts';
import type { JobEvent } from '../events/types.ts';
import { isUtf8 } from 'node:buffer';
import { REJECTED_ITEMS_PER_RECORD, REJECTED_RAW_MAX_CHARS, REJECTED_REASON_MAX_CHARS, type MetricSample, type RejectedRecord, type RecordCoordinates } from '../model/index.ts';
import { checkSample, pathOf } from './sample.ts';
import { eventTimeReason, formatCount, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, type EventTimeBounds } from './time.ts';

export { MAX_LABELS, MAX_LABEL_VALUE_CHARS, MAX_LABELS_TOTAL_CHARS, MAX_METRIC_NAME_CHARS, MAX_LABEL_NAME_CHARS, checkSample, type CheckedSample } from './sample.ts';
export {
  MIN_TIMESTAMP_MS,
  MAX_TIMESTAMP_MS,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  DEFAULT_MAX_SAMPLE_AGE_MS,
  defaultEventTimeBounds,
  parseRfc3339,
  checkRfc3339,
  type EventTimeBounds,
} from './time.ts';

/**
 * Most samples one array record may hold; items past it are not evaluated and are reported as ONE
 * rejected summary. A Kafka record is at most about 1 MB by default (`message.max.bytes` =
 * 1,048,588, https://kafka.apache.org/documentation/#brokerconfigs_message.max.bytes; Amazon MSK
 * keeps Kafka's default for it: https://docs.aws.amazon.com/msk/latest/developerguide/msk-default-configuration.html),
 * and a realistic sample with labels takes 100 bytes or more, so 10,000 covers any honest record
 * while bounding the work a hostile one (250,000 tiny items) can cause.
 */
export const MAX_SAMPLES_PER_RECORD = 10_000;

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

/** Truncates to {@link REJECTED_RAW_MAX_CHARS} without splitting a surrogate pair. */
export function truncateRaw(raw: string, max = REJECTED_RAW_MAX_CHARS): { raw: string; rawTruncated: boolean } {
  if (raw.length <= max) return { raw, rawTruncated: false };
  let end = max;
  const c = raw.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return { raw: raw.slice(0, end), rawTruncated: true };
}



/** Cuts a reason to {@link REJECTED_REASON_MAX_CHARS}, marking the cut. */
export function boundReason(reason: string): string {
  if (reason.length <= REJECTED_REASON_MAX_CHARS) return reason;
  return `${truncateRaw(reason, REJECTED_REASON_MAX_CHARS - 1).raw}…`;
}

/** Deepest nesting an excerpt shows; deeper values print as `[…]` / `{…}`. */
const EXCERPT_MAX_DEPTH = 32;
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The JSON text of a parsed value, at most `max` characters, in time proportional to `max` (not to
 * the value): `JSON.stringify` recurses without bound (a 10 KB record of nested arrays overflows the
 * stack, and `String(value)`, the old fallback, overflows too) and would serialize a 1 MB value in
 * full only to cut it.
 */
export function jsonExcerpt(value: unknown, max = REJECTED_RAW_MAX_CHARS): { raw: string; rawTruncated: boolean } {
  const parts: string[] = [];
  let len = 0;
  let cut = false;
  const put = (s: string): boolean => {
    parts.push(s);
    len += s.length;
    return len <= max;
  };
  const str = (s: string): string => {
    if (s.length <= max) return JSON.stringify(s);
    cut = true;
    return JSON.stringify(s.slice(0, max));
  };
  const walk = (x: unknown, depth: number): boolean => {
    if (typeof x === 'string') return put(str(x));
    if (x === null || typeof x !== 'object') return put(String(JSON.stringify(x) ?? null));
    if (depth >= EXCERPT_MAX_DEPTH) {
      cut = true;
      return put(Array.isArray(x) ? '[…]' : '{…}');
    }
    if (Array.isArray(x)) {
      if (!put('[')) return false;
      for (let i = 0; i < x.length; i++) if ((i > 0 && !put(',')) || !walk(x[i], depth + 1)) return false;
      return put(']');
    }
    if (!put('{')) return false;
    let first = true;
    for (const k in x) {
      if (!hasOwn.call(x, k)) continue;
      if ((!first && !put(',')) || !put(`${str(k)}:`) || !walk((x as Record<string, unknown>)[k], depth + 1)) return false;
      first = false;
    }
    return put('}');
  };
  const complete = walk(value, 0);
  const t = truncateRaw(parts.join(''), max);
  return { raw: t.raw, rawTruncated: t.rawTruncated || cut || !complete };
}

/** What one record decodes to. */
export interface DecodedRecord {
  /** Valid samples within the event-time bounds, at most {@link MAX_SAMPLES_PER_RECORD}. */
  readonly samples: MetricSample[];
  /** Valid job events (error, success) within the same bounds, in record order (docs/events.md). */
  readonly events: JobEvent[];
  /** At most {@link REJECTED_ITEMS_PER_RECORD} + 1 items (the last may summarize the rest). */
  readonly rejected: RejectedRecord[];
  /**
   * Samples rejected in all, summarized ones included; an undecodable record (or an empty array)
   * counts 1. `samples.length + events.length + rejectedSamples` is the array's length, or 1 for a single value.
   */
  readonly rejectedSamples: number;
}

/** One rejection before it is given its record coordinates. */
interface Rejection {
  readonly reason: string;
  readonly raw: () => { raw: string; rawTruncated: boolean };
}

/** `[3].timestamp`: built only for a reason. */
function timestampPath(at: string | number): string {
  const p = pathOf(at);
  return p ? `${p}.timestamp` : 'timestamp';
}

/**
 * A job event (`kind` error or success, docs/events.md) validated as the evaluator takes it: the
 * event within the event-time bounds of samples, or the reason (its validation problem, naming the
 * field, prefixed with the item's place in an array).
 */
function checkJobEvent(o: unknown, at: string | number, recordMs: number, bounds: EventTimeBounds, events: JobEvent[]): string | undefined {
  const p = pathOf(at);
  const r = parseJobEvent(o);
  if (!r.ok) return `${p ? `${p}: ` : ''}job event: ${r.reason}`;
  const out = eventTimeReason(r.event.timestampMs, recordMs, true, bounds);
  if (out !== undefined) return `${timestampPath(at)}: job event: ${out}`;
  events.push(r.event);
  return undefined;
}

/** Decodes a parsed record value; shared by {@link decodeRecord} and {@link decodeJsonText}. */
function decodeParsed(parsed: unknown, text: string, recordMs: number, bounds: EventTimeBounds): { samples: MetricSample[]; events: JobEvent[]; rejections: Rejection[]; rejectedSamples: number } {
  const samples: MetricSample[] = [];
  const events: JobEvent[] = [];
  const rejections: Rejection[] = [];
  const whole = (): { raw: string; rawTruncated: boolean } => truncateRaw(text);
  // Validates one item: the sample, EVENT when it was a valid job event (kept in `events`), or the
  // reason (validation first, then event-time bounds).
  const check = (o: unknown, at: string | number): MetricSample | typeof EVENT | string => {
    const c = checkSample(o, recordMs, at);
    if ('reason' in c) return isJobEventKind(o) ? (checkJobEvent(o, at, recordMs, bounds, events) ?? EVENT) : c.reason;
    const ms = c.sample.timestampMs;
    if (ms !== ms) return `${timestampPath(at)}: missing, and the record has no usable timestamp`;
    const out = eventTimeReason(ms, recordMs, c.ownTimestamp, bounds);
    return out === undefined ? c.sample : `${timestampPath(at)}: ${out}`;
  };
  if (!Array.isArray(parsed)) {
    if (typeof parsed !== 'object' || parsed === null) return { samples, events, rejections: [{ reason: 'value: expected a JSON sample object or an array of samples', raw: whole }], rejectedSamples: 1 };
    const r = check(parsed, '');
    if (typeof r === 'string') return { samples, events, rejections: [{ reason: r, raw: whole }], rejectedSamples: 1 };
    if (r !== EVENT) samples.push(r);
    return { samples, events, rejections, rejectedSamples: 0 };
  }
  if (parsed.length === 0) return { samples, events, rejections: [{ reason: 'value: an empty array: no samples', raw: whole }], rejectedSamples: 1 };
  const n = Math.min(parsed.length, MAX_SAMPLES_PER_RECORD);
  let summarized = 0;
  let firstSummarized = -1;
  const firstReasons: string[] = [];
  for (let i = 0; i < n; i++) {
    const o: unknown = parsed[i];
    const r = check(o, i);
    if (typeof r !== 'string') {
      if (r !== EVENT) samples.push(r);
      continue;
    }
    if (rejections.length < REJECTED_ITEMS_PER_RECORD) {
      rejections.push({ reason: r, raw: () => jsonExcerpt(o) });
      continue;
    }
    if (summarized++ === 0) firstSummarized = i;
    if (firstReasons.length < 3) firstReasons.push(r.length > 200 ? `${truncateRaw(r, 199).raw}…` : r);
  }
  const over = parsed.length - n;
  if (summarized > 0 || over > 0) {
    const parts: string[] = [];
    if (summarized > 0) parts.push(`${formatCount(summarized)} invalid, first reasons: ${firstReasons.join('; ')}`);
    if (over > 0) parts.push(`${formatCount(over)} past the limit of ${formatCount(MAX_SAMPLES_PER_RECORD)} samples per record ([${formatCount(n)}] on), not evaluated`);
    const at = summarized > 0 ? firstSummarized : n;
    const item: unknown = parsed[at];
    rejections.push({ reason: `and ${formatCount(summarized + over)} more rejected samples in this record, summarized here: ${parts.join('; ')}`, raw: () => jsonExcerpt(item) });
  }
  return { samples, events, rejections, rejectedSamples: parsed.length - samples.length - events.length };
}

/** What `check` returns for a valid job event (kept aside in `events`). */
const EVENT = Symbol('job event');

/**
 * Decodes one Kafka record into samples and rejected items. Never throws; see the module comment for
 * the bounds. Rejected samples of an array carry an excerpt of the sample's own JSON as `raw`; a
 * rejected record its whole value (truncated).
 */
export function decodeRecord(rec: KafkaRecordInput, bounds: EventTimeBounds): DecodedRecord {
  const source: RecordCoordinates = { topic: rec.topic, partition: rec.partition, offset: rec.offset, timestampMs: rec.timestamp };
  const one = (reason: string, raw: string): DecodedRecord => ({ samples: [], events: [], rejected: [{ source, reason: boundReason(reason), ...truncateRaw(raw) }], rejectedSamples: 1 });
  const value = rec.value;
  if (value === null || value === undefined || value === '') return one('value: empty record value (a tombstone or a producer bug)', '');
  // Buffer skips characters outside the base64 alphabet (no regex pass over every value in the
  // hot path); a value that was not base64 then fails as UTF-8 or as JSON, with its raw text kept.
  const bytes = Buffer.from(value, 'base64');
  if (!isUtf8(bytes)) return one('value: not base64 of UTF-8 text', value);
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    // JSON.parse itself is iterative in V8: deep nesting does not overflow here.
    parsed = JSON.parse(text);
  } catch (e) {
    return one(`value: not JSON (${(e as Error).message})`, text);
  }
  const out = decodeParsed(parsed, text, usableRecordTime(rec.timestamp), bounds);
  return { samples: out.samples, events: out.events, rejected: out.rejections.map((r) => ({ source, reason: boundReason(r.reason), ...r.raw() })), rejectedSamples: out.rejectedSamples };
}

/**
 * The record's timestamp when it can stand for a sample's: epoch ms within the static range, else
 * NaN (Kafka sends -1 for "none"), and samples without their own time are then rejected rather than
 * evaluated at a made-up time.
 */
function usableRecordTime(ms: number): number {
  return Number.isInteger(ms) && ms >= MIN_TIMESTAMP_MS && ms < MAX_TIMESTAMP_MS ? ms : NaN;
}

/**
 * Decodes a JSON text (one sample or an array), as a JSONL line of `klaxon replay` holds. Samples
 * without a timestamp get `opts.fallbackTimestampMs`, or are rejected when it is undefined. Replay
 * has no "now" (recorded samples are legitimately old): `bounds.nowMs` is undefined there, so only
 * the static checks and the record-time bounds (when a fallback time is given) apply.
 * Never throws; reasons are bounded as {@link decodeRecord}'s.
 */
export function decodeJsonText(text: string, opts: { fallbackTimestampMs?: number; bounds: EventTimeBounds }): { samples: MetricSample[]; events: JobEvent[]; reasons: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { samples: [], events: [], reasons: [boundReason(`value: not JSON (${(e as Error).message})`)] };
  }
  const out = decodeParsed(parsed, text, usableRecordTime(opts.fallbackTimestampMs ?? NaN), opts.bounds);
  return { samples: out.samples, events: out.events, reasons: out.rejections.map((r) => boundReason(r.reason)) };
}

/** Validates one sample object (no event-time bounds): the sample, or the reason. Never throws. */
export function validateSample(o: unknown, recordTimestampMs: number, prefix = ''): { sample: MetricSample } | { reason: string } {
  const c = checkSample(o, recordTimestampMs, prefix);
  return 'reason' in c ? { reason: boundReason(c.reason) } : { sample: c.sample };
}
