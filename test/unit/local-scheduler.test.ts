import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../local/runtime/scheduler.ts';
import { createVirtualClock, manualClock } from '../../local/runtime/clock.ts';

describe('Scheduler', () => {
  it.each([
    // just after a boundary: the next minute
    [60_001, 120_000],
    // exactly on a boundary: the following one (that one is past)
    [120_000, 180_000],
    [0, 60_000],
  ])('first run after %d is due at %d', (now, due) => {
    expect(new Scheduler({ clock: manualClock(now), everyMs: 60_000, run: async () => undefined }).nextDue).toBe(due);
  });

  it('runs once per minute boundary of the clock, not before', async () => {
    const clock = manualClock(10_000);
    const runs: number[] = [];
    const s = new Scheduler({ clock, everyMs: 60_000, run: async (at) => void runs.push(at) });
    expect(await s.tick()).toBe(false);
    clock.set(59_999);
    expect(await s.tick()).toBe(false);
    clock.set(60_000);
    expect(await s.tick()).toBe(true);
    expect(await s.tick()).toBe(false);
    clock.set(125_000);
    await s.tick();
    expect(runs).toEqual([60_000, 120_000]);
  });

  it('runs once, not once per missed minute, after falling behind', async () => {
    const clock = manualClock(0);
    const runs: number[] = [];
    const s = new Scheduler({ clock, everyMs: 60_000, run: async (at) => void runs.push(at) });
    clock.set(10 * 60_000 + 5);
    await s.tick();
    await s.tick();
    expect(runs).toEqual([60_000]);
    expect(s.nextDue).toBe(11 * 60_000);
  });

  it('never overlaps runs', async () => {
    const clock = manualClock(60_000);
    let active = 0;
    let maxActive = 0;
    // The first run stays in progress until the test releases it.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const s = new Scheduler({
      clock,
      everyMs: 1,
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await released;
        active--;
      },
    });
    clock.advance(5);
    const ticks = [s.tick(), s.tick(), s.tick()];
    expect(active).toBe(1);
    release();
    expect(await Promise.all(ticks)).toEqual([true, false, false]);
    expect(maxActive).toBe(1);
    expect(s.runs).toBe(1);
  });

  it('reports a failing run and keeps the schedule', async () => {
    const clock = manualClock(60_000);
    const errors: unknown[] = [];
    const s = new Scheduler({ clock, everyMs: 60_000, run: () => Promise.reject(new Error('down')), onError: (e) => errors.push(e) });
    clock.set(120_000);
    await s.tick();
    expect(errors).toHaveLength(1);
    expect(s.nextDue).toBe(180_000);
  });

  it('ticks on a virtual clock N times faster than the wall clock', async () => {
    let wall = 1_000_000;
    const clock = createVirtualClock({ speed: 60, startMs: 0, wall: () => wall });
    const runs: number[] = [];
    const s = new Scheduler({ clock, everyMs: 60_000, run: async (at) => void runs.push(at) });
    wall += 999; // 59.94 s of virtual time
    await s.tick();
    wall += 1; // one wall second is a virtual minute
    await s.tick();
    expect(runs).toEqual([60_000]);
    expect(clock.wallDelay(60_000)).toBe(1000);
  });
});
