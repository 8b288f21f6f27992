/**
 * The timers function against DynamoDB Local and fauxqs: absence fires for a stopped heartbeat and
 * for a listed expected series that never reported, a stale firing series resolves, and only the
 * items that are due are read (counted on the client).
 */
import type { BatchGetItemCommandInput } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { evalHarness, metricSum } from './eval-helpers/harness.ts';
import { countRequests } from './eval-helpers/clients.ts';
import { mskEvent, sample } from './eval-helpers/msk.ts';
import { DUE_ROUNDING_MS, QUIET_DELETE_GRACE_MS } from '../../shared/core/sequence/index.ts';

const T0 = 1_795_300_000_000;
const RULES = `
rules:
  - id: heartbeat_missing
    metric: heartbeat
    absent:
      expected: [{ service: billing }, { service: payments }]
    for: 2m
    severity: critical
  - id: cpu_high
    metric: cpu_usage_percent
    condition: '> 80'
    severity: high
`;

describe('timers handler', () => {
  it('fires absence for a stopped heartbeat and a listed series that never reported, reading only due items', async () => {
    const h = await evalHarness(RULES, { start: T0 });
    let keysRead = 0;
    countRequests(h.p.dynamodb, (cmd, input) => {
      if (cmd === 'BatchGetItemCommand') for (const t of Object.values((input as BatchGetItemCommandInput).RequestItems ?? {})) keysRead += t.Keys?.length ?? 0;
    });
    // payments sends one heartbeat at T0, then stops; billing never reports.
    await h.evaluator(mskEvent([{ partition: 0, offset: 1, value: sample('heartbeat', 1, T0, { service: 'payments' }) }]));
    // 30 busy series whose items are due much later (they keep reporting).
    await h.evaluator(mskEvent(Array.from({ length: 30 }, (_, i) => ({ partition: 1, offset: i, value: sample('cpu_usage_percent', 10, T0 + 100_000, { instance: `web-${i}` }) }))));

    h.clock.set(T0);
    keysRead = 0;
    const first = await h.timers();
    expect(first.seeded).toBe(1); // billing: expected, no item yet (payments has one)
    expect(first.transitions).toEqual([]);
    expect(keysRead).toBe(2); // the existence check of the two expected series, once per container

    h.clock.set(T0 + 119_000);
    keysRead = 0;
    const early = await h.timers();
    expect(early).toMatchObject({ seeded: 0, due: 0, transitions: [] });
    expect(keysRead).toBe(0); // nothing due: nothing read

    // absence fires at lastSample + for (T0 + 120 s); the clock applies instants before its time
    h.clock.set(T0 + 120_001);
    keysRead = 0;
    const due = await h.timers();
    expect(due.due).toBe(2);
    expect(keysRead).toBe(2); // the two absence series only, not the 30 others
    expect(due.transitions.map((t) => [t.kind, t.ruleId, t.labels.service, t.atMs]).sort()).toEqual([
      ['firing', 'heartbeat_missing', 'billing', T0 + 120_000],
      ['firing', 'heartbeat_missing', 'payments', T0 + 120_000],
    ]);
    const onQueue = await h.transitions();
    expect(onQueue.map((t) => t.labels.service).sort()).toEqual(['billing', 'payments']);
    expect(metricSum(h.timerEmf, 'Transitions', { kind: 'firing' })).toBe(2);

    // A firing absence alert needs no timer: it leaves the index, and the next run reads nothing.
    h.clock.set(T0 + 121_000);
    keysRead = 0;
    expect((await h.timers()).due).toBe(0);
    expect(keysRead).toBe(0);

    // The heartbeat comes back: the evaluator resolves the alert.
    await h.evaluator(mskEvent([{ partition: 0, offset: 2, value: sample('heartbeat', 1, T0 + 150_000, { service: 'payments' }) }]));
    const all = await h.transitions();
    expect(all.filter((t) => t.kind === 'resolved').map((t) => [t.labels.service, t.atMs])).toEqual([['payments', T0 + 150_000]]);
  });

  it('resolves a firing series that went stale, and deletes inactive stale series', async () => {
    const h = await evalHarness(RULES, { start: T0, staleAfterMs: 300_000 });
    await h.evaluator(
      mskEvent([
        { partition: 0, offset: 1, value: sample('cpu_usage_percent', 95, T0, { instance: 'web-1' }) },
        { partition: 0, offset: 2, value: sample('cpu_usage_percent', 5, T0, { instance: 'web-2' }) },
      ]),
    );
    expect((await h.transitions()).map((t) => t.kind)).toEqual(['firing']);

    // the sample at T0 is in the 5m lookback through T0 + 300 s (inclusive, Prometheus 2.x)
    h.clock.set(T0 + 300_001);
    expect((await h.timers()).transitions).toEqual([]);

    // absent from T0 + 300 s + 1 ms, applied by a clock past that instant
    h.clock.set(T0 + 300_002);
    const run = await h.timers();
    expect(run.transitions.map((t) => [t.kind, t.labels.instance, t.atMs])).toEqual([['resolved', 'web-1', T0 + 300_001]]);
    // web-1, resolved and already stale, is deleted at once; web-2 is quiet (inactive all along,
    // threshold): it is deleted after the quiet grace, not yet.
    expect(run.deleted).toBe(1);
    const all = await h.transitions();
    expect(all.map((t) => t.kind)).toEqual(['firing', 'resolved']);
    expect(all[1]!.fingerprint).toBe(all[0]!.fingerprint);
    // After the grace (due times of inactive series fall on hour boundaries) web-2 is gone too.
    h.clock.set(T0 + 300_002 + QUIET_DELETE_GRACE_MS + DUE_ROUNDING_MS);
    expect((await h.timers()).deleted).toBe(1);
    expect((await h.states.getMany(['cpu_high#cpu_usage_percent{instance="web-1"}', 'cpu_high#cpu_usage_percent{instance="web-2"}'])).size).toBe(0);
  });

  it('leaves a series alone when the evaluator advanced it between read and write', async () => {
    const h = await evalHarness(RULES, { start: T0 });
    await h.evaluator(mskEvent([{ partition: 0, offset: 1, value: sample('cpu_usage_percent', 95, T0, { instance: 'web-1' }) }]));
    await h.transitions();
    h.clock.set(T0 + 300_002);
    // The evaluator writes a fresh sample while the timer is between its read and its write.
    const states = h.deps.states;
    const { createTimersHandler } = await import('../../functions/timers/app.ts');
    const { Logger } = await import('@aws-lambda-powertools/logger');
    const { capturedMetrics } = await import('./eval-helpers/harness.ts');
    const timers = createTimersHandler({
      ...h.deps,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: capturedMetrics('timers').metrics,
      states: {
        getMany: states.getMany.bind(states),
        duePage: states.duePage.bind(states),
        countFiring: h.states.countFiring.bind(h.states),
        commit: async (w) => {
          if (w.some((x) => x.key.includes('web-1'))) await h.evaluator(mskEvent([{ partition: 0, offset: 2, value: sample('cpu_usage_percent', 96, T0 + 290_000, { instance: 'web-1' }) }]));
          return await states.commit(w);
        },
      },
    });
    const run = await timers();
    expect(run.conflicts).toBe(1);
    const item = [...(await states.getMany(['cpu_high#cpu_usage_percent{instance="web-1"}'])).values()][0]!;
    expect(item.state.lastSampleMs).toBe(T0 + 290_000);
    expect(item.state.state).toBe('firing');
  });
});
