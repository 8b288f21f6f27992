/**
 * `klaxon alerts`: the alerts as dispatch recorded them (the alerts table), and acknowledging them.
 *
 *   klaxon alerts list [--state firing|acknowledged|resolved|all] [--format table|json]
 *                      [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]
 *   klaxon alerts ack|unack FINGERPRINT --by NAME [--queue URL] [--prefix P] [--endpoint URL] ...
 *
 * The table is `--table`, else `<prefix>-alerts` (local mode), else ALERTS_TABLE. `ack` puts an
 * action message on the alert-events queue (`--queue`, else local mode's, else
 * ALERT_EVENTS_QUEUE_URL): dispatch applies it as it applies Slack's button (docs/incidents.md).
 */
import { alignedTable } from './table.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EXIT, type CliIo } from './index.ts';
import { isAlertRecordItem } from '../shared/adapters/dynamodb/alert-store.ts';
import { CliUsageError, clientConfig, parseAwsOptions } from './aws-options.ts';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsActionPublisher } from '../shared/adapters/sqs/action-publisher.ts';
import { MAX_ACTOR_CHARS } from '../shared/core/lifecycle/action.ts';

const USAGE = `Usage: klaxon alerts list [--state firing|acknowledged|resolved|all] [--format table|json]
                         [--table NAME | --prefix P] [--endpoint URL] [--region R] [--profile P]
       klaxon alerts ack|unack FINGERPRINT --by NAME [--queue URL]
                         [--prefix P] [--endpoint URL] [--region R] [--profile P]
`;

/** One alert as listed. */
export interface AlertRow {
  readonly fingerprint: string;
  readonly state: string;
  readonly severity: string;
  readonly rule: string;
  readonly since: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly fireCount: number;
  readonly suppressed: number;
  /** Fingerprints of the firing alerts that inhibit it (its firing is held, not notified; docs/routing.md, "Inhibition"). */
  readonly inhibitedBy: readonly string[];
  /** Ids of the silences that keep its current firing from being notified (docs/routing.md, "Silences"). */
  readonly silencedBy: readonly string[];
  /** Who acknowledged the current activation, when it is acknowledged. */
  readonly acknowledgedBy?: string;
}

/** Turns an alerts-table item into a row (tolerant of records written by older versions). */
export function toAlertRow(item: Record<string, unknown>): AlertRow {
  const deliveries = (item.deliveries ?? {}) as Record<string, { suppressedCount?: number }>;
  const since = Number(item.state === 'resolved' ? (item.endsAtMs ?? item.startsAtMs) : (item.startsAtMs ?? item.activeAtMs));
  const ack = item.state === 'firing' ? (item.ack as { by?: string } | undefined) : undefined;
  return {
    fingerprint: String(item.fingerprint ?? ''),
    // The lifecycle state: a firing alert somebody acknowledged is `acknowledged`.
    state: ack ? 'acknowledged' : String(item.state ?? 'unknown'),
    ...(ack?.by ? { acknowledgedBy: String(ack.by) } : {}),
    severity: String(item.effectiveSeverity ?? item.severity ?? ''),
    rule: String(item.ruleId ?? item.ruleName ?? ''),
    since: Number.isFinite(since) && since > 0 ? new Date(since).toISOString() : '',
    labels: (item.labels ?? {}) as Record<string, string>,
    fireCount: Number(item.fireCount ?? 0),
    suppressed: Object.values(deliveries).reduce((n, d) => n + (d?.suppressedCount ?? 0), 0),
    inhibitedBy: [...((item.held as { inhibitedBy?: string[] } | undefined)?.inhibitedBy ?? [])],
    silencedBy: item.state === 'firing' ? [...((item.muted as { silencedBy?: string[] } | undefined)?.silencedBy ?? [])] : [],
  };
}

const STATE_ORDER: Record<string, number> = { firing: 0, acknowledged: 1, resolved: 2 };

/** Renders rows as an aligned text table. */
export function formatAlertTable(rows: readonly AlertRow[]): string {
  if (rows.length === 0) return 'no alerts\n';
  const labels = (l: Readonly<Record<string, string>>): string =>
    Object.keys(l)
      .filter((k) => k !== 'alertname')
      .sort()
      .map((k) => `${k}=${l[k]}`)
      .join(',');
  const table = [
    ['STATE', 'SEVERITY', 'RULE', 'SINCE', 'FIRED', 'SUPPRESSED', 'INHIBITED BY', 'SILENCED BY', 'ACKNOWLEDGED BY', 'LABELS'],
    ...rows.map((r) => [r.state, r.severity, r.rule, r.since, String(r.fireCount), String(r.suppressed), r.inhibitedBy.join(',') || '-', r.silencedBy.join(',') || '-', r.acknowledgedBy ?? '-', labels(r.labels)]),
  ];
  return alignedTable(table);
}

