/**
 * Rules: parse and validate (zod plus the checks a schema cannot express), normalise into
 * {@link Rule}, and index rules by metric name for the hot path ({@link RuleIndex}).
 *
 * Every problem is reported as `{ source, ruleId, path, message }` so `klaxon rules validate` can
 * print `FILE: rule <id>: <path>: <message>` and a rule stored in DynamoDB names its item.
 */
import { formatPath } from '../model/field-path.ts';
import { parseDocument } from 'yaml';
import { SEVERITIES, type Labels, type MetricSample, type NotificationPolicy, type Severity } from '../model/index.ts';
import { isSeverity, SEVERITY_LABEL } from '../model/severity.ts';
import { matchesAll, parseMatcher, MatcherSyntaxError, type Matcher } from '../matchers/index.ts';
import { parseDuration, formatDuration, DurationSyntaxError } from './duration.ts';
import { compileTemplate, TemplateSyntaxError, type CompiledTemplate } from './template.ts';
import { ruleInputSchema, CONDITION_PATTERN, type AggregateFn, type RuleInput } from './schema.ts';
import { normaliseRemediation, type RemediationSpec } from '../remediate/spec.ts';

export { rulesFileSchema, ruleInputSchema, AGGREGATE_FNS, type AggregateFn, type RuleInput } from './schema.ts';
export { parseDuration, formatDuration, DurationSyntaxError, DURATION_PATTERN } from './duration.ts';
export { compileTemplate, TemplateSyntaxError, humanize, humanizeDuration, formatValue, type CompiledTemplate, type TemplateContext } from './template.ts';

/** Rule kinds: how a rule turns samples into the value its condition tests. */
export const RULE_KINDS = ['threshold', 'aggregate', 'anomaly', 'absence'] as const;
/** One of {@link RULE_KINDS}. */
export type RuleKind = (typeof RULE_KINDS)[number];

/** Readable text of each rule kind. */
export const RULE_KIND_TEXT: Record<RuleKind, string> = {
  threshold: 'each sample compared with a threshold',
  aggregate: 'an aggregation over a sliding window compared with a threshold',
  anomaly: 'the z-score of each sample against the window before it compared with a threshold',
  absence: 'fires when a series has sent nothing for `for`',
};

/** Comparison operators of conditions. */
export const COMPARISON_OPS = ['>', '>=', '<', '<=', '==', '!='] as const;
/** One of {@link COMPARISON_OPS}. */
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

/** A parsed condition such as `> 80`. */
export interface Comparison {
  readonly op: ComparisonOp;
  readonly threshold: number;
  /** Normalised text, `> 80`. */
  readonly text: string;
}

/** A validated, normalised rule. Plain data (JSON-serialisable apart from the compiled matchers' regexes). */
export interface Rule {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  /** Where the rule came from (file name, `ssm:/path`, `dynamodb:<table>/<id>`). */
  readonly source: string;
  readonly metric: string;
  readonly matchers: readonly Matcher[];
  readonly kind: RuleKind;
  /** The condition that makes the series active (absent for absence rules). */
  readonly condition?: Comparison;
  /** Hysteresis: when set, a firing alert resolves only once this is true. */
  readonly clearCondition?: Comparison;
  readonly aggregate?: { readonly fn: AggregateFn; readonly windowMs: number; readonly q?: number };
  readonly anomaly?: { readonly windowMs: number; readonly minSamples: number };
  readonly absent?: { readonly expected: readonly Labels[] };
  /** Window of the samples kept in series state (0 when the rule needs none). */
  readonly windowMs: number;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  /** Most series this rule may hold; undefined = the deployment default. */
  readonly seriesLimit?: number;
  readonly severity: Severity;
  /** Rule labels (templates over `$labels`), merged into alert labels. */
  readonly labels: Labels;
  /** Annotation templates. */
  readonly annotations: Labels;
  readonly runbookUrl?: string;
  readonly dashboardUrl?: string;
  readonly policy?: NotificationPolicy;
  /** Auto-remediation of the rule's alerts (docs/remediation.md), carried on its transitions. */
  readonly remediation?: RemediationSpec;
  /** Human text of the condition, e.g. `avg_over_time(cpu_usage_percent[5m]) > 80`. */
  readonly conditionText: string;
}

/** One validation problem. */
export interface RuleIssue {
  readonly source: string;
  readonly ruleId?: string;
  /** Field path, e.g. `rules[2].aggregate.window` (file) or `aggregate.window` (single rule). */
  readonly path: string;
  readonly message: string;
}

