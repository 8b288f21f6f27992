/**
 * Redaction of secrets in text bound for failure details (delivery records, dead-letter attributes)
 * and log lines. One function, used by the channel failure classification (classify.ts), the
 * channel handler's thrown-error details, and every function's logger (a JSON replacer in
 * shared/adapters/observability), so a destination URL never lands whole anywhere:
 *
 * - URL userinfo: `https://user:pass@host/…` → `https://***@host/…` (RFC 3986 §3.2.1 deprecates
 *   `user:password` in URIs precisely because it ends up in logs);
 * - query parameters whose name says secret (`token`, `key`, `sig`, `signature`, `secret`,
 *   `password`, `credential`, `auth`, e.g. `X-Amz-Signature`, `api_key`, `access_token`):
 *   the value becomes `***`;
 * - Slack incoming-webhook and workflow URLs (`https://hooks.slack.com/services/T…/B…/…`): the
 *   whole path is the credential ("Keep it secret, keep it safe",
 *   https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks), so everything after
 *   the host is replaced;
 * - Slack tokens (`xoxb-…`, `xoxp-…`, `xapp-…`, https://docs.slack.dev/authentication/tokens) and
 *   `Bearer …` credentials.
 *
 * Linear time: every pattern is a fixed regular expression with bounded or non-overlapping
 * repetition (no nested quantifiers), and text without a candidate is returned after one scan.
 */

/** What replaces a secret. */
export const REDACTED = '***';

/** Query parameter names (case-insensitive, as a substring) whose value is a secret. */
const SECRET_PARAM = /token|key|sig|secret|passw|pwd|credential|auth/i;

/** `scheme://userinfo@`: userinfo has no `/ ? # @` or whitespace (RFC 3986 §3.2). */
const USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)[^\s/?#@]{1,1024}@/gi;
/** Slack webhook hosts: the path is the secret (commercial and GovSlack). */
const SLACK_HOOK = /\b(https?:\/\/hooks\.slack(?:-gov)?\.com)\/[^\s"'<>]*/gi;
/** A query or fragment parameter: separator, name (bounded), `=`, value. */
const PARAM = /([?&;#])([^=&#;\s"'<>]{1,64})=([^&#;\s"'<>]*)/g;
/** Slack token prefixes: bot, user, app-level, refresh, configuration (https://docs.slack.dev/authentication/tokens). */
const SLACK_TOKEN = /\b(xox[abeoprs]|xapp)-[A-Za-z0-9-]+/g;
const BEARER = /\b(Bearer\s+)[^\s"',;]+/gi;

/** A quick test that the text may hold anything {@link redactSecrets} changes. */
const CANDIDATE = /:\/\/|=|xox|xapp|bearer/i;

/** Returns `text` with every secret the module comment lists replaced by {@link REDACTED}. */
export function redactSecrets(text: string): string {
  if (!CANDIDATE.test(text)) return text;
  return text
    .replace(SLACK_HOOK, `$1/${REDACTED}`)
    .replace(USERINFO, `$1${REDACTED}@`)
    .replace(PARAM, (whole, sep: string, name: string) => (SECRET_PARAM.test(name) ? `${sep}${name}=${REDACTED}` : whole))
    .replace(SLACK_TOKEN, `$1-${REDACTED}`)
    .replace(BEARER, `$1${REDACTED}`);
}
