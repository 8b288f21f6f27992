/**
 * Error classification for every channel: a vendor's answer → retryable or permanent, with a
 * bounded reason from DELIVERY_FAILURE_REASONS (metric dimension) and a human detail (logs, DLQ).
 *
 * Retryable: 429, 5xx, timeouts, network errors (the destination may recover; the breaker counts
 * them). Permanent: our payload is wrong or the destination's configuration is broken (retrying
 * cannot help; the job is dead-lettered at once with the reason).
 */
import type { DeliveryFailureReason } from '../model/metrics.ts';
import { redactSecrets } from './redact.ts';

/** The outcome of one send attempt. */
export type SendResult = SendSuccess | SendFailure;
/** The destination accepted the notification. */
export interface SendSuccess {
  readonly ok: true;
  /** E.g. the Slack `ts` or the SES MessageId (no secrets). */
  readonly detail?: string;
}
/** The destination did not accept it. */
export interface SendFailure {
  readonly ok: false;
  readonly retryable: boolean;
  readonly reason: DeliveryFailureReason;
  /** From a Retry-After header, when the destination sent one. */
  readonly retryAfterMs?: number;
  /** Human text: status, error code, vendor message; secrets redacted ({@link redactSecrets}). */
  readonly detail: string;
}

/** Longest failure detail kept (delivery record attribute, DLQ message attribute, log field). */
export const MAX_FAILURE_DETAIL_CHARS = 500;

/**
 * Every classified failure is built here, so every detail is redacted: vendor messages and
 * transport errors may quote the URL they were given (Node's fetch does for a URL with
 * credentials), and webhook URLs are secrets.
 */
const fail = (retryable: boolean, reason: DeliveryFailureReason, detail: string, retryAfterMs?: number): SendFailure => ({
  ok: false,
  retryable,
  reason,
  detail: redactSecrets(detail).slice(0, MAX_FAILURE_DETAIL_CHARS),
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});

/**
 * Parses a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined when
 * absent or unusable.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const t = header.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/** Fallback classification of an HTTP status with no better information. */
export function classifyStatus(status: number, detail: string, retryAfterMs?: number): SendFailure {
  if (status === 429) return fail(true, 'rate-limited', detail, retryAfterMs);
  if (status === 408) return fail(true, 'timeout', detail);
  if (status >= 500) return fail(true, 'server', detail);
  if (status === 401 || status === 403) return fail(false, 'auth', detail);
  if (status >= 400) return fail(false, 'client', detail);
  return fail(true, 'other', detail);
}

/** Slack errors meaning the token, webhook or workspace is not valid (a human must fix the config). */
const SLACK_AUTH = new Set([
  'invalid_token', 'invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'missing_scope',
  'no_permission', 'team_disabled', 'no_team', 'no_service', 'no_service_id', 'no_active_hooks', 'action_prohibited',
  'ekm_access_denied', 'team_access_not_granted', 'restricted_action', 'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel', 'restricted_action_non_threadable_channel',
]);
/** Slack errors that are transient on Slack's side. */
const SLACK_TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'rollup_error']);
const SLACK_RATE = new Set(['ratelimited', 'rate_limited']);

function slackCode(code: string, status: number, retryAfterMs: number | undefined): SendFailure {
  const detail = `slack ${status} ${code}`;
  if (SLACK_RATE.has(code) || status === 429) return fail(true, 'rate-limited', detail, retryAfterMs);
  if (SLACK_TRANSIENT.has(code)) return fail(true, code === 'request_timeout' ? 'timeout' : 'server', detail);
  if (SLACK_AUTH.has(code)) return fail(false, 'auth', detail);
  if (status >= 500) return fail(true, 'server', detail);
  // channel_not_found, is_archived, channel_is_archived, not_in_channel, invalid_payload, no_text,
  // invalid_blocks, msg_too_long, too_many_attachments...: permanent (config or payload).
  return fail(false, 'client', detail);
}

/**
 * Slack incoming webhook: 200 `ok` is success; errors are plain-text codes with 400/403/404/410/500
 * and 429 + Retry-After. Match the body, not the status.
 * https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
 */
export function classifySlackWebhook(status: number, body: string, retryAfterMs?: number): SendResult {
  if (status >= 200 && status < 300) return { ok: true };
  const code = body.trim().split(/\s/)[0] ?? '';
  if (!code) return classifyStatus(status, `slack webhook ${status}`, retryAfterMs);
  return slackCode(code, status, retryAfterMs);
}

/**
 * Slack Web API (chat.postMessage / chat.update): HTTP 200 with `{ok:false,error}` for almost all
 * failures; HTTP 429 + Retry-After for rate limits; other statuses are transport errors.
 * https://docs.slack.dev/reference/methods/chat.postMessage, https://docs.slack.dev/apis/web-api/rate-limits
 */
export function classifySlackApi(status: number, body: unknown, retryAfterMs?: number): SendResult {
  if (status === 429) return fail(true, 'rate-limited', 'slack api 429', retryAfterMs);
  if (status !== 200) return classifyStatus(status, `slack api ${status}`, retryAfterMs);
  const b = body as { ok?: unknown; error?: unknown } | null;
  if (b && b.ok === true) return { ok: true };
  const code = b && typeof b.error === 'string' ? b.error : 'unknown_error';
  return slackCode(code, status, retryAfterMs);
}

