/**
 * `npm start`: the whole Klaxon pipeline on one machine.
 *
 * Starts the real local implementations of the AWS APIs (DynamoDB Local, fauxqs for SQS,
 * aws-ses-v2-local for SES, a local Secrets Manager) and the local Slack and PagerDuty receivers on
 * free ports; provisions the tables and queues of infra/topology.ts (the list the CDK app renders);
 * loads rules and routes; and runs the same Lambda handlers as AWS: MSK-shaped batches into the
 * evaluator, SQS batches into dispatch and the channel functions, the timers function each minute.
 * A demo stream feeds it unless `--samples` or `--kafka` says otherwise; a console shows it all.
 *
 * `startLocal(options)` is the programmatic entry (the end-to-end tests use it); running this file
 * parses the command line, starts, prints where everything is, and stops cleanly on Ctrl-C.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { interceptLocalhostDns } from 'fauxqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, DeleteMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../infra/topology.ts';
import type { AlertTransition, NotificationJob } from '../shared/core/model/index.ts';
import type { RejectedMessage } from '../shared/adapters/sqs/rejected-sink.ts';
import { decodeJsonText, defaultEventTimeBounds } from '../shared/core/decode/index.ts';
import { provision, type Provisioned } from './provision.ts';
import { startDynamoDbLocal } from './services/dynamodb-local.ts';
import { startSqsLocal } from './services/sqs-local.ts';
import { startSesLocal } from './services/ses-local.ts';
import { createVirtualClock, type VirtualClock } from './runtime/clock.ts';
import { lambdaContext } from './runtime/context.ts';
import { functionAvailable, functionEnv, loadFunction, type LocalHandler } from './runtime/functions.ts';
import { MskBatcher, type KafkaBatchResponse } from './runtime/msk-batcher.ts';
import { keepFailedRecord } from './runtime/failed-records.ts';
import { SqsPoller } from './runtime/sqs-poller.ts';
import { startFunctionUrl } from './runtime/function-url.ts';
import { Scheduler } from './runtime/scheduler.ts';
import { createLocalLog, type LocalLog } from './runtime/log.ts';
import { startReceivers, type LocalReceivers } from './runtime/receivers.ts';
import { LOCAL_SLACK_BOT_TOKEN } from './receivers/slack.ts';
import { startRemediationTarget, type RemediationTarget } from './receivers/remediation-target.ts';
import { startAwsActionsStandIn, type AwsActionsStandIn } from './receivers/aws-actions-standin.ts';
import { DEFAULT_CATALOG_FILE, DEFAULT_EVENTS_FILE, DEFAULT_ROUTES_FILE, DEFAULT_RULES_FILE, demoRoutesFor, LOCAL_REMEDIATION_WEBHOOK_SECRET, LOCAL_SECRET_NAMES, LOCAL_TOPIC, localConfigValues, localRemediationActions, localSecrets } from './config/index.ts';
import { startLogsInsightsStandIn, type StandInLogLine } from './receivers/logs-insights-standin.ts';
import { demoLogLines } from './demo/logs.ts';
import { SCRAPE_MS } from './demo/scenario.ts';
import { loadRulesIntoTable } from './config/rules-loader.ts';
import { LocalObserver } from './console/observer.ts';
import { consoleSilences } from './console/silences.ts';
import { consoleAnalytics } from './console/analytics.ts';
import { startConsole, type ConsoleServer } from './console/server.ts';
import { DemoStream } from './demo/stream.ts';
import { DemoOncall } from './demo/oncall.ts';

/** Where the metric records come from. */
export type LocalSource =
  | { readonly kind: 'demo' }
  | { readonly kind: 'samples'; readonly file: string }
  | { readonly kind: 'kafka'; readonly brokers: readonly string[]; readonly topic: string }
  /** Nothing: the caller pushes records with {@link LocalPipeline.send} (tests). */
  | { readonly kind: 'none' };

