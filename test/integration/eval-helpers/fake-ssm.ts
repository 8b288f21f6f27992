/**
 * A minimal SSM Parameter Store over HTTP (AWS JSON 1.1 protocol) for tests: there is no local SSM
 * emulator. It implements only GetParametersByPath (paginated), PutParameter and DeleteParameters,
 * enough for the real SDK client used by the SSM rule source and `klaxon rules push --to ssm`.
 */
import { createServer, type Server } from 'node:http';

/** A running fake. */
export interface FakeSsm {
  readonly endpoint: string;
  readonly parameters: Map<string, string>;
  /** GetParametersByPath calls served. */
  calls(): number;
  /** Make the next requests fail with a 500 (service unavailable). */
  failNext(n: number): void;
  stop(): Promise<void>;
}

/** Starts the fake on a free loopback port. */
export async function startFakeSsm(): Promise<FakeSsm> {
  const parameters = new Map<string, string>();
  let calls = 0;
  let failures = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.')[1];
      const input = JSON.parse(body || '{}') as Record<string, unknown>;
      const send = (status: number, out: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(out));
      };
      if (failures > 0) {
        failures--;
        return send(500, { __type: 'InternalServerError', message: 'injected' });
      }
      if (target === 'GetParametersByPath') {
        calls++;
        const path = String(input.Path).replace(/\/+$/, '');
        const names = [...parameters.keys()].filter((n) => n.startsWith(`${path}/`)).sort();
        const start = Number(input.NextToken ?? 0);
        const page = names.slice(start, start + 2); // small pages, so pagination is exercised
        return send(200, {
          Parameters: page.map((n) => ({ Name: n, Type: 'String', Value: parameters.get(n), Version: 1 })),
          ...(start + 2 < names.length ? { NextToken: String(start + 2) } : {}),
        });
      }
      if (target === 'PutParameter') {
        const name = String(input.Name);
        if (parameters.has(name) && !input.Overwrite) return send(400, { __type: 'ParameterAlreadyExists', message: name });
        parameters.set(name, String(input.Value));
        return send(200, { Version: 1, Tier: 'Standard' });
      }
      if (target === 'DeleteParameters') {
        const names = input.Names as string[];
        for (const n of names) parameters.delete(n);
        return send(200, { DeletedParameters: names, InvalidParameters: [] });
      }
      return send(400, { __type: 'InvalidAction', message: `fake SSM does not implement ${target}` });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    parameters,
    calls: () => calls,
    failNext: (n) => {
      failures = n;
    },
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