/** Runs `klaxon alerts ...`. */
export async function run(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, deps: { readonly now?: () => number } = {}): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'ack' || sub === 'unack') return runAck(sub, rest, io, env, deps.now ?? Date.now);
  if (sub !== 'list') {
    io.stderr.write(sub ? `klaxon alerts: unknown subcommand '${sub}'\n\n${USAGE}` : USAGE);
    return EXIT.usage;
  }
  let o;
  try {
    o = parseAwsOptions(rest, env, ['state', 'format', 'table']);
    if (o.positionals.length > 0) throw new CliUsageError(`unexpected argument '${o.positionals[0]}'`);
  } catch (err) {
    io.stderr.write(`klaxon alerts: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const state = o.flags.state ?? 'all';
  const format = o.flags.format ?? 'table';
  if (!['firing', 'acknowledged', 'resolved', 'all'].includes(state) || !['table', 'json'].includes(format)) {
    io.stderr.write(`klaxon alerts: --state is firing|acknowledged|resolved|all and --format table|json\n\n${USAGE}`);
    return EXIT.usage;
  }
  const table = o.flags.table ?? (o.prefix ? `${o.prefix}-alerts` : env.ALERTS_TABLE);
  if (!table) {
    io.stderr.write(`klaxon alerts: name the alerts table with --table (or --prefix for local mode, or ALERTS_TABLE)\n\n${USAGE}`);
    return EXIT.usage;
  }
  const client = new DynamoDBClient(clientConfig(o, env));
  const doc = DynamoDBDocumentClient.from(client);
  const rows: AlertRow[] = [];
  try {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await doc.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
      // Inhibit items (`kind: inhibit`) and bare Slack-thread items (a group's message, or a thread
      // written before dispatch's first commit: no `version`) share the table: not alert records.
      for (const item of res.Items ?? []) if (isAlertRecordItem(item)) rows.push(toAlertRow(item));
      start = res.LastEvaluatedKey;
    } while (start);
  } catch (err) {
    io.stderr.write(`klaxon alerts: cannot read ${table}${o.endpoint ? ` at ${o.endpoint}` : ''}: ${(err as Error).message}\n`);
    return EXIT.external;
  } finally {
    client.destroy();
  }
  const shown = rows
    .filter((r) => state === 'all' || r.state === state)
    .sort((a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || b.since.localeCompare(a.since));
  if (format === 'json') for (const r of shown) io.stdout.write(`${JSON.stringify(r)}\n`);
  else io.stdout.write(formatAlertTable(shown));
  return EXIT.ok;
}

/** `klaxon alerts ack|unack FINGERPRINT --by NAME`: an action message on the alert-events queue (dispatch decides it). */
async function runAck(sub: 'ack' | 'unack', args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv, now: () => number): Promise<number> {
  let o;
  try {
    o = parseAwsOptions(args, env, ['by', 'queue']);
    if (o.positionals.length !== 1) throw new CliUsageError('give the fingerprint of one alert (klaxon alerts list shows them)');
    if (!o.flags.by?.trim()) throw new CliUsageError('--by NAME: say who acknowledges (the alert shows it)');
    if (!o.flags.queue && !o.prefix && !env.ALERT_EVENTS_QUEUE_URL) throw new CliUsageError('name the alert-events queue with --queue (or --prefix for local mode, or ALERT_EVENTS_QUEUE_URL)');
  } catch (err) {
    io.stderr.write(`klaxon alerts: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const sqs = new SQSClient(clientConfig(o, env));
  try {
    const queueUrl = o.flags.queue ?? (o.prefix ? (await sqs.send(new GetQueueUrlCommand({ QueueName: `${o.prefix}-alertEvents.fifo` }))).QueueUrl! : env.ALERT_EVENTS_QUEUE_URL!);
    const at = now();
    const fingerprint = o.positionals[0]!;
    await new SqsActionPublisher({ client: sqs, queueUrl }).publish([
      { version: 1, kind: 'action', action: sub === 'ack' ? 'acknowledge' : 'unacknowledge', fingerprint, by: o.flags.by!.trim().slice(0, MAX_ACTOR_CHARS), source: 'cli', atMs: at, requestId: `cli:${at}` },
    ]);
    io.stdout.write(`${sub === 'ack' ? 'acknowledgement' : 'taking back the acknowledgement'} of ${fingerprint} sent; dispatch applies it (klaxon alerts list shows the result)\n`);
    return EXIT.ok;
  } catch (err) {
    io.stderr.write(`klaxon alerts: cannot send the action${o.endpoint ? ` to ${o.endpoint}` : ''}: ${(err as Error).message}\n`);
    return EXIT.external;
  } finally {
    sqs.destroy();
  }
}
