import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { PermanentError, failureAction } from '../../shared/core/errors/index.ts';
import { compileLabelRegex, matcher, MatcherSyntaxError, matches, matchesAll, parseMatcher, REGEX_FLAVOURS, type RegexFlavour } from '../../shared/core/matchers/index.ts';
import { literalFastPath } from '../../shared/core/matchers/literal.ts';

describe('label matchers', () => {
  it.each([
    // [matcher, labels, expected]
    ['env="production"', { env: 'production' }, true],
    ['env="production"', { env: 'prod' }, false],
    ['env!="production"', { env: 'staging' }, true],
    ['env!="production"', {}, true], // a missing label is ""
    ['team=""', {}, true],
    ['team=""', { team: 'a' }, false],
    ['instance=~"web-.*"', { instance: 'web-1' }, true],
    ['instance=~"web-.*"', { instance: 'my-web-1' }, false], // fully anchored, as Prometheus
    ['instance=~"web"', { instance: 'web-1' }, false], // anchored at the end too
    ['instance!~"web-.*"', { instance: 'db-1' }, true],
    ['instance!~"web-.*"', { instance: 'web-2' }, false],
    ["env='production'", { env: 'production' }, true], // single quotes
    ['env=production', { env: 'production' }, true], // bare value
    ['msg="a\\"b"', { msg: 'a"b' }, true], // escaped quote
  ])('%s on %j is %s', (text, labels, expected) => {
    expect(matches(parseMatcher(text), labels)).toBe(expected);
  });

  it.each([['env'], ['=x'], ['env=="x"'], ['1env="x"'], ['env="unterminated']])('rejects %s with a message naming it', (text) => {
    expect(() => parseMatcher(text)).toThrowError(MatcherSyntaxError);
    expect(() => parseMatcher(text)).toThrowError(text.replace(/"/g, '\\"'));
  });

  it('rejects an invalid regular expression', () => {
    expect(() => parseMatcher('a=~"("')).toThrowError(/invalid regular expression/);
  });

  it('a syntax error is permanent: the same text never compiles, so it is set aside, not retried', () => {
    const err = (() => {
      try {
        parseMatcher('a=~"("');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ name: 'MatcherSyntaxError', transient: false });
    expect(failureAction(err)).toBe('dead-letter');
  });

  it('matchesAll requires every matcher', () => {
    const ms = ['env="p"', 'instance=~"web-.*"'].map((t) => parseMatcher(t));
    expect(matchesAll(ms, { env: 'p', instance: 'web-1' })).toBe(true);
    expect(matchesAll(ms, { env: 'p', instance: 'db-1' })).toBe(false);
    expect(matchesAll([], {})).toBe(true);
  });
});

/** What the old engine (JavaScript's RegExp, `^(?:re)$` with the u flag) said, or 'rejected'. Test-only. */
function oldJs(pattern: string, value: string): boolean | 'rejected' {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u').test(value);
  } catch {
    return 'rejected';
  }
}

describe('regex semantics are RE2, not JavaScript', () => {
  it.each([
    // [pattern, value, RE2 (Prometheus) answer, old JavaScript answer]
    ['a.b', 'a\rb', true, false], // RE2's `.` excludes only \n; JavaScript's also \r, \u2028, \u2029
    ['a.b', 'a\u2028b', true, false], // likewise the line separator
    ['\\s', '\u00a0', false, true], // RE2's \s is ASCII [\t\n\f\r ]; JavaScript's is Unicode White_Space
    ['\\s', '\u2028', false, true], // likewise
    ['(?i)web-.*', 'WEB-1', true, 'rejected'], // RE2 flag groups; JavaScript has no (?i) prefix
    ['(?i)prod', 'PrOd', true, 'rejected'], // case-insensitive, whole pattern
    ['\\pL+', 'été', true, 'rejected'], // one-letter Unicode classes
    ['\\p{Greek}+', 'αβγ', true, 'rejected'], // script names without Script=
    ['[[:alpha:]]+', 'abc', true, 'rejected'], // POSIX classes
    ['\\Qa.b\\E', 'a.b', true, 'rejected'], // quoted literal text
    ['\\Qa.b\\E', 'axb', false, 'rejected'], // ... in which `.` is a dot
    ['\\x{263A}', '☺', true, 'rejected'], // code point escape
    ['(?P<x>a)b', 'ab', true, 'rejected'], // Python-style named group
    ['ab\\z', 'ab', true, 'rejected'], // \z: end of text
  ])('%j on %j: RE2 says %s (JavaScript said %s)', (pattern, value, re2, js) => {
    expect(oldJs(pattern, value)).toBe(js); // the row really is a difference
    expect(matches(matcher('v', '=~', pattern), { v: value })).toBe(re2);
    expect(matches(matcher('v', '!~', pattern), { v: value })).toBe(!re2);
  });

  it.each([
    // [flavour, pattern, value, expected]
    ['prometheus', 'a.b', 'a\nb', false], // Prometheus 2.x: ^(?:re)$, `.` stops at a newline
    ['prometheus-3', 'a.b', 'a\nb', true], // Prometheus 3: ^(?s:re)$
    ['alertmanager', 'a.b', 'a\nb', false], // Alertmanager: ^(?:re)$
    ['prometheus', 'web-.*', 'web-1\nx', false], // the literal-prefix fast path keeps the newline rule
    ['prometheus-3', 'web-.*', 'web-1\nx', true], // ... per flavour
    ['alertmanager', '.*-prod', 'x\ny-prod', false], // likewise the suffix fast path
    ['prometheus-3', '.*db.*', 'a\ndb\nb', true], // and the contains fast path
    ['prometheus', '[^x]+', 'a\nb', true], // a negated class matches a newline in every flavour (Go's ClassNL)
    ['prometheus', '(?s:.)+', 'a\nb', true], // the pattern can ask for newlines itself
    ['prometheus-3', '(?-s:.)+', 'a\nb', false], // ... or refuse them
    ['prometheus', 'a|b', 'ab', false], // the whole alternation is anchored: ^(?:a|b)$, not ^a|b$
    ['alertmanager', 'a|b', 'b', true],
    ['prometheus', 'a$', 'a', true], // $ is the end of the text
    ['prometheus', 'a$', 'a\n', false], // ... not before a final newline
    ['prometheus', '', '', true], // the empty regex matches only the empty value
    ['prometheus', '', 'x', false],
  ] as const)('%s: %j on %j is %s', (flavour, pattern, value, expected) => {
    expect(compileLabelRegex(pattern, flavour).test(value)).toBe(expected);
    expect(matches(matcher('v', '=~', pattern, flavour), { v: value })).toBe(expected);
  });

  it.each([
    // [flavour, pattern, source as the reference implementation writes it]
    ['prometheus', 'web-.*', '^(?:web-.*)$'],
    ['prometheus-3', 'web-.*', '^(?s:web-.*)$'],
    ['alertmanager', 'a|b', '^(?:a|b)$'],
  ] as const)('%s anchors %j as %j', (flavour, pattern, source) => {
    expect(compileLabelRegex(pattern, flavour)).toMatchObject({ source, flavour });
  });

  it('routes follow Alertmanager and rules Prometheus (the default)', () => {
    expect(parseMatcher('a=~"x"').regex?.flavour).toBe('prometheus');
    expect(parseMatcher('a=~"x"', 'alertmanager').regex?.flavour).toBe('alertmanager');
  });
});

describe('regex syntax RE2 lacks is rejected with the matcher and the problem', () => {
  it.each([
    // [matcher text, message]
    ['a=~"(x)\\\\1"', 'invalid regular expression in matcher a=~"(x)\\\\1": invalid escape sequence: `\\1` (backreferences are not supported in RE2 syntax)'],
    ['a=~"(?<n>x)\\\\k<n>"', 'invalid escape sequence: `\\k` (backreferences are not supported in RE2 syntax)'], // named backreference
    ['a=~"x(?=y)"', 'invalid or unsupported Perl syntax: `(?=` (lookahead is not supported in RE2 syntax)'],
    ['a=~"x(?!y)"', 'invalid or unsupported Perl syntax: `(?!` (lookahead is not supported in RE2 syntax)'],
    ['a=~"(?<=x)y"', 'invalid named capture: `(?<=x)y` (lookbehind is not supported in RE2 syntax)'],
    ['a=~"(?<!x)y"', 'invalid named capture: `(?<!x)y` (lookbehind is not supported in RE2 syntax)'],
    ['a=~"x++"', 'invalid nested repetition operator: `++` (possessive quantifiers are not supported in RE2 syntax)'],
    ['a=~"x{2}+"', 'invalid nested repetition operator: `{2}+` (possessive quantifiers are not supported in RE2 syntax)'],
    ['a=~"x**"', 'invalid nested repetition operator: `**`'], // not possessive, no hint
    ['a=~"\\\\u263A"', 'invalid escape sequence: `\\u` (RE2 writes a code point as \\x{263A})'], // JavaScript's \u
    ['a=~"x\\\\Z"', 'invalid escape sequence: `\\Z` (RE2 writes the end of the text as $ or \\z)'],
    ['a=~"x(?#note)"', 'invalid or unsupported Perl syntax: `(?#` (comments are not supported in RE2 syntax)'],
    ['a=~"x{1001}"', 'invalid repeat count: `{1001}` (RE2 allows repeat counts up to 1000, nested repeats multiplied)'],
    ['a=~"(x{100}){100}"', 'invalid repeat count: `{100}`'], // 10,000 in all
    ['a=~"\\\\C"', 'invalid escape sequence: `\\C`'], // any byte: RE2 syntax, refused by Go and re2js
    ['a=~"a)|(b"', 'invalid regular expression in matcher a=~"a)|(b": unexpected ): `a)|(b`'], // would compile spliced into ^(?:a)|(b)$
    ['a=~"[z-a]"', 'invalid character class range: `z-a`'],
  ])('%s', (text, message) => {
    expect(() => parseMatcher(text)).toThrowError(MatcherSyntaxError);
    expect(() => parseMatcher(text)).toThrowError(message);
  });

  it.each(REGEX_FLAVOURS)('%s: the message shows the pattern as written (no flag prefix)', (flavour) => {
    expect(() => compileLabelRegex('(', flavour)).toThrowError('invalid regular expression "(": missing closing ): `(`');
  });
});

describe('literal fast paths answer as the engine', () => {
  it.each([
    // [pattern, shape recognised]
    ['s1|s4', true], // alternation of literals
    ['prod', true], // one literal
    ['web-.*', true], // prefix
    ['.*-prod', true], // suffix
    ['.*db.*', true], // contains
    ['host\\.example', true], // escaped punctuation is a literal
    ['a\\\\.*', true], // an escaped backslash, then .*
    ['\\.*', false], // a repeated dot, not .*
    ['(?i)prod', false], // flags
    ['a.b', false], // a dot inside
    ['.*a|b', false], // (?:.*a)|b
    ['\\d+', false], // classes
  ])('%j: fast path %s', (pattern, recognised) => {
    expect(literalFastPath(pattern, false) !== undefined).toBe(recognised);
  });

  it('agrees with re2js on every pattern of the literal shapes, for every flavour', () => {
    const lit = fc.array(fc.constantFrom('a', 'b', '-', '\\.', '\\*', '\\|', '\\\\', ' ', 'é'), { maxLength: 4 }).map((p) => p.join(''));
    const pattern = fc
      .tuple(fc.boolean(), fc.array(lit, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([lead, alts, trail]) => `${lead ? '.*' : ''}${alts.join('|')}${trail ? '.*' : ''}`);
    const value = fc.array(fc.constantFrom('a', 'b', '-', '.', '*', '|', '\\', ' ', 'é', '\n', '\r'), { maxLength: 8 }).map((p) => p.join(''));
    let fast = 0;
    fc.assert(
      fc.property(pattern, value, fc.constantFrom<RegexFlavour>(...REGEX_FLAVOURS), (p, v, flavour) => {
        const dotNl = flavour === 'prometheus-3';
        const f = literalFastPath(p, dotNl);
        const engine = RE2JS.compile(p, dotNl ? RE2JS.DOTALL : 0).matches(v);
        // The reference form, searched unanchored: the full match above is the same thing.
        expect(RE2JS.compile(`^(?${dotNl ? 's' : ''}:${p})$`).test(v)).toBe(engine);
        if (f) {
          fast++;
          expect(f(v)).toBe(engine);
        }
        expect(compileLabelRegex(p, flavour).test(v)).toBe(engine);
      }),
      { numRuns: 2000 },
    );
    expect(fast).toBeGreaterThan(500); // the property did exercise the fast paths
  });
});
