/**
 * Prometheus-style label matchers: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`.
 * Regexes are fully anchored, as in Prometheus (`=~"web-.*"` matches `web-1`, not `my-web-1`).
 * A missing label has the value `""` (so `team=""` matches series without a `team` label).
 * Used by rules (which series a rule watches) and by routes (which alerts a route takes).
 *
 * Regexes use RE2 syntax and run on re2js, a linear-time engine (a port of RE2/J): a label value
 * from a producer cannot make a match take longer than proportional to its length, whatever the
 * regex. JavaScript's backtracking `RegExp` is never given user text: `.*-.*-.*-.*-prod` against
 * one long value stalled a whole batch. Syntax RE2 does not have (backreferences, lookaround,
 * possessive quantifiers, `\u`) is rejected when the rules or routes are validated.
 */
import { RE2JS } from 're2js';
import { PermanentError } from '../errors/index.ts';
import type { Labels } from '../model/index.ts';
import { literalFastPath } from './literal.ts';

/** Matcher operators. */
export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
/** One of {@link MATCH_OPS}. */
export type MatchOp = (typeof MATCH_OPS)[number];

/**
 * Whose regex semantics a matcher follows. All three compile with Go's `regexp` (RE2 syntax, Perl
 * flags: `.` does not match a newline, `[^a]` does, `^`/`$` are the ends of the text) and anchor
 * the regex at both ends; they differ only in `.` and newline:
 * - `prometheus`: Prometheus 2.x, the version Klaxon's rules are checked against (Debian's 2.42):
 *   `regexp.Compile("^(?:" + v + ")$")` (model/labels/regexp.go, NewFastRegexMatcher, v2.42.0).
 * - `prometheus-3`: Prometheus 3.0 changed `.` to match newlines (CHANGELOG 3.0.0, #14505):
 *   `regexp.Compile("^(?s:" + v + ")$")` (model/labels/regexp.go, v3.0.0).
 * - `alertmanager`: Alertmanager 0.25, `regexp.Compile("^(?:" + v + ")$")` (pkg/labels/matcher.go,
 *   NewMatcher); routes follow it.
 */
export const REGEX_FLAVOURS = ['prometheus', 'prometheus-3', 'alertmanager'] as const;
/** One of {@link REGEX_FLAVOURS}. */
export type RegexFlavour = (typeof REGEX_FLAVOURS)[number];

/** The flavour of rule matchers (and the default of {@link matcher} and {@link parseMatcher}). */
export const RULE_REGEX_FLAVOUR: RegexFlavour = 'prometheus';
/** The flavour of route matchers. */
export const ROUTE_REGEX_FLAVOUR: RegexFlavour = 'alertmanager';

/** Readable text of each flavour: how it anchors, for messages and docs. */
export const REGEX_FLAVOUR_TEXT: Readonly<Record<RegexFlavour, string>> = {
  prometheus: 'Prometheus 2.x: ^(?:<re>)$, `.` does not match a newline',
  'prometheus-3': 'Prometheus 3: ^(?s:<re>)$, `.` matches a newline',
  alertmanager: 'Alertmanager: ^(?:<re>)$, `.` does not match a newline',
};

/** Whether `.` matches a newline in each flavour (RE2's `s` flag). */
const DOT_MATCHES_NEWLINE: Readonly<Record<RegexFlavour, boolean>> = {
  prometheus: false,
  'prometheus-3': true,
  alertmanager: false,
};

/** A compiled label regex: a full (anchored) match, linear in the length of the value. */
export interface LabelRegex {
  /** True if the whole value matches. */
  test(value: string): boolean;
  /** The anchored regex as the reference implementation writes it, e.g. `^(?:web-.*)$`. */
  readonly source: string;
  /** The flavour it was compiled for. */
  readonly flavour: RegexFlavour;
}

/** A parsed, compiled matcher. */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** Compiled anchored regex for `=~` and `!~`. */
  readonly regex?: LabelRegex;
  /** The matcher as written, normalised (`name="value"`). */
  readonly text: string;
}

/**
 * A matcher (or a regex) could not be parsed or uses syntax RE2 lacks; `message` names the text
 * and the problem. Permanent: the same text never compiles.
 */
export class MatcherSyntaxError extends PermanentError {}

/**
 * Why a construct re2js rejects is missing, keyed by its error code (`RE2JSSyntaxException.error`)
 * and the offending text (`.input`). The codes are RE2's (re2/regexp.h ErrorCode texts).
 */
