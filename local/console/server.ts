/**
 * The local console's HTTP server (loopback only): the page at `/`, the state as JSON at
 * `/api/state`, and the same state pushed as Server-Sent Events at `/api/events` each second, so
 * the page updates without reloading; the analytics view at `/analytics` (./analytics.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleSnapshot } from './observer.ts';
import type { ConsoleSilences } from './silences.ts';
import { handleAnalyticsGet, type ConsoleAnalytics } from './analytics.ts';
import { InvalidSilenceError, SilenceExpiredError, SilenceNotFoundError } from '../../shared/core/dispatch/silence/index.ts';
import { listenOnLoopback } from '../runtime/listen.ts';
import { SLACK_ACTION_IDS, SLACK_GROUP_ACTION_IDS, SLACK_REMEDIATION_ACTION_IDS } from '../../shared/core/format/slack.ts';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');

/** A running console. */
export interface ConsoleServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Options of {@link startConsole}. */
export interface ConsoleOptions {
  readonly port?: number;
  readonly snapshot: () => Promise<ConsoleSnapshot>;
  /** How often SSE clients get a new snapshot (default 1000 ms). */
  readonly pushEveryMs?: number;
  /** Silences: `POST /api/silences` adds one, `POST /api/silences/<id>/expire` expires one (absent: 405). */
  readonly silences?: ConsoleSilences;
  /** The analytics view: `/analytics`, `/api/analytics`, `/vendor/chart.js` (./analytics.ts; absent: the API answers 404). */
  readonly analytics?: ConsoleAnalytics;
  /**
   * The alerts' Acknowledge / Silence buttons: `POST /api/click` `{ fingerprint, action_id }` goes
   * through the local Slack receiver's `_click` (a signed interactivity payload to the interactions
   * endpoint), the same code as a click in Slack (absent: 405).
   */
  readonly click?: (req: { readonly fingerprint: string; readonly action_id: string }) => Promise<{ readonly status: number; readonly body: string }>;
}

/** The buttons the console may press (shared/core/format/slack.ts action ids). */
const CONSOLE_ACTION_IDS = new Set(
  [...Object.values(SLACK_ACTION_IDS), ...Object.values(SLACK_GROUP_ACTION_IDS), ...Object.values(SLACK_REMEDIATION_ACTION_IDS)].filter((id) => id !== SLACK_ACTION_IDS.runbook && id !== SLACK_ACTION_IDS.dashboard),
);

const MAX_BODY_BYTES = 16_384;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY_BYTES) throw new InvalidSilenceError('(body)', `larger than ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidSilenceError('(body)', 'not JSON');
  }
}

/** The silence actions: JSON in, JSON out; a refused silence is a 400 naming the field. */
async function handleSilencePost(path: string, req: IncomingMessage, res: ServerResponse, silences: ConsoleSilences): Promise<void> {
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  // JSON only: a page on another origin cannot send it without a CORS preflight, which is never answered.
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return json(415, { error: 'send application/json' });
  try {
    const expire = /^\/api\/silences\/([^/]+)\/expire$/.exec(path);
    if (path === '/api/silences') return json(201, await silences.add(await readJson(req)));
    if (expire) return json(200, await silences.expire(decodeURIComponent(expire[1]!)));
    return json(404, { error: 'not found' });
  } catch (err) {
    if (err instanceof InvalidSilenceError) return json(400, { error: err.message, field: err.field });
    if (err instanceof SilenceNotFoundError) return json(404, { error: err.message });
    if (err instanceof SilenceExpiredError) return json(409, { error: err.message });
    throw err;
  }
}

/** Starts the console on 127.0.0.1 (port 0 = a free one). */
export async function startConsole(opts: ConsoleOptions): Promise<ConsoleServer> {
  const clients = new Set<ServerResponse>();
  const page = await readFile(join(STATIC_DIR, 'index.html'));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'POST' && opts.silences && path.startsWith('/api/silences')) {
      await handleSilencePost(path, req, res, opts.silences);
      return;
    }
    if (req.method === 'POST' && opts.click && path === '/api/click') {
      const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return json(415, { error: 'send application/json' });
      let body: { fingerprint?: unknown; action_id?: unknown };
      try {
        body = (await readJson(req)) as typeof body;
      } catch (err) {
        return json(400, { error: (err as Error).message });
      }
      if (typeof body.fingerprint !== 'string' || typeof body.action_id !== 'string' || !CONSOLE_ACTION_IDS.has(body.action_id as never)) return json(400, { error: 'send { fingerprint, action_id } with one of Klaxon\'s button ids' });
      const r = await opts.click({ fingerprint: body.fingerprint, action_id: body.action_id });
      return json(r.status >= 200 && r.status < 300 ? 200 : 502, { status: r.status, body: r.body, ...(r.status >= 300 ? { error: `${r.status} ${r.body}` } : {}) });
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (await handleAnalyticsGet(path, url, res, opts.analytics)) return;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
      return;
    }
    if (path === '/api/state') {
      const snap = await opts.snapshot();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(snap));
      return;
    }
    if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      res.write(`data: ${JSON.stringify(await opts.snapshot())}\n\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String((err as Error).message));
    });
  });
  const { url, port, stop } = await listenOnLoopback(server, opts.port);

  let pushing = false;
  const timer = setInterval(() => {
    if (clients.size === 0 || pushing) return;
    pushing = true;
    opts
      .snapshot()
      .then((snap) => {
        const data = `data: ${JSON.stringify(snap)}\n\n`;
        for (const c of clients) c.write(data);
      })
      .catch(() => undefined)
      .finally(() => {
        pushing = false;
      });
  }, opts.pushEveryMs ?? 1000);

  return {
    url,
    port,
    stop: async () => {
      clearInterval(timer);
      for (const c of clients) c.end();
      clients.clear();
      await stop();
    },
  };
}
