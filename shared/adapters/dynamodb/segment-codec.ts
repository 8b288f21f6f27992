/**
 * The stored form of a sample log segment's samples (the `samples` table): compact because the log
 * is written on every batch and DynamoDB bills a write unit per started KB of item
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 * JSON would repeat every sample's metric name and labels; here each series is written once.
 *
 * Layout: one format byte ({@link SEGMENT_FORMAT}), then the rest compressed with raw DEFLATE
 * (node:zlib `deflateRawSync`; it squeezes the repeated bytes of times and values further):
 *
 * ```
 * varint  series count
 *   per series:  str name, varint label count, per label (keys sorted): str key, str value
 * varint  sample count
 *   per sample:  varint series index, varint zigzag(time - previous sample's time), float64 LE value
 * ```
 *
 * `str` is a varint header `byteLength * 2 + form` then the bytes: form 0 is UTF-8; form 1 is
 * UTF-16LE code units, used only for a string that is not well-formed Unicode (a lone surrogate,
 * which JSON's `\ud800` escape can put in a label value): UTF-8 would replace it with U+FFFD and
 * the decoded series would not be the one evaluated. Length-prefixed strings need no escaping, so
 * names and labels may hold any characters, `=`, quotes, commas and NUL included.
 * Times are whole milliseconds (the first sample's delta is from 0); values keep their 8 bytes, so
 * NaN, ±Infinity and -0 come back bit for bit.
 *
 * Decoding trusts nothing: every length and index is checked against the bytes left, the inflated
 * size is bounded, and any fault is a {@link CorruptSegmentError} naming the segment.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PermanentError } from '../../core/errors/index.ts';
import type { Labels, MetricSample } from '../../core/model/index.ts';
import { InvalidSegmentError, logTimeProblem } from '../../core/sequence/sample-log.ts';

/** The format byte this codec writes and reads. A later format gets another byte. */
export const SEGMENT_FORMAT = 1;

/**
 * Most bytes a chunk may inflate to. A segment holds one batch's samples, and an MSK batch reaches
 * the function as at most 6 MB of event payload (Lambda's invocation payload limit,
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); the uncompressed
 * encoding is smaller than the JSON it was decoded from. 64 MiB is far above that, and keeps a
 * corrupt or hostile item from inflating without bound.
 */
export const DECODED_MAX_BYTES = 64 * 1024 * 1024;

/** Fewest bytes one encoded sample takes (series index 1, time delta 1, value 8): bounds counts read. */
const MIN_SAMPLE_BYTES = 10;
/** Fewest bytes one encoded series takes (an empty name's header, a label count of 0). */
const MIN_SERIES_BYTES = 2;

/** Stored samples that cannot be decoded (truncated, corrupt, or another format). */
export class CorruptSegmentError extends PermanentError {}

