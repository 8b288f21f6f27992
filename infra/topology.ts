/**
 * The pipeline, declared once: tables, queues, functions, their triggers, environment and grants.
 *
 * This file is plain data (no CDK import). `infra/` renders it into CDK constructs for AWS, and
 * `local/` provisions the same tables and queues in the emulators and runs the same handlers with
 * the same environment, so the two cannot drift (a test compares them).
 *
 * Environment variables of the functions are named here and nowhere else: each function's config
 * schema in `shared/config/` reads exactly the names its entry lists.
 */
import { FUNCTION_TIMEOUT_SECONDS, REMEDIATION_MAX_RECEIVES } from '../shared/config/timing.ts';

/** A DynamoDB attribute definition. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

/** One DynamoDB table. Physical names are generated (CDK) or prefixed (local). */
export interface TableSpec {
  readonly description: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** TTL attribute (epoch seconds), if records expire. */
  readonly ttlAttribute?: string;
  readonly globalIndexes?: readonly {
    readonly name: string;
    readonly partitionKey: KeyAttribute;
    readonly sortKey?: KeyAttribute;
    /** Projected attributes besides the keys; `all` when absent. */
    readonly projection?: 'keys-only' | 'all';
  }[];
}

/** One SQS queue; `deadLetter` creates `<name>-dlq` with the given maxReceiveCount. */
export interface QueueSpec {
  readonly description: string;
  readonly fifo: boolean;
  /** FIFO only: deduplicate by message body hash when no MessageDeduplicationId is given. */
  readonly contentBasedDeduplication?: boolean;
  readonly deadLetter?: { readonly maxReceiveCount: number };
  readonly retentionDays: number;
}

/** How a function is invoked. */
export type TriggerSpec =
  | { readonly kind: 'kafka'; readonly batchSize: number; readonly maxBatchingWindowSeconds: number }
  | { readonly kind: 'sqs'; readonly queue: QueueName; readonly batchSize: number; readonly maxBatchingWindowSeconds: number; readonly maxConcurrency: number }
  | { readonly kind: 'schedule'; readonly everyMinutes: number }
  /** An HTTPS endpoint (a Lambda Function URL, auth NONE: the function verifies each request's signature; docs/design.md). */
  | { readonly kind: 'url' };

/** Where an environment variable's value comes from. */
export type EnvSource =
  | { readonly tableName: TableName }
  | { readonly queueUrl: QueueName }
  | { readonly deadLetterQueueUrl: QueueName }
  | { readonly config: ConfigKey };

/** What a function may do to a resource (least privilege: each function lists only what it uses). */
export type Grant =
  | { readonly table: TableName; readonly access: 'read' | 'write' | 'readWrite' }
  | { readonly queue: QueueName; readonly access: 'send' | 'consume' }
  /** Send to the queue's dead-letter queue (permanent failures are dead-lettered at once). */
  | { readonly deadLetterQueue: QueueName }
  | { readonly secret: SecretName }
  | { readonly ses: true }
  | { readonly ssmParameters: 'rules' | 'routes' | 'events' | 'catalog' }
  /**
   * Run the deployment's remediation actions (deployment config `remediation.actions`;
   * docs/remediation.md): ssm:StartAutomationExecution on exactly those documents,
   * lambda:InvokeFunction on exactly those functions, GetSecretValue on exactly those webhook
   * secrets, iam:PassRole on exactly the automation roles given. Rendered from the config, not here.
   */
  | { readonly remediationActions: true }
  /**
   * Logs Insights queries for the enrichment (docs/enrichment.md): StartQuery on the configured log
   * groups only; GetQueryResults and StopQuery, which take no resource (infra/render/wire.ts).
   */
  | { readonly logsInsights: true };

