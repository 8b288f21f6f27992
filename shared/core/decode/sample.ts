/**
 * Validation of one sample object: the sample, or ONE reason naming the field (`[3].labels.env: …`).
 *
 * One hand-written validator serves the hot path and the error path alike, so what is accepted and
 * what the reason says cannot drift apart (zod did drift here: its `record` silently drops an own
 * `__proto__` key that `JSON.parse` creates, it counts string lengths in code points while the size
 * bounds are in UTF-16 code units, and its unknown-keys message lists every key, 1 MB for 50,000 of
 * them). A valid sample costs no allocation beyond the sample; reasons are built only on failure and
 * stay bounded whatever the input (keys in a path are cut to {@link PATH_KEY_MAX_CHARS}).
 *
 * Formats: wire `{"name","value","timestamp"?,"labels"?}` and seed
 * `{"metric_name","value","instance_id"?,"tags"?,"timestamp"?}`; in the seed format `instance_id`
 * becomes the label `instance` (Prometheus's name for it) and wins over a `tags.instance`.
 */
import type { Labels, MetricSample } from '../model/index.ts';
import { checkTimestamp, formatCount } from './time.ts';

/** At most this many labels per sample. */
export const MAX_LABELS = 64;
/**
 * Longest label value accepted, in UTF-16 code units (JavaScript's string length: a character
 * outside the Basic Multilingual Plane, an emoji say, counts 2). Also the longest `instance_id`.
 */
export const MAX_LABEL_VALUE_CHARS = 1024;
/**
 * Most UTF-16 code units of all label names and values of one sample together. Labels are stored in
 * series state and alert records, so this bound (with the window bound) keeps every DynamoDB item
 * far below its 400 KB limit: even escaped as `\uXXXX` (6 bytes a unit) they stay under 50 KB.
 */
export const MAX_LABELS_TOTAL_CHARS = 8192;
/** Longest metric name (as Prometheus client libraries would never need more). */
export const MAX_METRIC_NAME_CHARS = 200;
/** Longest label name. */
export const MAX_LABEL_NAME_CHARS = 100;
/** A key quoted in a reason is cut to this many characters (a hostile key may be 1 MB long). */
export const PATH_KEY_MAX_CHARS = 64;

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:.-]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const WIRE_FIELDS: ReadonlySet<string> = new Set(['name', 'value', 'timestamp', 'labels']);
const SEED_FIELDS: ReadonlySet<string> = new Set(['metric_name', 'value', 'timestamp', 'instance_id', 'tags']);

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

function remember(cache: Set<string>, name: string): void {
  if (cache.size >= NAME_CACHE_MAX) cache.clear();
  cache.add(name);
}

/** A key as it appears in a reason's path: cut, and quoted when it is not a plain identifier. */
export function pathKey(k: string): string {
  const cut = k.length > PATH_KEY_MAX_CHARS ? `${k.slice(0, PATH_KEY_MAX_CHARS)}…` : k;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? cut : JSON.stringify(cut);
}

/** The path of a sample in its record: `[3]` for an index (built only for a reason, never on the hot path). */
export function pathOf(at: string | number): string {
  return typeof at === 'number' ? `[${at}]` : at;
}

function join(prefix: string, field: string): string {
  return prefix ? `${prefix}.${field}` : field;
}

function metricNameReason(n: unknown): string | undefined {
  if (typeof n !== 'string') return 'expected a metric name';
  if (goodMetricNames.has(n)) return undefined;
  if (n.length > MAX_METRIC_NAME_CHARS) return `metric name too long: ${formatCount(n.length)} characters (at most ${MAX_METRIC_NAME_CHARS})`;
  if (!METRIC_NAME_RE.test(n)) return 'expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:.-]*)';
  remember(goodMetricNames, n);
  return undefined;
}

/** Why `k` is not a usable label name (reserved `__` prefix, too long, bad characters), or undefined. */
export function labelNameReason(k: string): string | undefined {
  if (goodLabelNames.has(k)) return undefined;
  // `__proto__` lands here too: JSON.parse makes it an own key, and it is reported, never dropped.
  if (k.startsWith('__')) return 'label names starting with __ are reserved';
  if (k.length > MAX_LABEL_NAME_CHARS) return `label name too long: ${formatCount(k.length)} characters (at most ${MAX_LABEL_NAME_CHARS})`;
  if (!LABEL_NAME_RE.test(k)) return 'expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)';
  remember(goodLabelNames, k);
  return undefined;
}

