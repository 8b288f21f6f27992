/**
 * The local stand-in for the EventBridge schedule that runs the timers function each minute. It
 * ticks on the runtime's virtual clock, so at `--speed N` a "minute" passes N times faster. Runs
 * never overlap: a run that takes longer than the period delays the next one rather than piling up.
 */
import type { Clock } from '../../shared/core/model/index.ts';

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  readonly clock: Clock;
  /** Period in virtual milliseconds (60 000 for "each minute"). */
  readonly everyMs: number;
  readonly run: (scheduledAtMs: number) => Promise<unknown>;
  readonly onError?: (err: unknown) => void;
  /** How often the wall clock is checked (default 50 ms). */
  readonly pollMs?: number;
}

/** Invokes `run` at each period boundary of the virtual clock. */
export class Scheduler {
  private nextDueMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Number of completed runs. */
  runs = 0;

  constructor(private readonly opts: SchedulerOptions) {
    this.nextDueMs = Scheduler.nextBoundary(opts.clock.now(), opts.everyMs);
  }

  /** The first period boundary strictly after `nowMs` (schedules fire on the minute). */
  static nextBoundary(nowMs: number, everyMs: number): number {
    return (Math.floor(nowMs / everyMs) + 1) * everyMs;
  }

  /** When the next run is due (virtual ms). */
  get nextDue(): number {
    return this.nextDueMs;
  }

  /** Starts checking the clock. */
  start(): void {
    const poll = this.opts.pollMs ?? 50;
    this.timer = setInterval(() => void this.tick(), poll);
  }

  /** Runs once if a boundary has passed; resolves when that run is done. Tests call it directly. */
  async tick(): Promise<boolean> {
    if (this.running) return false;
    const now = this.opts.clock.now();
    if (now < this.nextDueMs) return false;
    const scheduledAt = this.nextDueMs;
    this.nextDueMs = Scheduler.nextBoundary(now, this.opts.everyMs);
    this.running = (async () => {
      try {
        await this.opts.run(scheduledAt);
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.runs++;
        this.running = undefined;
      }
    })();
    await this.running;
    return true;
  }

  /** Stops and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
