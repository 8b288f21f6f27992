/**
 * The local stand-in for the evaluator's S3 on-failure destination: a Kafka record that still fails
 * after the maximum retry attempts is appended, whole and with the reason, to a JSON-lines file, so
 * nothing is lost locally either (re-publish its value after a fix: replays are safe).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MSKRecord } from 'aws-lambda';

/** One line of the failed-records file. */
export interface FailedRecordLine {
  readonly reason: string;
  /** Wall-clock time of the failure, RFC 3339. */
  readonly failedAt: string;
  readonly record: MSKRecord;
}

/** Appends the record to `file` (creating its folder) and returns the line written. */
export function keepFailedRecord(file: string, record: MSKRecord, reason: string, nowMs: number): FailedRecordLine {
  const line: FailedRecordLine = { reason, failedAt: new Date(nowMs).toISOString(), record };
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(line)}\n`);
  return line;
}
