/**
 * The silences dispatch matches with, read from the {@link SilenceStore} at most once per `ttlMs`
 * of dispatch's clock per function instance (docs/design.md, "The notification pipeline":
 * silence). A silence added or expired reaches dispatch within `ttlMs`: the price of not reading
 * the silences table on every transition, which would add a request to every notification
 * (dispatch + channel is held to 4 DynamoDB requests per notification).
 */
import type { Clock } from '../../model/index.ts';
import type { SilenceStore } from './ports.ts';
import { InvalidSilenceError, validateSilence, type CompiledSilence } from './silence.ts';

/** How long dispatch keeps the silences it read (10 s): a silence takes effect within that. */
export const DEFAULT_SILENCE_CACHE_TTL_MS = 10_000;

/** Serves the compiled, not yet expired silences, read at most once per `ttlMs`. */
export class CachedSilences {
  #loadedAtMs = Number.NEGATIVE_INFINITY;
  #current: readonly CompiledSilence[] = [];

  constructor(
    private readonly store: SilenceStore,
    private readonly clock: Clock,
    private readonly ttlMs: number = DEFAULT_SILENCE_CACHE_TTL_MS,
    /** Told about a stored silence that does not validate (skipped: it mutes nothing). */
    private readonly onInvalid: (id: string, err: InvalidSilenceError) => void = () => {},
  ) {}

  /** The stored silences, compiled (the silence stage decides which are active on its clock). */
  async current(): Promise<readonly CompiledSilence[]> {
    const now = this.clock.now();
    if (now - this.#loadedAtMs >= this.ttlMs || now < this.#loadedAtMs) {
      const all = await this.store.list();
      const compiled: CompiledSilence[] = [];
      // Expired ones are kept too (the decision looks at each silence's state on dispatch's clock,
      // which local mode runs apart from the wall clock; the table keeps them only 5 days).
      for (const s of all) {
        try {
          compiled.push(validateSilence(s));
        } catch (err) {
          if (!(err instanceof InvalidSilenceError)) throw err;
          this.onInvalid(s.id, err);
        }
      }
      this.#current = compiled;
      this.#loadedAtMs = now;
    }
    return this.#current;
  }

  /** Forgets what was read (the next call reads the store). */
  invalidate(): void {
    this.#loadedAtMs = Number.NEGATIVE_INFINITY;
  }
}
