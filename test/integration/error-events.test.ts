/**
 * Job events through the evaluator and timers handlers against DynamoDB Local (the errors table
 * and its by-task and by-quiet indexes) and fauxqs: error and success events on the metrics topic
 * become error-alert transitions on the alert-events queue, once (redelivery, a throttled write),
 * bad events are quarantined with their reason, the quiet period resolves, and the transitions go
 * on through dispatch into one summary notification.
 */
import { describe, expect, it } from 'vitest';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { evalHarness, metricSum, uniqueTransitions } from './eval-helpers/harness.ts';
import { mskEvent, sample } from './eval-helpers/msk.ts';
import { compileEventsConfig } from '../../shared/core/events/config.ts';
import { resolveErrorByPerson } from '../../shared/core/events/sequence.ts';
import {
  CollectingFlushScheduler,
  CollectingJobPublisher,
  DEFAULT_DISPATCH_CONFIG,
  dispatchTransition,
  fixedRoutes,
  flushGroup,
  InMemoryAlertStore,
  InMemoryGroupStore,
  InMemoryMemberRecords,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import { renderSlackMessage } from '../../shared/core/format/slack.ts';

const T0 = 1_795_300_000_000;
const MIN = 60_000;
const RULES = `
rules:
  - id: up
    name: Up
    metric: up
    condition: '< 1'
    severity: high
`;

function failure(min: number, over: Record<string, unknown> = {}) {
  return {
    kind: 'error',
    source: 'airflow',
    service: 'etl_daily',
    task: 'load_orders',
    run: 'scheduled__2026-11-28T02:00:00+00:00',
    try: 3,
    maxTries: 3,
    error: { type: 'botocore.exceptions.ClientError', message: `An error occurred (AccessDenied) when calling the GetObject operation: Access Denied for s3://lake/orders/${min}.parquet`, stack: 'Traceback...\n'.repeat(10) },
    logUrl: 'https://airflow.example.com/log?dag_id=etl_daily&task_id=load_orders',
    tags: { team: 'data', tier: '2' },
    timestamp: new Date(T0 + min * MIN).toISOString(),
    ...over,
  };
}
const success = (min: number, over: Record<string, unknown> = {}) => ({ kind: 'success', source: 'airflow', service: 'etl_daily', task: 'load_orders', timestamp: T0 + min * MIN, ...over });

describe('job events through the evaluator', () => {
  it('an error fires (classified, fingerprinted), occurrences are counted, a success resolves; a redelivered batch changes nothing', async () => {
    const h = await evalHarness(RULES);
    h.clock.set(T0 + 10 * MIN);
    const batch = mskEvent([
      { partition: 0, offset: 1, value: failure(0) },
      { partition: 0, offset: 2, value: [failure(1), sample('up', 1, T0 + MIN, { job: 'api' })] },
      { partition: 0, offset: 3, value: failure(2) },
    ]);
    expect(await h.evaluator(batch)).toEqual({ batchItemFailures: [] });
    let ts = await h.transitions();
    expect(ts).toHaveLength(1);
    expect(ts[0]).toMatchObject({
      kind: 'firing',
      ruleId: 'error:credentials',
      ruleName: 'ClientError in etl_daily.load_orders',
      severity: 'high',
      labels: { alertname: 'ClientError', category: 'credentials', service: 'etl_daily', task: 'load_orders', source: 'airflow', team: 'data', run: 'scheduled__2026-11-28T02:00:00+00:00' },
      firedAtMs: T0,
      emittedAtMs: T0 + 10 * MIN,
    });
    expect(ts[0]!.annotations.classification).toContain('rule credentials');
    expect(ts[0]!.fingerprint).toMatch(/^err:[0-9a-f]{16}$/);
    const fp = ts[0]!.fingerprint.slice(4);
    const stored = (await h.errors.getMany([fp])).get(fp)!;
    expect(stored.state).toMatchObject({ status: 'firing', count: 3, lastSeenMs: T0 + 2 * MIN });
    expect(stored.offsets).toEqual({ 'metrics-0': [3, 0] });
    expect(metricSum(h.evalEmf, 'JobEventsIn', { kind: 'error' })).toBe(3);
    expect(metricSum(h.evalEmf, 'ErrorEventsClassified', { severity: 'high', rule: 'credentials' })).toBe(3);
    expect(metricSum(h.evalEmf, 'SamplesEvaluated')).toBe(1);

    // Delivered again (a crash after the commit): nothing counted twice, nothing sent again.
    h.ddbCount.reset();
    await h.evaluator(batch);
    expect((await h.errors.getMany([fp])).get(fp)!.state.count).toBe(3);
    expect(h.ddbCount.counts.get('PutItemCommand') ?? 0).toBe(1); // the sample log's segment only
    expect(uniqueTransitions(await h.transitions())).toHaveLength(1);

    // The task succeeds: found through the by-task index, resolved at the success's time.
    await h.evaluator(mskEvent([{ partition: 0, offset: 4, value: success(5) }]));
    ts = uniqueTransitions(await h.transitions());
    expect(ts.map((t) => t.kind)).toEqual(['firing', 'resolved']);
    expect(ts[1]).toMatchObject({ fingerprint: ts[0]!.fingerprint, firedAtMs: T0, resolvedAtMs: T0 + 5 * MIN, labels: ts[0]!.labels });
    expect(await h.errors.firingOfTasks(['x'])).toEqual([]);
  });

  it('quarantines bad events with the field named, and evaluates the good ones of the same record', async () => {
    const h = await evalHarness(RULES);
    h.clock.set(T0 + 10 * MIN);
    const huge = 'x'.repeat(200_000);
    await h.evaluator(
      mskEvent([
        { partition: 1, offset: 7, value: [failure(0, { task: '' }), failure(1, { try: 'two' }), failure(2, { error: { type: 'ValueError', message: huge, stack: huge } })] },
        { partition: 1, offset: 8, value: failure(3, { timestamp: T0 + 60 * MIN }) },
      ]),
    );
    const rejected = await h.rejected();
    expect(rejected.map((r) => r.reason)).toEqual([expect.stringMatching(/^\[0\]: job event: task:/), expect.stringMatching(/^\[1\]: job event: try:/), expect.stringMatching(/^timestamp: job event: .*in the future/)]);
    // The huge message is cut, never refused: the event fires.
    const [t] = await h.transitions();
    expect(t).toMatchObject({ kind: 'firing', labels: { alertname: 'ValueError' } });
    expect(t!.annotations.description!.length).toBeLessThan(2000);
  });

  it('a write that succeeded but answered throttled fails only its partition; the redelivery applies the events once', async () => {
    const h = await evalHarness(RULES);
    h.clock.set(T0 + 10 * MIN);
    // The state is written, then the call fails (a crash after the commit, as the handler sees it).
    h.ddbFaults.arm({ command: 'PutItemCommand', nth: 1, when: 'after', error: () => new ProvisionedThroughputExceededException({ message: 'injected', $metadata: {} }) });
    const batch = mskEvent([
      { partition: 2, offset: 40, value: failure(0) },
      { partition: 2, offset: 41, value: failure(1) },
    ]);
    const res = await h.evaluator(batch);
    expect(h.ddbFaults.fired()).toBe(true);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'metrics-2', offset: 40 } }]);
    expect(await h.evaluator(batch)).toEqual({ batchItemFailures: [] });
    const ts = uniqueTransitions(await h.transitions());
    expect(ts).toHaveLength(1);
    const fp = ts[0]!.fingerprint.slice(4);
    expect((await h.errors.getMany([fp])).get(fp)!.state.count).toBe(2);
  });

  it('without an errors table the events are quarantined whole, never dropped', async () => {
    const h = await evalHarness(RULES, { events: false });
    h.clock.set(T0 + 10 * MIN);
    await h.evaluator(mskEvent([{ partition: 0, offset: 1, value: failure(0) }]));
    const [r] = await h.rejected();
    expect(r!.reason).toMatch(/no error-events store configured; quarantined to be replayed/);
    expect(r!.raw).toContain('load_orders');
    expect(await h.transitions()).toEqual([]);
  });
});

