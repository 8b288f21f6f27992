/**
 * `klaxon replay --rules FILE [--rules FILE...] --samples FILE|- [--until TIME] [--format json|table]
 *  [--stale-after DURATION]`: runs production's evaluation sequence on recorded samples with
 * in-memory state and a virtual clock, printing every state change (pending ones included) in
 * event-time order.
 *
 * Samples: JSON Lines, each line one sample or an array of samples in the wire or seed format,
 * each with a timestamp; job events (`kind` error or success, docs/events.md) may stand beside
 * them and run through production's error-events sequence (classification and fingerprints from
 * `--events FILE`, else the built-in ones); their alerts' firings and resolutions are changes too. Each line is taken as one batch, in file order, as production takes
 * records in partition order: a line older than what a series has already seen is skipped (and
 * counted) exactly as the evaluator skips it, rather than sorted into place. `--until` (RFC 3339, epoch ms, or `+5m` after the last sample) advances
 * the virtual clock past the last sample so absence rules and staleness can act.
 * JSON output: one line per change `{"rule","fingerprint","labels","from","to","at","value"}`.
 */
import { alignedTable } from './table.ts';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { EXIT, type CliIo } from './index.ts';
import { formatIssue, mergeRuleSets, parseDuration, parseRules, RulesValidationError, DurationSyntaxError, type Rule } from '../shared/core/rules/index.ts';
import { decodeJsonText, defaultEventTimeBounds, parseRfc3339 } from '../shared/core/decode/index.ts';
import { ErrorEventsReplay, InMemoryEvaluator } from '../shared/core/replay/index.ts';
import { loadEventsFile } from '../shared/adapters/events/events-source.ts';
import { EventsConfigError, DEFAULT_EVENTS_CONFIG, type EventsConfig } from '../shared/core/events/config.ts';
import type { StateChange } from '../shared/core/model/index.ts';

/** Decode bounds of replay: no clock (`nowMs` undefined), the default skew and age. */
const REPLAY_BOUNDS = defaultEventTimeBounds(undefined);

const USAGE = `Usage: klaxon replay [--rules FILE...] [--events FILE] --samples FILE|- [--until TIME] [--format json|table] [--stale-after DURATION]

  --rules FILE          Klaxon rule file (repeatable; required unless the input holds only job events)
  --events FILE         error-events configuration (classification, fingerprints, quiet period; default built-in)
  --samples FILE|-      JSON Lines of samples and job events (wire format, with timestamps); - reads stdin
  --until TIME          advance the virtual clock to TIME: RFC 3339, epoch ms, or +DURATION after the last sample
  --format json|table   output format (default json: one line per state change)
  --stale-after D       a series with no sample for D is stale (default 5m)
`;

class UsageError extends Error {
  override name = 'UsageError';
}

interface ReplayArgs {
  readonly rules: string[];
  readonly events?: string;
  readonly samples: string;
  readonly until?: string;
  readonly format: 'json' | 'table';
  readonly staleAfterMs?: number;
}

function parseArgs(args: readonly string[]): ReplayArgs {
  const rules: string[] = [];
  let events: string | undefined;
  let samples: string | undefined;
  let until: string | undefined;
  let format: 'json' | 'table' = 'json';
  let staleAfterMs: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--rules':
        rules.push(value());
        break;
      case '--samples':
        samples = value();
        break;
      case '--events':
        events = value();
        break;
      case '--until':
        until = value();
        break;
      case '--format': {
        const f = value();
        if (f !== 'json' && f !== 'table') throw new UsageError(`--format must be json or table, not ${f}`);
        format = f;
        break;
      }
      case '--stale-after':
        try {
          staleAfterMs = parseDuration(value());
        } catch (e) {
          if (e instanceof DurationSyntaxError) throw new UsageError(`--stale-after: ${e.message}`);
          throw e;
        }
        break;
      default:
        throw new UsageError(`unknown argument ${a}`);
    }
  }
  if (samples === undefined) throw new UsageError('--samples is required');
  return { rules, samples, format, ...(events !== undefined ? { events } : {}), ...(until !== undefined ? { until } : {}), ...(staleAfterMs !== undefined ? { staleAfterMs } : {}) };
}

/**
 * The recorded lines of `file` (`-`: stdin), one decoded batch each, in file order; blank lines and
 * `#` comments skipped; every rejected item reported as `file:line: reason` on stderr (`onBad`
 * counts them). Shared by `klaxon replay` and `klaxon rules backtest`. Read errors propagate.
 */
