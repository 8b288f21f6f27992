/**
 * `klaxon report`: the alert history's figures over a period, against the period before
 * (docs/incidents.md, "History and analytics").
 *
 *   klaxon report [--since 7d|TIME] [--until TIME] [--rule ID] [--team T] [--format table|json|csv]
 *                 [--flap-window 15m] [--flap-min 3] [--top 10]
 *                 [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]
 *
 * The table is `--table`, else `<prefix>-history` (local mode), else HISTORY_TABLE. `--since` is a
 * duration before `--until` (default now) or a time (RFC 3339 or epoch ms).
 */
import { alignedTable } from './table.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EXIT, type CliIo } from './index.ts';
import { CliUsageError, clientConfig, parseAwsOptions } from './aws-options.ts';
import { DynamoHistoryStore, HistoryQueryError } from '../shared/adapters/dynamodb/history-store.ts';
import { DEFAULT_REPORT_OPTIONS, loadReport, type GroupFigures, type HistoryReport, type KeyCount, type ReportOptions, type Trend } from '../shared/core/history/report.ts';
import { formatDuration, parseDuration } from '../shared/core/dispatch/duration.ts';
import { parseRfc3339 } from '../shared/core/decode/time.ts';

const USAGE = `Usage: klaxon report [--since 7d|TIME] [--until TIME] [--rule ID] [--team T] [--format table|json|csv]
                     [--flap-window 15m] [--flap-min 3] [--top 10]
                     [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]

  --since        the period's start: a duration before --until (default 7d) or a time (RFC 3339, epoch ms)
  --until        the period's end (default now)
  --rule, --team only this rule's or team's history
  --flap-window  a re-firing this soon after the alert resolved counts towards flapping (default 15m)
  --flap-min     that many quick re-firings in the period make a rule flapping (default 3)
  --top          how many noisiest rules to list (default 10)
  The history table: --table, else <prefix>-history (local mode), else HISTORY_TABLE.
`;

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** A time argument: RFC 3339 or epoch ms; undefined when neither. */
function parseTime(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : parseRfc3339(text);
}

/** A whole number ≥ `min`, or a usage error naming the flag. */
function wholeNumber(flag: string, text: string | undefined, def: number, min: number): number {
  if (text === undefined) return def;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new CliUsageError(`--${flag}: expected a whole number ≥ ${min}, got '${text}'`);
  return n;
}

/** What the command line asks for. */
export interface ReportArgs {
  readonly fromMs: number;
  readonly toMs: number;
  readonly ruleId?: string;
  readonly team?: string;
  readonly format: Format;
  readonly options: ReportOptions;
}

/** Reads the report's own flags (times relative to `nowMs`). Throws {@link CliUsageError}. */
export function parseReportArgs(flags: Readonly<Record<string, string>>, nowMs: number): ReportArgs {
  const toMs = flags.until === undefined ? nowMs : parseTime(flags.until);
  if (toMs === undefined) throw new CliUsageError(`--until: '${flags.until}' is not an RFC 3339 time or epoch ms`);
  const since = flags.since ?? '7d';
  const span = parseDuration(since);
  const fromMs = span !== undefined ? toMs - span : parseTime(since);
  if (fromMs === undefined) throw new CliUsageError(`--since: '${since}' is not a duration (7d, 24h) nor a time (RFC 3339, epoch ms)`);
  if (fromMs >= toMs) throw new CliUsageError(`--since must be before --until (${new Date(fromMs).toISOString()} is not before ${new Date(toMs).toISOString()})`);
  const format = (flags.format ?? 'table') as Format;
  if (!FORMATS.includes(format)) throw new CliUsageError(`--format is ${FORMATS.join('|')}, got '${flags.format}'`);
  const flapWindowMs = flags['flap-window'] === undefined ? DEFAULT_REPORT_OPTIONS.flapWindowMs : parseDuration(flags['flap-window']);
  if (flapWindowMs === undefined) throw new CliUsageError(`--flap-window: '${flags['flap-window']}' is not a duration (15m, 1h)`);
  return {
    fromMs,
    toMs,
    ...(flags.rule !== undefined ? { ruleId: flags.rule } : {}),
    ...(flags.team !== undefined ? { team: flags.team } : {}),
    format,
    options: {
      flapWindowMs,
      flapMinRefires: wholeNumber('flap-min', flags['flap-min'], DEFAULT_REPORT_OPTIONS.flapMinRefires, 1),
      noisiestLimit: wholeNumber('top', flags.top, DEFAULT_REPORT_OPTIONS.noisiestLimit, 1),
    },
  };
}

