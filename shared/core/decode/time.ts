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

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar, as `Date` counts them
 * (ECMA-262 MakeDay), for any year from 0: Howard Hinnant's days_from_civil
 * (https://howardhinnant.github.io/date_algorithms.html#days_from_civil).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The value of the `n` ASCII digits of `text` from `i`, or -1 when one of them is no digit (or past the end). */
function digitsValue(text: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = text.charCodeAt(k) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

const NOT_RFC3339: { readonly reason: string } = Object.freeze({ reason: 'expected an RFC 3339 time, e.g. 2026-11-21T22:26:40Z' });

/**
 * Parses an RFC 3339 time to epoch ms (sub-millisecond digits truncated), or says why it is not one.
 * Stricter than `Date.parse`, which rolls `2026-02-30` over to March 2 and reads `24:00:00` as the
 * next midnight: every field must exist (RFC 3339 §5.6/§5.7). Second 60 (a leap second, which
 * RFC 3339 allows) is refused: epoch milliseconds cannot represent it, Go's `time.Parse` (what
 * Prometheus uses) refuses it too, and no leap second has been inserted since 2016.
 *
 * The form is `YYYY-MM-DD[Tt ]hh:mm:ss[.f{1,9}][Zz|±hh:mm]`, read by hand (this is on the path of
 * every sample and event that carries a text time: no regex match array, no `Date`).
 */
export function checkRfc3339(text: string): { ms: number } | { reason: string } {
  const n = text.length;
  if (n < 20) return NOT_RFC3339;
  const year = digitsValue(text, 0, 4);
  const month = digitsValue(text, 5, 2);
  const day = digitsValue(text, 8, 2);
  const hour = digitsValue(text, 11, 2);
  const minute = digitsValue(text, 14, 2);
  const second = digitsValue(text, 17, 2);
  const sep = text.charCodeAt(10);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return NOT_RFC3339;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return NOT_RFC3339;
  if (sep !== 84 && sep !== 116 && sep !== 32) return NOT_RFC3339;
  let i = 19;
  let millis = 0;
  if (text.charCodeAt(i) === 46) {
    // 1 to 9 digits of fraction; the first three are the milliseconds.
    let j = i + 1;
    while (j < n && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    if (j - i - 1 < 1 || j - i - 1 > 9) return NOT_RFC3339;
    for (let k = i + 1; k < i + 4; k++) millis = millis * 10 + (k < j ? text.charCodeAt(k) - 48 : 0);
    i = j;
  }
  // The zone: `Z`, or an offset (its hours and minutes are checked after the date's fields).
  const zone = text.charCodeAt(i);
  let oh = 0;
  let om = 0;
  if (zone === 90 || zone === 122) {
    if (i + 1 !== n) return NOT_RFC3339;
  } else if (zone === 43 || zone === 45) {
    oh = digitsValue(text, i + 1, 2);
    om = digitsValue(text, i + 4, 2);
    if (i + 6 !== n || oh < 0 || om < 0 || text.charCodeAt(i + 3) !== 58) return NOT_RFC3339;
  } else return NOT_RFC3339;
  if (month < 1 || month > 12) return { reason: `month ${text.slice(5, 7)} does not exist (01-12)` };
  if (day < 1 || day > daysInMonth(year, month)) return { reason: `${text.slice(0, 10)} does not exist` };
  if (hour > 23) return { reason: `hour ${text.slice(11, 13)} does not exist (00-23)` };
  if (minute > 59) return { reason: `minute ${text.slice(14, 16)} does not exist (00-59)` };
  if (second === 60) return { reason: 'second 60 (a leap second) cannot be represented in epoch time; send 23:59:59.999' };
  if (second > 59) return { reason: `second ${text.slice(17, 19)} does not exist (00-59)` };
  if (oh > 23 || om > 59) return { reason: `offset ${text.slice(i, i + 3)}:${text.slice(i + 4, i + 6)} does not exist` };
  const offsetMin = zone === 45 ? -(oh * 60 + om) : oh * 60 + om;
  const ms = daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + millis - offsetMin * 60_000;
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