function stringLengthReason(v: string, what: string): string | undefined {
  if (v.length <= MAX_LABEL_VALUE_CHARS) return undefined;
  return `${what} too long: ${formatCount(v.length)} UTF-16 code units (at most ${formatCount(MAX_LABEL_VALUE_CHARS)}; an emoji counts 2)`;
}

/** Checks a label set; the reason (with its path) or undefined. */
function labelsReason(l: unknown, path: string): string | undefined {
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return `${path}: expected an object of label names to string values`;
  let n = 0;
  for (const k in l) if (hasOwn.call(l, k)) n++;
  // Counted first: 50,000 labels cost one pass, not 50,000 reasons.
  if (n > MAX_LABELS) return `${path}: at most ${MAX_LABELS} labels (got ${formatCount(n)})`;
  let chars = 0;
  for (const k in l) {
    if (!hasOwn.call(l, k)) continue;
    const nameReason = labelNameReason(k);
    if (nameReason) return `${path}.${pathKey(k)}: ${nameReason}`;
    const v = (l as Record<string, unknown>)[k];
    if (typeof v !== 'string') return `${path}.${pathKey(k)}: expected a string`;
    const long = stringLengthReason(v, 'label value');
    if (long) return `${path}.${pathKey(k)}: ${long}`;
    chars += k.length + v.length;
  }
  if (chars > MAX_LABELS_TOTAL_CHARS) return `${path}: labels too large: ${formatCount(chars)} UTF-16 code units of names and values (at most ${formatCount(MAX_LABELS_TOTAL_CHARS)} in all)`;
  return undefined;
}

function unknownFieldsReason(s: object, allowed: ReadonlySet<string>, at: string | number): string | undefined {
  let unknown = 0;
  const first: string[] = [];
  for (const k in s) {
    if (!hasOwn.call(s, k) || allowed.has(k)) continue;
    if (unknown++ < 3) first.push(pathKey(k));
  }
  if (unknown === 0) return undefined;
  const more = unknown > first.length ? ` and ${formatCount(unknown - first.length)} more` : '';
  return `${pathOf(at) || 'value'}: unknown field${unknown > 1 ? 's' : ''} ${first.join(', ')}${more} (expected ${[...allowed].join(', ')})`;
}

/**
 * A validated sample, before event-time bounds: `timestampMs` is the sample's own time, or
 * `recordTimestampMs` (possibly NaN) when it has none; `ownTimestamp` says which.
 */
export interface CheckedSample {
  readonly sample: MetricSample;
  readonly ownTimestamp: boolean;
}

/**
 * Validates one sample object: the sample, or the reason (`[i].field: message`, at most a few
 * hundred characters whatever the input). `at` is the sample's path in the record (`[3]`), or its
 * index in the record's array.
 * Never throws.
 */
export function checkSample(o: unknown, recordTimestampMs: number, at: string | number = ''): CheckedSample | { reason: string } {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { reason: `${pathOf(at) || 'value'}: expected a sample object` };
  const s = o as Record<string, unknown>;
  const seed = !hasOwn.call(s, 'name') && hasOwn.call(s, 'metric_name');
  const unknown = unknownFieldsReason(s, seed ? SEED_FIELDS : WIRE_FIELDS, at);
  if (unknown) return { reason: unknown };
  const name = seed ? s.metric_name : s.name;
  const nameReason = metricNameReason(name);
  if (nameReason) return { reason: `${join(pathOf(at), seed ? 'metric_name' : 'name')}: ${nameReason}` };
  const value = s.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return { reason: `${join(pathOf(at), 'value')}: expected a finite number` };
  let timestampMs = recordTimestampMs;
  const own = s.timestamp !== undefined;
  if (own) {
    const t = checkTimestamp(s.timestamp);
    if ('reason' in t) return { reason: `${join(pathOf(at), 'timestamp')}: ${t.reason}` };
    timestampMs = t.ms;
  }
  const labelsField = seed ? 'tags' : 'labels';
  const raw = s[labelsField];
  if (raw !== undefined) {
    const r = labelsReason(raw, join(pathOf(at), labelsField));
    if (r) return { reason: r };
  }
  let labels = (raw as Labels | undefined) ?? EMPTY_LABELS;
  if (seed && s.instance_id !== undefined) {
    const inst = s.instance_id;
    const path = join(pathOf(at), 'instance_id');
    if (typeof inst !== 'string' || inst.length === 0) return { reason: `${path}: expected a non-empty string` };
    const long = stringLengthReason(inst, 'instance_id');
    if (long) return { reason: `${path}: ${long}` };
    labels = { ...labels, instance: inst };
  }
  return { sample: { name: name as string, value, timestampMs, labels }, ownTimestamp: own };
}