describe('the timers and a person resolve error alerts', () => {
  it('the quiet period resolves a quiet error at lastSeen + period, once', async () => {
    const h = await evalHarness(RULES, { events: compileEventsConfig({ quiet_period: '30m' }, 'test') });
    h.clock.set(T0 + MIN);
    await h.evaluator(mskEvent([{ partition: 0, offset: 1, value: [failure(0), failure(1)] }]));
    h.clock.set(T0 + 30 * MIN);
    expect((await h.timers()).quietResolved).toBe(0);
    h.clock.set(T0 + 32 * MIN);
    expect((await h.timers()).quietResolved).toBe(1);
    expect((await h.timers()).quietResolved).toBe(0);
    const ts = uniqueTransitions(await h.transitions());
    expect(ts.map((t) => `${t.kind}@${(t.resolvedAtMs ?? t.firedAtMs!) - T0}`)).toEqual(['firing@0', `resolved@${31 * MIN}`]);
    expect(ts[1]!.annotations.resolved_by).toBe('no failure for 30m');
    expect(metricSum(h.timerEmf, 'ErrorAlertsQuietResolved')).toBe(1);
  });

  it('a person resolves (the CLI path): published and stored; a failure after it fires a new activation', async () => {
    const h = await evalHarness(RULES);
    h.clock.set(T0 + MIN);
    await h.evaluator(mskEvent([{ partition: 0, offset: 1, value: failure(0) }]));
    const fp = (await h.transitions())[0]!.fingerprint.slice(4);
    await resolveErrorByPerson({ store: h.errors, publisher: h.deps.publisher }, { quietPeriodMs: 0 }, fp, 'alice', T0 + 5 * MIN);
    await h.evaluator(mskEvent([{ partition: 0, offset: 2, value: failure(9) }]));
    const ts = uniqueTransitions(await h.transitions());
    expect(ts.map((t) => `${t.kind}@${(t.kind === 'resolved' ? t.resolvedAtMs! : t.firedAtMs!) - T0}`)).toEqual(['firing@0', `resolved@${5 * MIN}`, `firing@${9 * MIN}`]);
    expect(ts[1]!.annotations.resolved_by).toBe('alice');
  });
});

