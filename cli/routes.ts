import { EXIT, type CliIo } from './index.ts';

/** Placeholder until the 'routes' commands land (owned by the issue that builds them). */
export async function run(_args: readonly string[], io: CliIo): Promise<number> {
  io.stderr.write("klaxon routes: not available in this build yet\n");
  return EXIT.usage;
}
