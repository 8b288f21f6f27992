/**
 * `klaxon classify`: error events classified and fingerprinted offline, with the code the pipeline
 * runs (shared/core/events: `parseJobEvent`, `classifyEvent`, `fingerprintOf`; docs/events.md).
 *
 * - `klaxon classify [--rules FILE] [--fingerprints FILE] --events FILE.jsonl [--json]`: one line
 *   per event, in input order: `{"fingerprint","normalized","severity","rule","reasons","final"}`
 *   (a success event: `{"kind":"success","resolves":"source/service/task"}`; an invalid line: its
 *   reason, and exit 1 at the end). Without `--rules`, the built-in classification.
 * - `klaxon classify test FILE...`: unit tests of classification rules (below), like `rules test`.
 * - `klaxon classify --print-defaults`: the built-in classification, as YAML.
 *
 * A test file:
 * ```yaml
 * rules: classification.yaml        # relative to the test file; absent: the built-in set
 * fingerprints: fingerprints.yaml   # optional
 * tests:
 *   - name: S3 access denied pages the data team
 *     event: { kind: error, source: airflow, service: etl, task: load, error: { type: ClientError, message: "..." }, timestamp: 2026-11-28T02:04:10Z }
 *     expect: { severity: high, rule: credentials, final: true, labels: { team: data } }
 *   - name: the same failure with other ids is one alert
 *     events: [ {...}, {...} ]
 *     same_fingerprint: true        # false: every two events differ
 * ```
 */
import { alignedTable } from './table.ts';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EXIT, type CliIo } from './index.ts';
import { ClassificationConfigError, classifyEvent, compileClassification, type CompiledClassification } from '../shared/core/events/classify.ts';
import { DEFAULT_CLASSIFICATION, DEFAULT_CLASSIFICATION_YAML } from '../shared/core/events/default-classification.ts';
import { parseJobEvent } from '../shared/core/events/event.ts';
import { fingerprintOf, parseFingerprintRules, type FingerprintRule } from '../shared/core/events/fingerprint.ts';
import { compileEventsConfig, EventsConfigError } from '../shared/core/events/config.ts';
import type { ErrorEvent, JobEvent } from '../shared/core/events/types.ts';

const USAGE = `Usage:
  klaxon classify [--rules FILE] [--fingerprints FILE] --events FILE.jsonl [--json]
  klaxon classify test FILE...
  klaxon classify --print-defaults

Classifies error events as the pipeline does: the first classification rule that matches decides
the severity (without --rules, the built-in set: docs/events.md), and the fingerprint says which
events are one alert.
  --rules FILE          classification rules (YAML), or the pipeline's events configuration (with its fingerprints)
  --fingerprints FILE   fingerprint rules (YAML: {fingerprints: [...]})
  --events FILE         JSON Lines of error and success events (the wire format, docs/events.md)
  --json                one JSON line per event: {"fingerprint","normalized","severity","rule","reasons","final"}
  test FILE...          run classification unit tests (see cli/classify.ts): exit 1 when one fails
  --print-defaults      print the built-in classification rules
`;

/** A problem with the input, naming the file and where: exit 1. */
class InputError extends Error {}

/** What `klaxon classify` says about one error event. */
export interface ClassifiedError {
  readonly fingerprint: string;
  readonly normalized: string;
  readonly severity: string;
  readonly rule: string;
  readonly reasons: readonly string[];
  readonly final: boolean;
  readonly suppress?: true;
  readonly labels?: Readonly<Record<string, string>>;
}

/** What `klaxon classify` says about one line. */
export type ClassifiedLine = ClassifiedError | { readonly kind: 'success'; readonly resolves: string } | { readonly error: string };

/** Classifies and fingerprints one validated event. */
export function classifyLine(e: JobEvent, rules: CompiledClassification, fingerprints: readonly FingerprintRule[]): ClassifiedLine {
  if (e.kind === 'success') return { kind: 'success', resolves: `${e.source}/${e.service}/${e.task}` };
  return classifyError(e, rules, fingerprints);
}

