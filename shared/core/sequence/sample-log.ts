/**
 * What every {@link SampleLog} implementation accepts, checked the same way by the DynamoDB log
 * and the in-memory one, so a segment the in-memory log takes in a replay is one production can
 * store too (and the other way round).
 */
import { PermanentError } from '../errors/index.ts';
import type { LogSegment } from './ports.ts';

/**
 * Largest magnitude of a sample time the log stores (epoch ms; about the year 37,600). The
 * DynamoDB log stores times as zigzag varint deltas in whole numbers: with both times within
 * ±2^50 a delta is within ±2^51 and its zigzag form within 2^52, exact in a JavaScript number.
 * Decode accepts only [1e11, 1e14) (shared/core/decode/time.ts), far inside.
 */
export const LOG_TIME_LIMIT_MS = 2 ** 50;

/** A segment that cannot be logged (bad offsets, a sample time that is not a whole number of ms). */
export class InvalidSegmentError extends PermanentError {}

/** How errors and logs name a segment: `segment <partition>@<startOffset>`. */
export function segmentName(partition: string, startOffset: number): string {
  return `segment ${partition}@${startOffset}`;
}

/** Why a sample time cannot be logged, or undefined when it can. */
export function logTimeProblem(t: number): string | undefined {
  if (!Number.isInteger(t)) return `timestampMs ${t} is not a whole number of milliseconds`;
  if (Math.abs(t) > LOG_TIME_LIMIT_MS) return `timestampMs ${t} is beyond ±2^50 ms`;
  return undefined;
}

/** Throws an {@link InvalidSegmentError} naming the segment and the field when `segment` cannot be logged. */
export function checkSegment(segment: LogSegment): void {
  const { partition, startOffset, endOffset, writtenAtMs, samples } = segment;
  const fail = (what: string): never => {
    throw new InvalidSegmentError(`${segmentName(partition, startOffset)}: ${what}`);
  };
  if (typeof partition !== 'string' || partition === '') fail('partition must be a non-empty string');
  if (!Number.isSafeInteger(startOffset) || startOffset < 0) fail(`startOffset must be a non-negative safe integer, got ${startOffset}`);
  if (!Number.isSafeInteger(endOffset) || endOffset <= startOffset) fail(`endOffset must be a safe integer above startOffset, got ${endOffset}`);
  if (!Number.isSafeInteger(writtenAtMs)) fail(`writtenAtMs must be whole epoch milliseconds, got ${writtenAtMs}`);
  for (let i = 0; i < samples.length; i++) {
    const problem = logTimeProblem(samples[i]!.timestampMs);
    if (problem) fail(`samples[${i}].${problem}`);
  }
}

/** Throws a RangeError naming the bound when an offset bound of a read is NaN. */
export function checkOffsetBound(name: string, value: number): void {
  if (Number.isNaN(value)) throw new RangeError(`sample log: ${name} must be a number, got NaN`);
}
