import type { Server } from 'node:http';

/** A running SES emulator (aws-ses-v2-local): accepts SendEmail and shows what it got at GET /store. */
export interface SesLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts aws-ses-v2-local on a free loopback port. */
export async function startSesLocal(opts: { port?: number } = {}): Promise<SesLocal> {
  const mod = (await import('aws-ses-v2-local')) as unknown as {
    default: (o: { host: string; port: number }) => Promise<Server>;
  };
  const server = await mod.default({ host: '127.0.0.1', port: opts.port ?? 0 });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
