/**
 * `klaxon rules backtest --rules FILE [--rules FILE...] --routes FILE --samples FILE|- [--silences FILE]
 *  [--until TIME|+DURATION] [--flap-window DURATION] [--format table|json]`: recorded samples run
 * through the whole decision path (evaluation, routing, inhibition, silences, time intervals,
 * grouping, throttling, reminders) on in-memory ports with a virtual clock
 * (shared/core/backtest), and a report per rule: the notifications each channel would have
 * received, firings, resolutions, mean firing time, flapping, suppressed notifications by reason.
 *
 * Samples: the JSON Lines `klaxon replay` reads, each line one batch, in file order; a line that
 * does not decode is reported as `FILE:LINE: reason` and skipped. Job events (error/success) are
 * not backtested (counted and said). Silences: the JSON `klaxon silence import` reads. A bad rules,
 * routes or silences file exits 1 naming the problem; a usage error exits 2.
 */
import { readFile } from 'node:fs/promises';
import { EXIT, type CliIo } from './index.ts';
import { recordedBatches, resolveUntil } from './replay.ts';
import { formatDuration, formatIssue, mergeRuleSets, parseDuration, parseRules, RulesValidationError, DurationSyntaxError, type Rule } from '../shared/core/rules/index.ts';
import { loadRoutesFile } from '../shared/adapters/routes/routes-source.ts';
import { RoutesConfigError } from '../shared/core/dispatch/route/routes-config.ts';
import { InvalidSilenceError, parseSilenceImport, type Silence } from '../shared/core/dispatch/silence/index.ts';
import { Backtest, DEFAULT_FLAP_WINDOW_MS, type BacktestReport, type RuleBacktest } from '../shared/core/backtest/index.ts';
import { CHANNELS } from '../shared/core/model/index.ts';
import { SUPPRESSION_REASONS } from '../shared/core/history/types.ts';

const USAGE = `Usage: klaxon rules backtest --rules FILE [--rules FILE...] --routes FILE --samples FILE|- [--silences FILE]
                             [--until TIME|+DURATION] [--flap-window DURATION] [--format table|json]

Runs recorded samples through evaluation and dispatch (routes, inhibition, silences, time
intervals, groups, throttling, reminders) with a virtual clock, and reports per rule what each
channel would have received. Nothing is sent.
  --rules FILE          Klaxon rule file (repeatable)
  --routes FILE         routes YAML (receivers, routes, group_by, inhibit_rules, time intervals)
  --samples FILE|-      JSON Lines of samples, as klaxon replay reads them; - reads stdin
  --silences FILE       silences, the JSON klaxon silence import reads (default: none)
  --until TIME          run the clock to TIME: RFC 3339, epoch ms, or +DURATION after the last
                        sample (default: the last sample), so groups flush and reminders run
  --flap-window D       an alert that fires again within D of resolving flapped (default 10m)
  --format table|json   table (default) or one JSON document
`;

class UsageError extends Error {
  override name = 'UsageError';
}

interface BacktestArgs {
  readonly rules: string[];
  readonly routes: string;
  readonly samples: string;
  readonly silences?: string;
  readonly until?: string;
  readonly flapWindowMs: number;
  readonly format: 'table' | 'json';
}

function parseArgs(args: readonly string[]): BacktestArgs {
  const rules: string[] = [];
  const one: Record<string, string> = {};
  let format: 'table' | 'json' = 'table';
  let flapWindowMs = DEFAULT_FLAP_WINDOW_MS;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--rules':
        rules.push(value());
        break;
      case '--routes':
      case '--samples':
      case '--silences':
      case '--until':
        one[flag.slice(2)] = value();
        break;
      case '--flap-window':
        try {
          flapWindowMs = parseDuration(value());
        } catch (e) {
          if (e instanceof DurationSyntaxError) throw new UsageError(`--flap-window: ${e.message}`);
          throw e;
        }
        break;
      case '--format': {
        const f = value();
        if (f !== 'json' && f !== 'table') throw new UsageError(`--format must be table or json, not ${f}`);
        format = f;
        break;
      }
      default:
        throw new UsageError(`unknown argument ${a}`);
    }
  }
  if (rules.length === 0) throw new UsageError('--rules is required');
  if (one.routes === undefined) throw new UsageError('--routes is required');
  if (one.samples === undefined) throw new UsageError('--samples is required');
  return { rules, routes: one.routes, samples: one.samples, flapWindowMs, format, ...(one.silences !== undefined ? { silences: one.silences } : {}), ...(one.until !== undefined ? { until: one.until } : {}) };
}

/** A file's problem: `klaxon rules backtest: <message>`, exit 1. */
class InputError extends Error {}

async function loadRules(files: readonly string[], io: CliIo): Promise<Rule[] | undefined> {
  try {
    const sets: Rule[][] = [];
    for (const f of files) sets.push(parseRules(await readFile(f, 'utf8'), f));
    return mergeRuleSets(sets);
  } catch (e) {
    if (!(e instanceof RulesValidationError)) throw new InputError((e as Error).message);
    for (const i of e.issues) io.stderr.write(`${formatIssue(i)}\n`);
    return undefined;
  }
}

