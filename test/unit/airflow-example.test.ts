/**
 * examples/airflow/fixtures/events.jsonl: events written by the Python callbacks
 * (examples/airflow/klaxon_callbacks.py, `build_event`; regenerated with
 * `python3 examples/airflow/test_klaxon_callbacks.py --write-fixture`) have the wire shape of
 * shared/core/events/types.ts. The Python tests themselves run in
 * test/integration/airflow-callbacks.test.ts (a child process: not a unit test).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const FIXTURE = new URL('../../examples/airflow/fixtures/events.jsonl', import.meta.url).pathname;
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const lines = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim() !== '');
const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Airflow example fixture (events the Python callbacks produce)', () => {
  it('holds retries, final failures and successes', () => {
    expect(events.map((e) => [e.kind, e.final])).toEqual([
      ['error', false],
      ['error', true],
      ['error', true],
      ['success', undefined],
    ]);
  });

  it.each(events.map((e, i) => [i + 1, e] as const))('line %i has the wire shape', (_line, e) => {
    expect(['error', 'success']).toContain(e.kind);
    expect(e.source).toBe('airflow');
    for (const k of ['service', 'task', 'run'] as const) expect(typeof e[k] === 'string' && e[k] !== '', k).toBe(true);
    expect(e.timestamp).toMatch(RFC3339_UTC);
    expect(Number.isNaN(Date.parse(e.timestamp as string))).toBe(false);
    if (e.tags !== undefined) for (const v of Object.values(e.tags as object)) expect(typeof v).toBe('string');
    if (e.kind === 'success') {
      expect(Object.keys(e).sort()).toEqual(expect.arrayContaining(['kind', 'source', 'service', 'task', 'timestamp']));
      expect(e).not.toHaveProperty('error');
      return;
    }
    const error = e.error as Record<string, unknown>;
    expect(typeof error.type === 'string' && error.type !== '').toBe(true);
    expect(typeof error.message).toBe('string');
    if (error.stack !== undefined) expect(typeof error.stack).toBe('string');
    expect(typeof e.final).toBe('boolean');
    // try is 1-based; maxTries counts every attempt (Airflow's max_tries + 1); final <=> no attempt left.
    expect(Number.isInteger(e.try) && (e.try as number) >= 1).toBe(true);
    expect(Number.isInteger(e.maxTries) && (e.maxTries as number) >= 1).toBe(true);
    expect(e.final).toBe((e.try as number) >= (e.maxTries as number));
    expect(typeof e.logUrl).toBe('string');
  });
});
