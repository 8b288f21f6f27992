/**
 * Time intervals (docs/routing.md, "Time intervals"): Alertmanager 0.25's matching, one table per
 * field, across DST changes and month ends, the next change of an interval, and the validation of
 * what is written, each error naming its path.
 */
import { describe, expect, it } from 'vitest';
import {
  compileTimeIntervals,
  intervalContains,
  nextChange,
  wallClock,
  type NamedTimeIntervalDocument,
  type TimeInterval,
  type TimeIntervalDocument,
} from '../../shared/core/dispatch/time-intervals/time-interval.ts';

/** One interval from one written entry (fails the test on a problem). */
function interval(entry: TimeIntervalDocument): TimeInterval {
  const problems: string[] = [];
  const m = compileTimeIntervals([{ name: 'x', time_intervals: [entry] }], problems);
  expect(problems).toEqual([]);
  return m.get('x')!;
}
const at = (iso: string): number => Date.parse(iso);

describe('time intervals: matching (Alertmanager 0.25)', () => {
  it.each<[string, TimeIntervalDocument, string, boolean]>([
    // business hours, UTC by default; end_time is exclusive
    ['09:00 is in 09:00-17:00', { times: [{ start_time: '09:00', end_time: '17:00' }] }, '2026-11-30T09:00:00Z', true],
    ['16:59 is in', { times: [{ start_time: '09:00', end_time: '17:00' }] }, '2026-11-30T16:59:59Z', true],
    ['17:00 is out (end exclusive)', { times: [{ start_time: '09:00', end_time: '17:00' }] }, '2026-11-30T17:00:00Z', false],
    ['24:00 as an end takes the last minute', { times: [{ start_time: '23:00', end_time: '24:00' }] }, '2026-11-30T23:59:00Z', true],
    // several ranges: any
    ['second of two time ranges', { times: [{ start_time: '00:00', end_time: '01:00' }, { start_time: '22:00', end_time: '23:00' }] }, '2026-11-30T22:30:00Z', true],
    // weekdays: 2026-11-30 is a Monday
    ['monday:friday on a Monday', { weekdays: ['monday:friday'] }, '2026-11-30T12:00:00Z', true],
    ['monday:friday on a Sunday', { weekdays: ['monday:friday'] }, '2026-11-29T12:00:00Z', false],
    ['saturday, sunday (names, any case)', { weekdays: ['Saturday', 'SUNDAY'] }, '2026-11-29T12:00:00Z', true],
    // fields are ANDed
    ['business hours on a Monday at 08:00', { times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] }, '2026-11-30T08:00:00Z', false],
    // location: 08:30 UTC is 09:30 in Berlin (winter, UTC+1)
    ['Berlin business hours at 08:30 UTC', { times: [{ start_time: '09:00', end_time: '17:00' }], location: 'Europe/Berlin' }, '2026-11-30T08:30:00Z', true],
    // the weekday is Berlin's: Sunday 23:30 UTC is Monday 00:30 in Berlin
    ['Berlin Monday while UTC is still Sunday', { weekdays: ['monday'], location: 'Europe/Berlin' }, '2026-11-29T23:30:00Z', true],
    // DST, spring forward (Berlin 2026-03-29 02:00 → 03:00): 02:00-03:00 never happens that day
    ['spring forward: 01:59 local is before the gap', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-03-29T00:59:00Z', false],
    ['spring forward: the minute after 01:59 local is 03:00', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-03-29T01:00:00Z', false],
    ['spring forward: 09:00 local is 07:00 UTC (UTC+2)', { times: [{ start_time: '09:00', end_time: '17:00' }], location: 'Europe/Berlin' }, '2026-03-29T07:00:00Z', true],
    ['spring forward: 06:59 UTC is 08:59 local', { times: [{ start_time: '09:00', end_time: '17:00' }], location: 'Europe/Berlin' }, '2026-03-29T06:59:00Z', false],
    // DST, fall back (Berlin 2026-10-25 03:00 → 02:00): 02:30 local happens twice, both hold
    ['fall back: first 02:30 local (00:30 UTC)', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-10-25T00:30:00Z', true],
    ['fall back: second 02:30 local (01:30 UTC)', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-10-25T01:30:00Z', true],
    ['fall back: 02:00 UTC is 03:00 local', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-10-25T02:00:00Z', false],
    // US: New York spring forward 2026-03-08 02:00 → 03:00 (UTC-5 → UTC-4)
    ['New York business hours after its change', { times: [{ start_time: '09:00', end_time: '17:00' }], location: 'America/New_York' }, '2026-03-09T13:00:00Z', true],
    ['New York 08:30 local after its change', { times: [{ start_time: '09:00', end_time: '17:00' }], location: 'America/New_York' }, '2026-03-09T12:30:00Z', false],
    // days of month, negatives from the end
    ['-1 is the 30th of November', { days_of_month: ['-1'] }, '2026-11-30T12:00:00Z', true],
    ['-1 is not the 30th of December', { days_of_month: ['-1'] }, '2026-12-30T12:00:00Z', false],
    ['-1 is the 31st of December', { days_of_month: ['-1'] }, '2026-12-31T12:00:00Z', true],
    ['-1 is the 28th of February 2026', { days_of_month: ['-1'] }, '2026-02-28T12:00:00Z', true],
    ['-1 is the 29th of February 2028 (leap year)', { days_of_month: ['-1'] }, '2028-02-29T12:00:00Z', true],
    ['-1 is not the 28th of February 2028', { days_of_month: ['-1'] }, '2028-02-28T12:00:00Z', false],
    ['-3:-1 takes the 26th of February 2026', { days_of_month: ['-3:-1'] }, '2026-02-26T00:00:00Z', true],
    ['-3:-1 does not take the 25th', { days_of_month: ['-3:-1'] }, '2026-02-25T23:59:00Z', false],
    ['1:-1 is the whole month', { days_of_month: ['1:-1'] }, '2026-02-17T00:00:00Z', true],
    // clamped to the month: 25:31 in February takes 25..28; 30:31 begins after it and is skipped
    ['25:31 clamps to February 28', { days_of_month: ['25:31'] }, '2026-02-28T12:00:00Z', true],
    ['30:31 holds nowhere in February', { days_of_month: ['30:31'] }, '2026-02-28T12:00:00Z', false],
    // the last day in the zone, not in UTC: 2026-11-30 23:30 UTC is December 1st in Berlin
    ['-1 in Berlin at 23:30 UTC on the 30th', { days_of_month: ['-1'], location: 'Europe/Berlin' }, '2026-11-30T23:30:00Z', false],
    // months, names or numbers
    ['december', { months: ['december'] }, '2026-12-01T00:00:00Z', true],
    ['1:3 in April', { months: ['1:3'] }, '2026-04-01T00:00:00Z', false],
    ['march:may in April', { months: ['march:may'] }, '2026-04-01T00:00:00Z', true],
    // years
    ['2026:2027 in 2026', { years: ['2026:2027'] }, '2026-06-01T00:00:00Z', true],
    ['2027 in 2026', { years: ['2027'] }, '2026-12-31T23:59:00Z', false],
    // an entry with no field holds always
    ['an empty entry', {}, '2026-06-01T00:00:00Z', true],
  ])('%s', (_name, entry, iso, expected) => {
    expect(intervalContains(interval(entry), at(iso))).toBe(expected);
  });

  it('holds if any entry holds', () => {
    const problems: string[] = [];
    const i = compileTimeIntervals([{ name: 'w', time_intervals: [{ weekdays: ['saturday'] }, { weekdays: ['sunday'] }] }], problems).get('w')!;
    expect([intervalContains(i, at('2026-11-28T12:00:00Z')), intervalContains(i, at('2026-11-29T12:00:00Z')), intervalContains(i, at('2026-11-30T12:00:00Z'))]).toEqual([true, true, false]);
  });

  it('reads the wall clock of the zone', () => {
    expect(wallClock(at('2026-11-29T23:30:00Z'), 'Europe/Berlin')).toMatchObject({ year: 2026, month: 11, day: 30, weekday: 1, minute: 30, daysInMonth: 30 });
  });
});

describe('time intervals: the next change', () => {
  const business = interval({ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'], location: 'Europe/Berlin' });
  it.each<[string, string, string | undefined]>([
    // Friday evening: business hours start again on Monday 09:00 Berlin (08:00 UTC)
    ['Friday 18:00 Berlin → Monday 09:00', '2026-11-27T17:00:00Z', '2026-11-30T08:00:00Z'],
    // Monday 10:00 Berlin → 17:00 Berlin
    ['within business hours → 17:00', '2026-11-30T09:00:00Z', '2026-11-30T16:00:00Z'],
    // across spring forward: Friday 2026-03-27 18:00 (UTC+1) → Monday 2026-03-30 09:00 (UTC+2) = 07:00 UTC
    ['across spring forward', '2026-03-27T17:00:00Z', '2026-03-30T07:00:00Z'],
    // from the middle of a minute: the next whole minute boundary
    ['from a second inside a minute', '2026-11-30T15:59:30Z', '2026-11-30T16:00:00Z'],
  ])('%s', (_name, from, expected) => {
    expect(nextChange((ms) => intervalContains(business, ms), at(from))).toBe(expected === undefined ? undefined : at(expected));
  });

  it('gives up after the horizon (the caller looks again then)', () => {
    const year = interval({ years: ['2026'] });
    expect(nextChange((ms) => intervalContains(year, ms), at('2026-06-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('time intervals: validation', () => {
  it.each<[string, NamedTimeIntervalDocument[], string]>([
    // the example
    ['a weekday that is not one', [{ name: 'a', time_intervals: [{ weekdays: ['monday', 'funday'] }] }], "time_intervals[0].time_intervals[0].weekdays[1]: 'funday' is not a weekday"],
    ['a weekday range backwards', [{ name: 'a', time_intervals: [{ weekdays: ['friday:monday'] }] }], "time_intervals[0].time_intervals[0].weekdays[0]: 'friday:monday': the start is after the end"],
    ['day 0', [{ name: 'a', time_intervals: [{ days_of_month: ['0'] }] }], "time_intervals[0].time_intervals[0].days_of_month[0]: '0' is not a day of the month"],
    ['day 32', [{ name: 'a', time_intervals: [{ days_of_month: ['1:32'] }] }], "days_of_month[0]: '32' is not a day of the month"],
    ['-1:1 backwards', [{ name: 'a', time_intervals: [{ days_of_month: ['-1:1'] }] }], "days_of_month[0]: '-1:1': the start day is after the end day"],
    ['a month that is not one', [{ name: 'a', time_intervals: [{ months: ['jan'] }] }], "months[0]: 'jan' is not a month"],
    ['month 13', [{ name: 'a', time_intervals: [{ months: ['13'] }] }], "months[0]: '13' is not a month"],
    ['a year range backwards', [{ name: 'a', time_intervals: [{ years: ['2027:2026'] }] }], "years[0]: '2027:2026': the start is after the end"],
    ['a time that is not one', [{ name: 'a', time_intervals: [{ times: [{ start_time: '9:00', end_time: '17:00' }] }] }], 'times[0].start_time: "9:00" is not a time of day'],
    ['25:00', [{ name: 'a', time_intervals: [{ times: [{ start_time: '09:00', end_time: '25:00' }] }] }], 'times[0].end_time: "25:00" is not a time of day'],
    ['start after end', [{ name: 'a', time_intervals: [{ times: [{ start_time: '17:00', end_time: '09:00' }] }] }], 'times[0]: start_time must be before end_time'],
    ['24:00 as a start', [{ name: 'a', time_intervals: [{ times: [{ start_time: '24:00', end_time: '24:00' }] }] }], 'times[0].start_time: 24:00 is only an end time'],
    ['an unknown zone', [{ name: 'a', time_intervals: [{ location: 'Mars/Base' }] }], 'time_intervals[0].time_intervals[0].location: "Mars/Base" is not a time zone'],
    ['no name', [{ time_intervals: [{}] }], 'time_intervals[0].name: a name is required'],
    ['a duplicate name', [{ name: 'a' }, { name: 'a' }], 'time_intervals[1].name: duplicate time interval name "a"'],
  ])('%s', (_name, docs, message) => {
    const problems: string[] = [];
    compileTimeIntervals(docs, problems);
    expect(problems.join('\n')).toContain(message);
  });
});
