/**
 * Fault injection: every AWS call of the evaluator's flow fails in turn (throttled before it is
 * sent, or the function "dies" right after it succeeded), the batch is redelivered as Lambda would,
 * and the transitions on the alert-events queue, deduplicated by transition id (FIFO dedup and
 * downstream idempotency), must equal those of a fault-free run: none lost, none changed.
 *
 * The faults come from a client middleware: DynamoDB Local and fauxqs cannot be made to throttle
 * or to lose a response on demand. Each run uses its own `run` label so runs share the emulators'
 * tables and queue without seeing each other's series; the label is removed before comparing.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../shared/core/model/index.ts';
import { evalHarness, uniqueTransitions } from './eval-helpers/harness.ts';
import { deliverUntilDone, mskEvent, sample } from './eval-helpers/msk.ts';
import { throttlingError } from './eval-helpers/clients.ts';

const T0 = 1_795_300_000_000;
const RULES = `
rules:
  - id: cpu_high
    metric: cpu_usage_percent
    condition: '> 80'
    for: 1m
    severity: high
  - id: cpu_avg
    metric: cpu_usage_percent
    aggregate: { fn: avg, window: 2m }
    condition: '> 50'
    severity: medium
`;

function batches(run: string) {
  const s = (instance: string, v: number, t: number) => sample('cpu_usage_percent', v, T0 + t, { instance, run });
  return [
    mskEvent([
      { partition: 0, offset: 10, value: s('web-1', 90, 0) },
      { partition: 0, offset: 11, raw: `not json ${run}` },
      { partition: 1, offset: 20, value: s('web-2', 10, 0) },
    ]),
    mskEvent([
      { partition: 0, offset: 12, value: s('web-1', 92, 60_000) },
      { partition: 1, offset: 21, value: [s('web-2', 95, 60_000), s('web-2', 96, 90_000)] },
    ]),
    mskEvent([
      { partition: 0, offset: 13, value: s('web-1', 5, 120_000) },
      { partition: 1, offset: 22, value: s('web-2', 97, 150_000) },
      { partition: 1, offset: 23, raw: '[1,2' },
    ]),
  ];
}

/** A fault on the k-th AWS call of a run, counted across both clients. */
function injectGlobalFault(clients: (DynamoDBClient | SQSClient)[]) {
  let plan: { k: number; when: 'before' | 'after'; error: () => Error } | undefined;
  let calls = 0;
  const names: string[] = [];
  for (const c of clients) {
    (c.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
      (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
        const k = ++calls;
        names.push(ctx.commandName ?? '?');
        if (plan?.k === k && plan.when === 'before') throw plan.error();
        const out = await next(args);
        if (plan?.k === k && plan.when === 'after') throw plan.error();
        return out;
      },
      { step: 'initialize', name: `global-fault-${Math.random()}` },
    );
  }
  return {
    arm(p: typeof plan) {
      plan = p;
      calls = 0;
      names.length = 0;
    },
    calls: () => calls,
    names: () => [...names],
  };
}

function normalise(ts: readonly AlertTransition[], run: string): string[] {
  return uniqueTransitions(ts.filter((t) => t.labels.run === run))
    .map((t) => {
      const { run: _r, ...labels } = t.labels;
      return JSON.stringify({ kind: t.kind, ruleId: t.ruleId, labels, atMs: t.atMs, activeAtMs: t.activeAtMs, firedAtMs: t.firedAtMs, value: t.value });
    })
    .sort();
}

describe.each(['stored', 'derived'] as const)('fault injection: every AWS call of the evaluator fails in turn (%s windows)', (windows) => {
  let h: Awaited<ReturnType<typeof evalHarness>>;
  let faults: ReturnType<typeof injectGlobalFault>;
  let expected: string[];
  let callNames: string[];
  const all: AlertTransition[] = [];

  async function run(name: string): Promise<string[]> {
    for (const b of batches(name)) await deliverUntilDone(h.evaluator, b);
    all.push(...(await h.transitions()).splice(0));
    return normalise(all, name);
  }

  beforeAll(async () => {
    h = await evalHarness(RULES, { windows });
    faults = injectGlobalFault([h.p.dynamodb, h.p.sqs]);
    faults.arm(undefined);
    expected = await run('clean');
    callNames = faults.names();
  });

  it('has a fault-free reference with firing and resolved transitions of both rules', () => {
    expect(expected.length).toBeGreaterThanOrEqual(4);
    expect(expected.some((t) => t.includes('"resolved"'))).toBe(true);
    // UpdateItem: the series budget reserved for the new series of the first batch. Derived
    // windows: PutItem also appends the sample log, and Query reads it back (a first batch).
    expect(new Set(callNames)).toEqual(new Set(['SendMessageBatchCommand', 'BatchGetItemCommand', 'UpdateItemCommand', 'PutItemCommand', ...(windows === 'derived' ? ['QueryCommand'] : [])]));
  });

  it('delivers the same transitions whichever call fails, before it is sent or after it succeeded', async () => {
    const cases: { k: number; when: 'before' | 'after'; kind: string }[] = [];
    for (let k = 1; k <= callNames.length; k++) {
      cases.push({ k, when: 'before', kind: 'throttled' }, { k, when: 'after', kind: 'crash' });
    }
    for (const c of cases) {
      const name = `k${c.k}-${c.when}`;
      faults.arm({ k: c.k, when: c.when, error: c.kind === 'crash' ? () => new Error('function died') : throttlingError });
      const got = await run(name);
      expect(got, `fault on call ${c.k} (${callNames[c.k - 1]}) ${c.when}`).toEqual(expected);
      expect(faults.calls()).toBeGreaterThan(callNames.length - 1); // the fault cost at least a redelivery
    }
    // Crashes after a reservation leave the budget counted high, never low: every series is counted.
    expect(await h.budget.count('cpu_high')).toBeGreaterThanOrEqual(2 * (cases.length + 1));
    // Every transition id was delivered with a single content (no two versions of one id).
    const byId = new Map<string, string>();
    for (const t of all) {
      const body = JSON.stringify({ ...t, emittedAtMs: 0 });
      expect(byId.get(t.transitionId) ?? body).toBe(body);
      byId.set(t.transitionId, body);
    }
  }, 180_000);
});
