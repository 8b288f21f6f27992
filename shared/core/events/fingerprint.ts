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
import { cutText } from './event.ts';
import type { ErrorEvent } from './types.ts';

/** At most this many UTF-16 code units of the message's first two lines are normalized. */
export const MAX_NORMALIZED_INPUT_CHARS = 8192;

/** Placeholders, in the order their patterns are tried at one position (earlier wins). */
const PLACEHOLDER_PATTERNS: readonly (readonly [placeholder: string, pattern: string])[] = [
  // scheme://anything up to a space, quote or bracket (s3://, postgresql://user@host too)
  ['<url>', `[a-z][a-z0-9+.-]*://[^\\s"'<>()\\[\\]{}]+`],
  ['<email>', `[a-z0-9._%+-]+@[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.[a-z]{2,}`],
  ['<uuid>', `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`],
  // ISO 8601 date or date-time, with fraction and zone: one placeholder for the whole
  ['<date>', `\\d{4}-\\d{2}-\\d{2}(?:[t ]\\d{2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?(?:z|[+-]\\d{2}:?\\d{2})?)?`],
  // 2026/11/28, 28/11/2026, 11-28-2026, 28.11.2026
  ['<date>', `\\d{4}/\\d{1,2}/\\d{1,2}\\b|\\b\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{4}\\b`],
  // 28 Nov 2026, Nov 28, 2026, 28-Nov-2026
  ['<date>', `\\b\\d{1,2}[ -](?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ -]\\d{4}\\b|\\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \\d{1,2},? \\d{4}\\b`],
  // IPv4 with an optional port, before times and numbers (10.0.0.1:5432)
  ['<ip>', `\\b(?:\\d{1,3}\\.){3}\\d{1,3}(?::\\d{1,5})?\\b`],
  // IPv6: bracketed with a port, full, or compressed with `::` between hex groups (fe80::1)
  ['<ip>', `\\[[0-9a-f]*:[0-9a-f:.]*\\](?::\\d{1,5})?|\\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\\b|\\b(?:[0-9a-f]{1,4}:)*[0-9a-f]{1,4}::(?:[0-9a-f]{1,4}:)*[0-9a-f]{1,4}\\b`],
  ['<time>', `\\b\\d{1,2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?\\b`],
  // 12.5s, 300ms, 5 minutes, 1h30m
  ['<duration>', `(?:\\d+(?:\\.\\d+)?[ \\t]?(?:ns|us|µs|ms|milliseconds?|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d))+\\b`],
  ['<hex>', `0x[0-9a-f]+\\b|\\b[0-9a-f]{8,}\\b`],
  // a letter and digits is a name (s3, ec2, utf8, sha256, log4j): kept as written
  ['', `[a-z]\\d+`],
  ['<n>', `\\d+(?:\\.\\d+)?`],
];

/** All patterns in one alternation, one group each: one linear pass, leftmost match, earlier pattern first. */
const PLACEHOLDER_RE = RE2JS.compile(PLACEHOLDER_PATTERNS.map(([, p]) => `(${p})`).join('|'), RE2JS.CASE_INSENSITIVE);
const WHITESPACE_RE = /\s+/g;

/** The first two non-empty lines (trimmed, joined by a space), without splitting the whole text. */
function firstTwoLines(message: string): string {
  const lines: string[] = [];
  let start = 0;
  while (lines.length < 2 && start <= message.length) {
    let end = start;
    while (end < message.length && message.charCodeAt(end) !== 10 && message.charCodeAt(end) !== 13) end++;
    const line = message.slice(start, end).trim();
    if (line) lines.push(line);
    start = end + 1;
  }
  // A newline between them, so no pattern spans the two lines (`line 1` + `seconds`).
  return lines.join('\n');
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A hex match: `<hex>` when it mixes digits and letters, `<n>` when all digits, kept when all letters (a word). */
function hexOrWord(m: string): string {
  if (m.length > 2 && (m[1] === 'x' || m[1] === 'X') && m[0] === '0') return '<hex>';
  let digits = 0;
  for (let i = 0; i < m.length; i++) if (isDigit(m.charCodeAt(i))) digits++;
  return digits === m.length ? '<n>' : digits === 0 ? m : '<hex>';
}

/**
 * A message with its varying parts replaced: the first two non-empty lines (later lines are
 * usually a traceback or data), placeholders `<url>`, `<email>`, `<uuid>`, `<date>`, `<ip>`,
 * `<time>`, `<duration>`, `<hex>` (0x…, or 8 and more hex digits mixing digits and letters),
 * `<n>` (any other number, unless it follows a letter: `s3`, `utf8`, `sha256` are names), and
 * runs of whitespace made one space. Linear in the message's length (re2js).
 */
export function normalizeMessage(message: string): string {
  const text = cutText(firstTwoLines(message), MAX_NORMALIZED_INPUT_CHARS);
  const replaced = PLACEHOLDER_RE.matcher(text).replaceAll((...args: unknown[]) => {
    const m = args[0] as string;
    for (let g = 0; g < PLACEHOLDER_PATTERNS.length; g++) {
      if (args[g + 1] == null) continue;
      const placeholder = PLACEHOLDER_PATTERNS[g]![0];
      if (placeholder === '<hex>') return hexOrWord(m);
      return placeholder || m;
    }
    return m;
  });
  return replaced.replace(WHITESPACE_RE, ' ').trim();
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

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(top level)';
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
function frame(h: ReturnType<typeof createHash>, kind: number, s: string): void {
  const n = s.length;
  h.update(new Uint8Array([kind, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));
  h.update(s, 'utf16le');
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
  const h = createHash('sha256');
  const rule = rules.find((r) => r.matches(e));
  if (!rule) {
    frame(h, KIND_DEFAULT, '');
    for (const v of [e.error.type, normalized, e.source, e.service, e.task]) frame(h, KIND_VALUE, v);
    return { fingerprint: h.digest('hex').slice(0, 16), normalized };
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
  return { fingerprint: h.digest('hex').slice(0, 16), normalized, rule: rule.name };
}
