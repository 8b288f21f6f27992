/**
 * The outgoing webhook's HTTP POST, on node:http/https rather than fetch: the socket's DNS lookup
 * is ours, so the SSRF guard ({@link refuseAddress}) judges the very address the request connects
 * to (a check before fetch would be undone by DNS rebinding). Redirects are never followed (node's
 * http client does not), the whole request is bounded by a timeout, and the answer's body is
 * discarded, read to at most {@link MAX_REPLY_BYTES} (the status decides; a receiver answering
 * megabytes cannot fill memory). Transport failures come back as a classified failure, never a
 * throw.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { classifyTransportError, classifyUnsentRequest, classifyWebhook, parseRetryAfter, type SendResult } from '../../core/deliver/classify.ts';
import { refuseAddress } from './ssrf.ts';

/** Most of a reply's body read before the connection is dropped (the body itself is not used). */
export const MAX_REPLY_BYTES = 4096;

/** Resolves a host name to its addresses (node:dns lookup by default; tests inject names). */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** A refused target, carried through the socket's lookup to the request's error. */
class TargetRefusedError extends Error {
  readonly code = 'EWEBHOOKTARGET';
}

/** Options of {@link postWebhook}. */
export interface PostWebhookOptions {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly nowMs: number;
  readonly allowPrivateTargets: boolean;
  readonly resolve?: Resolver;
  readonly userAgent?: string;
}

/** POSTs a signed webhook; the classified result. */
export async function postWebhook(o: PostWebhookOptions): Promise<SendResult> {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return classifyUnsentRequest('invalid webhook url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return classifyUnsentRequest(`webhook url scheme ${url.protocol} is not http(s)`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An address literal never reaches the lookup: judge it here.
  if (isIP(host) !== 0) {
    const refused = refuseAddress(host, o.allowPrivateTargets);
    if (refused) return { ok: false, retryable: false, reason: 'client', detail: `webhook target ${refused}` };
  }
  const resolve = o.resolve ?? systemResolver;
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const f = typeof options === 'object' ? options.family : options;
        const want = f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : (f ?? 0);
        const usable = addresses.filter((a) => want === 0 || a.family === want);
        if (usable.length === 0) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '', 4);
        for (const a of usable) {
          const refused = refuseAddress(a.address, o.allowPrivateTargets);
          if (refused) return callback(new TargetRefusedError(`${hostname} resolves to ${a.address}: ${refused}`), '', 4);
        }
        if (typeof options === 'object' && options.all) return (callback as unknown as (e: null, a: readonly LookupAddress[]) => void)(null, usable);
        return callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, '', 4),
    );
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolveResult) => {
    let settled = false;
    const done = (r: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolveResult(r);
    };
    const req = send(
      url,
      {
        method: 'POST',
        lookup,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(o.body)),
          'user-agent': o.userAgent ?? 'Klaxon-Webhooks',
          ...o.headers,
        },
      },
      (res: IncomingMessage) => {
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          kept += chunk.length;
          // Enough read: the rest is discarded (a huge answer never fills memory).
          if (kept > MAX_REPLY_BYTES) res.destroy();
        });
        const finish = (): void => {
          const status = res.statusCode ?? 0;
          const ra = res.headers['retry-after'];
          done(classifyWebhook(status, parseRetryAfter(Array.isArray(ra) ? ra[0] : ra, o.nowMs)));
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { name: 'TimeoutError' }));
    }, o.timeoutMs);
    req.on('error', (err: Error & { code?: string; cause?: unknown }) => {
      const refused = err instanceof TargetRefusedError ? err : err.cause instanceof TargetRefusedError ? err.cause : undefined;
      if (refused) return done({ ok: false, retryable: false, reason: 'client', detail: `webhook target ${refused.message}` });
      done(classifyTransportError({ name: err.name, message: err.message, code: err.code ?? '' }));
    });
    req.end(o.body);
  });
}
