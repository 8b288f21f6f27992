/**
 * The shape of Alertmanager 0.25's named time intervals as documents write them (the routes
 * config, classification rules); `compileTimeIntervals` (time-interval.ts) checks the values.
 * Apart from the routes config so the evaluator's classification does not bundle dispatch.
 */
import { z } from 'zod';

const rangeItem = z.union([z.string(), z.number()]);

/** One `time_intervals` entry. */
export const timeIntervalEntrySchema = z.strictObject({
  times: z.array(z.strictObject({ start_time: z.string(), end_time: z.string() })).optional(),
  weekdays: z.array(rangeItem).optional(),
  days_of_month: z.array(rangeItem).optional(),
  months: z.array(rangeItem).optional(),
  years: z.array(rangeItem).optional(),
  location: z.string().optional(),
});

/** A named time interval: `{ name, time_intervals: [...] }`. */
export const namedTimeIntervalSchema = z.strictObject({ name: z.string(), time_intervals: z.array(timeIntervalEntrySchema).optional() });
