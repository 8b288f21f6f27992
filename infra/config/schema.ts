/**
 * The deployment configuration of the CDK app: one zod schema, validated once at the app's top
 * (`infra/app.ts`). Every value the stacks need comes from here; constructs never read
 * `process.env` or files.
 *
 * Nothing here is looked up in AWS: the MSK cluster, subnets and security groups are given by id,
 * so `cdk synth` runs offline with no credentials.
 */
import { remediationActionsConfigSchema } from '../../shared/core/remediate/spec.ts';
import { z } from 'zod';
import { EMAIL_MAX_RECIPIENTS } from '../../shared/core/format/email.ts';
import { FUNCTIONS } from '../topology.ts';
import { EnrichConfigJson } from '../../shared/config/enrich.ts';

// https://docs.aws.amazon.com/service-authorization/latest/reference/list-amazonmanagedstreamingforapachekafka.html#amazonmanagedstreamingforapachekafka-resources-for-iam-policies
const MSK_CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9-]{1,64}\/[A-Za-z0-9-]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/;
// Kafka topic names: https://kafka.apache.org/documentation/#topicconfigs (legal chars, max 249).
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
// Lambda's ConsumerGroupId pattern: https://docs.aws.amazon.com/lambda/latest/api/API_AmazonManagedKafkaEventSourceConfig.html
const CONSUMER_GROUP = /^[a-zA-Z0-9-/*:_+=.@]{1,200}$/;
const SSM_PATH = /^(\/[A-Za-z0-9_.-]+)+$/;
// Secrets Manager names: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const EMAIL = z.email();

/** The retention periods CloudWatch Logs accepts, days (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html). */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * The event poller modes of a Kafka event source mapping
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html): `on-demand`, Lambda's
 * default, scales pollers with the offset lag and bills nothing while idle; `provisioned` runs
 * between a minimum and a maximum of dedicated pollers, billed as Event Poller Units.
 */
export const MSK_MODES = ['on-demand', 'provisioned'] as const;
/** One of {@link MSK_MODES}. */
export type MskMode = (typeof MSK_MODES)[number];

/**
 * Settings Lambda accepts for an MSK event source in provisioned mode only: the pollers themselves,
 * and the error handling controls (retry attempts, maximum record age; bisect and partial batch
 * responses are not configurable here, they follow the mode).
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html ("Under Event poller
 * configuration, select provisioned mode to configure error handling controls").
 */
const PROVISIONED_ONLY = ['pollers', 'retryAttempts', 'maxRecordAgeSeconds'] as const;

/** Defaults of the provisioned-mode settings: 1-2 pollers, 3 retries, records up to 1 h old. */
export const PROVISIONED_DEFAULTS = { pollers: { min: 1, max: 2 }, retryAttempts: 3, maxRecordAgeSeconds: 3600 } as const;

/** A Secrets Manager secret: created empty by the stack under `name`, or an existing one referenced by name. */
const secretSchema = z
  .object({
    name: z.string().regex(SECRET_NAME, 'must be a Secrets Manager name (letters, digits, /_+=.@-)'),
    existing: z.boolean().default(false),
  })
  .strict();