/** One Lambda function. */
export interface FunctionSpec {
  readonly description: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly memoryMb: number;
  /** From shared/config/timing.ts, where the leases and budgets that depend on it are derived. */
  readonly timeoutSeconds: number;
  readonly trigger: TriggerSpec;
  readonly env: Readonly<Record<string, EnvSource>>;
  readonly grants: readonly Grant[];
}

/** Deployment configuration values that reach functions' environment (see infra/config). */
export const CONFIG_KEYS = [
  'rulesSource',
  'rulesSsmPath',
  'rulesCacheTtlSeconds',
  'routesSsmParameter',
  'eventsSsmParameter',
  'historyRetentionDays',
  'slackSecretName',
  'pagerDutySecretName',
  'pagerDutyWebhookSecretName',
  'webhookSecretName',
  'webhookAllowPrivateTargets',
  'sesSender',
  'sesConfigurationSet',
  'defaultEmailRecipients',
  'productName',
  'dashboardUrl',
  'throttleWindows',
  'breaker',
  'kafkaTopic',
  'staleAfterSeconds',
  'seriesLimitPerRule',
  'stateWindows',
  'maxFutureSkewSeconds',
  'maxSampleAgeSeconds',
  'kafkaPartialBatchResponse',
  'remediationActions',
  /** The `enrichment` settings as JSON (shared/config/enrich.ts ENRICH_CONFIG); empty: links and logs off. */
  'enrichment',
  /** The service catalog's SSM parameter (docs/enrichment.md). */
  'catalogSsmParameter',
] as const;
/** One of {@link CONFIG_KEYS}. */
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** The tables. */
export const TABLES = {
  rules: {
    description: 'Alert rules, one item per rule id (when the rule source is DynamoDB).',
    partitionKey: { name: 'id', type: 'S' },
  },
  state: {
    description:
      'Series state per (rule, series): alert state, bounded sample window, last event time, version. ' +
      'Items with a due time (absence, staleness, keep_firing_for) appear in the sparse by-due index; ' +
      'items whose alert is firing appear in the sparse by-firing index (the timers function counts it for AlertsFiring).',
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expiresAt',
    globalIndexes: [
      {
        name: 'by-due',
        partitionKey: { name: 'dueShard', type: 'S' },
        sortKey: { name: 'dueAt', type: 'N' },
        projection: 'keys-only',
      },
      {
        // Only counted (Query Select COUNT per shard): no sort key, keys only.
        name: 'by-firing',
        partitionKey: { name: 'firingShard', type: 'S' },
        projection: 'keys-only',
      },
    ],
  },
  alerts: {
    description:
      'Alert record per fingerprint: state, severity, labels, fire count, last notification per channel, Slack thread. ' +
      'Records whose firing a silence muted appear in the sparse by-recheck index until it is decided again (the timers function reads it).',
    partitionKey: { name: 'fingerprint', type: 'S' },
    ttlAttribute: 'expiresAt',
    globalIndexes: [
      {
        name: 'by-recheck',
        partitionKey: { name: 'recheckShard', type: 'S' },
        sortKey: { name: 'recheckAt', type: 'N' },
        projection: 'all',
      },
    ],
  },
  silences: {
    description: 'Silences (Alertmanager semantics), one item per id: matchers, startsAt, endsAt, createdBy, comment. Expired ones are kept 5 days (TTL).',
    partitionKey: { name: 'id', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  delivery: {
    description:
      'Delivery state: cooldowns (per alert and channel), circuit breakers (per destination), ' +
      'idempotency and delivery records (per notification). Expiring records carry expiresAt.',
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  groups: {
    description:
      'Notification groups (route, receiver, group labels): their alerts, per channel what was last notified, and when each is due to be flushed. ' +
      'Groups appear in the sparse by-due index while they exist (the timers function finds groups whose flush message was lost).',
    partitionKey: { name: 'id', type: 'S' },
    ttlAttribute: 'expiresAt',
    globalIndexes: [
      {
        name: 'by-due',
        partitionKey: { name: 'dueShard', type: 'S' },
        sortKey: { name: 'dueAt', type: 'N' },
        projection: 'keys-only',
      },
    ],
  },
  errors: {
    description:
      'Error alerts of job events, one item per error fingerprint: state (count, classification, last failure), version, offsets applied. ' +
      'Firing items appear in the sparse by-task index (a success resolves its task\'s alerts) and, with a quiet period, in the sparse by-quiet index (the timers resolve them). Resolved items expire after 8 days.',
    partitionKey: { name: 'fingerprint', type: 'S' },
    ttlAttribute: 'expiresAt',
    globalIndexes: [
      { name: 'by-task', partitionKey: { name: 'taskKey', type: 'S' }, projection: 'keys-only' },
      { name: 'by-quiet', partitionKey: { name: 'quietShard', type: 'S' }, sortKey: { name: 'quietDueAt', type: 'N' }, projection: 'keys-only' },
    ],
  },
  history: {
    description:
      'Alert history: every transition, notification, suppression, acknowledgement, escalation step and resolution, with its time and reason. ' +
      'Partitioned by UTC day and shard (pk `h#<yyyy-mm-dd>#<0..3>`), sorted by time and id (sk); expires after the configured retention.',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  catalog: {
    description:
      'Service catalog entries (docs/enrichment.md), one item per entry keyed by id: match (a map of labels), owner, team, on_call, runbook, links. ' +
      'Read by the channel functions when enrichment.catalogSource is dynamodb (otherwise the SSM parameter is the catalog).',
    partitionKey: { name: 'id', type: 'S' },
  },
  samples: {
    description:
      'Sample log: per Kafka partition (pk), the decoded samples of each evaluated batch, keyed by the ' +
      "batch's first offset and chunk (sk); windows are rebuilt from it when a partition moves. Expires after 8 days.",
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  remediations: {
    description:
      'Auto-remediation (docs/remediation.md): the audit log, one item per attempt (`a#<id>`: rule, alert, action, target, parameters, approver, outcome, execution id), ' +
      "in the sparse by-fingerprint index; and per (action, target) the recent runs its cooldown and attempts are decided on (`t#<hash>`). Attempts are kept 400 days.",
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expiresAt',
    globalIndexes: [{ name: 'by-fingerprint', partitionKey: { name: 'fingerprint', type: 'S' }, sortKey: { name: 'requestedAt', type: 'N' }, projection: 'all' }],
  },
} as const satisfies Record<string, TableSpec>;
/** Logical table names. */
export type TableName = keyof typeof TABLES;

/** The queues. Channel queues are FIFO grouped by fingerprint so a resolution never overtakes its firing. */
export const QUEUES = {
  alertEvents: {
    description: 'Alert transitions from the evaluator and timers (FIFO, group = fingerprint, dedup = transition id).',
    fifo: true,
    deadLetter: { maxReceiveCount: 5 },
    retentionDays: 14,
  },
  groupFlush: {
    description: 'Group flushes: a delayed message per group at its due time (standard queue: FIFO queues have no per-message delay).',
    fifo: false,
    deadLetter: { maxReceiveCount: 5 },
    retentionDays: 4,
  },
  rejected: {
    description: 'Records that could not be decoded or validated, with their Kafka coordinates and reason.',
    fifo: false,
    retentionDays: 14,
  },
  slack: {
    description: 'Slack notification jobs.',
    fifo: true,
    deadLetter: { maxReceiveCount: 10 },
    retentionDays: 4,
  },
  email: {
    description: 'Email notification jobs.',
    fifo: true,
    deadLetter: { maxReceiveCount: 10 },
    retentionDays: 4,
  },
  pagerduty: {
    description: 'PagerDuty notification jobs.',
    fifo: true,
    deadLetter: { maxReceiveCount: 10 },
    retentionDays: 4,
  },
  webhook: {
    description: 'Outgoing webhook notification jobs (signed with the Standard Webhooks scheme).',
    fifo: true,
    deadLetter: { maxReceiveCount: 10 },
    retentionDays: 4,
  },
  enrichFollowUp: {
    description: 'Logs follow-ups of Slack notifications sent with "logs pending": one look at the Logs Insights query per delivery (standard queue: per-message delays).',
    fifo: false,
    deadLetter: { maxReceiveCount: 5 },
    // Log lines are moot after a day.
    retentionDays: 1,
  },
  interactions: {
    description: 'Verified Slack clicks and PagerDuty webhook events, for the interactions worker (standard queue: each is idempotent, none needs an order).',
    fifo: false,
    deadLetter: { maxReceiveCount: 5 },
    // A click is moot after a day; the dead-letter queue keeps failures 14 days.
    retentionDays: 1,
  },
  remediation: {
    description:
      'Auto-remediation requests (dispatch), Approve / Reject clicks (interactions worker) and delayed expiry checks (remediate itself): a standard queue, for per-message delays; each message is idempotent.',
    fifo: false,
    deadLetter: { maxReceiveCount: REMEDIATION_MAX_RECEIVES },
    retentionDays: 1,
  },
} as const satisfies Record<string, QueueSpec>;
/** Logical queue names. */
export type QueueName = keyof typeof QUEUES;

/** Secrets (created empty by the stack; their values are set by the operator). */
export const SECRETS = {
  slack: 'Slack: JSON object { "botToken"?: "xoxb-...", "webhooks"?: { "<name>": "https://hooks.slack.com/..." }, "signingSecret"?: "..." }',
  pagerduty: 'PagerDuty: JSON object { "<name>": "<32-character routing key>" }',
  pagerdutyWebhook: 'PagerDuty v3 webhook subscription secret: JSON object { "secret": "<the subscription\'s signing secret>" }',
  webhooks: 'Outgoing webhooks: JSON object { "<receiver>": { "secrets": ["whsec_..."] } } (the first signs; list the old one after it while receivers rotate)',
} as const;
/** Logical secret names. */
export type SecretName = keyof typeof SECRETS;

const channelEnv = {
  DELIVERY_TABLE: { tableName: 'delivery' },
  ALERTS_TABLE: { tableName: 'alerts' },
  BREAKER_CONFIG: { config: 'breaker' },
  PRODUCT_NAME: { config: 'productName' },
  DASHBOARD_URL: { config: 'dashboardUrl' },
  // The enrichment stage (docs/enrichment.md): settings and the catalog.
  ENRICH_CONFIG: { config: 'enrichment' },
  // Empty when the catalog is the table (enrichment.catalogSource: dynamodb): the parameter would win.
  CATALOG_SSM_PARAMETER: { config: 'catalogSsmParameter' },
  CATALOG_TABLE: { tableName: 'catalog' },
} as const satisfies Record<string, EnvSource>;

const channelGrants = [
  { table: 'delivery', access: 'readWrite' },
  { table: 'alerts', access: 'readWrite' },
  { ssmParameters: 'catalog' },
  { table: 'catalog', access: 'read' },
  { logsInsights: true },
] as const satisfies readonly Grant[];

/** What the evaluator and timers both read (shared/config/evaluator.ts `ruleSourceEnv` + state + output). */
const evaluationEnv = {
  STATE_TABLE: { tableName: 'state' },
  RULES_TABLE: { tableName: 'rules' },
  RULES_SOURCE: { config: 'rulesSource' },
  RULES_SSM_PATH: { config: 'rulesSsmPath' },
  RULES_CACHE_TTL_SECONDS: { config: 'rulesCacheTtlSeconds' },
  ALERT_EVENTS_QUEUE_URL: { queueUrl: 'alertEvents' },
  STALE_AFTER_SECONDS: { config: 'staleAfterSeconds' },
  ERRORS_TABLE: { tableName: 'errors' },
  EVENTS_SSM_PARAMETER: { config: 'eventsSsmParameter' },
} as const satisfies Record<string, EnvSource>;

const evaluationGrants = [
  { table: 'state', access: 'readWrite' },
  { table: 'rules', access: 'read' },
  { ssmParameters: 'rules' },
  { queue: 'alertEvents', access: 'send' },
  // Error alerts of job events: the evaluator applies events, the timers resolve quiet ones.
  { table: 'errors', access: 'readWrite' },
  { ssmParameters: 'events' },
] as const satisfies readonly Grant[];

/** What dispatch and flush-groups both read (shared/config/dispatch.ts `routingEnv`): the channel queues, the routes, the throttle. */
const routingEnv = {
  SLACK_QUEUE_URL: { queueUrl: 'slack' },
  EMAIL_QUEUE_URL: { queueUrl: 'email' },
  PAGERDUTY_QUEUE_URL: { queueUrl: 'pagerduty' },
  WEBHOOK_QUEUE_URL: { queueUrl: 'webhook' },
  ROUTES_SSM_PARAMETER: { config: 'routesSsmParameter' },
  DEFAULT_EMAIL_RECIPIENTS: { config: 'defaultEmailRecipients' },
  THROTTLE_WINDOWS: { config: 'throttleWindows' },
  HISTORY_TABLE: { tableName: 'history' },
  HISTORY_RETENTION_DAYS: { config: 'historyRetentionDays' },
} as const satisfies Record<string, EnvSource>;

/** Their grants for it: jobs to the channel queues (the routes parameter is granted beside), and the alert history (written, never read: klaxon report and the console read it). */
const routingGrants = [
  { table: 'history', access: 'write' },
  { queue: 'slack', access: 'send' },
  { queue: 'email', access: 'send' },
  { queue: 'pagerduty', access: 'send' },
  { queue: 'webhook', access: 'send' },
] as const satisfies readonly Grant[];

/** The functions. */
export const FUNCTIONS = {
  evaluator: {
    description: 'Decodes MSK batches, evaluates rules, keeps series state, emits alert transitions.',
    entry: 'functions/evaluator/handler.ts',
    memoryMb: 1024,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.evaluator,
    trigger: { kind: 'kafka', batchSize: 1000, maxBatchingWindowSeconds: 1 },
    env: {
      ...evaluationEnv,
      SAMPLE_LOG_TABLE: { tableName: 'samples' },
      REJECTED_QUEUE_URL: { queueUrl: 'rejected' },
      SERIES_LIMIT_PER_RULE: { config: 'seriesLimitPerRule' },
      STATE_WINDOWS: { config: 'stateWindows' },
      MAX_FUTURE_SKEW_SECONDS: { config: 'maxFutureSkewSeconds' },
      MAX_SAMPLE_AGE_SECONDS: { config: 'maxSampleAgeSeconds' },
      KAFKA_PARTIAL_BATCH_RESPONSE: { config: 'kafkaPartialBatchResponse' },
    },
    grants: [...evaluationGrants, { table: 'samples', access: 'readWrite' }, { queue: 'rejected', access: 'send' }],
  },
  timers: {
    description: 'Each minute: fires absence rules and resolves stale or kept-firing alerts that are due (by-due index); re-checks firings whose silence ended.',
    entry: 'functions/timers/handler.ts',
    memoryMb: 512,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.timers,
    trigger: { kind: 'schedule', everyMinutes: 1 },
    env: { ...evaluationEnv, ALERTS_TABLE: { tableName: 'alerts' }, GROUPS_TABLE: { tableName: 'groups' }, GROUP_FLUSH_QUEUE_URL: { queueUrl: 'groupFlush' } },
    // alerts: read the by-recheck index (muted firings due to be decided again; dispatch decides them).
    // groups: read the by-due index (groups whose flush message was lost are scheduled again).
    grants: [...evaluationGrants, { table: 'alerts', access: 'read' }, { table: 'groups', access: 'read' }, { queue: 'groupFlush', access: 'send' }],
  },
  dispatch: {
    description: 'Records alerts, escalates repeats, routes transitions to channel queues, throttles per alert and channel.',
    entry: 'functions/dispatch/handler.ts',
    memoryMb: 512,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.dispatch,
    trigger: { kind: 'sqs', queue: 'alertEvents', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 5 },
    env: {
      ALERTS_TABLE: { tableName: 'alerts' },
      DELIVERY_TABLE: { tableName: 'delivery' },
      DEAD_LETTER_QUEUE_URL: { deadLetterQueueUrl: 'alertEvents' },
      ALERT_EVENTS_QUEUE_URL: { queueUrl: 'alertEvents' },
      ...routingEnv,
      SILENCES_TABLE: { tableName: 'silences' },
      GROUPS_TABLE: { tableName: 'groups' },
      GROUP_FLUSH_QUEUE_URL: { queueUrl: 'groupFlush' },
      REMEDIATION_QUEUE_URL: { queueUrl: 'remediation' },
    },
    grants: [
      { table: 'alerts', access: 'readWrite' },
      // A notified firing whose rule declares a remediation: a request to the remediate function.
      { queue: 'remediation', access: 'send' },
      // Read to mute; written to expire a silence made "until resolved" when its alert resolves.
      { table: 'silences', access: 'readWrite' },
      { table: 'groups', access: 'readWrite' },
      // A group's first alert schedules its flush.
      { queue: 'groupFlush', access: 'send' },
      { table: 'delivery', access: 'readWrite' },
      { ssmParameters: 'routes' },
      { queue: 'alertEvents', access: 'consume' },
      // Releases of held (inhibited) notifications go back on the alert-events queue.
      { queue: 'alertEvents', access: 'send' },
      { deadLetterQueue: 'alertEvents' },
      ...routingGrants,
    ],
  },
  flushGroups: {
    description: 'Flushes notification groups at their due time: one notification per group and channel, repeated every repeat_interval while it fires.',
    entry: 'functions/flush-groups/handler.ts',
    memoryMb: 512,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.dispatch,
    trigger: { kind: 'sqs', queue: 'groupFlush', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 5 },
    env: {
      GROUPS_TABLE: { tableName: 'groups' },
      ALERTS_TABLE: { tableName: 'alerts' },
      GROUP_FLUSH_QUEUE_URL: { queueUrl: 'groupFlush' },
      DEAD_LETTER_QUEUE_URL: { deadLetterQueueUrl: 'groupFlush' },
      SILENCES_TABLE: { tableName: 'silences' },
      ...routingEnv,
    },
    grants: [
      { table: 'groups', access: 'readWrite' },
      // A group's "until resolved" silences are expired when the whole group resolved.
      { table: 'silences', access: 'readWrite' },
      // The records of the alerts a notification lists (a group keeps only their state).
      { table: 'alerts', access: 'read' },
      { ssmParameters: 'routes' },
      { queue: 'groupFlush', access: 'consume' },
      // The next flush of a group that still fires.
      { queue: 'groupFlush', access: 'send' },
      { deadLetterQueue: 'groupFlush' },
      ...routingGrants,
    ],
  },
  deliverSlack: {
    description: 'Delivers Slack notifications (incoming webhook or chat.postMessage/chat.update with threads).',
    entry: 'functions/deliver-slack/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.channel,
    trigger: { kind: 'sqs', queue: 'slack', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    env: {
      ...channelEnv,
      QUEUE_URL: { queueUrl: 'slack' },
      DEAD_LETTER_QUEUE_URL: { deadLetterQueueUrl: 'slack' },
      SLACK_SECRET_NAME: { config: 'slackSecretName' },
      ENRICH_FOLLOWUP_QUEUE_URL: { queueUrl: 'enrichFollowUp' },
    },
    grants: [...channelGrants, { queue: 'slack', access: 'consume' }, { deadLetterQueue: 'slack' }, { secret: 'slack' }, { queue: 'enrichFollowUp', access: 'send' }],
  },
  deliverEmail: {
    description: 'Delivers email notifications through SES (HTML and text).',
    entry: 'functions/deliver-email/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.channel,
    trigger: { kind: 'sqs', queue: 'email', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    env: {
      ...channelEnv,
      QUEUE_URL: { queueUrl: 'email' },
      DEAD_LETTER_QUEUE_URL: { deadLetterQueueUrl: 'email' },
      SES_SENDER: { config: 'sesSender' },
      SES_CONFIGURATION_SET: { config: 'sesConfigurationSet' },
    },
    grants: [...channelGrants, { queue: 'email', access: 'consume' }, { deadLetterQueue: 'email' }, { ses: true }],
  },
  deliverPagerduty: {
    description: 'Delivers PagerDuty Events API v2 trigger and resolve events.',
    entry: 'functions/deliver-pagerduty/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.channel,
    trigger: { kind: 'sqs', queue: 'pagerduty', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    env: {
      ...channelEnv,
      QUEUE_URL: { queueUrl: 'pagerduty' },
      DEAD_LETTER_QUEUE_URL: { deadLetterQueueUrl: 'pagerduty' },
      PAGERDUTY_SECRET_NAME: { config: 'pagerDutySecretName' },
    },
    grants: [...channelGrants, { queue: 'pagerduty', access: 'consume' }, { deadLetterQueue: 'pagerduty' }, { secret: 'pagerduty' }],
  },
  deliverWebhook: {
    description: 'Delivers outgoing webhooks (Alertmanager v4, Klaxon or template JSON), signed with the Standard Webhooks scheme.',
    entry: 'functions/deliver-webhook/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.channel,
    trigger: { kind: 'sqs', queue: 'webhook', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    env: {
      ...channelEnv,
      QUEUE_URL: { queueUrl: 'webhook' },
      DEAD_LETTER_QUEUE_URL: { deadLetterQueueUrl: 'webhook' },
      WEBHOOK_SECRET_NAME: { config: 'webhookSecretName' },
      WEBHOOK_ALLOW_PRIVATE_TARGETS: { config: 'webhookAllowPrivateTargets' },
    },
    // Its secret only: the signing secrets of every webhook receiver.
    grants: [...channelGrants, { queue: 'webhook', access: 'consume' }, { deadLetterQueue: 'webhook' }, { secret: 'webhooks' }],
  },
  interactions: {
    description: 'HTTPS endpoint (Function URL) for Slack interactivity and PagerDuty v3 webhooks: verifies signatures, guards replays, queues the work, answers at once.',
    entry: 'functions/interactions/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.interactions,
    trigger: { kind: 'url' },
    env: {
      SLACK_SECRET_NAME: { config: 'slackSecretName' },
      PAGERDUTY_WEBHOOK_SECRET_NAME: { config: 'pagerDutyWebhookSecretName' },
      INTERACTIONS_QUEUE_URL: { queueUrl: 'interactions' },
      DELIVERY_TABLE: { tableName: 'delivery' },
    },
    grants: [
      // The Slack secret's signingSecret; the PagerDuty webhook secret.
      { secret: 'slack' },
      { secret: 'pagerdutyWebhook' },
      { queue: 'interactions', access: 'send' },
      // The replay guard: a conditional put per request, a delete when the work could not be queued.
      { table: 'delivery', access: 'write' },
    ],
  },
  interactionsWorker: {
    description: 'Does what a verified Slack click or PagerDuty event asks: acknowledgements onto alert-events, silences, error resolutions, ephemeral refusals.',
    entry: 'functions/interactions-worker/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.interactionsWorker,
    trigger: { kind: 'sqs', queue: 'interactions', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    env: {
      ALERTS_TABLE: { tableName: 'alerts' },
      GROUPS_TABLE: { tableName: 'groups' },
      SILENCES_TABLE: { tableName: 'silences' },
      ERRORS_TABLE: { tableName: 'errors' },
      ALERT_EVENTS_QUEUE_URL: { queueUrl: 'alertEvents' },
      SLACK_SECRET_NAME: { config: 'slackSecretName' },
      ROUTES_SSM_PARAMETER: { config: 'routesSsmParameter' },
      REMEDIATION_QUEUE_URL: { queueUrl: 'remediation' },
    },
    grants: [
      // Approve / Reject of a remediation: forwarded to the remediate function.
      { queue: 'remediation', access: 'send' },
      // The record or group acted on (and who notified it: its authorization).
      { table: 'alerts', access: 'read' },
      { table: 'groups', access: 'read' },
      // Silences from the buttons (created; the store lists by Scan).
      { table: 'silences', access: 'readWrite' },
      // Resolve: the error alert's state (resolveErrorByPerson).
      { table: 'errors', access: 'readWrite' },
      { queue: 'alertEvents', access: 'send' },
      { queue: 'interactions', access: 'consume' },
      { ssmParameters: 'routes' },
      // The bot token (usergroups.users.list).
      { secret: 'slack' },
    ],
  },
  remediate: {
    description: 'Auto-remediation (docs/remediation.md): decides cooldown, attempts, approval and dry run; runs the declared SSM Automation, Lambda or signed webhook; audits every attempt; posts the outcome to the alert thread.',
    entry: 'functions/remediate/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.remediate,
    trigger: { kind: 'sqs', queue: 'remediation', batchSize: 5, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    env: {
      REMEDIATIONS_TABLE: { tableName: 'remediations' },
      ALERTS_TABLE: { tableName: 'alerts' },
      REMEDIATION_QUEUE_URL: { queueUrl: 'remediation' },
      DEAD_LETTER_QUEUE_URL: { deadLetterQueueUrl: 'remediation' },
      ALERT_EVENTS_QUEUE_URL: { queueUrl: 'alertEvents' },
      REMEDIATION_ACTIONS: { config: 'remediationActions' },
    },
    grants: [
      { table: 'remediations', access: 'readWrite' },
      // An approval runs only while the alert fires at that activation.
      { table: 'alerts', access: 'read' },
      { queue: 'remediation', access: 'consume' },
      // Its own delayed expiry checks.
      { queue: 'remediation', access: 'send' },
      { deadLetterQueue: 'remediation' },
      // Outcomes and approval requests as notes: dispatch posts them to the alert's thread.
      { queue: 'alertEvents', access: 'send' },
      { remediationActions: true },
    ],
  },
  enrichFollowUp: {
    description: 'Posts the log lines of Slack notifications sent with "logs pending" to their thread once the Logs Insights query ends (a note job on the Slack queue).',
    entry: 'functions/enrich-followup/handler.ts',
    memoryMb: 256,
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS.channel,
    trigger: { kind: 'sqs', queue: 'enrichFollowUp', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    env: {
      DELIVERY_TABLE: { tableName: 'delivery' },
      SLACK_QUEUE_URL: { queueUrl: 'slack' },
      ENRICH_FOLLOWUP_QUEUE_URL: { queueUrl: 'enrichFollowUp' },
      ENRICH_CONFIG: { config: 'enrichment' },
      PRODUCT_NAME: { config: 'productName' },
    },
    grants: [
      // The query's cache item and its slot.
      { table: 'delivery', access: 'readWrite' },
      { queue: 'enrichFollowUp', access: 'consume' },
      // Looks again later.
      { queue: 'enrichFollowUp', access: 'send' },
      { queue: 'slack', access: 'send' },
      { logsInsights: true },
    ],
  },
} as const satisfies Record<string, FunctionSpec>;
/** Logical function names. */
export type FunctionName = keyof typeof FUNCTIONS;
