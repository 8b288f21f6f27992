/**
 * AWS list prices the cost model uses: us-east-1 (N. Virginia), on-demand, no free tier, no
 * Savings Plans, in US dollars. Every price was looked up on 2026-11-29; the URL beside it is the
 * AWS page that states it. Where that page renders its numbers client-side (Lambda, EC2, parts of
 * CloudWatch and SQS), the figure was read from a summary of the same page and agrees with the
 * worked examples AWS gives. A price change is a one-line edit here; nothing else holds a price.
 *
 * Free tiers are left out on purpose: they are per account, not per deployment, and most
 * accounts that run an alerting pipeline already spend them elsewhere. docs/cost.md lists them.
 */

/** Hours in a billing month as AWS prices it (730 h; 2,628,000 s). */
export const HOURS_PER_MONTH = 730;
/** Seconds in a billing month ({@link HOURS_PER_MONTH} × 3,600). */
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/**
 * DynamoDB on-demand, Standard table class, after the November 2024 price cut: $0.125 per million
 * read request units (one strongly consistent read of up to 4 KB).
 * https://aws.amazon.com/dynamodb/pricing/on-demand/
 */
export const DYNAMODB_PER_MILLION_RRU = 0.125;
/**
 * DynamoDB on-demand write request units (one write of up to 1 KB; two in a transaction):
 * $0.625 per million after the November 2024 price cut.
 * https://aws.amazon.com/dynamodb/pricing/on-demand/
 */
export const DYNAMODB_PER_MILLION_WRU = 0.625;
/**
 * DynamoDB Standard table class storage: $0.25 per GB-month (after the 25 GB free tier, not applied here).
 * https://aws.amazon.com/dynamodb/pricing/on-demand/
 */
export const DYNAMODB_PER_GB_MONTH = 0.25;
/**
 * Storage overhead DynamoDB adds to every item (and every index entry) for indexing: 100 bytes.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export const DYNAMODB_ITEM_OVERHEAD_BYTES = 100;

/**
 * Lambda duration, Arm (Graviton), first tier (the first 7.5 billion GB-s a month): $0.0000133334 per GB-s.
 * https://aws.amazon.com/lambda/pricing/
 */
export const LAMBDA_ARM_PER_GB_SECOND = 0.0000133334;
/**
 * Lambda requests: $0.20 per million (both architectures).
 * https://aws.amazon.com/lambda/pricing/
 */
export const LAMBDA_PER_MILLION_REQUESTS = 0.2;

/**
 * Lambda event source mapping for Kafka (MSK) in provisioned mode: billed per Event Poller Unit
 * hour, $0.185 per EPU-hour in US East (N. Virginia); one EPU carries up to 10 event pollers, and
 * the minimum pollers are always provisioned. On-demand mode (the default) has no charge of its own.
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html#kafka-cost-optimization-example
 */
export const LAMBDA_KAFKA_PER_EPU_HOUR = 0.185;
/** Event pollers one EPU carries by default (same source as {@link LAMBDA_KAFKA_PER_EPU_HOUR}). */
export const LAMBDA_KAFKA_POLLERS_PER_EPU = 10;

/**
 * SQS standard queue requests: $0.40 per million (first 100 billion a month); each 64 KB chunk of
 * a payload is one request.
 * https://aws.amazon.com/sqs/pricing/
 */
export const SQS_STANDARD_PER_MILLION = 0.4;
/**
 * SQS FIFO queue requests: $0.50 per million.
 * https://aws.amazon.com/sqs/pricing/
 */
export const SQS_FIFO_PER_MILLION = 0.5;

/**
 * CloudWatch custom metrics: $0.30 per metric-month for the first 10,000 metrics, $0.10 for the
 * next 240,000, $0.05 for the next 750,000, $0.02 above 1,000,000 (prorated by the hour).
 * https://aws.amazon.com/cloudwatch/pricing/
 */
export const CLOUDWATCH_METRIC_TIERS: readonly { readonly upTo: number; readonly perMetricMonth: number }[] = [
  { upTo: 10_000, perMetricMonth: 0.3 },
  { upTo: 250_000, perMetricMonth: 0.1 },
  { upTo: 1_000_000, perMetricMonth: 0.05 },
  { upTo: Number.POSITIVE_INFINITY, perMetricMonth: 0.02 },
];
/**
 * CloudWatch standard-resolution alarm: $0.10 per alarm metric-month (a high-resolution alarm,
 * period under 60 s, is $0.30).
 * https://aws.amazon.com/cloudwatch/pricing/
 */
export const CLOUDWATCH_PER_STANDARD_ALARM_METRIC = 0.1;
/**
 * CloudWatch dashboard: $3.00 per dashboard-month.
 * https://aws.amazon.com/cloudwatch/pricing/
 */
export const CLOUDWATCH_PER_DASHBOARD = 3;
/**
 * CloudWatch Logs ingestion, Standard class: $0.50 per GB (Lambda logs: first tier of the
 * vended-logs pricing, up to 10 TB a month).
 * https://aws.amazon.com/cloudwatch/pricing/
 */
export const CLOUDWATCH_LOGS_PER_GB = 0.5;

/**
 * Secrets Manager: $0.40 per secret-month (API calls, $0.05 per 10,000, are negligible here: the
 * channel functions cache their secrets).
 * https://aws.amazon.com/secrets-manager/pricing/
 */
export const SECRETS_MANAGER_PER_SECRET = 0.4;

/**
 * EventBridge Scheduler: $1.00 per million invocations (after 14 million free a month, not applied here).
 * https://aws.amazon.com/eventbridge/pricing/
 */
export const SCHEDULER_PER_MILLION = 1;

/**
 * SES outbound email: $0.10 per 1,000 emails.
 * https://aws.amazon.com/ses/pricing/
 */
export const SES_PER_1000_EMAILS = 0.1;

/**
 * The self-hosted comparison: one t4g.small (2 Arm vCPU, 2 GiB), Linux on-demand, $0.0168 per hour.
 * https://aws.amazon.com/ec2/pricing/on-demand/
 */
export const EC2_T4G_SMALL_PER_HOUR = 0.0168;
/** Instance type of {@link EC2_T4G_SMALL_PER_HOUR}. */
export const SELF_HOSTED_INSTANCE = 't4g.small';
/**
 * EBS gp3 storage for the self-hosted instance's TSDB: $0.08 per GB-month.
 * https://aws.amazon.com/ebs/pricing/
 */
export const EBS_GP3_PER_GB_MONTH = 0.08;