/** The fields of the `msk` section as written (provisioned-only settings optional, see {@link MskConfig}). */
const mskFields = z
  .object({
    clusterArn: z.string().regex(MSK_CLUSTER_ARN, 'must be an MSK cluster ARN: arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>'),
    topic: z.string().regex(KAFKA_TOPIC, 'must be a Kafka topic name (letters, digits, . _ -, at most 249)'),
    consumerGroupId: z.string().regex(CONSUMER_GROUP, 'must be 1-200 characters of [a-zA-Z0-9-/*:_+=.@]'),
    auth: z.literal('iam', { error: 'only "iam" is supported (MSK IAM access control)' }).default('iam'),
    startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']).default('LATEST'),
    batchSize: z.number().int().min(1).max(10_000).default(FUNCTIONS.evaluator.trigger.batchSize),
    batchingWindowSeconds: seconds(0, 300).default(FUNCTIONS.evaluator.trigger.maxBatchingWindowSeconds),
    /**
     * How Lambda polls the topic. `on-demand` (the default) costs nothing while no records flow;
     * `provisioned` keeps `pollers.min` event pollers running (billed as Event Poller Units even
     * with no traffic) and unlocks the retry controls below. See docs/deploy.md, *Event source mode*.
     */
    mode: z.enum(MSK_MODES, { error: `must be one of ${MSK_MODES.join(', ')}` }).default('on-demand'),
    /** Provisioned mode only: the range of dedicated event pollers (default 1-2). */
    pollers: z
      .object({
        min: z.number().int().min(1).max(200).default(PROVISIONED_DEFAULTS.pollers.min),
        max: z.number().int().min(1).max(2000).default(PROVISIONED_DEFAULTS.pollers.max),
      })
      .strict()
      .refine((p) => p.min <= p.max, { message: 'min must not exceed max', path: ['min'] })
      .optional(),
    /**
     * Provisioned mode only: retries of a failed batch before it goes to the failed-records bucket
     * (default 3). 0-10,000 (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html);
     * -1, infinite, is not allowed here: one failing batch would hold its partition until retention.
     */
    retryAttempts: z.number().int().min(0).max(10_000).optional(),
    /** Provisioned mode only: records older than this go to the failed-records bucket unprocessed (default 3600). */
    maxRecordAgeSeconds: seconds(60, 604_800).optional(),
    /** Days before failed batches written to the on-failure bucket expire. */
    failedRecordsRetentionDays: z.number().int().min(1).max(3650).default(30),
    /** The subnets and security groups of the cluster's VPC, by id (no lookups). */
    network: z
      .object({
        vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-...)'),
        subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id (subnet-...)')).min(1),
        securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-...)')).min(1),
        /** Run the evaluator in these subnets (needs NAT or VPC endpoints for DynamoDB, SQS, SSM, S3). */
        placeEvaluatorInVpc: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Alarm when OffsetLag has grown for 15 minutes and is above this many records. */
    offsetLagAlarmFloor: z.number().int().min(0).default(1000),
  })
  .strict();

type MskFields = z.output<typeof mskFields>;
type MskCommon = Omit<MskFields, 'mode' | (typeof PROVISIONED_ONLY)[number]>;
/** The validated `msk` section: the provisioned-only settings exist (defaults applied) only in provisioned mode. */
export type MskConfig =
  | (MskCommon & { readonly mode: 'on-demand' })
  | (MskCommon & { readonly mode: 'provisioned' } & Required<Pick<MskFields, (typeof PROVISIONED_ONLY)[number]>>);

