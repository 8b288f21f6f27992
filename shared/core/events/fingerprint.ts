/**
 * Error identity: which failures are "the same error", so they share one alert. Sentry's grouping
 * is the model (https://docs.sentry.io/concepts/data-management/event-grouping/): by default the
 * error type plus its message with the varying parts (ids, times, addresses, numbers) replaced by
 * placeholders; fingerprint rules
 * (https://docs.sentry.io/concepts/data-management/event-grouping/fingerprint-rules/) override it.
 *
 * Hostile text: the users' patterns (fingerprint rules) run on re2js (a linear-time engine, as in
 * ../matchers); the normaliser's own token patterns are recognised by hand-written scanners that
 * read a token once, left to right, without backtracking (each accepts exactly the language of its
 * regex in TOKEN_PATTERNS, which the tests hold it to). So no message can make normalizing cost
 * more than proportional to its length; and only the first two non-empty lines, at most
 * {@link MAX_NORMALIZED_INPUT_CHARS} code units each, are read.
 */
import { hash } from 'node:crypto';
import { RE2JS } from 're2js';
import { z } from 'zod';
import { formatPath } from '../model/field-path.ts';
import { cutText } from './event.ts';
import type { ErrorEvent } from './types.ts';

/** At most this many UTF-16 code units of each of the message's first two lines are normalized. */
export const MAX_NORMALIZED_INPUT_CHARS = 8192;

/**
 * Whole-token placeholders, tried in order; each is a FULL match of one token. They are the
 * specification: the normaliser runs the hand-written scanners of {@link TOKEN_EXACT} (one pass
 * each, no regex call: normalizing is on the path of every error event), and
 * test/unit/error-fingerprint.test.ts and normalize-message.test.ts hold each scanner to its
 * pattern, compiled here on re2js with the case-insensitive flag (so `[a-z]` also takes `ſ`
 * U+017F and the Kelvin sign U+212A, RE2's case folding, and the scanners do too). Whole tokens, not one alternation searched over
 * the line: a search restarts after each match, and a pattern that runs far before failing,
 * `a1a1a1…` as a hex id, would make every restart rescan the rest of the line: quadratic.
 */
const TOKEN_PATTERNS: readonly (readonly [placeholder: string, pattern: string])[] = [
  // scheme://anything (s3://, postgresql://user@host too)
  ['<url>', `[a-z][a-z0-9+.-]*://\\S+`],
  ['<email>', `[a-z0-9._%+-]+@[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.[a-z]{2,}`],
  ['<uuid>', `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`],
  // ISO 8601 date or date-time, with fraction and zone: one placeholder for the whole
  ['<date>', `\\d{4}-\\d{2}-\\d{2}(?:t\\d{2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?(?:z|[+-]\\d{2}:?\\d{2})?)?`],
  // 2026/11/28, 28/11/2026, 11-28-2026, 28.11.2026, 28-Nov-2026
  ['<date>', `\\d{4}/\\d{1,2}/\\d{1,2}|\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{4}|\\d{1,2}-(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*-\\d{4}`],
  // IPv4 with an optional port (10.0.0.1:5432)
  ['<ip>', `(?:\\d{1,3}\\.){3}\\d{1,3}(?::\\d{1,5})?`],
  // IPv6: bracketed with a port, full, or compressed with `::` (fe80::1, ::1), with a zone (%eth0)
  ['<ip>', `\\[[0-9a-f]*:[0-9a-f:.]*\\](?::\\d{1,5})?|(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?:%\\w+)?|(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?(?:%\\w+)?`],
  ['<time>', `\\d{1,2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?`],
  // 12.5s, 300ms, 1h30m
  ['<duration>', `(?:\\d+(?:\\.\\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d))+`],
  ['<n>', `[+-]?\\d+(?:[.,]\\d+)*`],
];

/** Character classes of a word's punctuation (ASCII only), as bits of {@link PUNCT}. */
const LEADING = 1;
const TRAILING = 2;
const INNER_SEPARATOR = 4;
/**
 * Per ASCII code: wrapping punctuation peeled off a word before it is classified (LEADING
 * `( [ { < " ' \``, TRAILING `) ] } > " ' \` , ; : . ! ?`: `(10.0.0.1:5432),` → `10.0.0.1:5432`), and
 * where a word splits into parts when it is not one token whole (INNER_SEPARATOR
 * `_ = , ; ( ) [ ] { } < > " ' \` |`: `id=42`, `scheduled__<date>`).
 */
const PUNCT = new Uint8Array(128);
for (const c of '([{<"\'`') PUNCT[c.charCodeAt(0)]! |= LEADING;
for (const c of ')]}>"\'`,;:.!?') PUNCT[c.charCodeAt(0)]! |= TRAILING;
for (const c of '_=,;()[]{}<>"\'`|') PUNCT[c.charCodeAt(0)]! |= INNER_SEPARATOR;

function isPunct(c: number, kind: number): boolean {
  return c < 128 && (PUNCT[c]! & kind) !== 0;
}

