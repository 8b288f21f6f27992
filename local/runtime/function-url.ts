/**
 * A local Lambda Function URL: a loopback HTTP server that turns each request into the event Lambda
 * gives a function behind a Function URL (payload format 2.0: rawPath, rawQueryString, lower-case
 * headers, the body as text or base64 with `isBase64Encoded`) and writes the function's answer back.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 *
 * Like Lambda, it refuses a request body over 6 MB (the synchronous invocation payload limit)
 * before the function sees it; the function applies its own, smaller bound.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { listenOnLoopback, type Listening } from './listen.ts';

/** Lambda's synchronous invocation payload limit (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const FUNCTION_URL_MAX_BODY_BYTES = 6 * 1024 * 1024;

/** Content types Lambda passes as text (others are base64-encoded). */
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/;

/** Starts the local Function URL for `invoke` (a free port unless one is given). */
export async function startFunctionUrl(invoke: (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>, port = 0): Promise<Listening> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > FUNCTION_URL_MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        if (tooLarge) {
          res.writeHead(413, { 'content-type': 'application/json' }).end('{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}');
          return;
        }
        const body = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
        const [rawPath = '/', rawQueryString = ''] = (req.url ?? '/').split('?');
        const text = TEXT_TYPES.test(headers['content-type'] ?? '');
        const now = Date.now();
        const event = {
          version: '2.0',
          routeKey: '$default',
          rawPath,
          rawQueryString,
          headers,
          requestContext: {
            accountId: 'anonymous',
            apiId: 'local',
            domainName: headers.host ?? '127.0.0.1',
            domainPrefix: 'local',
            http: { method: req.method ?? 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
            requestId: randomUUID(),
            routeKey: '$default',
            stage: '$default',
            time: new Date(now).toISOString(),
            timeEpoch: now,
          },
          ...(body.length ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
          isBase64Encoded: body.length > 0 && !text,
        } as LambdaFunctionURLEvent;
        let result: LambdaFunctionURLResult;
        try {
          result = await invoke(event);
        } catch (err) {
          // Lambda answers 502 when the function fails.
          res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: (err as Error).message }));
          return;
        }
        const r = typeof result === 'string' ? { statusCode: 200, body: result } : result;
        res.writeHead(r.statusCode ?? 200, (r.headers ?? {}) as Record<string, string>);
        res.end(r.isBase64Encoded && r.body ? Buffer.from(r.body, 'base64') : (r.body ?? ''));
      })();
    });
  });
  return listenOnLoopback(server, port);
}
