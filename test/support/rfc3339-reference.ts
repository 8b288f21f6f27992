/**
 * RFC 3339 parsing as it was before the hand-written reader (commit eafca89,
 * shared/core/decode/time.ts: a regex, then `Date`). Kept verbatim as the oracle the property test
 * in test/unit/decode-rfc3339.test.ts holds `checkRfc3339` to, reasons included (and the old
 * `checkTimestamp` on it, for test/support/job-event-reference.ts).
 */
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../../shared/core/decode/time.ts';

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function referenceCheckRfc3339(text: string): { ms: number } | { reason: string } {
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

/** Reads a sample's `timestamp` field (present): epoch ms, or why it is not a usable time. */
export function referenceCheckTimestamp(ts: unknown): { ms: number } | { reason: string } {
  if (typeof ts === 'number') {
    if (!Number.isInteger(ts)) return { reason: 'expected integer epoch milliseconds' };
    if (ts < MIN_TIMESTAMP_MS) return { reason: `expected epoch milliseconds, at least ${MIN_TIMESTAMP_MS} (1973-03-03): this looks like seconds` };
    if (ts >= MAX_TIMESTAMP_MS) return { reason: `expected epoch milliseconds, below ${MAX_TIMESTAMP_MS} (year 5138): this looks like microseconds or nanoseconds` };
    return { ms: ts };
  }
  if (typeof ts === 'string') return referenceCheckRfc3339(ts);
  return { reason: 'expected epoch milliseconds or an RFC 3339 time' };
}
