/**
 * AlertsFiring against DynamoDB Local and fauxqs: the state store keeps a series in the sparse
 * by-firing index exactly while its alert fires (set and removed in the same conditional write),
 * countFiring() counts that index with one COUNT Query per shard, and each timers run emits the
 * count as `AlertsFiring` (dimension `service` only) and returns it.
 */
import { GetItemCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DUE_SHARDS, FIRING_INDEX, firingShardOf, physicalKey } from '../../shared/adapters/dynamodb/series-state-store.ts';
import { evalHarness } from './eval-helpers/harness.ts';
import { countRequests } from './eval-helpers/clients.ts';
import { mskEvent, sample } from './eval-helpers/msk.ts';

const T0 = 1_795_300_000_000;
const RULES = `
rules:
  - id: heartbeat_missing
    metric: heartbeat
    absent:
      expected: [{ service: billing }]
    for: 2m
    severity: critical
  - id: cpu_high
    metric: cpu_usage_percent
    condition: '> 80'
    severity: high
`;
const cpuKey = (i: number) => `cpu_high#cpu_usage_percent{instance="web-${i}"}`;

/** The AlertsFiring values of captured EMF blobs, with the dimension sets each blob declares. */
function alertsFiring(emf: readonly Record<string, unknown>[]): { value: unknown; dimensions: unknown; service: unknown }[] {
  return emf
    .filter((b) => 'AlertsFiring' in b)
    .map((b) => ({
      value: b.AlertsFiring,
      dimensions: (b._aws as { CloudWatchMetrics: { Dimensions: unknown }[] }).CloudWatchMetrics[0]!.Dimensions,
      service: b.service,
    }));
}

describe('AlertsFiring', () => {
  it('counts the alerts the evaluator and timers made fire, minus those resolved, and emits the count once per run', async () => {
    const h = await evalHarness(RULES, { start: T0, staleAfterMs: 300_000 });
    // Five series fire at T0 (for: 0) ...
    await h.evaluator(mskEvent(Array.from({ length: 5 }, (_, i) => ({ partition: 0, offset: i, value: sample('cpu_usage_percent', 95, T0, { instance: `web-${i}` }) }))));
    // ... two resolve 30 s later; web-2 stays firing with a fresh sample; web-3 and web-4 go quiet.
    await h.evaluator(
      mskEvent([
        { partition: 0, offset: 5, value: sample('cpu_usage_percent', 5, T0 + 30_000, { instance: 'web-0' }) },
        { partition: 0, offset: 6, value: sample('cpu_usage_percent', 5, T0 + 30_000, { instance: 'web-1' }) },
        { partition: 0, offset: 7, value: sample('cpu_usage_percent', 96, T0 + 30_000, { instance: 'web-2' }) },
      ]),
    );
    const kinds = (await h.transitions()).map((t) => t.kind);
    expect(kinds.filter((k) => k === 'firing')).toHaveLength(5);
    expect(kinds.filter((k) => k === 'resolved')).toHaveLength(2);
    expect(await h.states.countFiring()).toBe(3);

    // The index attribute follows the alert state: present on a firing item, gone from a resolved one.
    const raw = async (key: string) =>
      (await h.p.dynamodb.send(new GetItemCommand({ TableName: h.p.tables.state, Key: { pk: { S: physicalKey(key) } } }))).Item;
    expect((await raw(cpuKey(2)))?.firingShard?.S).toBe(firingShardOf(physicalKey(cpuKey(2))));
    const resolved = await raw(cpuKey(0));
    expect(resolved?.pk).toEqual({ S: physicalKey(cpuKey(0)) }); // the series is still tracked (inactive) ...
    expect(resolved?.firingShard).toBeUndefined(); // ... but no longer in the by-firing index

    // A timers run: 3 firing, one blob with only the `service` dimension, and in the result.
    h.clock.set(T0 + 60_000);
    let queries: QueryCommandInput[] = [];
    countRequests(h.p.dynamodb, (cmd, input) => {
      if (cmd === 'QueryCommand' && (input as QueryCommandInput).IndexName === FIRING_INDEX) queries.push(input as QueryCommandInput);
    });
    h.timerEmf.length = 0;
    const first = await h.timers();
    expect(first.firing).toBe(3);
    expect(alertsFiring(h.timerEmf)).toEqual([{ value: 3, dimensions: [['service']], service: 'timers' }]);
    // One COUNT query per shard: the index is counted, no item is read.
    expect(queries).toHaveLength(DUE_SHARDS);
    expect(queries.every((q) => q.Select === 'COUNT')).toBe(true);

    // The timers make billing's absence alert fire (seeded at T0 + 60 s, for: 2m): 4 firing.
    // (The clock applies the instants before its time: T0 + 180 s is applied from T0 + 180 s + 1 ms.)
    h.clock.set(T0 + 180_001);
    h.timerEmf.length = 0;
    const absence = await h.timers();
    expect(absence.transitions.map((t) => [t.kind, t.ruleId])).toEqual([['firing', 'heartbeat_missing']]);
    expect(absence.firing).toBe(4);
    expect(alertsFiring(h.timerEmf).map((b) => b.value)).toEqual([4]);

    // Staleness: the timers resolve web-3 and web-4 (no sample since T0) and web-2 (since T0 + 30 s,
    // in the 5 min lookback through T0 + 330 s, absent from 1 ms later).
    h.clock.set(T0 + 330_002);
    h.timerEmf.length = 0;
    queries = [];
    const stale = await h.timers();
    expect(stale.transitions.filter((t) => t.kind === 'resolved').map((t) => t.labels.instance).sort()).toEqual(['web-2', 'web-3', 'web-4']);
    expect(stale.firing).toBe(1);
    expect(await h.states.countFiring()).toBe(1);
    expect(alertsFiring(h.timerEmf).map((b) => b.value)).toEqual([1]);
    for (const i of [2, 3, 4]) expect((await raw(cpuKey(i)))?.firingShard).toBeUndefined();
  });

  it('emits no AlertsFiring, and still completes the run, when the count fails', async () => {
    const h = await evalHarness(RULES, { start: T0 });
    await h.evaluator(mskEvent([{ partition: 0, offset: 1, value: sample('cpu_usage_percent', 95, T0, { instance: 'web-1' }) }]));
    h.ddbFaults.arm({
      command: 'QueryCommand',
      nth: 9, // the 8 by-due queries pass; the first by-firing query fails
      when: 'before',
      error: () => Object.assign(new Error('index not ready'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }),
    });
    h.timerEmf.length = 0;
    const run = await h.timers();
    expect(h.ddbFaults.fired()).toBe(true);
    expect(run.firing).toBeUndefined();
    expect(alertsFiring(h.timerEmf)).toEqual([]);
    expect(run.seeded).toBe(1); // the rest of the run happened
  });
});
