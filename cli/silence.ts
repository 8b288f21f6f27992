/**
 * `klaxon silence`: silences as amtool manages them (docs/routing.md, "Silences").
 *
 *   klaxon silence add --comment TEXT [--duration 1h | --end TIME] [--start TIME] [--author A] matcher...
 *   klaxon silence query [--expired] [--format table|json] [--quiet] [matcher...]
 *   klaxon silence expire ID...
 *   klaxon silence export FILE|-        (Alertmanager's JSON, what `amtool silence query -o json` prints)
 *   klaxon silence import FILE|-        (that JSON, or Klaxon's own `matchers: ['a="b"']`; all validated before any is stored)
 *
 * Every subcommand takes [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]:
 * the silences table is `--table`, else `<prefix>-silences` (local mode), else SILENCES_TABLE.
 * `expire` also makes the alerts a silence muted due for the timers' next re-check (the alerts
 * table: `--alerts-table`, else `<prefix>-alerts`, else ALERTS_TABLE; skipped when none is named).
 * Matchers follow Alertmanager's syntax and escaping (`\"`, `\\`, `\n`; any other backslash is
 * kept: `host=~"db\.example"`); a first argument without an operator is `alertname=<it>`, as amtool.
 */
import { alignedTable } from './table.ts';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseDuration } from '../shared/core/dispatch/duration.ts';
import {
  addSilence,
  expireSilences,
  formatSilenceMatchers,
  InvalidSilenceError,
  parseSilenceImport,
  querySilences,
  silenceState,
  SilenceExistsError,
  SilenceExpiredError,
  SilenceNotFoundError,
  toAlertmanagerJson,
  type Silence,
  type SilenceStore,
} from '../shared/core/dispatch/silence/index.ts';
import { DynamoMutedAlertIndex, DynamoSilenceStore } from '../shared/adapters/dynamodb/silence-store.ts';
import { EXIT, type CliIo } from './index.ts';
import { CliUsageError, clientConfig, parseAwsOptions, type AwsOptions } from './aws-options.ts';

const CONN = '[--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]';
const USAGE = `Usage: klaxon silence add --comment TEXT [--duration 1h | --end TIME] [--start TIME] [--author A] matcher... ${CONN}
       klaxon silence query [--expired] [--format table|json] [--quiet] [matcher...] ${CONN}
       klaxon silence expire ID... [--alerts-table NAME] ${CONN}
       klaxon silence export FILE|- ${CONN}
       klaxon silence import FILE|- ${CONN}
Matchers: name="value", name!="value", name=~"regex", name!~"regex" (Alertmanager's syntax).
`;

/** A time given on the command line: RFC 3339, or epoch milliseconds. */
function parseTime(flag: string, v: string): number {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new CliUsageError(`--${flag}: '${v}' is not a time (RFC 3339, e.g. 2026-11-30T08:00:00Z)`);
  return ms;
}

/** amtool: a first matcher without an operator is an alert name. */
function withAlertname(ms: readonly string[]): string[] {
  const [first, ...rest] = ms;
  if (first === undefined || /(=~|!~|!=|=)/.test(first)) return [...ms];
  return [`alertname=${JSON.stringify(first)}`, ...rest];
}

/** Aligned table of silences. */
export function formatSilenceTable(silences: readonly Silence[], nowMs: number): string {
  if (silences.length === 0) return 'no silences\n';
  const rows = [
    ['ID', 'STATE', 'MATCHERS', 'STARTS AT', 'ENDS AT', 'CREATED BY', 'COMMENT'],
    ...silences.map((s) => [s.id, silenceState(s, nowMs), formatSilenceMatchers(s.matchers), new Date(s.startsAtMs).toISOString(), new Date(s.endsAtMs).toISOString(), s.createdBy, s.comment]),
  ];
  return alignedTable(rows);
}

function tableName(o: AwsOptions, env: NodeJS.ProcessEnv, flag: string, logical: string, envName: string): string | undefined {
  return o.flags[flag] ?? (o.prefix ? `${o.prefix}-${logical}` : env[envName]);
}

async function readInput(path: string, io: CliIo): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  let text = '';
  for await (const chunk of io.stdin) text += chunk.toString();
  return text;
}

