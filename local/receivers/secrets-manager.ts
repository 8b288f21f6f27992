/**
 * A local AWS Secrets Manager for GetSecretValue only, speaking the real JSON 1.1 protocol
 * (`POST /`, `X-Amz-Target: secretsmanager.GetSecretValue`, `Content-Type:
 * application/x-amz-json-1.1`), so the real `@aws-sdk/client-secrets-manager` (and Powertools'
 * SecretsProvider on top of it) works against it. There is no Secrets Manager emulator installed
 * here, hence this ~80-line stand-in. Errors are `{"__type": "...", "message": "..."}` with the
 * `x-amzn-ErrorType` header, as the service answers.
 *
 * Use with `AWS_ENDPOINT_URL_SECRETS_MANAGER=<url>` or an explicit client `endpoint`.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listenOnLoopback } from '../runtime/listen.ts';

/** A started local Secrets Manager. */
export interface SecretsManagerLocal {
  readonly url: string;
  readonly port: number;
  /** Sets (or replaces) a secret; objects are stored as JSON text. */
  setSecret(name: string, value: string | object): void;
  /** GetSecretValue calls served (for cache tests). */
  calls(): number;
  stop(): Promise<void>;
}

/** Starts it on 127.0.0.1 with initial secrets. */
export async function startSecretsManagerLocal(opts: { port?: number; secrets?: Readonly<Record<string, string | object>> } = {}): Promise<SecretsManagerLocal> {
  const secrets = new Map<string, { value: string; version: string; created: number }>();
  const setSecret = (name: string, value: string | object): void => {
    secrets.set(name, { value: typeof value === 'string' ? value : JSON.stringify(value), version: randomUUID(), created: Math.floor(Date.now() / 1000) });
  };
  for (const [k, v] of Object.entries(opts.secrets ?? {})) setSecret(k, v);
  let calls = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown, errorType?: string): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        return reply(400, { __type: 'UnknownOperationException', message: `operation ${target || '(none)'} is not supported by the local Secrets Manager` }, 'UnknownOperationException');
      }
      let input: { SecretId?: unknown };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: unknown };
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'body is not JSON' }, 'SerializationException');
      }
      calls += 1;
      const id = typeof input.SecretId === 'string' ? input.SecretId : '';
      const name = id.startsWith('arn:') ? (id.split(':secret:')[1] ?? '').replace(/-[A-Za-z0-9]{6}$/, '') : id;
      const s = secrets.get(name);
      if (!s) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
      reply(200, {
        ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-AbCdEf`,
        Name: name,
        SecretString: s.value,
        VersionId: s.version,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: s.created,
      });
    });
  });
  const { url, port, stop } = await listenOnLoopback(server, opts.port);
  return {
    url,
    port,
    setSecret,
    calls: () => calls,
    stop,
  };
}