/** Text from the history (rule ids, teams, reasons) with control characters shown as `?`: nothing written to a terminal can move its cursor or retitle it. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** A duration in ms for people, to the second (`10m24s`); `-` when undefined. */
function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.round(Math.abs(ms) / 1000) * 1000;
  return `${ms < 0 && s > 0 ? '-' : ''}${formatDuration(s)}`;
}

const TREND_LABEL: Record<Trend['figure'], string> = {
  fired: 'alerts fired',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
  notifications: 'notifications',
  suppressed: 'suppressed',
  escalations: 'escalation steps',
  mttaMs: 'MTTA',
  mttrMs: 'MTTR',
};

const isTime = (f: Trend['figure']): boolean => f === 'mttaMs' || f === 'mttrMs';

function trendCells(t: Trend): string[] {
  const value = (v: number | undefined) => (isTime(t.figure) ? duration(v) : v === undefined ? '-' : String(v));
  const change = t.change === undefined ? '-' : `${t.change > 0 ? '+' : ''}${isTime(t.figure) ? duration(t.change) : String(t.change)}`;
  const pct = t.changePercent === undefined ? '' : ` (${t.changePercent > 0 ? '+' : ''}${t.changePercent.toFixed(1)}%)`;
  return [TREND_LABEL[t.figure], value(t.current), value(t.previous), `${change}${pct}`];
}

function aligned(rows: readonly (readonly string[])[]): string {
  return alignedTable(rows);
}

function groupTable(title: string, groups: readonly GroupFigures[]): string {
  if (groups.length === 0) return `${title}: none\n`;
  return aligned([
    [title, 'FIRED', 'ACKED', 'RESOLVED', 'NOTIFIED', 'SUPPRESSED', 'MTTA', 'MTTR'],
    ...groups.map((g) => [printable(g.key), String(g.fired), String(g.acknowledged), String(g.resolved), String(g.notifications), String(g.suppressed), duration(g.mttaMs), duration(g.mttrMs)]),
  ]);
}

function countTable(title: string, what: string, counts: readonly KeyCount[]): string {
  if (counts.length === 0) return `${title}: none\n`;
  return aligned([[title, what], ...counts.map((c) => [printable(c.key), String(c.count)])]);
}

/** The report as text for a terminal. */
export function formatReportTable(r: HistoryReport): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const o = r.options;
  const flapping = r.flapping.length
    ? aligned([
        ['FLAPPING RULE', 'QUICK RE-FIRINGS', 'ALERTS', 'FIRED', 'SHORTEST GAP'],
        ...r.flapping.map((f) => [printable(f.ruleId), String(f.refires), String(f.alerts), String(f.fired), duration(f.shortestGapMs)]),
      ])
    : 'FLAPPING RULE: none\n';
  return [
    `Alert history ${iso(r.period.fromMs)} .. ${iso(r.period.toMs)} (before: ${iso(r.previousPeriod.fromMs)} .. ${iso(r.previousPeriod.toMs)})\n`,
    aligned([['FIGURE', 'NOW', 'BEFORE', 'CHANGE'], ...r.trends.map(trendCells)]),
    groupTable('RULE', r.byRule),
    groupTable('SEVERITY', r.bySeverity),
    groupTable('TEAM', r.byTeam),
    countTable('CHANNEL', 'NOTIFICATIONS', r.notificationsByChannel),
    countTable('SUPPRESSED BY', 'COUNT', r.suppressedByReason),
    groupTable(`NOISIEST RULES (top ${o.noisiestLimit})`, r.noisiest),
    `Flapping: a firing within ${duration(o.flapWindowMs)} of the same alert's resolution is a quick re-firing; ${o.flapMinRefires} or more in the period make a rule flapping.\n${flapping}`,
  ].join('\n');
}

/** One CSV field (RFC 4180 quoting); text starting like a formula is prefixed with `'` so a spreadsheet shows it rather than runs it (OWASP "CSV Injection"). */
function csvField(v: string | number | undefined, text = false): string {
  if (v === undefined) return '';
  let s = String(v);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Milliseconds as seconds, to the millisecond. */
const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round(ms) / 1000);

/**
 * The report as CSV, one row per figure: `section,key,figure,value` (sections: total, trend, rule,
 * severity, team, channel, suppressed, noisiest, flapping; times in seconds).
 */