/** A unit written as its own word after a number (`5 minutes`): the pair is one `<duration>`. */
const UNIT_WORDS = new Set(['ms', 'millisecond', 'milliseconds', 's', 'sec', 'secs', 'second', 'seconds', 'min', 'mins', 'minute', 'minutes', 'h', 'hr', 'hrs', 'hour', 'hours', 'd', 'day', 'days']);
/** The longest of {@link UNIT_WORDS}: a longer word is no unit, whatever its case. */
const MAX_UNIT_WORD_CHARS = 12;
const MONTHS = new Set(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']);

/**
 * Whitespace as JavaScript's `\s` and `String.prototype.trim` know it (WhiteSpace and
 * LineTerminator: ASCII tab to carriage return and space, NBSP, the Unicode space separators,
 * U+2028/9, BOM): where words split.
 */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** Per ASCII code, what scanWords needs to know: whitespace, a character that may make a word change (digit, `:`, `@`, `-`), or neither (0). */
const SPACE = 1;
const MAY_CHANGE = 2;
const ASCII_KIND = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_KIND[c] = isSpace(c) ? SPACE : (c >= 48 && c <= 58) || c === 64 || c === 45 ? MAY_CHANGE : 0;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isHex(c: number): boolean {
  return isDigit(c) || isHexLetter(c);
}
function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
/** RE2's case-insensitive `[a-z]`: ASCII letters, and `ſ` (U+017F, folds to s) and `K` (U+212A, the Kelvin sign, folds to k). */
function isFoldedLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 0x17f || c === 0x212a;
}
/** RE2's case-insensitive `\w`. */
function isFoldedWordChar(c: number): boolean {
  return isFoldedLetter(c) || isDigit(c) || c === 95;
}

/** Digits from `i` on; returns the index after them. */
function digitsFrom(t: string, i: number): number {
  while (i < t.length && isDigit(t.charCodeAt(i))) i++;
  return i;
}

/** Whether `t[i..i+n)` are all digits (past the end is no digit). */
function digitsAt(t: string, i: number, n: number): boolean {
  for (let k = i; k < i + n; k++) if (!isDigit(t.charCodeAt(k))) return false;
  return true;
}

// Hand-written full matches of the patterns above, in the same order; test/unit/error-fingerprint.test.ts
// and normalize-message.test.ts check each against its pattern on generated tokens. Two keep a
// difference they always had: `<url>` and `<duration>` take only ASCII letters where RE2 would
// also fold `ſ` and `K`.

/** `[a-z][a-z0-9+.-]*://\S+` (the token holds no whitespace). */
function isUrlToken(t: string): boolean {
  const k = t.indexOf('://');
  if (k < 1 || k + 3 >= t.length) return false;
  const c0 = t.charCodeAt(0) | 32;
  if (c0 < 97 || c0 > 122) return false;
  for (let i = 1; i < k; i++) {
    const c = t.charCodeAt(i);
    if (!(isAlnum(c) || c === 43 || c === 46 || c === 45)) return false;
  }
  // \S+: no ASCII whitespace (RE2's \s is [\t\n\f\r ]).
  for (let i = k + 3; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 12 || c === 13) return false;
  }
  return true;
}

/** `[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}`: a local part, `@`, two or more dot-separated labels, the last of letters only. */
function isEmailToken(t: string): boolean {
  const at = t.indexOf('@');
  if (at < 1) return false;
  for (let i = 0; i < at; i++) {
    const c = t.charCodeAt(i);
    if (!(isFoldedLetter(c) || isDigit(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45)) return false;
  }
  let labels = 0;
  let start = at + 1;
  let lettersOnly = true;
  for (let i = start; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 46) {
      if (i === start) return false;
      labels++;
      start = i + 1;
      lettersOnly = true;
    } else if (isDigit(c) || c === 45) lettersOnly = false;
    else if (!isFoldedLetter(c)) return false;
  }
  // The last label: the top-level domain.
  return labels >= 1 && lettersOnly && t.length - start >= 2;
}

/** `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, any case. */
function isUuidToken(t: string): boolean {
  if (t.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = t.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}

/** `\d{4}-\d{2}-\d{2}(?:t\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?`, `t` and `z` any case. */
function isIsoDateToken(t: string): boolean {
  const n = t.length;
  if (n < 10 || !digitsAt(t, 0, 4) || t.charCodeAt(4) !== 45 || !digitsAt(t, 5, 2) || t.charCodeAt(7) !== 45 || !digitsAt(t, 8, 2)) return false;
  if (n === 10) return true;
  if ((t.charCodeAt(10) | 32) !== 116 || !digitsAt(t, 11, 2) || t.charCodeAt(13) !== 58 || !digitsAt(t, 14, 2)) return false;
  let i = 16;
  if (t.charCodeAt(i) === 58) {
    if (!digitsAt(t, i + 1, 2)) return false;
    i += 3;
    const c = t.charCodeAt(i);
    if (c === 46 || c === 44) {
      const j = digitsFrom(t, i + 1);
      if (j === i + 1) return false;
      i = j;
    }
  }
  if (i === n) return true;
  const c = t.charCodeAt(i);
  if ((c | 32) === 122) return i + 1 === n;
  if (c !== 43 && c !== 45) return false;
  if (!digitsAt(t, i + 1, 2)) return false;
  i += 3;
  if (t.charCodeAt(i) === 58) i++;
  return i + 2 === n && digitsAt(t, i, 2);
}

/** Whether `t[i..i+3)` is a month's abbreviation, any case (RE2's folding: `ſ` is an s). */
function isMonthAt(t: string, i: number): boolean {
  let key = '';
  for (let k = i; k < i + 3; k++) {
    const c = t.charCodeAt(k);
    if (c === 0x17f) key += 's';
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) key += String.fromCharCode(c | 32);
    else return false;
  }
  return MONTHS.has(key);
}

