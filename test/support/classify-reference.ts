/**
 * Classification as it was before the literal prefilters and the per-event view (commit eafca89,
 * shared/core/events/classify.ts), verbatim but for its import paths: the oracle the property
 * test in test/unit/classify-equivalence.test.ts holds `classifyEvent` to, decisions and their
 * `matched` texts included.
 */
/**
 * Classification of error events (docs/events.md, "Classification"): ordered rules, the first
 * whose conditions hold decides the event's severity, reason, extra labels and whether it is
 * suppressed; the last rule is a catch-all. PagerDuty Event Orchestration is the model (a rule's
 * conditions are any-of, each an all-of expression; `catch_all` when none holds; a condition that
 * cannot be evaluated is false, never an exception).
 *
 * ```yaml
 * labels: { team: '{{ tags.team }}' }            # optional: every decision's labels, under the rule's own
 * time_intervals:                                # optional, Alertmanager 0.25's syntax (time-intervals/time-interval.ts)
 *   - name: business-hours
 *     time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] }]
 * rules:
 *   - name: payments-final                       # letters, digits, _ . : - (a metric dimension)
 *     when:                                      # all of these hold (a list of such objects: any of them)
 *       type: [TimeoutError, '*Timeout']         # exception type: exact or glob (* ?); a pattern without a dot
 *                                                #   also matches the type's last dotted part
 *       message: 'deadline exceeded|timed out'   # RE2, searched anywhere, case-insensitive;
 *                                                #   { regex: '...', case_sensitive: true } to opt out
 *       source: airflow                          # source, service, task: glob or list of globs
 *       service: 'payments_*'
 *       task: ['load_*', 'export_?']
 *       attempt: final                           # retry (the runner will try again) | final | { min: 3 } (try >= 3)
 *       tags: { tier: '1', owner: '*' }          # each tag present and matching its glob (or list of globs)
 *       time: { active_time_intervals: [business-hours], mute_time_intervals: [] }
 *     then:
 *       severity: critical                       # critical | high | medium | low
 *       reason: payments job failed for good
 *       labels: { team: payments, owner: '{{ tags.owner }}' }   # templates: source service task type tags.<name>
 *       suppress: false                          # true: recorded, never notified
 *   - name: default                              # the last rule: no `when`
 *     then: { severity: high, reason: unclassified failure }
 * ```
 *
 * Every user-supplied pattern runs on the linear-time engine (re2js, as shared/core/matchers):
 * globs are translated to anchored RE2, messages are searched with RE2, so no message from a
 * producer can make a rule cost more than proportional to its length. Pure: the instant time
 * conditions are evaluated at is given.
 */
import { RE2JS } from 're2js';
import { z } from 'zod';
import { formatPath } from '../../shared/core/model/field-path.ts';
import { namedTimeIntervalSchema } from '../../shared/core/dispatch/time-intervals/schema.ts';
import { PermanentError } from '../../shared/core/errors/index.ts';
import { SEVERITIES, type Labels, type Severity } from '../../shared/core/model/index.ts';
import { compileTimeIntervals, intervalContains, type NamedTimeIntervalDocument, type TimeInterval } from '../../shared/core/dispatch/time-intervals/time-interval.ts';
import { compileLabelRegex, MatcherSyntaxError } from '../../shared/core/matchers/index.ts';
import { redactSecrets } from '../../shared/core/deliver/redact.ts';
import type { ErrorEvent } from '../../shared/core/events/types.ts';

/** The longest label value a template may render (longer is cut): labels travel in every notification. */
export const MAX_LABEL_VALUE_LENGTH = 256;
/** The longest excerpt of a matched message kept in a decision's `matched` text. */
export const MAX_MATCH_EXCERPT_LENGTH = 80;
/** The longest excerpt of the error message in a decision's log fields. */
export const MAX_LOGGED_MESSAGE_LENGTH = 200;

/**
 * The classification document is invalid; `message` names the source and every problem with its
 * field path (`rules[2].when.message: invalid regex ...`). Permanent until the document is fixed.
 */
