/**
 * enrich-followup (docs/enrichment.md, "Later: the Slack thread"): a Slack notification that went
 * with "logs pending" gets its log lines in its thread once the Logs Insights query ends.
 *
 * Triggered by the `enrichFollowUp` standard queue (deliver-slack puts one message per such
 * notification, with DelaySeconds). Each message is one look at the query
 * (shared/core/enrich/follow-up.ts): ended → a note job on the Slack queue (the channel pipeline
 * posts it in the thread, with idempotency, breaker, retries and DLQ, the lines read from the
 * cache); still running → the message again with a delay, at most `maxAttempts` looks; after the
 * last → StopQuery and a note saying the logs timed out. A body that is not a follow-up is logged
 * and dropped (it can never become one); an error leaves the message to be delivered again
 * (partial batch response), then in the dead-letter queue.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { checkFollowUp, decideFollowUp, logsNoteJob, parseLogsFollowUp, type LogsFollowUp } from '../../shared/core/enrich/follow-up.ts';
import type { LogsConfig, LogsPorts } from '../../shared/core/enrich/logs.ts';
import type { Channel, Clock, NotificationJob } from '../../shared/core/model/index.ts';
import { logsPorts } from '../../shared/adapters/enrich/wiring.ts';
import { SqsJobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { createLogger, systemClock } from '../../shared/adapters/observability/index.ts';
import { enrichSettings, EnrichConfigError } from '../../shared/config/enrich.ts';
import { nonEmpty, optionalString, parseEnv } from '../../shared/config/env.ts';
import type { LogSource } from '../../shared/core/enrich/logs.ts';

/** The function's dependencies. */
export interface EnrichFollowUpDeps {
  readonly logs: LogsPorts;
  readonly logsConfig: LogsConfig;
  readonly maxAttempts: number;
  readonly delaySeconds: number;
  /** Puts the note job on the Slack queue. */
  readonly postNote: (job: NotificationJob) => Promise<void>;
  /** Puts the follow-up back with a delay. */
  readonly again: (msg: LogsFollowUp, delaySeconds: number) => Promise<void>;
  readonly productName: string;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: Metrics;
}

/** The SQS handler. */
export type EnrichFollowUpHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** Handles one follow-up message; what happened, for the log. */
export async function followUpOnce(deps: EnrichFollowUpDeps, body: string): Promise<string> {
  const parsed = parseLogsFollowUp(body);
  if (!parsed.ok) {
    deps.logger.error('invalid logs follow-up dropped', { reason: parsed.reason });
    return 'invalid';
  }
  const f = parsed.value;
  const logs = await checkFollowUp(deps.logs, deps.logsConfig, f.key);
  const d = decideFollowUp(logs, f.attempt, deps.maxAttempts, deps.delaySeconds);
  if (d.action === 'again') {
    await deps.again({ ...f, attempt: f.attempt + 1 }, d.delaySeconds);
    return 'again';
  }
  if (d.action === 'give-up') {
    const entry = await deps.logs.cache.get(f.key);
    if (entry?.queryId) {
      try {
        await deps.logs.source.stop(entry.queryId);
      } catch (err) {
        deps.logger.warn('StopQuery failed; the query ends by itself', { key: f.key, error: err });
      }
    }
    await deps.logs.cache.setResult(f.key, { state: 'unavailable', reason: 'timeout' });
    await deps.logs.slots.release(f.key);
  }
  await deps.postNote(logsNoteJob(f.job, f.key, deps.clock.now(), deps.productName, d.action === 'give-up'));
  return d.action === 'give-up' ? 'gave-up' : 'posted';
}

/** Builds the handler. */
export function createEnrichFollowUpHandler(deps: EnrichFollowUpDeps): EnrichFollowUpHandler {
  return async (event) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const r of event.Records) {
      try {
        const outcome = await followUpOnce(deps, r.body);
        deps.logger.info('logs follow-up', { messageId: r.messageId, outcome });
      } catch (err) {
        deps.logger.error('logs follow-up failed; it will be delivered again', { messageId: r.messageId, error: err });
        batchItemFailures.push({ itemIdentifier: r.messageId });
      }
    }
    return { batchItemFailures };
  };
}

const envSchema = z.object({
  DELIVERY_TABLE: nonEmpty,
  SLACK_QUEUE_URL: nonEmpty,
  ENRICH_FOLLOWUP_QUEUE_URL: nonEmpty,
  PRODUCT_NAME: optionalString,
});

/** Builds the dependencies from the environment (topology's `enrichFollowUp` entry); clients may be injected. */
export function enrichFollowUpDepsFromEnv(
  env: NodeJS.ProcessEnv,
  clients: { dynamodb?: DynamoDBClient; sqs?: SQSClient; clock?: Clock; logger?: Logger; metrics?: Metrics; logSource?: LogSource } = {},
): EnrichFollowUpDeps {
  const e = parseEnv(envSchema, env, 'enrich-followup', (m) => new EnrichConfigError(m));
  const settings = enrichSettings(env, 'enrich-followup');
  if (!settings?.config.logs) throw new EnrichConfigError('enrich-followup: ENRICH_CONFIG has no `logs`: there is nothing to follow up');
  const dynamodb = clients.dynamodb ?? new DynamoDBClient({});
  const sqs = clients.sqs ?? new SQSClient({});
  const clock = clients.clock ?? systemClock;
  const logs = logsPorts({ settings, deliveryTable: e.DELIVERY_TABLE, dynamodb, clock, ...(clients.logSource ? { logSource: clients.logSource } : {}) })!;
  const slack = new SqsJobPublisher(sqs, { slack: e.SLACK_QUEUE_URL } as Record<Channel, string>);
  return {
    logs,
    logsConfig: settings.config.logs,
    maxAttempts: settings.followUp.maxAttempts,
    delaySeconds: settings.followUp.delaySeconds,
    postNote: (job) => slack.publish([job]),
    again: async (msg, delaySeconds) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: e.ENRICH_FOLLOWUP_QUEUE_URL, MessageBody: JSON.stringify(msg), DelaySeconds: delaySeconds }));
    },
    productName: e.PRODUCT_NAME ?? 'Klaxon',
    clock,
    logger: clients.logger ?? createLogger('enrichFollowUp'),
    ...(clients.metrics ? { metrics: clients.metrics } : {}),
  };
}