/** `\d{4}/\d{1,2}/\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{1,2}-(?:jan|…|dec)[a-z]*-\d{4}`, any case. */
function isOtherDateToken(t: string): boolean {
  const n = t.length;
  const d0 = digitsFrom(t, 0);
  if (d0 === 4) {
    if (t.charCodeAt(4) !== 47) return false;
    const d1 = digitsFrom(t, 5);
    if (d1 - 5 < 1 || d1 - 5 > 2 || t.charCodeAt(d1) !== 47) return false;
    const d2 = digitsFrom(t, d1 + 1);
    return d2 === n && d2 - d1 - 1 >= 1 && d2 - d1 - 1 <= 2;
  }
  if (d0 < 1 || d0 > 2) return false;
  const s1 = t.charCodeAt(d0);
  if (s1 === 47 || s1 === 46 || s1 === 45) {
    const d1 = digitsFrom(t, d0 + 1);
    const s2 = t.charCodeAt(d1);
    if (d1 - d0 - 1 >= 1 && d1 - d0 - 1 <= 2 && (s2 === 47 || s2 === 46 || s2 === 45) && n - d1 - 1 === 4 && digitsFrom(t, d1 + 1) === n) return true;
  }
  if (s1 !== 45 || !isMonthAt(t, d0 + 1)) return false;
  let i = d0 + 4;
  while (i < n && isFoldedLetter(t.charCodeAt(i))) i++;
  return t.charCodeAt(i) === 45 && n - i - 1 === 4 && digitsFrom(t, i + 1) === n;
}

