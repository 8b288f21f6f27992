/**
 * The enrichment stage of a channel function (docs/enrichment.md), built from its environment
 * (shared/config/enrich.ts): the catalog source, the Logs Insights source with the cache and slots
 * in the delivery table, and for deliver-slack the logs follow-up scheduler. Undefined when
 * enrichment is not configured.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { enrichJob, LogsWaitAllowance, type EnrichDeps } from '../../core/enrich/enrich.ts';
import type { LogsFollowUp } from '../../core/enrich/follow-up.ts';
import type { LogsPorts, LogSource } from '../../core/enrich/logs.ts';
import type { EnrichFailureReason } from '../../core/enrich/types.ts';
import type { JobEnricher } from '../../core/deliver/pipeline.ts';
import type { DeliveryLog } from '../../core/deliver/ports.ts';
import type { Channel, Clock } from '../../core/model/index.ts';
import { enrichSettings, type EnrichSettings } from '../../config/enrich.ts';
import { catalogSource } from './catalog-source.ts';
import { LogsInsightsSource } from './logs-insights.ts';
import { DynamoLogsStore } from './logs-store.ts';

/** A real timer (the core's `sleep` port). */
export const timerSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Counts enrichment failures (logged by reason; an EMF metric where the function has Metrics). */
export type EnrichFailureCounter = (channel: Channel, reason: EnrichFailureReason) => void;

/** What the enricher is built from. */
export interface EnricherWiring {
  readonly channel: Channel;
  readonly settings: EnrichSettings;
  readonly deliveryTable: string;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly clock: Clock;
  readonly logger: DeliveryLog;
  readonly logSource?: LogSource;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly countFailure?: EnrichFailureCounter;
}

/** The logs ports on AWS (or the given source), when the settings configure logs. */
export function logsPorts(w: Pick<EnricherWiring, 'settings' | 'deliveryTable' | 'dynamodb' | 'clock' | 'logSource' | 'sleep'>): LogsPorts | undefined {
  if (!w.settings.config.logs) return undefined;
  const store = new DynamoLogsStore(w.dynamodb, w.deliveryTable);
  return { source: w.logSource ?? new LogsInsightsSource(new CloudWatchLogsClient({})), cache: store, slots: store, clock: w.clock, sleep: w.sleep ?? timerSleep };
}

/** Builds the {@link JobEnricher} of a channel function. */
export function createEnricher(w: EnricherWiring): JobEnricher {
  const sleep = w.sleep ?? timerSleep;
  const logs = logsPorts({ ...w, sleep });
  const deps: EnrichDeps = {
    config: w.settings.config,
    catalog: catalogSource(w.settings.catalog, w.clock, (err) => w.logger.warn('catalog reload failed; the last good catalog is used', { error: err }), { dynamodb: w.dynamodb }),
    ...(logs ? { logs } : {}),
    clock: w.clock,
    sleep,
    onError: (part, err) => w.logger.warn(`enrichment: ${part} failed`, { error: err }),
  };
  const followUpQueue = w.channel === 'slack' ? w.settings.followUp.queueUrl : undefined;
  // Per instance (module scope in Lambda): a storm stops waiting for logs (shared/core/enrich/enrich.ts).
  const allowance = new LogsWaitAllowance();
  return {
    async enrich(job) {
      const startMs = w.clock.now();
      const e = await enrichJob(job, deps, { waitForLogs: allowance.mayWait(startMs) });
      allowance.record(w.clock.now(), w.clock.now() - startMs);
      for (const f of e.failures) {
        w.countFailure?.(w.channel, f.reason);
        w.logger.info('enrichment incomplete', { fingerprint: job.transition.fingerprint, part: f.part, reason: f.reason });
      }
      return e;
    },
    // Slack only: a notification that went with "logs pending" gets them in its thread later.
    ...(followUpQueue
      ? {
          async delivered(job) {
            if (job.enrichment?.logs?.state !== 'pending' || job.logsFollowUp) return;
            const { enrichment: _e, ...bare } = job;
            const msg: LogsFollowUp = { version: 1, job: bare, key: job.enrichment.logs.key, attempt: 1 };
            await w.sqs.send(new SendMessageCommand({ QueueUrl: followUpQueue, MessageBody: JSON.stringify(msg), DelaySeconds: w.settings.followUp.delaySeconds }));
          },
        }
      : {}),
  };
}

/**
 * The `enrich` dependency of a channel function from its environment: `{}` when enrichment is
 * not configured (the function renders jobs as they come), else `{ enrich }`.
 */
export function channelEnrichment(
  channel: Channel,
  env: NodeJS.ProcessEnv,
  fn: string,
  w: Omit<EnricherWiring, 'channel' | 'settings'>,
): { enrich?: JobEnricher } {
  const settings = enrichSettings(env, fn);
  return settings ? { enrich: createEnricher({ ...w, channel, settings }) } : {};
}
