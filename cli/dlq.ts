/**
 * `klaxon dlq list | redrive [QUEUE]`: the dead-letter queues of the pipeline.
 *
 *   klaxon dlq list [--messages N] [--format table|json]
 *   klaxon dlq redrive [QUEUE] [--max N]
 *   common: [--prefix P] [--name-prefix NP] [--endpoint URL] [--region R] [--profile P]
 *
 * QUEUE is a logical queue name of infra/topology.ts (alertEvents, slack, email, pagerduty) or a
 * dead-letter queue URL; without it, every dead-letter queue is redriven to its source queue.
 * With `--prefix` (local mode) queues are found by the names local/provision.ts gives them; in AWS,
 * every queue (optionally under `--name-prefix`) whose redrive policy names a dead-letter queue.
 *
 * Redrive uses SQS's StartMessageMoveTask where the endpoint has it (AWS; FIFO queues included,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html),
 * and otherwise moves messages itself: receive, send to the source queue keeping the FIFO group,
 * then delete from the DLQ, so a failure in between duplicates (idempotent downstream) but never loses.
 */
import { createHash } from 'node:crypto';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { QUEUES, type QueueName } from '../infra/topology.ts';
import { queueName } from '../local/provision.ts';
import { EXIT, type CliIo } from './index.ts';
import { CliUsageError, clientConfig, parseAwsOptions, type AwsOptions } from './aws-options.ts';

const USAGE = `Usage: klaxon dlq list [--messages N] [--format table|json]
       klaxon dlq redrive [QUEUE] [--max N]
       common: [--prefix P] [--name-prefix NP] [--endpoint URL] [--region R] [--profile P]
QUEUE: ${Object.entries(QUEUES)
  .filter(([, q]) => 'deadLetter' in q)
  .map(([n]) => n)
  .join(' | ')} | a dead-letter queue URL
`;

/** A source queue and its dead-letter queue. */
export interface DlqPair {
  /** Logical name when known (local mode), else the source queue's name. */
  readonly name: string;
  readonly sourceUrl: string;
  readonly sourceArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  readonly fifo: boolean;
}

const lastSegment = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

async function attributes(sqs: SQSClient, url: string, names: string[]): Promise<Record<string, string>> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names as never }));
  return res.Attributes ?? {};
}

/** Finds the dead-letter queue pairs: by local names with a prefix, else by listing redrive policies. */
export async function findDlqPairs(sqs: SQSClient, o: Pick<AwsOptions, 'prefix'> & { namePrefix?: string }): Promise<DlqPair[]> {
  const pairs: DlqPair[] = [];
  if (o.prefix) {
    for (const [logical, spec] of Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][]) {
      if (!('deadLetter' in spec)) continue;
      const sourceUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName(o.prefix, logical, spec) }))).QueueUrl!;
      const dlqUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName(o.prefix, logical, spec, true) }))).QueueUrl!;
      const [s, d] = await Promise.all([attributes(sqs, sourceUrl, ['QueueArn']), attributes(sqs, dlqUrl, ['QueueArn'])]);
      pairs.push({ name: logical, sourceUrl, sourceArn: s.QueueArn!, dlqUrl, dlqArn: d.QueueArn!, fifo: spec.fifo });
    }
    return pairs;
  }
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const res = await sqs.send(new ListQueuesCommand({ ...(o.namePrefix ? { QueueNamePrefix: o.namePrefix } : {}), ...(token ? { NextToken: token } : {}), MaxResults: 1000 }));
    urls.push(...(res.QueueUrls ?? []));
    token = res.NextToken;
  } while (token);
  const arnToUrl = new Map<string, string>();
  const policies = new Map<string, { arn: string; dlqArn?: string }>();
  for (const url of urls) {
    const a = await attributes(sqs, url, ['QueueArn', 'RedrivePolicy']);
    if (a.QueueArn) arnToUrl.set(a.QueueArn, url);
    let dlqArn: string | undefined;
    if (a.RedrivePolicy) dlqArn = (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    policies.set(url, { arn: a.QueueArn ?? '', ...(dlqArn ? { dlqArn } : {}) });
  }
  for (const [url, p] of policies) {
    if (!p.dlqArn) continue;
    const dlqUrl = arnToUrl.get(p.dlqArn);
    if (!dlqUrl) continue;
    pairs.push({ name: lastSegment(url), sourceUrl: url, sourceArn: p.arn, dlqUrl, dlqArn: p.dlqArn, fifo: url.endsWith('.fifo') });
  }
  return pairs.sort((a, b) => a.name.localeCompare(b.name));
}

