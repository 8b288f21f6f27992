import { describe, expect, it } from 'vitest';
import { claimProbe, CLOSED, DEFAULT_BREAKER_CONFIG as cfg, gate, needsSuccessWrite, onFailure, onSuccess, releaseProbe, type BreakerState } from '../../shared/core/breaker/index.ts';

const T = 1_000_000;
const failTimes = (s: BreakerState, n: number, at = T): BreakerState => Array.from({ length: n }).reduce<BreakerState>((acc) => onFailure(acc, at, cfg), s);

describe('breaker', () => {
  it('stays closed below the failure threshold and opens at the 5th consecutive failure', () => {
    const four = failTimes(CLOSED, 4);
    expect(four.state).toBe('closed');
    expect(four.failures).toBe(4);
    const five = onFailure(four, T, cfg);
    expect(five).toMatchObject({ state: 'open', openedAtMs: T, reopenAtMs: T + 60_000 });
  });

  it('counts only consecutive failures: a success resets the count', () => {
    const s = onSuccess(failTimes(CLOSED, 4), T, cfg);
    expect(s).toMatchObject({ state: 'closed', failures: 0 });
    expect(failTimes(s, 4).state).toBe('closed');
  });

  it.each([
    // [description, ms after opening, allowed?]
    ['shut right after opening', 0, false],
    ['shut one ms before the open period ends', 59_999, false],
    ['lets a probe through when the open period ends', 60_000, true],
  ])('gate: %s', (_d, after, allowed) => {
    const open = failTimes(CLOSED, 5);
    const g = gate(open, T + after, cfg);
    expect(g.allow).toBe(allowed);
    if (!g.allow) expect(g.retryAtMs).toBe(T + 60_000);
    else expect(g.probe).toBe(true);
  });

  it('allows one probe at a time: a second claim during the lease is refused', () => {
    const open = failTimes(CLOSED, 5);
    const probing = claimProbe(open, T + 60_000, cfg);
    expect(probing).toMatchObject({ state: 'half-open', probeLeaseUntilMs: T + 60_000 + cfg.probeLeaseMs });
    expect(claimProbe(probing!, T + 61_000, cfg)).toBeNull();
    expect(gate(probing!, T + 61_000, cfg)).toEqual({ allow: false, retryAtMs: T + 60_000 + cfg.probeLeaseMs, why: 'probe-in-flight' });
  });

  it('lets another probe go when a probe holder died (lease expired)', () => {
    const probing = claimProbe(failTimes(CLOSED, 5), T + 60_000, cfg)!;
    expect(claimProbe(probing, T + 60_000 + cfg.probeLeaseMs, cfg)?.state).toBe('half-open');
  });

  it('closes after 2 successful probes', () => {
    let s = claimProbe(failTimes(CLOSED, 5), T + 60_000, cfg)!;
    s = onSuccess(s, T + 60_001, cfg);
    expect(s).toMatchObject({ state: 'half-open', successes: 1, probeLeaseUntilMs: 0 });
    s = claimProbe(s, T + 60_002, cfg)!;
    s = onSuccess(s, T + 60_003, cfg);
    expect(s).toMatchObject({ state: 'closed', failures: 0, successes: 0 });
  });

  it('re-opens on a failed probe, for another open period', () => {
    const probing = claimProbe(failTimes(CLOSED, 5), T + 60_000, cfg)!;
    expect(onFailure(probing, T + 61_000, cfg)).toMatchObject({ state: 'open', reopenAtMs: T + 121_000 });
  });

  it('releases a probe without a verdict (permanent error during the probe)', () => {
    const probing = claimProbe(failTimes(CLOSED, 5), T + 60_000, cfg)!;
    const released = releaseProbe(probing);
    expect(released).toMatchObject({ state: 'half-open', successes: 0, probeLeaseUntilMs: 0 });
    expect(gate(released, T + 60_001, cfg)).toEqual({ allow: true, probe: true });
  });

  it('ignores successes of sends that raced the opening (only probes close)', () => {
    const open = failTimes(CLOSED, 5);
    expect(onSuccess(open, T + 1, cfg)).toBe(open);
  });

  it.each([
    // [description, state, write needed?]
    ['closed with no failures: nothing to write', CLOSED, false],
    ['closed with failures: reset them', { ...CLOSED, failures: 2, version: 2 }, true],
    ['half-open: count the success', { ...CLOSED, state: 'half-open' as const, version: 3 }, true],
  ])('needsSuccessWrite: %s', (_d, s, expected) => {
    expect(needsSuccessWrite(s)).toBe(expected);
  });

  it('honours a configured threshold and open period', () => {
    const c = { ...cfg, failureThreshold: 2, openMs: 5_000 };
    const s = onFailure(onFailure(CLOSED, T, c), T, c);
    expect(s).toMatchObject({ state: 'open', reopenAtMs: T + 5_000 });
  });

  it('increments the version on every write (optimistic locking)', () => {
    const a = onFailure(CLOSED, T, cfg);
    const b = onFailure(a, T, cfg);
    expect([a.version, b.version]).toEqual([1, 2]);
  });
});
