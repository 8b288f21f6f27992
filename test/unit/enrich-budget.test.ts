import { describe, expect, it } from 'vitest';
import { catalogFromText, type Catalog } from '../../shared/core/enrich/catalog.ts';
import { enrichJob, LogsWaitAllowance, type EnrichConfig, type EnrichDeps } from '../../shared/core/enrich/enrich.ts';
import { checkFollowUp, decideFollowUp, logsNoteJob } from '../../shared/core/enrich/follow-up.ts';
import { InMemoryLogsCache, InMemoryQuerySlots } from '../../shared/core/enrich/in-memory.ts';
import { enrichmentNotes } from '../../shared/core/enrich/types.ts';
import { job, T0, TestClock } from '../integration/deliver-fixtures.ts';
import { FakeLogSource, FakeTimers } from '../support/enrich-fakes.ts';

const CATALOG = catalogFromText(
  `entries:
  - match: { service: checkout }
    owner: Alice
    runbook: https://runbooks.example.com/checkout`,
  'test',
);

const CONFIG: EnrichConfig = {
  budgetMs: { critical: 1000, high: 2000, medium: 3000, low: 3000 },
  linkWindowMs: 900_000,
  links: [{ text: 'Dashboard', url: 'https://grafana.example.com/d/svc?var-service={{labels.service}}&from={{from}}&to={{to}}' }],
  traces: [{ text: 'Traces', url: 'https://xray.example.com/traces?service={{labels.service}}' }],
  logs: { logGroups: ['/app/checkout'], query: 'fields @timestamp, @message | filter service = {{labels.service}}', limit: 5, lookbackMs: 600_000, bucketMs: 300_000, maxInFlight: 2, pollMs: 250, slotLeaseMs: 120_000 },
};

function setup(over: { catalog?: () => Promise<Catalog> } = {}) {
  const clock = new TestClock(T0);
  const timers = new FakeTimers(clock);
  const source = new FakeLogSource(clock);
  const cache = new InMemoryLogsCache();
  const slots = new InMemoryQuerySlots();
  const errors: unknown[] = [];
  const deps: EnrichDeps = {
    config: CONFIG,
    catalog: { current: over.catalog ?? (() => Promise.resolve(CATALOG)) },
    logs: { source, cache, slots, clock, sleep: timers.sleep },
    clock,
    sleep: timers.sleep,
    onError: (_p, err) => errors.push(err),
  };
  return { clock, source, cache, slots, deps, errors };
}

const checkout = (over: Parameters<typeof job>[1] = {}) => job('slack', { ...over, t: { labels: { alertname: 'Errors', service: 'checkout', instance: 'web-1' }, ...over.t } });

