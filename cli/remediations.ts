/**
 * `klaxon remediations`: the audit log of auto-remediation (the remediations table;
 * docs/remediation.md): every attempt, refusals included, with its action, target, status, who
 * approved and the execution id.
 *
 *   klaxon remediations list [--fingerprint FP] [--status S] [--format table|json] [--limit N] [TABLE OPTIONS]
 *
 * With `--fingerprint`, one alert's attempts (a Query of the by-fingerprint index); without, the
 * newest of the whole log (a bounded Scan). The table is `--table`, else `<prefix>-remediations`
 * (local mode), else REMEDIATIONS_TABLE.
 */
import { alignedTable } from './table.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EXIT, type CliIo } from './index.ts';
import { CliUsageError, clientConfig, parseAwsOptions, type AwsOptions } from './aws-options.ts';
import { DynamoRemediationStore } from '../shared/adapters/remediate/store.ts';
import { ATTEMPT_STATUSES, type AttemptRecord, type AttemptStatus } from '../shared/core/remediate/messages.ts';

const USAGE = `Usage: klaxon remediations list [--fingerprint FP] [--status STATUS] [--format table|json] [--limit N]
                               [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]

The audit log of auto-remediation (docs/remediation.md), newest first: every attempt, refusals
included. --fingerprint: one alert's attempts. --status: ${ATTEMPT_STATUSES.join(', ')}.
`;

/** One attempt as listed. */
export interface RemediationRow {
  readonly requested: string;
  readonly attempt: string;
  readonly fingerprint: string;
  readonly rule: string;
  readonly action: string;
  readonly target: string;
  readonly status: AttemptStatus;
  readonly reason: string;
  readonly approver: string;
  readonly execution: string;
  readonly text: string;
}

/** An attempt as a row. */
export function toRemediationRow(a: AttemptRecord): RemediationRow {
  return {
    requested: new Date(a.requestedAtMs).toISOString(),
    attempt: a.attemptId,
    fingerprint: a.fingerprint,
    rule: a.ruleId,
    action: a.action,
    target: a.target ?? '-',
    status: a.status,
    reason: a.reason ?? '',
    approver: a.approver ?? '',
    execution: a.executionId ?? '',
    text: a.text,
  };
}

/** Rows as an aligned text table. */
export function formatRemediationTable(rows: readonly RemediationRow[]): string {
  if (rows.length === 0) return 'no remediation attempts\n';
  const table = [
    ['REQUESTED', 'ALERT', 'RULE', 'ACTION', 'TARGET', 'STATUS', 'APPROVER', 'EXECUTION', 'OUTCOME'],
    ...rows.map((r) => [r.requested, r.fingerprint, r.rule, r.action, r.target, r.reason ? `${r.status} (${r.reason})` : r.status, r.approver || '-', r.execution || '-', r.text.replace(/\s+/g, ' ').slice(0, 100)]),
  ];
  return alignedTable(table);
}

function tableName(o: AwsOptions, env: NodeJS.ProcessEnv): string {
  const t = o.flags.table ?? (o.prefix ? `${o.prefix}-remediations` : env.REMEDIATIONS_TABLE);
  if (!t) throw new CliUsageError('name the remediations table with --table (or --prefix for local mode, or REMEDIATIONS_TABLE)');
  return t;
}

/** Runs `klaxon remediations ...`. */
export async function run(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list') {
    io.stderr.write(sub ? `klaxon remediations: unknown subcommand '${sub}'\n\n${USAGE}` : USAGE);
    return EXIT.usage;
  }
  let o: AwsOptions;
  let table: string;
  let limit: number;
  try {
    o = parseAwsOptions(rest, env, ['fingerprint', 'status', 'format', 'limit', 'table']);
    table = tableName(o, env);
    if (o.positionals.length > 0) throw new CliUsageError(`unexpected argument '${o.positionals[0]}'`);
    if (o.flags.format !== undefined && !['table', 'json'].includes(o.flags.format)) throw new CliUsageError('--format is table or json');
    if (o.flags.status !== undefined && !(ATTEMPT_STATUSES as readonly string[]).includes(o.flags.status)) throw new CliUsageError(`--status: one of ${ATTEMPT_STATUSES.join(', ')}; got '${o.flags.status}'`);
    limit = Number(o.flags.limit ?? 50);
    if (!(Number.isInteger(limit) && limit > 0)) throw new CliUsageError(`--limit: expected a positive whole number, got '${o.flags.limit}'`);
  } catch (err) {
    io.stderr.write(`klaxon remediations: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const dynamodb = new DynamoDBClient(clientConfig(o, env));
  const store = new DynamoRemediationStore(dynamodb, table);
  try {
    let attempts: AttemptRecord[];
    let truncated = false;
    try {
      if (o.flags.fingerprint !== undefined) attempts = (await store.attemptsOf(o.flags.fingerprint)).sort((a, b) => b.requestedAtMs - a.requestedAtMs);
      else ({ attempts, truncated } = await store.recentAttempts(o.flags.status !== undefined ? 10_000 : limit));
    } catch (err) {
      io.stderr.write(`klaxon remediations: cannot read ${table}${o.endpoint ? ` at ${o.endpoint}` : ''}: ${(err as Error).message}\n`);
      return EXIT.external;
    }
    const rows = attempts
      .filter((a) => o.flags.status === undefined || a.status === o.flags.status)
      .slice(0, limit)
      .map(toRemediationRow);
    if (o.flags.format === 'json') for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
    else io.stdout.write(formatRemediationTable(rows));
    if (truncated) io.stderr.write('klaxon remediations: the log is larger than one listing reads (10,000 items): these are the newest of what was read; give --fingerprint for one alert\n');
    return EXIT.ok;
  } finally {
    dynamodb.destroy();
  }
}
