/**
 * Backtest (shared/core/backtest, `klaxon rules backtest`): recorded samples through the real
 * evaluation and dispatch on in-memory ports with a virtual clock. Every expectation is computed
 * by hand from the samples, the rule and the routes (arithmetic in the comments); the routes send
 * everything to one receiver with a Slack channel only, so every notification is a Slack one.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Backtest, type BacktestReport, type RuleBacktest } from '../../shared/core/backtest/index.ts';
import { parseRules } from '../../shared/core/rules/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { Silence } from '../../shared/core/dispatch/silence/silence.ts';
import type { MetricSample } from '../../shared/core/model/index.ts';
import { run } from '../../cli/backtest.ts';
import { run as runRules } from '../../cli/rules.ts';
import { captureIo } from '../support/cli-io.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.UTC(2026, 10, 21, 0, 0, 0);

const ROUTES_DOC = {
  receiver: 'ops',
  receivers: [{ name: 'ops', slack: { channel: 'C0OPS' } }],
  routes: [{ matchers: ['team="grouped"'], receivers: ['ops'], group_by: ['team'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' }],
};
const ROUTES = compileRoutes(ROUTES_DOC, 'routes.yaml');

/** A rule `<id>` on metric `<id>`: fires above 90; `extra` adds YAML lines (for:, clearCondition:). */
function ruleYaml(id: string, opts: { extra?: string; severity?: string; team?: string } = {}): string {
  return [`  - id: ${id}`, `    metric: ${id}`, `    condition: '> 90'`, `    severity: ${opts.severity ?? 'critical'}`, `    labels: { team: ${opts.team ?? 'solo'} }`, ...(opts.extra ? [`    ${opts.extra}`] : [])].join('\n');
}
const rules = (...ys: string[]) => parseRules(`rules:\n${ys.join('\n')}\n`, 'rules.yaml');

const sample = (metric: string, min: number, value: number, instance = 'web-1'): MetricSample => ({ name: metric, value, timestampMs: T0 + min * M, labels: { instance } });
/** Alternates 95 (firing) and 85 at minutes 0..9: 95 at even minutes. */
const flapping = (metric = 'cpu'): MetricSample[][] => Array.from({ length: 10 }, (_, i) => [sample(metric, i, i % 2 === 0 ? 95 : 85)]);
/** Instances web-1..3 above 90 at minutes 0..9, back to 50 at minute 10. */
const threeInstances = (metric = 'cpu'): MetricSample[][] => Array.from({ length: 11 }, (_, i) => [1, 2, 3].map((n) => sample(metric, i, i < 10 ? 95 : 50, `web-${n}`)));

async function backtest(rs: ReturnType<typeof rules>, batches: MetricSample[][], opts: { silences?: Silence[]; untilMs?: number; flapWindowMs?: number } = {}): Promise<BacktestReport> {
  const b = new Backtest(rs, ROUTES, opts.silences ?? [], opts.flapWindowMs !== undefined ? { flapWindowMs: opts.flapWindowMs } : {});
  for (const batch of batches) await b.ingestBatch(batch);
  return b.run(opts.untilMs);
}
const of = (r: BacktestReport, id: string): RuleBacktest => r.rules.find((x) => x.rule === id)!;

describe('a flapping rule, and the same rule with hysteresis or for: (critical: no throttle window)', () => {
  it.each<[string, string | undefined, { firings: number; resolutions: number; stillFiring: number; flaps: number; slack: number }]>([
    // Fires at 0,2,4,6,8 and resolves at 1,3,5,7,9: 5 firings, 5 resolutions; activations 2..5 fired
    // 1m after the previous resolved (<= 10m): 4 flaps; critical is never throttled: 5 + 5 = 10 Slack messages.
    ['flapping', undefined, { firings: 5, resolutions: 5, stillFiring: 0, flaps: 4, slack: 10 }],
    // clearCondition < 80: 85 never clears it: fires at 0 and is still firing at 9: 1 message.
    ['hysteresis (clearCondition)', "clearCondition: '< 80'", { firings: 1, resolutions: 0, stillFiring: 1, flaps: 0, slack: 1 }],
    // for: 2m: never above 90 for 2 minutes in a row (pending at 0, cleared at 1, ...): nothing fires.
    ['for: 2m', 'for: 2m', { firings: 0, resolutions: 0, stillFiring: 0, flaps: 0, slack: 0 }],
  ])('%s', async (_what, extra, expected) => {
    const r = of(await backtest(rules(ruleYaml('cpu', extra ? { extra } : {})), flapping()), 'cpu');
    expect({ firings: r.firings, resolutions: r.resolutions, stillFiring: r.stillFiring, flaps: r.flaps, slack: r.notifications.slack }).toEqual(expected);
  });
});

