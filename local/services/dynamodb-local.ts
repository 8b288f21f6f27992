import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { freePort } from './ports.ts';

/** A running DynamoDB Local (Amazon's own jar, shipped in the npm package `amplify-dynamodb-simulator`). */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Thrown when DynamoDB Local cannot be started; the message says what to install or check. */
export class DynamoDbLocalError extends Error {
  override name = 'DynamoDbLocalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('amplify-dynamodb-simulator/package.json');
  } catch (cause) {
    throw new DynamoDbLocalError(
      'DynamoDB Local not found: the npm package `amplify-dynamodb-simulator` is missing. Run `npm install`.',
      { cause },
    );
  }
  const dir = join(dirname(pkg), 'emulator');
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new DynamoDbLocalError(`DynamoDB Local jar not found in ${dir}; reinstall amplify-dynamodb-simulator.`);
  }
  return dir;
}

function checkJava(java: string): void {
  const res = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new DynamoDbLocalError(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. ' +
        'Install it with `sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) ' +
        'or `brew install openjdk@17` (macOS), or set JAVA_HOME.',
      { cause: res.error },
    );
  }
}

async function waitReady(endpoint: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new DynamoDbLocalError(`DynamoDB Local exited with code ${proc.exitCode}`);
    try {
      // Any HTTP answer means the server is up (it answers 400 to an unsigned GET).
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new DynamoDbLocalError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, { cause: lastErr });
}

/**
 * Starts DynamoDB Local in memory on a free loopback port.
 * @param opts.port fixed port (default: a free one)
 * @param opts.dbPath directory to persist to instead of memory
 */
export async function startDynamoDbLocal(opts: { port?: number; dbPath?: string; timeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  const dir = emulatorDir();
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  checkJava(java);
  const port = opts.port ?? (await freePort());
  const args = ['-Xmx512m', '-Djava.library.path=./DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar', '-port', String(port)];
  if (opts.dbPath) args.push('-sharedDb', '-dbPath', opts.dbPath);
  else args.push('-inMemory', '-sharedDb');
  const proc = spawn(java, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitReady(endpoint, proc, opts.timeoutMs ?? 30_000);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new DynamoDbLocalError(`${(err as Error).message}${stderr ? `\n${stderr}` : ''}`, { cause: err });
  }
  return {
    endpoint,
    port,
    stop: async () => {
      if (proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}