describe('enrichment within and past its budget (injected clock, fake log source)', () => {
  it('ready within the budget: the lines are in the enrichment, redacted', async () => {
    const s = setup();
    s.source.runMs = 500; // done after two polls, inside the 1 s critical budget
    s.source.lines = [{ atMs: T0, message: 'ERROR POST https://api.example.com/pay?token=abc123 failed' }];
    const e = await enrichJob(checkout(), s.deps);
    expect(e).toMatchObject({ owner: 'Alice', runbook: { url: 'https://runbooks.example.com/checkout' }, failures: [] });
    expect(e.logs).toEqual({ state: 'ready', lines: [{ atMs: T0, message: 'ERROR POST https://api.example.com/pay?token=*** failed' }] });
    expect(e.links.map((l) => l.url)).toEqual([`https://grafana.example.com/d/svc?var-service=checkout&from=${T0 - 900_000}&to=${T0}`]); // links are built once the catalog answered (at once here)
    expect(e.traces).toHaveLength(1);
    expect(s.clock.now() - T0).toBeLessThanOrEqual(1000);
    expect(s.slots.held.size).toBe(0); // the slot is freed once the query ended
  });

  it.each([
    // critical: 1 s budget, a 1.5 s query is not ready: sent with "logs pending"
    ['critical', 1500, 'pending'],
    // high: 2 s budget, the same query is ready
    ['high', 1500, 'ready'],
    // low: 3 s budget, a 5 s query is not
    ['low', 5000, 'pending'],
  ] as const)('%s alert, %d ms query → %s, and never past the budget', async (severity, runMs, state) => {
    const s = setup();
    s.source.runMs = runMs;
    const e = await enrichJob(checkout({ severity }), s.deps);
    expect(e.logs?.state).toBe(state);
    expect(s.clock.now() - T0).toBeLessThanOrEqual(CONFIG.budgetMs[severity]);
    if (state === 'pending') expect(enrichmentNotes(e)).toEqual(['logs pending']);
  });

  it('pending: the follow-up finds the lines later and makes the thread note', async () => {
    const s = setup();
    s.source.runMs = 10_000;
    const j = checkout();
    const e = await enrichJob(j, s.deps);
    expect(e.logs?.state).toBe('pending');
    const key = (e.logs as { key: string }).key;
    // First look at +1 s: still running → look again
    let logs = await checkFollowUp(s.deps.logs!, CONFIG.logs!, key);
    expect(decideFollowUp(logs, 1, 10, 15)).toEqual({ action: 'again', delaySeconds: 15 });
    s.clock.advance(15_000);
    logs = await checkFollowUp(s.deps.logs!, CONFIG.logs!, key);
    expect(logs.state).toBe('ready');
    expect(decideFollowUp(logs, 2, 10, 15)).toEqual({ action: 'post' });
    // The note job: its own idempotency key; the Slack enricher fills the lines from the cache without a new query
    const note = logsNoteJob(j, key, s.clock.now(), 'Klaxon', false);
    expect(note.idempotencyKey).toBe(`${j.idempotencyKey}:logs`);
    const noteEnrichment = await enrichJob(note, s.deps);
    expect(noteEnrichment.logs).toMatchObject({ state: 'ready' });
    expect(s.source.started).toHaveLength(1);
  });

  it('follow-up attempts are bounded: the last look gives up, and the note says the logs timed out', async () => {
    const s = setup();
    s.source.runMs = 10 * 60_000;
    const j = checkout();
    const key = ((await enrichJob(j, s.deps)).logs as { key: string }).key;
    expect(decideFollowUp(await checkFollowUp(s.deps.logs!, CONFIG.logs!, key), 10, 10, 15)).toEqual({ action: 'give-up' });
    const e = await enrichJob(logsNoteJob(j, key, s.clock.now(), 'Klaxon', true), s.deps);
    expect(enrichmentNotes(e)).toEqual(['logs unavailable: timed out']);
  });

  it.each([
    // LimitExceeded / Throttling from StartQuery
    ['throttle', 'logs unavailable: throttled'],
    // the query ended Failed
    ['fail', 'logs unavailable: query failed'],
    // anything else (AccessDenied): recorded as an error, the detail reported
    ['error', 'logs unavailable: error'],
  ] as const)('failure %s is recorded in the text: %s', async (mode, text) => {
    const s = setup();
    s.source.mode = mode;
    s.source.runMs = 100;
    const e = await enrichJob(checkout(), s.deps);
    expect(enrichmentNotes(e)).toEqual([text]);
    expect(e.failures).toEqual([{ part: 'logs', reason: e.logs?.state === 'unavailable' ? e.logs.reason : 'x' }]);
    expect(s.errors.length).toBe(mode === 'error' ? 1 : 0);
    expect(s.slots.held.size).toBe(0);
  });

  it('a catalog that hangs costs the budget, not more: the notification goes with the failure recorded', async () => {
    const s = setup({ catalog: () => new Promise<Catalog>(() => {}) });
    s.source.runMs = 100;
    const e = await enrichJob(checkout(), s.deps);
    expect(e.owner).toBeUndefined();
    expect(enrichmentNotes(e)).toEqual(['catalog unavailable: timed out']);
    expect(e.logs?.state).toBe('ready');
    expect(s.clock.now() - T0).toBeLessThanOrEqual(1000 + CONFIG.logs!.pollMs);
  });

  it('a catalog that fails is recorded, and the error reported', async () => {
    const s = setup({ catalog: () => Promise.reject(new Error('GetParameter throttled')) });
    const e = await enrichJob(checkout(), s.deps);
    expect(enrichmentNotes(e)).toContain('catalog unavailable: catalog unavailable');
    expect(s.errors).toHaveLength(1);
  });
});