describe('throttle (medium: 15m window; the default escalation raises the third firing within 1h to high: 5m window)', () => {
  it('counts the firings held, and the resolutions of held firings go nowhere', async () => {
    const r = of(await backtest(rules(ruleYaml('cpu', { severity: 'medium' })), flapping()), 'cpu');
    // fire@0 medium, first: sent. resolve@1: sent (its firing was).
    // fire@2 medium, 2 < 0+15: held (1). resolve@3: its firing was not sent: nothing.
    // fire@4 third firing in 1h: high, 4 < 0+5: held (2). resolve@5: nothing.
    // fire@6 high, 6 >= 0+5: sent. resolve@7: sent.
    // fire@8 high, 8 < 6+5: held (3). resolve@9: nothing.  Sent: 0, 1, 6, 7 = 4.
    expect(r.notifications).toEqual({ slack: 4, email: 0, pagerduty: 0, webhook: 0 });
    expect(r.suppressed).toEqual({ throttle: 3, silence: 0, inhibition: 0, 'time-interval': 0, 'no-channel': 0 });
  });
});

describe('grouping', () => {
  it.each<[string, string, number]>([
    // Ungrouped: 3 firings at 0 + 3 resolutions at 10 = 6 messages.
    ['ungrouped', 'solo', 6],
    // group_by [team]: one group; first flush at 0:30 (group_wait) lists 3 firing; 5:30 unchanged;
    // resolved at 10:00, flush at 10:30 (all resolved): 2 messages.
    ['grouped', 'grouped', 2],
  ])('%s', async (_what, team, slack) => {
    // --until 10:00 + 1m: the 10:30 flush runs.
    const r = await backtest(rules(ruleYaml('cpu', { team })), threeInstances(), { untilMs: T0 + 11 * M });
    expect(of(r, 'cpu').notifications.slack).toBe(slack);
    expect(r.totals.notifications.slack).toBe(slack);
  });

  it('a group notification counts once per channel for each rule it lists; the total counts it once', async () => {
    const batches = threeInstances('cpu').map((b, i) => [...b, ...threeInstances('mem')[i]!]);
    const r = await backtest(rules(ruleYaml('cpu', { team: 'grouped' }), ruleYaml('mem', { team: 'grouped' })), batches, { untilMs: T0 + 11 * M });
    // One group (team=grouped) with 6 alerts: the same 2 messages as above, each listing both rules.
    expect([of(r, 'cpu').notifications.slack, of(r, 'mem').notifications.slack, r.totals.notifications.slack]).toEqual([2, 2, 2]);
  });

  it('without --until the clock stops at the last sample: a flush due after it does not run', async () => {
    const r = await backtest(rules(ruleYaml('cpu', { team: 'grouped' })), threeInstances());
    // Flushes at 0:30 (sent) and 5:30 (unchanged); the one due at 10:30 is after the end (10:00).
    expect(of(r, 'cpu').notifications.slack).toBe(1);
  });
});

describe('silences', () => {
  const silence = (endsAtMs: number): Silence => ({ id: 's1', matchers: [{ name: 'instance', op: '=', value: 'web-1' }], startsAtMs: T0 - H, endsAtMs, createdBy: 'ops', comment: 'maintenance', updatedAtMs: T0 - H });
  it.each<[string, Silence[], number, number]>([
    // 3 instances × (firing + resolution) = 6.
    ['none', [], 6, 0],
    // web-1 silenced throughout: its firing is muted (1 notification suppressed: the one Slack target)
    // and its resolution goes nowhere; web-2 and web-3: 4.
    ['web-1 throughout', [silence(T0 + H)], 4, 1],
    // The silence ends at 5:00 while web-1 still fires: the timers' sweep at 5:00 re-checks it and
    // notifies it; then its resolution at 10:00 goes out: 6, and the muted firing was still suppressed once.
    ['web-1 until 5:00', [silence(T0 + 5 * M)], 6, 1],
  ])('%s', async (_what, silences, slack, silenced) => {
    const r = of(await backtest(rules(ruleYaml('cpu')), threeInstances(), { silences }), 'cpu');
    expect([r.notifications.slack, r.suppressed.silence]).toEqual([slack, silenced]);
  });
});

