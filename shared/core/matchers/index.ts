/**
 * Prometheus-style label matchers: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`.
 * Regexes are fully anchored, as in Prometheus (`=~"web-.*"` matches `web-1`, not `my-web-1`).
 * A missing label has the value `""` (so `team=""` matches series without a `team` label).
 * Used by rules (which series a rule watches) and by routes (which alerts a route takes).
 */
import type { Labels } from '../model/index.ts';

/** Matcher operators. */
export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
/** One of {@link MATCH_OPS}. */
export type MatchOp = (typeof MATCH_OPS)[number];

/** A parsed, compiled matcher. */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** Compiled anchored regex for `=~` and `!~`. */
  readonly regex?: RegExp;
  /** The matcher as written, normalised (`name="value"`). */
  readonly text: string;
}

/** A matcher could not be parsed; `message` names the text and the problem. */
export class MatcherSyntaxError extends Error {
  override name = 'MatcherSyntaxError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const MATCHER_RE = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s"']*))\s*$/;

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** Builds a matcher from parts (compiling the regex, anchored). Throws {@link MatcherSyntaxError}. */
export function matcher(name: string, op: MatchOp, value: string): Matcher {
  let regex: RegExp | undefined;
  if (op === '=~' || op === '!~') {
    try {
      regex = new RegExp(`^(?:${value})$`, 'u');
    } catch (cause) {
      throw new MatcherSyntaxError(`invalid regular expression in matcher ${name}${op}"${value}": ${(cause as Error).message}`, { cause });
    }
  }
  return { name, op, value, ...(regex ? { regex } : {}), text: `${name}${op}${JSON.stringify(value)}` };
}

/** Parses `name<op>"value"` (quotes optional for simple values). Throws {@link MatcherSyntaxError}. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER_RE.exec(text);
  if (!m) {
    throw new MatcherSyntaxError(
      `invalid matcher ${JSON.stringify(text)}: expected name="value", name!="value", name=~"regex" or name!~"regex"`,
    );
  }
  const raw = m[3] ?? m[4] ?? m[5] ?? '';
  return matcher(m[1]!, m[2] as MatchOp, m[3] !== undefined || m[4] !== undefined ? unescape(raw) : raw);
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