/** Messages waiting and in flight on a queue. */
async function depth(sqs: SQSClient, url: string): Promise<{ visible: number; inFlight: number }> {
  const a = await attributes(sqs, url, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
  return { visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/** A short summary of a dead-lettered message body (a NotificationJob or an AlertTransition). */
export function summarizeMessage(body: string): string {
  try {
    const m = JSON.parse(body) as { transition?: { ruleId?: string; kind?: string }; ruleId?: string; kind?: string; channel?: string; destinationId?: string; idempotencyKey?: string; transitionId?: string };
    const t = m.transition ?? m;
    return [t.ruleId, t.kind, m.channel, m.destinationId, m.idempotencyKey ?? m.transitionId].filter(Boolean).join(' ');
  } catch {
    return body.length > 120 ? `${body.slice(0, 117)}...` : body;
  }
}

/** Moves up to `max` messages from the DLQ back to its source queue by hand; returns how many. */
export async function moveMessages(sqs: SQSClient, pair: DlqPair, max = Infinity): Promise<number> {
  let moved = 0;
  while (moved < max) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: pair.dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) break;
    for (const m of msgs) {
      const group = m.Attributes?.MessageGroupId;
      // A fresh deduplication id: the original one may still be inside FIFO's 5-minute window.
      const dedup = createHash('sha256').update(`${m.Attributes?.MessageDeduplicationId ?? m.MessageId}:redrive:${m.ReceiptHandle}`).digest('hex');
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: pair.sourceUrl,
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0 ? { MessageAttributes: m.MessageAttributes } : {}),
          ...(pair.fifo ? { MessageGroupId: group ?? 'redrive', MessageDeduplicationId: dedup } : {}),
        }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: pair.dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
      moved++;
    }
  }
  return moved;
}

/** Redrives one pair: StartMessageMoveTask where supported, else {@link moveMessages}. */
export async function redrive(sqs: SQSClient, pair: DlqPair, max?: number): Promise<{ method: 'move-task' | 'copy'; moved?: number; taskHandle?: string }> {
  if (max === undefined) {
    try {
      const res = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: pair.dlqArn, DestinationArn: pair.sourceArn }));
      return { method: 'move-task', ...(res.TaskHandle ? { taskHandle: res.TaskHandle } : {}) };
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      // Emulators without the action answer InvalidAction / UnsupportedOperation: move by hand.
      if (!/InvalidAction|UnsupportedOperation|UnknownOperation|NotImplemented/i.test(`${name} ${(err as Error).message}`)) throw err;
    }
  }
  return { method: 'copy', moved: await moveMessages(sqs, pair, max) };
}

