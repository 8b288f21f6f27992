/**
 * The parts of a channel function's dependencies that are the same for all three channels:
 * DynamoDB stores, the SQS queue operations, metrics and logger, from the channel settings.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Channel, Clock } from '../../core/model/index.ts';
import type { LogSource } from '../../core/enrich/logs.ts';
import { channelEnrichment } from '../enrich/wiring.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../core/model/metrics.ts';
import type { ChannelSettings } from '../../config/channels.ts';
import { CHANNEL_BATCH_BUDGET_MS, CLAIM_LEASE_MS } from '../../config/timing.ts';
import { DynamoBreakerStore } from '../dynamodb/breaker-store.ts';
import { DynamoNotificationStore } from '../dynamodb/notification-store.ts';
import { createLogger, createMetrics, systemClock } from '../observability/index.ts';
import type { ChannelHandlerDeps } from './handler.ts';
import { EmfDeliveryMetrics } from './metrics.ts';
import { SqsChannelQueue } from './queue.ts';

/** Delivery records are kept 30 days. */
export const DELIVERY_RECORD_RETENTION_DAYS = 30;

/** Clients a channel function may share (module scope in Lambda; injected in tests). */
export interface ChannelClients {
  readonly dynamodb?: DynamoDBClient;
  readonly sqs?: SQSClient;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** The function's Powertools Metrics (handler.ts shares it with the `logMetrics` middleware). */
  readonly metrics?: Metrics;
  /** The log source of the enrichment (default: Logs Insights); tests give a stand-in. */
  readonly logSource?: LogSource;
  /** The enrichment's timer (default: setTimeout); tests give one on their clock. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Builds the channel-independent dependencies. With `enrichFor` (the channel and its environment),
 * the enrichment stage too when the environment configures it (docs/enrichment.md).
 */
export function commonChannelDeps(
  service: string,
  s: ChannelSettings,
  clients: ChannelClients = {},
  enrichFor?: { readonly channel: Channel; readonly env: NodeJS.ProcessEnv },
): Omit<ChannelHandlerDeps<unknown>, 'channel' | 'notifier'> & { logger: Logger } {
  const dynamodb = clients.dynamodb ?? new DynamoDBClient({});
  const sqs = clients.sqs ?? new SQSClient({});
  const logger = clients.logger ?? createLogger(service);
  const clock = clients.clock ?? systemClock;
  const metrics = clients.metrics ?? createMetrics(service);
  const enrich = enrichFor
    ? channelEnrichment(enrichFor.channel, enrichFor.env, service, {
        deliveryTable: s.deliveryTable,
        dynamodb,
        sqs,
        clock,
        logger,
        // Counted by reason (a closed list), one single-metric EMF blob each, like the delivery metrics.
        countFailure: (channel, reason) => {
          const m = metrics.singleMetric();
          m.addDimensions({ channel, reason });
          m.addMetric(METRIC.enrichmentFailures, MetricUnit.Count, 1);
        },
        ...(clients.logSource ? { logSource: clients.logSource } : {}),
        ...(clients.sleep ? { sleep: clients.sleep } : {}),
      })
    : {};
  return {
    ...enrich,
    // The lease outlives the invocation that claims (shared/config/timing.ts).
    notifications: new DynamoNotificationStore(dynamodb, s.deliveryTable, { leaseMs: CLAIM_LEASE_MS, retentionDays: DELIVERY_RECORD_RETENTION_DAYS }),
    breakers: new DynamoBreakerStore(dynamodb, s.deliveryTable, s.breaker),
    queue: new SqsChannelQueue(sqs, s.queueUrl, s.deadLetterQueueUrl),
    metrics: new EmfDeliveryMetrics(metrics),
    logger,
    clock,
    breaker: s.breaker,
    retry: s.retry,
    // Lease and budget both derive from the channel timeout (shared/config/timing.ts).
    batchBudgetMs: CHANNEL_BATCH_BUDGET_MS,
  };
}