export function formatReportCsv(r: HistoryReport): string {
  const rows: [string, string, string, number | undefined][] = [];
  for (const t of r.trends) {
    const name = t.figure === 'mttaMs' ? 'mtta_seconds' : t.figure === 'mttrMs' ? 'mttr_seconds' : t.figure;
    const v = (x: number | undefined) => (isTime(t.figure) ? seconds(x) : x);
    rows.push(['total', '', name, v(t.current)]);
    rows.push(['trend', name, 'previous', v(t.previous)]);
    rows.push(['trend', name, 'change', v(t.change)]);
    rows.push(['trend', name, 'change_percent', t.changePercent === undefined ? undefined : Math.round(t.changePercent * 100) / 100]);
  }
  const group = (section: string, g: GroupFigures) => {
    rows.push([section, g.key, 'fired', g.fired], [section, g.key, 'acknowledged', g.acknowledged], [section, g.key, 'resolved', g.resolved]);
    rows.push([section, g.key, 'notifications', g.notifications], [section, g.key, 'suppressed', g.suppressed]);
    rows.push([section, g.key, 'mtta_seconds', seconds(g.mttaMs)], [section, g.key, 'mttr_seconds', seconds(g.mttrMs)]);
  };
  for (const g of r.byRule) group('rule', g);
  for (const g of r.bySeverity) group('severity', g);
  for (const g of r.byTeam) group('team', g);
  for (const c of r.notificationsByChannel) rows.push(['channel', c.key, 'notifications', c.count]);
  for (const c of r.suppressedByReason) rows.push(['suppressed', c.key, 'suppressed', c.count]);
  r.noisiest.forEach((g, i) => rows.push(['noisiest', g.key, 'rank', i + 1], ['noisiest', g.key, 'fired', g.fired], ['noisiest', g.key, 'notifications', g.notifications]));
  for (const f of r.flapping) {
    rows.push(['flapping', f.ruleId, 'quick_refires', f.refires], ['flapping', f.ruleId, 'alerts', f.alerts], ['flapping', f.ruleId, 'fired', f.fired], ['flapping', f.ruleId, 'shortest_gap_seconds', seconds(f.shortestGapMs)]);
  }
  return `section,key,figure,value\n${rows.map(([s, k, f, v]) => [csvField(s), csvField(k, true), csvField(f), csvField(v)].join(',')).join('\n')}\n`;
}

/** Runs `klaxon report ...`. */
export async function run(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let o;
  let a: ReportArgs;
  try {
    o = parseAwsOptions(args, env, ['since', 'until', 'rule', 'team', 'format', 'table', 'flap-window', 'flap-min', 'top']);
    if (o.positionals.length > 0) throw new CliUsageError(`unexpected argument '${o.positionals[0]}'`);
    a = parseReportArgs(o.flags, Date.now());
  } catch (err) {
    io.stderr.write(`klaxon report: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const table = o.flags.table ?? (o.prefix ? `${o.prefix}-history` : env.HISTORY_TABLE);
  if (!table) {
    io.stderr.write(`klaxon report: name the history table with --table (or --prefix for local mode, or HISTORY_TABLE)\n\n${USAGE}`);
    return EXIT.usage;
  }
  const client = new DynamoDBClient(clientConfig(o, env));
  let report: HistoryReport;
  try {
    const store = new DynamoHistoryStore({ client, table });
    report = (await loadReport(store, { fromMs: a.fromMs, toMs: a.toMs, ...(a.ruleId !== undefined ? { ruleId: a.ruleId } : {}), ...(a.team !== undefined ? { team: a.team } : {}) }, a.options)).report;
  } catch (err) {
    if (err instanceof HistoryQueryError) {
      io.stderr.write(`klaxon report: ${err.message} (a report reads its period and the period before it, for the trends)\n`);
      return EXIT.usage;
    }
    io.stderr.write(`klaxon report: cannot read ${table}${o.endpoint ? ` at ${o.endpoint}` : ''}: ${(err as Error).message}\n`);
    return EXIT.external;
  } finally {
    client.destroy();
  }
  if (a.format === 'json') io.stdout.write(`${JSON.stringify(report)}\n`);
  else if (a.format === 'csv') io.stdout.write(formatReportCsv(report));
  else io.stdout.write(formatReportTable(report));
  return EXIT.ok;
}
