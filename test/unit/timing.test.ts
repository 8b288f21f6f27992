/**
 * The durations that must stay in step with the function timeouts are derived from one module
 * (shared/config/timing.ts) that the topology deploys: these are the rules between them.
 */
import { describe, expect, it } from 'vitest';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../infra/constructs/channel.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/topology.ts';
import { commonChannelDeps } from '../../shared/adapters/channel/wiring.ts';
import { slackConfig } from '../../shared/config/channels.ts';
import { CHANNEL_BATCH_BUDGET_MS, CHANNEL_SEND_TIMEOUT_MS, CLAIM_LEASE_MS, FUNCTION_TIMEOUT_SECONDS } from '../../shared/config/timing.ts';
import { DEFAULT_BREAKER_CONFIG } from '../../shared/core/breaker/index.ts';

const CHANNELS: readonly FunctionName[] = ['deliverSlack', 'deliverEmail', 'deliverPagerduty'];
const timeoutMs = (f: FunctionName): number => FUNCTIONS[f].timeoutSeconds * 1000;

describe('timing derived from the function timeouts', () => {
  it('the topology deploys the timeouts of shared/config/timing.ts', () => {
    expect(FUNCTIONS.evaluator.timeoutSeconds).toBe(FUNCTION_TIMEOUT_SECONDS.evaluator);
    expect(FUNCTIONS.timers.timeoutSeconds).toBe(FUNCTION_TIMEOUT_SECONDS.timers);
    expect(FUNCTIONS.dispatch.timeoutSeconds).toBe(FUNCTION_TIMEOUT_SECONDS.dispatch);
    for (const f of CHANNELS) expect(FUNCTIONS[f].timeoutSeconds).toBe(FUNCTION_TIMEOUT_SECONDS.channel);
  });

  it.each(CHANNELS)('%s: the idempotency lease outlives the invocation that claims', (f) => {
    expect(CLAIM_LEASE_MS).toBeGreaterThan(timeoutMs(f));
  });

  it.each(CHANNELS)('%s: the batch budget leaves room for the record in flight (two sends) inside the timeout', (f) => {
    expect(CHANNEL_BATCH_BUDGET_MS).toBeGreaterThan(0);
    expect(CHANNEL_BATCH_BUDGET_MS + 2 * CHANNEL_SEND_TIMEOUT_MS).toBeLessThanOrEqual(timeoutMs(f));
  });

  it.each(['dispatch', ...CHANNELS] as FunctionName[])('%s: its queue visibility timeout is at least 6 × its timeout (Lambda SQS rule)', (f) => {
    // infra/constructs/channel.ts sets visibility = timeout × VISIBILITY_TIMEOUT_FACTOR for every SQS-triggered function.
    expect(FUNCTIONS[f].trigger.kind).toBe('sqs');
    expect(VISIBILITY_TIMEOUT_FACTOR).toBeGreaterThanOrEqual(6);
    expect(timeoutMs(f) * VISIBILITY_TIMEOUT_FACTOR).toBeGreaterThan(CLAIM_LEASE_MS);
  });

  it('a half-open probe lease ends only after a send can have timed out', () => {
    expect(DEFAULT_BREAKER_CONFIG.probeLeaseMs).toBeGreaterThan(CHANNEL_SEND_TIMEOUT_MS);
  });

  it('the channel functions are wired with the derived budget', () => {
    const s = slackConfig({ DELIVERY_TABLE: 'd', ALERTS_TABLE: 'a', QUEUE_URL: 'q', DEAD_LETTER_QUEUE_URL: 'dlq', SLACK_SECRET_NAME: 's' });
    expect(commonChannelDeps('deliverSlack', s).batchBudgetMs).toBe(CHANNEL_BATCH_BUDGET_MS);
  });
});
