/**
 * Verifying who sent an inbound request (issue 12): Slack's request signature and PagerDuty's v3
 * webhook signature, with a timing-safe comparison, and the replay window. Pure: the secret, the
 * raw body and the time are arguments; HMAC is a computation (node:crypto), not I/O.
 *
 * - Slack: https://api.slack.com/authentication/verifying-requests-from-slack — basestring
 *   `v0:<X-Slack-Request-Timestamp>:<raw body>`, HMAC-SHA256 with the app's signing secret, hex,
 *   compared with `X-Slack-Signature` (`v0=<hex>`); Slack's own SDKs refuse a timestamp more than
 *   5 minutes from now (bolt-js `verifySlackRequest`: `requestTimestampMaxDeltaMin = 5`).
 * - PagerDuty: https://developer.pagerduty.com/docs/28e906a0bd5a3-verifying-signatures —
 *   `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` (several while a secret is rotated), each an
 *   HMAC-SHA256 of the raw body with the subscription's secret; accept when ANY matches. PagerDuty
 *   signs no timestamp: its replays are caught by the replay guard on the signature and the
 *   delivery id (X-Webhook-Id), see {@link replayKey}.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../dispatch/hash.ts';

/** Why an inbound request was refused (the `reason` dimension of `InteractionsRefused`; bounded). */
export const INTERACTION_REFUSALS = [
  /** A signature or timestamp header is absent, or the body is empty. */
  'missing-headers',
  /** The timestamp is not a number of seconds. */
  'bad-timestamp',
  /** Older than the replay window. */
  'stale',
  /** Further ahead than the replay window (a clock that far off, or a forged timestamp). */
  'future',
  /** A signature scheme we do not know (`v1=` for Slack, `v0=` for PagerDuty…). */
  'bad-version',
  /** No signature matches. */
  'bad-signature',
  /** The same signed request again within the window. */
  'replayed',
  /** The body is larger than {@link MAX_INTERACTION_BODY_BYTES}. */
  'too-large',
  /** No signing secret is configured: nothing can be verified, everything is refused. */
  'no-secret',
  /** Signed, but not a payload we can read. */
  'bad-payload',
] as const;
/** One of {@link INTERACTION_REFUSALS}. */
export type InteractionRefusal = (typeof INTERACTION_REFUSALS)[number];

/**
 * The replay window: a Slack request whose timestamp is more than this from now either way is
 * refused; replay guard entries live just past it.
 */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

/**
 * The largest body verified. Slack's block_actions payloads carry the whole message the button
 * was on (≤ 50 blocks of ≤ 3,000 characters, form-encoded, so up to about 3× that): 256 KiB covers
 * the biggest message Klaxon renders (SLACK_GROUP_LIMITS.listMaxChars = 24,000 characters, ×3 for
 * URL encoding) many times over. PagerDuty's v3 webhook payloads are a few KB (one incident).
 * Anything bigger is refused before it is hashed, so a flood of large bodies costs no CPU.
 */
export const MAX_INTERACTION_BODY_BYTES = 256 * 1024;

/** The outcome of a verification: ok, or why not. */
export type Verification = { readonly ok: true } | { readonly ok: false; readonly reason: InteractionRefusal };

const refuse = (reason: InteractionRefusal): Verification => ({ ok: false, reason });

/** Lower-case hex HMAC-SHA256. */
export function hmacSha256Hex(secret: string, data: Buffer | string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/**
 * Compares two signatures in constant time for their length: `timingSafeEqual` needs buffers of
 * equal length, and a length difference (a truncated or padded forgery) is a mismatch, found
 * without comparing bytes (the length of an HMAC is public).
 */
export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** What a Slack request brings to be verified. */
export interface SlackSignedRequest {
  /** X-Slack-Signature. */
  readonly signature: string | undefined;
  /** X-Slack-Request-Timestamp (epoch seconds). */
  readonly timestamp: string | undefined;
  /** The raw body, exactly as received (already base64-decoded when Lambda encoded it). */
  readonly body: Buffer;
}

/** The `X-Slack-Signature` of a body at a timestamp: `v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>`. */
export function slackSignature(secret: string, timestamp: string, body: Buffer | string): string {
  const base = Buffer.concat([Buffer.from(`v0:${timestamp}:`, 'utf8'), typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
  return `v0=${hmacSha256Hex(secret, base)}`;
}

/**
 * Verifies a Slack request at `nowMs`: headers present, a numeric timestamp within
 * {@link REPLAY_WINDOW_SECONDS} of now (either way), a `v0=` signature equal (timing-safe) to the
 * one computed over the exact bytes. A replay within the window passes here: the replay guard
 * (a port) refuses it.
 */
export function verifySlackRequest(req: SlackSignedRequest, secret: string | undefined, nowMs: number): Verification {
  if (!secret) return refuse('no-secret');
  if (req.body.length > MAX_INTERACTION_BODY_BYTES) return refuse('too-large');
  const sig = req.signature?.trim();
  const ts = req.timestamp?.trim();
  if (!sig || !ts || req.body.length === 0) return refuse('missing-headers');
  if (!/^\d{1,12}$/.test(ts)) return refuse('bad-timestamp');
  const skewS = Number(ts) - Math.floor(nowMs / 1000);
  if (skewS < -REPLAY_WINDOW_SECONDS) return refuse('stale');
  if (skewS > REPLAY_WINDOW_SECONDS) return refuse('future');
  if (!sig.startsWith('v0=')) return refuse('bad-version');
  return signaturesEqual(slackSignature(secret, ts, req.body), sig) ? { ok: true } : refuse('bad-signature');
}

/** The most signatures read from one X-PagerDuty-Signature header (PagerDuty sends one per active secret: a few). */
export const MAX_PAGERDUTY_SIGNATURES = 10;

/** The `v1=` signature PagerDuty sends for a body. */
export function pagerDutySignature(secret: string, body: Buffer | string): string {
  return `v1=${hmacSha256Hex(secret, body)}`;
}

/**
 * Verifies a PagerDuty v3 webhook: the header holds one or more comma-separated `v1=<hex>`; the
 * request is genuine when ANY equals (timing-safe) the HMAC of the raw body. Signatures of other
 * versions are skipped (PagerDuty may add schemes); none of ours: `bad-version`.
 */
export function verifyPagerDutyWebhook(req: { readonly signature: string | undefined; readonly body: Buffer }, secret: string | undefined): Verification {
  if (!secret) return refuse('no-secret');
  if (req.body.length > MAX_INTERACTION_BODY_BYTES) return refuse('too-large');
  const header = req.signature?.trim();
  if (!header || req.body.length === 0) return refuse('missing-headers');
  const v1 = header
    .split(',', MAX_PAGERDUTY_SIGNATURES)
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='));
  if (v1.length === 0) return refuse('bad-version');
  const expected = pagerDutySignature(secret, req.body);
  // Every candidate is compared (no early exit), so the time does not say which one matched.
  let match = false;
  for (const s of v1) match = signaturesEqual(expected, s) || match;
  return match ? { ok: true } : refuse('bad-signature');
}

/**
 * The replay guard's key of a verified request: the same signature (Slack: it covers the
 * timestamp, so a replay is the same signature) or, for PagerDuty, the same delivery id, is the
 * same request. Hashed: bounded length, nothing of the request stored.
 */
export function replayKey(source: 'slack' | 'pagerduty', identity: string): string {
  return `replay#${source}#${sha256Hex(identity)}`;
}