/** `(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?` */
function isIpv4Token(t: string): boolean {
  let i = 0;
  for (let part = 0; part < 4; part++) {
    const j = digitsFrom(t, i);
    if (j === i || j - i > 3) return false;
    i = j;
    if (part < 3) {
      if (t.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  if (i === t.length) return true;
  if (t.charCodeAt(i) !== 58) return false;
  const j = digitsFrom(t, i + 1);
  return j === t.length && j - i - 1 >= 1 && j - i - 1 <= 5;
}

/** How many groups `t[from..to)` holds as `[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*`: 0 when empty, -1 when it is not that. */
function hexGroups(t: string, from: number, to: number): number {
  if (from === to) return 0;
  let groups = 1;
  let len = 0;
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c === 58) {
      if (len === 0) return -1;
      groups++;
      len = 0;
    } else if (!isHex(c) || ++len > 4) return -1;
  }
  return len === 0 ? -1 : groups;
}

/**
 * `\[[0-9a-f]*:[0-9a-f:.]*\](?::\d{1,5})?` (bracketed, with a port), or an address of eight groups
 * or with one `::`, then an optional zone `%\w+`.
 */
function isIpv6Token(t: string): boolean {
  const n = t.length;
  if (t.charCodeAt(0) === 91) {
    let i = 1;
    while (i < n && isHex(t.charCodeAt(i))) i++;
    if (t.charCodeAt(i) !== 58) return false;
    i++;
    while (i < n && (isHex(t.charCodeAt(i)) || t.charCodeAt(i) === 58 || t.charCodeAt(i) === 46)) i++;
    if (t.charCodeAt(i) !== 93) return false;
    i++;
    if (i === n) return true;
    if (t.charCodeAt(i) !== 58) return false;
    const j = digitsFrom(t, i + 1);
    return j === n && j - i - 1 >= 1 && j - i - 1 <= 5;
  }
  // The address ends at the zone's `%` (an address holds none, a zone only one).
  let end = t.indexOf('%');
  if (end < 0) end = n;
  else {
    if (end + 1 === n) return false;
    for (let i = end + 1; i < n; i++) if (!isFoldedWordChar(t.charCodeAt(i))) return false;
  }
  if (hexGroups(t, 0, end) === 8) return true;
  // Compressed: the one `::` splits it into two (possibly empty) runs of groups.
  const k = t.indexOf('::');
  return k >= 0 && k + 2 <= end && hexGroups(t, 0, k) >= 0 && hexGroups(t, k + 2, end) >= 0;
}

/** `\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?` */
function isTimeToken(t: string): boolean {
  let j = digitsFrom(t, 0);
  if (j < 1 || j > 2 || t.charCodeAt(j) !== 58) return false;
  let i = j + 1;
  j = digitsFrom(t, i);
  if (j - i !== 2) return false;
  if (j === t.length) return true;
  if (t.charCodeAt(j) !== 58) return false;
  i = j + 1;
  j = digitsFrom(t, i);
  if (j - i !== 2) return false;
  if (j === t.length) return true;
  const c = t.charCodeAt(j);
  if (c !== 46 && c !== 44) return false;
  const k = digitsFrom(t, j + 1);
  return k > j + 1 && k === t.length;
}

/** Units of `<duration>`, longest first (a longer unit that leaves a letter next can never be followed: the shorter would leave one too). */
const DURATION_UNITS = ['secs', 'mins', 'hrs', 'sec', 'min', 'hr', 'ms', 'ns', 'us', 'µs', 's', 'm', 'h', 'd'] as const;

/** The length of the unit of {@link DURATION_UNITS} at `i` (ASCII letters any case) that ends `t` or is followed by a digit, or 0. */
function durationUnitAt(t: string, i: number): number {
  outer: for (const u of DURATION_UNITS) {
    const end = i + u.length;
    if (end > t.length || (end < t.length && !isDigit(t.charCodeAt(end)))) continue;
    for (let k = 0; k < u.length; k++) {
      const c = t.charCodeAt(i + k);
      // Lower-casing, as toLowerCase does for these: ASCII capitals, and µ (U+00B5) has no capital to fold.
      if ((c >= 65 && c <= 90 ? c | 32 : c) !== u.charCodeAt(k)) continue outer;
    }
    return u.length;
  }
  return 0;
}

/** `(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d))+`, ASCII letters any case. */
function isDurationToken(t: string): boolean {
  let i = 0;
  while (i < t.length) {
    let j = digitsFrom(t, i);
    if (j === i) return false;
    if (t.charCodeAt(j) === 46) {
      const k = digitsFrom(t, j + 1);
      if (k === j + 1) return false;
      j = k;
    }
    const unit = durationUnitAt(t, j);
    if (unit === 0) return false;
    i = j + unit;
  }
  return i > 0;
}

/** `[+-]?\d+(?:[.,]\d+)*` */
function isNumberToken(t: string): boolean {
  let i = t.charCodeAt(0) === 43 || t.charCodeAt(0) === 45 ? 1 : 0;
  let j = digitsFrom(t, i);
  if (j === i) return false;
  while (j < t.length) {
    const c = t.charCodeAt(j);
    if (c !== 46 && c !== 44) return false;
    i = j + 1;
    j = digitsFrom(t, i);
    if (j === i) return false;
  }
  return true;
}

/** Per pattern of TOKEN_PATTERNS (same order), its hand-written full match. */
export const TOKEN_EXACT: readonly ((t: string) => boolean)[] = [
  isUrlToken,
  isEmailToken,
  isUuidToken,
  isIsoDateToken,
  isOtherDateToken,
  isIpv4Token,
  isIpv6Token,
  isTimeToken,
  isDurationToken,
  isNumberToken,
];
if (TOKEN_EXACT.length !== TOKEN_PATTERNS.length) throw new Error('fingerprint: one scanner per token pattern');

/** The token patterns on re2js, in order: the specification the tests check {@link TOKEN_EXACT} against (the normaliser never runs them). */
export const TOKEN_REGEXES: readonly RE2JS[] = TOKEN_PATTERNS.map(([, p]) => RE2JS.compile(p, RE2JS.CASE_INSENSITIVE));

/**
 * The placeholder of a whole token, or undefined: the first pattern of TOKEN_PATTERNS that
 * matches it. What a token holds (a digit, `@`, `:`) says which patterns can match at all, so
 * most tokens are settled by one scan and a scanner or two.
 */
function tokenPlaceholder(t: string): string | undefined {
  let digits = 0;
  let at = false;
  let colon = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 58) colon = true;
    else if (c === 64) at = true;
  }
  // Digits only: every earlier pattern needs something else (a letter, `-`, `.`, `:`, `/`), `<n>` takes them.
  if (digits === t.length) return t.length > 0 ? '<n>' : undefined;
  const digit = digits > 0;
  // Every pattern but `<email>`, `<uuid>`, `<url>` and `<ip>` (IPv6) needs a digit; those need `@`, 36 units, `:`.
  if (colon && isUrlToken(t)) return '<url>';
  if (at && isEmailToken(t)) return '<email>';
  if (t.length === 36 && isUuidToken(t)) return '<uuid>';
  if (digit) {
    if (isIsoDateToken(t) || isOtherDateToken(t)) return '<date>';
    if (isIpv4Token(t)) return '<ip>';
  }
  if (colon && isIpv6Token(t)) return '<ip>';
  if (digit) {
    if (colon && isTimeToken(t)) return '<time>';
    if (isDurationToken(t)) return '<duration>';
    if (isNumberToken(t)) return '<n>';
  }
  return undefined;
}

/**
 * Numbers inside a token that is no placeholder whole: each run of letters and digits is `<n>` when
 * all digits, `<hex>` when 8 or more hex digits mixing digits and letters (or 0x…), and kept when it
 * mixes in other letters (`s3`, `utf8`, `sha256`, `log4j` are names). One pass.
 */
function numbersIn(t: string): string {
  let out = '';
  // t[copied..i) is still to be copied as it is.
  let copied = 0;
  let i = 0;
  while (i < t.length) {
    if (!isAlnum(t.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    let digits = 0;
    let hexLetters = 0;
    while (j < t.length && isAlnum(t.charCodeAt(j))) {
      const c = t.charCodeAt(j);
      if (isDigit(c)) digits++;
      else if (isHexLetter(c)) hexLetters++;
      j++;
    }
    const len = j - i;
    let placeholder: string | undefined;
    if (digits === len) placeholder = '<n>';
    else if (len > 2 && t.charCodeAt(i) === 48 && (t.charCodeAt(i + 1) | 32) === 120 && digits + hexLetters === len - 1) placeholder = '<hex>';
    else if (len >= 8 && digits > 0 && digits + hexLetters === len) placeholder = '<hex>';
    if (placeholder !== undefined) {
      out += t.slice(copied, i) + placeholder;
      copied = j;
    }
    i = j;
  }
  return copied === 0 ? t : out + t.slice(copied);
}

/**
 * Whether no placeholder can touch the word, so it is kept as it is without further look. Every
 * pattern needs a digit but `<url>` (needs `://`), `<email>` (`@`), `<uuid>` (`-`) and `<ip>` as
 * IPv6 (`::`, seven colons, or `[` and a colon); `<n>` and `<hex>` inside a word need a digit too.
 * Such a word, its peeled core and its parts (substrings, never starting with `[`) hold none of
 * these, so every step of {@link normalizeWord} would give it back unchanged. Most words of a
 * message are such.
 */
function isInertWord(w: string): boolean {
  let colons = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c === 58) colons++;
    else if ((c >= 48 && c <= 57) || c === 64 || c === 45) return false;
  }
  return colons === 0 || (colons < 7 && w.charCodeAt(0) !== 91 && !w.includes('::') && !w.includes('://'));
}