/** Options of {@link startLocal}. */
export interface StartOptions {
  readonly rulesFile?: string;
  readonly routesFile?: string;
  /** Error-events configuration YAML (classification, fingerprints, quiet period; default local/config/demo-events.yaml). */
  readonly eventsFile?: string;
  /** Where the functions read rules: the rules table (loaded from rulesFile; default) or the file itself. */
  readonly rulesSource?: 'dynamodb' | 'file';
  readonly source?: LocalSource;
  /** Event time runs this many times faster than the wall clock (default 1). */
  readonly speed?: number;
  /** Virtual clock start (epoch ms); default now. */
  readonly startMs?: number;
  /** Console port; 0 = a free one; `false` = no console. Default 8787 (or a free one if taken). */
  readonly consolePort?: number | false;
  readonly json?: boolean;
  /** The log to write to; default a terminal log on stdout. */
  readonly log?: LocalLog;
  /** Take rejected records off the rejected queue into the console (default true). */
  readonly drainRejected?: boolean;
  /** Use already running emulators instead of starting DynamoDB Local and fauxqs (tests share one). */
  readonly endpoints?: { readonly dynamodb: string; readonly sqs: string };
  /** Resource name prefix (default `klaxon-local`, or unique when endpoints are shared). */
  readonly prefix?: string;
  /**
   * Where records that still fail after the maximum retry attempts are kept, one JSON line each
   * (the local stand-in for the S3 on-failure destination); default `.klaxon/failed-records.jsonl`.
   */
  readonly failedRecordsFile?: string;
  /** Visibility timeout of the channel and alert-events queues, seconds (default 5 locally). */
  readonly visibilityTimeoutSeconds?: number;
  /** Partitions of the local topic (default 3). */
  readonly partitions?: number;
  /** Batching window of the evaluator's event source, ms (default: the topology's). */
  readonly maxBatchingWindowMs?: number;
  /** Powertools log level of the handlers (default ERROR: the runtime's own lines say what happens). */
  readonly handlerLogLevel?: string;
  /** Port of the local interactions endpoint (default: a free one). */
  readonly interactionsPort?: number;
  /** Port of the local webhook receiver (default 8790, which the demo routes name; 0 = a free one). */
  readonly webhookReceiverPort?: number;
  /**
   * The log lines the local stand-in for Logs Insights answers with (default: the demo's, derived
   * from its scenario when the source is the demo; none otherwise). Tests with a scripted source give theirs.
   */
  readonly logLines?: (logGroup: string, startMs: number, endMs: number) => readonly StandInLogLine[];
}

