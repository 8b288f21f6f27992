/**
 * The hand-written RFC 3339 reader (checkRfc3339, shared/core/decode/time.ts) against the regex and
 * `Date` version it replaced (test/support/rfc3339-reference.ts): the same time, or the same
 * reason, for well-formed times with fields out of range, every year from 0, and near misses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRfc3339 } from '../../shared/core/decode/time.ts';
import { referenceCheckRfc3339 } from '../support/rfc3339-reference.ts';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Times of the right shape whose fields may be out of range (month 13, February 30, hour 24, second 60, offset +24:00). */
const shaped = fc
  .record({
    y: fc.integer({ min: 0, max: 9999 }),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 25 }),
    mi: fc.integer({ min: 0, max: 61 }),
    s: fc.integer({ min: 0, max: 61 }),
    sep: fc.constantFrom('T', 't', ' ', '_'),
    frac: fc.option(fc.stringMatching(/^[0-9]{0,11}$/), { nil: undefined }),
    zone: fc.constantFrom('Z', 'z', '+00:00', '-00:00', '-05:30', '+23:59', '+24:00', '-00:60', '+0530', '+5:30', '', 'Zx', '+05:30 ', '+05:3'),
  })
  .map((r) => `${pad(r.y, 4)}-${pad(r.mo, 2)}-${pad(r.d, 2)}${r.sep}${pad(r.h, 2)}:${pad(r.mi, 2)}:${pad(r.s, 2)}${r.frac === undefined ? '' : `.${r.frac}`}${r.zone}`);

/** One character of a shaped time replaced (a digit that is not ASCII, a separator moved, a newline). */
const nearMiss = fc.tuple(shaped, fc.nat(), fc.constantFrom('', '0', '9', ':', '-', '.', 'T', 'Z', '+', ' ', '٣', '\n')).map(([t, i, c]) => {
  const k = i % (t.length + 1);
  return `${t.slice(0, k)}${c}${t.slice(k + 1)}`;
});

describe('checkRfc3339 reads times as the regex and Date did', () => {
  it.each([
    ['2026-11-21T22:26:40Z'],
    ['2026-11-21 22:26:40.123456789+05:30'],
    ['0000-01-01T00:00:00Z'],
    ['0000-02-29T00:00:00Z'],
    ['0099-12-31T23:59:59.999Z'],
    ['1900-02-29T00:00:00Z'],
    ['2000-02-29T00:00:00Z'],
    ['9999-12-31T23:59:59.999-23:59'],
    ['1973-03-03T09:46:39.999Z'],
    ['1973-03-03T09:46:40Z'],
    ['2026-11-21T22:26:40.1234567890Z'],
    ['2026-11-21T22:26:40.Z'],
    ['2026-11-21T22:26:40Z\n'],
  ])('%j', (t) => {
    expect(checkRfc3339(t)).toEqual(referenceCheckRfc3339(t));
  });

  it('on times of the right shape, fields in and out of range', () => {
    fc.assert(
      fc.property(shaped, (t) => {
        expect(checkRfc3339(t)).toEqual(referenceCheckRfc3339(t));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on near misses and arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(nearMiss, fc.string({ maxLength: 32 })), (t) => {
        expect(checkRfc3339(t)).toEqual(referenceCheckRfc3339(t));
      }),
      { numRuns: 20_000 },
    );
  });
});
