/**
 * The channel handler shared by deliver-slack, deliver-email and deliver-pagerduty: the SQS
 * side of the channel pipeline, and nothing else. The pipeline itself (gate → claim → probe →
 * send → settle, FIFO order and the batch's time budget) and all its decisions are core:
 * shared/core/deliver/pipeline.ts, described in docs/design.md ("The channel pipeline").
 *
 * Here: the SQS event's records become channel messages; the batch is delivered; the messages to
 * hand back get their visibility set to the time the pipeline asked for (ChangeMessageVisibility,
 * so an open breaker or a Retry-After holds them without burning receives), then are reported as
 * batch item failures. A bug fails the invocation after that: nothing is acknowledged and Lambda
 * delivers the batch again (jobs already sent are skipped by their idempotency records).
 * Metrics are flushed by the `logMetrics` middleware (handler.ts of each function).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deliverBatch, type ChannelMessage, type DeliveryDeps } from '../../core/deliver/pipeline.ts';
import type { DeliveryLog } from '../../core/deliver/ports.ts';
import { CHANNEL_BATCH_BUDGET_MS } from '../../config/timing.ts';
import { isTransientError } from '../dynamodb/batch.ts';

/** The logger methods used (Powertools Logger satisfies it); the port is declared in core. */
export type ChannelLogger = DeliveryLog;

/** Everything a channel handler needs; built by `<channel>DepsFromEnv` or by tests. */
export interface ChannelHandlerDeps<R> extends Omit<DeliveryDeps<R>, 'batchBudgetMs' | 'stopwatch' | 'isTransient'> {
  /**
   * Wall-clock budget of one batch (ms, default CHANNEL_BATCH_BUDGET_MS of shared/config/timing.ts,
   * derived from the function timeout): once spent, the remaining messages are handed back without
   * sending, so a slow destination cannot run the function into its timeout (which would fail the
   * whole batch and leave claims in progress).
   */
  readonly batchBudgetMs?: number;
  /** Elapsed-time source of the batch budget (ms, monotonic): `performance.now` unless a test gives its own. */
  readonly stopwatch?: () => number;
  /** Which thrown errors are transient (default: the AWS SDK's, {@link isTransientError}). */
  readonly isTransient?: (err: unknown) => boolean;
}

/** A channel Lambda handler: SQS batch in, partial batch response out. */
export type ChannelHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** An SQS record as the pipeline sees it. */
export function channelMessageOf(rec: SQSRecord): ChannelMessage {
  const group = rec.attributes?.MessageGroupId;
  return {
    id: rec.messageId,
    receiptHandle: rec.receiptHandle,
    body: rec.body,
    ...(group !== undefined ? { groupId: group } : {}),
    receiveCount: Number(rec.attributes?.ApproximateReceiveCount ?? '1') || 1,
  };
}

/** Builds the handler. */
export function createChannelHandler<R>(deps: ChannelHandlerDeps<R>): ChannelHandler {
  const full: DeliveryDeps<R> = {
    ...deps,
    batchBudgetMs: deps.batchBudgetMs ?? CHANNEL_BATCH_BUDGET_MS,
    stopwatch: deps.stopwatch ?? (() => performance.now()),
    isTransient: deps.isTransient ?? isTransientError,
  };
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const { failures, fatal } = await deliverBatch(full as DeliveryDeps, event.Records.map(channelMessageOf));
    if (failures.length) {
      try {
        await deps.queue.changeVisibility(failures.map((f) => ({ receiptHandle: f.receiptHandle, seconds: f.delayMs / 1000 })));
      } catch (err) {
        // The messages come back after the queue's visibility timeout instead: earlier, never lost.
        deps.logger.warn('could not extend visibility of failed messages', { error: err });
      }
    }
    // A bug: fail the invocation; nothing is acknowledged and Lambda delivers the batch again.
    if (fatal) throw fatal.err;
    return { batchItemFailures: failures.map((f) => ({ itemIdentifier: f.id })) };
  };
}
