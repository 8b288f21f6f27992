/**
 * Text hygiene shared by the channel formatters: escaping for Slack mrkdwn, truncation to vendor
 * limits (never failing), URL allow-listing and single-line text.
 *
 * Everything here is pure and total: any string in, a safe string out.
 */

/** The ellipsis appended where text was cut. One character, so budgets stay simple. */
export const ELLIPSIS = '…';

/**
 * Cuts `text` to at most `max` UTF-16 code units, ending in {@link ELLIPSIS} when cut. Never splits
 * a surrogate pair (a cut emoji would be an invalid string for Slack and SES).
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return ELLIPSIS;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  // High surrogate as the last kept unit: drop it too.
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters, so a value from an
 * alert cannot ping (`<!channel>`), mention (`<@U1>`) or link (`<http://x|y>`).
 * https://docs.slack.dev/messaging/formatting-message-text#escaping
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escapes `raw` with `escape` and fits the result into `max` characters: the cut is made on the raw
 * text, so an entity such as `&amp;` is never split in half.
 */
export function fitEscaped(raw: string, max: number, escape: (s: string) => string = escapeMrkdwn): string {
  const full = escape(raw);
  if (full.length <= max) return full;
  // Longest raw prefix whose escaped form plus the ellipsis fits (binary search: escaping only grows text).
  let lo = 0;
  let hi = Math.min(raw.length, max);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (escape(safePrefix(raw, mid)).length + ELLIPSIS.length <= max) lo = mid;
    else hi = mid - 1;
  }
  return escape(safePrefix(raw, lo)) + ELLIPSIS;
}

function safePrefix(text: string, n: number): string {
  if (n <= 0) return '';
  const code = text.charCodeAt(n - 1);
  return code >= 0xd800 && code <= 0xdbff ? text.slice(0, n - 1) : text.slice(0, n);
}

/** Replaces CR, LF and other line/paragraph separators with a space (email subjects, one-line summaries). */
export function singleLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029\u0085\t\v\f]+/g, ' ').trim();
}

/**
 * Returns the URL, normalised, when it is an absolute `http:` or `https:` URL; otherwise undefined.
 * Rejects `javascript:`, `data:`, relative and malformed URLs, so a label cannot inject a script
 * link into an email or a Slack button.
 */
export function safeHttpUrl(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.toString();
}

/** Formats epoch ms as an ISO-8601 UTC timestamp (`2026-11-22T05:26:07.000Z`); `unknown` when not finite. */
export function isoTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'unknown';
  return new Date(ms).toISOString();
}

/** Human duration, e.g. `1h 5m`, `42s`. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0s';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (!parts.length || (sec && !d && !h)) parts.push(`${sec}s`);
  return parts.join(' ');
}
