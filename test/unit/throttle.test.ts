import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../shared/core/dispatch/record/alert-record.ts';
import { decideDispatch, DEFAULT_DISPATCH_CONFIG, type DispatchConfig } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { decideThrottle, DEFAULT_THROTTLE_WINDOWS, throttleWindowMs } from '../../shared/core/dispatch/throttle/throttle.ts';
import type { AlertTransition, Clock, NotificationPolicy, Severity } from '../../shared/core/model/index.ts';

const MIN = 60_000;
const routes = compileRoutes(undefined, 'built-in defaults', { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'default' });
// No escalation in these tests: they are about windows only.
const config: DispatchConfig = { ...DEFAULT_DISPATCH_CONFIG, escalation: { count: 1000, windowMs: 1 } };

/** A controllable clock: tests move time instead of sleeping. */
function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

let seq = 0;
/** A firing, then its resolution, as the evaluator would emit them for one activation at `atMs`. */
function activation(severity: Severity, atMs: number, policy?: NotificationPolicy): { firing: AlertTransition; resolved: AlertTransition } {
  seq += 1;
  const base = {
    version: 1 as const,
    fingerprint: 'fp-throttle',
    ruleId: 'cpu',
    ruleName: 'CPU high',
    severity,
    labels: { alertname: 'CPU high', instance: 'web-1' },
    annotations: {},
    value: 95,
    condition: 'avg_over_time(5m) > 80',
    activeAtMs: atMs - 1000,
    firedAtMs: atMs,
    emittedAtMs: atMs,
    ...(policy ? { policy } : {}),
  };
  return {
    firing: { ...base, transitionId: `f${seq}`, kind: 'firing', atMs },
    resolved: { ...base, transitionId: `r${seq}`, kind: 'resolved', atMs: atMs + 1000, resolvedAtMs: atMs + 1000 },
  };
}