export class ClassificationConfigError extends PermanentError {
  /** One line per problem: `<field path>: <what is wrong>`. */
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`${source}: invalid classification:\n  ${problems.join('\n  ')}`, options);
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------
// The document

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;


const RULE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a glob or a non-empty list of globs' });
const messageSchema = z.union([z.string().min(1), z.strictObject({ regex: z.string().min(1), case_sensitive: z.boolean().optional() })], {
  error: "expected a regex, or { regex: '...', case_sensitive: true }",
});
const attemptSchema = z.union([z.enum(['retry', 'final']), z.strictObject({ min: z.number().int().min(1).max(1000) })], {
  error: 'expected retry, final or { min: N } (N a whole number from 1)',
});

/** The conditions of one `when` object: every one given must hold. */
export const conditionsSchema = z.strictObject({
  type: globs.optional(),
  message: messageSchema.optional(),
  source: globs.optional(),
  service: globs.optional(),
  task: globs.optional(),
  attempt: attemptSchema.optional(),
  tags: z.record(z.string(), globs).optional(), // names checked in compileConditions (zod's record key message is generic)
  time: z
    .strictObject({
      active_time_intervals: z.array(z.string().min(1)).min(1).optional(),
      mute_time_intervals: z.array(z.string().min(1)).min(1).optional(),
    })
    .refine((t) => t.active_time_intervals !== undefined || t.mute_time_intervals !== undefined, 'give active_time_intervals or mute_time_intervals')
    .optional(),
});
/** One `when` object as written. */
export type ConditionsDocument = z.infer<typeof conditionsSchema>;

// Label names are checked in compileLabels: zod reports a bad record key only as "Invalid key in record".
const labelTemplates = z.record(z.string(), z.string().max(MAX_LABEL_VALUE_LENGTH));

/** What a rule decides. */
export const thenSchema = z.strictObject({
  severity: z.enum(SEVERITIES),
  reason: z.string().min(1).max(200),
  labels: labelTemplates.optional(),
  suppress: z.boolean().optional(),
});

/** One rule as written; `when` is checked on its own so that its problems name `when` or `when[i]`. */
export const ruleSchema = z.strictObject({
  name: z.string().regex(RULE_NAME, 'letters, digits, _ . : - only, at most 64'),
  description: z.string().optional(),
  when: z.unknown().optional(),
  then: thenSchema,
});

/** The zod schema of a classification document (also usable to export a JSON Schema). */
export const classificationDocumentSchema = z.strictObject({
  labels: labelTemplates.optional(),
  time_intervals: z.array(namedTimeIntervalSchema).optional(),
  rules: z.array(ruleSchema).min(1, 'at least one rule (the catch-all) is required'),
});
/** A classification document as written. */
export type ClassificationDocument = z.infer<typeof classificationDocumentSchema>;

// ---------------------------------------------------------------------------------------------
// Compiled form

/** One condition compiled: the readable text of why it held, or `undefined` when it did not. */
type Condition = (e: ErrorEvent, nowMs: number) => string | undefined;

/** A label value template: literal text and the event fields it names. */
type Template = readonly (string | { readonly field: string })[];

/** A rule, compiled. */
export interface CompiledRule {
  readonly name: string;
  /** Where it was written (`rules[3]`), for messages. */
  readonly path: string;
  /** Any of these holds (each: all of its conditions); empty: the catch-all. */
  readonly when: readonly (readonly Condition[])[];
  readonly severity: Severity;
  readonly reason: string;
  readonly labels: ReadonlyMap<string, Template>;
  readonly suppress: boolean;
}

/** A classification document, compiled: what {@link classifyEvent} decides with. */
export interface CompiledClassification {
  /** Where it came from (`classification.yaml`, `built-in defaults`). */
  readonly source: string;
  readonly rules: readonly CompiledRule[];
}

// ---------------------------------------------------------------------------------------------
// Patterns

/** A compiled glob or regex: `test` says whether it holds, `text` how it was written. */
interface Pattern {
  readonly text: string;
  test(value: string): boolean;
}