/** A growable byte buffer. */
class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** An unsigned integer up to 2^53, 7 bits a byte, low bits first (arithmetic: bit operators stop at 32 bits). */
  varint(n: number): void {
    this.room(8);
    while (n >= 128) {
      this.buf[this.length++] = (n % 128) + 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.length++] = n;
  }

  float64(x: number): void {
    this.room(8);
    this.view.setFloat64(this.length, x, true);
    this.length += 8;
  }

  str(s: string): void {
    const utf8 = s.isWellFormed();
    const bytes = Buffer.from(s, utf8 ? 'utf8' : 'utf16le');
    this.varint(bytes.length * 2 + (utf8 ? 0 : 1));
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** A fault found while reading, turned into a {@link CorruptSegmentError} by {@link decodeSamples}. */
class Truncated extends Error {}

// ignoreBOM: a string may start with U+FEFF (a label value, a metric name): it must come back, not be
// taken for a byte order mark and dropped.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads what {@link Writer} wrote, checking every length against the bytes left. */
class Reader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get left(): number {
    return this.buf.length - this.pos;
  }

  varint(what: string): number {
    let n = 0;
    for (let shift = 1, i = 0; ; shift *= 128, i++) {
      if (i === 8) throw new Truncated(`${what}: varint longer than 8 bytes at byte ${this.pos}`);
      if (this.pos >= this.buf.length) throw new Truncated(`${what}: truncated at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      n += (b % 128) * shift;
      if (b < 128) break;
    }
    if (!Number.isSafeInteger(n)) throw new Truncated(`${what}: varint ${n} beyond 2^53`);
    return n;
  }

  float64(what: string): number {
    if (this.left < 8) throw new Truncated(`${what}: truncated at byte ${this.pos}`);
    const x = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }

  str(what: string): string {
    const header = this.varint(what);
    const n = Math.floor(header / 2);
    if (n > this.left) throw new Truncated(`${what}: ${n} bytes announced, ${this.left} left`);
    const bytes = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    if (header % 2 === 0) {
      try {
        return UTF8.decode(bytes);
      } catch {
        throw new Truncated(`${what}: invalid UTF-8`);
      }
    }
    if (n % 2 !== 0) throw new Truncated(`${what}: odd length ${n} of UTF-16 text`);
    return Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('utf16le');
  }
}

/** The dictionary key of a series: name and labels, label order not significant. */
function seriesKey(name: string, labels: Labels): string {
  return JSON.stringify([name, ...Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/**
 * Encodes samples (see the module comment). `what` names the segment in errors.
 * @throws InvalidSegmentError for a time that is not whole milliseconds within ±2^50
 */
export function encodeSamples(samples: readonly MetricSample[], what: string): Buffer {
  const index = new Map<string, number>();
  const series: { name: string; labels: [string, string][] }[] = [];
  const ids = new Array<number>(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const problem = logTimeProblem(s.timestampMs);
    if (problem) throw new InvalidSegmentError(`${what}: samples[${i}].${problem}`);
    const key = seriesKey(s.name, s.labels);
    let id = index.get(key);
    if (id === undefined) {
      index.set(key, (id = series.length));
      series.push({ name: s.name, labels: Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) });
    }
    ids[i] = id;
  }
  const w = new Writer();
  w.varint(series.length);
  for (const s of series) {
    w.str(s.name);
    w.varint(s.labels.length);
    for (const [k, v] of s.labels) {
      w.str(k);
      w.str(v);
    }
  }
  w.varint(samples.length);
  let prev = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const d = s.timestampMs - prev;
    prev = s.timestampMs;
    w.varint(ids[i]!);
    w.varint(d >= 0 ? d * 2 : -d * 2 - 1);
    w.float64(s.value);
  }
  return Buffer.concat([Buffer.from([SEGMENT_FORMAT]), deflateRawSync(w.bytes())]);
}

/**
 * Decodes {@link encodeSamples}. Samples of one series share one frozen labels object.
 * @throws CorruptSegmentError naming `what` (the segment) and what was wrong
 */
export function decodeSamples(bytes: Uint8Array, what: string): MetricSample[] {
  if (bytes.length === 0) throw new CorruptSegmentError(`${what}: empty`);
  if (bytes[0] !== SEGMENT_FORMAT) throw new CorruptSegmentError(`${what}: unknown format byte ${bytes[0]} (expected ${SEGMENT_FORMAT})`);
  let raw: Buffer;
  try {
    raw = inflateRawSync(bytes.subarray(1), { maxOutputLength: DECODED_MAX_BYTES });
  } catch (err) {
    throw new CorruptSegmentError(`${what}: does not inflate (${(err as Error).message})`, { cause: err });
  }
  try {
    const r = new Reader(raw);
    const seriesCount = r.varint('series count');
    if (seriesCount * MIN_SERIES_BYTES > r.left) throw new Truncated(`series count ${seriesCount} exceeds the ${r.left} bytes left`);
    const series: { name: string; labels: Labels }[] = [];
    for (let i = 0; i < seriesCount; i++) {
      const name = r.str(`series ${i} name`);
      const labelCount = r.varint(`series ${i} label count`);
      if (labelCount * 2 > r.left) throw new Truncated(`series ${i}: label count ${labelCount} exceeds the ${r.left} bytes left`);
      const entries: [string, string][] = [];
      for (let j = 0; j < labelCount; j++) entries.push([r.str(`series ${i} label ${j} name`), r.str(`series ${i} label ${j} value`)]);
      // fromEntries defines own properties: a label named `__proto__` stays a label.
      series.push({ name, labels: Object.freeze(Object.fromEntries(entries)) });
    }
    const sampleCount = r.varint('sample count');
    if (sampleCount * MIN_SAMPLE_BYTES > r.left) throw new Truncated(`sample count ${sampleCount} exceeds the ${r.left} bytes left`);
    const out = new Array<MetricSample>(sampleCount);
    let t = 0;
    for (let i = 0; i < sampleCount; i++) {
      const id = r.varint(`sample ${i} series`);
      const s = series[id];
      if (!s) throw new Truncated(`sample ${i}: series ${id} of ${seriesCount}`);
      const z = r.varint(`sample ${i} time`);
      t += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      if (logTimeProblem(t)) throw new Truncated(`sample ${i}: time ${t} beyond ±2^50`);
      out[i] = { name: s.name, value: r.float64(`sample ${i} value`), timestampMs: t, labels: s.labels };
    }
    if (r.left !== 0) throw new Truncated(`${r.left} bytes after the last sample`);
    return out;
  } catch (err) {
    if (err instanceof Truncated) throw new CorruptSegmentError(`${what}: ${err.message}`);
    throw err;
  }
}

/**
 * Encodes samples as one or more chunks of at most `maxBytes` each, in order: the whole when it
 * fits, else the samples split into runs, each encoded on its own (its own series dictionary) and
 * split again until it fits. Concatenating the chunks' samples gives `samples` back.
 * @throws InvalidSegmentError when one sample alone does not fit (decode's label bounds keep a
 * sample under 30 KB, so only a `maxBytes` far below the default can cause it)
 */
export function encodeChunks(samples: readonly MetricSample[], maxBytes: number, what: string): Buffer[] {
  const whole = encodeSamples(samples, what);
  if (whole.length <= maxBytes) return [whole];
  if (samples.length <= 1) throw new InvalidSegmentError(`${what}: one sample encodes to ${whole.length} bytes, more than a chunk's ${maxBytes}`);
  // Equal runs sized from the whole's ratio; a run that still does not fit (a dictionary repeated
  // in every run, uneven series) is halved again.
  const parts = Math.max(2, Math.ceil(whole.length / maxBytes));
  const per = Math.ceil(samples.length / parts);
  const out: Buffer[] = [];
  for (let i = 0; i < samples.length; i += per) out.push(...encodeChunks(samples.slice(i, i + per), maxBytes, what));
  return out;
}
