/**
 * The ports of silences (docs/design.md, "The notification pipeline": silence): where silences are
 * kept (the silences table in production, `InMemorySilenceStore` in tests and simulations), and
 * how the alerts a silence muted are found again when it ends (the alerts table's sparse
 * `by-recheck` index).
 */
import { PermanentError } from '../../errors/index.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import type { Silence } from './silence.ts';

/** Silences: created, listed, expired. Expired ones stay until their TTL (so `query --expired` finds them). */
export interface SilenceStore {
  /** Every stored silence (pending, active, and expired ones not yet deleted by the TTL). */
  list(): Promise<Silence[]>;
  get(id: string): Promise<Silence | undefined>;
  /** Stores a new silence; throws {@link SilenceExistsError} if its id is taken. */
  create(silence: Silence): Promise<void>;
  /** Stores a silence, replacing one with the same id (import). */
  put(silence: Silence): Promise<void>;
  /**
   * Ends a silence now: an active one gets `endsAt = now`, a pending one `startsAt = endsAt = now`
   * (silence.go `Expire`). Throws {@link SilenceNotFoundError}, or {@link SilenceExpiredError}
   * when it already ended. Returns the silence as stored after.
   */
  expire(id: string, nowMs: number): Promise<Silence>;
}

/** No silence has this id. */
export class SilenceNotFoundError extends PermanentError {}
/** The silence already ended. */
export class SilenceExpiredError extends PermanentError {}
/** A silence with this id exists already. */
export class SilenceExistsError extends PermanentError {}

/** The alert records a silence muted, found again by the time they are due to be decided again. */
export interface MutedAlertIndex {
  /** Records whose muted firing is due (`muted.recheckAtMs <= nowMs`), at most `limit`, earliest first. */
  due(nowMs: number, limit: number): Promise<AlertRecord[]>;
  /**
   * Makes every record muted by `silenceId` due at `atMs` (the silence was expired early) when it
   * is due later, so a sweep from then on decides them again. Returns how many.
   */
  recheckNow(silenceId: string, atMs: number): Promise<number>;
}