function classifyError(e: ErrorEvent, rules: CompiledClassification, fingerprints: readonly FingerprintRule[]): ClassifiedError {
  // Time conditions are decided at the event's own time, as the evaluator does (a replay agrees).
  const d = classifyEvent(e, rules, e.timestampMs);
  const f = fingerprintOf(e, fingerprints);
  return {
    fingerprint: f.fingerprint,
    normalized: f.normalized,
    severity: d.severity,
    rule: d.rule,
    reasons: [d.reason, ...d.matched],
    final: d.final,
    ...(d.suppress ? { suppress: true as const } : {}),
    ...(Object.keys(d.labels).length > 0 ? { labels: d.labels } : {}),
  };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read: ${(err as Error).message}`);
  }
}

/** A YAML file's document; a file that cannot be read or parsed is an input error naming it. */
async function readYaml(file: string): Promise<unknown> {
  const text = await readText(file);
  try {
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new InputError(`${file}: not YAML: ${(err as Error).message}`);
  }
}

/**
 * The classification of `--rules`: a classification document, or the pipeline's whole events
 * configuration (docs/events.md, "Configuration": with `fingerprints` and `quiet_period`), whose
 * fingerprint rules then apply unless `--fingerprints` gives others.
 */
async function loadRules(file: string | undefined): Promise<{ rules: CompiledClassification; fingerprints?: readonly FingerprintRule[] }> {
  if (file === undefined) return { rules: DEFAULT_CLASSIFICATION };
  const doc = await readYaml(file);
  if (doc !== null && typeof doc === 'object' && ('fingerprints' in doc || 'quiet_period' in doc)) {
    const c = compileEventsConfig(doc, file);
    return { rules: c.classification, fingerprints: c.fingerprints };
  }
  return { rules: compileClassification(doc, file) };
}

async function loadFingerprints(file: string | undefined, fromRules: readonly FingerprintRule[] = []): Promise<readonly FingerprintRule[]> {
  if (file === undefined) return fromRules;
  const r = parseFingerprintRules(await readYaml(file));
  if (!r.ok) throw new InputError(`${file}: invalid fingerprint rules:\n  ${r.errors.join('\n  ')}`);
  return r.rules;
}

/** Parses one wire event; the reason names where it was read. */
function eventOf(doc: unknown, at: string): JobEvent {
  const r = parseJobEvent(doc);
  if (!r.ok) throw new InputError(`${at}: ${r.reason}`);
  return r.event;
}

function flags(args: readonly string[], names: readonly string[], io: CliIo): { opts: Record<string, string>; json: boolean } | undefined {
  const opts: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') {
      json = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
    if (!m || !names.includes(m[1]!)) {
      io.stderr.write(`klaxon classify: unexpected argument '${a}'\n\n${USAGE}`);
      return undefined;
    }
    const v = m[2] ?? args[++i];
    if (v === undefined) {
      io.stderr.write(`klaxon classify: --${m[1]} needs a value\n\n${USAGE}`);
      return undefined;
    }
    opts[m[1]!] = v;
  }
  return { opts, json };
}

async function classifyFile(args: readonly string[], io: CliIo): Promise<number> {
  const f = flags(args, ['rules', 'fingerprints', 'events'], io);
  if (!f) return EXIT.usage;
  if (!f.opts.events) {
    io.stderr.write(`klaxon classify: --events is required\n\n${USAGE}`);
    return EXIT.usage;
  }
  const loaded = await loadRules(f.opts.rules);
  const rules = loaded.rules;
  const fingerprints = await loadFingerprints(f.opts.fingerprints, loaded.fingerprints);
  const file = f.opts.events;
  const lines: { line: number; out: ClassifiedLine }[] = [];
  (await readText(file)).split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      lines.push({ line: i + 1, out: { error: `${file}:${i + 1}: not JSON: ${(err as Error).message}` } });
      return;
    }
    try {
      lines.push({ line: i + 1, out: classifyLine(eventOf(doc, `${file}:${i + 1}`), rules, fingerprints) });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      lines.push({ line: i + 1, out: { error: err.message } });
    }
  });
  if (f.json) for (const l of lines) io.stdout.write(`${JSON.stringify(l.out)}\n`);
  else {
    const rows = [
      ['LINE', 'SEVERITY', 'RULE', 'FINAL', 'FINGERPRINT', 'NORMALIZED / WHY'],
      ...lines.map(({ line, out }) =>
        'error' in out
          ? [String(line), '-', '-', '-', '-', `invalid: ${out.error}`]
          : 'kind' in out
            ? [String(line), '-', '-', '-', '-', `success: resolves ${out.resolves}`]
            : [String(line), out.severity, out.rule, String(out.final), out.fingerprint, `${out.normalized}  (${out.reasons.join('; ')})`],
      ),
    ];
    io.stdout.write(alignedTable(rows));
  }
  const bad = lines.filter((l) => 'error' in l.out);
  for (const b of bad) io.stderr.write(`klaxon classify: ${(b.out as { error: string }).error}\n`);
  return bad.length > 0 ? EXIT.failed : EXIT.ok;
}

/** One test of a classification test file. */
interface TestCase {
  readonly name?: unknown;
  readonly event?: unknown;
  readonly events?: unknown;
  readonly expect?: unknown;
  readonly same_fingerprint?: unknown;
}

/** Runs one test file; returns the failures (each naming the file and the test). */
export async function runClassificationTests(file: string): Promise<{ passed: number; failures: string[] }> {
  const doc = ((await readYaml(file)) ?? {}) as { rules?: unknown; fingerprints?: unknown; tests?: unknown };
  const rel = (v: unknown, field: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new InputError(`${file}: ${field}: expected a file path`);
    return resolve(dirname(file), v);
  };
  const loaded = await loadRules(rel(doc.rules, 'rules'));
  const rules = loaded.rules;
  const fingerprints = await loadFingerprints(rel(doc.fingerprints, 'fingerprints'), loaded.fingerprints);
  if (!Array.isArray(doc.tests) || doc.tests.length === 0) throw new InputError(`${file}: tests: expected a non-empty list`);
  const failures: string[] = [];
  let passed = 0;
  (doc.tests as TestCase[]).forEach((t, i) => {
    const at = `${file}: tests[${i}]${typeof t?.name === 'string' ? ` (${t.name})` : ''}`;
    const docs = t?.event !== undefined ? [t.event] : Array.isArray(t?.events) ? (t.events as unknown[]) : undefined;
    if (!docs || docs.length === 0) throw new InputError(`${at}: give event or events`);
    const outs = docs.map((d, j) => {
      const e = eventOf(d, `${at}.${t.event !== undefined ? 'event' : `events[${j}]`}`);
      if (e.kind !== 'error') throw new InputError(`${at}: only error events are classified`);
      return classifyError(e, rules, fingerprints);
    });
    const problems: string[] = [];
    if (t.expect !== undefined) {
      const x = t.expect as { severity?: unknown; rule?: unknown; final?: unknown; suppress?: unknown; labels?: unknown };
      if (!x || typeof x !== 'object') throw new InputError(`${at}.expect: expected an object`);
      outs.forEach((o, j) => {
        const which = outs.length > 1 ? ` (event ${j})` : '';
        if (x.severity !== undefined && o.severity !== x.severity) problems.push(`severity: expected ${String(x.severity)}, got ${o.severity} (rule ${o.rule})${which}`);
        if (x.rule !== undefined && o.rule !== x.rule) problems.push(`rule: expected ${String(x.rule)}, got ${o.rule}${which}`);
        if (x.final !== undefined && o.final !== x.final) problems.push(`final: expected ${String(x.final)}, got ${o.final}${which}`);
        if (x.suppress !== undefined && (o.suppress === true) !== x.suppress) problems.push(`suppress: expected ${String(x.suppress)}${which}`);
        if (x.labels !== undefined) {
          for (const [k, v] of Object.entries(x.labels as Record<string, unknown>)) {
            if (o.labels?.[k] !== v) problems.push(`labels.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(o.labels?.[k])}${which}`);
          }
        }
      });
    }
    if (t.same_fingerprint !== undefined) {
      if (outs.length < 2) throw new InputError(`${at}.same_fingerprint: needs at least two events`);
      const distinct = new Set(outs.map((o) => o.fingerprint)).size;
      if (t.same_fingerprint === true && distinct !== 1) problems.push(`same_fingerprint: expected one fingerprint, got ${distinct}: ${outs.map((o) => `${o.fingerprint} "${o.normalized}"`).join(', ')}`);
      if (t.same_fingerprint === false && distinct !== outs.length) problems.push(`same_fingerprint: false: expected ${outs.length} different fingerprints, got ${distinct}`);
    }
    if (t.expect === undefined && t.same_fingerprint === undefined) throw new InputError(`${at}: give expect or same_fingerprint`);
    if (problems.length > 0) failures.push(`${at}:\n    ${problems.join('\n    ')}`);
    else passed++;
  });
  return { passed, failures };
}

/** The `classify` command group. */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  try {
    if (first === '--print-defaults') {
      io.stdout.write(DEFAULT_CLASSIFICATION_YAML);
      return EXIT.ok;
    }
    if (first === 'test') {
      if (rest.length === 0) {
        io.stderr.write(`klaxon classify test: give at least one test file\n\n${USAGE}`);
        return EXIT.usage;
      }
      let failed = 0;
      let passed = 0;
      for (const file of rest) {
        const r = await runClassificationTests(file);
        passed += r.passed;
        failed += r.failures.length;
        for (const f of r.failures) io.stdout.write(`FAILED ${f}\n`);
      }
      io.stdout.write(`${passed} passed, ${failed} failed\n`);
      return failed > 0 ? EXIT.failed : EXIT.ok;
    }
    return await classifyFile(args, io);
  } catch (err) {
    if (err instanceof InputError || err instanceof ClassificationConfigError || err instanceof EventsConfigError) {
      io.stderr.write(`klaxon classify: ${err.message}\n`);
      return EXIT.failed;
    }
    throw err;
  }
}
