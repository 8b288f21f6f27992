/**
 * The remediation executors (shared/adapters/remediate/executors.ts) against real servers: the
 * webhook against a local server that verifies with the independent `standardwebhooks` library
 * (and against local mode's remediation target); SSM Automation and Lambda through the real SDK
 * clients against the named stand-in (local/receivers/aws-actions-standin.ts: nothing emulates
 * them here), checking the exact request (ClientToken, DocumentName, Parameters, payload) and the
 * ClientToken idempotency.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemediationExecutor } from '../../shared/adapters/remediate/executors.ts';
import { TransientError } from '../../shared/core/errors/index.ts';
import { ActionFailedError, type ExecutionCall } from '../../shared/core/remediate/ports.ts';
import { tokenOf } from '../../shared/core/remediate/messages.ts';
import { startAwsActionsStandIn, type AwsActionsStandIn } from '../../local/receivers/aws-actions-standin.ts';
import { startRemediationTarget, type RemediationTarget } from '../../local/receivers/remediation-target.ts';
import { listenOnLoopback } from '../../local/runtime/listen.ts';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const call: ExecutionCall = {
  attemptId: 'rem_0123456789abcdef0123456789abcdef',
  token: tokenOf('rem_0123456789abcdef0123456789abcdef'),
  action: 'restart-consumer',
  parameters: { Service: 'checkout' },
  fingerprint: 'fp-1',
  ruleId: 'consumer-lag',
};

let standIn: AwsActionsStandIn;
let target: RemediationTarget;
let verifier: { url: string; stop: () => Promise<void>; got: { verified: unknown; status: number }[]; answer: number };

function executor(): RemediationExecutor {
  return new RemediationExecutor({
    ssm: new SSMClient({ endpoint: standIn.url, region: 'us-east-1', credentials }),
    lambda: new LambdaClient({ endpoint: standIn.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
    secrets: { getJson: (name) => (name === 'klaxon/restart-web' ? Promise.resolve({ secret }) : Promise.reject(new Error(`no secret ${name}`))) },
    clock: { now: () => Date.now() },
    timeoutMs: 5000,
  });
}

beforeAll(async () => {
  standIn = await startAwsActionsStandIn({ documents: { 'Klaxon-RestartConsumer': 'succeed', 'Klaxon-Broken': 'fail' }, functions: { 'scale-up': 'succeed', 'scale-broken': 'fail' } });
  target = await startRemediationTarget({ secret });
  // An independent verifier: the scheme's own library decides.
  const got: { verified: unknown; status: number }[] = [];
  const state = { answer: 200 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified: unknown;
      try {
        verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
      } catch (e) {
        verified = { error: (e as Error).message };
      }
      got.push({ verified, status: state.answer });
      res.writeHead(state.answer).end();
    });
  });
  const l = await listenOnLoopback(server);
  verifier = {
    url: l.url,
    stop: l.stop,
    got,
    get answer() {
      return state.answer;
    },
    set answer(v: number) {
      state.answer = v;
    },
  };
});

afterAll(async () => {
  await Promise.all([standIn.stop(), target.stop(), verifier.stop()]);
});

describe('webhook executor', () => {
  it('signs with Standard Webhooks (webhook-id = the attempt id), verified by the standardwebhooks library', async () => {
    verifier.answer = 200;
    const r = await executor().execute({ kind: 'webhook', url: `${verifier.url}/restart`, secretName: 'klaxon/restart-web' }, call);
    expect(r.executionId).toBe('HTTP 200');
    expect(verifier.got.at(-1)!.verified).toEqual({ type: 'klaxon.remediation', idempotencyToken: call.token, attemptId: call.attemptId, action: 'restart-consumer', parameters: { Service: 'checkout' }, fingerprint: 'fp-1', ruleId: 'consumer-lag' });
  });

  it.each([
    // the receiver is down: try again (same attempt, same token, same webhook-id)
    [503, TransientError],
    // throttled
    [429, TransientError],
    // the receiver refuses the action: failed, not retried
    [400, ActionFailedError],
  ])('HTTP %i → %o', async (status, errorClass) => {
    verifier.answer = status;
    await expect(executor().execute({ kind: 'webhook', url: `${verifier.url}/restart`, secretName: 'klaxon/restart-web' }, call)).rejects.toBeInstanceOf(errorClass);
  });

  it("local mode's remediation target verifies, restarts once per webhook-id", async () => {
    const def = { kind: 'webhook' as const, url: target.endpoint, secretName: 'klaxon/restart-web' };
    await executor().execute(def, call);
    await executor().execute(def, call);
    expect(target.restarts().map((r) => r.text)).toEqual(['restarted checkout']);
    expect(target.refused()).toBe(0);
  });
});

describe('SSM Automation executor (stand-in)', () => {
  it('starts the document with the exact request; the same token again starts nothing new', async () => {
    const def = { kind: 'ssmAutomation' as const, document: 'Klaxon-RestartConsumer', assumeRoleArn: 'arn:aws:iam::123456789012:role/klaxon-automation' };
    const first = await executor().execute(def, call);
    const again = await executor().execute(def, call);
    expect(again.executionId).toBe(first.executionId);
    expect(standIn.executions()).toEqual([
      { automationExecutionId: first.executionId, documentName: 'Klaxon-RestartConsumer', parameters: { Service: ['checkout'], AutomationAssumeRole: ['arn:aws:iam::123456789012:role/klaxon-automation'] }, clientToken: call.token, atMs: expect.any(Number) },
    ]);
    expect(standIn.startCalls()).toBe(2);
  });

  it.each([
    // a document SSM does not know
    ['Klaxon-Missing', /AutomationDefinitionNotFoundException/],
    // parameters refused
    ['Klaxon-Broken', /InvalidAutomationExecutionParametersException/],
  ])('%s fails the attempt (not retried)', async (document, message) => {
    const e = await executor().execute({ kind: 'ssmAutomation', document }, { ...call, token: tokenOf(document) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionFailedError);
    expect((e as Error).message).toMatch(message);
  });
});

describe('Lambda executor (stand-in)', () => {
  it('invokes with the token in the payload', async () => {
    const r = await executor().execute({ kind: 'lambda', functionName: 'scale-up' }, call);
    const inv = standIn.invocations().at(-1)!;
    expect(inv).toMatchObject({ functionName: 'scale-up', payload: { type: 'klaxon.remediation', idempotencyToken: call.token, attemptId: call.attemptId, parameters: { Service: 'checkout' } } });
    expect(r.executionId).toBe(inv.requestId);
  });

  it.each([
    // the function throws
    ['scale-broken', /failed \(Unhandled\)/],
    // no such function
    ['scale-missing', /ResourceNotFoundException/],
  ])('%s fails the attempt (not retried)', async (functionName, message) => {
    const e = await executor().execute({ kind: 'lambda', functionName }, call).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionFailedError);
    expect((e as Error).message).toMatch(message);
  });
});
