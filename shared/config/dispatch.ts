/**
 * The dispatch function's configuration, read once from the environment at init. Variable names
 * are those of the `dispatch` entry of infra/topology.ts, plus ROUTES_FILE (a local routes YAML
 * file, used by local mode and tests; it wins over ROUTES_SSM_PARAMETER when both are set).
 * A missing or malformed variable fails the init with a message naming it.
 */
import { z } from 'zod';
import { DEFAULT_FLAPPING } from '../core/dispatch/flapping/flapping.ts';
import { parseDuration } from '../core/dispatch/duration.ts';
import type { DispatchConfig } from '../core/dispatch/context.ts';
import { DEFAULT_RECEIVER_SETTINGS, type DefaultReceiverSettings } from '../core/dispatch/route/routes-config.ts';
import { DEFAULT_THROTTLE_WINDOWS, type ThrottleWindows } from '../core/dispatch/throttle/throttle.ts';
import { SEVERITIES, type Channel } from '../core/model/index.ts';
import { EMAIL_MAX_RECIPIENTS } from '../core/format/email.ts';
import { ConfigError, jsonEnv, nonEmpty, optionalString as optional, parseEnv } from './env.ts';

/** Thrown at init for a missing or invalid environment variable of dispatch. */
export class DispatchConfigError extends ConfigError {
  override name = 'DispatchConfigError';
}

/** How long a loaded routes config is used before it is read again. */
export const ROUTES_CACHE_TTL_MS = 60_000;

/** Where routes come from. */
export type RoutesLocation = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'ssm'; readonly name: string } | { readonly kind: 'defaults' };

/** Dispatch's validated configuration. */
export interface DispatchSettings {
  readonly alertsTable: string;
  /** The silences table (absent: no silences, e.g. an older local setup). */
  readonly silencesTable?: string;
  /** The history table and how long an event is kept. */
  readonly history?: { readonly table: string; readonly retentionMs: number };
  readonly deadLetterQueueUrl: string;
  /** The alert-events queue, where dispatch puts releases of held notifications (docs/routing.md, "Inhibition"). */
  readonly alertEventsQueueUrl: string | undefined;
  readonly queueUrls: Readonly<Record<Channel, string>>;
  readonly routes: RoutesLocation;
  readonly routesCacheTtlMs: number;
  readonly defaultReceiver: DefaultReceiverSettings;
  readonly decision: DispatchConfig;
  /** The groups table and the group-flush queue (absent: routes with group_by cannot be used). */
  readonly groups?: { readonly table: string; readonly flushQueueUrl: string };
  /** The remediation queue (docs/remediation.md; absent: no remediation is requested). */
  readonly remediationQueueUrl?: string;
}

