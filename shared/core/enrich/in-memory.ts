/**
 * In-memory implementations of the logs ports (./logs.ts) for tests and simulations: the same
 * semantics as the DynamoDB ones of shared/adapters/enrich (claim once per key, slots with
 * leases), in one process.
 */
import type { LogsEnrichment } from './types.ts';
import type { LogsCache, LogsCacheEntry, QuerySlots } from './logs.ts';

/** {@link LogsCache} in a Map. */
export class InMemoryLogsCache implements LogsCache {
  readonly entries = new Map<string, LogsCacheEntry>();
  get(key: string): Promise<LogsCacheEntry | undefined> {
    return Promise.resolve(this.entries.get(key));
  }
  claim(key: string): Promise<boolean> {
    if (this.entries.has(key)) return Promise.resolve(false);
    this.entries.set(key, { key });
    return Promise.resolve(true);
  }
  setQuery(key: string, queryId: string): Promise<void> {
    this.entries.set(key, { ...this.entries.get(key), key, queryId });
    return Promise.resolve();
  }
  setResult(key: string, result: Exclude<LogsEnrichment, { state: 'pending' }>): Promise<void> {
    this.entries.set(key, { ...this.entries.get(key), key, result });
    return Promise.resolve();
  }
}

/** {@link QuerySlots} in a Map of holder → lease end. */
export class InMemoryQuerySlots implements QuerySlots {
  readonly held = new Map<string, number>();
  acquire(holder: string, nowMs: number, leaseMs: number, maxInFlight: number): Promise<boolean> {
    for (const [h, until] of this.held) if (until <= nowMs) this.held.delete(h);
    if (this.held.size >= maxInFlight) return Promise.resolve(false);
    this.held.set(holder, nowMs + leaseMs);
    return Promise.resolve(true);
  }
  release(holder: string): Promise<void> {
    this.held.delete(holder);
    return Promise.resolve();
  }
}
