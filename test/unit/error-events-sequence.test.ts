/**
 * The error-events sequence (shared/core/events/sequence.ts) on in-memory ports: batches of job
 * events become error-alert transitions, once; redelivery, conflicts, the quiet-period sweep, a
 * person's resolution; and the whole path into dispatch's grouping, where similar failures across
 * tasks and DAGs arrive as one summary notification.
 */
import { describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../shared/core/model/index.ts';
import {
  applyJobEvents,
  ErrorStateConflictError,
  InMemoryErrorAlertStore,
  quietDueAtOf,
  resolveErrorByPerson,
  resolveQuietErrors,
  ResolveRefusedError,
  taskKeyOf,
  type ErrorAlertWrite,
  type SourcedEvent,
} from '../../shared/core/events/sequence.ts';
import { compileEventsConfig, DEFAULT_EVENTS_CONFIG, EventsConfigError, eventsConfigFromText } from '../../shared/core/events/config.ts';
import type { ErrorEvent, SuccessEvent } from '../../shared/core/events/types.ts';
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
  type DispatchPorts,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import { renderSlackMessage } from '../../shared/core/format/slack.ts';

const T0 = Date.UTC(2026, 10, 30, 2, 0, 0);
const MIN = 60_000;

function failure(min: number, over: Partial<ErrorEvent> = {}): ErrorEvent {
  return {
    kind: 'error',
    source: 'airflow',
    service: 'etl_daily',
    task: 'load_orders',
    run: 'scheduled__2026-11-30T02:00:00+00:00',
    try: 3,
    maxTries: 3,
    final: true,
    error: { type: 'botocore.exceptions.ClientError', message: `An error occurred (AccessDenied) when calling the GetObject operation: Access Denied (request id ${4711 + min})` },
    tags: { team: 'data' },
    timestampMs: T0 + min * MIN,
    ...over,
  };
}
function success(min: number, over: Partial<SuccessEvent> = {}): SuccessEvent {
  return { kind: 'success', source: 'airflow', service: 'etl_daily', task: 'load_orders', tags: {}, timestampMs: T0 + min * MIN, ...over };
}

class Collecting {
  readonly published: AlertTransition[] = [];
  publish(ts: readonly AlertTransition[]): Promise<void> {
    this.published.push(...ts);
    return Promise.resolve();
  }
}

function world(config = DEFAULT_EVENTS_CONFIG) {
  const store = new InMemoryErrorAlertStore();
  const publisher = new Collecting();
  const run = (events: readonly SourcedEvent[], nowMs = T0) => applyJobEvents({ store, publisher }, config, events, { nowMs });
  return { store, publisher, run, config };
}

const at = (event: ErrorEvent | SuccessEvent, offset?: number, partition = 'metrics-0'): SourcedEvent => ({ event, ...(offset !== undefined ? { partition, offset } : {}) });

describe('a batch of job events', () => {
  it('fires once per error, counts the occurrences, and resolves on the task\'s success', async () => {
    const w = world();
    const r1 = await w.run([at(failure(0), 1), at(failure(5), 2), at(failure(9), 3)]);
    expect(r1.classified.map((c) => `${c.decision.rule}/${c.decision.severity}`)).toEqual(['credentials/high', 'credentials/high', 'credentials/high']);
    // One fingerprint: the request ids are normalised away.
    expect(new Set(r1.classified.map((c) => c.id.fingerprint)).size).toBe(1);
    expect(r1.changes.map((c) => c.reason)).toEqual(['new-activation', 'occurrence', 'occurrence']);
    expect(w.publisher.published.map((t) => t.kind)).toEqual(['firing']);
    const [item] = [...w.store.items.values()];
    expect(item!.state).toMatchObject({ status: 'firing', count: 3, lastSeenMs: T0 + 9 * MIN });
    expect(item!.offsets).toEqual({ 'metrics-0': [3, 0] });
    // One write for the three events (applied in memory, written once).
    expect(w.store.calls.commit).toBe(1);

    const r2 = await w.run([at(success(12), 4)]);
    expect(r2.changes.map((c) => c.reason)).toEqual(['resolved-by-success']);
    const resolved = w.publisher.published[1]!;
    expect(resolved).toMatchObject({ kind: 'resolved', fingerprint: w.publisher.published[0]!.fingerprint, firedAtMs: T0, resolvedAtMs: T0 + 12 * MIN });
    expect(resolved.annotations.occurrences).toContain('3 since');
  });

  it('a batch delivered again changes nothing: no count doubled, no transition again', async () => {
    const w = world();
    const batch = [at(failure(0), 10), at(failure(1), 11)];
    await w.run(batch);
    const again = await w.run(batch);
    expect(again.changes.map((c) => c.reason)).toEqual(['duplicate', 'duplicate']);
    expect([...w.store.items.values()][0]!.state.count).toBe(2);
    expect(w.publisher.published).toHaveLength(1);
    // A success delivered again after it resolved finds nothing firing: no second resolution.
    await w.run([at(success(5), 12)]);
    await w.run([at(success(5), 12)]);
    expect(w.publisher.published.map((t) => t.kind)).toEqual(['firing', 'resolved']);
  });

  it('several events of one record are each applied once (their place in the record)', async () => {
    const w = world();
    const record = [0, 1, 2].map((i) => ({ event: failure(i), partition: 'metrics-0', offset: 5, index: i }));
    await w.run(record);
    await w.run(record);
    expect([...w.store.items.values()][0]!.state.count).toBe(3);
    expect([...w.store.items.values()][0]!.offsets).toEqual({ 'metrics-0': [5, 2] });
  });

  it('a replay (no coordinates) is applied as it comes', async () => {
    const w = world();
    await w.run([at(failure(0)), at(failure(1))]);
    expect([...w.store.items.values()][0]!.state.count).toBe(2);
  });

  it.each<[string, Partial<SuccessEvent>, number]>([
    ['a success of the task resolves', {}, 1],
    ['a success of another task does not', { task: 'export_orders' }, 0],
    ['a success of the same task in another DAG does not', { service: 'etl_hourly' }, 0],
  ])('%s', async (_what, over, resolutions) => {
    const w = world();
    await w.run([at(failure(0), 1)]);
    const r = await w.run([at(success(3, over), 2)]);
    expect(w.publisher.published.filter((t) => t.kind === 'resolved')).toHaveLength(resolutions);
    expect(r.successesWithoutAlert).toBe(1 - resolutions);
  });

  it('a success resolves every firing error of its task (two kinds of failure), and only those', async () => {
    const w = world();
    await w.run([at(failure(0), 1), at(failure(1, { error: { type: 'MemoryError', message: '' } }), 2), at(failure(2, { task: 'other' }), 3)]);
    expect(w.publisher.published.filter((t) => t.kind === 'firing')).toHaveLength(3);
    await w.run([at(success(5), 4)]);
    expect(w.publisher.published.filter((t) => t.kind === 'resolved').map((t) => t.labels.alertname).sort()).toEqual(['ClientError', 'MemoryError']);
  });

  it('a failure and the success in one batch, in order: fires then resolves', async () => {
    const w = world();
    await w.run([at(failure(0), 1), at(success(2), 2)]);
    expect(w.publisher.published.map((t) => t.kind)).toEqual(['firing', 'resolved']);
    expect([...w.store.items.values()][0]!.state.status).toBe('resolved');
  });

  it('a retry is low and a final failure of a tier-1 task critical (the built-in set): the activation fires again at the worse severity', async () => {
    const w = world();
    await w.run([at(failure(0, { try: 1, final: false, tags: { tier: '1' } }), 1), at(failure(5, { try: 3, final: true, tags: { tier: '1' } }), 2)]);
    expect(w.publisher.published.map((t) => `${t.kind}:${t.severity}`)).toEqual(['firing:low', 'firing:critical']);
  });

  it('a suppressed classification records the failure and notifies no one', async () => {
    const config = compileEventsConfig({ rules: [{ name: 'ignore-dev', when: { tags: { env: 'dev' } }, then: { severity: 'low', reason: 'dev', suppress: true } }, { name: 'default', then: { severity: 'high', reason: 'failed' } }] }, 'test');
    const w = world(config);
    const r = await w.run([at(failure(0, { tags: { env: 'dev' } }), 1)]);
    expect(r.changes.map((c) => c.reason)).toEqual(['suppressed']);
    expect(w.publisher.published).toEqual([]);
    expect(w.store.items.size).toBe(1);
  });

  it('keeps the quiet due time in the store while firing, none once resolved', async () => {
    const w = world();
    await w.run([at(failure(0), 1)]);
    expect([...w.store.items.values()][0]!.quietDueAtMs).toBe(T0 + DEFAULT_EVENTS_CONFIG.quietPeriodMs);
    await w.run([at(success(1), 2)]);
    expect([...w.store.items.values()][0]!.quietDueAtMs).toBeUndefined();
  });
});

describe('another writer first (conflicts)', () => {
  /** A store where another invocation writes the same error just before this one's first commit. */
  function racing(other: () => Promise<void>) {
    const w = world();
    const commit = w.store.commit.bind(w.store);
    let raced = false;
    w.store.commit = async (writes: readonly ErrorAlertWrite[]) => {
      if (!raced) {
        raced = true;
        await other();
      }
      return commit(writes);
    };
    return w;
  }

  it('applies its events again on the state the other wrote: counted once each, the later published firing kept', async () => {
    const ref: { w?: ReturnType<typeof racing> } = {};
    const w = racing(async () => {
      // The other invocation (another partition) saw a failure of the same error at +1 min.
      await applyJobEvents({ store: ref.w!.store, publisher: ref.w!.publisher }, DEFAULT_EVENTS_CONFIG, [at(failure(1), 7, 'metrics-1')], { nowMs: T0 });
    });
    ref.w = w;
    const r = await w.run([at(failure(3), 1)]);
    expect(r.rounds).toBe(1);
    const item = [...w.store.items.values()][0]!;
    expect(item.state.count).toBe(2);
    expect(item.offsets).toEqual({ 'metrics-0': [1, 0], 'metrics-1': [7, 0] });
    // Both firings went out (this one's at +3 in the lost round); dispatch keeps the later one,
    // and so does the state, so that the resolution matches dispatch's record.
    const firings = w.publisher.published.filter((t) => t.kind === 'firing').map((t) => t.firedAtMs);
    expect(firings.sort()).toEqual([T0 + MIN, T0 + 3 * MIN]);
    expect(item.state.notified!.firedAtMs).toBe(T0 + 3 * MIN);
    await w.run([at(success(9), 2)]);
    expect(w.publisher.published.at(-1)).toMatchObject({ kind: 'resolved', firedAtMs: T0 + 3 * MIN });
  });

  it('gives up after its rounds with a transient error (the batch comes again)', async () => {
    const w = world();
    w.store.commit = (writes) => Promise.resolve({ conflicts: writes.map((x) => x.fingerprint) });
    await expect(w.run([at(failure(0), 1)])).rejects.toBeInstanceOf(ErrorStateConflictError);
  });
});

describe('the quiet period (the timers sweep)', () => {
  it('resolves at lastSeen + quiet period, with the same transition id on every run that finds it due', async () => {
    const w = world();
    await w.run([at(failure(0), 1), at(failure(10), 2)]);
    const due = T0 + 10 * MIN + DEFAULT_EVENTS_CONFIG.quietPeriodMs;
    expect(await resolveQuietErrors({ store: w.store, publisher: w.publisher }, w.config, { nowMs: due - 1 })).toMatchObject({ due: 0, resolved: 0 });
    const q = await resolveQuietErrors({ store: w.store, publisher: w.publisher }, w.config, { nowMs: due + 5 * MIN });
    expect(q).toMatchObject({ due: 1, resolved: 1 });
    expect(q.transitions[0]).toMatchObject({ kind: 'resolved', resolvedAtMs: due });
    expect(q.transitions[0]!.annotations.resolved_by).toBe('no failure for 1d');
    expect([...w.store.items.values()][0]!.quietDueAtMs).toBeUndefined();
  });

  it('a quiet period lengthened since the write: not resolved, written back with its new due time', async () => {
    const w = world(compileEventsConfig({ quiet_period: '1h' }, 'short'));
    await w.run([at(failure(0), 1)]);
    const longer = compileEventsConfig({ quiet_period: '3h' }, 'long');
    const q = await resolveQuietErrors({ store: w.store, publisher: w.publisher }, longer, { nowMs: T0 + 2 * 60 * MIN });
    expect(q.resolved).toBe(0);
    expect([...w.store.items.values()][0]!.quietDueAtMs).toBe(T0 + 3 * 60 * MIN);
  });

  it('quiet_period 0: never resolved by silence, never in the due index', async () => {
    const w = world(compileEventsConfig({ quiet_period: 0 }, 'never'));
    await w.run([at(failure(0), 1)]);
    expect([...w.store.items.values()][0]!.quietDueAtMs).toBeUndefined();
    expect(quietDueAtOf([...w.store.items.values()][0]!.state, 0)).toBeUndefined();
  });
});

describe('a person resolves', () => {
  it('resolves a firing error alert with who and when, once', async () => {
    const w = world();
    await w.run([at(failure(0), 1)]);
    const fp = [...w.store.items.keys()][0]!;
    const r = await resolveErrorByPerson({ store: w.store, publisher: w.publisher }, w.config, fp, 'alice', T0 + 30 * MIN);
    expect(r.transition).toMatchObject({ kind: 'resolved', resolvedAtMs: T0 + 30 * MIN, annotations: expect.objectContaining({ resolved_by: 'alice' }) });
    expect(r.state.resolvedBy).toBe('person:alice');
    await expect(resolveErrorByPerson({ store: w.store, publisher: w.publisher }, w.config, fp, 'bob', T0 + 31 * MIN)).rejects.toThrow(/not firing/);
  });

  it.each<[string, string, string, RegExp]>([
    ['an unknown fingerprint', 'ffffffffffffffff', 'alice', /no error alert with fingerprint ffffffffffffffff/],
    ['no name', '', '  ', /must name who/],
  ])('refuses %s', async (_what, fpIn, who, message) => {
    const w = world();
    await w.run([at(failure(0), 1)]);
    const fp = fpIn || [...w.store.items.keys()][0]!;
    const err = await resolveErrorByPerson({ store: w.store, publisher: w.publisher }, w.config, fp, who, T0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolveRefusedError);
    expect((err as Error).message).toMatch(message);
  });
});

describe('the events configuration', () => {
  it.each<[string, string, RegExp]>([
    ['an unknown key', 'quiet: 1h', /quiet: unknown key/],
    ['a bad quiet period', 'quiet_period: soon', /quiet_period: invalid duration "soon"/],
    ['a bad fingerprint rule', 'fingerprints: [{ name: x, match: { message: "(" }, fingerprint: [a] }]', /fingerprints\[0\]\.match\.message: invalid regular expression/],
    ['a bad classification rule', 'rules: [{ name: x, when: { message: "(" }, then: { severity: high, reason: r } }, { name: d, then: { severity: high, reason: r } }]', /rules\[0\]\.when\.message/],
    ['labels without rules', 'labels: { team: x }', /rules: required when labels/],
    ['not YAML', 'rules: [', /not valid YAML/],
  ])('refuses %s, naming it', (_what, text, message) => {
    const err = (() => {
      try {
        eventsConfigFromText(text, 'events.yaml');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EventsConfigError);
    expect((err as Error).message).toContain('events.yaml');
    expect((err as Error).message).toMatch(message);
  });

  it('an empty document is the built-in configuration', () => {
    const c = eventsConfigFromText('# nothing\n', 'empty');
    expect(c.classification).toBe(DEFAULT_EVENTS_CONFIG.classification);
    expect(c.quietPeriodMs).toBe(DEFAULT_EVENTS_CONFIG.quietPeriodMs);
  });
});

describe('into dispatch: similar failures across tasks and DAGs are one summary notification', () => {
  const ROUTES = compileRoutes(
    {
      receivers: [{ name: 'data', slack: { channel: 'C0DATA' } }],
      routes: [{ matchers: ['source="airflow"'], receivers: ['data'], group_by: ['category', 'alertname'], group_wait: '30s', group_interval: '2m' }],
    },
    'routes.yaml',
  );

  it('S3 AccessDenied in 7 tasks of 3 DAGs: one Slack message, resolved when they all succeed', async () => {
    const w = world();
    const clock = new ManualClock(T0);
    const alerts = new InMemoryAlertStore();
    const jobs = new CollectingJobPublisher();
    const groups = new InMemoryGroupStore();
    const scheduler = new CollectingFlushScheduler();
    const routes = fixedRoutes(ROUTES);
    const ports: DispatchPorts = { alerts, jobs, routes, clock, groups, flushes: scheduler };
    const records = new InMemoryMemberRecords(alerts);
    const dispatchAll = async (from: number) => {
      for (const t of w.publisher.published.slice(from)) await dispatchTransition(ports, t, { config: DEFAULT_DISPATCH_CONFIG });
    };
    const flushDue = async () => {
      for (const m of scheduler.takeDue(clock.now())) await flushGroup({ groups, jobs, scheduler, routes, clock, records }, m, { config: { throttleWindows: DEFAULT_DISPATCH_CONFIG.throttleWindows } });
    };

    const tasks = [
      ['etl_daily', 'load_orders'],
      ['etl_daily', 'load_customers'],
      ['etl_daily', 'load_refunds'],
      ['finance_dag', 'export_ledger'],
      ['finance_dag', 'export_invoices'],
      ['ml_features', 'build_features'],
      ['ml_features', 'score'],
    ] as const;
    // Each fails twice (different request ids): 14 failures, 7 alerts.
    const events = tasks.flatMap(([service, task], i) => [at(failure(i, { service, task }), i * 2), at(failure(i + 1, { service, task }), i * 2 + 1)]);
    await w.run(events);
    expect(w.publisher.published).toHaveLength(7);
    await dispatchAll(0);
    clock.advance(30_000);
    await flushDue();
    expect(jobs.published).toHaveLength(1);
    const job = jobs.published[0]!;
    expect(job.group).toMatchObject({ firingCount: 7, labels: { category: 'credentials', alertname: 'ClientError' } });
    const msg = renderSlackMessage(job, { productName: 'Klaxon', dashboardUrl: '' });
    expect(msg.text).toContain('ClientError in 7 tasks of 3 DAGs');
    expect(msg.text).toContain('category=credentials');

    // They all succeed: one resolution message for the group.
    const before = w.publisher.published.length;
    await w.run(tasks.map(([service, task], i) => at(success(20, { service, task }), 100 + i)));
    expect(w.publisher.published.slice(before).every((t) => t.kind === 'resolved')).toBe(true);
    await dispatchAll(before);
    clock.advance(2 * MIN);
    await flushDue();
    expect(jobs.published).toHaveLength(2);
    expect(jobs.published[1]!.group).toMatchObject({ firingCount: 0, resolvedCount: 7 });
  });

  it('group_by [service, run]: the failures of one DAG run are one notification (correlation)', async () => {
    const w = world();
    const byRun = compileRoutes({ receivers: [{ name: 'data', slack: { channel: 'C0DATA' } }], routes: [{ matchers: ['source="airflow"'], receivers: ['data'], group_by: ['service', 'run'] }] }, 'routes.yaml');
    const clock = new ManualClock(T0);
    const alerts = new InMemoryAlertStore();
    const jobs = new CollectingJobPublisher();
    const groups = new InMemoryGroupStore();
    const scheduler = new CollectingFlushScheduler();
    const routes = fixedRoutes(byRun);
    const ports: DispatchPorts = { alerts, jobs, routes, clock, groups, flushes: scheduler };
    const run = (n: number) => `scheduled__2026-11-3${n}T02:00:00+00:00`;
    await w.run([
      at(failure(0, { task: 'a', run: run(0) }), 1),
      at(failure(0, { task: 'b', run: run(0), error: { type: 'MemoryError', message: '' } }), 2),
      at(failure(0, { task: 'c', run: run(1) }), 3),
    ]);
    for (const t of w.publisher.published) await dispatchTransition(ports, t, { config: DEFAULT_DISPATCH_CONFIG });
    expect(groups.all().map((g) => `${g.labels.run}:${Object.keys(g.members).length}`).sort()).toEqual([`${run(0)}:2`, `${run(1)}:1`]);
  });
});

describe('task keys', () => {
  it('differ when any part differs, and cannot be imitated by moving a separator', () => {
    const a = taskKeyOf({ source: 'airflow', service: 'a/b', task: 'c' });
    const b = taskKeyOf({ source: 'airflow', service: 'a', task: 'b/c' });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });
});
