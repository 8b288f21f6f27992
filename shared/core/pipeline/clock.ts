/** A clock for tests and simulations (core never reads the wall clock; docs/design.md, "Layers"). */
import type { Clock } from '../model/index.ts';

/** A {@link Clock} moved by hand (tests, simulations). */
export class ManualClock implements Clock {
  constructor(private nowMs: number) {}
  now(): number {
    return this.nowMs;
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.nowMs += ms;
  }
  /** Sets the clock. */
  set(ms: number): void {
    this.nowMs = ms;
  }
}
