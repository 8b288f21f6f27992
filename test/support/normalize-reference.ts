/**
 * The message normaliser as it was before the hand-written scanner (commit eafca89,
 * shared/core/events/fingerprint.ts): split on whitespace, each word tried against the token
 * patterns (re2js for e-mails, dates and IPv6). Kept verbatim as the oracle the property tests in
 * test/unit/error-fingerprint.test.ts hold `normalizeMessage` to: fingerprints are alert
 * identities, so the normalised text must not change by a single character.
 */
import { RE2JS } from 're2js';
import { cutText } from '../../shared/core/events/event.ts';

/** At most this many UTF-16 code units of each of the message's first two lines are normalized. */
const MAX_NORMALIZED_INPUT_CHARS = 8192;
const WHITESPACE_RE = /\s+/;

/**
 * Whole-token placeholders, tried in order; each is a FULL match of one token on re2js, so a token
 * costs one linear pass per pattern. (One alternation searched over the whole line is not enough:
 * a search restarts after each match, and a pattern that runs far before failing, `a1a1a1…` as a
 * hex id, makes every restart rescan the rest of the line: quadratic, though each search is linear.)
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
const TOKEN_RES = TOKEN_PATTERNS.map(([placeholder, p]) => [placeholder, RE2JS.compile(p, RE2JS.CASE_INSENSITIVE)] as const);
/**
 * What a token must have for each pattern above to be able to match it, tested before the
 * pattern (in the same order): a plain word (no digit, `@`, `:`, and not 36 characters long)
 * needs no regex at all, and most words of a message are plain. Each is a necessary condition of
 * its pattern, so the result is the same; it only spares re2js calls (the normaliser's cost).
 */
const TOKEN_GUARDS: readonly ((t: string, digit: boolean) => boolean)[] = [
  (t) => t.includes('://'),
  (t) => t.includes('@'),
  (t) => t.length === 36,
  (t) => t.length >= 10 && t.charCodeAt(4) === 45 && isDigit(t.charCodeAt(0)) && isDigit(t.charCodeAt(3)),
  (t) => t.length >= 8 && isDigit(t.charCodeAt(0)) && (t.includes('/') || t.includes('.') || t.includes('-')),
  (t, digit) => digit && t.length >= 7,
  // Full (7 colons), compressed (`::`) or bracketed.
  (t) => t.includes('::') || t.charCodeAt(0) === 91 || colons(t) >= 7,
  (t, digit) => digit && t.includes(':'),
  (_t, digit) => digit,
  (_t, digit) => digit,
];
if (TOKEN_GUARDS.length !== TOKEN_RES.length) throw new Error('fingerprint: one guard per token pattern');

function colons(t: string): number {
  let n = 0;
  for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 58) n++;
  return n;
}

