/**
 * parseJobEvent, rewritten without object spreads, the control-character regex and `trim` on the
 * hot path, against the version it replaced (test/support/job-event-reference.ts): the same event,
 * field order included (events are logged and stored as JSON), or the same reason naming the
 * field, for valid events and for each field broken in turn.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJobEvent } from '../../shared/core/events/event.ts';
import { parseJobEvent as referenceParse } from '../support/job-event-reference.ts';

/** Values a field may hold: right ones, wrong types, edge texts (blank, control characters, too long). */
const VALUES: readonly unknown[] = [
  undefined, null, '', ' ', '\t\n', '\u00a0', '\u3000x', 'x', 'airflow', 'etl_daily', 'a\u0000b', 'a\u007fb', 'a\u0080b', 'é', '😀', 'x'.repeat(256), 'x'.repeat(257),
  0, 1, 2, 3, 1000, 1001, -1, 1.5, Number.NaN, 1e300, true, false, [], {}, ['x'],
  '2026-11-28T02:04:10Z', '2026-02-30T00:00:00Z', '2026-11-28T02:04:10+24:00', 1_795_300_000_000, 1_795_300_000, 1e14,
  'https://airflow.example.com/log?x=1', 'javascript:alert(1)', 'http://', 'https://a b', `https://x/${'y'.repeat(2100)}`,
];
const value = fc.constantFrom(...VALUES);
const text = fc.oneof(value, fc.string({ unit: 'binary', maxLength: 12 }));

/** Mostly the valid value: most documents are valid or broken in one or two fields. */
const mostly = (valid: unknown, broken: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: fc.constant(valid), weight: 12 }, { arbitrary: broken, weight: 1 });

const errorDoc = fc.record(
  {
    kind: fc.oneof({ arbitrary: fc.constant('error'), weight: 8 }, { arbitrary: fc.constantFrom<unknown>('success', 'other', undefined), weight: 1 }),
    source: mostly('airflow', text),
    service: mostly('etl_daily', text),
    task: mostly('load_orders', text),
    run: mostly('scheduled__2026-11-28T02:00:00+00:00', text),
    try: mostly(2, value),
    maxTries: mostly(3, value),
    final: mostly(undefined, value),
    error: fc.oneof(
      {
        arbitrary: fc.record(
          { type: mostly('TimeoutError', text), message: fc.oneof({ arbitrary: mostly('timed out', text), weight: 12 }, { arbitrary: fc.constant('m'.repeat(9000)), weight: 1 }), stack: mostly('Traceback', value) },
          { requiredKeys: ['type', 'message'] },
        ),
        weight: 12,
      },
      { arbitrary: value, weight: 1 },
    ),
    logUrl: mostly('https://airflow.example.com/log', value),
    tags: fc.oneof({ arbitrary: fc.dictionary(fc.constantFrom('team', 'tier', 'ok_2'), mostly('data', text), { maxKeys: 3 }), weight: 12 }, { arbitrary: fc.dictionary(fc.constantFrom('team', '__x', '1bad', 'x'.repeat(200)), text, { maxKeys: 4 }), weight: 1 }, { arbitrary: value, weight: 1 }),
    timestamp: mostly('2026-11-28T02:04:10Z', value),
  },
  { requiredKeys: ['kind', 'source', 'service', 'task', 'error', 'timestamp'] },
);

describe('parseJobEvent decides as before', () => {
  it('the same event (same field order) or the same reason', () => {
    let accepted = 0;
    fc.assert(
      fc.property(errorDoc, fc.option(fc.constant(Date.UTC(2026, 10, 28, 2, 5)), { nil: undefined }), (doc, nowMs) => {
        const ours = parseJobEvent(doc, nowMs);
        const reference = referenceParse(doc, nowMs);
        expect(ours).toEqual(reference);
        expect(JSON.stringify(ours)).toBe(JSON.stringify(reference));
        if (ours.ok) accepted++;
      }),
      { numRuns: 20_000 },
    );
    // Not vacuous: valid events were compared, not only reasons.
    expect(accepted).toBeGreaterThan(2_000);
  });
});
