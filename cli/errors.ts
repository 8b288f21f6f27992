/**
 * `klaxon errors`: the error alerts of job events (the errors table; docs/events.md).
 *
 *   klaxon errors list [--format table|json] [--limit N] [TABLE OPTIONS]
 *   klaxon errors resolve FINGERPRINT --by NAME [--queue URL] [TABLE OPTIONS]
 *
 * `resolve` is the resolution by a person: the error alert resolves now (never before its last
 * failure), the resolution is put on the alert-events queue (so it is notified where the firing
 * went), then the state is written: the same code and order as the pipeline
 * (shared/core/events/sequence.ts `resolveErrorByPerson`).
 *
 * The table is `--table`, else `<prefix>-errors` (local mode), else ERRORS_TABLE; the queue is
 * `--queue`, else local mode's alert-events queue (`--prefix`), else ALERT_EVENTS_QUEUE_URL.
 */
import { alignedTable } from './table.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EXIT, type CliIo } from './index.ts';
import { CliUsageError, clientConfig, parseAwsOptions, type AwsOptions } from './aws-options.ts';
import { DynamoErrorAlertStore } from '../shared/adapters/dynamodb/error-alert-store.ts';
import { SqsTransitionPublisher } from '../shared/adapters/sqs/transition-publisher.ts';
import { resolveErrorByPerson, ResolveRefusedError, type StoredErrorAlert } from '../shared/core/events/sequence.ts';
import { alertNameOf } from '../shared/core/events/alerting.ts';

const USAGE = `Usage: klaxon errors list [--format table|json] [--limit N]
                         [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]
       klaxon errors resolve FINGERPRINT --by NAME [--queue URL] [--sqs-endpoint URL]
                         [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]

Error alerts of job events (docs/events.md). list: the firing ones, newest failure first.
resolve: a person resolves one (the resolution is notified where the firing went).
--endpoint is DynamoDB's; --sqs-endpoint SQS's (default: --endpoint).
`;

/** One firing error alert as listed. */
export interface ErrorRow {
  readonly fingerprint: string;
  readonly severity: string;
  readonly rule: string;
  readonly error: string;
  readonly task: string;
  readonly count: number;
  readonly since: string;
  readonly lastSeen: string;
  readonly reason: string;
  readonly excerpt: string;
}

/** A stored error alert as a row. */
export function toErrorRow(s: StoredErrorAlert): ErrorRow {
  const st = s.state;
  return {
    fingerprint: st.fingerprint,
    severity: st.notified?.severity ?? st.severity,
    rule: st.rule,
    error: alertNameOf(st.errorType),
    task: `${st.source}/${st.service}/${st.task}`,
    count: st.count,
    since: new Date(st.activeAtMs).toISOString(),
    lastSeen: new Date(st.lastSeenMs).toISOString(),
    reason: st.reason,
    excerpt: st.excerpt,
  };
}

/** Rows as an aligned text table. */
export function formatErrorTable(rows: readonly ErrorRow[]): string {
  if (rows.length === 0) return 'no firing error alerts\n';
  const table = [['FINGERPRINT', 'SEVERITY', 'RULE', 'ERROR', 'TASK', 'COUNT', 'SINCE', 'LAST', 'MESSAGE'], ...rows.map((r) => [r.fingerprint, r.severity, r.rule, r.error, r.task, String(r.count), r.since, r.lastSeen, r.excerpt.replace(/\s+/g, ' ').slice(0, 80)])];
  return alignedTable(table);
}

function tableName(o: AwsOptions, env: NodeJS.ProcessEnv): string {
  const t = o.flags.table ?? (o.prefix ? `${o.prefix}-errors` : env.ERRORS_TABLE);
  if (!t) throw new CliUsageError('name the errors table with --table (or --prefix for local mode, or ERRORS_TABLE)');
  return t;
}