/** Rules failed validation; {@link RulesValidationError.issues} lists every problem found. */
export class RulesValidationError extends Error {
  override name = 'RulesValidationError';
  readonly issues: readonly RuleIssue[];
  constructor(issues: readonly RuleIssue[], options?: { cause?: unknown }) {
    super(issues.map(formatIssue).join('\n'), options);
    this.issues = issues;
  }
}

/** `FILE: rule <id>: <path>: <message>` (rule and path omitted when unknown). */
export function formatIssue(i: RuleIssue): string {
  return [i.source, i.ruleId !== undefined ? `rule ${i.ruleId}` : undefined, i.path || undefined, i.message].filter((x) => x !== undefined).join(': ');
}


const CONDITION_RE = new RegExp(CONDITION_PATTERN);

function parseComparison(text: string): Comparison {
  const m = CONDITION_RE.exec(text)!;
  const op = m[1] as ComparisonOp;
  const threshold = Number(m[2]);
  return { op, threshold, text: `${op} ${threshold}` };
}

/** Applies a comparison to a value (NaN compares false, as in PromQL, except `!=`). */
export function compare(c: Comparison, v: number): boolean {
  switch (c.op) {
    case '>':
      return v > c.threshold;
    case '>=':
      return v >= c.threshold;
    case '<':
      return v < c.threshold;
    case '<=':
      return v <= c.threshold;
    case '==':
      return v === c.threshold;
    case '!=':
      return v !== c.threshold;
  }
}

/** True if some value satisfies both comparisons (probed at and around both thresholds). */
function overlaps(a: Comparison, b: Comparison): boolean {
  const pts = new Set<number>([-Number.MAX_VALUE, Number.MAX_VALUE, (a.threshold + b.threshold) / 2]);
  for (const t of [a.threshold, b.threshold]) {
    const eps = Math.max(Math.abs(t) * 1e-12, 1e-12);
    pts.add(t).add(t - eps).add(t + eps);
  }
  for (const p of pts) if (compare(a, p) && compare(b, p)) return true;
  return false;
}

const RESERVED_LABELS = new Set(['alertname', 'alertstate']);

function conditionText(r: RuleInput, cond: Comparison | undefined, windowText: string): string {
  const sel = `${r.metric}${r.matchers && r.matchers.length ? `{${r.matchers.join(', ')}}` : ''}`;
  if (r.absent) return `absent_over_time(${sel}[${r.for ?? '0'}])`;
  let expr = sel;
  if (r.aggregate) {
    const fn = r.aggregate.fn;
    if (fn === 'quantile') expr = `quantile_over_time(${r.aggregate.q ?? '?'}, ${sel}[${windowText}])`;
    else if (fn === 'rate' || fn === 'increase' || fn === 'delta' || fn === 'deriv') expr = `${fn}(${sel}[${windowText}])`;
    else expr = `${fn}_over_time(${sel}[${windowText}])`;
  } else if (r.anomaly) {
    expr = `zscore(${sel}[${windowText}])`;
  }
  return cond ? `${expr} ${cond.text}` : expr;
}

type Push = (path: string, message: string) => void;

/**
 * A rule's severity (docs/design.md, "Severity is a label"): its `severity` field, which every
 * alert of the rule carries as its `severity` label. A rule may also write `labels.severity` as
 * Prometheus rule authors do; it must then be the same literal (not a template: the severity picks
 * channels and throttling, so it is known when the rule is loaded, not per series), or the rule is
 * refused naming the field. Such a rule keeps the label in its alert labels (and its fingerprint),
 * as before; dispatch adds it to every other alert, so fingerprints do not change.
 */
function ruleSeverity(r: RuleInput, fail: Push): Severity | undefined {
  const fromLabel = r.labels?.[SEVERITY_LABEL];
  if (fromLabel === undefined) return r.severity;
  if (!isSeverity(fromLabel)) {
    fail(`labels.${SEVERITY_LABEL}`, `must be the rule's severity, one of ${SEVERITIES.join(', ')} (a literal, not a template), got ${JSON.stringify(fromLabel)}`);
    return undefined;
  }
  if (fromLabel !== r.severity) {
    fail(`labels.${SEVERITY_LABEL}`, `${JSON.stringify(fromLabel)} conflicts with severity: ${r.severity} (the label repeats the rule's severity: make them equal, or drop the label)`);
    return undefined;
  }
  return r.severity;
}

