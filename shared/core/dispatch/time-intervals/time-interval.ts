/**
 * Time intervals in Alertmanager 0.25's syntax and semantics (docs/routing.md, "Time intervals"):
 *
 * ```yaml
 * time_intervals:
 *   - name: business-hours
 *     time_intervals:
 *       - times: [{ start_time: '09:00', end_time: '17:00' }]
 *         weekdays: ['monday:friday']
 *         location: Europe/Berlin
 *   - name: month-end
 *     time_intervals:
 *       - days_of_month: ['-3:-1']
 * ```
 *
 * A named interval holds if any of its entries holds; an entry holds if every field it gives holds
 * (a field left out holds always); a field holds if any of its ranges holds. Ranges are inclusive
 * except `times`, whose `end_time` is exclusive (`24:00` allowed). `days_of_month` may count from
 * the month's end (`-1` is the last day) and is clamped to the month. Everything is evaluated on
 * the wall clock of `location` (an IANA zone, through `Intl`; default UTC): across a DST change, a
 * local time that does not exist is never reached and one that happens twice holds both times,
 * as Go's `time.In` gives Alertmanager. Pure: the instant is given.
 */

/** Weekday names, Sunday first (Go's `time.Weekday` numbering). */
export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
/** Month names, January = 1. */
export const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'] as const;

/** An inclusive range of integers. */
export interface IntRange {
  readonly begin: number;
  readonly end: number;
}

/** One entry of a named interval (compiled). */
export interface TimeIntervalEntry {
  /** Minutes of the day, [start, end). */
  readonly times?: readonly IntRange[];
  /** 0 = Sunday … 6 = Saturday, inclusive. */
  readonly weekdays?: readonly IntRange[];
  /** 1…31 or −31…−1 (from the month's end), inclusive. */
  readonly daysOfMonth?: readonly IntRange[];
  /** 1…12, inclusive. */
  readonly months?: readonly IntRange[];
  readonly years?: readonly IntRange[];
  /** IANA zone; UTC when absent. */
  readonly location?: string;
}

/** A named time interval (compiled). */
export interface TimeInterval {
  readonly name: string;
  readonly entries: readonly TimeIntervalEntry[];
}

/** One `time_intervals` entry as written. */
export interface TimeIntervalDocument {
  readonly times?: readonly { readonly start_time?: unknown; readonly end_time?: unknown }[];
  readonly weekdays?: readonly unknown[];
  readonly days_of_month?: readonly unknown[];
  readonly months?: readonly unknown[];
  readonly years?: readonly unknown[];
  readonly location?: unknown;
}