async function queueUrl(o: AwsOptions, env: NodeJS.ProcessEnv, sqs: SQSClient): Promise<string> {
  if (o.flags.queue) return o.flags.queue;
  if (o.prefix) return (await sqs.send(new GetQueueUrlCommand({ QueueName: `${o.prefix}-alertEvents.fifo` }))).QueueUrl!;
  if (env.ALERT_EVENTS_QUEUE_URL) return env.ALERT_EVENTS_QUEUE_URL;
  throw new CliUsageError('name the alert-events queue with --queue (or --prefix for local mode, or ALERT_EVENTS_QUEUE_URL)');
}

/** Runs `klaxon errors ...`. */
export async function run(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, now: () => number = Date.now): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list' && sub !== 'resolve') {
    io.stderr.write(sub ? `klaxon errors: unknown subcommand '${sub}'\n\n${USAGE}` : USAGE);
    return EXIT.usage;
  }
  let o: AwsOptions;
  let table: string;
  try {
    o = parseAwsOptions(rest, env, ['format', 'limit', 'table', 'by', 'queue', 'sqs-endpoint']);
    table = tableName(o, env);
    if (sub === 'list' && o.positionals.length > 0) throw new CliUsageError(`unexpected argument '${o.positionals[0]}'`);
    if (sub === 'resolve' && o.positionals.length !== 1) throw new CliUsageError('give the fingerprint of one error alert (klaxon errors list shows them)');
    if (sub === 'resolve' && !o.flags.by?.trim()) throw new CliUsageError('--by NAME: say who resolves it (it is shown in the resolution)');
    if (o.flags.format !== undefined && !['table', 'json'].includes(o.flags.format)) throw new CliUsageError('--format is table or json');
    if (o.flags.limit !== undefined && !(Number.isInteger(Number(o.flags.limit)) && Number(o.flags.limit) > 0)) throw new CliUsageError(`--limit: expected a positive whole number, got '${o.flags.limit}'`);
  } catch (err) {
    io.stderr.write(`klaxon errors: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const dynamodb = new DynamoDBClient(clientConfig(o, env));
  const store = new DynamoErrorAlertStore(dynamodb, table);
  try {
    if (sub === 'list') {
      let items: StoredErrorAlert[];
      try {
        items = await store.listFiring(Number(o.flags.limit ?? 200));
      } catch (err) {
        io.stderr.write(`klaxon errors: cannot read ${table}${o.endpoint ? ` at ${o.endpoint}` : ''}: ${(err as Error).message}\n`);
        return EXIT.external;
      }
      const rows = items.map(toErrorRow);
      if (o.flags.format === 'json') for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
      else io.stdout.write(formatErrorTable(rows));
      return EXIT.ok;
    }
    const sqsEndpoint = o.flags['sqs-endpoint'] ?? o.endpoint;
    const sqs = new SQSClient(clientConfig({ ...o, ...(sqsEndpoint ? { endpoint: sqsEndpoint } : {}) }, env));
    try {
      const publisher = new SqsTransitionPublisher({ client: sqs, queueUrl: await queueUrl(o, env, sqs) });
      // The quiet period only decides the due index of a state that stays firing: a resolved one has none.
      const r = await resolveErrorByPerson({ store, publisher }, { quietPeriodMs: 0 }, o.positionals[0]!, o.flags.by!, now());
      io.stdout.write(`resolved ${o.positionals[0]} (${r.state.errorType} in ${r.state.service}.${r.state.task}, ${r.state.count} failures) by ${o.flags.by}${r.transition ? '; the resolution is on its way to where the firing went' : '; it was never notified, so no resolution is sent'}\n`);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof ResolveRefusedError) {
        io.stderr.write(`klaxon errors: ${err.message}\n`);
        return EXIT.failed;
      }
      if (err instanceof CliUsageError) {
        io.stderr.write(`klaxon errors: ${err.message}\n\n${USAGE}`);
        return EXIT.usage;
      }
      io.stderr.write(`klaxon errors: cannot resolve: ${(err as Error).message}\n`);
      return EXIT.external;
    } finally {
      sqs.destroy();
    }
  } finally {
    dynamodb.destroy();
  }
}