/**
 * PagerDuty Events API v2: 202 accepted; 400 invalid event (permanent: "check that the JSON is
 * valid"); 429 retry after some time (no Retry-After documented; honoured if sent); 5xx retry.
 * https://github.com/PagerDuty/developer-docs/blob/main/docs/events-API-v2/01-Overview.md
 */
export function classifyPagerDuty(status: number, body: unknown, retryAfterMs?: number): SendResult {
  if (status >= 200 && status < 300) return { ok: true };
  const b = body as { message?: unknown; errors?: unknown } | null;
  const msg = b && typeof b.message === 'string' ? b.message : '';
  const errs = b && Array.isArray(b.errors) ? b.errors.filter((e): e is string => typeof e === 'string').join('; ') : '';
  const detail = `pagerduty ${status}${msg ? ` ${msg}` : ''}${errs ? `: ${errs}` : ''}`;
  if (status === 429) return fail(true, 'rate-limited', detail, retryAfterMs);
  if (status >= 500) return fail(true, 'server', detail);
  if (status === 400) return fail(false, 'client', detail);
  return classifyStatus(status, detail, retryAfterMs);
}

/** SES error codes that mean "this sender or account cannot send until a human acts". */
const SES_CONFIG = new Set([
  'MessageRejected', 'MailFromDomainNotVerifiedException', 'MailFromDomainNotVerified', 'ConfigurationSetDoesNotExistException',
  'ConfigurationSetDoesNotExist', 'ConfigurationSetSendingPausedException', 'AccountSendingPausedException',
  'AccountSuspendedException', 'SendingPausedException',
]);
const SES_AUTH = new Set(['AccessDenied', 'AccessDeniedException', 'SignatureDoesNotMatch', 'InvalidClientTokenId', 'UnrecognizedClientException', 'ExpiredToken']);
const SES_THROTTLE = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException']);

/**
 * An SES (v1 query protocol) error as the SDK surfaces it: `name` = the wire code.
 * Throttling shares one code for the rate limit (retryable) and the daily quota (not until the
 * window rolls): classify by message text.
 * https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html
 */
export function classifySesError(e: { name: string; message: string; httpStatus?: number }): SendFailure {
  const detail = `ses ${e.httpStatus ?? '-'} ${e.name}: ${e.message}`;
  if (SES_THROTTLE.has(e.name)) {
    // The daily quota does not roll for hours; AWS: "wait ... up to 10 minutes" for the rate limit.
    if (/daily message quota/i.test(e.message)) return fail(true, 'rate-limited', detail, 60 * 60_000);
    return fail(true, 'rate-limited', detail);
  }
  if (SES_CONFIG.has(e.name)) return fail(false, 'client', detail);
  if (SES_AUTH.has(e.name)) return fail(false, 'auth', detail);
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return fail(true, 'timeout', detail);
  if (e.httpStatus !== undefined && e.httpStatus >= 500) return fail(true, 'server', detail);
  if (e.httpStatus !== undefined && e.httpStatus >= 400) return fail(false, 'client', detail);
  return classifyTransportError(e);
}

/**
 * A request that could not even be built (the URL is invalid, or carries `user:pass@`, which the
 * Fetch standard refuses: https://fetch.spec.whatwg.org/#dom-request, step "If parsedURL includes
 * credentials, then throw a TypeError"): the configuration is wrong, so retrying cannot help and
 * the destination is not at fault (permanent, never a breaker failure).
 */
export function classifyUnsentRequest(message: string): SendFailure {
  return fail(false, 'client', `request not sent: ${message}`);
}

/** A transport failure with no response (timeout, refused, reset, DNS): retryable. */
export function classifyTransportError(e: { name?: string; message?: string; code?: string }): SendFailure {
  const name = e.name ?? '';
  const text = `${name} ${e.code ?? ''} ${e.message ?? ''}`.trim();
  if (name === 'TimeoutError' || name === 'AbortError' || /timeout|ETIMEDOUT/i.test(text)) return fail(true, 'timeout', `timeout: ${text}`);
  return fail(true, 'network', `network: ${text}`);
}

/**
 * An outgoing webhook's answer, as the Standard Webhooks delivery guidance reads it
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
 * "Delivery behaviour"): 2xx delivered; 3xx a failure, never followed (a redirect could point
 * anywhere, and retrying will not move the endpoint back: permanent, fix the URL); 410 Gone the
 * receiver asks to stop (permanent); 429 and 5xx retryable, honouring Retry-After; 408 a timeout;
 * 401/403 the receiver refuses our signature (permanent); any other 4xx permanent.
 */
export function classifyWebhook(status: number, retryAfterMs?: number): SendResult {
  if (status >= 200 && status < 300) return { ok: true, detail: `webhook ${status}` };
  if (status >= 300 && status < 400) return fail(false, 'client', `webhook ${status}: redirect not followed (set the receiver's url to the final address)`);
  if (status === 410) return fail(false, 'client', 'webhook 410 Gone: the receiver asks not to be sent any more');
  if (status === 429) return fail(true, 'rate-limited', 'webhook 429', retryAfterMs);
  if (status >= 500) return fail(true, 'server', `webhook ${status}`, retryAfterMs);
  return classifyStatus(status, `webhook ${status}`, retryAfterMs);
}