/** A named interval as written. */
export interface NamedTimeIntervalDocument {
  readonly name?: unknown;
  readonly time_intervals?: readonly TimeIntervalDocument[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is a time zone `Intl` knows (IANA names, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of an instant in a zone. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 0 = Sunday. */
  readonly weekday: number;
  /** Minute of the day. */
  readonly minute: number;
  readonly daysInMonth: number;
}

const SHORT_WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall clock at `ms` in `zone` (Alertmanager's `t.In(location)`). */
export function wallClock(ms: number, zone = 'UTC'): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  return {
    year,
    month,
    day: Number(parts.day),
    weekday: SHORT_WEEKDAYS.indexOf(parts.weekday ?? ''),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

const inAny = (ranges: readonly IntRange[] | undefined, v: number): boolean => !ranges || ranges.some((r) => v >= r.begin && v <= r.end);
const clamp = (n: number, lo: number, hi: number): number => Math.min(Math.max(n, lo), hi);

/** Whether the day of month holds, negative days counted from the month's end, clamped (Alertmanager's `ContainsTime`). */
function dayOfMonthHolds(ranges: readonly IntRange[] | undefined, w: WallClock): boolean {
  if (!ranges) return true;
  for (const r of ranges) {
    let begin = r.begin < 0 ? w.daysInMonth + r.begin + 1 : r.begin;
    let end = r.end < 0 ? w.daysInMonth + r.end + 1 : r.end;
    if (begin > w.daysInMonth) continue; // begins after this month's end
    begin = clamp(begin, -w.daysInMonth, w.daysInMonth);
    end = clamp(end, -w.daysInMonth, w.daysInMonth);
    if (w.day >= begin && w.day <= end) return true;
  }
  return false;
}

/** Whether one entry holds at `ms`. */
export function entryContains(e: TimeIntervalEntry, ms: number): boolean {
  const w = wallClock(ms, e.location ?? 'UTC');
  if (e.times && !e.times.some((r) => w.minute >= r.begin && w.minute < r.end)) return false;
  return inAny(e.weekdays, w.weekday) && dayOfMonthHolds(e.daysOfMonth, w) && inAny(e.months, w.month) && inAny(e.years, w.year);
}

/** Whether a named interval holds at `ms` (any of its entries). */
export function intervalContains(interval: TimeInterval, ms: number): boolean {
  return interval.entries.some((e) => entryContains(e, ms));
}

/** How far {@link nextChange} looks ahead: past it, the caller looks again then. */
export const NEXT_CHANGE_HORIZON_MS = 8 * 86_400_000;

/**
 * The first minute boundary after `ms` at which `holds` changes value, looking at most
 * `horizonMs` ahead (undefined: no change within it). Every boundary of an interval is a whole
 * local minute and zone offsets are whole minutes, so stepping by minutes finds it exactly.
 */
export function nextChange(holds: (ms: number) => boolean, ms: number, horizonMs = NEXT_CHANGE_HORIZON_MS): number | undefined {
  const now = holds(ms);
  const first = Math.floor(ms / 60_000) * 60_000 + 60_000;
  for (let t = first; t <= ms + horizonMs; t += 60_000) if (holds(t) !== now) return t;
  return undefined;
}

// ---- parsing, Alertmanager's syntax, errors naming the path ----

function parseRanges(list: readonly unknown[] | undefined, path: string, problems: string[], one: (s: string, at: string) => number | undefined, what: string, check?: (r: IntRange, at: string) => string | undefined): IntRange[] | undefined {
  if (list === undefined) return undefined;
  const out: IntRange[] = [];
  list.forEach((raw, i) => {
    const at = `${path}[${i}]`;
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined;
    if (text === undefined || text === '') {
      problems.push(`${at}: expected a ${what} or a range '<from>:<to>'`);
      return;
    }
    // A leading '-' is a negative day, not a range separator; ranges use ':'.
    const parts = text.split(':');
    if (parts.length > 2) {
      problems.push(`${at}: '${text}' is not a ${what} or a range '<from>:<to>'`);
      return;
    }
    const begin = one(parts[0]!.trim(), at);
    const end = parts.length === 2 ? one(parts[1]!.trim(), at) : begin;
    if (begin === undefined || end === undefined) return;
    const r = { begin, end };
    const bad = check ? check(r, at) : begin > end ? `'${text}': the start is after the end` : undefined;
    if (bad) problems.push(`${at}: ${bad}`);
    else out.push(r);
  });
  return out;
}

function named(names: readonly string[], noun: string, problems: string[], allowNumbers?: { min: number; max: number }) {
  return (s: string, at: string): number | undefined => {
    const i = names.indexOf(s.toLowerCase());
    if (i >= 0) return names === MONTHS ? i + 1 : i;
    if (allowNumbers && /^\d+$/.test(s)) {
      const n = Number(s);
      if (n >= allowNumbers.min && n <= allowNumbers.max) return n;
    }
    problems.push(`${at}: '${s}' is not a ${noun}`);
    return undefined;
  };
}

function integer(min: number, max: number, noun: string, problems: string[], zeroOk = true) {
  return (s: string, at: string): number | undefined => {
    if (/^-?\d+$/.test(s)) {
      const n = Number(s);
      if (n >= min && n <= max && (zeroOk || n !== 0)) return n;
    }
    problems.push(`${at}: '${s}' is not a ${noun}`);
    return undefined;
  };
}

/** `HH:MM` → minutes of the day (00:00 … 24:00). */
function minuteOfDay(raw: unknown, at: string, problems: string[]): number | undefined {
  const m = typeof raw === 'string' ? /^(\d{2}):(\d{2})$/.exec(raw) : null;
  if (m) {
    const h = Number(m[1]);
    const min = Number(m[2]);
    if ((h < 24 && min < 60) || (h === 24 && min === 0)) return h * 60 + min;
  }
  problems.push(`${at}: ${JSON.stringify(raw)} is not a time of day (HH:MM, 00:00 to 24:00)`);
  return undefined;
}

/** Compiles one entry; problems are pushed with their path. */
export function compileTimeIntervalEntry(d: TimeIntervalDocument, path: string, problems: string[]): TimeIntervalEntry {
  const times = d.times?.map((t, i) => {
    const at = `${path}.times[${i}]`;
    const start = minuteOfDay(t.start_time, `${at}.start_time`, problems);
    const end = minuteOfDay(t.end_time, `${at}.end_time`, problems);
    if (start === 1440) problems.push(`${at}.start_time: 24:00 is only an end time`);
    if (start !== undefined && end !== undefined && start >= end) problems.push(`${at}: start_time must be before end_time`);
    return { begin: start ?? 0, end: end ?? 0 };
  });
  const weekdays = parseRanges(d.weekdays, `${path}.weekdays`, problems, named(WEEKDAYS, 'weekday', problems), 'weekday');
  const daysOfMonth = parseRanges(d.days_of_month, `${path}.days_of_month`, problems, integer(-31, 31, 'day of the month (1 to 31, or -31 to -1 from the end)', problems, false), 'day of the month', (r) => {
    // Alertmanager compares on a 30-day month so that '1:-1' (the whole month) is allowed and '-1:1' is not.
    const b = r.begin < 0 ? 30 + r.begin : r.begin;
    const e = r.end < 0 ? 30 + r.end : r.end;
    return b > e ? `'${r.begin}:${r.end}': the start day is after the end day` : undefined;
  });
  const months = parseRanges(d.months, `${path}.months`, problems, named(MONTHS, 'month', problems, { min: 1, max: 12 }), 'month');
  const years = parseRanges(d.years, `${path}.years`, problems, integer(1, 9999, 'year', problems), 'year');
  let location: string | undefined;
  if (d.location !== undefined) {
    // Lambda runs on UTC: Alertmanager's `Local` is UTC here.
    const zone = d.location === 'Local' ? 'UTC' : d.location;
    if (typeof zone !== 'string' || !isTimeZone(zone)) problems.push(`${path}.location: ${JSON.stringify(d.location)} is not a time zone (an IANA name such as Europe/Berlin, or UTC)`);
    else location = zone;
  }
  return {
    ...(times ? { times } : {}),
    ...(weekdays ? { weekdays } : {}),
    ...(daysOfMonth ? { daysOfMonth } : {}),
    ...(months ? { months } : {}),
    ...(years ? { years } : {}),
    ...(location ? { location } : {}),
  };
}

const NAME = /^[A-Za-z0-9_.:-]+$/;

/**
 * Compiles `time_intervals` (a list of `{ name, time_intervals: [...] }`); problems are pushed as
 * `time_intervals[i].<field>: <what>` lines. Returns the intervals by name.
 */
export function compileTimeIntervals(docs: readonly NamedTimeIntervalDocument[], problems: string[]): Map<string, TimeInterval> {
  const out = new Map<string, TimeInterval>();
  docs.forEach((d, i) => {
    const path = `time_intervals[${i}]`;
    if (typeof d.name !== 'string' || !NAME.test(d.name)) {
      problems.push(`${path}.name: a name is required (letters, digits, _ . : -)`);
      return;
    }
    if (out.has(d.name)) problems.push(`${path}.name: duplicate time interval name ${JSON.stringify(d.name)}`);
    const entries = (d.time_intervals ?? []).map((e, j) => compileTimeIntervalEntry(e, `${path}.time_intervals[${j}]`, problems));
    out.set(d.name, { name: d.name, entries });
  });
  return out;
}
