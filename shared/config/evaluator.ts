/**
 * The evaluator's configuration, read once from the environment at init. Variable names are those
 * of the `evaluator` entry of infra/topology.ts (plus RULES_FILE, used by local mode with
 * RULES_SOURCE=file). A missing or malformed variable fails the init with a message naming it.
 */
import { z } from 'zod';
import type { RuleSourceConfig } from '../adapters/rules/sources.ts';
import { DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MAX_SAMPLE_AGE_MS } from '../core/decode/index.ts';
import { ConfigError, nonEmpty, parseEnv } from './env.ts';
import { DEFAULT_SERIES_LIMIT_PER_RULE } from '../core/sequence/evaluate-batch.ts';

export { ConfigError, parseEnv };

/** An optional numeric variable: `def` when unset or empty, else a number `ok` accepts (`what` names the expectation). */
const numberVar = (def: number, ok: (n: number) => boolean, what: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!ok(n)) {
        ctx.addIssue({ code: 'custom', message: `must be ${what}, got '${v}'` });
        return z.NEVER;
      }
      return n;
    });
const seconds = (def: number) => numberVar(def, (n) => Number.isFinite(n) && n >= 0, 'a non-negative number of seconds');

/** Env schema of the rule source, shared by the evaluator and timers. */
export const ruleSourceEnv = z.object({
  RULES_SOURCE: z.enum(['dynamodb', 'ssm', 'file'], { message: "must be 'dynamodb', 'ssm' or 'file'" }),
  RULES_TABLE: z.string().trim().optional(),
  RULES_SSM_PATH: z.string().trim().optional(),
  RULES_FILE: z.string().trim().optional(),
  RULES_CACHE_TTL_SECONDS: seconds(60),
  STALE_AFTER_SECONDS: seconds(300),
  /** The errors table (job events' error alerts); unset: job events are quarantined. */
  ERRORS_TABLE: z.string().trim().optional(),
  /** The error-events configuration: an SSM parameter name (AWS) or EVENTS_FILE (local mode); read by shared/adapters/events. */
  EVENTS_SSM_PARAMETER: z.string().trim().optional(),
  EVENTS_FILE: z.string().trim().optional(),
});

const evaluatorEnv = ruleSourceEnv.extend({
  STATE_TABLE: nonEmpty,
  SAMPLE_LOG_TABLE: nonEmpty,
  ALERT_EVENTS_QUEUE_URL: nonEmpty,
  REJECTED_QUEUE_URL: nonEmpty,
  /** Where windows live: 'derived' (memory + sample log) or 'stored' (in each series item); default 'derived'. */
  STATE_WINDOWS: z.enum(['derived', 'stored'], { message: "must be 'derived' or 'stored'" }).optional(),
  SERIES_LIMIT_PER_RULE: numberVar(DEFAULT_SERIES_LIMIT_PER_RULE, (n) => Number.isInteger(n) && n >= 1, 'a positive whole number of series'),
  /** How far ahead of the clock (and of its Kafka record) a sample may be stamped; default 600 (10 min). */
  MAX_FUTURE_SKEW_SECONDS: seconds(DEFAULT_MAX_FUTURE_SKEW_MS / 1000),
  /** How old a sample may be; default 604800 (7 days: Kafka's default retention and the state TTL). */
  MAX_SAMPLE_AGE_SECONDS: seconds(DEFAULT_MAX_SAMPLE_AGE_MS / 1000),
  /**
   * Whether the event source honours a partial batch response ('true' in provisioned mode); default
   * 'false', the safe side: a transient failure then fails the whole invocation.
   */
  KAFKA_PARTIAL_BATCH_RESPONSE: z.enum(['true', 'false'], { message: "must be 'true' or 'false'" }).optional(),
});

/** Validated configuration shared by both evaluation functions. */
export interface RuleSourceSettings {
  readonly rules: RuleSourceConfig;
  readonly rulesCacheTtlMs: number;
  readonly staleAfterMs: number;
  /** The errors table; undefined: job events are not evaluated (quarantined). */
  readonly errorsTable?: string;
}

/** The evaluator's validated configuration. */
export interface EvaluatorConfig extends RuleSourceSettings {
  readonly stateTable: string;
  /** The per-partition sample log (the topology's `samples` table). */
  readonly sampleLogTable: string;
  readonly alertEventsQueueUrl: string;
  readonly rejectedQueueUrl: string;
  /** Series one rule may hold unless it sets its own `seriesLimit`. */
  readonly seriesLimitPerRule: number;
  /** Where windows live (docs/design.md, "Windows as derived data"). */
  readonly windows: 'derived' | 'stored';
  /** Event-time bound at decode: a sample more than this ahead of the clock or its record is rejected (ms). */
  readonly maxFutureSkewMs: number;
  /** Event-time bound at decode: a sample older than this is rejected (ms). */
  readonly maxSampleAgeMs: number;
  /** The event source acts on partial batch responses (MSK provisioned mode); otherwise failures fail the invocation. */
  readonly partialBatchResponse: boolean;
}

/** Resolves the rule source settings, requiring the variable the chosen source needs. */
export function ruleSourceSettings(e: z.infer<typeof ruleSourceEnv>, fn: string): RuleSourceSettings {
  const need = (name: 'RULES_TABLE' | 'RULES_SSM_PATH' | 'RULES_FILE'): string => {
    const v = e[name];
    if (!v) throw new ConfigError(`${fn}: invalid environment: ${name}: must be set when RULES_SOURCE=${e.RULES_SOURCE}`);
    return v;
  };
  const rules: RuleSourceConfig =
    e.RULES_SOURCE === 'file'
      ? { kind: 'file', file: need('RULES_FILE') }
      : e.RULES_SOURCE === 'ssm'
        ? { kind: 'ssm', path: need('RULES_SSM_PATH') }
        : { kind: 'dynamodb', table: need('RULES_TABLE') };
  return { rules, rulesCacheTtlMs: e.RULES_CACHE_TTL_SECONDS * 1000, staleAfterMs: e.STALE_AFTER_SECONDS * 1000, ...(e.ERRORS_TABLE ? { errorsTable: e.ERRORS_TABLE } : {}) };
}

/** Reads the evaluator's configuration. @throws ConfigError naming the variable */
export function evaluatorConfig(env: NodeJS.ProcessEnv): EvaluatorConfig {
  const e = parseEnv(evaluatorEnv, env, 'evaluator');
  return {
    ...ruleSourceSettings(e, 'evaluator'),
    stateTable: e.STATE_TABLE,
    sampleLogTable: e.SAMPLE_LOG_TABLE,
    alertEventsQueueUrl: e.ALERT_EVENTS_QUEUE_URL,
    rejectedQueueUrl: e.REJECTED_QUEUE_URL,
    seriesLimitPerRule: e.SERIES_LIMIT_PER_RULE,
    windows: e.STATE_WINDOWS ?? 'derived',
    maxFutureSkewMs: e.MAX_FUTURE_SKEW_SECONDS * 1000,
    maxSampleAgeMs: e.MAX_SAMPLE_AGE_SECONDS * 1000,
    partialBatchResponse: e.KAFKA_PARTIAL_BATCH_RESPONSE === 'true',
  };
}