/** Checks what the schema cannot and builds the {@link Rule}; reports problems through `push`. */
function normalise(r: RuleInput, source: string, push: Push): Rule | undefined {
  let ok = true;
  const fail: Push = (p, m) => {
    ok = false;
    push(p, m);
  };
  // The schema admits only duration-shaped text, but one can still be too large to be a safe
  // number of milliseconds: report it on its field instead of throwing out of validation.
  const duration = (path: string, text: string | number): number => {
    try {
      return parseDuration(text);
    } catch (e) {
      if (!(e instanceof DurationSyntaxError)) throw e;
      fail(path, e.message);
      return Number.NaN; // NaN fails no later `<= 0` check: one problem, reported once
    }
  };
  const matchers: Matcher[] = [];
  (r.matchers ?? []).forEach((text, i) => {
    try {
      const m = parseMatcher(text);
      if (m.name === '__name__') fail(`matchers[${i}]`, 'match the metric name with `metric`, not a __name__ matcher');
      else matchers.push(m);
    } catch (e) {
      if (e instanceof MatcherSyntaxError) fail(`matchers[${i}]`, e.message);
      else throw e;
    }
  });
  const kinds = (['aggregate', 'anomaly', 'absent'] as const).filter((k) => r[k] !== undefined);
  if (kinds.length > 1) fail(kinds[1]!, `a rule has at most one of aggregate, anomaly, absent (found ${kinds.join(', ')})`);
  const kind: RuleKind = r.absent ? 'absence' : r.anomaly ? 'anomaly' : r.aggregate ? 'aggregate' : 'threshold';
  const forMs = r.for === undefined ? 0 : duration('for', r.for);
  const keepFiringForMs = r.keepFiringFor === undefined ? 0 : duration('keepFiringFor', r.keepFiringFor);
  if (kind === 'absence') {
    if (r.condition !== undefined) fail('condition', 'absence rules take no condition (they fire when nothing arrives for `for`)');
    if (r.clearCondition !== undefined) fail('clearCondition', 'absence rules take no clearCondition');
    if (keepFiringForMs > 0) fail('keepFiringFor', 'absence rules resolve when a sample arrives; keepFiringFor does not apply');
    if (forMs <= 0) fail('for', 'absence rules need a positive `for` (how long silence is tolerated)');
  } else if (r.condition === undefined) {
    fail('condition', "required: a comparison such as '> 80'");
  }
  const cond = r.condition !== undefined ? parseComparison(r.condition) : undefined;
  const clear = r.clearCondition !== undefined ? parseComparison(r.clearCondition) : undefined;
  if (cond && clear && overlaps(cond, clear)) {
    fail('clearCondition', `overlaps condition '${cond.text}': some value satisfies both, so the alert would flap (e.g. condition '> 80' with clearCondition '< 70')`);
  }
  let windowMs = 0;
  let windowText = '';
  if (r.aggregate) {
    windowMs = duration('aggregate.window', r.aggregate.window);
    windowText = String(r.aggregate.window);
    if (windowMs <= 0) fail('aggregate.window', 'must be positive');
    if (r.aggregate.fn === 'quantile' && r.aggregate.q === undefined) fail('aggregate.q', 'required for fn: quantile (0..1)');
    if (r.aggregate.fn !== 'quantile' && r.aggregate.q !== undefined) fail('aggregate.q', 'only for fn: quantile');
  }
  if (r.anomaly) {
    windowMs = duration('anomaly.window', r.anomaly.window);
    windowText = String(r.anomaly.window);
    if (windowMs <= 0) fail('anomaly.window', 'must be positive');
  }
  const severity = ruleSeverity(r, fail);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.labels ?? {})) {
    if (RESERVED_LABELS.has(k) || k.startsWith('__')) {
      fail(`labels.${k}`, `label name ${k} is reserved`);
      continue;
    }
    try {
      if (compileTemplate(v).usesValue) fail(`labels.${k}`, 'templating $value into a label is not allowed: it changes the alert identity at every sample (put it in an annotation)');
    } catch (e) {
      if (e instanceof TemplateSyntaxError) fail(`labels.${k}`, e.message);
      else throw e;
    }
    labels[k] = v;
  }
  for (const [k, v] of Object.entries(r.annotations ?? {})) {
    try {
      compileTemplate(v);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) fail(`annotations.${k}`, e.message);
      else throw e;
    }
  }
  (r.absent?.expected ?? []).forEach((set, i) => {
    const ls = Object.fromEntries(Object.entries(set));
    if (!matchesAll(matchers, ls)) fail(`absent.expected[${i}]`, 'this series does not match the rule’s matchers, so its samples would never reach the rule');
  });
  const throttleMs: Partial<Record<Severity, number>> = {};
  for (const s of SEVERITIES) {
    const d = r.throttle?.[s];
    if (d !== undefined) throttleMs[s] = duration(`throttle.${s}`, d);
  }
  // `flapping` is the name; `escalation` its old one, still read (escalation policies are a routes matter now).
  if (r.flapping && r.escalation) fail('escalation', 'give `flapping` only (`escalation` is its old name)');
  const flapping = r.flapping ?? r.escalation;
  const flappingWindowMs = flapping ? duration(r.flapping ? 'flapping.window' : 'escalation.window', flapping.window) : 0;
  let remediation: RemediationSpec | undefined;
  if (r.remediation) {
    const n = normaliseRemediation(r.remediation, (text) => parseDuration(text));
    for (const [p, m] of n.problems) fail(p, m);
    remediation = n.spec;
  }
  if (!ok || severity === undefined) return undefined;
  let policy: NotificationPolicy | undefined;
  if (r.throttle || flapping) {
    policy = {
      ...(r.throttle ? { throttleMs } : {}),
      ...(flapping ? { escalation: { count: flapping.count, windowMs: flappingWindowMs } } : {}),
    };
  }
  return {
    id: r.id,
    name: r.name ?? r.id,
    ...(r.description !== undefined ? { description: r.description } : {}),
    source,
    metric: r.metric,
    matchers,
    kind,
    ...(cond ? { condition: cond } : {}),
    ...(clear ? { clearCondition: clear } : {}),
    ...(r.aggregate ? { aggregate: { fn: r.aggregate.fn, windowMs, ...(r.aggregate.q !== undefined ? { q: r.aggregate.q } : {}) } } : {}),
    ...(r.anomaly ? { anomaly: { windowMs, minSamples: r.anomaly.minSamples ?? 10 } } : {}),
    ...(r.absent ? { absent: { expected: (r.absent.expected ?? []).map((e) => ({ ...e })) } } : {}),
    windowMs,
    forMs,
    keepFiringForMs,
    ...(r.seriesLimit !== undefined ? { seriesLimit: r.seriesLimit } : {}),
    severity,
    labels,
    annotations: { ...(r.annotations ?? {}) },
    ...(r.runbookUrl !== undefined ? { runbookUrl: r.runbookUrl } : {}),
    ...(r.dashboardUrl !== undefined ? { dashboardUrl: r.dashboardUrl } : {}),
    ...(policy ? { policy } : {}),
    ...(remediation ? { remediation } : {}),
    conditionText: conditionText(r, cond, windowText || formatDuration(windowMs)),
  };
}