/** One word (no whitespace): wrapping punctuation kept, the core a placeholder, or its parts. */
function normalizeWord(w: string): string {
  if (isInertWord(w)) return w;
  let a = 0;
  let b = w.length;
  while (a < b && isPunct(w.charCodeAt(a), LEADING)) a++;
  while (b > a && isPunct(w.charCodeAt(b - 1), TRAILING)) b--;
  // Whole first: `[2001:db8::1]:443` holds its own brackets. A word that starts or ends with
  // wrapping punctuation can only be a `<url>` (`\S+` ends with anything) or an IPv6 `<ip>` (`[…]`,
  // `…::`), both with a `:`: every other pattern starts and ends with a letter or digit (or `+`, `-`).
  if (a === 0 && b === w.length) {
    const asIs = tokenPlaceholder(w);
    if (asIs !== undefined) return asIs;
  } else if (w.includes(':')) {
    if (isUrlToken(w)) return '<url>';
    if (isIpv6Token(w)) return '<ip>';
  }
  if (a === b) return w;
  const core = a === 0 && b === w.length ? w : w.slice(a, b);
  if (core !== w) {
    const whole = tokenPlaceholder(core);
    if (whole !== undefined) return `${w.slice(0, a)}${whole}${w.slice(b)}`;
  }
  // Parts between separators, each a placeholder whole or its numbers replaced (a core without
  // separators is its only part, and no placeholder whole: tried just above).
  let out = w.slice(0, a);
  let p = a;
  for (let i = a; i <= b; i++) {
    if (i < b && !isPunct(w.charCodeAt(i), INNER_SEPARATOR)) continue;
    if (p === a && i === b) out += numbersIn(core);
    else if (i > p) {
      const part = w.slice(p, i);
      out += tokenPlaceholder(part) ?? numbersIn(part);
    }
    if (i < b) out += w[i];
    p = i + 1;
  }
  return `${out}${w.slice(b)}`;
}

/**
 * A message with its varying parts replaced, so the same error with other ids, times or
 * addresses reads the same: the first two non-empty lines (later lines are usually a traceback or
 * data), each word (a run without whitespace, its wrapping punctuation peeled) replaced whole by
 * `<url>`, `<email>`, `<uuid>`, `<date>`, `<ip>`, `<time>`, `<duration>` or `<n>` when it is one,
 * else split at `_ = , ; ( ) [ ] { } < > " ' |` and each part likewise, remaining numbers `<n>` and
 * hex ids (0x…, or 8 and more hex digits mixing digits and letters) `<hex>`; a number followed by
 * a unit word is a `<duration>` (`5 minutes`), and `Nov 28, 2026` and `28 Nov 2026` are `<date>`;
 * whitespace is one space. Linear in the length of the two lines (at most
 * {@link MAX_NORMALIZED_INPUT_CHARS} code units of each line are read): each word is scanned a
 * bounded number of times, by scanners that never backtrack.
 */
export function normalizeMessage(message: string): string {
  let out = '';
  let lines = 0;
  let start = 0;
  while (lines < 2 && start <= message.length) {
    let end: number;
    let text = message;
    if (message.length - start <= MAX_NORMALIZED_INPUT_CHARS) {
      // The rest is short enough that no line needs a cut: one pass finds the line's end and its words.
      end = scanWords(message, start, message.length);
    } else {
      // The first two non-empty lines, trimmed, without splitting the whole text; a line too long is cut.
      end = start;
      while (end < message.length && message.charCodeAt(end) !== 10 && message.charCodeAt(end) !== 13) end++;
      let a = start;
      let b = end;
      while (a < b && isSpace(message.charCodeAt(a))) a++;
      while (b > a && isSpace(message.charCodeAt(b - 1))) b--;
      if (b - a > MAX_NORMALIZED_INPUT_CHARS) {
        text = cutText(message.slice(a, b), MAX_NORMALIZED_INPUT_CHARS);
        a = 0;
        b = text.length;
      }
      scanWords(text, a, b);
    }
    // A line of whitespace only is no line.
    if (lineWords.count > 0) {
      const normalized = joinWords(text);
      out = lines === 0 ? normalized : `${out} ${normalized}`;
      lines++;
    }
    start = end + 1;
  }
  return out;
}

/**
 * The words of the line being normalized: word k is `text[bounds[3k]..bounds[3k+1])`, its flags
 * `bounds[3k+2]`, `changed[k]` its normalized form when that differs. One set, reused by every
 * line of every call (normalizeMessage is synchronous and never re-entered), written by index so
 * that the arrays keep their capacity: no allocation per word.
 */
