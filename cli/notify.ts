/**
 * `klaxon notify test --routes FILE --alerts FILE.jsonl [--silences FILE] [--at TIME] [--json]`:
 * what dispatch would do with these firing alerts at `--at`: receivers (less those whose route a
 * time interval mutes then), the silences, time intervals and alerts that would mute them, and
 * their groups, run on the real stages with in-memory stores
 * (shared/core/dispatch/simulate.ts). `--alerts` lines are `{"labels":{...}}`; `--silences` is YAML
 * or JSON, a list of `{id, matchers: [...], startsAt?, endsAt?, createdBy?, comment?}` (a silence
 * without times is active at `--at`). With `--json`, one line per input alert, in input order.
 */
import { alignedTable } from './table.ts';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { EXIT, type CliIo } from './index.ts';
import { loadRoutesFile } from '../shared/adapters/routes/routes-source.ts';
import { RoutesConfigError } from '../shared/core/dispatch/route/routes-config.ts';
import { simulateNotifications } from '../shared/core/dispatch/simulate.ts';
import { InvalidSilenceError, parseSilenceMatchers, validateSilence, type CompiledSilence } from '../shared/core/dispatch/silence/silence.ts';
import type { Labels } from '../shared/core/model/index.ts';

const USAGE = `Usage: klaxon notify test --routes FILE --alerts FILE.jsonl [--silences FILE] [--at TIME] [--json]

Runs the dispatch stages on in-memory stores for these firing alerts and prints, per alert, the
receivers it reaches, the silences and the alerts (input indexes) that mute it, the time
intervals that mute some of its routes, and its groups (with their group_by labels).
  --routes FILE     routes YAML
  --alerts FILE     JSON Lines, one {"labels":{...}} per line (all firing)
  --silences FILE   YAML or JSON list of {id, matchers: [...], startsAt?, endsAt?, createdBy?, comment?}
  --at TIME         the clock: RFC 3339 or epoch ms (default: now). It drives silences and time
                    intervals: a receiver whose route is muted at TIME (mute_time_intervals, or
                    outside its active_time_intervals) is left out of receivers and groups, and
                    the intervals are listed in mutedBy. (Alertmanager's routes test ignores time
                    intervals; this shows what dispatch would do at TIME.)
  --json            one JSON line per input alert, in input order
`;

/** A problem with the input, naming the file and where: exit 1. */
class InputError extends Error {}

function parseTime(v: string, flag: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new InputError(`${flag}: '${v}' is not an RFC 3339 time or epoch milliseconds`);
  return n;
}

function parseAlerts(text: string, file: string): Labels[] {
  const out: Labels[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${file}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
    const labels = (doc as { labels?: unknown } | null)?.labels;
    if (!labels || typeof labels !== 'object' || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
      throw new InputError(`${file}:${i + 1}: expected {"labels":{"name":"value",...}} with string values`);
    }
    out.push(labels as Labels);
  });
  return out;
}

function parseSilences(doc: unknown, file: string, nowMs: number): CompiledSilence[] {
  if (!Array.isArray(doc)) throw new InputError(`${file}: expected a list of silences`);
  return doc.map((raw, i) => {
    const at = `${file}: [${i}]`;
    const s = raw as { id?: unknown; matchers?: unknown; startsAt?: unknown; endsAt?: unknown; createdBy?: unknown; comment?: unknown };
    if (!s || typeof s !== 'object') throw new InputError(`${at}: expected an object`);
    if (typeof s.id !== 'string' || !s.id) throw new InputError(`${at}.id: a silence needs an id`);
    if (!Array.isArray(s.matchers) || s.matchers.some((m) => typeof m !== 'string')) throw new InputError(`${at}.matchers: expected a list of matcher strings`);
    const time = (v: unknown, field: string, def: number): number => (v === undefined ? def : parseTime(String(v), `${at}.${field}`));
    try {
      return validateSilence({
        id: s.id,
        matchers: parseSilenceMatchers(s.matchers as string[]),
        startsAtMs: time(s.startsAt, 'startsAt', nowMs),
        endsAtMs: time(s.endsAt, 'endsAt', Number.MAX_SAFE_INTEGER),
        createdBy: typeof s.createdBy === 'string' ? s.createdBy : 'notify test',
        comment: typeof s.comment === 'string' ? s.comment : 'notify test',
        updatedAtMs: nowMs,
      });
    } catch (err) {
      if (err instanceof InvalidSilenceError) throw new InputError(`${at}: ${err.message}`);
      throw err;
    }
  });
}

/** The `notify` command group. */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (sub !== 'test') {
    io.stderr.write(`klaxon notify: ${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const opts: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--json') {
      json = true;
      continue;
    }
    const m = /^--(routes|alerts|silences|at)(?:=(.*))?$/s.exec(a);
    if (!m) {
      io.stderr.write(`klaxon notify test: unexpected argument '${a}'\n\n${USAGE}`);
      return EXIT.usage;
    }
    const v = m[2] ?? rest[++i];
    if (v === undefined) {
      io.stderr.write(`klaxon notify test: --${m[1]} needs a value\n\n${USAGE}`);
      return EXIT.usage;
    }
    opts[m[1]!] = v;
  }
  if (!opts.routes || !opts.alerts) {
    io.stderr.write(`klaxon notify test: --routes and --alerts are required\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    const nowMs = opts.at !== undefined ? parseTime(opts.at, '--at') : Date.now();
    const routes = await loadRoutesFile(opts.routes);
    const alerts = parseAlerts(await readText(opts.alerts), opts.alerts);
    const silences = opts.silences ? parseSilences(parseYaml(await readText(opts.silences), { maxAliasCount: 100 }), opts.silences, nowMs) : [];
    const results = await simulateNotifications(routes, alerts, silences, nowMs);
    if (json) {
      for (const r of results) io.stdout.write(`${JSON.stringify(r)}\n`);
      return EXIT.ok;
    }
    const rows = [
      ['#', 'RECEIVERS', 'SILENCED BY', 'MUTED BY', 'INHIBITED BY', 'GROUPS', 'LABELS'],
      ...results.map((r, i) => [
        String(i),
        r.receivers.join(',') || '-',
        r.silencedBy.join(',') || '-',
        r.mutedBy.join(',') || '-',
        r.inhibitedBy.join(',') || '-',
        r.groups.map((g) => `${g.receiver}@${g.route}${Object.keys(g.groupLabels).length ? JSON.stringify(g.groupLabels) : ''}`).join(' '),
        Object.entries(r.labels)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      ]),
    ];
    io.stdout.write(alignedTable(rows));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof InputError || err instanceof RoutesConfigError) {
      io.stderr.write(`klaxon notify test: ${err.message}\n`);
      return EXIT.failed;
    }
    throw err;
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read: ${(err as Error).message}`);
  }
}