/** Runs `klaxon silence ...`. `deps` replace the DynamoDB store and the clock (tests, simulations). */
export async function run(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
  deps: { readonly store?: SilenceStore; readonly now?: () => number; readonly newId?: () => string } = {},
): Promise<number> {
  const [sub, ...rest] = args;
  const fail = (msg: string, code: number): number => {
    io.stderr.write(`klaxon silence${sub ? ` ${sub}` : ''}: ${msg}\n${code === EXIT.usage ? `\n${USAGE}` : ''}`);
    return code;
  };
  if (!sub || !['add', 'query', 'expire', 'import', 'export'].includes(sub)) return fail(sub ? `unknown subcommand '${sub}'` : 'a subcommand is required', EXIT.usage);
  let o: AwsOptions;
  try {
    o = parseAwsOptions(rest, env, ['comment', 'duration', 'start', 'end', 'author', 'format', 'table', 'alerts-table'], ['expired', 'quiet']);
  } catch (err) {
    return fail((err as Error).message, EXIT.usage);
  }
  const now = (deps.now ?? Date.now)();
  const newId = deps.newId ?? randomUUID;
  const table = tableName(o, env, 'table', 'silences', 'SILENCES_TABLE');
  if (!deps.store && !table) return fail('name the silences table with --table (or --prefix for local mode, or SILENCES_TABLE)', EXIT.usage);
  const client = deps.store ? undefined : new DynamoDBClient(clientConfig(o, env));
  const store = deps.store ?? new DynamoSilenceStore(client!, table!);
  try {
    switch (sub) {
      case 'add': {
        const comment = o.flags.comment;
        if (comment === undefined) return fail('--comment is required (say why)', EXIT.usage);
        let durationMs: number | undefined;
        if (o.flags.duration !== undefined) {
          durationMs = parseDuration(o.flags.duration);
          if (durationMs === undefined) return fail(`--duration: '${o.flags.duration}' is not a duration (e.g. 30m, 2h, 1d)`, EXIT.usage);
        }
        const startsAtMs = o.flags.start !== undefined ? parseTime('start', o.flags.start) : undefined;
        const endsAtMs = o.flags.end !== undefined ? parseTime('end', o.flags.end) : undefined;
        if (o.positionals.length === 0) return fail('at least one matcher is required', EXIT.usage);
        const s = await addSilence(
          store,
          {
            matchers: withAlertname(o.positionals),
            ...(startsAtMs !== undefined ? { startsAtMs } : {}),
            ...(endsAtMs !== undefined ? { endsAtMs } : { durationMs: durationMs ?? 3_600_000 }),
            createdBy: o.flags.author ?? env.USER ?? 'klaxon',
            comment,
          },
          newId(),
          now,
        );
        io.stdout.write(`${s.id}\n`);
        return EXIT.ok;
      }
      case 'query': {
        const format = o.flags.format ?? 'table';
        if (!['table', 'json'].includes(format)) return fail('--format is table|json', EXIT.usage);
        const found = querySilences(await store.list(), o.positionals, { expired: o.switches.has('expired') }, now);
        if (o.switches.has('quiet')) for (const s of found) io.stdout.write(`${s.id}\n`);
        else if (format === 'json') io.stdout.write(`${JSON.stringify(found.map((s) => toAlertmanagerJson(s, now)), null, 2)}\n`);
        else io.stdout.write(formatSilenceTable(found, now));
        return EXIT.ok;
      }
      case 'expire': {
        if (o.positionals.length === 0) return fail('at least one silence id is required', EXIT.usage);
        const alertsTable = tableName(o, env, 'alerts-table', 'alerts', 'ALERTS_TABLE');
        const muted = client && alertsTable ? new DynamoMutedAlertIndex(client, alertsTable) : undefined;
        for (const s of await expireSilences({ silences: store, ...(muted ? { muted } : {}) }, o.positionals, now)) io.stdout.write(`expired ${s.id}\n`);
        return EXIT.ok;
      }
      case 'export': {
        const [file] = o.positionals;
        if (!file) return fail('a file (or - for standard output) is required', EXIT.usage);
        const text = `${JSON.stringify((await store.list()).sort((a, b) => a.id.localeCompare(b.id)).map((s) => toAlertmanagerJson(s, now)), null, 2)}\n`;
        if (file === '-') io.stdout.write(text);
        else await writeFile(file, text);
        return EXIT.ok;
      }
      case 'import': {
        const [file] = o.positionals;
        if (!file) return fail('a file (or - for standard input) is required', EXIT.usage);
        let doc: unknown;
        try {
          doc = JSON.parse(await readInput(file, io));
        } catch (err) {
          return fail(`${file}: ${(err as Error).message}`, EXIT.failed);
        }
        // Every silence is validated before the first is stored: a bad file stores nothing.
        const silences = parseSilenceImport(doc, newId, now);
        for (const s of silences) await store.put(s);
        io.stdout.write(`imported ${silences.length} silence${silences.length === 1 ? '' : 's'}\n`);
        return EXIT.ok;
      }
    }
    return EXIT.usage;
  } catch (err) {
    if (err instanceof CliUsageError) return fail(err.message, EXIT.usage);
    if (err instanceof InvalidSilenceError) return fail(`invalid silence: ${err.message}`, EXIT.failed);
    if (err instanceof SilenceNotFoundError || err instanceof SilenceExpiredError || err instanceof SilenceExistsError) return fail(err.message, EXIT.failed);
    return fail(`cannot reach ${table ?? 'the silences table'}${o.endpoint ? ` at ${o.endpoint}` : ''}: ${(err as Error).message}`, EXIT.external);
  } finally {
    client?.destroy();
  }
}