const lineWords = { count: 0, bounds: [] as number[], changed: [] as (string | undefined)[] };

/** Word flags (see lineWords): normalized, the word is `<n>`; it starts with `<n>`. */
const IS_N = 1;
const STARTS_N = 2;

/** The flags of a word as normalized: `changed` when it was changed, else `text[s..e)`. */
function wordFlags(text: string, s: number, e: number, changed: string | undefined): number {
  if (changed !== undefined) return changed.startsWith('<n>') ? (changed.length === 3 ? IS_N | STARTS_N : STARTS_N) : 0;
  // A word written `<n>…` counts as well: the forms are matched on the normalized words.
  if (e - s < 3 || text.charCodeAt(s) !== 60 || text.charCodeAt(s + 1) !== 110 || text.charCodeAt(s + 2) !== 62) return 0;
  return e - s === 3 ? IS_N | STARTS_N : STARTS_N;
}

/**
 * The first pass over one line: from `from`, the words up to the first line break (`\n`, `\r`) or
 * `to`, into {@link lineWords}, each normalized when it can change (a word with no digit, `:`, `@`
 * or `-` cannot: see isInertWord). Returns where it stopped: the line break, or `to`.
 */
function scanWords(text: string, from: number, to: number): number {
  const { bounds, changed } = lineWords;
  let count = 0;
  let i = from;
  for (;;) {
    let c = 0;
    while (i < to) {
      c = text.charCodeAt(i);
      if (c === 10 || c === 13 || (c < 128 ? ASCII_KIND[c] !== SPACE : !isSpace(c))) break;
      i++;
    }
    if (i === to || c === 10 || c === 13) {
      lineWords.count = count;
      return i;
    }
    let plain = true;
    let j = i;
    for (; j < to; j++) {
      c = text.charCodeAt(j);
      if (c < 128) {
        // One table look for ASCII (most of a message): 0 for a letter or plain punctuation.
        const kind = ASCII_KIND[c]!;
        if (kind === 0) continue;
        if (kind === SPACE) break;
        plain = false;
      } else if (isSpace(c)) break;
    }
    let normalized: string | undefined;
    if (!plain) {
      const w = text.slice(i, j);
      const x = normalizeWord(w);
      if (x !== w) normalized = x;
    }
    bounds[3 * count] = i;
    bounds[3 * count + 1] = j;
    bounds[3 * count + 2] = wordFlags(text, i, j, normalized);
    changed[count++] = normalized;
    i = j;
  }
}

/**
 * The second pass over one line: its words (see scanWords) with the multi-word forms joined, one
 * space between. Each run of unchanged words that were one space apart is copied in one slice
 * (most of a message is such runs).
 */
function joinWords(text: string): string {
  const { count: n, bounds: words, changed } = lineWords;
  let out = '';
  // The pending run of unchanged words, text[runStart..runEnd); runEnd < 0: none.
  let runStart = 0;
  let runEnd = -1;
  for (let k = 0; k < n; k++) {
    // Multi-word forms (`<n> minutes`, `Nov <n>, <n>`, `<n> Nov <n>`), else the word.
    let piece = changed[k];
    const flags = words[3 * k + 2]!;
    let unit: string | undefined;
    if (flags & IS_N && k + 1 < n && (unit = unitWordPunctuation(text, words, changed, k + 1)) !== undefined) {
      piece = `<duration>${unit}`;
      k++;
    } else if (k + 2 < n && words[3 * k + 5]! & words[3 * k + 8]! & STARTS_N && isMonthWord(text, words, changed, k)) {
      piece = `<date>${wordText(text, words, changed, k + 2).slice(3)}`;
      k += 2;
    } else if (flags & IS_N && k + 2 < n && words[3 * k + 8]! & STARTS_N && isMonthWord(text, words, changed, k + 1)) {
      piece = `<date>${wordText(text, words, changed, k + 2).slice(3)}`;
      k += 2;
    }
    if (piece === undefined) {
      const s = words[3 * k]!;
      // The word as it is: it extends the pending run when one space apart from it.
      if (runEnd >= 0 && s === runEnd + 1 && text.charCodeAt(runEnd) === 32) {
        runEnd = words[3 * k + 1]!;
        continue;
      }
      if (runEnd >= 0) out = appendWord(out, text.slice(runStart, runEnd));
      runStart = s;
      runEnd = words[3 * k + 1]!;
    } else {
      if (runEnd >= 0) out = appendWord(out, text.slice(runStart, runEnd));
      runEnd = -1;
      out = appendWord(out, piece);
    }
  }
  if (runEnd >= 0) out = appendWord(out, text.slice(runStart, runEnd));
  return out;
}

function appendWord(out: string, w: string): string {
  return out === '' ? w : `${out} ${w}`;
}

/** Word k of a line as normalized (see normalizeMessage). */
function wordText(text: string, words: readonly number[], changed: readonly (string | undefined)[], k: number): string {
  return changed[k] ?? text.slice(words[3 * k]!, words[3 * k + 1]!);
}

/**
 * When word k is a unit word (any case), maybe followed by one `,` `;` or `.`: that punctuation
 * (`''` for none); else undefined. A changed word never is one (what normalizing changes holds a
 * `<`), so only the word as written is looked at.
 */
