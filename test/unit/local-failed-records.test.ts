import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MSKRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { keepFailedRecord, type FailedRecordLine } from '../../local/runtime/failed-records.ts';

const record = (offset: number): MSKRecord => ({
  topic: 'metrics',
  partition: 1,
  offset,
  timestamp: 1_795_300_000_000,
  timestampType: 'CREATE_TIME',
  key: '',
  value: Buffer.from('{"name":"x","value":1}').toString('base64'),
  headers: [],
});

describe('failed records (local on-failure destination)', () => {
  it('keeps each record whole with its reason, one JSON line each, creating the folder', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'klaxon-failed-')), 'nested', 'failed.jsonl');
    keepFailedRecord(file, record(7), 'maximum retry attempts exceeded', Date.UTC(2026, 10, 22, 6, 0, 0));
    keepFailedRecord(file, record(8), 'maximum retry attempts exceeded', Date.UTC(2026, 10, 22, 6, 0, 1));
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FailedRecordLine);
    expect(lines.map((l) => l.record.offset)).toEqual([7, 8]);
    expect(lines[0]).toEqual({ reason: 'maximum retry attempts exceeded', failedAt: '2026-11-22T06:00:00.000Z', record: record(7) });
  });
});
