/**
 * Cardinality and backlog, against DynamoDB Local and fauxqs: a rule that suddenly sees far more
 * series than it should (a request id in a label) is held at its series limit, with a metric, a
 * log line naming the rule and the exploding label, and its known series still evaluated; the
 * timers work through a large due backlog in bounded chunks, committing as they go, and a run that
 * reaches its deadline leaves the rest for the next run instead of committing nothing.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createEvaluatorHandler } from '../../functions/evaluator/app.ts';
import { createTimersHandler } from '../../functions/timers/app.ts';
import { capturedMetrics, evalHarness, metricSum, plumbed } from './eval-helpers/harness.ts';
import { mskEvent, sample } from './eval-helpers/msk.ts';
import { DUE_ROUNDING_MS, QUIET_DELETE_GRACE_MS } from '../../shared/core/sequence/index.ts';

const T0 = 1_795_300_000_000;
const RULES = `
rules:
  - id: latency_high
    metric: http_latency_ms
    condition: '> 500'
    severity: high
    seriesLimit: 5
  - id: cpu_high
    metric: cpu_usage_percent
    condition: '> 80'
    for: 1m
    severity: high
`;

/** A logger whose error lines are kept. */
function capturingLogger(lines: string[]): Logger {
  const logger = new Logger({ serviceName: 'evaluator', logLevel: 'ERROR' });
  (logger as unknown as { console: { error(s: string): void } }).console = { error: (s: string) => void lines.push(s) };
  return logger;
}

describe('series limit per rule', () => {
  it('refuses new series past the limit with a metric and a log naming the rule and label, and keeps evaluating known ones', async () => {
    const h = await evalHarness(RULES, { start: T0 });
    const errors: string[] = [];
    const m = capturedMetrics('evaluator');
    const logger = capturingLogger(errors);
    const evaluator = plumbed(createEvaluatorHandler({ ...h.deps, logger, metrics: m.metrics }), { logger, metrics: m.metrics });
    // Two known series first, one firing.
    await evaluator(mskEvent([0, 1].map((i) => ({ partition: 0, offset: i, value: sample('http_latency_ms', 900, T0, { route: `/r${i}` }) }))));
    // Then a burst of 40 series: a request id in a label.
    const burst = Array.from({ length: 40 }, (_, i) => ({ partition: 1, offset: i, value: sample('http_latency_ms', 900, T0 + 1000, { route: '/r0', request_id: `req-${i}` }) }));
    const res = await evaluator(mskEvent(burst));
    expect(res.batchItemFailures).toEqual([]);
    expect(metricSum(m.emf, 'SeriesLimited')).toBe(37); // 5 - 2 known = 3 admitted of 40
    expect(await h.budget.count('latency_high')).toBe(5);
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0]!).message).toBe('rule latency_high reached its series limit (5): 37 new series refused; label request_id has 37 distinct values among them');
    const firingBefore = (await h.transitions()).filter((t) => t.kind === 'firing').length;
    expect(firingBefore).toBe(5);
    // A known series still resolves; the other rule is not affected by latency_high's limit.
    const after = await evaluator(mskEvent([{ partition: 0, offset: 2, value: sample('http_latency_ms', 100, T0 + 2000, { route: '/r1' }) }, { partition: 2, offset: 0, value: sample('cpu_usage_percent', 99, T0 + 2000, { request_id: 'x' }) }]));
    expect(after.batchItemFailures).toEqual([]);
    const resolved = (await h.transitions()).filter((t) => t.kind === 'resolved');
    expect(resolved.map((t) => t.labels.route)).toEqual(['/r1']);
    expect(await h.budget.count('cpu_high')).toBe(1);
  });

  it('gives series back to the budget when the timers delete them, so new ones are admitted again', async () => {
    const h = await evalHarness(RULES, { start: T0 });
    await h.evaluator(mskEvent(Array.from({ length: 5 }, (_, i) => ({ partition: 0, offset: i, value: sample('http_latency_ms', 10, T0, { route: `/a${i}` }) }))));
    expect(await h.budget.count('latency_high')).toBe(5);
    // Quiet (inactive threshold) series are deleted once stale, after the quiet grace: the budget follows.
    h.clock.set(T0 + 301_000 + QUIET_DELETE_GRACE_MS + DUE_ROUNDING_MS);
    const run = await h.timers();
    expect(run.deleted).toBe(5);
    expect(await h.budget.count('latency_high')).toBe(0);
    const m = capturedMetrics('evaluator');
    const evaluator = plumbed(createEvaluatorHandler({ ...h.deps, metrics: m.metrics }), { logger: h.deps.logger, metrics: m.metrics });
    const later = T0 + 302_000 + QUIET_DELETE_GRACE_MS + DUE_ROUNDING_MS;
    await evaluator(mskEvent([{ partition: 0, offset: 9, timestamp: later, value: sample('http_latency_ms', 10, later, { route: '/b' }) }]));
    expect(metricSum(m.emf, 'SeriesLimited')).toBe(0);
    expect(await h.budget.count('latency_high')).toBe(1);
  });
});

describe('timers backlog', () => {
  it('commits chunk by chunk and leaves what the deadline did not reach for the next run', async () => {
    const h = await evalHarness(RULES, { start: T0 });
    // 25 firing series (for: 1m) that then stop: all due for staleness at the same time.
    const n = 25;
    await h.evaluator(mskEvent(Array.from({ length: n }, (_, i) => ({ partition: 0, offset: i, value: [sample('cpu_usage_percent', 95, T0, { instance: `i${i}` }), sample('cpu_usage_percent', 95, T0 + 60_000, { instance: `i${i}` })] }))));
    expect((await h.transitions()).filter((t) => t.kind === 'firing')).toHaveLength(n);
    // Stale from last + 5 min + 1 ms; the timers apply what happened before their clock.
    h.clock.set(T0 + 60_000 + 300_002);
    // Each chunk advances the clock by 10 s (slow storage); the deadline is 25 s into the run.
    const m = capturedMetrics('timers');
    let chunkReads = 0;
    const states = h.states;
    const timers = plumbed(createTimersHandler({
      ...h.timersDeps,
      metrics: m.metrics,
      chunkSize: 5,
      budgetMs: 25_000,
      states: {
        getMany: async (keys) => {
          chunkReads++;
          h.clock.set(h.clock.now() + 10_000);
          return await states.getMany(keys);
        },
        commit: states.commit.bind(states),
        duePage: states.duePage.bind(states),
        countFiring: states.countFiring.bind(states),
      },
    }), { logger: h.timersDeps.logger, metrics: m.metrics });
    const first = await timers();
    expect(first.backlog).toBe(true);
    expect(first.chunks).toBe(3);
    expect(chunkReads).toBe(3);
    // Three chunks of five before the deadline: 15 resolved and committed, 10 left due.
    expect(first.due).toBe(15);
    expect(first.transitions.filter((t) => t.kind === 'resolved')).toHaveLength(15);
    expect(metricSum(m.emf, 'TimersBacklog')).toBe(1);
    // What was committed stays committed; the next run takes the rest, and only the rest.
    const second = await timers();
    expect(second.backlog).toBe(false);
    expect(second.due).toBe(n - first.due);
    const resolved = (await h.transitions()).filter((t) => t.kind === 'resolved');
    expect(new Set(resolved.map((t) => t.labels.instance)).size).toBe(n);
    expect(resolved).toHaveLength(n);
  });
});