function unitWordPunctuation(text: string, words: readonly number[], changed: readonly (string | undefined)[], k: number): string | undefined {
  if (changed[k] !== undefined) return undefined;
  const s = words[3 * k]!;
  let e = words[3 * k + 1]!;
  const last = text.charCodeAt(e - 1);
  const punct = last === 44 || last === 59 || last === 46;
  if (punct) e--;
  // Lower-casing never shortens a text: a longer word is no unit word.
  if (e - s > MAX_UNIT_WORD_CHARS || !UNIT_WORDS.has(text.slice(s, e).toLowerCase())) return undefined;
  return punct ? text[e]! : '';
}

/** Whether word k is ASCII letters whose first three are a month's abbreviation, any case (`Nov`, `november`). */
function isMonthWord(text: string, words: readonly number[], changed: readonly (string | undefined)[], k: number): boolean {
  if (changed[k] !== undefined) return false;
  const s = words[3 * k]!;
  const e = words[3 * k + 1]!;
  if (e - s < 3) return false;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i) | 32;
    if (c < 97 || c > 122) return false;
  }
  return MONTHS.has(text.slice(s, s + 3).toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Fingerprint rules

/** Variables a fingerprint part may be (`{{ tags.<name> }}` besides). */
export const FINGERPRINT_VARIABLES = ['type', 'normalized', 'message', 'source', 'service', 'task'] as const;
/** One of {@link FINGERPRINT_VARIABLES}. */
export type FingerprintVariable = (typeof FINGERPRINT_VARIABLES)[number];

/** Fields a rule's `match` may test. `message` is a regex; the others are globs. */
export const FINGERPRINT_MATCH_FIELDS = ['type', 'message', 'source', 'service', 'task'] as const;

const VARIABLE_RE = /^\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)?)\s*\}\}$/;
const NAME_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$';
const MAX_GLOB_CHARS = 1024;
const MAX_REGEX_CHARS = 1024;

const glob = z.string().min(1).max(MAX_GLOB_CHARS).describe('A glob: `*` any characters, `?` one character, anything else itself; the whole value must match.');

/** The zod schema of one fingerprint rule as written (YAML or JSON). */
export const fingerprintRuleInputSchema = z.strictObject({
  name: z.string().regex(new RegExp(NAME_PATTERN), { error: 'expected a name ([a-zA-Z_][a-zA-Z0-9_.:-]*, at most 128 characters)' }),
  match: z
    .strictObject({
      type: glob.optional(),
      message: z.string().min(1).max(MAX_REGEX_CHARS).optional().describe('An RE2 regular expression searched in the message (unanchored: write ^ or $ to anchor).'),
      source: glob.optional(),
      service: glob.optional(),
      task: glob.optional(),
    })
    .refine((m) => Object.keys(m).length > 0, { error: 'expected at least one of type, message, source, service, task' }),
  fingerprint: z
    .array(z.string().max(256))
    .min(1)
    .max(16)
    .describe('Parts: literals, or {{ type }}, {{ normalized }}, {{ message }}, {{ source }}, {{ service }}, {{ task }}, {{ tags.<name> }}.'),
});

/** The zod schema of a fingerprint rules document: `{ fingerprints: [...] }`, first match wins. */
export const fingerprintRulesDocumentSchema = z.strictObject({ fingerprints: z.array(fingerprintRuleInputSchema).max(500) });

/** One part of a fingerprint: a literal, or a value of the event. */
export type FingerprintPart = { readonly literal: string } | { readonly variable: FingerprintVariable } | { readonly tag: string };

/** A compiled fingerprint rule. */
export interface FingerprintRule {
  readonly name: string;
  /** True when every given matcher matches the event. */
  readonly matches: (e: ErrorEvent) => boolean;
  readonly parts: readonly FingerprintPart[];
}

/** Compiles a glob (`*`, `?`, anchored) for re2js; the `s` flag lets `*` and `?` match a newline. */
function compileGlob(g: string): RE2JS {
  let re = '';
  let literal = '';
  const flush = (): void => {
    if (literal) re += RE2JS.quote(literal);
    literal = '';
  };
  for (const ch of g) {
    if (ch === '*' || ch === '?') {
      flush();
      re += ch === '*' ? '.*' : '.';
    } else literal += ch;
  }
  flush();
  return RE2JS.compile(re, RE2JS.DOTALL);
}

function parsePart(p: string): FingerprintPart | string {
  const m = VARIABLE_RE.exec(p);
  if (!m) {
    if (p.includes('{{')) return `unknown template ${JSON.stringify(p.slice(0, 64))} (variables: {{ ${FINGERPRINT_VARIABLES.join(' }}, {{ ')} }}, {{ tags.<name> }})`;
    return { literal: p };
  }
  const name = m[1]!;
  if (name.startsWith('tags.')) return { tag: name.slice(5) };
  if ((FINGERPRINT_VARIABLES as readonly string[]).includes(name)) return { variable: name as FingerprintVariable };
  return `unknown variable {{ ${name} }} (variables: ${FINGERPRINT_VARIABLES.join(', ')}, tags.<name>)`;
}


