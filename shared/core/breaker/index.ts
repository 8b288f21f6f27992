/**
 * Circuit breaker per destination, as pure transitions. The DynamoDB store
 * (shared/adapters/dynamodb/breaker-store.ts) applies them with optimistic concurrency so every
 * concurrent function instance shares one breaker.
 *
 *   closed ──N consecutive failures──▶ open ──openMs elapsed──▶ half-open (one probe at a time, a lease)
 *   half-open ──M successes──▶ closed;  half-open ──failure──▶ open (again for openMs)
 *
 * Permanent errors (our payload or the destination's configuration) are not failures here: the
 * destination answered, and retrying would not help; they are dead-lettered instead.
 */

/** Breaker states. */
export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
/** One of {@link BREAKER_STATES}. */
export type BreakerStateName = (typeof BREAKER_STATES)[number];

/** Tunables (BREAKER_CONFIG JSON; defaults are the issue's). */
export interface BreakerConfig {
  /** Consecutive retryable failures that open a closed breaker. */
  readonly failureThreshold: number;
  /** How long the breaker stays open before a probe is allowed (ms). */
  readonly openMs: number;
  /** Successful probes in half-open needed to close. */
  readonly halfOpenSuccesses: number;
  /** Lease of one probe (ms): if its holder dies, another probe may go after this. */
  readonly probeLeaseMs: number;
  /** How long a reader may trust a cached breaker state (ms). */
  readonly cacheMs: number;
}

/** The defaults: 5 failures, 60 s open, 2 successes; 30 s probe lease; 2 s cache. */
export const DEFAULT_BREAKER_CONFIG: BreakerConfig = {
  failureThreshold: 5,
  openMs: 60_000,
  halfOpenSuccesses: 2,
  probeLeaseMs: 30_000,
  cacheMs: 2_000,
};

/** A breaker's state (one DynamoDB item). `version` increments on every write (optimistic locking). */
export interface BreakerState {
  readonly state: BreakerStateName;
  /** Consecutive retryable failures while closed. */
  readonly failures: number;
  /** Successful probes while half-open. */
  readonly successes: number;
  /** When the breaker last opened (epoch ms). */
  readonly openedAtMs?: number;
  /** When an open breaker lets a probe through (epoch ms). */
  readonly reopenAtMs?: number;
  /** Half-open: the current probe lease ends at (epoch ms); 0 or absent = no probe in flight. */
  readonly probeLeaseUntilMs?: number;
  /** 0 = never written. */
  readonly version: number;
}

/** A breaker that has never failed. */
export const CLOSED: BreakerState = { state: 'closed', failures: 0, successes: 0, version: 0 };

/** Whether a write is needed after a success: not for the common closed-with-zero-failures breaker. */
export function needsSuccessWrite(s: BreakerState): boolean {
  return !(s.state === 'closed' && s.failures === 0);
}

/** What the breaker says before a send. */
export type BreakerGate =
  /** Send. `probe` = the caller must first claim the probe lease ({@link claimProbe}). */
  | { readonly allow: true; readonly probe: boolean }
  /** Do not send; try again at `retryAtMs`. */
  | { readonly allow: false; readonly retryAtMs: number; readonly why: 'open' | 'probe-in-flight' };

/** Decides whether a send may go now. */
export function gate(s: BreakerState, nowMs: number, cfg: BreakerConfig): BreakerGate {
  switch (s.state) {
    case 'closed':
      return { allow: true, probe: false };
    case 'open': {
      const reopenAt = s.reopenAtMs ?? (s.openedAtMs ?? nowMs) + cfg.openMs;
      return nowMs >= reopenAt ? { allow: true, probe: true } : { allow: false, retryAtMs: reopenAt, why: 'open' };
    }
    case 'half-open': {
      const lease = s.probeLeaseUntilMs ?? 0;
      return nowMs >= lease ? { allow: true, probe: true } : { allow: false, retryAtMs: lease, why: 'probe-in-flight' };
    }
  }
}

/** Claims the probe lease: the state becomes half-open with a lease, or null when the gate is shut. */
export function claimProbe(s: BreakerState, nowMs: number, cfg: BreakerConfig): BreakerState | null {
  const g = gate(s, nowMs, cfg);
  if (!g.allow || !g.probe) return null;
  return {
    state: 'half-open',
    failures: 0,
    successes: s.state === 'half-open' ? s.successes : 0,
    ...(s.openedAtMs !== undefined ? { openedAtMs: s.openedAtMs } : {}),
    probeLeaseUntilMs: nowMs + cfg.probeLeaseMs,
    version: s.version + 1,
  };
}

/** After a successful send. */
export function onSuccess(s: BreakerState, _nowMs: number, cfg: BreakerConfig): BreakerState {
  if (s.state === 'half-open') {
    const successes = s.successes + 1;
    if (successes >= cfg.halfOpenSuccesses) return { ...CLOSED, version: s.version + 1 };
    return { ...s, successes, probeLeaseUntilMs: 0, version: s.version + 1 };
  }
  // A success while open (a send that raced the opening) closes nothing: only probes do.
  if (s.state === 'open') return s;
  return { ...CLOSED, version: s.version + 1 };
}

/** After a retryable failure. */
export function onFailure(s: BreakerState, nowMs: number, cfg: BreakerConfig): BreakerState {
  const open = (): BreakerState => ({ state: 'open', failures: 0, successes: 0, openedAtMs: nowMs, reopenAtMs: nowMs + cfg.openMs, version: s.version + 1 });
  switch (s.state) {
    case 'half-open':
      return open();
    case 'open':
      return s;
    case 'closed': {
      const failures = s.failures + 1;
      return failures >= cfg.failureThreshold ? open() : { ...s, failures, version: s.version + 1 };
    }
  }
}

/** Releases a probe lease without a verdict (the probe ended in a permanent error). */
export function releaseProbe(s: BreakerState): BreakerState {
  if (s.state !== 'half-open') return s;
  return { ...s, probeLeaseUntilMs: 0, version: s.version + 1 };
}

/** Human text of a state, for logs and the console. */
export function describeBreaker(s: BreakerState, nowMs: number): string {
  switch (s.state) {
    case 'closed':
      return s.failures ? `closed (${s.failures} consecutive failures)` : 'closed';
    case 'open':
      return `open, probe allowed in ${Math.max(0, Math.ceil(((s.reopenAtMs ?? nowMs) - nowMs) / 1000))} s`;
    case 'half-open':
      return `half-open (${s.successes} successful probes)`;
  }
}