/** The schema of `klaxon.config.{yaml,json}`; see examples/klaxon.config.yaml for a documented example. */
export const klaxonConfigSchema = z
  .object({
    productName: z.string().min(1).max(64).default('Klaxon'),
    /** Link in notifications; defaults to the stack's CloudWatch dashboard. */
    dashboardUrl: z.url().optional(),
    msk: mskFields
      .superRefine((msk, ctx) => {
        if (msk.mode === 'provisioned') return;
        for (const key of PROVISIONED_ONLY) {
          if (msk[key] !== undefined) {
            ctx.addIssue({ code: 'custom', path: [key], message: `applies only in provisioned mode: set msk.mode: provisioned, or remove ${key} (on-demand mode has no pollers and no retry controls)` });
          }
        }
      })
      // Provisioned defaults are filled in here, so the output says exactly what is rendered.
      .transform(({ pollers, retryAttempts, maxRecordAgeSeconds, ...msk }): MskConfig =>
        msk.mode === 'provisioned'
          ? {
              ...msk,
              mode: 'provisioned',
              pollers: pollers ?? PROVISIONED_DEFAULTS.pollers,
              retryAttempts: retryAttempts ?? PROVISIONED_DEFAULTS.retryAttempts,
              maxRecordAgeSeconds: maxRecordAgeSeconds ?? PROVISIONED_DEFAULTS.maxRecordAgeSeconds,
            }
          : { ...msk, mode: 'on-demand' },
      ),
    rules: z
      .object({
        source: z.enum(['dynamodb', 'ssm']).default('dynamodb'),
        ssmPath: z.string().regex(SSM_PATH, 'must be an SSM parameter path such as /klaxon/rules').default('/klaxon/rules'),
        cacheTtlSeconds: seconds(0, 3600).default(60),
      })
      .strict()
      .default({ source: 'dynamodb', ssmPath: '/klaxon/rules', cacheTtlSeconds: 60 }),
    routes: z
      .object({
        /** Routes YAML, relative to the working directory; its text becomes the SSM parameter's value. */
        file: z.string().min(1).default('examples/routes.yaml'),
        parameterName: z.string().regex(SSM_PATH, 'must be an SSM parameter name such as /klaxon/routes').default('/klaxon/routes'),
      })
      .strict()
      .default({ file: 'examples/routes.yaml', parameterName: '/klaxon/routes' }),
    history: z
      .object({
        /** Days the alert history keeps an event (DynamoDB TTL). */
        retentionDays: z.number().int().min(1).max(3650).default(90),
      })
      .strict()
      .default({ retentionDays: 90 }),
    events: z
      .object({
        /** Error-events configuration YAML (docs/events.md, "Configuration"), relative to the working directory; absent: the built-in classification. */
        file: z.string().min(1).optional(),
        parameterName: z.string().regex(SSM_PATH, 'must be an SSM parameter name such as /klaxon/events').default('/klaxon/events'),
      })
      .strict()
      .default({ parameterName: '/klaxon/events' }),
    enrichment: z
      .object({
        /** The service catalog YAML (docs/enrichment.md, "Catalog"), relative to the working directory; absent: no catalog. */
        catalogFile: z.string().min(1).optional(),
        /** Where the channel functions read the catalog: the SSM parameter made from catalogFile (default), or the `catalog` table's items (more than 8 KB, or edited by other tools). */
        catalogSource: z.enum(['ssm', 'dynamodb']).default('ssm'),
        catalogParameterName: z.string().regex(SSM_PATH, 'must be an SSM parameter name such as /klaxon/catalog').default('/klaxon/catalog'),
        /** Budgets, link and trace templates, logs (shared/config/enrich.ts EnrichConfigJson: the functions' ENRICH_CONFIG). */
        settings: EnrichConfigJson.optional(),
      })
      .strict()
      .default({ catalogParameterName: '/klaxon/catalog', catalogSource: 'ssm' }),
    email: z
      .object({
        /** The From address; it must belong to `identity`. */
        sender: EMAIL,
        /** The SES identity to create: the sender's domain or the address itself. Defaults to the address. */
        identity: z.string().min(1).optional(),
        defaultRecipients: z.array(EMAIL).min(1).max(EMAIL_MAX_RECIPIENTS, `at most ${EMAIL_MAX_RECIPIENTS} recipients (SES's limit per message)`),
      })
      .strict()
      .refine((e) => e.identity === undefined || e.identity === e.sender || e.sender.toLowerCase().endsWith(`@${e.identity.toLowerCase()}`), {
        message: 'identity must be the sender address or its domain',
        path: ['identity'],
      }),
    secrets: z
      .object({
        slack: secretSchema.default({ name: 'klaxon/slack', existing: false }),
        pagerduty: secretSchema.default({ name: 'klaxon/pagerduty', existing: false }),
        /** The PagerDuty v3 webhook subscription's signing secret (docs/deploy.md, "PagerDuty two-way"). */
        pagerdutyWebhook: secretSchema.default({ name: 'klaxon/pagerduty-webhook', existing: false }),
        /** Outgoing webhooks' Standard Webhooks signing secrets per receiver (docs/channels.md, "Webhook"). */
        webhooks: secretSchema.default({ name: 'klaxon/webhooks', existing: false }),
      })
      .strict()
      .default({
        slack: { name: 'klaxon/slack', existing: false },
        pagerduty: { name: 'klaxon/pagerduty', existing: false },
        pagerdutyWebhook: { name: 'klaxon/pagerduty-webhook', existing: false },
        webhooks: { name: 'klaxon/webhooks', existing: false },
      }),
    /**
     * Outgoing webhooks (docs/channels.md, "Webhook"): `allowPrivateTargets` lets a webhook URL
     * resolve to a private, loopback or link-local address (off: such a URL is refused, so a routes
     * file cannot make Klaxon call the instance metadata service or an internal admin endpoint).
     */
    webhooks: z.object({ allowPrivateTargets: z.boolean().default(false) }).strict().default({ allowPrivateTargets: false }),
    /**
     * Auto-remediation (docs/remediation.md): the actions rules may name, and the kill switch. The
     * remediate function is granted exactly these (documents, functions, webhook secrets).
     */
    remediation: remediationActionsConfigSchema.default({ actions: {} }),
    /** Per (alert, channel) cooldown by severity, seconds (docs/design.md, "Severity is a label": critical none, high 5 min, medium 15 min, low 1 h). */
    throttleWindows: z
      .object({
        critical: seconds(0, 86_400).default(0),
        high: seconds(0, 86_400).default(300),
        medium: seconds(0, 86_400).default(900),
        low: seconds(0, 86_400).default(3600),
      })
      .strict()
      .default({ critical: 0, high: 300, medium: 900, low: 3600 }),
    /** Circuit breaker per destination. */
    breaker: z
      .object({
        failureThreshold: z.number().int().min(1).max(1000).default(5),
        openSeconds: seconds(1, 43_200).default(60),
        successThreshold: z.number().int().min(1).max(100).default(2),
      })
      .strict()
      .default({ failureThreshold: 5, openSeconds: 60, successThreshold: 2 }),
    /** A series with no sample for this long is resolved as stale. */
    staleAfterSeconds: seconds(60, 604_800).default(300),
    /**
     * Where rule windows live (docs/design.md, *Windows as derived data*): `derived` (default) keeps
     * them in the evaluator's memory per partition, rebuilt from the sample log, and needs the topic
     * keyed so that a series' samples stay on one partition; `stored` keeps them in every series
     * item, works with any partitioning, and costs several times more (docs/cost.md).
     */
    windows: z.enum(['derived', 'stored']).default('derived'),
    /** Series one rule may hold (a rule's own `seriesLimit` overrides it); new series past it are refused, counted and alarmed. */
    seriesLimitPerRule: z.number().int().min(1).max(10_000_000).default(10_000),
    /** Event-time bounds at decode: a sample further ahead of the clock (or of its Kafka record) than the skew, or older than the maximum age, is rejected with the reason. */
    eventTime: z
      .object({
        maxFutureSkewSeconds: seconds(0, 86_400).default(600),
        /** At least the state staleness; 7 days is Kafka's default retention and the state TTL. */
        maxSampleAgeSeconds: seconds(60, 2_592_000).default(604_800),
      })
      .strict()
      .default({ maxFutureSkewSeconds: 600, maxSampleAgeSeconds: 604_800 }),
    alarms: z
      .object({
        /** Use this existing SNS topic instead of creating one. */
        topicArn: z.string().regex(SNS_TOPIC_ARN, 'must be an SNS topic ARN').optional(),
        /** Subscribe this address to the created topic (it must confirm the subscription). */
        email: EMAIL.optional(),
      })
      .strict()
      .refine((a) => !(a.topicArn && a.email), { message: 'give either topicArn or email, not both (subscribe to an existing topic yourself)', path: ['email'] })
      .default({}),
    functions: z
      .object({
        logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
        logRetentionDays: z
          .number()
          .int()
          .refine((d) => LOG_RETENTION_DAYS.includes(d), { message: `must be one of CloudWatch Logs' retention periods (${LOG_RETENTION_DAYS.join(', ')})` })
          .default(30),
        tracing: z.boolean().default(false),
      })
      .strict()
      .default({ logLevel: 'INFO', logRetentionDays: 30, tracing: false }),
  })
  .strict();

/** A validated configuration, defaults applied. */
export type KlaxonConfig = z.output<typeof klaxonConfigSchema>;
/** A configuration as written in the file (defaults not yet applied). */
export type KlaxonConfigInput = z.input<typeof klaxonConfigSchema>;

/** The configuration is invalid; the message lists every problem with its field path. */
export class ConfigError extends Error {
  /** One line per problem: `<field.path>: <message>`. */
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`Invalid Klaxon configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates a parsed configuration document; throws {@link ConfigError} naming each bad field. */
export function parseConfig(raw: unknown, source = 'config'): KlaxonConfig {
  const result = klaxonConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  throw new ConfigError(source, problems, { cause: result.error });
}
