/**
 * A controllable log source for the enrichment tests: a stand-in for Logs Insights (nothing
 * emulates it locally). Each query answers `Running` until the test's clock reaches its
 * `readyAtMs`, then `Complete` with the lines given; `start` can be made to throw (throttling).
 * The clock is the tests' TestClock, moved by {@link FakeTimers} (no real waiting).
 */
import { LogsThrottledError, type LogSource, type LogsQuery, type LogsResults } from '../../shared/core/enrich/logs.ts';
import type { EnrichmentLogLine } from '../../shared/core/enrich/types.ts';
import { TestClock } from '../integration/deliver-fixtures.ts';

/** The fake source. */
export class FakeLogSource implements LogSource {
  readonly started: LogsQuery[] = [];
  readonly stopped: string[] = [];
  /** How long a query runs (clock ms). */
  runMs = 5_000;
  lines: EnrichmentLogLine[] = [{ atMs: 1, message: 'ERROR payment declined' }];
  /** `throttle` makes start throw LogsThrottledError; `fail` ends queries Failed; `error` throws a plain error. */
  mode: 'ok' | 'throttle' | 'fail' | 'error' = 'ok';
  readonly #queries = new Map<string, number>();
  constructor(private readonly clock: TestClock) {}
  start(q: LogsQuery): Promise<string> {
    if (this.mode === 'throttle') return Promise.reject(new LogsThrottledError('LimitExceededException: too many concurrent queries'));
    if (this.mode === 'error') return Promise.reject(new Error('AccessDeniedException'));
    this.started.push(q);
    const id = `q-${this.started.length}`;
    this.#queries.set(id, this.clock.now() + this.runMs);
    return Promise.resolve(id);
  }
  results(queryId: string): Promise<LogsResults> {
    const readyAt = this.#queries.get(queryId);
    if (readyAt === undefined) return Promise.resolve({ status: 'Unknown', lines: [] });
    if (this.clock.now() < readyAt) return Promise.resolve({ status: 'Running', lines: [] });
    return Promise.resolve({ status: this.mode === 'fail' ? 'Failed' : 'Complete', lines: this.lines });
  }
  stop(queryId: string): Promise<void> {
    this.stopped.push(queryId);
    return Promise.resolve();
  }
}

/**
 * Timers on the test clock: `sleep(ms)` wakes when the clock reaches now + ms. Time moves only
 * when nothing else can run (one macrotask after the last promise settled), to the earliest
 * sleeper's wake time, like real timers without the waiting.
 */
export class FakeTimers {
  readonly #sleepers: { at: number; wake: () => void }[] = [];
  #scheduled = false;
  constructor(private readonly clock: TestClock) {}
  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.#sleepers.push({ at: this.clock.now() + Math.max(0, ms), wake });
      this.#schedule();
    });
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#sleepers.sort((a, b) => a.at - b.at);
      const next = this.#sleepers.shift();
      if (!next) return;
      this.clock.ms = Math.max(this.clock.ms, next.at);
      next.wake();
      if (this.#sleepers.length) this.#schedule();
    });
  }
}

/**
 * For tests with real I/O (integration): a clock that runs `speed` times faster than the wall
 * clock from `startMs` (and jumps forward on `advance`), with a timer that waits `ms / speed`
 * real milliseconds, so a 1 s budget costs 100 ms of wall time while the local services (file
 * reads, HTTP, DynamoDB Local) answer in real time. Fake-clock timers ({@link FakeTimers}) would
 * run ahead of real I/O.
 */
export class SpeedClock extends TestClock {
  readonly #startReal = performance.now();
  #offset = 0;
  constructor(
    startMs: number,
    readonly speed = 10,
  ) {
    super(startMs);
  }
  override now(): number {
    return Math.floor(this.ms + this.#offset + (performance.now() - this.#startReal) * this.speed);
  }
  override advance(ms: number): void {
    this.#offset += ms;
  }
  readonly sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms / this.speed)));
}