function validateOne(value: unknown, source: string, pathPrefix: string, issues: RuleIssue[]): Rule | undefined {
  const parsed = ruleInputSchema.safeParse(value);
  if (!parsed.success) {
    const id = value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : undefined;
    for (const iss of parsed.error.issues) {
      const p = formatPath(iss.path, '');
      issues.push({ source, ...(id !== undefined ? { ruleId: id } : {}), path: pathPrefix ? (p ? `${pathPrefix}${p.startsWith('[') ? '' : '.'}${p}` : pathPrefix) : p, message: iss.message });
    }
    return undefined;
  }
  return normalise(parsed.data, source, (path, message) => issues.push({ source, ruleId: parsed.data.id, path: pathPrefix ? `${pathPrefix}.${path}` : path, message }));
}

/** Validates already-parsed rule-file data (`{ rules: [...] }`). Throws {@link RulesValidationError}. */
export function rulesFromData(data: unknown, source: string): Rule[] {
  const issues: RuleIssue[] = [];
  if (!data || typeof data !== 'object' || Array.isArray(data) || !Array.isArray((data as { rules?: unknown }).rules)) {
    throw new RulesValidationError([{ source, path: 'rules', message: 'expected a document with a `rules:` list' }]);
  }
  const extra = Object.keys(data).filter((k) => k !== 'rules');
  for (const k of extra) issues.push({ source, path: k, message: `unrecognized key "${k}" (a rules file has only \`rules\`)` });
  const rules: Rule[] = [];
  const seen = new Map<string, number>();
  (data as { rules: unknown[] }).rules.forEach((item, i) => {
    const rule = validateOne(item, source, `rules[${i}]`, issues);
    const id = item && typeof item === 'object' ? (item as { id?: unknown }).id : undefined;
    if (typeof id === 'string') {
      const first = seen.get(id);
      if (first !== undefined) issues.push({ source, ruleId: id, path: `rules[${i}].id`, message: `duplicate rule id (first defined at rules[${first}])` });
      else seen.set(id, i);
    }
    if (rule) rules.push(rule);
  });
  if (issues.length) throw new RulesValidationError(issues);
  return rules;
}