/** The result of {@link parseFingerprintRules}: the compiled rules, or every problem, each naming its field. */
export type FingerprintRulesResult = { readonly ok: true; readonly rules: readonly FingerprintRule[] } | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Validates and compiles a fingerprint rules document (already parsed from YAML or JSON):
 * `{ fingerprints: [{ name, match: { type?, message?, source?, service?, task? }, fingerprint: [...] }] }`.
 * Errors read `fingerprints[2].match.message: invalid regular expression: …`. Never throws.
 */
export function parseFingerprintRules(doc: unknown): FingerprintRulesResult {
  const parsed = fingerprintRulesDocumentSchema.safeParse(doc);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) };
  const errors: string[] = [];
  const rules: FingerprintRule[] = [];
  const names = new Set<string>();
  parsed.data.fingerprints.forEach((r, i) => {
    const at = `fingerprints[${i}]`;
    if (names.has(r.name)) errors.push(`${at}.name: duplicate name ${r.name}`);
    names.add(r.name);
    const tests: ((e: ErrorEvent) => boolean)[] = [];
    for (const f of ['type', 'source', 'service', 'task'] as const) {
      const g = r.match[f];
      if (g === undefined) continue;
      const re = compileGlob(g);
      tests.push(f === 'type' ? (e) => re.matches(e.error.type) : (e) => re.matches(e[f]));
    }
    if (r.match.message !== undefined) {
      try {
        const re = RE2JS.compile(r.match.message);
        tests.push((e) => re.matcher(e.error.message).find());
      } catch (cause) {
        const text = cause instanceof Error ? cause.message : String(cause);
        errors.push(`${at}.match.message: invalid regular expression (RE2 syntax): ${text.replace(/^error parsing regexp: /, '')}`);
      }
    }
    const parts: FingerprintPart[] = [];
    r.fingerprint.forEach((p, j) => {
      const part = parsePart(p);
      if (typeof part === 'string') errors.push(`${at}.fingerprint[${j}]: ${part}`);
      else parts.push(part);
    });
    rules.push({ name: r.name, matches: (e) => tests.every((t) => t(e)), parts });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rules };
}

// ---------------------------------------------------------------------------------------------
// The fingerprint

/**
 * One field, framed: its kind and its length (three 11-bit code units: never a surrogate), then
 * its UTF-16 code units. Fields are appended to one string and hashed once, as UTF-8.
 */
function frame(kind: number, s: string): string {
  const n = s.length;
  return String.fromCharCode(kind, (n >>> 22) & 0x7ff, (n >>> 11) & 0x7ff, n & 0x7ff) + s;
}

/**
 * The fingerprint of the framed fields: 16 hex digits of their sha256 over the UTF-8 encoding.
 * One-shot `crypto.hash` of the string, not `createHash` nor a UTF-16 Buffer: the same strength
 * for half the cost (no Hash object, no Buffer per event, fewer bytes for the usual ASCII).
 * UTF-8 is one-to-one on well-formed strings, so the framing stays unambiguous; the one merge is
 * a lone surrogate (which only a `\u` escape in the JSON can produce) hashing as U+FFFD, the
 * character it would become anywhere it is stored or shown.
 */
function digest16(framed: string): string {
  return hash('sha256', framed, 'hex').slice(0, 16);
}

const KIND_DEFAULT = 0;
const KIND_RULE = 1;
const KIND_VALUE = 2;
const KIND_ABSENT = 3;

/** An error's identity: its fingerprint, its normalized message, and the rule that decided it, if any. */
export interface ErrorFingerprint {
  /** 16 hex digits of sha256 over length-framed fields. */
  readonly fingerprint: string;
  readonly normalized: string;
  /** The name of the fingerprint rule that matched. */
  readonly rule?: string;
}

/**
 * The identity of an error event. Default: sha256 over type, normalized message, source, service
 * and task. When a rule matches (the first one, in order), over the rule's name and its parts
 * instead: a rule can widen a group (`['db-timeout']` for every service) or narrow it
 * (`['{{ type }}', '{{ tags.table }}']`). Every field is framed by its length (and the default and
 * rule forms by a distinct leading kind), so no value can imitate a separator or the other form;
 * an absent tag differs from an empty one.
 */
export function fingerprintOf(e: ErrorEvent, rules: readonly FingerprintRule[] = []): ErrorFingerprint {
  const normalized = normalizeMessage(e.error.message);
  const rule = rules.find((r) => r.matches(e));
  if (!rule) {
    const framed = frame(KIND_DEFAULT, '') + frame(KIND_VALUE, e.error.type) + frame(KIND_VALUE, normalized) + frame(KIND_VALUE, e.source) + frame(KIND_VALUE, e.service) + frame(KIND_VALUE, e.task);
    return { fingerprint: digest16(framed), normalized };
  }
  let framed = frame(KIND_RULE, rule.name);
  for (const p of rule.parts) {
    if ('literal' in p) framed += frame(KIND_VALUE, p.literal);
    else if ('tag' in p) {
      const v = Object.prototype.hasOwnProperty.call(e.tags, p.tag) ? e.tags[p.tag] : undefined;
      framed += v === undefined ? frame(KIND_ABSENT, '') : frame(KIND_VALUE, v);
    } else {
      const v = p.variable === 'type' ? e.error.type : p.variable === 'normalized' ? normalized : p.variable === 'message' ? e.error.message : e[p.variable];
      framed += frame(KIND_VALUE, v);
    }
  }
  return { fingerprint: digest16(framed), normalized, rule: rule.name };
}
