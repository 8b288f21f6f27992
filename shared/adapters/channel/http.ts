/**
 * The one HTTP call of the Slack and PagerDuty notifiers: fetch with a timeout, the body read as
 * text and, where it is JSON, parsed. Transport failures (timeout, refused, reset) come back as a
 * classified retryable failure instead of an exception; a request that cannot be built (an invalid
 * URL, or one with `user:pass@`) as a permanent one. Details are redacted by the classifier.
 */
import { classifyTransportError, classifyUnsentRequest, parseRetryAfter, type SendFailure } from '../../core/deliver/classify.ts';

/** What the notifiers need from a response. */
export interface HttpReply {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  readonly retryAfterMs: number | undefined;
}

/** The fetch function (global fetch by default; injectable). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** POSTs JSON; returns the reply, or a retryable failure when no reply came. */
export async function postJson(
  fetchFn: FetchLike,
  url: string,
  body: unknown,
  opts: { headers?: Record<string, string>; timeoutMs: number; nowMs: number },
): Promise<HttpReply | SendFailure> {
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...opts.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: 'error',
    });
    text = await res.text();
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string } };
    // Node's fetch throws a TypeError with no cause (or an ERR_INVALID_URL cause) when it cannot
    // build the request at all; network failures are TypeError('fetch failed') with the cause.
    if (e.name === 'TypeError' && (e.cause === undefined || e.cause.code === 'ERR_INVALID_URL')) return classifyUnsentRequest(e.message ?? 'invalid request');
    return classifyTransportError({ name: e.name ?? 'Error', message: e.cause?.code ?? e.message ?? '', code: e.cause?.code ?? '' });
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), opts.nowMs) };
}

/** True when `x` is a {@link SendFailure} rather than a reply. */
export const isFailure = (x: HttpReply | SendFailure): x is SendFailure => 'ok' in x;