/**
 * Most alias expansions a rules or rule-test document may make (the yaml package's `maxAliasCount`,
 * https://eemeli.org/yaml/#tojs-options; its own default is 100 too). Rule files have no need for
 * more; a document that needs more is a resource-exhaustion attempt.
 */
export const YAML_MAX_ALIAS_COUNT = 100;

/** Parses YAML (JSON is YAML too) text into data, or throws {@link RulesValidationError} naming the line. */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new RulesValidationError(
      doc.errors.map((e) => ({ source, path: e.linePos ? `line ${e.linePos[0].line}` : '', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') })),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT });
  } catch (cause) {
    // The yaml package throws a ReferenceError when aliases expand past maxAliasCount (a
    // "billion laughs" document: https://eemeli.org/yaml/#tojs-options); report it as a problem
    // of the file, never as a stack trace.
    const message = cause instanceof ReferenceError && /excessive alias count/i.test(cause.message)
      ? `too many YAML alias expansions (more than ${YAML_MAX_ALIAS_COUNT}): the document expands like a billion-laughs attack`
      : `cannot read the YAML document: ${(cause as Error).message}`;
    throw new RulesValidationError([{ source, path: '', message }], { cause });
  }
}

/** Parses a rules document (YAML or JSON `{ rules: [...] }`). Throws {@link RulesValidationError} listing every issue. */
export function parseRules(text: string, source: string): Rule[] {
  return rulesFromData(parseYamlText(text, source), source);
}

/** Validates one rule object (a DynamoDB item holds one). Throws {@link RulesValidationError}. */
export function parseRule(value: unknown, source: string): Rule {
  const issues: RuleIssue[] = [];
  const rule = validateOne(value, source, '', issues);
  if (!rule || issues.length) throw new RulesValidationError(issues);
  return rule;
}

/** Rules from several sources together; rejects an id defined in two of them. Throws {@link RulesValidationError}. */
export function mergeRuleSets(sets: readonly (readonly Rule[])[]): Rule[] {
  const seen = new Map<string, Rule>();
  const issues: RuleIssue[] = [];
  for (const set of sets) {
    for (const r of set) {
      const first = seen.get(r.id);
      if (first) issues.push({ source: r.source, ruleId: r.id, path: 'id', message: `duplicate rule id (also defined in ${first.source})` });
      else seen.set(r.id, r);
    }
  }
  if (issues.length) throw new RulesValidationError(issues);
  return [...seen.values()];
}

const templateCache = new WeakMap<Rule, { labels: [string, CompiledTemplate][]; annotations: [string, CompiledTemplate][] }>();

/** The rule's compiled label and annotation templates (compiled once per rule object). */
export function ruleTemplates(rule: Rule): { labels: [string, CompiledTemplate][]; annotations: [string, CompiledTemplate][] } {
  let t = templateCache.get(rule);
  if (!t) {
    t = {
      labels: Object.entries(rule.labels).map(([k, v]) => [k, compileTemplate(v)]),
      annotations: Object.entries(rule.annotations).map(([k, v]) => [k, compileTemplate(v)]),
    };
    templateCache.set(rule, t);
  }
  return t;
}

const NO_RULES: readonly Rule[] = Object.freeze([]);

/**
 * Rules indexed by metric name, for the hot path: a sample costs one map lookup plus the
 * precompiled matchers of the rules on its metric.
 */
export class RuleIndex {
  readonly rules: readonly Rule[];
  private readonly byMetric = new Map<string, Rule[]>();

  constructor(rules: readonly Rule[]) {
    this.rules = rules;
    for (const r of rules) {
      const list = this.byMetric.get(r.metric);
      if (list) list.push(r);
      else this.byMetric.set(r.metric, [r]);
    }
  }

  /** Rules of the sample's metric whose matchers accept its labels. */
  rulesFor(sample: MetricSample): readonly Rule[] {
    return this.match(sample.name, sample.labels);
  }

  /** Rules of `metric` whose matchers accept `labels`. */
  match(metric: string, labels: Labels): readonly Rule[] {
    const list = this.byMetric.get(metric);
    if (!list) return NO_RULES;
    let out: Rule[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (matchesAll(r.matchers, labels)) (out ??= []).push(r);
    }
    return out ?? NO_RULES;
  }

  /** True if any rule watches this metric name. */
  hasMetric(metric: string): boolean {
    return this.byMetric.has(metric);
  }
}