function hasDigit(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}
/** Wrapping punctuation peeled off a word before it is classified (`(10.0.0.1:5432),` → `10.0.0.1:5432`). */
const LEADING = new Set([...'([{<"\'`']);
const TRAILING = new Set([...')]}>"\'`,;:.!?']);
/** Where a word splits into parts when it is not one token whole (`id=42`, `scheduled__<date>`). */
const INNER_SEPARATORS = new Set([...'_=,;()[]{}<>"\'`|']);
/** A unit written as its own word after a number (`5 minutes`): the pair is one `<duration>`. */
const UNIT_WORDS = new Set(['ms', 'millisecond', 'milliseconds', 's', 'sec', 'secs', 'second', 'seconds', 'min', 'mins', 'minute', 'minutes', 'h', 'hr', 'hrs', 'hour', 'hours', 'd', 'day', 'days']);
const MONTHS = new Set(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']);

/** The first two non-empty lines, trimmed, without splitting the whole text. */
function firstTwoLines(message: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (lines.length < 2 && start <= message.length) {
    let end = start;
    while (end < message.length && message.charCodeAt(end) !== 10 && message.charCodeAt(end) !== 13) end++;
    const line = message.slice(start, end).trim();
    if (line) lines.push(line);
    start = end + 1;
  }
  return lines;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** The placeholder of a whole token, or undefined. */
function tokenPlaceholder(t: string): string | undefined {
  const digit = hasDigit(t);
  for (let i = 0; i < TOKEN_RES.length; i++) {
    if (!TOKEN_GUARDS[i]!(t, digit)) continue;
    const exact = TOKEN_EXACT[i];
    if (exact ? exact(t) : TOKEN_RES[i]![1].matches(t)) return TOKEN_RES[i]![0];
  }
  return undefined;
}

// Hand-written full matches of the simplest patterns above (same language, no regex call: most
// tokens with digits are these). The others run on re2js. test/unit/error-fingerprint.test.ts
// checks each against its pattern on generated tokens.

/** Digits from `i` on; returns the index after them. */
function digitsFrom(t: string, i: number): number {
  while (i < t.length && isDigit(t.charCodeAt(i))) i++;
  return i;
}

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

/** `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, any case. */
function isUuidToken(t: string): boolean {
  if (t.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = t.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!(isDigit(c) || isHexLetter(c))) return false;
  }
  return true;
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

/** `(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d))+`, any case. */
function isDurationToken(t: string): boolean {
  const lower = t.toLowerCase();
  let i = 0;
  while (i < lower.length) {
    let j = digitsFrom(lower, i);
    if (j === i) return false;
    if (lower.charCodeAt(j) === 46) {
      const k = digitsFrom(lower, j + 1);
      if (k === j + 1) return false;
      j = k;
    }
    const unit = DURATION_UNITS.find((u) => lower.startsWith(u, j) && (j + u.length === lower.length || isDigit(lower.charCodeAt(j + u.length))));
    if (!unit) return false;
    i = j + unit.length;
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

/** Per pattern (same order as TOKEN_PATTERNS), a hand-written full match, or undefined: the regex. */
const TOKEN_EXACT: readonly (((t: string) => boolean) | undefined)[] = [
  isUrlToken,
  undefined,
  isUuidToken,
  undefined,
  undefined,
  isIpv4Token,
  undefined,
  isTimeToken,
  isDurationToken,
  isNumberToken,
];

/**
 * Numbers inside a token that is no placeholder whole: each run of letters and digits is `<n>` when
 * all digits, `<hex>` when 8 or more hex digits mixing digits and letters (or 0x…), and kept when it
 * mixes in other letters (`s3`, `utf8`, `sha256`, `log4j` are names). One pass.
 */
function numbersIn(t: string): string {
  let out = '';
  let i = 0;
  while (i < t.length) {
    if (!isAlnum(t.charCodeAt(i))) {
      out += t[i];
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
    const run = t.slice(i, j);
    const len = j - i;
    if (digits === len) out += '<n>';
    else if (len > 2 && run[0] === '0' && (run[1] === 'x' || run[1] === 'X') && digits + hexLetters === len - 1) out += '<hex>';
    else if (len >= 8 && digits > 0 && digits + hexLetters === len) out += '<hex>';
    else out += run;
    i = j;
  }
  return out;
}

/** One word (no whitespace): wrapping punctuation kept, the core a placeholder, or its parts. */
/**
 * A word no placeholder can touch: no digit (every pattern but three needs one, and so do `<n>`
 * and `<hex>`), no `@` (e-mail), no `:` (URL, IPv6) and no `-` (a UUID of hex letters only).
 * Most words of a message are such, and are kept as they are without any further look.
 */
function isPlainWord(w: string): boolean {
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if ((c >= 48 && c <= 58) || c === 64 || c === 45) return false;
  }
  return true;
}

function normalizeWord(w: string): string {
  if (isPlainWord(w)) return w;
  // Whole first: `[2001:db8::1]:443` holds its own brackets.
  const asIs = tokenPlaceholder(w);
  if (asIs !== undefined) return asIs;
  let a = 0;
  let b = w.length;
  while (a < b && LEADING.has(w[a]!)) a++;
  while (b > a && TRAILING.has(w[b - 1]!)) b--;
  const core = w.slice(a, b);
  if (!core) return w;
  const whole = tokenPlaceholder(core);
  if (whole !== undefined) return `${w.slice(0, a)}${whole}${w.slice(b)}`;
  // Parts between separators, each a placeholder whole or its numbers replaced.
  let out = w.slice(0, a);
  let p = a;
  for (let i = a; i <= b; i++) {
    if (i < b && !INNER_SEPARATORS.has(w[i]!)) continue;
    const part = w.slice(p, i);
    if (part) out += tokenPlaceholder(part) ?? numbersIn(part);
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
 * {@link MAX_NORMALIZED_INPUT_CHARS} code units of each line are read): every pattern is a full match of one
 * token on re2js.
 */
export function referenceNormalizeMessage(message: string): string {
  return firstTwoLines(message)
    .map((line) => joinMultiWord(cutText(line, MAX_NORMALIZED_INPUT_CHARS).split(WHITESPACE_RE).filter(Boolean).map(normalizeWord)))
    .join(' ');
}

/** Multi-word forms, on one line's normalized words: `<n> minutes`, `Nov <n>, <n>`, `<n> Nov <n>`. */
function joinMultiWord(words: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    const third = words[i + 2];
    if (w === '<n>' && next !== undefined && UNIT_WORDS.has(next.toLowerCase().replace(/[,;.]$/, ''))) {
      out.push(`<duration>${/[,;.]$/.test(next) ? next.slice(-1) : ''}`);
      i++;
    } else if (next?.startsWith('<n>') && third?.startsWith('<n>') && isMonth(w)) {
      out.push(`<date>${third.slice(3)}`);
      i += 2;
    } else if (w === '<n>' && next !== undefined && third?.startsWith('<n>') && isMonth(next)) {
      out.push(`<date>${third.slice(3)}`);
      i += 2;
    } else out.push(w);
  }
  return out.join(' ');
}

function isMonth(w: string): boolean {
  return MONTHS.has(w.slice(0, 3).toLowerCase()) && /^[a-z]+$/i.test(w);
}
