/**
 * The enrichment stage in the channel pipeline (shared/core/deliver/pipeline.ts `enrich`) on the
 * in-memory ports, the enrichment settings of the environment (shared/config/enrich.ts), and the
 * Logs Insights result rows as the adapter reads them.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../shared/core/breaker/index.ts';
import {
  CollectingChannelQueue,
  CollectingLog,
  DEFAULT_RETRY_CONFIG,
  deliverBatch,
  InMemoryBreakerStore,
  InMemoryDeliveryMetrics,
  InMemoryNotificationStore,
  type ChannelMessage,
  type DeliveryDeps,
  type JobEnricher,
  type Notifier,
  type SendResult,
} from '../../shared/core/deliver/index.ts';
import type { Enrichment } from '../../shared/core/enrich/types.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { EnrichConfigError, enrichSettings } from '../../shared/config/enrich.ts';
import { parseInsightsTimestamp, rowToLine } from '../../shared/adapters/enrich/logs-insights.ts';
import { job, T0, TestClock } from '../integration/deliver-fixtures.ts';

const E: Enrichment = { owner: 'Alice', links: [], traces: [], failures: [], logs: { state: 'pending', key: 'k' } };

/** Records what it rendered and answers as told. */
class RecordingNotifier implements Notifier<string> {
  readonly channel = 'slack' as const;
  readonly rendered: NotificationJob[] = [];
  answer: SendResult = { ok: true };
  render(j: NotificationJob): string {
    this.rendered.push(j);
    return j.idempotencyKey;
  }
  send(): Promise<SendResult> {
    return Promise.resolve(this.answer);
  }
}

function harness(enrich?: JobEnricher) {
  const notifier = new RecordingNotifier();
  const logger = new CollectingLog();
  const deps = {
    channel: 'slack' as const,
    notifier,
    notifications: new InMemoryNotificationStore(60_000),
    breakers: new InMemoryBreakerStore(),
    queue: new CollectingChannelQueue(),
    metrics: new InMemoryDeliveryMetrics(),
    logger,
    clock: new TestClock(T0),
    breaker: DEFAULT_BREAKER_CONFIG,
    retry: DEFAULT_RETRY_CONFIG,
    isTransient: () => false,
    batchBudgetMs: 10_000,
    stopwatch: () => 0,
    ...(enrich ? { enrich } : {}),
  } satisfies DeliveryDeps<string>;
  return { deps, notifier, logger };
}
let seq = 0;
const message = (j: NotificationJob): ChannelMessage => ({ id: `m${++seq}`, receiptHandle: `rh${seq}`, body: JSON.stringify(j), receiveCount: 1, groupId: j.transition.fingerprint });

describe('the enrich stage of the channel pipeline', () => {
  it('renders the job with the enrichment and tells `delivered` after the send', async () => {
    const delivered: NotificationJob[] = [];
    const h = harness({ enrich: () => Promise.resolve(E), delivered: (j) => Promise.resolve(void delivered.push(j)) });
    await deliverBatch(h.deps, [message(job('slack'))]);
    expect(h.notifier.rendered[0]?.enrichment).toEqual(E);
    expect(delivered.map((j) => j.enrichment)).toEqual([E]);
  });

  it.each<[string, SendResult, number]>([
    // a retryable failure: no follow-up (the retry enriches again)
    ['retry', { ok: false, retryable: true, reason: 'server', detail: '503' }, 0],
    // a permanent refusal: dead-lettered, no follow-up
    ['dead-letter', { ok: false, retryable: false, reason: 'client', detail: '400' }, 0],
    // delivered: one
    ['delivered', { ok: true }, 1],
  ])('`delivered` only after a delivery: %s', async (_n, answer, calls) => {
    let n = 0;
    const h = harness({ enrich: () => Promise.resolve(E), delivered: () => Promise.resolve(void n++) });
    h.notifier.answer = answer;
    await deliverBatch(h.deps, [message(job('slack'))]);
    expect(n).toBe(calls);
  });

  it('an enrichment arriving on the queue is dropped, with or without the stage', async () => {
    const forged = job('slack', { enrichment: { owner: '<!channel> forged', links: [{ text: 'x', url: 'https://evil.example.com' }], traces: [], failures: [] } });
    const without = harness();
    await deliverBatch(without.deps, [message(forged)]);
    expect(without.notifier.rendered[0]?.enrichment).toBeUndefined();
    const withStage = harness({ enrich: () => Promise.resolve(undefined) });
    await deliverBatch(withStage.deps, [message(job('slack', { enrichment: forged.enrichment! }))]);
    expect(withStage.notifier.rendered[0]?.enrichment).toBeUndefined();
  });

  it('a stage that throws: the job goes without enrichment and the failure is logged; a failing `delivered` does not fail the job', async () => {
    const h = harness({ enrich: () => Promise.reject(new Error('boom')), delivered: () => Promise.reject(new Error('SQS down')) });
    const r = await deliverBatch(h.deps, [message(job('slack'))]);
    expect(r).toEqual({ failures: [] });
    expect(h.notifier.rendered[0]?.enrichment).toBeUndefined();
    expect(JSON.stringify(h.logger)).toContain('enrichment failed; sending without it');
  });
});

