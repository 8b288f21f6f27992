/**
 * The error-events configuration (docs/events.md, "Configuration"): one YAML document holding the
 * classification (`labels`, `time_intervals`, `rules`: ./classify.ts), the fingerprint rules
 * (`fingerprints`: ./fingerprint.ts) and the alerting settings (`quiet_period`). Every part is
 * optional: an empty document is the built-in classification, no fingerprint rules and a 24 h
 * quiet period. Deployed as an SSM parameter (read by the evaluator and the timers), a file in
 * local mode and the CLI.
 *
 * ```yaml
 * quiet_period: 24h        # a firing error alert without a failure for this long resolves; 0 = never
 * rules: [...]             # absent: the built-in classification
 * fingerprints: [...]
 * ```
 */
import { parse as parseYaml } from 'yaml';
import { PermanentError } from '../errors/index.ts';
import { DurationSyntaxError, parseDuration } from '../rules/duration.ts';
import { DEFAULT_QUIET_PERIOD_MS, DEFAULT_EXCERPT_CHARS } from './alerting.ts';
import { ClassificationConfigError, compileClassification, type CompiledClassification } from './classify.ts';
import { DEFAULT_CLASSIFICATION } from './default-classification.ts';
import { parseFingerprintRules, type FingerprintRule } from './fingerprint.ts';

/** The keys a document may have: the classification's, `fingerprints` and `quiet_period`. */
export const EVENTS_CONFIG_KEYS = ['labels', 'time_intervals', 'rules', 'fingerprints', 'quiet_period'] as const;

/** Longest quiet period accepted (a year): past it, say 0 (never). */
export const MAX_QUIET_PERIOD_MS = 366 * 86_400_000;

/** The configuration, compiled. */
export interface EventsConfig {
  /** Where it came from (`ssm:/klaxon/events`, a file, `built-in defaults`). */
  readonly source: string;
  readonly classification: CompiledClassification;
  readonly fingerprints: readonly FingerprintRule[];
  /** 0: never resolved by silence. */
  readonly quietPeriodMs: number;
  readonly excerptChars: number;
}

/** The built-in configuration. */
export const DEFAULT_EVENTS_CONFIG: EventsConfig = {
  source: 'built-in defaults',
  classification: DEFAULT_CLASSIFICATION,
  fingerprints: [],
  quietPeriodMs: DEFAULT_QUIET_PERIOD_MS,
  excerptChars: DEFAULT_EXCERPT_CHARS,
};

/** An events configuration that cannot be used: names its source and every problem. */
export class EventsConfigError extends PermanentError {
  override name = 'EventsConfigError';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`${source}: invalid error-events configuration:\n  - ${problems.join('\n  - ')}`, options);
    this.problems = problems;
  }
}

/** Validates and compiles a parsed document. Throws {@link EventsConfigError} naming every problem. */
export function compileEventsConfig(doc: unknown, source: string): EventsConfig {
  if (doc === null || doc === undefined) return { ...DEFAULT_EVENTS_CONFIG, source };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new EventsConfigError(source, ['expected a mapping with rules, fingerprints and quiet_period (each optional)']);
  const o = doc as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o)) {
    if (!(EVENTS_CONFIG_KEYS as readonly string[]).includes(k)) problems.push(`${k}: unknown key (expected ${EVENTS_CONFIG_KEYS.join(', ')})`);
  }

  let quietPeriodMs = DEFAULT_QUIET_PERIOD_MS;
  if (o.quiet_period !== undefined && o.quiet_period !== null) {
    try {
      quietPeriodMs = parseDuration(o.quiet_period as string);
      if (quietPeriodMs > MAX_QUIET_PERIOD_MS) problems.push(`quiet_period: at most 366d (0 means never)`);
    } catch (err) {
      if (!(err instanceof DurationSyntaxError)) throw err;
      problems.push(`quiet_period: ${err.message} (0 means never)`);
    }
  }

  let fingerprints: readonly FingerprintRule[] = [];
  if (o.fingerprints !== undefined && o.fingerprints !== null) {
    const r = parseFingerprintRules({ fingerprints: o.fingerprints });
    if (r.ok) fingerprints = r.rules;
    else problems.push(...r.errors);
  }

  let classification = DEFAULT_CLASSIFICATION;
  const hasClassification = o.rules !== undefined || o.labels !== undefined || o.time_intervals !== undefined;
  if (hasClassification) {
    if (o.rules === undefined) problems.push('rules: required when labels or time_intervals are given (leave all three out for the built-in classification)');
    else {
      const { fingerprints: _f, quiet_period: _q, ...classDoc } = o;
      try {
        classification = compileClassification(classDoc, source);
      } catch (err) {
        if (!(err instanceof ClassificationConfigError)) throw err;
        problems.push(...err.problems);
      }
    }
  }
  if (problems.length > 0) throw new EventsConfigError(source, problems);
  return { source, classification, fingerprints, quietPeriodMs, excerptChars: DEFAULT_EXCERPT_CHARS };
}

/** Parses YAML (JSON is YAML) text and compiles it. Throws {@link EventsConfigError}. */
export function eventsConfigFromText(text: string, source: string): EventsConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new EventsConfigError(source, [`not valid YAML: ${(cause as Error).message}`], { cause });
  }
  return compileEventsConfig(doc, source);
}
