/**
 * The evaluator handler end to end against DynamoDB Local and fauxqs: MSK batch in, transitions on
 * the alert-events FIFO queue, bad records on the rejected queue, partial batch response on a
 * transient failure, metrics out.
 */
import { describe, expect, it } from 'vitest';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { createEvaluatorHandler } from '../../functions/evaluator/app.ts';
import { uniqueTransitions, evalHarness, metricSum, plumbed, metricValues } from './eval-helpers/harness.ts';
import { mskEvent, sample } from './eval-helpers/msk.ts';

const T0 = 1_795_300_000_000;
const RULES = `
rules:
  - id: cpu_high
    name: High CPU usage
    metric: cpu_usage_percent
    matchers: ['environment="production"']
    condition: '> 80'
    for: 1m
    severity: high
    labels: { team: platform }
    annotations: { summary: 'CPU {{ $value }}% on {{ $labels.instance }}' }
`;

const cpu = (instance: string, value: number, t: number) => sample('cpu_usage_percent', value, t, { instance, environment: 'production' });

describe('evaluator handler', () => {
  it('turns an MSK batch into transitions, quarantines bad records and evaluates the rest', async () => {
    const h = await evalHarness(RULES);
    // Partition 0: web-1 goes high for 2 minutes (fires), partition 1: web-2 stays low; bad records in both.
    const event = mskEvent([
      { partition: 0, offset: 100, value: cpu('web-1', 90, T0) },
      { partition: 0, offset: 101, raw: '{not json' },
      { partition: 0, offset: 102, value: [cpu('web-1', 91, T0 + 30_000), cpu('web-1', 95, T0 + 60_000)] },
      { partition: 1, offset: 7, value: cpu('web-2', 10, T0) },
      { partition: 1, offset: 8, value: { name: 'cpu_usage_percent', value: 'high', labels: {} } },
      { partition: 1, offset: 9, value: cpu('web-2', 12, T0 + 60_000) },
    ]);
    const res = await h.evaluator(event);
    expect(res).toEqual({ batchItemFailures: [] });

    const transitions = await h.transitions();
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      version: 1,
      kind: 'firing',
      ruleId: 'cpu_high',
      ruleName: 'High CPU usage',
      severity: 'high',
      labels: { alertname: 'cpu_high', instance: 'web-1', environment: 'production', team: 'platform' },
      annotations: { summary: 'CPU 95% on web-1' },
      value: 95,
      atMs: T0 + 60_000,
      activeAtMs: T0,
      firedAtMs: T0 + 60_000,
    });

    const rejected = (await h.rejected()).sort((a, b) => a.partition - b.partition);
    expect(rejected).toHaveLength(2);
    expect(rejected[0]).toMatchObject({ topic: 'metrics', partition: 0, offset: 101, raw: '{not json', rawTruncated: false });
    expect(rejected[0]!.reason).not.toBe('');
    expect(rejected[1]).toMatchObject({ topic: 'metrics', partition: 1, offset: 8 });
    expect(rejected[1]!.reason).toMatch(/value/);

    // Metrics of the batch (EMF, names from shared/core/model/metrics.ts).
    expect(metricSum(h.evalEmf, 'RecordsIn')).toBe(6);
    expect(metricSum(h.evalEmf, 'RecordsRejected')).toBe(2);
    expect(metricSum(h.evalEmf, 'SamplesRejected')).toBe(2);
    expect(metricSum(h.evalEmf, 'SamplesEvaluated')).toBe(5);
    expect(metricSum(h.evalEmf, 'Transitions', { kind: 'firing' })).toBe(1);
    // Once per invocation; the injected clock does not move during it.
    expect(metricValues(h.evalEmf, 'BatchDuration')).toEqual([0]);
  });

  it.each(['derived', 'stored'] as const)('resolves in a later batch and skips a redelivered batch without new transitions or state writes (%s windows)', async (windows) => {
    const h = await evalHarness(RULES, { windows });
    const first = mskEvent([{ partition: 0, offset: 1, value: [cpu('web-1', 90, T0), cpu('web-1', 90, T0 + 60_000)] }]);
    await h.evaluator(first);
    await h.evaluator(mskEvent([{ partition: 0, offset: 2, value: cpu('web-1', 20, T0 + 90_000) }]));
    h.ddbCount.reset();
    const again = await h.evaluator(first); // redelivery of an old batch
    expect(again.batchItemFailures).toEqual([]);
    expect(h.ddbCount.counts.get('TransactWriteItemsCommand') ?? 0).toBe(0);
    // Derived windows: the one write is the sample log's segment of the batch, written again.
    expect(h.ddbCount.counts.get('PutItemCommand') ?? 0).toBe(windows === 'derived' ? 1 : 0);
    const ts = await h.transitions();
    expect(ts.map((t) => [t.kind, t.atMs])).toEqual([
      ['firing', T0 + 60_000],
      ['resolved', T0 + 90_000],
    ]);
    expect(metricSum(h.evalEmf, 'SamplesSkipped')).toBe(2);
  });

  // Stored windows evaluate the batch's partitions together (one failed read fails them all);
  // derived windows evaluate partition by partition (the read of the first fails only its own).
  it.each([
    ['stored', [{ itemIdentifier: { partition: 'metrics-0', offset: 40 } }, { itemIdentifier: { partition: 'metrics-3', offset: 7 } }]],
    ['derived', [{ itemIdentifier: { partition: 'metrics-0', offset: 40 } }]],
  ] as const)('reports the lowest offset of each affected partition when DynamoDB throttles (%s windows)', async (windows, failures) => {
    const h = await evalHarness(RULES, { windows });
    // A middleware throws DynamoDB's throttling error: DynamoDB Local cannot throttle.
    h.ddbFaults.arm({ command: 'BatchGetItemCommand', nth: 1, when: 'before', error: () => new ProvisionedThroughputExceededException({ message: 'injected', $metadata: {} }) });
    const event = mskEvent([
      { partition: 0, offset: 40, value: cpu('web-1', 90, T0) },
      { partition: 0, offset: 41, value: cpu('web-1', 90, T0 + 60_000) },
      { partition: 3, offset: 7, value: cpu('web-2', 90, T0) },
      { partition: 3, offset: 8, value: cpu('web-2', 90, T0 + 60_000) },
      // only a bad record: nothing to redeliver for this partition
      { partition: 5, offset: 2, raw: 'garbage' },
    ]);
    const res = await h.evaluator(event);
    expect(res.batchItemFailures).toEqual(failures);
    expect((await h.transitions()).map((t) => t.labels.instance)).toEqual(windows === 'derived' ? ['web-2'] : []);
    // Lambda redelivers from those offsets: now it works and both alerts fire.
    const retry = await h.evaluator(event);
    expect(retry.batchItemFailures).toEqual([]);
    expect(uniqueTransitions(await h.transitions()).map((t) => t.labels.instance).sort()).toEqual(['web-1', 'web-2']);
  });

  it.each([
    ['stored', 'metrics-0, metrics-3'],
    ['derived', 'metrics-0'],
  ] as const)('fails the whole invocation on a transient failure when partial batch responses are off (MSK on-demand mode), and the redelivered batch fires once (%s windows)', async (windows, failed) => {
    const h = await evalHarness(RULES, { windows });
    const evaluator = plumbed(createEvaluatorHandler({ ...h.deps, partialBatchResponse: false }), h.deps);
    h.ddbFaults.arm({ command: 'BatchGetItemCommand', nth: 1, when: 'before', error: () => new ProvisionedThroughputExceededException({ message: 'injected', $metadata: {} }) });
    const event = mskEvent([
      { partition: 0, offset: 40, value: [cpu('web-1', 90, T0), cpu('web-1', 90, T0 + 60_000)] },
      { partition: 3, offset: 7, value: [cpu('web-2', 90, T0), cpu('web-2', 90, T0 + 60_000)] },
    ]);
    // A returned partial batch response would be ignored and the offsets committed: it must throw.
    await expect(evaluator(event)).rejects.toThrow(`transient failure in partitions ${failed}; the whole batch is delivered again`);
    expect(await evaluator(event)).toEqual({ batchItemFailures: [] });
    expect(uniqueTransitions(await h.transitions()).map((t) => [t.kind, t.labels.instance]).sort()).toEqual([
      ['firing', 'web-1'],
      ['firing', 'web-2'],
    ]);
  });

  it('fails the partitions of rejected records when the rejected queue is unavailable', async () => {
    const h = await evalHarness(RULES);
    h.sqsFaults.arm({ command: 'SendMessageBatchCommand', nth: 1, when: 'before', error: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    const res = await h.evaluator(
      mskEvent([
        { partition: 0, offset: 5, raw: '%%%' },
        { partition: 1, offset: 9, value: cpu('web-1', 90, T0) },
      ]),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'metrics-0', offset: 5 } }]);
  });

  it('fails the partitions with samples when SQS keeps failing transition entries after retries', async () => {
    const h = await evalHarness(RULES);
    // A middleware answers as SQS does when it fails entries of a batch for a service reason
    // (SenderFault false): fauxqs cannot fail single entries on demand.
    let failEntries = true;
    (h.p.sqs.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
      (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: { QueueUrl?: string; Entries?: { Id?: string }[] } }) => {
        if (!failEntries || context.commandName !== 'SendMessageBatchCommand' || args.input.QueueUrl !== h.p.queues.alertEvents.url) return await next(args);
        return { output: { $metadata: {}, Successful: [], Failed: (args.input.Entries ?? []).map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })) } };
      },
      { step: 'initialize', name: 'fail-entries' },
    );
    const event = mskEvent([
      { partition: 0, offset: 40, value: [cpu('web-1', 90, T0), cpu('web-1', 90, T0 + 60_000)] },
      { partition: 2, offset: 3, raw: 'garbage' },
    ]);
    const res = await h.evaluator(event);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'metrics-0', offset: 40 } }]);
    // The state was not written, so the redelivered batch publishes the firing transition.
    failEntries = false;
    expect((await h.evaluator(event)).batchItemFailures).toEqual([]);
    expect((await h.transitions()).map((t) => [t.kind, t.labels.instance])).toEqual([['firing', 'web-1']]);
  });

  it('throws on a non-transient failure (a bug or a misconfiguration), so Lambda retries the whole batch', async () => {
    const h = await evalHarness(RULES);
    h.ddbFaults.arm({ command: 'BatchGetItemCommand', nth: 1, when: 'before', error: () => Object.assign(new Error('no such table'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }) });
    await expect(h.evaluator(mskEvent([{ partition: 0, offset: 1, value: cpu('web-1', 90, T0) }]))).rejects.toThrow('no such table');
  });

  it('re-reads and re-evaluates a series another invocation advanced first', async () => {
    const h = await evalHarness(RULES);
    // Another invocation (same code) handles the first minute while ours has read the old state:
    // simulate by letting a second handler run between our read and our write.
    const other = h.evaluator;
    let interfered = false;
    const states = h.deps.states;
    const racing = {
      ...states,
      getMany: states.getMany.bind(states),
      duePage: states.duePage.bind(states),
      commit: async (writes: Parameters<typeof states.commit>[0]) => {
        if (!interfered) {
          interfered = true;
          await other(mskEvent([{ partition: 0, offset: 1, value: [cpu('web-1', 90, T0), cpu('web-1', 90, T0 + 30_000)] }]));
        }
        return await states.commit(writes);
      },
    };
    const { createEvaluatorHandler } = await import('../../functions/evaluator/app.ts');
    const mine = plumbed(createEvaluatorHandler({ ...h.deps, states: racing }), h.deps);
    const res = await mine(mskEvent([{ partition: 0, offset: 1, value: [cpu('web-1', 90, T0), cpu('web-1', 90, T0 + 30_000), cpu('web-1', 90, T0 + 60_000)] }]));
    expect(res.batchItemFailures).toEqual([]);
    const stored = await states.getMany(['cpu_high#cpu_usage_percent{environment="production",instance="web-1"}']);
    const st = [...stored.values()][0]!;
    expect(st.state.lastSampleMs).toBe(T0 + 60_000);
    expect(st.state.state).toBe('firing');
    expect(st.version).toBe(2);
    const ts = await h.transitions();
    expect(ts.filter((t) => t.kind === 'firing')).toHaveLength(ts.length);
    expect(new Set(ts.map((t) => t.transitionId)).size).toBe(1);
  });
});
