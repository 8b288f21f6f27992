/**
 * The zod schema of a rule file as people write it (YAML or JSON): `{ rules: [ ... ] }`.
 * It describes the *input* (durations as text, matchers as strings); {@link ../rules/index.ts}
 * checks what a schema cannot (matcher syntax, templates, cross-field rules) and normalises it into
 * a {@link Rule}. `scripts/gen-schema.ts` turns this schema into docs/rules.schema.json for editors.
 */
import { z } from 'zod';
import { SEVERITIES } from '../model/index.ts';
import { DURATION_PATTERN } from './duration.ts';
import { remediationInputSchema } from '../remediate/spec.ts';

/** Aggregations over a window `(t - window, t]`, named as Prometheus's `<fn>_over_time` / rate functions. */
export const AGGREGATE_FNS = ['avg', 'min', 'max', 'sum', 'count', 'stddev', 'quantile', 'rate', 'increase', 'delta', 'deriv'] as const;
/** One of {@link AGGREGATE_FNS}. */
export type AggregateFn = (typeof AGGREGATE_FNS)[number];

/** Rule ids: identifiers (also the `alertname` label and part of DynamoDB keys). */
export const RULE_ID_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$';
/** Metric names (Prometheus names, plus `.` and `-` that non-Prometheus producers use). */
export const METRIC_NAME_PATTERN = '^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,199}$';
/** Label names (Prometheus). */
export const LABEL_NAME_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_]{0,99}$';
/** A comparison: operator then number, e.g. `> 80`, `<= -0.5`, `!= 0`. */
export const CONDITION_PATTERN = '^\\s*(>=|<=|==|!=|>|<)\\s*([-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?)\\s*$';

const DURATION_MESSAGE = 'expected a duration like 30s, 5m or 1h30m (units w d h m s ms, largest first)';

// DURATION_PATTERN's units are all optional, so it also matches '': `min(1)` refuses the empty
// string here, where the issue can still name the field (parseDuration would only throw later).
const duration = z
  .union([z.string().min(1, { error: DURATION_MESSAGE }).regex(new RegExp(DURATION_PATTERN), { error: DURATION_MESSAGE }), z.literal(0)], {
    error: DURATION_MESSAGE,
  })
  .describe('A duration: 30s, 5m, 1h30m, 250ms or 0.');

const condition = z
  .string()
  .regex(new RegExp(CONDITION_PATTERN), { error: "expected a comparison like '> 80' (operators > >= < <= == !=)" })
  .describe("A comparison with a number: '> 80', '<= 0.5', '== 0'. Quote it in YAML.");

const labelName = z.string().regex(new RegExp(LABEL_NAME_PATTERN), { error: 'expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)' });

/** The zod schema of one rule as written. */
export const ruleInputSchema = z
  .strictObject({
    id: z.string().regex(new RegExp(RULE_ID_PATTERN), { error: 'expected an identifier ([a-zA-Z_][a-zA-Z0-9_.:-]*, at most 128 characters)' }).describe('Unique rule id; also the alertname label.'),
    name: z.string().min(1).max(256).optional().describe('Human name (defaults to the id).'),
    description: z.string().max(4096).optional(),
    metric: z.string().regex(new RegExp(METRIC_NAME_PATTERN), { error: 'expected a metric name' }).describe('Metric name the rule watches.'),
    matchers: z
      .array(z.string())
      .max(32)
      .optional()
      .describe('Prometheus label matchers: name="v", name!="v", name=~"re", name!~"re" (regexes fully anchored).'),
    aggregate: z
      .strictObject({
        fn: z.enum(AGGREGATE_FNS),
        window: duration,
        q: z.number().min(0).max(1).optional().describe('Quantile for fn: quantile (0..1).'),
      })
      .optional()
      .describe('Windowed aggregation over (t - window, t]; rate/increase/delta/deriv as Prometheus computes them.'),
    anomaly: z
      .strictObject({
        fn: z.literal('zscore').optional(),
        window: duration,
        minSamples: z.int().min(2).max(10_000).optional().describe('Baseline samples needed before a z-score is computed (default 10).'),
      })
      .optional()
      .describe('z = (x - avg) / stddev of the baseline: the samples of the window before x. The condition applies to z.'),
    absent: z
      .strictObject({
        expected: z.array(z.record(labelName, z.string())).max(1000).optional().describe('Series (label sets) that must report even if never seen.'),
      })
      .optional()
      .describe('Fires when a series (or a listed expected series) has sent nothing for `for`.'),
    condition: condition.optional(),
    clearCondition: condition.optional().describe('Hysteresis: a firing alert stays firing until this is true.'),
    for: duration.optional(),
    keepFiringFor: duration.optional(),
    seriesLimit: z
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .describe('Most series this rule may hold (Prometheus-style limit); new series past it are refused, counted and logged. Default: the deployment setting (10,000).'),
    severity: z.enum(SEVERITIES).describe('critical | high | medium | low. Every alert of the rule carries it as its `severity` label.'),
    labels: z
      .record(labelName, z.string().max(1024))
      .optional()
      .describe('Added to alert labels; may use {{ $labels.x }} but not $value. labels.severity, if written (Prometheus style), must be the same literal as `severity`.'),
    annotations: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string().max(8192)).optional().describe('Templates: {{ $value }}, {{ $labels.x }}.'),
    runbookUrl: z.url().optional(),
    dashboardUrl: z.url().optional(),
    throttle: z
      .strictObject({ critical: duration.optional(), high: duration.optional(), medium: duration.optional(), low: duration.optional() })
      .optional()
      .describe('Per-severity notification throttle windows overriding the deployment defaults.'),
    flapping: z
      .strictObject({ count: z.int().min(1).max(1000), window: duration })
      .optional()
      .describe('Flapping: raise the severity one level when the alert fires `count` times within `window`.'),
    escalation: z
      .strictObject({ count: z.int().min(1).max(1000), window: duration })
      .optional()
      .describe('Deprecated name of `flapping` (kept so existing rule files load).'),
    remediation: remediationInputSchema.optional(),
  })
  .describe('One Klaxon alert rule.');

/** The zod schema of a rule file: `{ rules: [...] }`. */
export const rulesFileSchema: z.ZodType = z.strictObject({ rules: z.array(ruleInputSchema) }).describe('A Klaxon rules file.');

/** One rule as written (the schema's input type). */
export type RuleInput = z.infer<typeof ruleInputSchema>;
