/**
 * Error identity: which failures are "the same error", so they share one alert. Sentry's grouping
 * is the model (https://docs.sentry.io/concepts/data-management/event-grouping/): by default the
 * error type plus its message with the varying parts (ids, times, addresses, numbers) replaced by
 * placeholders; fingerprint rules
 * (https://docs.sentry.io/concepts/data-management/event-grouping/fingerprint-rules/) override it.
 *
 * Hostile text: every pattern here, ours and the users', runs on re2js (a linear-time engine, as
 * in ../matchers), so no message can make normalizing cost more than proportional to its length;
 * and only the first two non-empty lines, at most {@link MAX_NORMALIZED_INPUT_CHARS} code units,
 * are read.
 */
import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import { z } from 'zod';
import { formatPath } from '../model/field-path.ts';
import { cutText } from './event.ts';

const WHITESPACE_RE = /\s+/;
import type { ErrorEvent } from './types.ts';

/** At most this many UTF-16 code units of each of the message's first two lines are normalized. */
export const MAX_NORMALIZED_INPUT_CHARS = 8192;

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
export const TOKEN_EXACT: readonly (((t: string) => boolean) | undefined)[] = [
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

/** The re2js patterns of the token placeholders, in order (tests check the hand-written matches against them). */
export const TOKEN_REGEXES: readonly RE2JS[] = TOKEN_RES.map(([, re]) => re);

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
export function normalizeMessage(message: string): string {
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

/** Writes one field: a kind byte, its length (4 bytes, UTF-16 units, big-endian), its UTF-16LE units. */
/**
 * One field, framed: its kind and its length (three 11-bit code units: never a surrogate), then
 * its UTF-16 code units. Fields are appended to one string and hashed once (utf16le).
 */
function frame(h: string[], kind: number, s: string): void {
  const n = s.length;
  h.push(String.fromCharCode(kind, (n >>> 22) & 0x7ff, (n >>> 11) & 0x7ff, n & 0x7ff), s);
}

/** The fingerprint of the framed fields: 16 hex digits of their sha256. */
function digest16(h: readonly string[]): string {
  return createHash('sha256').update(h.join(''), 'utf16le').digest('hex').slice(0, 16);
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
  const h: string[] = [];
  const rule = rules.find((r) => r.matches(e));
  if (!rule) {
    frame(h, KIND_DEFAULT, '');
    for (const v of [e.error.type, normalized, e.source, e.service, e.task]) frame(h, KIND_VALUE, v);
    return { fingerprint: digest16(h), normalized };
  }
  frame(h, KIND_RULE, rule.name);
  for (const p of rule.parts) {
    if ('literal' in p) frame(h, KIND_VALUE, p.literal);
    else if ('tag' in p) {
      const v = Object.prototype.hasOwnProperty.call(e.tags, p.tag) ? e.tags[p.tag] : undefined;
      if (v === undefined) frame(h, KIND_ABSENT, '');
      else frame(h, KIND_VALUE, v);
    } else {
      const v = p.variable === 'type' ? e.error.type : p.variable === 'normalized' ? normalized : p.variable === 'message' ? e.error.message : e[p.variable];
      frame(h, KIND_VALUE, v);
    }
  }
  return { fingerprint: digest16(h), normalized, rule: rule.name };
}
