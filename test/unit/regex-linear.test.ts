/**
 * Regex denial of service: a hostile label value must not make a rule or route regex slow. The
 * property is about work, measured as a same-run ratio (the team's accepted form for a time bound;
 * no absolute times): matching an adversarial value costs at most 20× matching a benign value of
 * the same length with the same matcher. JavaScript's backtracking engine fails this by orders of
 * magnitude (`.*-.*-.*-.*-prod` against 512 `a-` pairs runs for hours); RE2's automaton does the
 * same bounded work per character whatever the value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LABEL_VALUE_CHARS } from '../../shared/core/decode/index.ts';
import { matcher, matches, REGEX_FLAVOURS, type Matcher } from '../../shared/core/matchers/index.ts';

/** The generous bound on adversarial / benign work. */
const MAX_RATIO = 20;

/**
 * Patterns that backtrack catastrophically in JavaScript, each with the value that triggers it and
 * a benign value of the same length that the engine must also read to the end (a value failing at
 * its first character would cost nothing and make any ratio meaningless).
 */
const ADVERSARIAL: readonly { readonly pattern: string; readonly hostile: (n: number) => string; readonly benign: (n: number) => string }[] = [
  // polynomial: n^4 ways to split, and no `prod` at the end
  { pattern: '.*-.*-.*-.*-prod', hostile: (n) => 'a-'.repeat(n / 2), benign: (n) => `${'x'.repeat(n - 11)}-a-b-c-prod` },
  // exponential: a nested quantifier, then a character that fails it
  { pattern: '(a+)+$', hostile: (n) => `${'a'.repeat(n - 1)}!`, benign: (n) => 'a'.repeat(n) },
  // n^12 ways to place twelve a's
  { pattern: '(.*a){12}', hostile: (n) => `${'a'.repeat(n - 1)}b`, benign: (n) => 'a'.repeat(n) },
  // exponential: overlapping alternatives
  { pattern: '(a|aa)+', hostile: (n) => `${'a'.repeat(n - 1)}!`, benign: (n) => 'a'.repeat(n) },
  // the classic CSV-field ReDoS: eleven fields, then no P
  { pattern: '(.*,){11}P', hostile: (n) => 'x,'.repeat(n / 2), benign: (n) => `${'x,'.repeat(n / 2 - 1)},P` },
  // words, then a non-word character
  { pattern: '(\\w+\\s?)+$', hostile: (n) => `${'word '.repeat(n / 5 - 1)}word!`, benign: (n) => 'word '.repeat(n / 5) },
];

/** Best time of several rounds of a few matches: the minimum filters GC pauses and neighbours. */
function cost(m: Matcher, value: string): number {
  const labels = { v: value };
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 7; round++) {
    const t = performance.now();
    for (let i = 0; i < 5; i++) if (matches(m, labels)) sink++;
    best = Math.min(best, performance.now() - t);
  }
  // Keep the calls observable; the count itself is not the point.
  expect(sink % 5).toBe(0);
  return best;
}

describe('regex matching is linear in the value, whatever the regex', () => {
  it('an adversarial value costs at most 20× a benign one of the same length (same run)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ADVERSARIAL),
        fc.integer({ min: 26, max: Math.floor(MAX_LABEL_VALUE_CHARS / 10) }).map((k) => k * 10), // 260..1020: even, a multiple of 5, within the decode bound
        fc.constantFrom(...REGEX_FLAVOURS),
        fc.constantFrom('=~' as const, '!~' as const),
        ({ pattern, hostile, benign }, n, flavour, op) => {
          const m = matcher('v', op, pattern, flavour);
          const bad = hostile(n);
          const good = benign(n);
          expect([bad.length, good.length]).toEqual([n, n]);
          expect(matches(m, { v: bad })).toBe(op === '!~'); // the hostile value is a near miss
          expect(matches(m, { v: good })).toBe(op === '=~'); // the benign one matches
          cost(m, good); // warm-up: JIT and the automaton's state cache, for both values
          cost(m, bad);
          const ratio = cost(m, bad) / cost(m, good);
          expect(ratio).toBeLessThanOrEqual(MAX_RATIO);
        },
      ),
      { numRuns: 30 },
    );
  });
});
