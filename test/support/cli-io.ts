/** The standard streams of a `klaxon` command in a test: what it wrote, and optional stdin text. */
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../../cli/index.ts';

/** A {@link CliIo} whose stdout and stderr are kept as text; `stdin` is what the command reads. */
export function captureIo(stdin = ''): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return { io: { stdout, stderr, stdin: Readable.from(stdin ? [stdin] : []) }, out: () => o, err: () => e };
}
