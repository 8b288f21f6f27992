/**
 * The Python tests of the Airflow example (examples/airflow/test_klaxon_callbacks.py: stdlib
 * unittest, no Airflow or Kafka needed), run with python3. python3 is required, never skipped:
 * .ci/run installs it (Debian's `python3`) when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

describe('examples/airflow (python3 -m unittest)', () => {
  it('passes its Python tests, the fixture included', () => {
    const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'examples/airflow', '-p', 'test_*.py'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      // No bytecode written into the worktree.
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(r.error, 'python3 not on PATH: apt-get install python3').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^OK$/m);
  });
});
