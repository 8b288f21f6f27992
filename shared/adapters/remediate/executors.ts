/**
 * The three executors of auto-remediation (issue 13; docs/remediation.md), each bounded in time
 * and carrying the attempt's idempotency token so that a repeated try is recognised:
 * - SSM Automation: StartAutomationExecution with ClientToken = the token (SSM returns the same
 *   execution for the same token: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartAutomationExecution.html);
 * - Lambda: Invoke (RequestResponse) with the token in the payload (`idempotencyToken`), for the
 *   function's own idempotency (e.g. Powertools idempotency keyed on it);
 * - webhook: POST signed with the Standard Webhooks scheme (shared/core/webhook), webhook-id = the
 *   attempt id, which receivers use to drop a repeat.
 * Errors are classified: the action refused (bad document, function error, a 4xx) is an
 * {@link ActionFailedError} (recorded as failed, not retried); throttling, 5xx and timeouts are
 * TransientErrors (the message comes again and the attempt runs again with the same token).
 */
import { StartAutomationExecutionCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { TransientError } from '../../core/errors/index.ts';
import type { Clock } from '../../core/model/index.ts';
import { ActionFailedError, type ActionExecutor, type ExecutionCall, type ExecutionResult } from '../../core/remediate/ports.ts';
import type { ActionDefinition } from '../../core/remediate/spec.ts';
import { signStandardWebhook } from '../../core/webhook/standard-webhooks.ts';
import { isFailure, postJson, type FetchLike } from '../channel/http.ts';
import { readSecret, type SecretSource } from '../secrets/index.ts';

/**
 * How long one run may take to START (ms). SSM and a webhook only start the fix; a Lambda action
 * answers within it or is treated as unreachable (transient: tried again with the same token).
 */
export const EXECUTION_TIMEOUT_MS = 10_000;

/** The SDK errors that mean "the action is wrong", not "try later" (SSM and Lambda API references). */
const PERMANENT_SDK_ERRORS = new Set([
  'AutomationDefinitionNotFoundException',
  'AutomationDefinitionVersionNotFoundException',
  'InvalidAutomationExecutionParametersException',
  'IdempotentParameterMismatch',
  'InvalidDocument',
  'ValidationException',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'InvalidParameterValueException',
  'InvalidRequestContentException',
  'RequestTooLargeException',
]);

function classify(err: unknown, what: string): Error {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  if (PERMANENT_SDK_ERRORS.has(name)) return new ActionFailedError(`${what}: ${name}: ${(e.message ?? '').slice(0, 300)}`, { cause: err });
  return new TransientError(`${what}: ${name}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}`, { cause: err });
}

/** The payload a Lambda action and a webhook action receive. */
export function remediationPayload(call: ExecutionCall): Record<string, unknown> {
  return {
    type: 'klaxon.remediation',
    idempotencyToken: call.token,
    attemptId: call.attemptId,
    action: call.action,
    parameters: call.parameters,
    fingerprint: call.fingerprint,
    ruleId: call.ruleId,
  };
}

/** The webhook action's secret: `{ "secret": "whsec_..." }` in Secrets Manager (a list allows rotation). */
export const RemediationWebhookSecretSchema = z.object({ secret: z.union([z.string().startsWith('whsec_'), z.array(z.string().startsWith('whsec_')).min(1).max(2)]) });

/** What the executors need. */
export interface ExecutorDeps {
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly lambda: Pick<LambdaClient, 'send'>;
  readonly secrets: SecretSource;
  readonly fetch?: FetchLike;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/** {@link ActionExecutor} for every action kind. */
export class RemediationExecutor implements ActionExecutor {
  constructor(private readonly deps: ExecutorDeps) {}

  execute(definition: ActionDefinition, call: ExecutionCall): Promise<ExecutionResult> {
    switch (definition.kind) {
      case 'ssmAutomation':
        return this.#ssm(definition, call);
      case 'lambda':
        return this.#lambda(definition, call);
      case 'webhook':
        return this.#webhook(definition, call);
    }
  }

  get #timeoutMs(): number {
    return this.deps.timeoutMs ?? EXECUTION_TIMEOUT_MS;
  }

  async #ssm(d: Extract<ActionDefinition, { kind: 'ssmAutomation' }>, call: ExecutionCall): Promise<ExecutionResult> {
    // SSM parameters are lists of strings; AutomationAssumeRole is the documents' convention for the role it runs as.
    const Parameters: Record<string, string[]> = Object.fromEntries(Object.entries(call.parameters).map(([k, v]) => [k, [v]]));
    if (d.assumeRoleArn) Parameters.AutomationAssumeRole = [d.assumeRoleArn];
    try {
      const r = await this.deps.ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: d.document,
          ...(d.documentVersion ? { DocumentVersion: d.documentVersion } : {}),
          Parameters,
          ClientToken: call.token,
          // No Tags: tagging the execution would need ssm:AddTagsToResource too (least privilege); the audit log keeps the link.
        }),
        { abortSignal: AbortSignal.timeout(this.#timeoutMs) },
      );
      if (!r.AutomationExecutionId) throw new TransientError('SSM returned no AutomationExecutionId');
      return { executionId: r.AutomationExecutionId, detail: `SSM Automation ${d.document} started` };
    } catch (err) {
      if (err instanceof TransientError) throw err;
      throw classify(err, `SSM StartAutomationExecution ${d.document}`);
    }
  }

  async #lambda(d: Extract<ActionDefinition, { kind: 'lambda' }>, call: ExecutionCall): Promise<ExecutionResult> {
    let r;
    try {
      r = await this.deps.lambda.send(
        new InvokeCommand({ FunctionName: d.functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(remediationPayload(call))) }),
        { abortSignal: AbortSignal.timeout(this.#timeoutMs) },
      );
    } catch (err) {
      throw classify(err, `Lambda Invoke ${d.functionName}`);
    }
    const answer = r.Payload ? Buffer.from(r.Payload).toString('utf8').slice(0, 300) : '';
    // A function error (unhandled or handled) is the action failing, not the call.
    if (r.FunctionError) throw new ActionFailedError(`Lambda ${d.functionName} failed (${r.FunctionError}): ${answer}`);
    return { executionId: r.$metadata.requestId ?? `lambda:${call.token}`, detail: `Lambda ${d.functionName} answered ${answer || '(nothing)'}` };
  }

  async #webhook(d: Extract<ActionDefinition, { kind: 'webhook' }>, call: ExecutionCall): Promise<ExecutionResult> {
    const s = (await readSecret(this.deps.secrets, d.secretName, RemediationWebhookSecretSchema)).secret;
    const payload = remediationPayload(call);
    const nowMs = this.deps.clock.now();
    // postJson sends JSON.stringify(payload): the signed body is that same text.
    const headers = signStandardWebhook({ id: call.attemptId, body: JSON.stringify(payload), nowMs, secrets: typeof s === 'string' ? [s] : s });
    const reply = await postJson(this.deps.fetch ?? fetch, d.url, payload, { headers: { ...headers }, timeoutMs: this.#timeoutMs, nowMs });
    const host = new URL(d.url).host;
    if (isFailure(reply)) {
      if (reply.retryable) throw new TransientError(`webhook ${host}: ${reply.reason}`);
      throw new ActionFailedError(`webhook ${host}: ${reply.reason}`);
    }
    if (reply.status >= 200 && reply.status < 300) return { executionId: `HTTP ${reply.status}`, detail: `webhook ${host} answered HTTP ${reply.status}` };
    if (reply.status === 408 || reply.status === 429 || reply.status >= 500) throw new TransientError(`webhook ${host} answered HTTP ${reply.status}`);
    throw new ActionFailedError(`webhook ${host} answered HTTP ${reply.status}: ${reply.text.slice(0, 200)}`);
  }
}
