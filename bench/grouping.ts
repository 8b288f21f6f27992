/**
 * Grouping benchmark (issue 10): "100 alerts of one group firing at once", against its own
 * DynamoDB Local and fauxqs, through the real dispatch handler (functions/dispatch/app.ts with
 * DynamoAlertStore, DynamoGroupStore, SqsJobPublisher, SqsFlushScheduler) and then the real
 * flush-groups handler (functions/flush-groups/app.ts) on the flush message dispatch scheduled,
 * received from the group-flush queue once its delay (group_wait, 1 s here) is over.
 *
 * One receiver with Slack and PagerDuty, critical alerts (the severity matrix sends critical to
 * both): two (receiver, channel) pairs.
 * - notificationsPerReceiverChannel: jobs on the channel queues after dispatch and the flush ÷
 *   (receivers × channels). Goal 1 (Alertmanager's one notification per group).
 * - dynamoRequestsPerAlert: DynamoDB requests of dispatch (every `send` of its client) ÷ alerts:
 *   the record's GetItem, the member's UpdateItem, the record's commit. Goal ≤ 3. The flush's own
 *   requests (read the group, rewrite it) are `flushDynamoRequests`, for the whole group.
 * - writeUnitsPerAlert: write units dispatch consumed ÷ alerts, as DynamoDB Local reports them
 *   (ReturnConsumedCapacity, shared/adapters/dynamodb/capacity.ts), split by table. A member write
 *   is billed on the larger of the item before and after (1 WRU per KB), so it grows with the
 *   group: `groupWriteUnitsFirstAlert` / `groupWriteUnitsLastAlert` show the first and the 100th.
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { createDispatchHandler } from '../functions/dispatch/app.ts';
import { createFlushGroupsHandler } from '../functions/flush-groups/app.ts';
import type { Provisioned } from '../local/provision.ts';
import { toSqsRecord } from '../local/runtime/sqs-poller.ts';
import { DynamoAlertStore, DynamoMemberRecords } from '../shared/adapters/dynamodb/alert-store.ts';
import { itemBytes, meterCapacity, type CapacityMeter } from '../shared/adapters/dynamodb/capacity.ts';
import { DynamoGroupStore } from '../shared/adapters/dynamodb/group-store.ts';
import { staticRoutesSource } from '../shared/adapters/routes/routes-source.ts';
import { SqsFlushScheduler } from '../shared/adapters/sqs/flush-scheduler.ts';
import { SqsDeadLetterSender, SqsJobPublisher } from '../shared/adapters/sqs/job-publisher.ts';
import { sendAllBatched } from '../shared/adapters/sqs/transition-publisher.ts';
import { DEFAULT_DISPATCH_CONFIG, groupIdOf, groupKeyOf, type FlushMessage } from '../shared/core/dispatch/index.ts';
import { compileRoutes } from '../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, Channel, NotificationJob } from '../shared/core/model/index.ts';
import { ManualClock } from '../shared/core/pipeline/clock.ts';
import { withLocalAws } from './eval-io.ts';

const REGION = 'us-east-1';
const ALERTS = 100;
const RECEIVERS = 1;
const CHANNELS = 2;

const ROUTES = compileRoutes(
  {
    receivers: [{ name: 'ops', slack: { channel: 'C0OPS' }, pagerduty: { routingKey: 'ops' } }],
    routes: [{ matchers: ['team="ops"'], receivers: ['ops'], group_by: ['alertname', 'cluster'], group_wait: '1s', group_interval: '5m', repeat_interval: '4h' }],
  },
  'bench grouping routes',
);

/** What the grouping section reports. */
export interface GroupingFigures {
  readonly alerts: number;
  readonly jobsPublished: number;
  readonly notificationsPerReceiverChannel: number;
  readonly dynamoRequestsPerAlert: number;
  readonly dispatchRequestsByCommand: Record<string, number>;
  readonly flushDynamoRequests: number;
  readonly flushRequestsByCommand: Record<string, number>;
  readonly flushMessagesScheduled: number;
  readonly writeUnitsPerAlert: number;
  readonly writeUnitsPerAlertByTable: { readonly alerts: number; readonly groups: number; readonly groupsByDueIndex: number };
  readonly readUnitsPerAlert: number;
  readonly groupWriteUnitsFirstAlert: number;
  readonly groupWriteUnitsLastAlert: number;
  readonly flushWriteUnits: number;
  readonly flushReadUnits: number;
  readonly groupItemBytes: number;
}

function transition(fp: string, i: number, cluster: string, nowMs: number): AlertTransition {
  return {
    version: 1,
    transitionId: `f-${fp}`,
    kind: 'firing',
    fingerprint: fp,
    ruleId: 'bench-cpu',
    ruleName: 'CPU high',
    severity: 'critical',
    labels: { alertname: 'CPU', cluster, team: 'ops', instance: `web-${i}.bench.example.com`, job: 'node' },
    annotations: { summary: `CPU above 90% on web-${i}.bench.example.com for 5 minutes` },
    value: 97.5,
    condition: 'avg_over_time(5m) > 90',
    atMs: nowMs,
    activeAtMs: nowMs - 300_000,
    firedAtMs: nowMs,
    runbookUrl: 'https://runbooks.example.com/cpu',
    emittedAtMs: nowMs,
  };
}

