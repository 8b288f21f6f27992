/**
 * Starts a local HTTP server on 127.0.0.1 (a free port unless one is given) and stops it without
 * waiting for idle keep-alive connections: the one listen/stop of the local receivers, the local
 * Secrets Manager and the console.
 */
import type { Server } from 'node:http';

/** A listening loopback server. */
export interface Listening {
  readonly url: string;
  readonly port: number;
  /** Closes every connection and the server. */
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0 = a free port); rejects when the port is taken. */
export async function listenOnLoopback(server: Server, port = 0): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
