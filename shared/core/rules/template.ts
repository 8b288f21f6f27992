/**
 * The small template language of rule labels and annotations, a subset of Prometheus's Go
 * templates: `{{ $value }}`, `{{ $labels.instance }}`, `{{ $labels["some-label"] }}`, with pipes
 * `| humanize`, `| humanizePercentage`, `| humanizeDuration`, `| printf "%.2f"`, and the call form
 * `{{ printf "%.1f" $value }}`. Anything else is rejected when the rule is validated, so a typo
 * fails `klaxon rules validate` instead of rendering garbage in a page at 3 a.m.
 *
 * Output is raw text: channels escape for their own format (Slack mrkdwn, HTML email).
 */
import type { Labels } from '../model/index.ts';

/** A template could not be parsed. */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What a template can read. */
export interface TemplateContext {
  readonly value: number;
  readonly labels: Labels;
}

/** A parsed template. */
export interface CompiledTemplate {
  readonly text: string;
  /** True if the template reads `$value` (forbidden in labels: it would change alert identity). */
  readonly usesValue: boolean;
  render(ctx: TemplateContext): string;
}

type Source = { kind: 'value' } | { kind: 'label'; name: string };
type Fn = { kind: 'humanize' | 'humanizePercentage' | 'humanizeDuration' } | { kind: 'printf'; format: string };
type Part = string | { source: Source; fns: Fn[] };

