/**
 * Event time at decode: what a sample's `timestamp` may be, and how far it may stray from the clock
 * and from its own Kafka record.
 *
 * Why bounds matter: evaluation skips a sample older than the newest one of its series (out of
 * order), so ONE sample stamped in the future (a day ahead, the year 2100, microseconds taken for
 * milliseconds) would make every later real sample of that series "out of order", forever. Such a
 * sample is rejected here, with the reason, before it can reach series state.
 *
 * Static checks (always): an integer of epoch milliseconds in [{@link MIN_TIMESTAMP_MS},
 * {@link MAX_TIMESTAMP_MS}), or an RFC 3339 time that exists (no February 30, no hour 24, no
 * second 60: see {@link parseRfc3339}) in that same range.
 * Bounds against time ({@link EventTimeBounds}): at most `maxFutureSkewMs` ahead of the clock and of
 * the record's own timestamp, at most `maxAgeMs` old.
 */
import { humanDuration } from '../format/escape.ts';

/**
 * Epoch-ms numbers below this (1973-03-03) are taken for seconds by mistake and rejected; RFC 3339
 * times before it are rejected too (one floor for both forms).
 */
export const MIN_TIMESTAMP_MS = 1e11;
/**
 * Epoch-ms numbers from this (year 5138) on are microseconds or nanoseconds by mistake (now is
 * about 1.8e15 µs, 1.8e18 ns) and rejected; RFC 3339 times cannot reach it (4-digit years).
 */
export const MAX_TIMESTAMP_MS = 1e14;

/** Default: a sample may be at most 10 minutes ahead of the clock (and of its Kafka record). */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 10 * 60_000;
/**
 * Default: a sample may be at most 7 days old. Kafka's default retention is 7 days
 * (`log.retention.hours` = 168, https://kafka.apache.org/documentation/#brokerconfigs_log.retention.hours)
 * and series state lives as long (its TTL), so an older sample has no state to be evaluated against.
 */
export const DEFAULT_MAX_SAMPLE_AGE_MS = 7 * 86_400_000;

/** How far event time may stray. Pure: the caller passes the clock's reading. */
export interface EventTimeBounds {
  /**
   * The clock's now (epoch ms). `undefined` where there is no "now": replaying recorded data
   * (`klaxon replay`), whose samples are legitimately old; then only the record-time bounds apply.
   */
  readonly nowMs: number | undefined;
  /** Most a sample may be ahead of the clock, and of its own Kafka record's timestamp (ms). */
  readonly maxFutureSkewMs: number;
  /** Most a sample may be behind the clock (or, without a clock, behind its record's timestamp), in ms. */
  readonly maxAgeMs: number;
}

/** The evaluator's defaults at a given now. */
export function defaultEventTimeBounds(nowMs: number | undefined): EventTimeBounds {
  return { nowMs, maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS, maxAgeMs: DEFAULT_MAX_SAMPLE_AGE_MS };
}

/** `1234567` → `1,234,567` (reasons are read by people). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const YEAR_MS = 365.25 * 86_400_000;

/** A span for a reason: `10m`, `1d`, `9d 3h`, or `8,000 years` for absurd ones. */
export function spanText(ms: number): string {
  return ms >= 2 * YEAR_MS ? `${formatCount(Math.floor(ms / YEAR_MS))} years` : humanDuration(ms);
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses an RFC 3339 time to epoch ms (sub-millisecond digits truncated), or says why it is not one.
 * Stricter than `Date.parse`, which rolls `2026-02-30` over to March 2 and reads `24:00:00` as the
 * next midnight: every field must exist (RFC 3339 §5.6/§5.7). Second 60 (a leap second, which
 * RFC 3339 allows) is refused: epoch milliseconds cannot represent it, Go's `time.Parse` (what
 * Prometheus uses) refuses it too, and no leap second has been inserted since 2016.
 */