describe('into dispatch', () => {
  it('similar failures across tasks and DAGs, through the evaluator, arrive as one summary notification', async () => {
    const h = await evalHarness(RULES);
    h.clock.set(T0 + 10 * MIN);
    const tasks = [
      ['etl_daily', 'load_orders'],
      ['etl_daily', 'load_refunds'],
      ['finance', 'export_ledger'],
      ['finance', 'export_invoices'],
      ['ml', 'score'],
    ];
    await h.evaluator(mskEvent(tasks.map(([service, task], i) => ({ partition: i % 2, offset: i, value: failure(i, { service, task }) }))));
    const ts = uniqueTransitions(await h.transitions());
    expect(ts).toHaveLength(5);

    const clock = new ManualClock(T0 + 10 * MIN);
    const routes = fixedRoutes(compileRoutes({ receivers: [{ name: 'data', slack: { channel: 'C0DATA' } }], routes: [{ matchers: ['source="airflow"'], receivers: ['data'], group_by: ['category'] }] }, 'routes.yaml'));
    const alerts = new InMemoryAlertStore();
    const jobs = new CollectingJobPublisher();
    const groups = new InMemoryGroupStore();
    const scheduler = new CollectingFlushScheduler();
    for (const t of ts) await dispatchTransition({ alerts, jobs, routes, clock, groups, flushes: scheduler }, t, { config: DEFAULT_DISPATCH_CONFIG });
    clock.advance(30_000);
    for (const m of scheduler.takeDue(clock.now())) await flushGroup({ groups, jobs, scheduler, routes, clock, records: new InMemoryMemberRecords(alerts) }, m, { config: { throttleWindows: DEFAULT_DISPATCH_CONFIG.throttleWindows } });
    expect(jobs.published).toHaveLength(1);
    expect(renderSlackMessage(jobs.published[0]!, { productName: 'Klaxon', dashboardUrl: '' }).text).toContain('ClientError in 5 tasks of 3 DAGs');
  });
});