describe('enrichment settings from the environment', () => {
  it.each([
    // nothing set: enrichment off
    [{}, undefined],
    // a catalog file alone turns it on with the defaults
    [{ CATALOG_FILE: '/tmp/c.yaml' }, { catalog: { kind: 'file', path: '/tmp/c.yaml' }, config: { budgetMs: { critical: 1000, high: 1500, medium: 2000, low: 2000 }, links: [] } }],
    // the file wins over the parameter (local mode)
    [{ CATALOG_FILE: '/tmp/c.yaml', CATALOG_SSM_PARAMETER: '/klaxon/catalog' }, { catalog: { kind: 'file' } }],
    // a parameter; minutes become ms
    [{ CATALOG_SSM_PARAMETER: '/klaxon/catalog', ENRICH_CONFIG: '{"linkWindowMinutes":5,"logs":{"logGroups":["/a"],"query":"fields @message"}}' }, { catalog: { kind: 'ssm' }, config: { linkWindowMs: 300_000, logs: { logGroups: ['/a'], limit: 10, bucketMs: 300_000, maxInFlight: 5 } } }],
  ])('%j', (env, expected) => {
    const s = enrichSettings(env, 'deliver-slack');
    if (expected === undefined) expect(s).toBeUndefined();
    else expect(s).toMatchObject(expected);
  });

  it.each([
    // not JSON
    ['{', 'ENRICH_CONFIG: must be JSON'],
    // a budget over the ceiling the channel reserve holds
    ['{"budgetMs":{"critical":5000}}', 'budgetMs.critical'],
    // a link template with a placeholder host
    ['{"links":[{"text":"x","url":"https://{{labels.h}}/"}]}', 'the host must be literal'],
    // limit is appended, not written
    ['{"logs":{"logGroups":["/a"],"query":"fields @message | limit 50"}}', 'leave `limit` out'],
    // not a log group name
    ['{"logs":{"logGroups":["a b"],"query":"fields @message"}}', 'not a log group name'],
    // the account allows 30 concurrent queries
    ['{"logs":{"logGroups":["/a"],"query":"q","maxInFlight":31}}', 'maxInFlight'],
    // a typo is refused
    ['{"link":[]}', 'link'],
  ])('ENRICH_CONFIG %s is refused naming %s', (value, problem) => {
    expect(() => enrichSettings({ ENRICH_CONFIG: value }, 'deliver-slack')).toThrow(EnrichConfigError);
    expect(() => enrichSettings({ ENRICH_CONFIG: value }, 'deliver-slack')).toThrow(problem);
  });
});

describe('Logs Insights result rows (the adapter; the SDK runs against the local stand-in in test/integration/enrich-channels.test.ts)', () => {
  it.each([
    // Logs Insights' @timestamp is UTC without a zone
    ['2026-11-22 05:00:00.123', Date.UTC(2026, 10, 22, 5, 0, 0, 123)],
    ['not a time', undefined],
    [undefined, undefined],
  ])('timestamp %s', (s, ms) => {
    expect(parseInsightsTimestamp(s)).toBe(ms);
  });

  it.each([
    [[{ field: '@timestamp', value: '2026-11-22 05:00:00.000' }, { field: '@message', value: 'ERROR x' }, { field: '@ptr', value: 'p' }], { atMs: Date.UTC(2026, 10, 22, 5), message: 'ERROR x' }],
    // a row without @message (the query asked for other fields) is skipped
    [[{ field: 'count', value: '3' }], undefined],
  ])('row %j', (row, line) => {
    expect(rowToLine(row)).toEqual(line);
  });
});
