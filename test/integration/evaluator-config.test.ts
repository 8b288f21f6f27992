/**
 * The evaluator's and timers' configuration (env read once, failing with the variable's name), and
 * the SQS adapters' handling of large and odd message bodies against fauxqs.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, evaluatorConfig } from '../../shared/config/evaluator.ts';
import { timersConfig } from '../../shared/config/timers.ts';
import { SqsRejectedSink } from '../../shared/adapters/sqs/rejected-sink.ts';
import type { RejectedRecord } from '../../shared/core/model/index.ts';
import { provisionFresh } from '../support/aws.ts';
import { drainQueue } from './eval-helpers/queue.ts';
import { countRequests } from './eval-helpers/clients.ts';

const ENV = {
  STATE_TABLE: 'state',
  SAMPLE_LOG_TABLE: 'samples',
  RULES_TABLE: 'rules',
  RULES_SOURCE: 'dynamodb',
  RULES_SSM_PATH: '',
  RULES_CACHE_TTL_SECONDS: '30',
  ALERT_EVENTS_QUEUE_URL: 'http://q/alert-events.fifo',
  REJECTED_QUEUE_URL: 'http://q/rejected',
  STALE_AFTER_SECONDS: '',
};

describe('evaluator configuration', () => {
  it('reads the topology variables, with defaults for the optional ones', () => {
    expect(evaluatorConfig(ENV)).toEqual({
      rules: { kind: 'dynamodb', table: 'rules' },
      rulesCacheTtlMs: 30_000,
      staleAfterMs: 300_000,
      stateTable: 'state',
      sampleLogTable: 'samples',
      alertEventsQueueUrl: 'http://q/alert-events.fifo',
      rejectedQueueUrl: 'http://q/rejected',
      seriesLimitPerRule: 10_000,
      maxFutureSkewMs: 600_000,
      maxSampleAgeMs: 604_800_000,
      // Unset: the safe side (a transient failure fails the invocation).
      partialBatchResponse: false,
      // Unset: windows derived (docs/design.md).
      windows: 'derived',
    });
    expect(evaluatorConfig({ ...ENV, STATE_WINDOWS: 'stored' }).windows).toBe('stored');
    expect(evaluatorConfig({ ...ENV, MAX_FUTURE_SKEW_SECONDS: '60', MAX_SAMPLE_AGE_SECONDS: '86400' })).toMatchObject({ maxFutureSkewMs: 60_000, maxSampleAgeMs: 86_400_000 });
    expect(evaluatorConfig({ ...ENV, KAFKA_PARTIAL_BATCH_RESPONSE: 'true' }).partialBatchResponse).toBe(true);
    expect(timersConfig({ ...ENV, RULES_SOURCE: 'file', RULES_FILE: 'rules.yaml', STALE_AFTER_SECONDS: '600' })).toMatchObject({ rules: { kind: 'file', file: 'rules.yaml' }, staleAfterMs: 600_000 });
  });

  it.each([
    // a required table name missing
    [{ STATE_TABLE: undefined }, /STATE_TABLE/],
    // the sample log's table missing, or blank
    [{ SAMPLE_LOG_TABLE: undefined }, /SAMPLE_LOG_TABLE/],
    [{ SAMPLE_LOG_TABLE: '  ' }, /SAMPLE_LOG_TABLE: must be set/],
    // a layout that does not exist
    [{ STATE_WINDOWS: 'disk' }, /STATE_WINDOWS: must be 'derived' or 'stored'/],
    // a boolean spelled another way
    [{ KAFKA_PARTIAL_BATCH_RESPONSE: 'yes' }, /KAFKA_PARTIAL_BATCH_RESPONSE: must be 'true' or 'false'/],
    // an unknown rule source
    [{ RULES_SOURCE: 'etcd' }, /RULES_SOURCE: must be 'dynamodb', 'ssm' or 'file'/],
    // the source's own variable missing
    [{ RULES_SOURCE: 'ssm', RULES_SSM_PATH: '' }, /RULES_SSM_PATH: must be set when RULES_SOURCE=ssm/],
    // a number that is not one
    [{ RULES_CACHE_TTL_SECONDS: 'soon' }, /RULES_CACHE_TTL_SECONDS: must be a non-negative number of seconds/],
    // negative staleness
    [{ STALE_AFTER_SECONDS: '-5' }, /STALE_AFTER_SECONDS/],
    // event-time bounds that are not numbers of seconds
    [{ MAX_FUTURE_SKEW_SECONDS: '10m' }, /MAX_FUTURE_SKEW_SECONDS: must be a non-negative number of seconds, got '10m'/],
    [{ MAX_SAMPLE_AGE_SECONDS: '-1' }, /MAX_SAMPLE_AGE_SECONDS: must be a non-negative number of seconds/],
  ])('fails at init naming the variable (%o)', (patch, message) => {
    const env = { ...ENV, ...patch } as NodeJS.ProcessEnv;
    expect(() => evaluatorConfig(env)).toThrow(ConfigError);
    expect(() => evaluatorConfig(env)).toThrow(message);
  });
});

describe('rejected sink', () => {
  it('splits large bodies under the 256 KiB batch limit and makes any text acceptable to SQS', async () => {
    const p = await provisionFresh();
    const counter = countRequests(p.sqs);
    const sink = new SqsRejectedSink({ client: p.sqs, queueUrl: p.queues.rejected.url });
    // 25 records of 8,192 characters: control characters, which JSON escapes to 6 bytes each (~49 KB
    // per body, so 5 per request, not 10), and U+FFFF, which SQS refuses in a body.
    const raw = `\uFFFF${'\u0001'.repeat(8191)}`;
    const rejected: RejectedRecord[] = Array.from({ length: 25 }, (_, i) => ({
      source: { topic: 'metrics', partition: 0, offset: i, timestampMs: 1 },
      reason: 'not JSON',
      raw,
      rawTruncated: true,
    }));
    await sink.send(rejected);
    expect(counter.counts.get('SendMessageBatchCommand')).toBe(5); // bytes decide, not the 10-entry cap
    const got = await drainQueue<{ offset: number; raw: string }>(p.sqs, p.queues.rejected.url);
    expect(got.map((m) => m.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(got[0]!.raw).toBe(`\uFFFD${'\u0001'.repeat(8191)}`);
  });
});
