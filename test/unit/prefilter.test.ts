/**
 * Literal prefilters (shared/core/matchers/prefilter.ts): a prefilter may only ever say "cannot
 * match" of a text the regex does not match (it spares engine runs, never changes an answer), and
 * the one-pass literal search finds exactly the literals a folded `includes` finds, in time linear
 * in the text.
 */
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { analyzeRegex, LiteralSet, prefilterHolds, prefilterLiterals, regexPrefilter, searchStart, type Prefilter } from '../../shared/core/matchers/prefilter.ts';

/** Case-folded as RE2's (?i) folds to ASCII: lower-case, and `ſ` (U+017F) as s, `K` (U+212A) as k. */
const fold = (t: string): string => t.toLowerCase().replaceAll('ſ', 's');

function show(f: Prefilter | undefined): string {
  if (f === undefined) return 'ANY';
  if ('literal' in f) return JSON.stringify(f.literal);
  return 'all' in f ? `AND(${f.all.map(show).join(', ')})` : `OR(${f.any.map(show).join(', ')})`;
}

describe('regexPrefilter', () => {
  it.each([
    ['connection refused|could not connect', 'OR("connection refused", "could not connect")'],
    ['access ?denied', 'OR("access denied", "accessdenied")'],
    ['great[_ ]expectations', 'OR("great_expectations", "great expectations")'],
    ['great[^_ ]expectations', 'AND("great", "expectations")'],
    ['great[a-c]expectations', 'AND("great", "expectations")'],
    ['\\btimed? ?out\\b|timeout', 'OR("timed out", "timedout", "time out", "timeout")'],
    ['Container Killed .*Memory', 'AND("container killed ", "memory")'],
    ['(?P<code>50[024]) (?:bad gateway)+', 'AND(OR("500 ", "502 ", "504 "), "bad gateway")'],
    ['abc{2,5}def', '"def"'], // the repeat is of c alone: ab and c are too short to require
    ['a{,3}bcd', '"a{,3}bcd"'],
  ])('/%s/ requires %s', (re, expected) => {
    expect(show(regexPrefilter(re))).toBe(expected);
  });

  it.each([
    ['a|bc'], // an alternative shorter than 3 characters
    ['.*'],
    ['(?:abc)?'],
    ['(?i)abc'], // flags: not read
    ['\\pLabcd'],
    ['\\Qabc\\E'],
    ['\\x41bcd'],
    ['abc|'],
  ])('/%s/ has no prefilter', (re) => {
    expect(regexPrefilter(re)).toBeUndefined();
  });

  // Regexes built from pieces that exercise every construct the analysis reads, searched in texts
  // made of the same letters (so that matches are frequent), both case modes.
  const atoms = ['a', 'b', 'ab', 'abc', 'bca', 'xyz', 'K', 'S', 's', 'k', '.', '\\.', '\\-', '[ab]', '[^a]', '[]a]', '[[:alpha:]]', '\\d', '\\s', '\\w', '\\b', '\\B', '^', '$', ' ', '-', '{', '}', ']', 'é'];
  const regex = fc.letrec((tie) => ({
    re: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(...atoms),
      fc.tuple(tie('re'), tie('re')).map(([a, b]) => `${a as string}${b as string}`),
      fc.tuple(tie('re'), tie('re')).map(([a, b]) => `(?:${a as string}|${b as string})`),
      fc.tuple(tie('re'), fc.constantFrom('?', '*', '+', '{2}', '{0,3}', '{1,}', '+?', '??')).map(([a, q]) => `(?:${a as string})${q}`),
      tie('re').map((a) => `(${a as string})`),
      tie('re').map((a) => `(?P<g>${a as string})`),
    ),
  })).re as fc.Arbitrary<string>;
  const text = fc.array(fc.constantFrom('a', 'b', 'c', 'ab', 'abc', 'bca', 'xyz', 'x', 'y', 'z', 'A', 'B', 'C', 'ſ', 'K', 'k', 's', 'S', '.', ' ', '-', '{', '}', ']', '1', '\n', 'é', 'É'), { maxLength: 24 }).map((a) => a.join(''));

  it('never says "cannot match" of a text the regex matches', () => {
    let filtered = 0;
    fc.assert(
      fc.property(regex, fc.array(text, { minLength: 8, maxLength: 8 }), fc.boolean(), (re, texts, caseInsensitive) => {
        let compiled: RE2JS;
        try {
          compiled = RE2JS.compile(re, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
        } catch {
          return; // not RE2 (e.g. a nested repetition): never reaches a prefilter
        }
        const f = regexPrefilter(re);
        if (f === undefined) return;
        for (const t of texts) {
          if (prefilterHolds(f, (l) => fold(t).includes(l))) continue;
          filtered++;
          expect(compiled.test(t), `/${re}/${caseInsensitive ? 'i' : ''} on ${JSON.stringify(t)}, prefilter ${show(f)}`).toBe(false);
        }
      }),
      { numRuns: 20_000 },
    );
    // The property is not vacuous: prefilters did rule texts out.
    expect(filtered).toBeGreaterThan(1000);
  });

  it.each([
    ['access ?denied|\\bforbidden\\b', ['access denied', 'accessdenied', 'forbidden']],
    ['status(?: code)?[ :=]*40[13]', ['status code', 'status']],
    ['(?:abc)+x|abd', ['abc', 'abd']],
    ['^abc', undefined], // asserts the beginning: a later start would change what it means
    ['x?abc', ['xabc', 'abc']],
    ['[ab]cde', ['acde', 'bcde']],
    ['[a-b]cde', undefined],
  ])('/%s/ starts with %j', (re, starts) => {
    expect(analyzeRegex(re).starts).toEqual(starts);
  });

  it('a search begun at searchStart finds what a search of the whole text finds', () => {
    let moved = 0;
    fc.assert(
      fc.property(regex, fc.array(text, { minLength: 8, maxLength: 8 }), fc.boolean(), (re, texts, caseInsensitive) => {
        let compiled: RE2JS;
        try {
          compiled = RE2JS.compile(re, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
        } catch {
          return;
        }
        const { starts } = analyzeRegex(re);
        if (starts === undefined) return;
        for (const t of texts) {
          const firsts = starts.map((l) => fold(t).indexOf(l)).filter((i) => i >= 0);
          if (!compiled.test(t)) continue;
          expect(firsts.length, `/${re}/ matches ${JSON.stringify(t)} without one of ${JSON.stringify(starts)}`).toBeGreaterThan(0);
          const from = searchStart(t, Math.min(...firsts));
          if (from > 0) moved++;
          expect(compiled.exec(t.slice(from))?.[0], `/${re}/${caseInsensitive ? 'i' : ''} on ${JSON.stringify(t)} from ${from}`).toBe(compiled.exec(t)?.[0]);
        }
      }),
      { numRuns: 20_000 },
    );
    expect(moved).toBeGreaterThan(500);
  });
});

describe('LiteralSet', () => {
  it('finds exactly the literals a folded includes finds, and where each first occurs', () => {
    const literal = fc.array(fc.constantFrom('a', 'b', 'c', 's', 'k', ' ', '.', '-', '1'), { minLength: 3, maxLength: 6 }).map((a) => a.join(''));
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'A', 'B', 's', 'S', 'ſ', 'k', 'K', 'K', ' ', '.', '-', '1', 'é', '😀', '\ud800'), { maxLength: 40 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.uniqueArray(literal, { maxLength: 12 }), fc.array(text, { minLength: 1, maxLength: 5 }), (literals, texts) => {
        const set = new LiteralSet(literals);
        for (const t of texts) {
          set.find(t);
          literals.forEach((l, id) => {
            expect(set.has(id), `${JSON.stringify(l)} in ${JSON.stringify(t)}`).toBe(fold(t).includes(l));
            expect(set.firstAt(id), `${JSON.stringify(l)} in ${JSON.stringify(t)}`).toBe(fold(t).indexOf(l));
          });
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('the built-in classification literals: one table step per character, whatever the text', () => {
    const literals = [...new Set(['connection refused', 'could not connect to server', 'access denied', 'aaaaaaaab', 'aaab', 'ab'.repeat(8)].flatMap((l) => prefilterLiterals({ literal: l })))];
    const set = new LiteralSet(literals);
    const cost = (t: string): number => {
      let best = Infinity;
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now();
        for (let k = 0; k < 20; k++) set.find(t);
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const plain = 'lorem ipsum '.repeat(700);
    const hostile = 'a'.repeat(plain.length);
    cost(plain);
    cost(hostile);
    // A same-run ratio, never a wall-clock threshold (as test/unit/regex-linear.test.ts).
    expect(cost(hostile) / Math.max(cost(plain), 0.05)).toBeLessThan(5);
  });

  it('past its table bound, counts every literal as present (its regexes then run on every text)', () => {
    const chars = [...'abcdefghijklmnopqrstuvwxyz0123456789 .,;:-_!?()[]{}<>@#%&*+=/|~'];
    let seed = 1;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    const literals = Array.from({ length: 1500 }, () => Array.from({ length: 30 }, () => chars[next() % chars.length]!).join(''));
    const set = new LiteralSet(literals);
    set.find('nothing of them');
    expect(set.has(0)).toBe(true);
    expect(set.has(1499)).toBe(true);
    expect(set.firstAt(0)).toBe(-1);
  });

  it('refuses literals it could not fold', () => {
    expect(() => new LiteralSet(['Abc'])).toThrow(/lower-case printable ASCII/);
    expect(() => new LiteralSet(['ab\n'])).toThrow(/lower-case printable ASCII/);
  });
});
