/**
 * In-memory implementations of the silence ports (`ports.ts`) with the DynamoDB adapters'
 * semantics: fast tests and `klaxon` simulations.
 */
import type { InMemoryAlertStore } from '../in-memory.ts';
import { recheckDueAt, type AlertRecord } from '../record/alert-record.ts';
import { SilenceExistsError, SilenceExpiredError, SilenceNotFoundError, type MutedAlertIndex, type SilenceStore } from './ports.ts';
import { silenceState, type Silence } from './silence.ts';

/** {@link SilenceStore} in a Map; counts list() calls (one Scan each in production). */
export class InMemorySilenceStore implements SilenceStore {
  private readonly items = new Map<string, Silence>();
  /** list() calls served. */
  lists = 0;

  constructor(silences: readonly Silence[] = []) {
    for (const s of silences) this.items.set(s.id, s);
  }

  async list(): Promise<Silence[]> {
    this.lists++;
    return [...this.items.values()];
  }

  async get(id: string): Promise<Silence | undefined> {
    return this.items.get(id);
  }

  async create(silence: Silence): Promise<void> {
    if (this.items.has(silence.id)) throw new SilenceExistsError(`silence ${silence.id} exists already`);
    this.items.set(silence.id, silence);
  }

  async put(silence: Silence): Promise<void> {
    this.items.set(silence.id, silence);
  }

  async expire(id: string, nowMs: number): Promise<Silence> {
    const s = this.items.get(id);
    if (!s) throw new SilenceNotFoundError(`silence ${id} not found`);
    const next = expiredAt(s, nowMs);
    this.items.set(id, next);
    return next;
  }
}

/** The silence ended at `nowMs` (silence.go `Expire`); throws {@link SilenceExpiredError} if it already had. */
export function expiredAt(s: Silence, nowMs: number): Silence {
  const state = silenceState(s, nowMs);
  if (state === 'expired') throw new SilenceExpiredError(`silence ${s.id} already expired at ${new Date(s.endsAtMs).toISOString()}`);
  return state === 'pending' ? { ...s, startsAtMs: nowMs, endsAtMs: nowMs, updatedAtMs: nowMs } : { ...s, endsAtMs: nowMs, updatedAtMs: nowMs };
}

/** {@link MutedAlertIndex} over an {@link InMemoryAlertStore} (what the sparse `by-recheck` index holds: records with `muted`). */
export class InMemoryMutedAlertIndex implements MutedAlertIndex {
  constructor(private readonly alerts: InMemoryAlertStore) {}

  async due(nowMs: number, limit: number): Promise<AlertRecord[]> {
    return this.alerts
      .all()
      .filter((r) => (recheckDueAt(r) ?? Infinity) <= nowMs)
      .sort((a, b) => recheckDueAt(a)! - recheckDueAt(b)!)
      .slice(0, limit);
  }

  async recheckNow(silenceId: string, atMs: number): Promise<number> {
    let n = 0;
    for (const r of this.alerts.all()) {
      if (!r.muted?.silencedBy.includes(silenceId) || r.muted.recheckAtMs <= atMs) continue;
      this.alerts.setMuted(r.fingerprint, { ...r.muted, recheckAtMs: atMs });
      n++;
    }
    return n;
  }
}
