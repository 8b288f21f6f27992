/**
 * `klaxon rules test`: rule unit tests in promtool's `test rules` format
 * (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/), run on the
 * replay core. Differences from promtool, by design:
 * - `rule_files` are Klaxon rule files (YAML `rules:`), not Prometheus rule groups;
 * - `alertname` matches a rule's `id` or its `name` (rules sharing it are compared together);
 *   the implied `alertname` label is ignored on both sides unless `exp_labels` names it;
 * - rules are evaluated at each input sample (event time), not at `evaluation_interval` ticks, so
 *   `interval` should equal `evaluation_interval` for promtool-identical timings;
 * - `stale` ends a series like `_` (no sample); staleness resolution applies after 5 minutes;
 * - `promql_expr_test` is not supported (Klaxon rules are not PromQL) and fails the test file.
 */
import { z } from 'zod';
import type { Labels, MetricSample } from '../model/index.ts';
import { parseDuration, DURATION_PATTERN, ruleTemplates, type Rule } from '../rules/index.ts';
import { alertLabels } from '../evaluate/index.ts';
import { InMemoryEvaluator } from '../replay/index.ts';

/** The test file could not be understood. */
export class RuleTestSpecError extends Error {
  override name = 'RuleTestSpecError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const duration = z.union([z.string().regex(new RegExp(DURATION_PATTERN)), z.literal(0)], { error: 'expected a duration like 1m' });
const labelMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

/** promtool's test file schema (the parts Klaxon runs). */
export const ruleTestFileSchema = z.object({
  rule_files: z.array(z.string()).min(1),
  evaluation_interval: duration.optional(),
  fuzzy_compare: z.boolean().optional(),
  group_eval_order: z.array(z.string()).optional(),
  tests: z.array(
    z.object({
      name: z.string().optional(),
      interval: duration.optional(),
      start_timestamp: z.union([z.number(), z.string()]).optional(),
      external_labels: labelMap.optional(),
      external_url: z.string().optional(),
      input_series: z.array(z.object({ series: z.string(), values: z.union([z.string(), z.number()]).transform(String) })).default([]),
      alert_rule_test: z
        .array(
          z.object({
            eval_time: duration,
            alertname: z.string(),
            exp_alerts: z.array(z.object({ exp_labels: labelMap.optional(), exp_annotations: labelMap.optional() })).nullish(),
          }),
        )
        .default([]),
      promql_expr_test: z.array(z.unknown()).optional(),
    }),
  ),
});

/** A parsed test file. */
export type RuleTestFile = z.output<typeof ruleTestFileSchema>;

/** Validates parsed YAML as a test file. Throws {@link RuleTestSpecError}. */
export function parseRuleTestFile(data: unknown, source: string): RuleTestFile {
  const r = ruleTestFileSchema.safeParse(data);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${source}: ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '')}: ${i.message}`).join('\n');
    throw new RuleTestSpecError(msg);
  }
  return r.data;
}

/** One expanded input value: a number, a missing sample (`_`) or a staleness marker. */
export type SeriesValue = number | 'missing' | 'stale';

const ABS = '(?:(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|Inf|inf|NaN)';
const NUM = `[-+]?${ABS}`;
const NUM_RE = new RegExp(`^${NUM}$`);
const SERIES_RE = new RegExp(`^(${NUM})([+-])(${ABS})x(\\d+)$`);
const REPEAT_RE = new RegExp(`^(${NUM})x(\\d+)$`);

function num(s: string): number {
  const t = s.replace(/^\+/, '');
  if (/^-?inf$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  return Number(t);
}

/** Expands promtool's series notation: `0+10x5`, `1-2x3`, `5x2`, `_`, `_x3`, `stale`. Throws {@link RuleTestSpecError}. */
export function expandSeriesValues(text: string): SeriesValue[] {
  const out: SeriesValue[] = [];
  for (const tok of text.trim().split(/\s+/).filter(Boolean)) {
    if (tok === '_') out.push('missing');
    else if (tok === 'stale') out.push('stale');
    else if (/^_x\d+$/.test(tok)) for (let i = 0; i < Number(tok.slice(2)); i++) out.push('missing');
    else if (NUM_RE.test(tok)) out.push(num(tok));
    else {
      const m = SERIES_RE.exec(tok);
      if (m) {
        const a = num(m[1]!);
        const b = num(m[3]!) * (m[2] === '-' ? -1 : 1);
        const n = Number(m[4]);
        for (let i = 0; i <= n; i++) out.push(a + i * b);
        continue;
      }
      const r = REPEAT_RE.exec(tok);
      if (r) {
        for (let i = 0; i <= Number(r[2]); i++) out.push(num(r[1]!));
        continue;
      }
      throw new RuleTestSpecError(`invalid series value ${JSON.stringify(tok)}: expected a number, a+bxn, a-bxn, axn, _, _xn or stale`);
    }
  }
  return out;
}

const PAIR_RE = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

/** Parses `metric{a="1", b="2"}`. Throws {@link RuleTestSpecError}. */
export function parseSeriesSelector(text: string): { metric: string; labels: Labels } {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:.-]*)\s*(?:\{(.*)\})?\s*$/s.exec(text);
  if (!m) throw new RuleTestSpecError(`invalid series ${JSON.stringify(text)}: expected metric{label="value", ...}`);
  const labels: Record<string, string> = {};
  const body = (m[2] ?? '').trim();
  PAIR_RE.lastIndex = 0;
  while (PAIR_RE.lastIndex < body.length) {
    const start = PAIR_RE.lastIndex;
    const p = PAIR_RE.exec(body);
    if (!p || PAIR_RE.lastIndex === start) throw new RuleTestSpecError(`invalid series ${JSON.stringify(text)}: expected label="value" pairs`);
    const name = p[1]!;
    if (name === '__name__') throw new RuleTestSpecError(`invalid series ${JSON.stringify(text)}: write the metric name before the braces`);
    labels[name] = JSON.parse(`"${p[2]!}"`) as string;
  }
  return { metric: m[1]!, labels };
}

function startMs(v: number | string | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v * 1000;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new RuleTestSpecError(`invalid start_timestamp ${JSON.stringify(v)}: expected unix seconds or RFC 3339`);
  return ms;
}

/** One failed expectation. */
export interface RuleTestFailure {
  readonly test: string;
  readonly alertname: string;
  readonly evalTime: string;
  /** Readable explanation with the differences (`- expected` / `+ got`). */
  readonly message: string;
}

/** Outcome of a test file. */
export interface RuleTestResult {
  readonly tests: number;
  readonly cases: number;
  readonly failures: readonly RuleTestFailure[];
}

interface AlertView {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

function canonical(a: AlertView): string {
  const sortObj = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return JSON.stringify({ labels: sortObj(a.labels), annotations: sortObj(a.annotations) });
}

function describeAlert(a: AlertView): string {
  const l = Object.entries(a.labels).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  const an = Object.entries(a.annotations).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  return `labels {${l}}${an ? ` annotations {${an}}` : ''}`;
}

/** Runs every test of a file against the rules. Throws {@link RuleTestSpecError} for malformed series. */
export async function runRuleTests(spec: RuleTestFile, rules: readonly Rule[]): Promise<RuleTestResult> {
  const failures: RuleTestFailure[] = [];
  let cases = 0;
  const evalInterval = spec.evaluation_interval === undefined ? 60_000 : parseDuration(spec.evaluation_interval);
  for (const [ti, test] of spec.tests.entries()) {
    const testName = test.name ?? `tests[${ti}]`;
    const interval = test.interval === undefined ? evalInterval : parseDuration(test.interval);
    const start = startMs(test.start_timestamp);
    const samples: MetricSample[] = [];
    for (const s of test.input_series) {
      const { metric, labels } = parseSeriesSelector(s.series);
      expandSeriesValues(s.values).forEach((v, i) => {
        if (typeof v === 'number') samples.push({ name: metric, value: v, labels, timestampMs: start + i * interval });
      });
    }
    samples.sort((a, b) => a.timestampMs - b.timestampMs);
    if (test.promql_expr_test && test.promql_expr_test.length) {
      failures.push({ test: testName, alertname: '-', evalTime: '-', message: 'promql_expr_test is not supported: Klaxon rules are not PromQL (use alert_rule_test)' });
    }
    for (const c of test.alert_rule_test) {
      cases++;
      const evalMs = start + parseDuration(c.eval_time);
      const selected = rules.filter((r) => r.id === c.alertname || r.name === c.alertname);
      if (selected.length === 0) {
        failures.push({ test: testName, alertname: c.alertname, evalTime: String(c.eval_time), message: `no rule has id or name ${JSON.stringify(c.alertname)}` });
        continue;
      }
      const ev = new InMemoryEvaluator(selected);
      // The clock starts at the test's start: expected absence series count silence from there.
      await ev.advanceTo(start);
      await ev.ingest(samples.filter((s) => s.timestampMs <= evalMs));
      // The state at evalMs: its samples, then every time-based change at an instant up to evalMs
      // (the clock applies the instants before the time it is advanced to).
      await ev.advanceTo(evalMs + 1);
      const explicitAlertname = (c.exp_alerts ?? []).some((e) => e.exp_labels && 'alertname' in e.exp_labels);
      const got: AlertView[] = ev.firing().map(({ rule, labels, state }) => {
        const al: Record<string, string> = { ...alertLabels(rule, labels) };
        if (!explicitAlertname) delete al.alertname;
        const value = state.value === null || state.value === undefined ? NaN : state.value;
        const annotations: Record<string, string> = {};
        for (const [k, t] of ruleTemplates(rule).annotations) annotations[k] = t.render({ value, labels: alertLabels(rule, labels) });
        return { labels: al, annotations };
      });
      const exp: AlertView[] = (c.exp_alerts ?? []).map((e) => ({ labels: { ...(e.exp_labels ?? {}) }, annotations: { ...(e.exp_annotations ?? {}) } }));
      const gotKeys = got.map(canonical).sort();
      const expKeys = exp.map(canonical).sort();
      if (JSON.stringify(gotKeys) === JSON.stringify(expKeys)) continue;
      const missing = exp.filter((e) => !gotKeys.includes(canonical(e)));
      const extra = got.filter((g) => !expKeys.includes(canonical(g)));
      const lines = [
        `alertname ${c.alertname}, time ${c.eval_time}: expected ${exp.length} firing alert(s), got ${got.length}`,
        ...missing.map((e) => `  - expected: ${describeAlert(e)}`),
        ...extra.map((g) => `  + got:      ${describeAlert(g)}`),
      ];
      failures.push({ test: testName, alertname: c.alertname, evalTime: String(c.eval_time), message: lines.join('\n') });
    }
  }
  return { tests: spec.tests.length, cases, failures };
}
