/**
 * Alertmanager's matcher syntax (pkg/labels/parse.go, `ParseMatcher` and `ParseMatchers`), as amtool
 * and silences write it: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`, the
 * value optionally double-quoted. Inside the value three escapes are unescaped, `\"`, `\\` and
 * `\n`; any other backslash sequence is kept as written (a "spurious escape"), so
 * `host=~"db\.example"` is the regex `db\.example` (an escaped dot), not `db.example`. An
 * unescaped `"` inside the value is an error. Regexes are compiled with the `alertmanager`
 * flavour (anchored `^(?:<re>)$`, RE2, linear time) by {@link matcher}.
 */
import { matcher, MatcherSyntaxError, type Matcher, type MatchOp } from './index.ts';

// As Alertmanager: `=~` before `=` so that the `~` is not read as part of the value.
const AM_MATCHER_RE = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;

/** The value of a matcher as written after its operator, unescaped as Alertmanager does. Throws {@link MatcherSyntaxError}. */
export function unescapeAlertmanagerValue(written: string, whole: string): string {
  let raw = written;
  let expectTrailingQuote = false;
  if (raw.startsWith('"')) {
    raw = raw.slice(1);
    expectTrailingQuote = true;
  }
  const chars = [...raw];
  let out = '';
  let escaped = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (escaped) {
      escaped = false;
      if (c === 'n') out += '\n';
      else if (c === '"' || c === '\\') out += c;
      else out += `\\${c}`; // a spurious escape: the backslash is literal
      continue;
    }
    if (c === '\\') {
      if (i < chars.length - 1) escaped = true;
      else out += '\\'; // a backslash as the last character is literal
    } else if (c === '"') {
      if (!expectTrailingQuote || i < chars.length - 1) throw new MatcherSyntaxError(`invalid matcher ${JSON.stringify(whole)}: the value contains an unescaped double quote`);
      expectTrailingQuote = false;
    } else out += c;
  }
  if (expectTrailingQuote) throw new MatcherSyntaxError(`invalid matcher ${JSON.stringify(whole)}: the value's opening double quote is not closed`);
  return out;
}

/** Parses one matcher in Alertmanager's syntax. Throws {@link MatcherSyntaxError} naming the text and the problem. */
export function parseAlertmanagerMatcher(text: string): Matcher {
  const m = AM_MATCHER_RE.exec(text);
  if (!m) throw new MatcherSyntaxError(`invalid matcher ${JSON.stringify(text)}: expected name="value", name!="value", name=~"regex" or name!~"regex"`);
  return alertmanagerMatcher(m[1]!, m[2] as MatchOp, unescapeAlertmanagerValue(m[3]!, text));
}

/** A matcher from parts with Alertmanager's regex flavour; a label name must be a Prometheus one. Throws {@link MatcherSyntaxError}. */
export function alertmanagerMatcher(name: string, op: MatchOp, value: string): Matcher {
  // Alertmanager 0.25 validates silence matchers' names with model.LabelNameRE.
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new MatcherSyntaxError(`invalid label name ${JSON.stringify(name)}: expected [a-zA-Z_][a-zA-Z0-9_]*`);
  return matcher(name, op, value, 'alertmanager');
}

/**
 * Parses `{a="b", c=~"d"}` (braces optional): commas outside double quotes separate matchers, as
 * Alertmanager's `ParseMatchers`. Throws {@link MatcherSyntaxError}.
 */
export function parseAlertmanagerMatchers(text: string): Matcher[] {
  let s = text.trim();
  if (s.startsWith('{')) s = s.slice(1);
  if (s.endsWith('}')) s = s.slice(0, -1);
  const tokens: string[] = [];
  let token = '';
  let inQuotes = false;
  let escaped = false;
  for (const c of s) {
    if (c === ',' && !inQuotes) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (c === '"') {
      if (!escaped) inQuotes = !inQuotes;
      else escaped = false;
    } else if (c === '\\') escaped = !escaped;
    else escaped = false;
    token += c;
  }
  if (token.trim() !== '') tokens.push(token.trim());
  return tokens.map(parseAlertmanagerMatcher);
}

/** A matcher written back in Alertmanager's syntax, so that {@link parseAlertmanagerMatcher} reads it back unchanged. */
export function formatAlertmanagerMatcher(m: Pick<Matcher, 'name' | 'op' | 'value'>): string {
  // Only `\`, `"` and newline need escaping; but a `\` followed by anything else is read back
  // literally, so every `\` is doubled to keep the round trip exact.
  const v = m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${m.name}${m.op}"${v}"`;
}
