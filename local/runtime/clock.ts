/**
 * The local runtime's virtual clock: event time that runs `speed` times faster than the wall
 * clock. The demo generator stamps samples with it and the timers scheduler ticks on it, so absence
 * and staleness behave at `--speed N` exactly as they would in real time.
 */
import type { Clock } from '../../shared/core/model/index.ts';

/** A {@link Clock} whose time runs `speed` times the wall clock from `startMs`. */
export interface VirtualClock extends Clock {
  readonly speed: number;
  /** Wall-clock milliseconds that correspond to `virtualMs` of virtual time from now. */
  wallDelay(virtualMs: number): number;
}

/** Creates a virtual clock. `wall` is injected in tests. */
export function createVirtualClock(opts: { speed?: number; startMs?: number; wall?: () => number } = {}): VirtualClock {
  const wall = opts.wall ?? Date.now;
  const speed = opts.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`);
  const wallStart = wall();
  const startMs = opts.startMs ?? wallStart;
  return {
    speed,
    now: () => startMs + (wall() - wallStart) * speed,
    wallDelay: (virtualMs) => Math.max(0, virtualMs / speed),
  };
}

/** A clock tests move by hand. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** Creates a {@link ManualClock} at `startMs`. */
export function manualClock(startMs: number): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
