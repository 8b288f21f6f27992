import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactState, decodeTimes, encodeTimes, expandState } from '../../shared/adapters/dynamodb/window-codec.ts';

const T = 1_795_300_000_000;

describe('window time codec', () => {
  it.each([
    // empty window
    [[], ''],
    // one sample
    [[T], `${T}`],
    // a regular 10 s series: one run
    [Array.from({ length: 360 }, (_, i) => T + i * 10_000), `${T}|10000*359`],
    // a gap in the middle (a missed scrape)
    [[T, T + 10_000, T + 20_000, T + 40_000, T + 50_000], `${T}|10000*2|20000|10000`],
  ])('encodes %j as %s and back', (times, text) => {
    expect(encodeTimes(times)).toBe(text);
    expect(decodeTimes(text)).toEqual(times);
  });

  it('round-trips any ascending times, never much longer than the plain list (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600_000 }), { maxLength: 400 }), (gaps) => {
        const times: number[] = [];
        let t = T;
        for (const g of gaps) times.push((t += g));
        const text = encodeTimes(times);
        expect(decodeTimes(text)).toEqual(times);
        expect(text.length).toBeLessThanOrEqual(JSON.stringify(times).length + 2);
      }),
    );
  });

  it('stores a 1 h window at 10 s in a few dozen characters instead of 5 KB', () => {
    const wt = Array.from({ length: 360 }, (_, i) => T + i * 10_000);
    const state = { v: 1, lastSampleMs: wt.at(-1), state: 'inactive', wt, wv: wt.map(() => 1.5) };
    const stored = JSON.stringify(compactState(state));
    expect(stored.length).toBeLessThan(JSON.stringify(state).length - 5000);
    expect(expandState(JSON.parse(stored))).toEqual(state);
  });

  it('reads a state stored with plain times (before the codec) as it is', () => {
    const old = { v: 1, lastSampleMs: T, state: 'inactive', wt: [T], wv: [1] };
    expect(expandState(JSON.parse(JSON.stringify(old)))).toEqual(old);
  });

  it.each(['x', `${T}|a*2`, `${T}|10*0`])('refuses text it did not produce: %s', (text) => {
    expect(() => decodeTimes(text)).toThrow(RangeError);
  });
});
