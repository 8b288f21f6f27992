/**
 * A loaded configuration (routes, the error-events configuration), cached for a TTL on an injected
 * clock, serving the last good value when a reload fails (a bad edit pushed to SSM, a throttled
 * GetParameter): a broken configuration change must not stop the pipeline. The first load must
 * succeed: its error is the caller's (a bad configuration fails the function's init).
 */
import type { Clock } from '../../core/model/index.ts';

/** Options of {@link LastGoodCache}. */
export interface LastGoodCacheOptions<T> {
  readonly load: () => Promise<T>;
  readonly clock: Clock;
  /** How long a loaded value is served before the next load. */
  readonly ttlMs: number;
  /** Told when a reload failed and the previous value is still served. */
  readonly onStale?: (err: unknown) => void;
}

/** Caches a loader's result for `ttlMs`; serves the last good value when a reload fails. */
export class LastGoodCache<T> {
  readonly #o: LastGoodCacheOptions<T>;
  #value: T | undefined;
  #loadedAtMs = 0;
  #inflight: Promise<T> | undefined;

  constructor(options: LastGoodCacheOptions<T>) {
    this.#o = options;
  }

  async get(): Promise<T> {
    const now = this.#o.clock.now();
    if (this.#value !== undefined && now - this.#loadedAtMs < this.#o.ttlMs) return this.#value;
    // Records of one batch are processed concurrently: load once for all of them.
    this.#inflight ??= this.#reload(now).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #reload(now: number): Promise<T> {
    try {
      this.#value = await this.#o.load();
      this.#loadedAtMs = now;
      return this.#value;
    } catch (err) {
      if (this.#value === undefined) throw err;
      this.#o.onStale?.(err);
      // Try again after another TTL rather than on every message.
      this.#loadedAtMs = now;
      return this.#value;
    }
  }
}