/** Everything a running local pipeline exposes. */
export interface LocalPipeline {
  readonly clock: VirtualClock;
  readonly provisioned: Provisioned;
  readonly prefix: string;
  readonly clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient };
  readonly endpoints: {
    readonly dynamodb: string;
    readonly sqs: string;
    readonly ses: string;
    readonly secretsManager: string;
    readonly slack: string;
    readonly pagerduty: string;
    /** The local webhook receiver (verifies Standard Webhooks signatures). */
    readonly webhook: string;
    readonly console?: string;
    /** The interactions endpoint (local Function URL): `/slack/interactions`, `/pagerduty/webhooks`. */
    readonly interactions?: string;
    /** The local remediation target (`/restart`, `/_restarts`; docs/remediation.md). */
    readonly remediationTarget: string;
    /** The SSM Automation / Lambda Invoke stand-in. */
    readonly awsActions: string;
  };
  /** Auto-remediation's local ends: what the target restarted, what the stand-in was asked. */
  readonly remediation: { readonly target: RemediationTarget; readonly awsActions: AwsActionsStandIn };
  readonly receivers: LocalReceivers;
  readonly observer: LocalObserver;
  /** Functions running (those whose app module exists in this checkout). */
  readonly functions: readonly FunctionName[];
  /** Puts one record on the local topic (the value as a producer would write it). */
  send(value: string, opts?: { timestampMs?: number; key?: string }): { partition: number; offset: number };
  /** Runs the timers function once now (besides the schedule). */
  runTimers(): Promise<unknown>;
  /** Resolves when every record sent so far has been through the evaluator. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

type Stoppable = { stop(): Promise<void> | void };

function setProcessEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) process.env[k] = v;
}

/** Starts the local pipeline. */
export async function startLocal(opts: StartOptions = {}): Promise<LocalPipeline> {
  const log = opts.log ?? createLocalLog({ json: opts.json ?? false });
  const stack: Stoppable[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stack.reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.warn(`while stopping: ${(err as Error).message}`);
      }
    }
    stack.length = 0;
  };
  try {
    // Recorded samples are replayed at their own time: the virtual clock starts at the first one,
    // so the evaluator's event-time bounds (future skew, maximum age) judge them as production did.
    const startMs = opts.startMs ?? (opts.source?.kind === 'samples' && opts.source.file !== '-' ? await firstSampleTimeMs(opts.source.file) : undefined);
    const clock = createVirtualClock({ speed: opts.speed ?? 1, ...(startMs !== undefined ? { startMs } : {}) });

    // 1. The AWS API emulators and the receivers.
    let dynamodbEndpoint: string;
    let sqsEndpoint: string;
    if (opts.endpoints) {
      ({ dynamodb: dynamodbEndpoint, sqs: sqsEndpoint } = opts.endpoints);
    } else {
      const [ddb, sqs] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
      stack.push(ddb, sqs);
      dynamodbEndpoint = ddb.endpoint;
      sqsEndpoint = sqs.endpoint;
    }
    const ses = await startSesLocal();
    stack.push(ses);
    const receivers = await startReceivers({ clock, ...(opts.webhookReceiverPort !== undefined ? { webhookPort: opts.webhookReceiverPort } : {}) });
    stack.push(receivers);
    // Auto-remediation's local ends (docs/remediation.md): the team's webhook endpoint, and the
    // stand-in for SSM Automation and Lambda Invoke (nothing emulates them here).
    const remediationTarget = await startRemediationTarget({ secret: LOCAL_REMEDIATION_WEBHOOK_SECRET, clock });
    stack.push(remediationTarget);
    const awsActions = await startAwsActionsStandIn({ documents: { 'Klaxon-RestartConsumer': 'succeed' }, now: () => clock.now() });
    stack.push(awsActions);
    // The local stand-in for Logs Insights (nothing emulates it here): the demo's checkout logs, queries that run 3 s of event time.
    let demoStartMs: number | undefined;
    const logsStandIn = await startLogsInsightsStandIn({
      clock,
      lines: opts.logLines ?? ((group, from, to) => (demoStartMs === undefined ? [] : demoLogLines(group, from, to, demoStartMs))),
    });
    stack.push(logsStandIn);

    // The handlers build their SDK clients with no endpoint: the SDK reads these (as in AWS, with none set).
    setProcessEnv({
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      // The host fauxqs puts in queue URLs, so the SDK does not warn that they differ.
      AWS_ENDPOINT_URL_SQS: sqsEndpoint.replace('//127.0.0.1:', '//sqs.us-east-1.localhost:'),
      AWS_ENDPOINT_URL_SES: ses.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: receivers.secretsManager.url,
      AWS_ENDPOINT_URL_SSM: awsActions.url,
      AWS_ENDPOINT_URL_LAMBDA: awsActions.url,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logsStandIn.url,
      POWERTOOLS_METRICS_DISABLED: 'true',
      // No X-Ray daemon locally (the Tracer also disables itself outside Lambda): say so explicitly.
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: opts.handlerLogLevel ?? 'ERROR',
      POWERTOOLS_DEV: 'false',
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;

    // fauxqs answers queue URLs on `sqs.<region>.localhost`, and the SDK sends to the queue URL's
    // host when the endpoint comes from the environment: resolve *.localhost to loopback.
    const restoreDns = interceptLocalhostDns();
    stack.push({ stop: () => restoreDns() });

    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: 'us-east-1', credentials });
    const sqs = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials });

    // 2. Tables and queues from the topology. Visibility timeouts are short locally so a retry
    // comes back in seconds, not the minutes AWS needs (6 × function timeout).
    const prefix = opts.prefix ?? (opts.endpoints ? `local${randomUUID().slice(0, 6)}` : 'klaxon-local');
    const vt = opts.visibilityTimeoutSeconds ?? 5;
    const provisioned = await provision({
      dynamodb,
      sqs,
      prefix,
      visibilityTimeoutSeconds: { alertEvents: vt, groupFlush: vt, slack: vt, email: vt, pagerduty: vt, webhook: vt, interactions: vt, remediation: vt, enrichFollowUp: vt, rejected: 30 },
    });

    // 3. Secrets, rules, routes.
    const secrets = localSecrets({ slackWebhookUrl: (name) => receivers.slack.webhookUrl(name), slackBotToken: LOCAL_SLACK_BOT_TOKEN });
    await receivers.secretsManager.put(LOCAL_SECRET_NAMES.slack, secrets.slack);
    await receivers.secretsManager.put(LOCAL_SECRET_NAMES.pagerduty, secrets.pagerduty);
    await receivers.secretsManager.put(LOCAL_SECRET_NAMES.pagerdutyWebhook, secrets.pagerdutyWebhook);
    await receivers.secretsManager.put(LOCAL_SECRET_NAMES.webhooks, secrets.webhooks);
    await receivers.secretsManager.put(LOCAL_SECRET_NAMES.remediationWebhook, secrets.remediationWebhook);
    const rulesFile = opts.rulesFile ?? DEFAULT_RULES_FILE;
    // The demo's webhook receiver is wherever the local one listens (demoRoutesFor).
    const routesFile = demoRoutesFor(opts.routesFile ?? DEFAULT_ROUTES_FILE, receivers.webhook.url);
    const eventsFile = opts.eventsFile ?? DEFAULT_EVENTS_FILE;
    const rulesSource = opts.rulesSource ?? 'dynamodb';
    if (rulesSource === 'dynamodb') {
      const ids = await loadRulesIntoTable(dynamodb, provisioned.tables.rules, rulesFile);
      log.info(`loaded ${ids.length} rules from ${rulesFile} into ${provisioned.tables.rules}: ${ids.join(', ')}`);
    }

    // 4. The console (its URL is the dashboard link in notifications).
    const silences = consoleSilences(dynamodb, provisioned.tables, clock);
    const observer = new LocalObserver({
      silences,
      dynamodb,
      sqs,
      provisioned,
      slackUrl: receivers.slack.url,
      pagerdutyUrl: receivers.pagerduty.url,
      webhookUrl: receivers.webhook.url,
      sesUrl: ses.endpoint,
      eventTime: () => clock.now(),
      speed: clock.speed,
      links: { 'SES inbox': ses.endpoint, 'Slack received': `${receivers.slack.url}/_received`, 'PagerDuty received': `${receivers.pagerduty.url}/_received`, 'Webhooks received': `${receivers.webhook.url}/_received`, 'Remediations done': `${remediationTarget.url}/_restarts` },
    });
    let consoleServer: ConsoleServer | undefined;
    if (opts.consolePort !== false) {
      const wanted = opts.consolePort ?? 8787;
      const analytics = await consoleAnalytics(dynamodb, provisioned.tables.history, clock);
      try {
        consoleServer = await startConsole({ port: wanted, snapshot: () => observer.snapshot(), silences, analytics, click: (req) => receivers.slack.click(req) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        consoleServer = await startConsole({ port: 0, snapshot: () => observer.snapshot(), silences, analytics, click: (req) => receivers.slack.click(req) });
      }
      stack.push(consoleServer);
    }

    // 5. The functions, with the environment Lambda would give them.
    // Routes come from ROUTES_FILE (it wins over the SSM parameter, which local mode has none of).
    const config = localConfigValues({ rulesSource, consoleUrl: consoleServer?.url ?? 'http://127.0.0.1', routesParameter: '', remediationActions: localRemediationActions(remediationTarget.endpoint) });
    const extraEnv: Partial<Record<FunctionName, Record<string, string>>> = {
      // The error-events configuration comes from EVENTS_FILE (it wins over the SSM parameter).
      evaluator: { ...(rulesSource === 'file' ? { RULES_FILE: rulesFile } : {}), EVENTS_FILE: eventsFile },
      timers: { ...(rulesSource === 'file' ? { RULES_FILE: rulesFile } : {}), EVENTS_FILE: eventsFile },
      dispatch: { ROUTES_FILE: routesFile },
      flushGroups: { ROUTES_FILE: routesFile },
      // The catalog comes from CATALOG_FILE (it wins over the SSM parameter), as routes do.
      deliverSlack: { SLACK_API_URL: receivers.slack.apiUrl, CATALOG_FILE: DEFAULT_CATALOG_FILE },
      deliverEmail: { CATALOG_FILE: DEFAULT_CATALOG_FILE },
      deliverPagerduty: { PAGERDUTY_EVENTS_URL: receivers.pagerduty.eventsUrl, CATALOG_FILE: DEFAULT_CATALOG_FILE },
      // The local Slack's response URLs and usergroups.users.list.
      interactions: { SLACK_API_URL: receivers.slack.apiUrl },
      interactionsWorker: { ROUTES_FILE: routesFile, SLACK_API_URL: receivers.slack.apiUrl },
      // Ephemeral answers to Approve / Reject clicks go to the local Slack's response URLs.
      remediate: { SLACK_API_URL: receivers.slack.apiUrl },
    };
    const handlers = new Map<FunctionName, LocalHandler>();
    const missing: FunctionName[] = [];
    for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
      if (!functionAvailable(fn)) {
        missing.push(fn);
        continue;
      }
      const env = { ...functionEnv(fn, provisioned, config), ...(extraEnv[fn] ?? {}) };
      handlers.set(fn, await loadFunction(fn, env, { clock, speed: clock.speed }));
    }
    if (missing.length > 0) log.warn(`not in this checkout, not running: ${missing.join(', ')}`);
    const invoke = async (fn: FunctionName, event: unknown): Promise<unknown> => {
      const spec = FUNCTIONS[fn];
      return await handlers.get(fn)!(event, lambdaContext({ functionName: `klaxon-local-${fn}`, memoryMb: spec.memoryMb, timeoutSeconds: spec.timeoutSeconds }));
    };

    // The interactions endpoint on a local Function URL; the receivers click and send webhooks to it.
    let interactionsUrl: string | undefined;
    if (handlers.has('interactions')) {
      const url = await startFunctionUrl((event) => invoke('interactions', event) as Promise<LambdaFunctionURLResult>, opts.interactionsPort ?? 0);
      stack.push(url);
      interactionsUrl = url.url;
      receivers.connectInteractions(url.url);
    }

    // 6. Event sources: MSK batches into the evaluator.
    const evalTrigger = FUNCTIONS.evaluator.trigger;
    const failedRecordsFile = opts.failedRecordsFile ?? resolve('.klaxon', 'failed-records.jsonl');
    const batcher = new MskBatcher({
      topic: opts.source?.kind === 'kafka' ? opts.source.topic : LOCAL_TOPIC,
      partitions: opts.partitions ?? 3,
      batchSize: evalTrigger.batchSize,
      maxBatchingWindowMs: opts.maxBatchingWindowMs ?? evalTrigger.maxBatchingWindowSeconds * 1000,
      now: () => clock.now(),
      invoke: async (event) => (handlers.has('evaluator') ? ((await invoke('evaluator', event)) as KafkaBatchResponse) : { batchItemFailures: [] }),
      onInvoke: (i) => {
        observer.counters.evaluatorInvocations++;
        observer.counters.recordsIn += i.records - i.retried;
        if (i.error) {
          observer.counters.evaluatorErrors++;
          log.error(`evaluator failed; the batch will be retried: ${(i.error as Error).message}`);
        } else if (i.retried > 0) log.warn(`evaluator reported ${i.retried} records for redelivery`);
      },
      // As the AWS on-failure destination (S3) keeps the full records, local mode keeps them in a file.
      onDrop: (r, reason) => {
        keepFailedRecord(failedRecordsFile, r, reason, Date.now());
        log.error(`record ${r.topic}[${r.partition}]@${r.offset} failed after the maximum retry attempts (${reason}); kept in ${failedRecordsFile}`);
      },
    });
    stack.push(batcher);

    // SQS batches into dispatch and the channels; the taps feed the log and the console.
    const channelOf: Partial<Record<FunctionName, string>> = { deliverSlack: 'slack', deliverEmail: 'email', deliverPagerduty: 'pagerduty', deliverWebhook: 'webhook' };
    for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
      const trigger = FUNCTIONS[fn].trigger;
      if (trigger.kind !== 'sqs' || !handlers.has(fn)) continue;
      const q = provisioned.queues[trigger.queue];
      const channel = channelOf[fn];
      const poller = new SqsPoller({
        sqs,
        queue: trigger.queue,
        queueUrl: q.url,
        queueArn: q.arn,
        batchSize: trigger.batchSize,
        concurrency: trigger.maxConcurrency,
        invoke: async (event) => (await invoke(fn, event)) as SQSBatchResponse,
        onBatch:
          fn === 'dispatch'
            ? (event) => {
                for (const r of event.Records) {
                  try {
                    const view = observer.transition(JSON.parse(r.body) as AlertTransition);
                    if (view) log.transition(view);
                  } catch {
                    log.warn(`alert-events message ${r.messageId} is not JSON`);
                  }
                }
              }
            : undefined,
        onInvoke: (i) => {
          if (i.error) log.error(`${fn} failed; its batch will be redelivered: ${(i.error as Error).message}`);
          if (!channel) return;
          for (const r of i.event.Records) {
            let job: NotificationJob;
            try {
              job = JSON.parse(r.body) as NotificationJob;
            } catch {
              continue;
            }
            const view = observer.attempt(channel, job, i.succeeded.includes(r.messageId) ? 'sent' : 'retry', Number(r.attributes.ApproximateReceiveCount));
            log.delivery({ ...view });
          }
        },
        onError: (err) => log.warn(`polling ${trigger.queue}: ${(err as Error).message}`),
      });
      poller.start();
      stack.push(poller);
    }

    // Rejected records: taken off the rejected queue into the console and the log (local only;
    // in AWS they stay on the queue for an operator).
    if (opts.drainRejected ?? true) {
      const rejectedQueue = provisioned.queues.rejected;
      const sink = new SqsPoller({
        sqs,
        queue: 'rejected',
        queueUrl: rejectedQueue.url,
        queueArn: rejectedQueue.arn,
        batchSize: 10,
        invoke: async (event: SQSEvent) => {
          for (const r of event.Records) {
            let rec: Partial<RejectedMessage>;
            try {
              rec = JSON.parse(r.body) as RejectedMessage;
            } catch {
              rec = { reason: 'unreadable rejected-queue message', raw: r.body };
            }
            observer.reject(rec);
            log.rejected(rec);
          }
          return { batchItemFailures: [] };
        },
        onError: (err) => log.warn(`polling rejected: ${(err as Error).message}`),
      });
      sink.start();
      stack.push(sink);
    }

    // The timers function each (virtual) minute.
    const runTimers = async (): Promise<unknown> => {
      if (!handlers.has('timers')) return undefined;
      const res = await invoke('timers', { source: 'aws.scheduler', 'detail-type': 'Scheduled Event', time: new Date(clock.now()).toISOString() });
      observer.counters.timerRuns++;
      return res;
    };
    const timersTrigger = FUNCTIONS.timers.trigger;
    const scheduler = new Scheduler({ clock, everyMs: timersTrigger.everyMinutes * 60_000, run: runTimers, onError: (err) => log.error(`timers failed: ${(err as Error).message}`) });
    scheduler.start();
    stack.push(scheduler);

    const send = (value: string, o: { timestampMs?: number; key?: string } = {}): { partition: number; offset: number } =>
      batcher.push({ value, ...(o.timestampMs !== undefined ? { timestampMs: o.timestampMs } : {}), ...(o.key !== undefined ? { key: o.key } : {}) });

    // 7. The source of records.
    const source = opts.source ?? { kind: 'demo' };
    if (source.kind === 'demo') {
      // The demo's logs are derived from its scenario time (local/demo/logs.ts), aligned as DemoStream aligns its start.
      demoStartMs = Math.floor(clock.now() / SCRAPE_MS) * SCRAPE_MS;
      const demo = new DemoStream({
        clock,
        send: (value, timestampMs) => void send(value, { timestampMs }),
        setSlackOutage: async (on) => {
          await receivers.slack.outage(on);
          log.info(on ? 'demo: Slack outage begins (the Slack receiver answers 503)' : 'demo: Slack outage ends');
        },
        onError: (err) => log.warn(`demo: ${(err as Error).message}`),
      });
      demo.start();
      stack.push(demo);
      // The demo's on-call acknowledges web-1's CPU alert from Slack; the reporting DAG's timeout, unacknowledged, escalates.
      const oncall = new DemoOncall({
        dynamodb,
        alertsTable: provisioned.tables.alerts,
        clock,
        click: (req) => receivers.slack.click(req),
        onAck: (fp) => log.info(`demo: the on-call acknowledged ${fp} from Slack`),
        onError: (err) => log.warn(`demo on-call: ${(err as Error).message}`),
      });
      oncall.start();
      stack.push(oncall);
    } else if (source.kind === 'samples') {
      const input = source.file === '-' ? process.stdin : createReadStream(source.file);
      const lines = createInterface({ input, crlfDelay: Infinity });
      let n = 0;
      void (async () => {
        for await (const line of lines) {
          if (line.trim() === '') continue;
          // Paced by the virtual clock (use --speed to go faster): a line is sent when its newest
          // sample's time has come, as a producer would, so it is not "in the future" on arrival.
          const { samples, events } = decodeJsonText(line, { bounds: defaultEventTimeBounds(undefined) });
          const times = [...samples, ...events].map((s) => s.timestampMs);
          const due = times.length ? Math.max(...times) : clock.now();
          const wait = clock.wallDelay(due - clock.now());
          if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref());
          send(line);
          n++;
        }
        log.info(`samples: ${n} records from ${source.file === '-' ? 'stdin' : source.file} sent`);
      })().catch((err: unknown) => log.error(`samples: ${(err as Error).message}`));
      stack.push({ stop: () => lines.close() });
    } else if (source.kind === 'kafka') {
      const { startKafkaSource } = await import('./kafka/consumer.ts');
      const consumer = await startKafkaSource({ brokers: source.brokers, topic: source.topic, batcher, log });
      stack.push(consumer);
    }

    const endpoints = {
      dynamodb: dynamodbEndpoint,
      sqs: sqsEndpoint,
      ses: ses.endpoint,
      secretsManager: receivers.secretsManager.url,
      slack: receivers.slack.url,
      pagerduty: receivers.pagerduty.url,
      webhook: receivers.webhook.url,
      ...(consoleServer ? { console: consoleServer.url } : {}),
      ...(interactionsUrl ? { interactions: interactionsUrl } : {}),
      remediationTarget: remediationTarget.url,
      awsActions: awsActions.url,
    };
    return {
      clock,
      provisioned,
      prefix,
      clients: { dynamodb, sqs },
      endpoints,
      receivers,
      remediation: { target: remediationTarget, awsActions },
      observer,
      functions: [...handlers.keys()],
      send,
      runTimers,
      drain: () => batcher.drain(),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Receives and deletes every message on a queue (for `peek`-style checks in tests and tools). */
export async function takeAll(sqs: SQSClient, queueUrl: string, waitSeconds = 1): Promise<{ body: string }[]> {
  const out: { body: string }[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }));
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) return out;
    for (const m of msgs) out.push({ body: m.Body ?? '' });
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

