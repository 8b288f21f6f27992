/**
 * The machinery shared by the local receivers (Slack, PagerDuty, SES faults): an HTTP server on
 * 127.0.0.1, a record of what it received (`GET /_received`), a behaviour schedule (latency,
 * "fail the next N requests", "fail until time T", a per-request function) changeable at run time
 * (`POST /_schedule`, so local mode's console can trigger an outage), and `POST /_reset`.
 *
 * Each receiver turns a scheduled {@link Fault} into its vendor's exact error answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Clock } from '../../shared/core/model/index.ts';
import { listenOnLoopback } from '../runtime/listen.ts';

/** A failure to answer with; each receiver renders it in its vendor's format. */
export interface Fault {
  /** HTTP status (e.g. 503, 429, 404). */
  readonly status: number;
  /** Vendor error code (Slack `no_service`, SES `MessageRejected`...); receivers pick a default by status. */
  readonly code?: string;
  /** Sends `Retry-After: <seconds>` (429). */
  readonly retryAfterSeconds?: number;
}

/** One request a receiver got (control endpoints excluded). */
export interface ReceivedRequest {
  /** Receiver clock time (epoch ms). */
  readonly atMs: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Parsed JSON body (or form fields for SES), when it parsed. */
  readonly json?: unknown;
  /** Status the receiver answered. */
  readonly status: number;
}

/** Behaviour, all parts optional; later parts are checked only when earlier ones do not fault. */
export interface Schedule {
  /** Delay before answering (ms, real time). */
  readonly latencyMs?: number;
  /** Fail the next `count` requests with `fault`. */
  readonly failNext?: { readonly count: number; readonly fault: Fault };
  /** Fail every request while the receiver's clock is before `untilMs`. */
  readonly failUntil?: { readonly untilMs: number; readonly fault: Fault };
  /** Per-request decision (not settable over HTTP). */
  readonly decide?: (req: { readonly path: string; readonly json: unknown; readonly body: string }) => Fault | undefined;
}

/** What every receiver returns. */
export interface Receiver {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** Copies of the requests received so far, oldest first. */
  received(): ReceivedRequest[];
  /** Replaces the behaviour schedule. */
  setSchedule(s: Schedule): void;
  /** Forgets received requests. */
  clear(): void;
  stop(): Promise<void>;
}

/** Common options. */
export interface ReceiverOptions {
  /** Port (default: a free one). */
  readonly port?: number;
  readonly schedule?: Schedule;
  /** Clock for `failUntil` and `atMs` (default: the wall clock); tests inject a simulated one. */
  readonly clock?: Clock;
}

/** A receiver's own answer to a request. */
export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Internals handed to a receiver's vendor logic. */
export interface VendorRequest {
  readonly method: string;
  readonly path: string;
  /** The query string without `?` ('' when none). */
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Starts an HTTP receiver. `parse` decodes a body for recording and `decide`; `answer` produces the
 * vendor's reply (success or validation error); `renderFault` turns a scheduled fault into the
 * vendor's error reply.
 */
export async function startHttpReceiver(
  opts: ReceiverOptions,
  vendor: {
    parse(req: VendorRequest): unknown;
    answer(req: VendorRequest, parsed: unknown): Reply;
    renderFault(req: VendorRequest, fault: Fault): Reply;
    /**
     * A receiver's own control endpoints that do I/O (the Slack receiver's `_click`, the PagerDuty
     * receiver's `_webhook`): undefined for a request that is not one. Not recorded, never faulted.
     */
    control?(req: VendorRequest): Promise<Reply | undefined>;
  },
): Promise<Receiver> {
  const clock = opts.clock ?? { now: () => Date.now() };
  let schedule: Schedule = opts.schedule ?? {};
  let failNextLeft = schedule.failNext?.count ?? 0;
  const received: ReceivedRequest[] = [];

  const setSchedule = (s: Schedule): void => {
    schedule = s;
    failNextLeft = s.failNext?.count ?? 0;
  };

  const send = (res: ServerResponse, r: Reply): void => {
    res.writeHead(r.status, { 'content-type': r.contentType, ...r.headers });
    res.end(r.body);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const method = req.method ?? 'GET';
        if (path === '/_received' && method === 'GET') return send(res, { status: 200, contentType: 'application/json', body: JSON.stringify(received) });
        if (path === '/_reset' && method === 'POST') {
          received.length = 0;
          setSchedule({});
          return send(res, { status: 200, contentType: 'application/json', body: '{"ok":true}' });
        }
        if (path === '/_schedule' && method === 'POST') {
          try {
            setSchedule(JSON.parse(body || '{}') as Schedule);
            return send(res, { status: 200, contentType: 'application/json', body: '{"ok":true}' });
          } catch {
            return send(res, { status: 400, contentType: 'application/json', body: '{"ok":false,"error":"schedule is not JSON"}' });
          }
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const vreq: VendorRequest = { method, path, query: (req.url ?? '').split('?')[1] ?? '', headers, body };
        if (vendor.control && path.startsWith('/_')) {
          const r = await vendor.control(vreq).catch((err: unknown): Reply => ({ status: 500, contentType: 'application/json', body: JSON.stringify({ ok: false, error: (err as Error).message }) }));
          if (r) return send(res, r);
        }
        const parsed = vendor.parse(vreq);
        const s = schedule;
        if (s.latencyMs) await new Promise((r) => setTimeout(r, s.latencyMs));
        let fault: Fault | undefined;
        if (s.failNext && failNextLeft > 0) {
          failNextLeft -= 1;
          fault = s.failNext.fault;
        } else if (s.failUntil && clock.now() < s.failUntil.untilMs) {
          fault = s.failUntil.fault;
        } else if (s.decide) {
          fault = s.decide({ path, json: parsed, body });
        }
        const reply = fault ? vendor.renderFault(vreq, fault) : vendor.answer(vreq, parsed);
        received.push({ atMs: clock.now(), method, path, headers, body, ...(parsed !== undefined ? { json: parsed } : {}), status: reply.status });
        send(res, reply);
      })();
    });
  });
  const { url, port, stop } = await listenOnLoopback(server, opts.port);
  return {
    url,
    port,
    received: () => received.slice(),
    setSchedule,
    clear: () => {
      received.length = 0;
    },
    stop,
  };
}

/** `Retry-After` header for a fault, when it has one. */
export const retryAfterHeader = (f: Fault): Record<string, string> => (f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {});

/** JSON.parse or undefined. */
export function tryJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