describe('throttle', () => {
  it.each<[string, number | undefined, number, number, boolean, string]>([
    // nothing sent before: send
    ['first', undefined, 5 * MIN, 0, true, 'first'],
    // window 0 (critical): always send
    ['no window', 0, 0, 1, true, 'no-window'],
    // within the window: hold
    ['within', 0, 5 * MIN, 5 * MIN - 1, false, 'within-window'],
    // exactly at the end of the window: send
    ['at the end', 0, 5 * MIN, 5 * MIN, true, 'window-elapsed'],
    // after: send
    ['after', 0, 5 * MIN, 6 * MIN, true, 'window-elapsed'],
  ])('%s', (_name, last, windowMs, now, send, reason) => {
    expect(decideThrottle(last, windowMs, now)).toEqual({ send, reason, windowMs });
  });

  it.each<[Severity, Partial<Record<Severity, number>>, NotificationPolicy | undefined, number]>([
    // defaults: critical none, high 5 min, medium 15 min, low 1 h
    ['critical', {}, undefined, 0],
    ['high', {}, undefined, 5 * MIN],
    ['medium', {}, undefined, 15 * MIN],
    ['low', {}, undefined, 60 * MIN],
    // THROTTLE_WINDOWS overrides the defaults
    ['high', { high: 10 * MIN }, undefined, 10 * MIN],
    // a rule's policy overrides both
    ['high', { high: 10 * MIN }, { throttleMs: { high: 2 * MIN } }, 2 * MIN],
    // a policy for another severity does not apply
    ['medium', { medium: 20 * MIN }, { throttleMs: { high: 2 * MIN } }, 20 * MIN],
  ])('window for %s with overrides %j and policy %j', (severity, env, policy, expected) => {
    expect(throttleWindowMs(severity, { ...DEFAULT_THROTTLE_WINDOWS, ...env }, policy)).toBe(expected);
  });

  /** Runs activations through decideDispatch, committing each record, with the clock moved between them. */
  function run(steps: { advanceMs: number; severity: Severity; policy?: NotificationPolicy; withResolution?: boolean }[]) {
    const clock = manualClock();
    let record: AlertRecord | undefined;
    const out: { sent: string[]; suppressed: number[]; resolutions: string[]; jobs: ReturnType<typeof decideDispatch>['jobs'] }[] = [];
    let at = 1_000_000;
    for (const s of steps) {
      clock.advance(s.advanceMs);
      at += s.advanceMs;
      const a = activation(s.severity, at, s.policy);
      const d = decideDispatch(record, a.firing, routes, config, clock.now());
      record = d.record;
      let resolutions: string[] = [];
      if (s.withResolution ?? true) {
        const r = decideDispatch(record, a.resolved, routes, config, clock.now());
        record = r.record;
        resolutions = r.jobs.map((j) => j.channel);
      }
      out.push({ sent: d.jobs.map((j) => j.channel), suppressed: d.suppressed.map((x) => x.count), resolutions, jobs: d.jobs });
    }
    return out;
  }

  it('holds a repeat within the window and releases it after', () => {
    const r = run([
      { advanceMs: 0, severity: 'medium' },
      { advanceMs: 5 * MIN, severity: 'medium' },
      { advanceMs: 5 * MIN, severity: 'medium' },
      { advanceMs: 5 * MIN, severity: 'medium' },
    ]);
    expect(r.map((x) => x.sent)).toEqual([['slack'], [], [], ['slack']]);
    expect(r.map((x) => x.suppressed)).toEqual([[], [1], [2], []]);
  });

  it('never holds critical', () => {
    const r = run([
      { advanceMs: 0, severity: 'critical' },
      { advanceMs: 1000, severity: 'critical' },
      { advanceMs: 1000, severity: 'critical' },
    ]);
    expect(r.map((x) => x.sent)).toEqual([
      ['email', 'slack', 'pagerduty'],
      ['email', 'slack', 'pagerduty'],
      ['email', 'slack', 'pagerduty'],
    ]);
  });

  it('uses the rule policy window over the defaults', () => {
    const policy = { throttleMs: { high: 1 * MIN } };
    const r = run([
      { advanceMs: 0, severity: 'high', policy },
      { advanceMs: 30_000, severity: 'high', policy },
      { advanceMs: 30_000, severity: 'high', policy },
    ]);
    expect(r.map((x) => x.sent)).toEqual([['email', 'slack'], [], ['email', 'slack']]);
  });

  it('reports what the window suppressed in the next notification sent, then starts counting again', () => {
    const r = run([
      { advanceMs: 0, severity: 'high' },
      { advanceMs: 1 * MIN, severity: 'high' },
      { advanceMs: 1 * MIN, severity: 'high' },
      { advanceMs: 3 * MIN, severity: 'high' },
      { advanceMs: 5 * MIN, severity: 'high' },
    ]);
    const firstHeldAt = 1_000_000 + 1 * MIN;
    expect(r[3]!.jobs.map((j) => [j.channel, j.suppressed])).toEqual([
      ['email', { count: 2, sinceMs: firstHeldAt }],
      ['slack', { count: 2, sinceMs: firstHeldAt }],
    ]);
    expect(r[4]!.jobs.map((j) => j.suppressed)).toEqual([undefined, undefined]);
  });

  it('sends a resolution only where its firing was sent, and never holds it', () => {
    const r = run([
      { advanceMs: 0, severity: 'high' },
      { advanceMs: 1 * MIN, severity: 'high' },
    ]);
    expect(r[0]!.resolutions).toEqual(['email', 'slack']);
    // The second firing was held everywhere, so its resolution goes nowhere.
    expect(r[1]!.resolutions).toEqual([]);
  });

  it('does not let a resolution restart the window', () => {
    const clock = manualClock();
    const a = activation('medium', 1_000_000);
    let rec = decideDispatch(undefined, a.firing, routes, config, clock.now()).record;
    clock.advance(14 * MIN);
    rec = decideDispatch(rec, a.resolved, routes, config, clock.now()).record;
    clock.advance(1 * MIN);
    const b = activation('medium', 1_000_000 + 15 * MIN);
    expect(decideDispatch(rec, b.firing, routes, config, clock.now()).jobs.map((j) => j.channel)).toEqual(['slack']);
  });
});