const USAGE = `Usage: npm start -- [options]

  --rules FILE          rules YAML (default: local/config/demo-rules.yaml)
  --routes FILE         routes YAML (default: local/config/demo-routes.yaml)
  --events FILE         error-events YAML: classification, fingerprints, quiet period (default: local/config/demo-events.yaml)
  --rules-source S      where the functions read rules: dynamodb (default; loaded from --rules) or file
  --samples FILE|-      replay JSON lines (one record value per line) instead of the demo
  --kafka BROKERS       consume a real Kafka topic (comma-separated brokers) instead of the demo
  --topic T             the Kafka topic (with --kafka)
  --speed N             event time runs N times faster (demo and timers; default 1)
  --port P              console port (default 8787)
  --json                JSON log lines
  --log-level L         the handlers' own (Powertools) log level: DEBUG, INFO, WARN, ERROR (default)
  -h, --help            this text
`;

/** Parses the command line into {@link StartOptions}; throws with a usage message on bad input. */
export function parseStartArgs(argv: readonly string[]): StartOptions & { help?: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rules: { type: 'string' },
      routes: { type: 'string' },
      events: { type: 'string' },
      'rules-source': { type: 'string' },
      samples: { type: 'string' },
      kafka: { type: 'string' },
      topic: { type: 'string' },
      speed: { type: 'string' },
      port: { type: 'string' },
      json: { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { help: true };
  const speed = values.speed === undefined ? 1 : Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`--speed: expected a positive number, got '${values.speed}'`);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--port: expected a port number, got '${values.port}'`);
  if (values.kafka && !values.topic) throw new Error('--kafka needs --topic');
  if (values.topic && !values.kafka) throw new Error('--topic needs --kafka');
  if (values.kafka && values.samples) throw new Error('--samples and --kafka are alternatives: give one');
  const level = values['log-level']?.toUpperCase();
  if (level !== undefined && !['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'].includes(level)) throw new Error(`--log-level: expected DEBUG, INFO, WARN or ERROR, got '${values['log-level']}'`);
  const rs = values['rules-source'];
  if (rs !== undefined && rs !== 'dynamodb' && rs !== 'file') throw new Error(`--rules-source: expected dynamodb or file, got '${rs}'`);
  const source: LocalSource = values.kafka
    ? { kind: 'kafka', brokers: values.kafka.split(',').map((s) => s.trim()).filter(Boolean), topic: values.topic! }
    : values.samples
      ? { kind: 'samples', file: values.samples }
      : { kind: 'demo' };
  return {
    ...(values.rules ? { rulesFile: values.rules } : {}),
    ...(values.routes ? { routesFile: values.routes } : {}),
    ...(values.events ? { eventsFile: values.events } : {}),
    ...(rs ? { rulesSource: rs } : {}),
    source,
    speed,
    ...(port !== undefined ? { consolePort: port } : {}),
    json: values.json ?? false,
    ...(level ? { handlerLogLevel: level } : {}),
  };
}

/** The earliest sample time of the first line of a JSONL samples file that has one; undefined if none. */
export async function firstSampleTimeMs(file: string): Promise<number | undefined> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const { samples } = decodeJsonText(line, { bounds: defaultEventTimeBounds(undefined) });
      if (samples.length > 0) return Math.min(...samples.map((s) => s.timestampMs));
    }
    return undefined;
  } finally {
    lines.close();
  }
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parseStartArgs>;
  try {
    options = parseStartArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`klaxon local: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Powertools Metrics warns on stderr at every invocation that publishes no metric (EMF itself is
  // off locally: POWERTOOLS_METRICS_DISABLED). In a terminal that line drowns the log: drop it.
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).includes('No application metrics to publish') ? true : stderrWrite(chunk, ...(rest as []))) as typeof process.stderr.write;
  const log = createLocalLog({ json: options.json ?? false });
  log.info('starting Klaxon locally: DynamoDB Local, SQS (fauxqs), SES (aws-ses-v2-local), Secrets Manager, Slack and PagerDuty receivers…');
  let pipeline: LocalPipeline;
  try {
    pipeline = await startLocal({ ...options, log });
  } catch (err) {
    log.error((err as Error).message);
    process.exit(1);
  }
  const e = pipeline.endpoints;
  const lines = [
    '',
    `  Console            ${e.console ?? '(off)'}`,
    `  SES inbox          ${e.ses}`,
    `  Slack receiver     ${e.slack}/_received`,
    `  PagerDuty receiver ${e.pagerduty}/_received`,
    `  Webhook receiver   ${e.webhook}/_received   (verifies Standard Webhooks signatures)`,
    `  Interactions       ${e.interactions ?? '(off)'}   (Slack: /slack/interactions, PagerDuty: /pagerduty/webhooks)`,
    `  DynamoDB Local     ${e.dynamodb}   (tables ${pipeline.prefix}-*)`,
    `  SQS (fauxqs)       ${e.sqs}`,
    `  Secrets Manager    ${e.secretsManager}`,
    `  Functions          ${pipeline.functions.join(', ')}`,
    `  Source             ${options.source?.kind ?? 'demo'}${pipeline.clock.speed !== 1 ? `, speed x${pipeline.clock.speed}` : ''}`,
    '',
    `  Try: npm run klaxon -- alerts list --endpoint ${e.dynamodb} --prefix ${pipeline.prefix}`,
    `       npm run klaxon -- dlq list --endpoint ${e.sqs} --prefix ${pipeline.prefix}`,
    '  Ctrl-C stops everything.',
    '',
  ];
  if (options.json) log.info('ready', { endpoints: e, prefix: pipeline.prefix, functions: pipeline.functions });
  else process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      process.exit(130);
    }
    stopping = true;
    log.info(`${signal}: stopping…`);
    pipeline
      .stop()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error((err as Error).message);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