/**
 * A glob as an anchored RE2 regex: `*` any run of characters, `?` one character, everything else
 * itself. Compiled on the linear-time engine like every user pattern; a glob without wildcards is
 * a plain comparison.
 */
export function compileGlob(glob: string): Pattern {
  if (!/[*?]/.test(glob)) return { text: glob, test: (v) => v === glob };
  let re = '';
  for (const c of glob) re += c === '*' ? '.*' : c === '?' ? '.' : RE2JS.quote(c);
  const compiled = compileLabelRegex(re, 'prometheus-3', `glob ${JSON.stringify(glob)}`);
  return { text: glob, test: (v) => compiled.test(v) };
}

function globList(g: string | readonly string[]): Pattern[] {
  return (typeof g === 'string' ? [g] : g).map(compileGlob);
}

const show = (s: string, max = MAX_MATCH_EXCERPT_LENGTH): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** Why a re2js exception was thrown, in words. */
function regexProblem(cause: unknown): string {
  const m = (cause as { message?: unknown }).message;
  return (typeof m === 'string' ? m : String(cause)).replace(/^error parsing regexp: /, '');
}

// ---------------------------------------------------------------------------------------------
// Compilation

const TEMPLATE_FIELDS = ['source', 'service', 'task', 'type'] as const;

/** Parses `{{ field }}` placeholders; unknown fields and unclosed braces are problems. */
function compileTemplate(text: string, path: string, problems: string[]): Template {
  const parts: (string | { field: string })[] = [];
  let rest = text;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) {
      problems.push(`${path}: unclosed {{ in ${JSON.stringify(text)}`);
      return [text];
    }
    if (open > 0) parts.push(rest.slice(0, open));
    const field = rest.slice(open + 2, close).trim();
    const known = (TEMPLATE_FIELDS as readonly string[]).includes(field) || /^tags\.[a-zA-Z_][a-zA-Z0-9_]*$/.test(field);
    if (!known) problems.push(`${path}: unknown template field ${JSON.stringify(field)} (expected one of ${TEMPLATE_FIELDS.join(', ')}, tags.<name>)`);
    parts.push({ field });
    rest = rest.slice(close + 2);
  }
  if (rest !== '') parts.push(rest);
  return parts;
}

function renderTemplate(t: Template, e: ErrorEvent): string {
  let out = '';
  for (const p of t) {
    if (typeof p === 'string') out += p;
    else if (p.field.startsWith('tags.')) out += e.tags[p.field.slice(5)] ?? '';
    else out += p.field === 'type' ? e.error.type : (e[p.field as 'source' | 'service' | 'task'] ?? '');
  }
  return out.length > MAX_LABEL_VALUE_LENGTH ? out.slice(0, MAX_LABEL_VALUE_LENGTH) : out;
}

function compileLabels(labels: Record<string, string> | undefined, path: string, problems: string[]): Map<string, Template> {
  const out = new Map<string, Template>();
  for (const [name, text] of Object.entries(labels ?? {})) {
    if (!LABEL_NAME.test(name)) problems.push(`${path}.${name}: a label name is [a-zA-Z_][a-zA-Z0-9_]*`);
    else if (name === 'severity') problems.push(`${path}.${name}: severity is set by then.severity, not as a label`);
    out.set(name, compileTemplate(text, `${path}.${name}`, problems));
  }
  return out;
}

/** The last dotted part of a qualified type (`botocore.exceptions.ClientError` → `ClientError`). */
function shortType(type: string): string {
  const dot = type.lastIndexOf('.');
  return dot < 0 ? type : type.slice(dot + 1);
}