describe('inhibition', () => {
  const routes = compileRoutes({ ...ROUTES_DOC, inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="high"'], equal: ['instance'] }] }, 'routes.yaml');
  it.each<[string, number, number]>([
    // down (critical) fires at 0, resolves at 10: 2 messages. cpu (high) fires at 1 while down fires:
    // held (1 suppressed: its one Slack target); it resolves at 9, before the release: nothing sent.
    ['the target resolves while inhibited', 8, 0],
    // cpu still fires when down resolves at 10: released and sent at 10; its resolution at 13 too: 2.
    ['the target outlives its source', 12, 2],
  ])('%s', async (_what, cpuLastAbove, cpuSlack) => {
    const batches = Array.from({ length: 14 }, (_, i) => [sample('down', i, i <= 9 ? 95 : 50), sample('cpu', i, i >= 1 && i <= cpuLastAbove ? 95 : 50)]);
    const b = new Backtest(rules(ruleYaml('down'), ruleYaml('cpu', { severity: 'high' })), routes);
    for (const batch of batches) await b.ingestBatch(batch);
    const r = await b.run();
    expect([of(r, 'down').notifications.slack, of(r, 'cpu').notifications.slack, of(r, 'cpu').suppressed.inhibition]).toEqual([2, cpuSlack, 1]);
  });
});

describe('reminders (repeat_interval)', () => {
  it('a firing notified on its own is reminded every repeat_interval (4h, the root default), on the timers sweep', async () => {
    // Firing from 0 through 5h (a sample every minute): sent at 0, reminded at 4h; the next (8h) is after the end.
    const batches = Array.from({ length: 5 * 60 + 1 }, (_, i) => [sample('cpu', i, 95)]);
    const r = of(await backtest(rules(ruleYaml('cpu')), batches), 'cpu');
    expect([r.firings, r.stillFiring, r.notifications.slack]).toEqual([1, 1, 2]);
  });
});

describe('mean firing time and flapping', () => {
  it('is the mean of resolution − firing over the activations that resolved; those still firing are counted apart', async () => {
    // web-1 above 90 at 0..2 (fires 0, resolves 3: 3m); web-2 at 1..7 (fires 1, resolves 8: 7m);
    // web-3 at 5..10 (fires 5, still firing at 10). Mean (3 + 7) / 2 = 5m.
    const batches = Array.from({ length: 11 }, (_, i) => [sample('cpu', i, i <= 2 ? 95 : 50, 'web-1'), sample('cpu', i, i >= 1 && i <= 7 ? 95 : 50, 'web-2'), sample('cpu', i, i >= 5 ? 95 : 50, 'web-3')]);
    const r = of(await backtest(rules(ruleYaml('cpu')), batches), 'cpu');
    expect([r.firings, r.resolutions, r.stillFiring, r.meanFiringMs, r.flaps]).toEqual([3, 2, 1, 5 * M, 0]);
  });

  it.each<[string, number, number]>([
    // Each re-firing comes 1m after the resolution before it: 4 re-firings.
    ['10m (default)', 10 * M, 4],
    ['exactly 1m: inclusive', M, 4],
    ['59s', 59 * S, 0],
  ])('flap window %s', async (_what, flapWindowMs, flaps) => {
    expect(of(await backtest(rules(ruleYaml('cpu')), flapping(), { flapWindowMs }), 'cpu').flaps).toBe(flaps);
  });
});

describe('klaxon rules backtest', () => {
  const ROUTES_YAML = `receiver: ops
receivers:
  - name: ops
    slack: { channel: C0OPS }
routes:
  - matchers: ['team="grouped"']
    receivers: [ops]
    group_by: [team]
    group_wait: 30s
`;
  async function files(over: Partial<Record<'rules' | 'routes' | 'samples' | 'silences', string>> = {}): Promise<Record<'rules' | 'routes' | 'samples' | 'silences', string>> {
    const dir = await mkdtemp(join(tmpdir(), 'klaxon-backtest-'));
    const lines = flapping().map((b) => JSON.stringify({ name: 'cpu', value: b[0]!.value, timestamp: new Date(b[0]!.timestampMs).toISOString(), labels: { instance: 'web-1' } }));
    lines.splice(3, 0, '{"name":"cpu","value":"oops","timestamp":1795300000000}');
    const content = {
      rules: `rules:\n${ruleYaml('cpu')}\n${ruleYaml('disk', { team: 'grouped' })}\n`,
      routes: ROUTES_YAML,
      samples: `${lines.join('\n')}\n`,
      silences: JSON.stringify([{ id: 'm1', matchers: ['instance="web-9"'], startsAt: new Date(T0).toISOString(), endsAt: new Date(T0 + H).toISOString(), createdBy: 'ops', comment: 'nothing matches' }]),
      ...over,
    };
    const out = {} as Record<'rules' | 'routes' | 'samples' | 'silences', string>;
    for (const [k, v] of Object.entries(content)) {
      out[k as keyof typeof out] = join(dir, `${k}.${k === 'samples' ? 'jsonl' : k === 'silences' ? 'json' : 'yaml'}`);
      await writeFile(out[k as keyof typeof out], v);
    }
    return out;
  }

  it('prints a table per rule with a total line, and reports an undecodable line as FILE:LINE and skips it', async () => {
    const f = await files();
    const c = captureIo();
    expect(await run(['--rules', f.rules, '--routes', f.routes, '--samples', f.samples, '--silences', f.silences], c.io)).toBe(0);
    const out = c.out();
    expect(out).toMatch(/^RULE +FIRINGS +RESOLVED +STILL FIRING +MEAN FIRING +FLAPS +SLACK +EMAIL +PAGERDUTY +WEBHOOK +THROTTLE +SILENCE +INHIBITION +TIME-INTERVAL +NO-CHANNEL$/m);
    // cpu: the flapping table row above (5 firings, 5 resolved, mean 1m, 4 flaps, 10 Slack); disk: no samples, zeros.
    expect(out).toMatch(/^cpu +5 +5 +0 +1m +4 +10 +0 +0 +0 +0 +0 +0 +0 +0$/m);
    expect(out).toMatch(/^disk +0 +0 +0 +- +0 +0 +0 +0 +0 +0 +0 +0 +0 +0$/m);
    expect(out).toContain('Total: 5 firing(s), 5 resolved (mean firing 1m), 0 still firing, 4 flap(s); 10 notification(s) (slack 10, email 0, pagerduty 0, webhook 0); 0 suppressed');
    expect(out).toContain('a group notification counts once per channel for each rule it lists');
    // Line 4 of the file is the bad one (inserted after three good lines).
    expect(c.err()).toMatch(/samples\.jsonl:4: value: expected a finite number/);
    expect(c.err()).toMatch(/10 sample\(s\) evaluated, 1 rejected/);
  });

  it('prints one JSON document, reads samples from stdin, and runs to --until', async () => {
    const f = await files();
    const stdin = threeInstances('disk')
      .map((b) => JSON.stringify(b.map((x) => ({ name: x.name, value: x.value, timestamp: x.timestampMs, labels: x.labels }))))
      .join('\n');
    const c = captureIo(stdin);
    expect(await runRules(['backtest', '--rules', f.rules, '--routes', f.routes, '--samples', '-', '--until', '+1m', '--format', 'json'], c.io)).toBe(0);
    const doc = JSON.parse(c.out()) as BacktestReport;
    // The grouped rule: 2 group messages (first at 0:30, all resolved at 10:30; the clock runs to 11:00).
    expect(doc.rules.map((r) => [r.rule, r.firings, r.resolutions, r.notifications.slack])).toEqual([
      ['cpu', 0, 0, 0],
      ['disk', 3, 3, 2],
    ]);
    expect(doc.untilMs).toBe(T0 + 11 * M);
    expect(doc.totals.meanFiringMs).toBe(10 * M);
  });

  it.each<[string, Partial<Record<'rules' | 'routes' | 'samples' | 'silences', string>>, RegExp]>([
    ['an invalid rule', { rules: "rules:\n  - id: cpu\n    metric: cpu\n    condition: 'above'\n    severity: critical\n" }, /rules\.yaml: rule cpu: rules\[0\]\.condition: expected a comparison/],
    ['a routes file naming an unknown receiver', { routes: 'receiver: nobody\n' }, /routes\.yaml: invalid routes config:\n.*unknown receiver "nobody"/],
    ['silences that are not JSON', { silences: '[{' }, /silences\.json: .*JSON/],
    ['a silence without createdBy', { silences: JSON.stringify([{ matchers: ['a="b"'], startsAt: T0, endsAt: T0 + H, comment: 'x' }]) }, /silences\.json: invalid silence \[0\]\.createdBy: required/],
  ])('exits 1 naming the problem: %s', async (_what, over, message) => {
    const f = await files(over);
    const c = captureIo();
    expect(await run(['--rules', f.rules, '--routes', f.routes, '--samples', f.samples, '--silences', f.silences], c.io)).toBe(1);
    expect(c.err()).toMatch(message);
    expect(c.out()).toBe('');
  });

  it('exits 1 when the samples file cannot be read', async () => {
    const f = await files();
    const c = captureIo();
    expect(await run(['--rules', f.rules, '--routes', f.routes, '--samples', `${f.samples}.missing`], c.io)).toBe(1);
    expect(c.err()).toMatch(/cannot read .*samples\.jsonl\.missing/);
  });

  it.each<[string, string[], RegExp]>([
    ['no --routes', ['--rules', 'r.yaml', '--samples', 's.jsonl'], /--routes is required/],
    ['no --rules', ['--routes', 'x.yaml', '--samples', 's.jsonl'], /--rules is required/],
    ['an unknown flag', ['--rules', 'r.yaml', '--routes', 'x', '--samples', 's', '--at', 'now'], /unknown argument --at/],
    ['a bad format', ['--rules', 'r.yaml', '--routes', 'x', '--samples', 's', '--format', 'csv'], /--format must be table or json, not csv/],
    ['a bad flap window', ['--rules', 'r.yaml', '--routes', 'x', '--samples', 's', '--flap-window', 'soon'], /--flap-window: /],
    ['a flag without its value', ['--rules'], /--rules needs a value/],
  ])('exits 2 on a usage error: %s', async (_what, args, message) => {
    const c = captureIo();
    expect(await run(args, c.io)).toBe(2);
    expect(c.err()).toMatch(message);
    expect(c.err()).toContain('Usage: klaxon rules backtest');
  });

  it('exits 2 on an --until that is not a time', async () => {
    const f = await files();
    const c = captureIo();
    expect(await run(['--rules', f.rules, '--routes', f.routes, '--samples', f.samples, '--until', 'tomorrow'], c.io)).toBe(2);
    expect(c.err()).toMatch(/--until tomorrow: expected RFC 3339, epoch ms or \+DURATION/);
  });
});

describe('examples/backtest (the figures docs/rules.md shows)', () => {
  it('the raw rule against the tuned one', async () => {
    const c = captureIo();
    const dir = 'examples/backtest';
    expect(await run(['--rules', `${dir}/rules.yaml`, '--routes', `${dir}/routes.yaml`, '--samples', `${dir}/samples.jsonl`, '--silences', `${dir}/silences.json`, '--until', '+10m', '--format', 'json'], c.io)).toBe(0);
    const r = JSON.parse(c.out()) as BacktestReport;
    const row = (id: string) => {
      const x = of(r, id);
      return [x.firings, x.resolutions, x.flaps, x.meanFiringMs, x.notifications.slack, x.notifications.email, x.suppressed.throttle, x.suppressed.silence];
    };
    // raw, api-1: above 500 at 0,3,6,9,12 (fires, resolves a minute later), 20..34, 42..47; 3 canaries 25..30.
    //   firings 5 + 1 + 1 + 3 = 10; flaps: fires at 3,6,9,12 (2m after), 20 (7m after 13), 42 (7m after 35) = 6;
    //   firing time 5×1 + 15 + 6 + 3×6 = 44m / 10 = 4.4m = 264s.
    //   messages (high: Slack + email): fire 0 sent (2), resolve 1 (2); fire 3 held (throttle 2: high 5m);
    //   fire 6 is the third in 1h: critical, no window: fires 6, 9, 12, 20 and their resolutions 8×2 = 16;
    //   fire 42 silenced (silence 2: Slack + email), its resolution goes nowhere; the canary group:
    //   first at 25:30, all resolved at 35:30 (2×2 = 4). 4 + 16 + 4 = 24: 12 per channel.
    expect(row('api_latency_raw')).toEqual([10, 10, 6, 264 * S, 12, 12, 2, 2]);
    // tuned (for 2m, clears below 400): api-1 fires 22..35 and 44..48 (silenced); canaries 27..31.
    //   firings 1 + 1 + 3 = 5; one flap (44, 9m after 35); firing time 13 + 4 + 3×4 = 29m / 5 = 5.8m = 348s.
    //   messages: fire 22 and resolve 35 (2×2), the canary group at 27:30 and 32:30 (2×2): 4 per channel.
    expect(row('api_latency_tuned')).toEqual([5, 5, 1, 348 * S, 4, 4, 0, 2]);
  });
});
