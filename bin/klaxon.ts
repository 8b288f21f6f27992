#!/usr/bin/env -S npx tsx
/**
 * The `klaxon` command line. Each command group lives in `cli/<group>.ts` and exports
 * `run(args, io): Promise<number>` returning the process exit code:
 * 0 success, 1 the thing checked failed (invalid rules, failing rule tests), 2 usage error,
 * 3 an external system failed (AWS, network).
 */
import { COMMANDS, usage } from '../cli/index.ts';

const [group, ...rest] = process.argv.slice(2);
if (!group || group === '--help' || group === '-h' || group === 'help') {
  process.stdout.write(usage());
  process.exit(group ? 0 : 2);
}
const cmd = COMMANDS[group];
if (!cmd) {
  process.stderr.write(`klaxon: unknown command '${group}'\n\n${usage()}`);
  process.exit(2);
}
const mod = await cmd.load();
const code = await mod.run(rest, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
process.exitCode = code;