export function checkRfc3339(text: string): { ms: number } | { reason: string } {
  const m = RFC3339_RE.exec(text);
  if (!m) return { reason: 'expected an RFC 3339 time, e.g. 2026-11-21T22:26:40Z' };
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return { reason: `month ${m[2]} does not exist (01-12)` };
  if (day < 1 || day > daysInMonth(year, month)) return { reason: `${m[1]}-${m[2]}-${m[3]} does not exist` };
  if (hour > 23) return { reason: `hour ${m[4]} does not exist (00-23)` };
  if (minute > 59) return { reason: `minute ${m[5]} does not exist (00-59)` };
  if (second === 60) return { reason: 'second 60 (a leap second) cannot be represented in epoch time; send 23:59:59.999' };
  if (second > 59) return { reason: `second ${m[6]} does not exist (00-59)` };
  let offsetMin = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return { reason: `offset ${m[8]}${m[9]}:${m[10]} does not exist` };
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, millis);
  const ms = d.getTime() - offsetMin * 60_000;
  if (ms < MIN_TIMESTAMP_MS) return { reason: `${text.slice(0, 40)} is before ${new Date(MIN_TIMESTAMP_MS).toISOString()}, the earliest time accepted` };
  return { ms };
}

/** Parses an RFC 3339 timestamp to epoch ms (sub-millisecond digits truncated); undefined if invalid. */
export function parseRfc3339(text: string): number | undefined {
  const r = checkRfc3339(text);
  return 'ms' in r ? r.ms : undefined;
}

/** Reads a sample's `timestamp` field (present): epoch ms, or why it is not a usable time. */
export function checkTimestamp(ts: unknown): { ms: number } | { reason: string } {
  if (typeof ts === 'number') {
    if (!Number.isInteger(ts)) return { reason: 'expected integer epoch milliseconds' };
    if (ts < MIN_TIMESTAMP_MS) return { reason: `expected epoch milliseconds, at least ${MIN_TIMESTAMP_MS} (1973-03-03): this looks like seconds` };
    if (ts >= MAX_TIMESTAMP_MS) return { reason: `expected epoch milliseconds, below ${MAX_TIMESTAMP_MS} (year 5138): this looks like microseconds or nanoseconds` };
    return { ms: ts };
  }
  if (typeof ts === 'string') return checkRfc3339(ts);
  return { reason: 'expected epoch milliseconds or an RFC 3339 time' };
}

/**
 * Why a sample at `ms` is out of bounds, or undefined when it is within them. `recordMs` is the
 * Kafka record's timestamp (NaN when the record has none); `own` says whether the time is the
 * sample's own or was taken from the record.
 */
export function eventTimeReason(ms: number, recordMs: number, own: boolean, b: EventTimeBounds): string | undefined {
  // Texts are built only for a reason (the hot path is a sample within bounds).
  if (b.nowMs !== undefined) {
    const whose = own ? '' : "missing, and the record's timestamp is ";
    if (ms - b.nowMs > b.maxFutureSkewMs) return `${whose}${spanText(ms - b.nowMs)} in the future (max skew ${humanDuration(b.maxFutureSkewMs)})`;
    if (b.nowMs - ms > b.maxAgeMs) return `${whose}${spanText(b.nowMs - ms)} old (max age ${humanDuration(b.maxAgeMs)})`;
  }
  if (own && recordMs === recordMs) {
    if (ms - recordMs > b.maxFutureSkewMs) return `${spanText(ms - recordMs)} after its Kafka record's timestamp (max skew ${humanDuration(b.maxFutureSkewMs)})`;
    // Without a clock (replay), age is measured from the record: with one, the clock bound covers it.
    if (b.nowMs === undefined && recordMs - ms > b.maxAgeMs) return `${spanText(recordMs - ms)} before its Kafka record's timestamp (max age ${humanDuration(b.maxAgeMs)})`;
  }
  return undefined;
}
