/**
 * Configuration of the channel functions (deliver-slack, deliver-email, deliver-pagerduty, deliver-webhook),
 * read once at init from the variables their entries in infra/topology.ts list. A missing or
 * malformed variable fails the init with a message naming it.
 *
 * Besides the topology's variables, two optional overrides point the HTTP channels at the local
 * receivers (like the SDK's AWS_ENDPOINT_URL_<SERVICE>): SLACK_API_URL and PAGERDUTY_EVENTS_URL.
 * EMAIL_COLOURS (optional JSON) overrides the email colours.
 */
import { z } from 'zod';
import { DEFAULT_BREAKER_CONFIG, type BreakerConfig } from '../core/breaker/index.ts';
import { DEFAULT_RETRY_CONFIG, type RetryConfig } from '../core/deliver/decide.ts';
import { DEFAULT_EMAIL_COLOURS, type EmailColours } from '../core/format/email.ts';
import { ConfigError, jsonEnv as json, nonEmpty, optionalString as optional, parseEnv } from './env.ts';

/** Thrown at init for a missing or invalid environment variable of a channel function. */
export class ChannelConfigError extends ConfigError {
  override name = 'ChannelConfigError';
}
const httpUrl = z
  .string()
  .trim()
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    if (!/^https?:\/\//.test(v)) {
      ctx.addIssue({ code: 'custom', message: `must be an http(s) URL, got '${v}'` });
      return z.NEVER;
    }
    return v;
  });

/** BREAKER_CONFIG: JSON with any of the breaker and retry tunables (ms). */
const BreakerJson = z
  .object({
    failureThreshold: z.number().int().positive(),
    openMs: z.number().int().positive(),
    halfOpenSuccesses: z.number().int().positive(),
    probeLeaseMs: z.number().int().positive(),
    cacheMs: z.number().int().nonnegative(),
    retryBaseMs: z.number().int().positive(),
    maxBackoffMs: z.number().int().positive(),
  })
  .partial()
  .strict();


const ColoursJson = z
  .object({
    severity: z.object({ critical: z.string(), high: z.string(), medium: z.string(), low: z.string(), resolved: z.string() }).partial(),
    text: z.string(),
    muted: z.string(),
    background: z.string(),
    panel: z.string(),
    link: z.string(),
  })
  .partial();

const commonEnv = z.object({
  DELIVERY_TABLE: nonEmpty,
  ALERTS_TABLE: nonEmpty,
  QUEUE_URL: nonEmpty,
  DEAD_LETTER_QUEUE_URL: nonEmpty,
  BREAKER_CONFIG: json(BreakerJson),
  PRODUCT_NAME: optional,
  DASHBOARD_URL: httpUrl,
});

/** Settings every channel function has. */
export interface ChannelSettings {
  readonly deliveryTable: string;
  readonly alertsTable: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly breaker: BreakerConfig;
  readonly retry: RetryConfig;
  readonly productName: string;
  readonly dashboardUrl?: string;
}

function parse<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, fn: string): z.infer<T> {
  return parseEnv(schema, env, fn, (m) => new ChannelConfigError(m));
}

function common(e: z.infer<typeof commonEnv>): ChannelSettings {
  const b = e.BREAKER_CONFIG ?? {};
  const { retryBaseMs, maxBackoffMs, ...breaker } = b;
  return {
    deliveryTable: e.DELIVERY_TABLE,
    alertsTable: e.ALERTS_TABLE,
    queueUrl: e.QUEUE_URL,
    deadLetterQueueUrl: e.DEAD_LETTER_QUEUE_URL,
    breaker: { ...DEFAULT_BREAKER_CONFIG, ...breaker },
    retry: { baseMs: retryBaseMs ?? DEFAULT_RETRY_CONFIG.baseMs, maxBackoffMs: maxBackoffMs ?? DEFAULT_RETRY_CONFIG.maxBackoffMs },
    productName: e.PRODUCT_NAME ?? 'Klaxon',
    ...(e.DASHBOARD_URL ? { dashboardUrl: e.DASHBOARD_URL } : {}),
  };
}

/** deliver-slack settings. */
export interface SlackSettings extends ChannelSettings {
  readonly slackSecretName: string;
  readonly slackApiUrl?: string;
}
/** Reads deliver-slack's configuration. @throws ChannelConfigError naming the variable */
export function slackConfig(env: NodeJS.ProcessEnv): SlackSettings {
  const e = parse(commonEnv.extend({ SLACK_SECRET_NAME: nonEmpty, SLACK_API_URL: httpUrl }), env, 'deliver-slack');
  return { ...common(e), slackSecretName: e.SLACK_SECRET_NAME, ...(e.SLACK_API_URL ? { slackApiUrl: e.SLACK_API_URL } : {}) };
}

/** deliver-email settings. */
export interface EmailSettings extends ChannelSettings {
  readonly sender: string;
  readonly configurationSet?: string;
  readonly colours: EmailColours;
}
/** Reads deliver-email's configuration. @throws ChannelConfigError naming the variable */
export function emailConfig(env: NodeJS.ProcessEnv): EmailSettings {
  const e = parse(commonEnv.extend({ SES_SENDER: nonEmpty, SES_CONFIGURATION_SET: optional, EMAIL_COLOURS: json(ColoursJson) }), env, 'deliver-email');
  const c = e.EMAIL_COLOURS ?? {};
  return {
    ...common(e),
    sender: e.SES_SENDER,
    ...(e.SES_CONFIGURATION_SET ? { configurationSet: e.SES_CONFIGURATION_SET } : {}),
    colours: { ...DEFAULT_EMAIL_COLOURS, ...c, severity: { ...DEFAULT_EMAIL_COLOURS.severity, ...c.severity } } as EmailColours,
  };
}

/** deliver-pagerduty settings. */
export interface PagerDutySettings extends ChannelSettings {
  readonly pagerDutySecretName: string;
  readonly eventsUrl?: string;
}
/** Reads deliver-pagerduty's configuration. @throws ChannelConfigError naming the variable */
export function pagerDutyConfig(env: NodeJS.ProcessEnv): PagerDutySettings {
  const e = parse(commonEnv.extend({ PAGERDUTY_SECRET_NAME: nonEmpty, PAGERDUTY_EVENTS_URL: httpUrl }), env, 'deliver-pagerduty');
  return { ...common(e), pagerDutySecretName: e.PAGERDUTY_SECRET_NAME, ...(e.PAGERDUTY_EVENTS_URL ? { eventsUrl: e.PAGERDUTY_EVENTS_URL } : {}) };
}

/** deliver-webhook settings. */
export interface WebhookSettings extends ChannelSettings {
  readonly webhookSecretName: string;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: URLs may resolve to private, loopback or link-local addresses (local mode; docs/channels.md, "Webhook"). */
  readonly allowPrivateTargets: boolean;
}
/** Reads deliver-webhook's configuration. @throws ChannelConfigError naming the variable */
export function webhookConfig(env: NodeJS.ProcessEnv): WebhookSettings {
  const flag = z
    .enum(['true', 'false', ''])
    .optional()
    .transform((v) => v === 'true');
  const e = parse(commonEnv.extend({ WEBHOOK_SECRET_NAME: nonEmpty, WEBHOOK_ALLOW_PRIVATE_TARGETS: flag }), env, 'deliver-webhook');
  return { ...common(e), webhookSecretName: e.WEBHOOK_SECRET_NAME, allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS };
}
