/**
 * What the local console does with silences (docs/routing.md, "Silences"): list them, add one,
 * expire one, on the silences table of the local pipeline and on the pipeline's clock (event
 * time, which `--speed` runs faster than the wall clock). The same core functions as
 * `klaxon silence`; an invalid silence is refused with the field named, nothing stored.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseDuration } from '../../shared/core/dispatch/duration.ts';
import { addSilence, expireSilences, InvalidSilenceError, silenceState, type Silence, type SilenceState } from '../../shared/core/dispatch/silence/index.ts';
import { DynamoMutedAlertIndex, DynamoSilenceStore } from '../../shared/adapters/dynamodb/silence-store.ts';
import type { Clock } from '../../shared/core/model/index.ts';

/** A silence as the console shows it. */
export type SilenceView = Silence & { readonly state: SilenceState };

/** The console's silence actions (what `POST /api/silences` and `POST /api/silences/<id>/expire` call). */
export interface ConsoleSilences {
  list(): Promise<SilenceView[]>;
  /** `{matchers: ['team="db"', ...], duration: '2h', comment, createdBy?}`. Throws {@link InvalidSilenceError}. */
  add(body: unknown): Promise<Silence>;
  expire(id: string): Promise<Silence>;
}

/** The console's silences on the local tables. */
export function consoleSilences(dynamodb: DynamoDBClient, tables: { readonly silences: string; readonly alerts: string }, clock: Clock): ConsoleSilences {
  const store = new DynamoSilenceStore(dynamodb, tables.silences);
  const muted = new DynamoMutedAlertIndex(dynamodb, tables.alerts);
  return {
    async list() {
      const now = clock.now();
      return (await store.list()).map((s) => ({ ...s, state: silenceState(s, now) })).sort((a, b) => a.state.localeCompare(b.state) || a.endsAtMs - b.endsAtMs);
    },
    async add(body) {
      const b = (body ?? {}) as { matchers?: unknown; duration?: unknown; comment?: unknown; createdBy?: unknown };
      if (!Array.isArray(b.matchers) || !b.matchers.every((m) => typeof m === 'string')) throw new InvalidSilenceError('matchers', 'expected a list of matchers such as team="db"');
      const durationMs = typeof b.duration === 'string' ? parseDuration(b.duration) : undefined;
      if (durationMs === undefined) throw new InvalidSilenceError('duration', `expected a duration such as 2h (got ${JSON.stringify(b.duration)})`);
      return addSilence(
        store,
        { matchers: b.matchers as string[], durationMs, comment: typeof b.comment === 'string' ? b.comment : '', createdBy: typeof b.createdBy === 'string' && b.createdBy !== '' ? b.createdBy : 'console' },
        randomUUID(),
        clock.now(),
      );
    },
    async expire(id) {
      const [s] = await expireSilences({ silences: store, muted }, [id], clock.now());
      return s!;
    },
  };
}
