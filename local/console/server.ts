/**
 * The local console's HTTP server (loopback only): the page at `/`, the state as JSON at
 * `/api/state`, and the same state pushed as Server-Sent Events at `/api/events` each second, so
 * the page updates without reloading.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleSnapshot } from './observer.ts';
import { listenOnLoopback } from '../runtime/listen.ts';

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
}

/** Starts the console on 127.0.0.1 (port 0 = a free one). */
export async function startConsole(opts: ConsoleOptions): Promise<ConsoleServer> {
  const clients = new Set<ServerResponse>();
  const page = await readFile(join(STATIC_DIR, 'index.html'));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
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