export async function* recordedBatches(file: string, io: CliIo, onBad: () => void): AsyncGenerator<ReturnType<typeof decodeJsonText>> {
  const input = file === '-' ? io.stdin : createReadStream(file, 'utf8');
  let lineNo = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const r = decodeJsonText(line, { bounds: REPLAY_BOUNDS });
    for (const reason of r.reasons) {
      onBad();
      io.stderr.write(`${file}:${lineNo}: ${reason}\n`);
    }
    yield r;
  }
}

/** Resolves --until against the last sample time. Undefined if invalid. */
export function resolveUntil(text: string, lastSampleMs: number | undefined): number | undefined {
  if (text.startsWith('+')) {
    try {
      return (lastSampleMs ?? 0) + parseDuration(text.slice(1));
    } catch {
      return undefined;
    }
  }
  if (/^\d+$/.test(text)) return Number(text);
  return parseRfc3339(text);
}

/** The JSON line of one change. */
export function changeToJson(c: StateChange): string {
  return JSON.stringify({ rule: c.ruleId, fingerprint: c.fingerprint, labels: c.labels, from: c.from, to: c.to, at: new Date(c.atMs).toISOString(), value: Number.isFinite(c.value) ? c.value : null });
}

function tableRows(changes: readonly StateChange[]): string {
  const rows = [['AT', 'RULE', 'FROM', 'TO', 'VALUE', 'LABELS']];
  for (const c of changes) {
    const labels = Object.entries(c.labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(',');
    rows.push([new Date(c.atMs).toISOString(), c.ruleId, c.from, c.to, Number.isFinite(c.value) ? String(c.value) : '-', labels]);
  }
  return alignedTable(rows);
}

/** Runs `klaxon replay ...`. */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let opts: ReplayArgs;
  try {
    opts = parseArgs(args);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`klaxon replay: ${e.message}\n${USAGE}`);
      return EXIT.usage;
    }
    throw e;
  }
  let rules: Rule[];
  try {
    const sets: Rule[][] = [];
    for (const f of opts.rules) sets.push(parseRules(await readFile(f, 'utf8'), f));
    rules = mergeRuleSets(sets);
  } catch (e) {
    if (e instanceof RulesValidationError) {
      for (const i of e.issues) io.stderr.write(`${formatIssue(i)}\n`);
      return EXIT.failed;
    }
    io.stderr.write(`klaxon replay: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  let eventsConfig: EventsConfig = DEFAULT_EVENTS_CONFIG;
  if (opts.events !== undefined) {
    try {
      eventsConfig = await loadEventsFile(opts.events);
    } catch (e) {
      io.stderr.write(`klaxon replay: ${e instanceof EventsConfigError ? e.message : (e as Error).message}\n`);
      return EXIT.failed;
    }
  }
  const ev = new InMemoryEvaluator(rules, opts.staleAfterMs !== undefined ? { staleAfterMs: opts.staleAfterMs } : undefined);
  const errors = new ErrorEventsReplay(eventsConfig);
  let jobEvents = 0;
  const changes: StateChange[] = [];
  let replayed = 0;
  let last: number | undefined;
  let bad = 0;
  try {
    for await (const r of recordedBatches(opts.samples, io, () => bad++)) {
      replayed += r.samples.length;
      jobEvents += r.events.length;
      for (const s of [...r.samples, ...r.events]) if (last === undefined || s.timestampMs > last) last = s.timestampMs;
      changes.push(...(await ev.ingestBatch(r.samples)));
      changes.push(...(await errors.ingest(r.events)));
    }
  } catch (e) {
    io.stderr.write(`klaxon replay: cannot read ${opts.samples}: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  if (opts.until !== undefined) {
    const until = resolveUntil(opts.until, last);
    if (until === undefined) {
      io.stderr.write(`klaxon replay: --until ${opts.until}: expected RFC 3339, epoch ms or +DURATION\n${USAGE}`);
      return EXIT.usage;
    }
    changes.push(...(await ev.advanceTo(until)));
    changes.push(...(await errors.advanceTo(until)));
  }
  // Stable: changes of one instant keep the order they were decided in.
  changes.sort((a, b) => a.atMs - b.atMs);
  if (opts.format === 'json') io.stdout.write(changes.map((c) => `${changeToJson(c)}\n`).join(''));
  else io.stdout.write(tableRows(changes));
  if (bad || ev.skipped) io.stderr.write(`${replayed} sample(s) and ${jobEvents} job event(s) replayed, ${bad} rejected, ${ev.skipped} skipped (out of order or duplicate)\n`);
  for (const l of ev.limited) io.stderr.write(`rule ${l.ruleId}: series limit ${l.limit} reached, ${l.refusedSeries} new series refused${l.explodingLabel ? ` (label ${l.explodingLabel} has ${l.distinctValues} distinct values)` : ''}\n`);
  return EXIT.ok;
}
