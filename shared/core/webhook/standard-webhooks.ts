/**
 * Signing outgoing webhooks with the Standard Webhooks scheme (https://www.standardwebhooks.com,
 * spec `standard-webhooks.md` v1), so a receiver verifies Klaxon's requests with an existing
 * library (`standardwebhooks` for JavaScript, `svix`, or the spec's other SDKs):
 *
 * - `webhook-id`: the message id, the same on every retry of one message (the receiver's
 *   idempotency key);
 * - `webhook-timestamp`: integer Unix seconds of this attempt;
 * - `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, several
 *   space-separated while a secret is rotated (the receiver accepts any).
 *
 * The secret is `whsec_<base64 of 24–64 random bytes>` and the HMAC key is the decoded bytes (a
 * secret without the prefix is taken as base64 too, as the reference SDKs do). Pure: the secret,
 * the body and the time are arguments; HMAC is a computation (node:crypto), not I/O.
 *
 * Verification is here too (the local webhook receiver uses it), with the spec's 5-minute
 * tolerance either way and a timing-safe comparison.
 */
import { createHmac } from 'node:crypto';
import { signaturesEqual } from '../interact/verify.ts';

/** The secret's prefix (the spec's convention for showing secrets). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The spec: a secret is 24 to 64 random bytes. */
export const WEBHOOK_SECRET_BYTES = { min: 24, max: 64 } as const;

/** The replay tolerance the reference SDKs use (5 minutes either way). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The headers of one signed request. */
export interface StandardWebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** A secret that is not `whsec_<base64>` of 24–64 bytes: configuration error, with why. */
export class WebhookSecretError extends Error {}

/** The HMAC key of a `whsec_` secret (the decoded bytes); throws {@link WebhookSecretError} naming what is wrong. */
export function webhookSecretKey(secret: string): Buffer {
  const b64 = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new WebhookSecretError('webhook secret: expected whsec_ followed by base64');
  const key = Buffer.from(b64, 'base64');
  if (key.length < WEBHOOK_SECRET_BYTES.min || key.length > WEBHOOK_SECRET_BYTES.max) {
    throw new WebhookSecretError(`webhook secret: ${key.length} bytes once decoded; the Standard Webhooks scheme wants ${WEBHOOK_SECRET_BYTES.min} to ${WEBHOOK_SECRET_BYTES.max}`);
  }
  return key;
}

/** The `v1,<base64>` signature of one message. */
export function standardWebhookSignature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * The headers that sign `body` as message `id` at `nowMs`, with every secret given (the current
 * one first; an old one beside it while receivers move to the new one).
 */
export function signStandardWebhook(r: { readonly id: string; readonly body: string; readonly nowMs: number; readonly secrets: readonly string[] }): StandardWebhookHeaders {
  if (r.secrets.length === 0) throw new WebhookSecretError('webhook secret: none given');
  if (!/^[^\s.]{1,256}$/.test(r.id)) throw new WebhookSecretError(`webhook id ${JSON.stringify(r.id.slice(0, 40))}: 1 to 256 characters, no spaces or dots`);
  const ts = Math.floor(r.nowMs / 1000);
  return {
    'webhook-id': r.id,
    'webhook-timestamp': String(ts),
    'webhook-signature': r.secrets.map((s) => standardWebhookSignature(webhookSecretKey(s), r.id, ts, r.body)).join(' '),
  };
}

/** Why an inbound Standard Webhooks request was refused. */
export const WEBHOOK_VERIFY_REFUSALS = ['missing-headers', 'bad-timestamp', 'stale', 'future', 'bad-signature'] as const;
/** One of {@link WEBHOOK_VERIFY_REFUSALS}. */
export type WebhookVerifyRefusal = (typeof WEBHOOK_VERIFY_REFUSALS)[number];

/**
 * Verifies a request signed by the scheme: headers present, timestamp within the tolerance of
 * `nowMs`, and any `v1,` signature equal (timing-safe) to ours. Header names are lower-case (as
 * Node's http module gives them).
 */
export function verifyStandardWebhook(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  secret: string,
  nowMs: number,
  toleranceSeconds: number = WEBHOOK_TOLERANCE_SECONDS,
): { readonly ok: true; readonly id: string } | { readonly ok: false; readonly reason: WebhookVerifyRefusal } {
  const one = (n: string): string | undefined => {
    const v = headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one('webhook-id');
  const tsText = one('webhook-timestamp');
  const sigs = one('webhook-signature');
  if (!id || !tsText || !sigs) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(tsText)) return { ok: false, reason: 'bad-timestamp' };
  const ts = Number(tsText);
  const nowS = Math.floor(nowMs / 1000);
  if (ts < nowS - toleranceSeconds) return { ok: false, reason: 'stale' };
  if (ts > nowS + toleranceSeconds) return { ok: false, reason: 'future' };
  const expected = standardWebhookSignature(webhookSecretKey(secret), id, ts, body);
  const match = sigs.split(' ').some((s) => s.startsWith('v1,') && signaturesEqual(expected, s));
  return match ? { ok: true, id } : { ok: false, reason: 'bad-signature' };
}
