/**
 * The remediate function (issue 13; docs/remediation.md), triggered by the `remediation` queue:
 * requests from dispatch, Approve / Reject clicks from the interactions worker, its own delayed
 * expiry checks. The decisions are shared/core/remediate (pure); the work is `run.ts` there, through
 * the ports built here: the `remediations` table (audit log and per-target state), the executors
 * (SSM Automation, Lambda, signed webhook), notes onto the alert-events queue (dispatch posts them
 * to the alert's Slack thread and history), the queue itself for expiry checks.
 *
 * Errors go through the one policy (shared/core/errors `failureAction`): a message that can never
 * be handled (invalid) is dead-lettered at once with why; a transient failure (throttling, a
 * conflict, an action unreachable) is reported for redelivery (partial batch response), and the
 * attempt runs again with the same idempotency token.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { errorMessage, failureAction, FAILURE_ACTION_TEXT } from '../../shared/core/errors/index.ts';
import type { DeadLetterSender } from '../../shared/core/dispatch/ports.ts';
import { parseRemediationMessage } from '../../shared/core/remediate/messages.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import type { RemediationPorts } from '../../shared/core/remediate/ports.ts';
import { giveUp, handleRemediationMessage, type RemediationOutcome } from '../../shared/core/remediate/run.ts';
import type { RemediationActionsConfig } from '../../shared/core/remediate/spec.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { isTransientError } from '../../shared/adapters/dynamodb/batch.ts';
import { FetchSlackResponder } from '../../shared/adapters/interact/slack.ts';
import { SqsActionPublisher } from '../../shared/adapters/interact/queues.ts';
import { redactSecrets } from '../../shared/core/deliver/redact.ts';
import { RemediationExecutor } from '../../shared/adapters/remediate/executors.ts';
import { SqsRemediationQueue } from '../../shared/adapters/remediate/queue.ts';
import { DynamoRemediationStore } from '../../shared/adapters/remediate/store.ts';
import { SecretsManagerSecretSource } from '../../shared/adapters/secrets/index.ts';
import { SqsDeadLetterSender } from '../../shared/adapters/sqs/job-publisher.ts';
import { createLogger, createMetrics, systemClock } from '../../shared/adapters/observability/index.ts';
import { remediateConfig } from '../../shared/config/remediate.ts';
import { REMEDIATION_MAX_RECEIVES } from '../../shared/config/timing.ts';

/** What the function needs; tests and local mode inject their own. */
export interface RemediateDeps extends RemediationPorts {
  readonly actions: RemediationActionsConfig;
  readonly deadLetter: DeadLetterSender;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Which thrown errors are transient (default: the AWS SDK's). */
  readonly isTransient?: (err: unknown) => boolean;
  /** Receives of a message before the queue dead-letters it (default: the remediation queue's, REMEDIATION_MAX_RECEIVES). */
  readonly maxReceives?: number;
}

/** The handler type. */
export type RemediateHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** Handles one message body (tests call it directly). */
export async function handleRemediationBody(deps: RemediateDeps, body: string): Promise<RemediationOutcome> {
  return handleRemediationMessage(deps, deps.actions, parseRemediationMessage(body));
}

/** Builds the SQS handler: each message on its own; transient failures reported for redelivery. */
export function createRemediateHandler(deps: RemediateDeps): RemediateHandler {
  const isTransient = deps.isTransient ?? isTransientError;
  const maxReceives = deps.maxReceives ?? REMEDIATION_MAX_RECEIVES;
  return async (event) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const r of event.Records) {
      try {
        const outcome = await handleRemediationBody(deps, r.body);
        deps.logger.info('remediation message done', { messageId: r.messageId, ...outcome });
        if (outcome.kind === 'recorded') deps.metrics.singleMetric().addDimension('status', outcome.status).addMetric(METRIC.remediations, MetricUnit.Count, 1);
      } catch (err) {
        const action = failureAction(err, isTransient);
        const log = { messageId: r.messageId, action: FAILURE_ACTION_TEXT[action], error: err as Error };
        if (action === 'dead-letter') {
          const reason = redactSecrets(errorMessage(err));
          try {
            await deps.deadLetter.send(r.body, reason, 'remediation');
            deps.logger.error('remediation message dead-lettered', { ...log, reason });
            continue;
          } catch (dlqErr) {
            deps.logger.error('could not dead-letter; the message will be received again', { messageId: r.messageId, error: dlqErr as Error });
          }
        } else if (Number(r.attributes?.ApproximateReceiveCount ?? 1) >= maxReceives) {
          // Its last delivery: the queue dead-letters it next. The attempt it left running is failed and said.
          try {
            const recorded = await giveUp(deps, parseRemediationMessage(r.body), redactSecrets(errorMessage(err)));
            deps.logger.error('remediation message failed on its last delivery; it goes to the dead-letter queue', { ...log, ...(recorded ?? {}) });
            if (recorded?.kind === 'recorded') deps.metrics.singleMetric().addDimension('status', recorded.status).addMetric(METRIC.remediations, MetricUnit.Count, 1);
          } catch (giveUpErr) {
            deps.logger.error('remediation message failed on its last delivery, and its attempt could not be marked failed', { ...log, giveUpError: giveUpErr as Error });
          }
        } else if (action === 'retry') deps.logger.warn('remediation message failed; it will be received again', log);
        else deps.logger.error('remediation message failed unexpectedly; it will be received again (then dead-lettered by the queue)', log);
        batchItemFailures.push({ itemIdentifier: r.messageId });
      }
    }
    return { batchItemFailures };
  };
}

/** Builds the production dependencies from the environment (module scope). */
export function remediateDepsFromEnv(env: NodeJS.ProcessEnv): RemediateDeps {
  const cfg = remediateConfig(env);
  const dynamodb = new DynamoDBClient({});
  // The region's endpoint (or AWS_ENDPOINT_URL_SQS), not the queue URL's host (as dispatch).
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const alerts = new DynamoAlertStore(dynamodb, cfg.alertsTable);
  return {
    actions: cfg.actions,
    store: new DynamoRemediationStore(dynamodb, cfg.remediationsTable),
    executor: new RemediationExecutor({ ssm: new SSMClient({}), lambda: new LambdaClient({}), secrets: new SecretsManagerSecretSource(new SecretsManagerClient({})), clock: systemClock }),
    notes: new SqsActionPublisher(sqs, cfg.alertEventsQueueUrl),
    scheduler: new SqsRemediationQueue({ client: sqs, queueUrl: cfg.queueUrl }),
    alerts: { get: async (fp) => await alerts.get(fp) },
    responder: new FetchSlackResponder({ now: () => systemClock.now(), ...(cfg.slackApiUrl ? { extraPrefixes: [`${new URL(cfg.slackApiUrl).origin}/`] } : {}) }),
    deadLetter: new SqsDeadLetterSender(sqs, cfg.deadLetterQueueUrl),
    clock: systemClock,
    logger: createLogger('remediate'),
    metrics: createMetrics('remediate'),
  };
}