/** Receives (and deletes) what is visible on a queue now. */
async function drain(sqs: SQSClient, url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
    const ms = r.Messages ?? [];
    if (ms.length === 0) return out;
    out.push(...ms);
    for (const m of ms) await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
  }
}

const eventOf = (ms: readonly Message[], arn: string): SQSEvent => ({ Records: ms.map((m) => toSqsRecord(m, arn, REGION)) });

/** Write (or read) units of one table (index: one of its indexes), measured plus computed. */
function units(meter: CapacityMeter, kind: 'read' | 'write', table: string, index?: string): number {
  return meter
    .lines()
    .filter((l) => l.table === table && l.index === index)
    .reduce((a, l) => a + l[kind].measured + l[kind].computed, 0);
}
const allUnits = (meter: CapacityMeter, kind: 'read' | 'write'): number => {
  const t = meter.totals()[kind];
  return t.measured + t.computed;
};
const requestsOf = (meter: CapacityMeter): Record<string, number> => Object.fromEntries([...meter.requests].sort(([a], [b]) => a.localeCompare(b)));
const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** Runs the section on provisioned resources (the clients' meters are added here). */
export async function runGrouping(dynamodb: DynamoDBClient, sqs: SQSClient, p: Provisioned, plain: DynamoDBClient): Promise<GroupingFigures> {
  const meter = meterCapacity(dynamodb);
  const flushSends: unknown[] = [];
  sqs.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { QueueUrl?: string; Entries?: unknown[] };
      if (input.QueueUrl === p.queues.groupFlush.url) flushSends.push(...(input.Entries ?? [input]));
      return next(args);
    },
    { step: 'initialize', name: 'benchFlushSends' },
  );
  const silent = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'KlaxonBench', serviceName: 'grouping' });
  const queueUrls: Record<Channel, string> = { slack: p.queues.slack.url, email: p.queues.email.url, pagerduty: p.queues.pagerduty.url, webhook: p.queues.webhook.url };
  const nowMs = Date.now();
  const clock = new ManualClock(nowMs);
  const groups = new DynamoGroupStore(dynamodb, p.tables.groups);
  const scheduler = new SqsFlushScheduler({ client: sqs, queueUrl: p.queues.groupFlush.url });
  const publisher = new SqsJobPublisher(sqs, queueUrls);
  const routes = staticRoutesSource(ROUTES);
  const dispatch = createDispatchHandler({
    store: new DynamoAlertStore(dynamodb, p.tables.alerts),
    publisher,
    deadLetter: new SqsDeadLetterSender(sqs, p.queues.alertEvents.dlq!.url),
    routes,
    groups,
    flushes: scheduler,
    config: DEFAULT_DISPATCH_CONFIG,
    clock,
    logger: silent,
    metrics,
  });

  // 1. Dispatch: 100 firing transitions of one group, from the alert-events queue in batches of
  // 10 as Lambda hands them over; the first and the last alone, to see one member write's units.
  const cluster = `bench-${randomUUID().slice(0, 6)}`;
  const ts = Array.from({ length: ALERTS }, (_, i) => transition(`bench-grp-${cluster}-${i}`, i, cluster, nowMs));
  await sendAllBatched(
    sqs,
    p.queues.alertEvents.url,
    ts.map((t, i) => ({ Id: String(i), MessageBody: JSON.stringify(t), MessageGroupId: t.fingerprint, MessageDeduplicationId: t.transitionId })),
  );
  const received: Message[] = [];
  while (received.length < ALERTS) {
    const got = await drain(sqs, p.queues.alertEvents.url);
    if (got.length === 0) throw new Error(`grouping bench: ${received.length} of ${ALERTS} transitions received`);
    received.push(...got);
  }
  const batches = [received.slice(0, 1), ...Array.from({ length: Math.ceil((ALERTS - 2) / 10) }, (_, i) => received.slice(1 + i * 10, Math.min(ALERTS - 1, 11 + i * 10))), received.slice(ALERTS - 1)];
  const groupsTable = p.tables.groups;
  let dispatchRequests: Record<string, number> = {};
  let dispatchWrite = 0;
  let dispatchRead = 0;
  const byTable = { alerts: 0, groups: 0, groupsByDueIndex: 0 };
  let firstGroupWrite = 0;
  let lastGroupWrite = 0;
  for (const [i, batch] of batches.entries()) {
    meter.reset();
    const res = await dispatch(eventOf(batch, p.queues.alertEvents.arn));
    if (res.batchItemFailures.length > 0) throw new Error(`grouping bench: dispatch failed ${res.batchItemFailures.length} records`);
    for (const [k, v] of meter.requests) dispatchRequests[k] = (dispatchRequests[k] ?? 0) + v;
    dispatchWrite += allUnits(meter, 'write');
    dispatchRead += allUnits(meter, 'read');
    byTable.alerts += units(meter, 'write', p.tables.alerts);
    byTable.groups += units(meter, 'write', groupsTable);
    byTable.groupsByDueIndex += units(meter, 'write', groupsTable, 'by-due');
    if (i === 0) firstGroupWrite = units(meter, 'write', groupsTable) + units(meter, 'write', groupsTable, 'by-due');
    if (i === batches.length - 1) lastGroupWrite = units(meter, 'write', groupsTable) + units(meter, 'write', groupsTable, 'by-due');
  }
  dispatchRequests = Object.fromEntries(Object.entries(dispatchRequests).sort(([a], [b]) => a.localeCompare(b)));
  const jobsFromDispatch = (await Promise.all(Object.values(queueUrls).map((u) => drain(sqs, u)))).flat().length;
  const id = groupIdOf(groupKeyOf('routes[0]', 'ops', { alertname: 'CPU', cluster }));
  const raw = await plain.send(new GetItemCommand({ TableName: groupsTable, Key: { id: { S: id } }, ConsistentRead: true }));
  const groupItemBytes = raw.Item ? itemBytes(raw.Item) : 0;
  const scheduledByDispatch = flushSends.length;

  // 2. The flush: the message dispatch scheduled, received once its delay is over, at the group's due time.
  let flushMessages: Message[] = [];
  const deadline = Date.now() + 15_000;
  while (flushMessages.length === 0 && Date.now() < deadline) {
    flushMessages = (await drain(sqs, p.queues.groupFlush.url)).filter((m) => (JSON.parse(m.Body!) as FlushMessage).id === id);
    if (flushMessages.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  if (flushMessages.length !== 1) throw new Error(`grouping bench: ${flushMessages.length} flush messages for the group`);
  clock.set((JSON.parse(flushMessages[0]!.Body!) as FlushMessage).dueAtMs);
  const flush = createFlushGroupsHandler({
    groups,
    publisher,
    scheduler,
    routes,
    records: new DynamoMemberRecords(dynamodb, p.tables.alerts),
    deadLetter: new SqsDeadLetterSender(sqs, p.queues.groupFlush.dlq!.url),
    config: { throttleWindows: DEFAULT_DISPATCH_CONFIG.throttleWindows },
    clock,
    logger: silent,
    metrics,
  });
  meter.reset();
  const res = await flush(eventOf(flushMessages, p.queues.groupFlush.arn));
  if (res.batchItemFailures.length > 0) throw new Error('grouping bench: the flush failed');
  const flushRequests = requestsOf(meter);
  const flushWriteUnits = allUnits(meter, 'write');
  const flushReadUnits = allUnits(meter, 'read');
  const jobs = (await Promise.all(Object.values(queueUrls).map((u) => drain(sqs, u)))).flat().map((m) => JSON.parse(m.Body!) as NotificationJob);
  const counted = jobs.filter((j) => j.group?.firingCount === ALERTS).length;
  if (counted !== jobs.length) throw new Error(`grouping bench: ${jobs.length - counted} jobs without the ${ALERTS} alerts`);
  const jobsPublished = jobsFromDispatch + jobs.length;

  return {
    alerts: ALERTS,
    jobsPublished,
    notificationsPerReceiverChannel: jobsPublished / (RECEIVERS * CHANNELS),
    dynamoRequestsPerAlert: total(dispatchRequests) / ALERTS,
    dispatchRequestsByCommand: dispatchRequests,
    flushDynamoRequests: total(flushRequests),
    flushRequestsByCommand: flushRequests,
    flushMessagesScheduled: scheduledByDispatch,
    writeUnitsPerAlert: dispatchWrite / ALERTS,
    writeUnitsPerAlertByTable: { alerts: byTable.alerts / ALERTS, groups: byTable.groups / ALERTS, groupsByDueIndex: byTable.groupsByDueIndex / ALERTS },
    readUnitsPerAlert: dispatchRead / ALERTS,
    groupWriteUnitsFirstAlert: firstGroupWrite,
    groupWriteUnitsLastAlert: lastGroupWrite,
    flushWriteUnits,
    flushReadUnits,
    groupItemBytes,
  };
}

/** Runs the grouping benchmark against its own DynamoDB Local and fauxqs. */
export async function benchGrouping(): Promise<GroupingFigures> {
  const saved = { metrics: process.env.POWERTOOLS_METRICS_DISABLED, log: process.env.POWERTOOLS_LOG_LEVEL };
  // EMF and logs go to stdout, which carries the bench's JSON line: silence them here.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  try {
    return await withLocalAws(`benchgrp${randomUUID().slice(0, 6)}`, async ({ dynamodb, sqs, p, endpoints }) => {
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      // An unmetered client for looking at the item (its read is not part of the figures).
      const plain = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      try {
        return await runGrouping(dynamodb, sqs, p, plain);
      } finally {
        plain.destroy();
      }
    });
  } finally {
    if (saved.metrics === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = saved.metrics;
    if (saved.log === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = saved.log;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchGrouping()));
  process.exit(0);
}