/** Runs `klaxon dlq ...`. */
export async function run(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list' && sub !== 'redrive') {
    io.stderr.write(sub ? `klaxon dlq: unknown subcommand '${sub}'\n\n${USAGE}` : USAGE);
    return EXIT.usage;
  }
  let o: AwsOptions;
  let max: number | undefined;
  let peek = 0;
  try {
    o = parseAwsOptions(rest, env, ['messages', 'format', 'max', 'name-prefix']);
    if (sub === 'list' && o.positionals.length > 0) throw new CliUsageError(`unexpected argument '${o.positionals[0]}'`);
    if (sub === 'redrive' && o.positionals.length > 1) throw new CliUsageError('redrive takes at most one QUEUE');
    if (o.flags.max !== undefined) {
      max = Number(o.flags.max);
      if (!Number.isInteger(max) || max < 1) throw new CliUsageError(`--max must be a positive integer, got '${o.flags.max}'`);
    }
    if (o.flags.messages !== undefined) {
      peek = Number(o.flags.messages);
      if (!Number.isInteger(peek) || peek < 0 || peek > 10) throw new CliUsageError(`--messages must be 0..10, got '${o.flags.messages}'`);
    }
    if (o.flags.format !== undefined && !['table', 'json'].includes(o.flags.format)) throw new CliUsageError('--format is table or json');
  } catch (err) {
    io.stderr.write(`klaxon dlq: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const sqs = new SQSClient(clientConfig(o, env));
  try {
    let pairs: DlqPair[];
    try {
      pairs = await findDlqPairs(sqs, { ...(o.prefix ? { prefix: o.prefix } : {}), ...(o.flags['name-prefix'] ? { namePrefix: o.flags['name-prefix'] } : {}) });
    } catch (err) {
      io.stderr.write(`klaxon dlq: cannot find the queues${o.endpoint ? ` at ${o.endpoint}` : ''}: ${(err as Error).message}\n`);
      return EXIT.external;
    }
    if (pairs.length === 0) {
      io.stderr.write('klaxon dlq: no queue with a dead-letter queue found (use --prefix for local mode, --name-prefix in AWS)\n');
      return EXIT.failed;
    }
    if (sub === 'list') {
      const rows = [];
      for (const p of pairs) {
        const d = await depth(sqs, p.dlqUrl);
        const messages: string[] = [];
        if (peek > 0 && d.visible > 0) {
          // A short visibility timeout: the peeked messages come back to the DLQ within seconds.
          const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: p.dlqUrl, MaxNumberOfMessages: peek, VisibilityTimeout: 1, WaitTimeSeconds: 0 }));
          for (const m of res.Messages ?? []) messages.push(summarizeMessage(m.Body ?? ''));
        }
        rows.push({ queue: p.name, dlq: lastSegment(p.dlqUrl), messages: d.visible + d.inFlight, ...(peek > 0 ? { sample: messages } : {}) });
      }
      if (o.flags.format === 'json') for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        const w = Math.max(5, ...rows.map((r) => r.queue.length));
        const wd = Math.max(3, ...rows.map((r) => r.dlq.length));
        io.stdout.write(`${'QUEUE'.padEnd(w)}  ${'DLQ'.padEnd(wd)}  MESSAGES\n`);
        for (const r of rows) {
          io.stdout.write(`${r.queue.padEnd(w)}  ${r.dlq.padEnd(wd)}  ${r.messages}\n`);
          for (const s of r.sample ?? []) io.stdout.write(`    ${s}\n`);
        }
      }
      return EXIT.ok;
    }
    const target = o.positionals[0];
    const chosen = target ? pairs.filter((p) => p.name === target || p.dlqUrl === target || lastSegment(p.dlqUrl) === target) : pairs;
    if (chosen.length === 0) {
      io.stderr.write(`klaxon dlq: no dead-letter queue '${target}' (known: ${pairs.map((p) => p.name).join(', ')})\n`);
      return EXIT.usage;
    }
    for (const p of chosen) {
      try {
        const r = await redrive(sqs, p, max);
        io.stdout.write(r.method === 'move-task' ? `${p.name}: move task started (${r.taskHandle ?? 'no handle'})\n` : `${p.name}: ${r.moved} message(s) moved back to ${lastSegment(p.sourceUrl)}\n`);
      } catch (err) {
        io.stderr.write(`klaxon dlq: redrive of ${p.name} failed: ${(err as Error).message}\n`);
        return EXIT.external;
      }
    }
    return EXIT.ok;
  } finally {
    sqs.destroy();
  }
}
