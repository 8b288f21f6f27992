/**
 * Fast paths for label regexes that are really literal text: `a|b|c`, `prefix.*`, `.*suffix`,
 * `.*part.*`. They answer exactly as the RE2 engine would (a fast-check property in
 * test/unit/matchers.test.ts holds them to it) with a string comparison instead of an automaton
 * run, which matters because rules such as `shard=~"s1|s4"` are tested for every sample of every
 * batch. Prometheus does the same for the same reason (FastRegexMatcher, model/labels/regexp.go).
 *
 * Anything else, or anything in doubt, returns `undefined` and runs on the engine: being
 * conservative here only costs speed, never correctness.
 */

/** RE2 metacharacters outside a class; a pattern using one (other than `|`) is not literal text. */
const META = new Set(['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']);

/**
 * In RE2 a backslash before ASCII punctuation is that character itself
 * (https://github.com/google/re2/wiki/Syntax: "\* literal *, for any punctuation character *").
 */
const ESCAPABLE = /^[!-/:-@[-`{-~]$/;

/**
 * The alternatives of `body` split on `|`, each unescaped, when `body` is literal text
 * alternatives; `undefined` otherwise. Newlines and UTF-16 surrogates are left to the engine.
 */
function literalAlternatives(body: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    const code = c.charCodeAt(0);
    if (c === '\n' || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    if (c === '|') {
      out.push(cur);
      cur = '';
    } else if (c === '\\') {
      const next = body[i + 1];
      if (next === undefined || !ESCAPABLE.test(next)) return undefined;
      cur += next;
      i++;
    } else if (META.has(c)) {
      return undefined;
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** True when `p` ends with `.*` whose dot is not escaped (an even number of backslashes before it). */
function endsWithDotStar(p: string): boolean {
  if (!p.endsWith('.*')) return false;
  let backslashes = 0;
  for (let i = p.length - 3; i >= 0 && p[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/**
 * A full-match test equivalent to the RE2 engine's for `pattern`, or `undefined` when the pattern
 * is not one of the literal shapes. `dotMatchesNewline` is the flavour's meaning of `.`.
 */
export function literalFastPath(pattern: string, dotMatchesNewline: boolean): ((value: string) => boolean) | undefined {
  let body = pattern;
  const leading = body.startsWith('.*');
  if (leading) body = body.slice(2);
  const trailing = endsWithDotStar(body);
  if (trailing) body = body.slice(0, -2);
  const alts = literalAlternatives(body);
  if (!alts) return undefined;
  if (!leading && !trailing) {
    if (alts.length === 1) {
      const only = alts[0]!;
      return (v) => v === only;
    }
    const set = new Set(alts);
    return (v) => set.has(v);
  }
  // `.*a|b` is `(?:.*a)|b`: only a single literal beside `.*` is handled here.
  if (alts.length !== 1) return undefined;
  const lit = alts[0]!;
  // `.*` spans any text but, unless the flavour says otherwise, no newline; `lit` has none.
  const dotsOk = dotMatchesNewline ? () => true : (v: string) => !v.includes('\n');
  if (leading && trailing) return (v) => v.includes(lit) && dotsOk(v);
  if (leading) return (v) => v.endsWith(lit) && dotsOk(v);
  return (v) => v.startsWith(lit) && dotsOk(v);
}