const HINTS: readonly { readonly code: string; readonly input: RegExp; readonly hint: string }[] = [
  { code: 'invalid escape sequence', input: /^\\[1-9k]/, hint: 'backreferences are not supported in RE2 syntax' },
  { code: 'invalid or unsupported Perl syntax', input: /^\(\?[=!]/, hint: 'lookahead is not supported in RE2 syntax' },
  { code: 'invalid named capture', input: /^\(\?<[=!]/, hint: 'lookbehind is not supported in RE2 syntax' },
  { code: 'invalid or unsupported Perl syntax', input: /^\(\?#/, hint: 'comments are not supported in RE2 syntax' },
  { code: 'invalid nested repetition operator', input: /^(?:[*+?]|\{[\d,]*\})\+$/, hint: 'possessive quantifiers are not supported in RE2 syntax' },
  { code: 'invalid escape sequence', input: /^\\u/, hint: 'RE2 writes a code point as \\x{263A}' },
  { code: 'invalid escape sequence', input: /^\\Z/, hint: 'RE2 writes the end of the text as $ or \\z' },
  // https://github.com/google/re2/wiki/Syntax: "x{n,m} ... RE2 limits n and m to 1000", nested repeats included.
  { code: 'invalid repeat count', input: /./, hint: 'RE2 allows repeat counts up to 1000, nested repeats multiplied' },
];

/** The problem in words, from a re2js exception (its `error` code and offending `input`). */
function describe(cause: unknown): string {
  const e = cause as { message?: unknown; error?: unknown; input?: unknown };
  const code = typeof e.error === 'string' ? e.error : '';
  const input = typeof e.input === 'string' ? e.input : '';
  const text = (typeof e.message === 'string' ? e.message : String(cause)).replace(/^error parsing regexp: /, '');
  const hint = HINTS.find((h) => h.code === code && h.input.test(input))?.hint;
  return hint ? `${text} (${hint})` : text;
}

/**
 * Compiles `pattern` as a fully anchored label regex of `flavour`. Throws {@link MatcherSyntaxError}
 * as `invalid <what>: <problem>`, `what` naming where the pattern comes from.
 *
 * The pattern is compiled on its own and run as a full match (re2js `matches`), which is
 * `^(?:<re>)$` without the text splice: a pattern such as `a)|(b` is rejected (as Prometheus's own
 * `syntax.Parse(v)` check does) instead of compiling into `^(?:a)|(b)$`. Compiled once per matcher;
 * matchers are built once per rules or routes load.
 */
export function compileLabelRegex(pattern: string, flavour: RegexFlavour, what = `regular expression ${JSON.stringify(pattern)}`): LabelRegex {
  const dotNl = DOT_MATCHES_NEWLINE[flavour];
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, dotNl ? RE2JS.DOTALL : 0);
  } catch (cause) {
    // The DOTALL flag is spliced in as `(?s)` and would show in the message: report the error of
    // the pattern as written (flags change no syntax error).
    let reported = cause;
    try {
      if (dotNl) RE2JS.compile(pattern);
    } catch (plain) {
      reported = plain;
    }
    throw new MatcherSyntaxError(`invalid ${what}: ${describe(reported)}`, { cause: reported });
  }
  const source = `^(?${dotNl ? 's' : ''}:${pattern})$`;
  const test = literalFastPath(pattern, dotNl) ?? ((v: string) => re.matches(v));
  return { test, source, flavour };
}

const MATCHER_RE = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s"']*))\s*$/;

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/**
 * Builds a matcher from parts, compiling a regex value for `flavour` (default
 * {@link RULE_REGEX_FLAVOUR}; routes pass {@link ROUTE_REGEX_FLAVOUR}). Throws {@link MatcherSyntaxError}.
 */
export function matcher(name: string, op: MatchOp, value: string, flavour: RegexFlavour = RULE_REGEX_FLAVOUR): Matcher {
  const text = `${name}${op}${JSON.stringify(value)}`;
  const regex = op === '=~' || op === '!~' ? compileLabelRegex(value, flavour, `regular expression in matcher ${text}`) : undefined;
  return { name, op, value, ...(regex ? { regex } : {}), text };
}

/**
 * Parses `name<op>"value"` (quotes optional for simple values); regexes follow `flavour` (see
 * {@link matcher}). Throws {@link MatcherSyntaxError}.
 */
export function parseMatcher(text: string, flavour: RegexFlavour = RULE_REGEX_FLAVOUR): Matcher {
  const m = MATCHER_RE.exec(text);
  if (!m) {
    throw new MatcherSyntaxError(
      `invalid matcher ${JSON.stringify(text)}: expected name="value", name!="value", name=~"regex" or name!~"regex"`,
    );
  }
  const raw = m[3] ?? m[4] ?? m[5] ?? '';
  return matcher(m[1]!, m[2] as MatchOp, m[3] !== undefined || m[4] !== undefined ? unescape(raw) : raw, flavour);
}

/** True if the label set satisfies the matcher. */
export function matches(m: Matcher, labels: Labels): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.regex!.test(v);
    case '!~':
      return !m.regex!.test(v);
  }
}

/** True if the label set satisfies every matcher (an empty list matches everything). */
export function matchesAll(ms: readonly Matcher[], labels: Labels): boolean {
  for (const m of ms) if (!matches(m, labels)) return false;
  return true;
}