/** Compiles one `when` object; problems name `path.<field>`. */
function compileConditions(raw: unknown, path: string, intervals: ReadonlyMap<string, TimeInterval>, problems: string[]): Condition[] {
  const parsed = conditionsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${path}${i.path.length ? `.${formatPath(i.path)}` : ''}: ${i.message}`);
    return [];
  }
  const w = parsed.data;
  if (Object.keys(w).length === 0) {
    problems.push(`${path}: give at least one condition (leave out when for the catch-all)`);
    return [];
  }
  const problemsBefore = problems.length;
  const out: Condition[] = [];
  const globs = (field: string, g: string | readonly string[]): Pattern[] => {
    try {
      return globList(g);
    } catch (err) {
      if (!(err instanceof MatcherSyntaxError)) throw err;
      problems.push(`${path}.${field}: ${err.message}`);
      return [];
    }
  };

  if (w.type !== undefined) {
    const ps = globs('type', w.type);
    out.push((e) => {
      const full = e.error.type;
      const short = shortType(full);
      for (const p of ps) {
        if (p.test(full) || (!p.text.includes('.') && short !== full && p.test(short))) return `type ${show(full)} matches ${show(p.text)}`;
      }
      return undefined;
    });
  }
  if (w.message !== undefined) {
    const { regex, case_sensitive: caseSensitive = false } = typeof w.message === 'string' ? { regex: w.message } : w.message;
    try {
      const re = RE2JS.compile(regex, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
      const shown = `/${regex}/${caseSensitive ? '' : 'i'}`;
      out.push((e) => {
        // Unanchored search; exec (linear too) only once the search held, for the excerpt.
        if (!re.test(e.error.message)) return undefined;
        const m = re.exec(e.error.message) as string[] | null;
        return `message matches ${shown.length > MAX_MATCH_EXCERPT_LENGTH ? `${shown.slice(0, MAX_MATCH_EXCERPT_LENGTH)}…` : shown} at ${show(m?.[0] ?? '')}`;
      });
    } catch (cause) {
      // The case flag is spliced in as `(?i)` and would show in the message: report the pattern as written.
      let reported = cause;
      try {
        RE2JS.compile(regex);
      } catch (plain) {
        reported = plain;
      }
      problems.push(`${path}.message: invalid regex ${JSON.stringify(regex)}: ${regexProblem(reported)}`);
    }
  }
  for (const field of ['source', 'service', 'task'] as const) {
    const g = w[field];
    if (g === undefined) continue;
    const ps = globs(field, g);
    out.push((e) => {
      const v = e[field];
      const p = ps.find((q) => q.test(v));
      return p ? `${field} ${show(v)} matches ${show(p.text)}` : undefined;
    });
  }
  if (w.attempt !== undefined) {
    const a = w.attempt;
    const tries = (e: ErrorEvent): string => `try ${e.try ?? 1}${e.maxTries !== undefined ? ` of ${e.maxTries}` : ''}`;
    if (a === 'retry') out.push((e) => (e.final ? undefined : `attempt: will be retried (${tries(e)})`));
    else if (a === 'final') out.push((e) => (e.final ? `attempt: final (${tries(e)})` : undefined));
    // A runner that does not retry reports no try: its only attempt is the first.
    else out.push((e) => ((e.try ?? 1) >= a.min ? `attempt: ${tries(e)} ≥ ${a.min}` : undefined));
  }
  for (const [name, g] of Object.entries(w.tags ?? {})) {
    if (!LABEL_NAME.test(name)) problems.push(`${path}.tags.${name}: a tag name is [a-zA-Z_][a-zA-Z0-9_]*`);
    const ps = globs(`tags.${name}`, g);
    out.push((e) => {
      const v = e.tags[name];
      if (v === undefined) return undefined; // a missing tag never matches, whatever the glob
      const p = ps.find((q) => q.test(v));
      return p ? `tags.${name} ${show(v)} matches ${show(p.text)}` : undefined;
    });
  }
  if (w.time !== undefined) {
    const resolve = (names: readonly string[] | undefined, field: string): TimeInterval[] =>
      (names ?? []).flatMap((n, j) => {
        const t = intervals.get(n);
        if (!t) problems.push(`${path}.time.${field}[${j}]: unknown time interval ${JSON.stringify(n)} (declare it under time_intervals)`);
        return t ? [t] : [];
      });
    const active = resolve(w.time.active_time_intervals, 'active_time_intervals');
    const mute = resolve(w.time.mute_time_intervals, 'mute_time_intervals');
    if (active.length > 0) {
      out.push((_e, nowMs) => {
        const t = active.find((i) => intervalContains(i, nowMs));
        return t ? `time: in ${t.name}` : undefined;
      });
    }
    if (mute.length > 0) {
      out.push((_e, nowMs) => (mute.some((i) => intervalContains(i, nowMs)) ? undefined : `time: outside ${mute.map((i) => i.name).join(', ')}`));
    }
  }
  // `tags: {}` gives no condition: a branch without one would hold for every event.
  if (out.length === 0 && problems.length === problemsBefore) problems.push(`${path}: give at least one condition (leave out when for the catch-all)`);
  return out;
}

/**
 * Validates and compiles a parsed classification document. Throws
 * {@link ClassificationConfigError} naming `source` and every bad field: schema errors, regexes
 * and globs that do not compile (RE2 syntax), unknown time intervals, unknown template fields,
 * duplicate rule names, a catch-all before the end, and a last rule that is not a catch-all.
 */
export function compileClassification(doc: unknown, source: string): CompiledClassification {
  const parsed = classificationDocumentSchema.safeParse(doc ?? {});
  if (!parsed.success) throw new ClassificationConfigError(source, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
  const d = parsed.data;
  const problems: string[] = [];
  const intervals = compileTimeIntervals((d.time_intervals ?? []) as NamedTimeIntervalDocument[], problems);
  const common = compileLabels(d.labels, 'labels', problems);
  const names = new Set<string>();
  const last = d.rules.length - 1;

  const rules = d.rules.map((r, i): CompiledRule => {
    const path = `rules[${i}]`;
    if (names.has(r.name)) problems.push(`${path}.name: duplicate rule name ${JSON.stringify(r.name)}`);
    names.add(r.name);
    let when: Condition[][] = [];
    if (r.when !== undefined && r.when !== null) {
      if (Array.isArray(r.when)) {
        if (r.when.length === 0) problems.push(`${path}.when: an empty list never holds (leave out when for the catch-all)`);
        when = r.when.map((c, j) => compileConditions(c, `${path}.when[${j}]`, intervals, problems));
      } else when = [compileConditions(r.when, `${path}.when`, intervals, problems)];
    } else if (i < last) {
      problems.push(`${path}: a rule without when matches every event, so the rules after it never would: move it to the end, or give it conditions`);
    }
    if (i === last && when.length > 0) {
      problems.push(`${path}: the last rule must be a catch-all (no when), so that every event is classified: add one, e.g. { name: default, then: { severity: high, reason: unclassified failure } }`);
    }
    const own = compileLabels(r.then.labels, `${path}.then.labels`, problems);
    return { name: r.name, path, when, severity: r.then.severity, reason: r.then.reason, labels: new Map([...common, ...own]), suppress: r.then.suppress ?? false };
  });
  if (problems.length > 0) throw new ClassificationConfigError(source, problems);
  return { source, rules };
}

// ---------------------------------------------------------------------------------------------
// The decision

/** How a decision was reached. */
export const CLASSIFY_OUTCOMES = ['matched', 'catch-all'] as const;
/** One of {@link CLASSIFY_OUTCOMES}. */
export type ClassifyOutcome = (typeof CLASSIFY_OUTCOMES)[number];

/** Readable text of each {@link ClassifyOutcome}. */
export const CLASSIFY_OUTCOME_TEXT: Readonly<Record<ClassifyOutcome, string>> = {
  matched: 'the first rule whose conditions held decided',
  'catch-all': 'no rule with conditions held: the catch-all decided',
};

/** What classification decided for one error event. */
export interface ClassifyDecision {
  /** The rule that decided (its name). */
  readonly rule: string;
  readonly outcome: ClassifyOutcome;
  readonly severity: Severity;
  /** The rule's reason, as written. */
  readonly reason: string;
  /** Extra labels, rendered; a label whose value renders empty is left out. */
  readonly labels: Labels;
  /** Recorded, never notified. */
  readonly suppress: boolean;
  /** Which conditions held, readable (`type "ClientError" matches "ClientError"`). */
  readonly matched: readonly string[];
  /** Whether the runner will not retry (the event's `final`). */
  readonly final: boolean;
}

/** The conditions of the first branch of `when` that holds entirely, or `undefined`. */
function holds(rule: CompiledRule, e: ErrorEvent, nowMs: number): string[] | undefined {
  for (const branch of rule.when) {
    const texts: string[] = [];
    for (const c of branch) {
      const t = c(e, nowMs);
      if (t === undefined) break;
      texts.push(t);
    }
    if (texts.length === branch.length) return texts;
  }
  return undefined;
}

/**
 * Classifies an error event: the first rule whose conditions hold decides. `nowMs` is the instant
 * time conditions are evaluated at; the evaluator passes the event's own time (bounded by decode),
 * so a replay classifies an event as it was classified the first time. Pure.
 */
export function classifyEvent(e: ErrorEvent, rules: CompiledClassification, nowMs: number): ClassifyDecision {
  for (const rule of rules.rules) {
    const catchAll = rule.when.length === 0;
    const matched = catchAll ? ['no earlier rule held (catch-all)'] : holds(rule, e, nowMs);
    if (matched === undefined) continue;
    const labels: Record<string, string> = {};
    for (const [name, t] of rule.labels) {
      const v = renderTemplate(t, e);
      if (v !== '') labels[name] = v;
    }
    return { rule: rule.name, outcome: catchAll ? 'catch-all' : 'matched', severity: rule.severity, reason: rule.reason, labels, suppress: rule.suppress, matched, final: e.final };
  }
  // compileClassification guarantees a catch-all last: reaching here is a bug.
  throw new Error(`${rules.source}: no catch-all rule`);
}

// ---------------------------------------------------------------------------------------------
// Observability

/** The structured log fields of a decision: which rule, why, and the event it was about. */
export interface ClassificationLogFields {
  readonly message: 'error event classified';
  readonly rule: string;
  readonly outcome: ClassifyOutcome;
  readonly severity: Severity;
  readonly reason: string;
  readonly matched: readonly string[];
  readonly suppress: boolean;
  readonly final: boolean;
  readonly labels: Labels;
  readonly source: string;
  readonly service: string;
  readonly task: string;
  readonly run?: string;
  readonly try?: number;
  readonly maxTries?: number;
  readonly errorType: string;
  /** The error message's beginning, secrets redacted: enough to see why a catch-all caught it. */
  readonly errorMessage: string;
  readonly timestamp: string;
}

/**
 * The log line of a decision (written by the evaluator's Powertools Logger): every decision is
 * logged with its rule and the conditions that held, so classification can be analysed and tuned.
 * The error message is cut to {@link MAX_LOGGED_MESSAGE_LENGTH} and redacted; the stack is left out.
 */
export function classificationLog(decision: ClassifyDecision, e: ErrorEvent): ClassificationLogFields {
  const msg = e.error.message.length > MAX_LOGGED_MESSAGE_LENGTH ? `${e.error.message.slice(0, MAX_LOGGED_MESSAGE_LENGTH)}…` : e.error.message;
  return {
    message: 'error event classified',
    rule: decision.rule,
    outcome: decision.outcome,
    severity: decision.severity,
    reason: decision.reason,
    matched: decision.matched,
    suppress: decision.suppress,
    final: decision.final,
    labels: decision.labels,
    source: e.source,
    service: e.service,
    task: e.task,
    ...(e.run !== undefined ? { run: e.run } : {}),
    ...(e.try !== undefined ? { try: e.try } : {}),
    ...(e.maxTries !== undefined ? { maxTries: e.maxTries } : {}),
    errorType: e.error.type,
    errorMessage: redactSecrets(msg),
    timestamp: new Date(e.timestampMs).toISOString(),
  };
}

/**
 * The metric dimensions of a decision (EMF, `ErrorEventsClassified` count): severity and rule.
 * Both are bounded: severities are four, rule names come from the document, never from an event.
 */
export function metricDimensions(decision: ClassifyDecision): { readonly severity: Severity; readonly rule: string } {
  return { severity: decision.severity, rule: decision.rule };
}
