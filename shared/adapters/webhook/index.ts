/**
 * Webhook notifier (docs/channels.md, "Webhook"): renders the receiver's format
 * (shared/core/format/webhook.ts), signs it with the Standard Webhooks scheme
 * (shared/core/webhook/standard-webhooks.ts) with the receiver's secrets from the webhooks secret,
 * and POSTs it through the SSRF-guarded client ({@link postWebhook}). The `webhook-id` is derived
 * from the job's idempotency key, so every retry of one notification carries the same id (the
 * receiver's deduplication key); the timestamp and signature are of each attempt.
 */
import { z } from 'zod';
import type { SendFailure, SendResult } from '../../core/deliver/classify.ts';
import type { Notifier } from '../../core/deliver/notifier.ts';
import { renderWebhook, webhookMessageId, type WebhookFormatOptions, type WebhookRendered } from '../../core/format/webhook.ts';
import type { NotificationJob } from '../../core/model/index.ts';
import { signStandardWebhook, webhookSecretKey, WebhookSecretError, type StandardWebhookHeaders } from '../../core/webhook/standard-webhooks.ts';
import { CHANNEL_SEND_TIMEOUT_MS } from '../../config/timing.ts';
import { readSecret, SecretConfigError, type SecretSource } from '../secrets/index.ts';
import { postWebhook, type Resolver } from './http.ts';

/**
 * The webhooks secret: `{ "<receiver>": { "secrets": ["whsec_...", ...] } }`. The first secret
 * signs; the others sign too while a receiver moves to a new secret (the scheme's rotation: the
 * receiver accepts any signature that verifies). At most 4 per receiver (each is one HMAC per send).
 */
export const WebhookSecretSchema = z.record(z.string(), z.strictObject({ secrets: z.array(z.string().min(1)).min(1).max(4) }));

/** Options of {@link createWebhookNotifier}. */
export interface WebhookNotifierOptions {
  readonly secrets: SecretSource;
  readonly secretName: string;
  readonly format: WebhookFormatOptions;
  /** Allow URLs that resolve to private, loopback or link-local addresses (local mode). */
  readonly allowPrivateTargets: boolean;
  readonly timeoutMs?: number;
  readonly resolve?: Resolver;
  readonly userAgent?: string;
}

/** The signing secrets of one webhook destination, or a permanent failure naming what is missing. */
async function secretsFor(opts: WebhookNotifierOptions, key: string): Promise<{ readonly ok: true; readonly secrets: readonly string[] } | SendFailure> {
  let all: z.infer<typeof WebhookSecretSchema>;
  try {
    all = await readSecret(opts.secrets, opts.secretName, WebhookSecretSchema);
  } catch (err) {
    if (err instanceof SecretConfigError) return { ok: false, retryable: false, reason: 'client', detail: err.message };
    return { ok: false, retryable: true, reason: 'other', detail: (err as Error).message };
  }
  const entry = all[key];
  if (!entry) return { ok: false, retryable: false, reason: 'client', detail: `no signing secret for webhook ${key} in secret ${opts.secretName} (set { "${key}": { "secrets": ["whsec_..."] } })` };
  try {
    for (const s of entry.secrets) webhookSecretKey(s);
  } catch (err) {
    if (err instanceof WebhookSecretError) return { ok: false, retryable: false, reason: 'client', detail: `secret ${opts.secretName}, webhook ${key}: ${err.message}` };
    throw err;
  }
  return { ok: true, secrets: entry.secrets };
}

/** Builds the webhook {@link Notifier}. */
export function createWebhookNotifier(opts: WebhookNotifierOptions): Notifier<WebhookRendered> {
  return {
    channel: 'webhook',
    render: (job: NotificationJob) => renderWebhook(job, opts.format),
    async send(job, rendered, nowMs): Promise<SendResult> {
      const dest = job.destination;
      if (dest.kind !== 'webhook') return { ok: false, retryable: false, reason: 'client', detail: `webhook notifier got a ${dest.kind} destination` };
      // Nothing to say in this format (an acknowledgement to an Alertmanager-format receiver): done, not failed.
      if (rendered.kind === 'skip') return { ok: true, detail: rendered.reason };
      const keys = await secretsFor(opts, dest.secretKey);
      if (!keys.ok) return keys;
      const headers: StandardWebhookHeaders = signStandardWebhook({ id: webhookMessageId(job), body: rendered.body, nowMs, secrets: keys.secrets });
      return postWebhook({
        url: dest.url,
        body: rendered.body,
        headers: { ...headers },
        timeoutMs: opts.timeoutMs ?? CHANNEL_SEND_TIMEOUT_MS,
        nowMs,
        allowPrivateTargets: opts.allowPrivateTargets,
        ...(opts.resolve ? { resolve: opts.resolve } : {}),
        ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
      });
    },
  };
}
