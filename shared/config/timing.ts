/**
 * Function timeouts and every duration that must stay in step with them, in one module that both
 * infra/topology.ts (which deploys the timeouts) and the functions (which derive their leases and
 * budgets) import, so a timeout changed here moves everything that depends on it.
 *
 * The rules (test/unit/timing.test.ts checks each):
 * - a channel's idempotency lease outlives the invocation that took it: lease > channel timeout,
 *   else a second attempt could claim a job the first is still sending;
 * - a channel batch stops taking new records early enough that the record in flight (HTTP timeout,
 *   then its DynamoDB writes) and the visibility changes finish inside the timeout;
 * - the queues' visibility timeout is at least 6 × the consumer's timeout (Lambda's rule for SQS
 *   sources, https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html; applied by
 *   infra/constructs/channel.ts VISIBILITY_TIMEOUT_FACTOR).
 */

/**
 * Lambda timeouts (seconds) per function kind. The evaluator's 300 s stays under the 900 s Lambda
 * maximum and is checked against the Kafka source's limit in infra/stacks/pipeline-stack.ts; timers
 * run each minute, so 55 s ends a run before the next starts.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 */
export const FUNCTION_TIMEOUT_SECONDS = {
  evaluator: 300,
  timers: 55,
  dispatch: 30,
  /** deliver-slack, deliver-email, deliver-pagerduty. */
  channel: 30,
  /** The interactions endpoint: Slack wants its answer within 3 s; a hung invocation ends soon after. */
  interactions: 5,
  /** The interactions worker (a few table reads and queue writes per click). */
  interactionsWorker: 30,
  /**
   * The remediate function: a batch of 5 messages, each at most one action start of 10 s
   * (shared/adapters/remediate/executors.ts EXECUTION_TIMEOUT_MS) plus a few table and queue calls.
   */
  remediate: 90,
} as const;

/**
 * The interactions endpoint's budget (ms) for verifying, guarding and enqueueing one request before
 * it answers anyway: Slack shows an error when no answer comes within 3 s
 * (https://api.slack.com/interactivity/handling#acknowledgment_response), and a cold start and the
 * network take part of that.
 */
export const INTERACTIONS_ANSWER_BUDGET_MS = 2_000;

/** Timeout of one HTTP or SES call of a channel (ms): a destination slower than this counts as a timeout. */
export const CHANNEL_SEND_TIMEOUT_MS = 5_000;

/** Lease margin over the channel timeout: covers clock skew between Lambda hosts and DynamoDB's write latency. */
export const CLAIM_LEASE_MARGIN_MS = 5_000;

/** The idempotency lease of a channel job (ms): the channel timeout plus {@link CLAIM_LEASE_MARGIN_MS}. */
export const CLAIM_LEASE_MS = FUNCTION_TIMEOUT_SECONDS.channel * 1000 + CLAIM_LEASE_MARGIN_MS;

/**
 * The longest a notification waits for its enrichment (ms; docs/enrichment.md, "Budget"): the
 * ceiling of every per-severity budget, kept inside the channel's reserve below.
 */
export const ENRICH_BUDGET_MAX_MS = 3_000;

/**
 * Time kept back at the end of a channel invocation (ms): the record in flight may still take its
 * enrichment ({@link ENRICH_BUDGET_MAX_MS}), one send ({@link CHANNEL_SEND_TIMEOUT_MS}, twice for
 * a Slack thread reply plus its update) and a few DynamoDB and SQS calls after the budget check.
 */
export const CHANNEL_BATCH_RESERVE_MS = 2 * CHANNEL_SEND_TIMEOUT_MS + ENRICH_BUDGET_MAX_MS;

/** Wall-clock budget of one channel batch (ms): after it, remaining records are handed back unsent. */
export const CHANNEL_BATCH_BUDGET_MS = FUNCTION_TIMEOUT_SECONDS.channel * 1000 - CHANNEL_BATCH_RESERVE_MS;

/**
 * Time a timers run may spend starting new chunks of due items (ms): the timeout less one chunk's
 * worth (a chunk is a Query, a BatchGetItem and up to 200 conditional writes: well under 15 s) so
 * the chunk under way commits before the timeout. What is left stays due for the next run.
 */
export const TIMERS_RUN_BUDGET_MS = FUNCTION_TIMEOUT_SECONDS.timers * 1000 - 15_000;

/**
 * Time the evaluator may spend sending a batch's rejected records (ms): a fifth of its timeout, so
 * decode, evaluation and the commit keep the rest. Records not sent by then fail only their
 * partitions, which Lambda delivers again.
 */
export const EVALUATOR_REJECTED_BUDGET_MS = (FUNCTION_TIMEOUT_SECONDS.evaluator * 1000) / 5;

/**
 * Receives of a remediation message before its queue dead-letters it (infra/topology.ts uses it
 * for the queue's redrive policy): the remediate function marks the attempt a message left
 * `running` as failed on this last receive, so the audit log never keeps an unfinished run.
 */
export const REMEDIATION_MAX_RECEIVES = 5;
