import { startFauxqs } from 'fauxqs';

/** A running SQS emulator (fauxqs). */
export interface SqsLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts fauxqs on a free port (it binds 0.0.0.0; we talk to it on loopback). */
export async function startSqsLocal(opts: { port?: number } = {}): Promise<SqsLocal> {
  const server = await startFauxqs({ port: opts.port ?? 0, logger: false });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    stop: async () => {
      await server.stop();
    },
  };
}
