/**
 * `klaxon report` (cli/report.ts) against a history table on DynamoDB Local, provisioned from the
 * topology under a local-mode prefix: the three formats, the filters, and the exit codes.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { run as report, formatReportCsv, parseReportArgs } from '../../cli/report.ts';
import { COMMANDS, EXIT } from '../../cli/index.ts';
import { DynamoHistoryStore } from '../../shared/adapters/dynamodb/history-store.ts';
import { buildReport, type HistoryReport } from '../../shared/core/history/report.ts';
import type { HistoryEvent, HistoryKind } from '../../shared/core/history/types.ts';
import type { Severity } from '../../shared/core/model/index.ts';
import { captureIo } from '../support/cli-io.ts';
import { endpoints, provisionFresh } from '../support/aws.ts';

type Fresh = Awaited<ReturnType<typeof provisionFresh>>;
let p: Fresh;

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const T0 = Date.UTC(2027, 0, 4);
const UNTIL = '2027-01-11T00:00:00Z'; // T0 + 7 d

let n = 0;
const ev = (kind: HistoryKind, atMs: number, a: { fp: string; rule: string; sev: Severity; team: string; firedAtMs: number }, extra: Partial<HistoryEvent> = {}): HistoryEvent => ({
  id: `${kind}:${++n}`,
  kind,
  atMs,
  fingerprint: a.fp,
  firedAtMs: a.firedAtMs,
  ruleId: a.rule,
  severity: a.sev,
  team: a.team,
  ...extra,
});
const X0 = { fp: 'cpu-1', rule: 'cpu_high', sev: 'high' as const, team: 'web', firedAtMs: T0 - 2 * D };
const X1 = { fp: 'cpu-1', rule: 'cpu_high', sev: 'high' as const, team: 'web', firedAtMs: T0 + H };
const X2 = { fp: 'disk-1', rule: 'disk_full', sev: 'critical' as const, team: 'db, "ops"', firedAtMs: T0 + 2 * H };
const HISTORY: HistoryEvent[] = [
  // The week before: X0 acknowledged after 10 min, resolved after 20 min.
  ev('fired', X0.firedAtMs, X0),
  ev('acknowledged', X0.firedAtMs + 10 * MIN, X0, { by: 'U1' }),
  ev('resolved', X0.firedAtMs + 20 * MIN, X0),
  // The week: X1 acknowledged after 4 min, resolved after 30 min, notified on Slack.
  ev('fired', X1.firedAtMs, X1),
  ev('notified', X1.firedAtMs, X1, { channel: 'slack', receiver: 'web' }),
  ev('acknowledged', X1.firedAtMs + 4 * MIN, X1, { by: 'U2' }),
  ev('resolved', X1.firedAtMs + 30 * MIN, X1),
  // X2 acknowledged after 2 min, still firing; PagerDuty and Slack notified, email throttled.
  ev('fired', X2.firedAtMs, X2),
  ev('notified', X2.firedAtMs, X2, { channel: 'pagerduty', receiver: 'db' }),
  ev('notified', X2.firedAtMs, X2, { channel: 'slack', receiver: 'db' }),
  ev('suppressed', X2.firedAtMs, X2, { channel: 'email', receiver: 'db', reason: 'throttle' }),
  ev('acknowledged', X2.firedAtMs + 2 * MIN, X2, { by: 'U3' }),
];

beforeAll(async () => {
  p = await provisionFresh();
  await new DynamoHistoryStore({ client: p.dynamodb, table: p.tables.history }).record(HISTORY);
});
afterAll(() => p.dynamodb.destroy());

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await report(args, c.io, env);
  return { code, out: c.out(), err: c.err() };
}
const local = () => ['--endpoint', endpoints().dynamodb, '--prefix', p.prefix, '--until', UNTIL];

describe('klaxon report', () => {
  it('is registered as `klaxon report`', async () => {
    expect((await COMMANDS.report!.load()).run).toBe(report);
  });

  it('prints the week against the week before as a table', async () => {
    const r = await cli(['--since', '7d', ...local()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain('Alert history 2027-01-04T00:00:00.000Z .. 2027-01-11T00:00:00.000Z (before: 2026-12-28T00:00:00.000Z .. 2027-01-04T00:00:00.000Z)');
    // X1 X2 vs X0: +1, +100 %
    expect(r.out).toMatch(/^alerts fired\s+2\s+1\s+\+1 \(\+100\.0%\)$/m);
    // X1 only vs X0: no change
    expect(r.out).toMatch(/^resolved\s+1\s+1\s+0 \(0\.0%\)$/m);
    // 3 vs none: no percentage of zero
    expect(r.out).toMatch(/^notifications\s+3\s+0\s+\+3$/m);
    // (4 + 2) / 2 = 3 min vs 10 min: −7 min, −70 %
    expect(r.out).toMatch(/^MTTA\s+3m\s+10m\s+-7m \(-70\.0%\)$/m);
    // 30 min vs 20 min: +10 min, +50 %
    expect(r.out).toMatch(/^MTTR\s+30m\s+20m\s+\+10m \(\+50\.0%\)$/m);
    expect(r.out).toMatch(/^RULE\s+FIRED\s+ACKED\s+RESOLVED\s+NOTIFIED\s+SUPPRESSED\s+MTTA\s+MTTR$/m);
    // disk_full: 2 notifications before cpu_high's 1 at 1 firing each; not resolved: no MTTR
    expect(r.out).toMatch(/^RULE[^\n]*\ndisk_full\s+1\s+1\s+0\s+2\s+1\s+2m\s+-\ncpu_high\s+1\s+1\s+1\s+1\s+0\s+4m\s+30m$/m);
    expect(r.out).toMatch(/^slack\s+2$/m);
    expect(r.out).toMatch(/^throttle\s+1$/m);
    expect(r.out).toContain('FLAPPING RULE: none');
  });

  it('prints one JSON document', async () => {
    const r = await cli(['--format', 'json', ...local()]);
    expect(r.code).toBe(EXIT.ok);
    const doc = JSON.parse(r.out) as HistoryReport;
    expect(doc.period).toEqual({ fromMs: T0, toMs: T0 + 7 * D });
    expect(doc.headline).toEqual({ fired: 2, acknowledged: 2, resolved: 1, notifications: 3, suppressed: 1, escalations: 0, mttaMs: 3 * MIN, mttrMs: 30 * MIN });
    expect(doc.byTeam.map((t) => t.key)).toEqual(['db, "ops"', 'web']);
  });

  it('prints CSV, one row per figure, quoting what needs it', async () => {
    const r = await cli(['--format', 'csv', ...local()]);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('section,key,figure,value');
    expect(lines).toContain('total,,fired,2');
    expect(lines).toContain('trend,fired,change_percent,100');
    // no percentage of a previous 0: an empty value
    expect(lines).toContain('trend,notifications,change_percent,');
    expect(lines).toContain('total,,mtta_seconds,180');
    expect(lines).toContain('trend,mtta_seconds,change,-420');
    expect(lines).toContain('rule,cpu_high,mttr_seconds,1800');
    expect(lines).toContain('rule,disk_full,mttr_seconds,');
    expect(lines).toContain('team,"db, ""ops""",fired,1');
    expect(lines).toContain('channel,pagerduty,notifications,1');
    expect(lines).toContain('noisiest,disk_full,rank,1');
  });

  it('filters by rule and by team', async () => {
    const rule = JSON.parse((await cli(['--format', 'json', '--rule', 'cpu_high', ...local()])).out) as HistoryReport;
    // X1 now, X0 before
    expect([rule.headline.fired, rule.previousHeadline.fired, rule.headline.notifications]).toEqual([1, 1, 1]);
    const team = JSON.parse((await cli(['--format', 'json', '--team', 'db, "ops"', ...local()])).out) as HistoryReport;
    expect([team.headline.fired, team.previousHeadline.fired, team.headline.mttaMs]).toEqual([1, 0, 2 * MIN]);
  });

  it('reads the table named by HISTORY_TABLE', async () => {
    const r = await cli(['--endpoint', endpoints().dynamodb, '--until', UNTIL, '--format', 'json'], { HISTORY_TABLE: p.tables.history });
    expect(r.code).toBe(EXIT.ok);
    expect((JSON.parse(r.out) as HistoryReport).headline.fired).toBe(2);
  });

  it.each([
    // unknown option
    [['--nope', 'x'], EXIT.usage],
    // a positional
    [['extra'], EXIT.usage],
    // neither a duration nor a time
    [['--since', 'last week', '--table', 't'], EXIT.usage],
    [['--until', 'tomorrow', '--table', 't'], EXIT.usage],
    // the start after the end
    [['--since', '2027-02-01T00:00:00Z', '--until', UNTIL, '--table', 't'], EXIT.usage],
    // bad format and tunables
    [['--format', 'xml', '--table', 't'], EXIT.usage],
    [['--flap-min', '0', '--table', 't'], EXIT.usage],
    [['--flap-window', 'soon', '--table', 't'], EXIT.usage],
    [['--top', '-1', '--table', 't'], EXIT.usage],
    // no table named anywhere
    [[], EXIT.usage],
  ])('exits %j → %d', async (args, code) => {
    const r = await cli(args);
    expect(r.code).toBe(code);
    expect(r.err).toContain('Usage: klaxon report');
  });

  it('refuses a period whose reading would pass the store’s bound, naming it', async () => {
    // 300 days and the 300 before: 601 days touched, over 400.
    const r = await cli(['--since', '300d', ...local()]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toMatch(/at most 400 days per query \(a report reads its period and the period before it/);
  });

  it('exits 3 when the table cannot be read', async () => {
    const r = await cli(['--endpoint', endpoints().dynamodb, '--table', 'no-such-history', '--until', UNTIL]);
    expect(r.code).toBe(EXIT.external);
    expect(r.err).toContain('no-such-history');
  });
});

describe('report formats (pure)', () => {
  it('--since is a duration before --until or a time; defaults 7d and now', () => {
    expect(parseReportArgs({}, T0)).toMatchObject({ fromMs: T0 - 7 * D, toMs: T0, format: 'table', options: { flapWindowMs: 15 * MIN, flapMinRefires: 3, noisiestLimit: 10 } });
    expect(parseReportArgs({ since: '2027-01-01T00:00:00Z', until: String(T0) }, 0)).toMatchObject({ fromMs: Date.UTC(2027, 0, 1), toMs: T0 });
    expect(parseReportArgs({ since: '24h', 'flap-window': '5m', 'flap-min': '2', top: '3' }, T0)).toMatchObject({ fromMs: T0 - D, options: { flapWindowMs: 5 * MIN, flapMinRefires: 2, noisiestLimit: 3 } });
  });

  it('shows a spreadsheet formula from the history as text, and control characters as ?', async () => {
    const evil: HistoryEvent = { id: 'e', kind: 'fired', atMs: T0 + 1, firedAtMs: T0 + 1, fingerprint: 'x', ruleId: '=HYPERLINK("http://evil")', severity: 'low', team: 'ops\u001b[2J' };
    const r = buildReport([evil], { fromMs: T0, toMs: T0 + D });
    expect(formatReportCsv(r)).toContain(`rule,"'=HYPERLINK(""http://evil"")",fired,1`);
    const { formatReportTable } = await import('../../cli/report.ts');
    const table = formatReportTable(r);
    expect(table).toContain('ops?[2J');
    expect(table).not.toContain('\u001b');
  });
});
