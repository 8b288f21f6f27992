/**
 * The enrichment settings of the channel functions and the enrich-followup function
 * (docs/enrichment.md, "Configuration"), read once at init. All optional: with none set, channels
 * render jobs as they come.
 *
 * - `ENRICH_CONFIG` (JSON, the deployment's `enrichment`): budgets, link and trace templates, logs.
 * - `CATALOG_SSM_PARAMETER` (the catalog YAML in SSM), `CATALOG_FILE` (local mode, wins), or
 *   `CATALOG_TABLE` (items of a DynamoDB table, one per entry).
 * - `ENRICH_FOLLOWUP_QUEUE_URL`: where deliver-slack puts logs follow-ups.
 * - `SLACK_QUEUE_URL` (enrich-followup only): where the follow-up's note jobs go.
 */
import { z } from 'zod';
import { DEFAULT_ENRICH_BUDGET_MS, type EnrichConfig } from '../core/enrich/enrich.ts';
import { FOLLOW_UP_DEFAULTS } from '../core/enrich/follow-up.ts';
import { LinkTemplateSchema } from '../core/enrich/links.ts';
import { LOGS_BOUNDS } from '../core/enrich/logs.ts';
import { ConfigError, jsonEnv, optionalString, parseEnv } from './env.ts';
import { ENRICH_BUDGET_MAX_MS } from './timing.ts';

/** Thrown at init for an invalid enrichment variable. */
export class EnrichConfigError extends ConfigError {
  override name = 'EnrichConfigError';
}

const ms = (max: number) => z.number().int().nonnegative().max(max);
/** A log group name (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html: 1–512 of `[.\-_/#A-Za-z0-9]`). */
const logGroupName = z.string().regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, 'not a log group name');

/** The JSON of `ENRICH_CONFIG` (the deployment config's `enrichment`). */
export const EnrichConfigJson = z
  .object({
    /** Per severity (ms); a notification waits at most this long for its enrichment, at most ENRICH_BUDGET_MAX_MS (the channel's reserve holds it). */
    budgetMs: z.object({ critical: ms(ENRICH_BUDGET_MAX_MS), high: ms(ENRICH_BUDGET_MAX_MS), medium: ms(ENRICH_BUDGET_MAX_MS), low: ms(ENRICH_BUDGET_MAX_MS) }).partial().optional(),
    linkWindowMinutes: z.number().int().min(0).max(1440).default(15),
    links: z.array(LinkTemplateSchema).max(20).default([]),
    traces: z.array(LinkTemplateSchema).max(10).default([]),
    logs: z
      .object({
        logGroups: z.array(logGroupName).min(1).max(LOGS_BOUNDS.logGroups),
        query: z
          .string()
          .min(1)
          .max(LOGS_BOUNDS.queryChars - 20)
          .refine((q) => !/\|\s*limit\b/i.test(q), { message: 'leave `limit` out: it is appended from `limit`' }),
        limit: z.number().int().min(1).max(LOGS_BOUNDS.lines).default(10),
        lookbackMinutes: z.number().int().min(1).max(1440).default(15),
        bucketMinutes: z.number().int().min(1).max(60).default(5),
        /** Our share of the account's 30 concurrent queries (shared with dashboards and people). */
        maxInFlight: z.number().int().min(1).max(30).default(5),
        pollMs: z.number().int().min(50).max(5000).default(500),
        slotLeaseSeconds: z.number().int().min(10).max(3600).default(120),
      })
      .strict()
      .optional(),
    followUp: z.object({ maxAttempts: z.number().int().min(1).max(40).default(FOLLOW_UP_DEFAULTS.maxAttempts), delaySeconds: z.number().int().min(1).max(900).default(FOLLOW_UP_DEFAULTS.delaySeconds) }).strict().optional(),
  })
  .strict();

/** Where the catalog comes from. */
export type CatalogLocation = { readonly kind: 'none' } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'ssm'; readonly name: string } | { readonly kind: 'table'; readonly table: string };

/** The enrichment settings. */
export interface EnrichSettings {
  readonly config: EnrichConfig;
  readonly catalog: CatalogLocation;
  readonly followUp: { readonly maxAttempts: number; readonly delaySeconds: number; readonly queueUrl?: string };
}

const envSchema = z.object({
  ENRICH_CONFIG: jsonEnv(EnrichConfigJson, '{"links":[{"text":"Grafana","url":"https://grafana.example.com/d/x?var-service={{labels.service}}&from={{from}}&to={{to}}"}]}'),
  CATALOG_SSM_PARAMETER: optionalString,
  CATALOG_FILE: optionalString,
  CATALOG_TABLE: optionalString,
  ENRICH_FOLLOWUP_QUEUE_URL: optionalString,
});

/** The enrichment config from JSON already parsed by {@link EnrichConfigJson}. */
export function enrichConfigOf(j: z.infer<typeof EnrichConfigJson> | undefined): EnrichConfig {
  const l = j?.logs;
  return {
    budgetMs: { ...DEFAULT_ENRICH_BUDGET_MS, ...j?.budgetMs },
    linkWindowMs: (j?.linkWindowMinutes ?? 15) * 60_000,
    links: j?.links ?? [],
    traces: j?.traces ?? [],
    ...(l
      ? {
          logs: {
            logGroups: l.logGroups,
            query: l.query,
            limit: l.limit,
            lookbackMs: l.lookbackMinutes * 60_000,
            bucketMs: l.bucketMinutes * 60_000,
            maxInFlight: l.maxInFlight,
            pollMs: l.pollMs,
            slotLeaseMs: l.slotLeaseSeconds * 1000,
          },
        }
      : {}),
  };
}

/**
 * Reads the enrichment settings; undefined when enrichment is off (no ENRICH_CONFIG and no
 * catalog). @throws EnrichConfigError naming the variable
 */
export function enrichSettings(env: NodeJS.ProcessEnv, fn: string): EnrichSettings | undefined {
  const e = parseEnv(envSchema, env, fn, (m) => new EnrichConfigError(m));
  const catalog: CatalogLocation = e.CATALOG_FILE
    ? { kind: 'file', path: e.CATALOG_FILE }
    : e.CATALOG_SSM_PARAMETER
      ? { kind: 'ssm', name: e.CATALOG_SSM_PARAMETER }
      : e.CATALOG_TABLE
        ? { kind: 'table', table: e.CATALOG_TABLE }
        : { kind: 'none' };
  if (!e.ENRICH_CONFIG && catalog.kind === 'none') return undefined;
  return {
    config: enrichConfigOf(e.ENRICH_CONFIG),
    catalog,
    followUp: {
      maxAttempts: e.ENRICH_CONFIG?.followUp?.maxAttempts ?? FOLLOW_UP_DEFAULTS.maxAttempts,
      delaySeconds: e.ENRICH_CONFIG?.followUp?.delaySeconds ?? FOLLOW_UP_DEFAULTS.delaySeconds,
      ...(e.ENRICH_FOLLOWUP_QUEUE_URL ? { queueUrl: e.ENRICH_FOLLOWUP_QUEUE_URL } : {}),
    },
  };
}