describe('one query per alert and bucket; the in-flight ceiling', () => {
  it('three channels of one alert share one query (cache reuse)', async () => {
    const s = setup();
    s.source.runMs = 200;
    const t = checkout().transition;
    const results = [];
    for (const channel of ['slack', 'email', 'pagerduty'] as const) results.push(await enrichJob(job(channel, { transition: t }), s.deps));
    expect(s.source.started).toHaveLength(1);
    expect(results.map((r) => r.logs?.state)).toEqual(['ready', 'ready', 'ready']);
  });

  it('concurrent channels: one starts the query, the others reuse it', async () => {
    const s = setup();
    s.source.runMs = 200;
    const t = checkout().transition;
    const results = await Promise.all((['slack', 'email', 'pagerduty'] as const).map((c) => enrichJob(job(c, { transition: t }), s.deps)));
    expect(s.source.started).toHaveLength(1);
    expect(results.every((r) => r.logs?.state === 'ready' || r.logs?.state === 'pending')).toBe(true);
  });

  it('a storm: past maxInFlight running queries, the next alert says "query limit reached"', async () => {
    const s = setup();
    s.source.runMs = 60_000;
    const states = [];
    for (let i = 0; i < 3; i++) states.push((await enrichJob(checkout({ t: { fingerprint: `storm-${i}`, labels: { service: 'checkout' } } }), s.deps)).logs);
    expect(states.map((l) => l?.state)).toEqual(['pending', 'pending', 'unavailable']);
    expect(enrichmentNotes({ links: [], traces: [], failures: [], logs: states[2]! })).toEqual(['logs unavailable: query limit reached']);
    expect(s.source.started).toHaveLength(2);
  });

  it.each([
    // resolved: no logs (they are about the start)
    [{ t: { kind: 'resolved' as const, resolvedAtMs: T0 + 1 } }],
    // an acknowledgement update
    [{ ack: { state: 'acknowledged' as const, by: 'a', atMs: T0, source: 'slack' } }],
  ])('no query for %j', async (over) => {
    const s = setup();
    const e = await enrichJob(checkout(over), s.deps);
    expect(e.logs).toBeUndefined();
    expect(s.source.started).toHaveLength(0);
  });

  it('a group job gets the catalog and links of its group labels, no logs', async () => {
    const s = setup();
    const g = checkout({
      group: { id: `group:${'a'.repeat(32)}`, routePath: 'routes[0]', labels: { service: 'checkout' }, reason: 'first-notification', firing: [], resolved: [], firingCount: 2, resolvedCount: 0, changes: { newFiring: 2, newResolved: 0 }, seq: 1 },
    });
    const e = await enrichJob(g, s.deps);
    expect(e.owner).toBe('Alice');
    expect(e.logs).toBeUndefined();
  });
});

describe('a storm stops waiting for logs (LogsWaitAllowance)', () => {
  it.each<[string, [number, number][], number, boolean]>([
    // nothing waited yet
    ['fresh', [], T0, true],
    // 3.9 s waited in the window: one more may wait
    ['under the allowance', [[T0, 2000], [T0 + 1000, 1900]], T0 + 2000, true],
    // 4 s waited within 30 s: the next goes at once
    ['allowance spent', [[T0, 2000], [T0 + 1000, 2000]], T0 + 2000, false],
    // the waits left the window: waiting again
    ['window passed', [[T0, 2000], [T0 + 1000, 2000]], T0 + 31_001, true],
  ])('%s', (_n, waits, now, may) => {
    const a = new LogsWaitAllowance();
    for (const [at, ms] of waits) a.record(at, ms);
    expect(a.mayWait(now)).toBe(may);
  });

  it('without waiting, the query is started and the job goes at once with "logs pending"', async () => {
    const s = setup();
    s.source.runMs = 500;
    const e = await enrichJob(checkout(), s.deps, { waitForLogs: false });
    expect(e.logs?.state).toBe('pending');
    expect(s.source.started).toHaveLength(1);
    expect(s.clock.now() - T0).toBeLessThan(CONFIG.logs!.pollMs);
  });
});