const durationValue = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration (e.g. 0, 90s, 5m, 1h)` });
    return z.NEVER;
  }
  return ms;
});
const throttleWindowsJson = z.strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, durationValue.optional()])) as Record<(typeof SEVERITIES)[number], z.ZodOptional<typeof durationValue>>);

/** The variables dispatch and flush-groups share: where jobs go, where routes come from, the throttle. */
export const routingEnv = z.object({
  SLACK_QUEUE_URL: nonEmpty,
  EMAIL_QUEUE_URL: nonEmpty,
  PAGERDUTY_QUEUE_URL: nonEmpty,
  WEBHOOK_QUEUE_URL: nonEmpty,
  ROUTES_SSM_PARAMETER: optional,
  ROUTES_FILE: optional,
  DEFAULT_EMAIL_RECIPIENTS: optional.transform((v, ctx) => {
    const list = (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const a of list) {
      if (!z.email().safeParse(a).success) {
        ctx.addIssue({ code: 'custom', message: `'${a}' is not an email address (comma-separated list expected)` });
        return z.NEVER;
      }
    }
    if (list.length > EMAIL_MAX_RECIPIENTS) {
      ctx.addIssue({ code: 'custom', message: `${list.length} recipients: at most ${EMAIL_MAX_RECIPIENTS} (SES's limit per message)` });
      return z.NEVER;
    }
    return list;
  }),
  THROTTLE_WINDOWS: jsonEnv(throttleWindowsJson, '{"high":"10m","low":"2h"} (numbers are milliseconds)'),
  /** The alert history (docs/incidents.md); unset: nothing recorded. */
  HISTORY_TABLE: optional,
  /** Days the history keeps an event (default 90). */
  HISTORY_RETENTION_DAYS: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 90;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3650) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number of days from 1 to 3650, got '${v}'` });
        return z.NEVER;
      }
      return n;
    }),
});

const env = routingEnv.extend({
  ALERTS_TABLE: nonEmpty,
  SILENCES_TABLE: optional,
  DEAD_LETTER_QUEUE_URL: nonEmpty,
  ALERT_EVENTS_QUEUE_URL: optional,
  GROUPS_TABLE: optional,
  GROUP_FLUSH_QUEUE_URL: optional,
  /** Auto-remediation requests (docs/remediation.md); unset: none are made. */
  REMEDIATION_QUEUE_URL: optional,
});

/** The shared part of dispatch's and flush-groups' settings, from {@link routingEnv}'s variables. */
export function routingSettings(v: z.infer<typeof routingEnv>): Pick<DispatchSettings, 'queueUrls' | 'routes' | 'routesCacheTtlMs' | 'defaultReceiver' | 'decision' | 'history'> {
  const throttleWindows: ThrottleWindows = { ...DEFAULT_THROTTLE_WINDOWS, ...((v.THROTTLE_WINDOWS ?? {}) as Partial<ThrottleWindows>) };
  return {
    queueUrls: { slack: v.SLACK_QUEUE_URL, email: v.EMAIL_QUEUE_URL, pagerduty: v.PAGERDUTY_QUEUE_URL, webhook: v.WEBHOOK_QUEUE_URL },
    routes: v.ROUTES_FILE ? { kind: 'file', path: v.ROUTES_FILE } : v.ROUTES_SSM_PARAMETER ? { kind: 'ssm', name: v.ROUTES_SSM_PARAMETER } : { kind: 'defaults' },
    routesCacheTtlMs: ROUTES_CACHE_TTL_MS,
    defaultReceiver: { ...DEFAULT_RECEIVER_SETTINGS, emailRecipients: v.DEFAULT_EMAIL_RECIPIENTS },
    decision: { throttleWindows, escalation: DEFAULT_FLAPPING },
    ...(v.HISTORY_TABLE ? { history: { table: v.HISTORY_TABLE, retentionMs: v.HISTORY_RETENTION_DAYS * 86_400_000 } } : {}),
  };
}

/**
 * Reads dispatch's environment. THROTTLE_WINDOWS is a JSON object of severity → duration (`"5m"`,
 * or a number of milliseconds) over the defaults (critical 0, high 5m, medium 15m, low 1h).
 * Throws {@link DispatchConfigError}.
 */
export function readDispatchSettings(e: NodeJS.ProcessEnv): DispatchSettings {
  const v = parseEnv(env, e, 'dispatch', (m) => new DispatchConfigError(m));
  if ((v.GROUPS_TABLE === undefined) !== (v.GROUP_FLUSH_QUEUE_URL === undefined)) {
    throw new DispatchConfigError('dispatch: GROUPS_TABLE and GROUP_FLUSH_QUEUE_URL are set together or not at all');
  }
  return {
    alertsTable: v.ALERTS_TABLE,
    ...(v.SILENCES_TABLE ? { silencesTable: v.SILENCES_TABLE } : {}),
    deadLetterQueueUrl: v.DEAD_LETTER_QUEUE_URL,
    alertEventsQueueUrl: v.ALERT_EVENTS_QUEUE_URL,
    ...routingSettings(v),
    ...(v.GROUPS_TABLE && v.GROUP_FLUSH_QUEUE_URL ? { groups: { table: v.GROUPS_TABLE, flushQueueUrl: v.GROUP_FLUSH_QUEUE_URL } } : {}),
    ...(v.REMEDIATION_QUEUE_URL ? { remediationQueueUrl: v.REMEDIATION_QUEUE_URL } : {}),
  };
}