async function loadSilences(file: string): Promise<Silence[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file}: ${(e as Error).message}`);
  }
  let n = 0;
  try {
    // Times are the silences' own; `updatedAtMs` (now) plays no part in a backtest.
    return parseSilenceImport(doc, () => `backtest-${++n}`, 0);
  } catch (e) {
    if (e instanceof InvalidSilenceError) throw new InputError(`${file}: invalid silence ${e.message}`);
    throw e;
  }
}

const fmtMs = (ms: number | null): string => (ms === null ? '-' : formatDuration(Math.round(ms / 1000) * 1000));
const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

/** The table of a report: one row per rule, then the totals. */
export function formatBacktestTable(r: BacktestReport): string {
  const head = ['RULE', 'FIRINGS', 'RESOLVED', 'STILL FIRING', 'MEAN FIRING', 'FLAPS', ...CHANNELS.map((c) => c.toUpperCase()), ...SUPPRESSION_REASONS.map((s) => `${s.toUpperCase()}`)];
  const row = (x: RuleBacktest): string[] => [
    x.rule,
    String(x.firings),
    String(x.resolutions),
    String(x.stillFiring),
    fmtMs(x.meanFiringMs),
    String(x.flaps),
    ...CHANNELS.map((c) => String(x.notifications[c])),
    ...SUPPRESSION_REASONS.map((s) => String(x.suppressed[s])),
  ];
  const rows = [head, ...r.rules.map(row)];
  const widths = head.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
  const t = r.totals;
  const sent = CHANNELS.reduce((a, c) => a + t.notifications[c], 0);
  const held = SUPPRESSION_REASONS.reduce((a, s) => a + t.suppressed[s], 0);
  return [
    `Backtest ${iso(r.fromMs)} .. ${iso(r.untilMs)}; flapping: fired again within ${formatDuration(r.flapWindowMs)} of resolving.`,
    ...rows.map((x) => x.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')),
    `Total: ${t.firings} firing(s), ${t.resolutions} resolved (mean firing ${fmtMs(t.meanFiringMs)}), ${t.stillFiring} still firing, ${t.flaps} flap(s); ` +
      `${sent} notification(s) (${CHANNELS.map((c) => `${c} ${t.notifications[c]}`).join(', ')}); ` +
      `${held} suppressed (${SUPPRESSION_REASONS.map((s) => `${s} ${t.suppressed[s]}`).join(', ')}).`,
    'Per rule, a group notification counts once per channel for each rule it lists; the total counts it once.',
    '',
  ].join('\n');
}

/** Runs `klaxon rules backtest ...`. */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let opts: BacktestArgs;
  try {
    opts = parseArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`klaxon rules backtest: ${e.message}\n${USAGE}`);
    return EXIT.usage;
  }
  let backtest: Backtest;
  try {
    const rules = await loadRules(opts.rules, io);
    if (!rules) return EXIT.failed;
    const routes = await loadRoutesFile(opts.routes);
    const silences = opts.silences !== undefined ? await loadSilences(opts.silences) : [];
    backtest = new Backtest(rules, routes, silences, { flapWindowMs: opts.flapWindowMs });
  } catch (e) {
    if (!(e instanceof InputError || e instanceof RoutesConfigError)) throw e;
    io.stderr.write(`klaxon rules backtest: ${e.message}\n`);
    return EXIT.failed;
  }
  let bad = 0;
  let jobEvents = 0;
  try {
    for await (const r of recordedBatches(opts.samples, io, () => bad++)) {
      jobEvents += r.events.length;
      await backtest.ingestBatch(r.samples);
    }
  } catch (e) {
    io.stderr.write(`klaxon rules backtest: cannot read ${opts.samples}: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  let untilMs: number | undefined;
  if (opts.until !== undefined) {
    untilMs = resolveUntil(opts.until, backtest.lastSampleMs);
    if (untilMs === undefined) {
      io.stderr.write(`klaxon rules backtest: --until ${opts.until}: expected RFC 3339, epoch ms or +DURATION\n${USAGE}`);
      return EXIT.usage;
    }
  }
  const report = await backtest.run(untilMs);
  io.stdout.write(opts.format === 'json' ? `${JSON.stringify(report)}\n` : formatBacktestTable(report));
  const s = report.samples;
  if (bad || s.skipped || s.future || jobEvents) {
    io.stderr.write(`${s.evaluated} sample(s) evaluated, ${bad} rejected, ${s.skipped} skipped (out of order or duplicate), ${s.future} beyond the clock's skew; ${jobEvents} job event(s) ignored (a backtest covers rules on samples)\n`);
  }
  for (const l of backtest.evaluator.limited) io.stderr.write(`rule ${l.ruleId}: series limit ${l.limit} reached, ${l.refusedSeries} new series refused\n`);
  return EXIT.ok;
}