const ACTION_RE = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
const LABEL_DOT_RE = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/;
const LABEL_INDEX_RE = /^(?:\$labels\[\s*"([^"]*)"\s*\]|index\s+\$labels\s+"([^"]*)")$/;
const PRINTF_RE = /^printf\s+"((?:[^"\\]|\\.)*)"(?:\s+(.+))?$/;
const FORMAT_RE = /%(?:[-+ 0#]*\d*(?:\.\d+)?[dfegsv]|%)/g;

function parseSource(expr: string): Source {
  if (expr === '$value' || expr === '.Value') return { kind: 'value' };
  const dot = LABEL_DOT_RE.exec(expr) ?? /^\.Labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(expr);
  if (dot) return { kind: 'label', name: dot[1]! };
  const idx = LABEL_INDEX_RE.exec(expr);
  if (idx) return { kind: 'label', name: (idx[1] ?? idx[2])! };
  throw new TemplateSyntaxError(`unsupported template expression ${JSON.stringify(expr)}: use $value, $labels.name or $labels["name"]`);
}

function checkFormat(format: string): void {
  const stripped = format.replace(FORMAT_RE, '');
  if (stripped.includes('%')) throw new TemplateSyntaxError(`unsupported printf format ${JSON.stringify(format)}: use verbs like %.2f, %d, %g, %s, %v`);
  const verbs = format.match(FORMAT_RE)?.filter((v) => v !== '%%') ?? [];
  if (verbs.length !== 1) throw new TemplateSyntaxError(`printf format ${JSON.stringify(format)} must have exactly one verb`);
}

function parseFn(text: string): Fn {
  if (text === 'humanize' || text === 'humanizePercentage' || text === 'humanizeDuration') return { kind: text };
  const p = PRINTF_RE.exec(text);
  if (p && p[2] === undefined) {
    checkFormat(p[1]!);
    return { kind: 'printf', format: p[1]! };
  }
  throw new TemplateSyntaxError(`unsupported template function ${JSON.stringify(text)}: use humanize, humanizePercentage, humanizeDuration or printf "<format>"`);
}

function parseAction(body: string): { source: Source; fns: Fn[] } {
  const stages = body.split('|').map((s) => s.trim());
  const head = stages[0]!;
  const fns: Fn[] = [];
  let source: Source;
  const call = PRINTF_RE.exec(head);
  if (call && call[2] !== undefined) {
    // `printf "%.2f" $value`: call form, same as `$value | printf "%.2f"`.
    checkFormat(call[1]!);
    source = parseSource(call[2].trim());
    fns.push({ kind: 'printf', format: call[1]! });
  } else {
    source = parseSource(head);
  }
  for (const s of stages.slice(1)) fns.push(parseFn(s));
  return { source, fns };
}

/** Formats a number as Go's `%g`-ish shortest text (`93.5`, `1e+21`), as `{{ $value }}` prints it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function trimG(s: string): string {
  if (s.includes('e')) {
    const [m, e] = s.split('e');
    return `${trimG(m!)}e${e!.startsWith('-') ? '-' : '+'}${e!.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function formatG(v: number, precision: number): string {
  if (!Number.isFinite(v)) return formatValue(v);
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= precision) return trimG(v.toExponential(precision - 1));
  return trimG(v.toPrecision(precision));
}

/** Prometheus `humanize`: SI prefixes (k, M, G, … / m, u, n, …) with 4 significant digits. */
export function humanize(v: number): string {
  if (!Number.isFinite(v) || v === 0) return formatG(v, 4);
  const big = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
  const small = ['', 'm', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
  let x = v;
  let i = 0;
  if (Math.abs(x) >= 1) {
    while (Math.abs(x) >= 1000 && i < big.length - 1) {
      x /= 1000;
      i++;
    }
    return `${formatG(x, 4)}${big[i]}`;
  }
  while (Math.abs(x) < 1 && i < small.length - 1) {
    x *= 1000;
    i++;
  }
  return `${formatG(x, 4)}${small[i]}`;
}

/** Prometheus `humanizeDuration`: seconds as `1d 2h 3m 4s` (fractions below one second as ms). */
export function humanizeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return formatValue(seconds);
  if (Math.abs(seconds) < 1) return seconds === 0 ? '0s' : `${formatG(seconds * 1000, 4)}ms`;
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(seconds);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s || parts.length === 0) parts.push(`${Number.isInteger(s) ? s : formatG(s, 4)}s`);
  return sign + parts.join(' ');
}

function printf(format: string, arg: number | string): string {
  return format.replace(FORMAT_RE, (verb) => {
    if (verb === '%%') return '%';
    const conv = verb[verb.length - 1]!;
    const prec = /\.(\d+)/.exec(verb)?.[1];
    const n = typeof arg === 'number' ? arg : Number(arg);
    switch (conv) {
      case 'd':
        return Number.isFinite(n) ? String(Math.trunc(n)) : formatValue(n);
      case 'f':
        return Number.isFinite(n) ? n.toFixed(prec === undefined ? 6 : Number(prec)) : formatValue(n);
      case 'e':
        return Number.isFinite(n) ? trimG(n.toExponential(prec === undefined ? 6 : Number(prec))) : formatValue(n);
      case 'g':
        return prec === undefined ? formatValue(n) : formatG(n, Math.max(1, Number(prec)));
      default:
        return typeof arg === 'number' ? formatValue(arg) : arg;
    }
  });
}

function apply(fn: Fn, v: number | string): number | string {
  const n = typeof v === 'number' ? v : Number(v);
  switch (fn.kind) {
    case 'humanize':
      return humanize(n);
    case 'humanizePercentage':
      return `${humanize(n * 100)}%`;
    case 'humanizeDuration':
      return humanizeDuration(n);
    case 'printf':
      return printf(fn.format, v);
  }
}

/** Parses a template. Throws {@link TemplateSyntaxError}. */
export function compileTemplate(text: string): CompiledTemplate {
  const parts: Part[] = [];
  let last = 0;
  let usesValue = false;
  for (const m of text.matchAll(ACTION_RE)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const action = parseAction(m[1]!);
    if (action.source.kind === 'value') usesValue = true;
    parts.push(action);
    last = m.index + m[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('{{')) throw new TemplateSyntaxError(`unclosed template action in ${JSON.stringify(text)}`);
  if (rest) parts.push(rest);
  if (parts.every((p) => typeof p === 'string')) {
    return { text, usesValue: false, render: () => text };
  }
  return {
    text,
    usesValue,
    render(ctx: TemplateContext): string {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') {
          out += p;
          continue;
        }
        let v: number | string = p.source.kind === 'value' ? ctx.value : (ctx.labels[p.source.name] ?? '');
        for (const fn of p.fns) v = apply(fn, v);
        out += typeof v === 'number' ? formatValue(v) : v;
      }
      return out;
    },
  };
}
