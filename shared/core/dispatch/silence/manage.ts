/**
 * What people do with silences (the `klaxon silence` commands and the local console): add,
 * query, expire, import and export, with Alertmanager's rules and amtool's JSON format
 * (docs/routing.md, "Silences"). Validation happens before anything is stored.
 */
import { matchesAll, MATCH_OPS, type MatchOp } from '../../matchers/index.ts';
import { alertmanagerMatcher } from '../../matchers/alertmanager.ts';
import { DEFAULT_SILENCE_CACHE_TTL_MS } from './cache.ts';
import { SilenceExpiredError, SilenceNotFoundError, type MutedAlertIndex, type SilenceStore } from './ports.ts';
import { InvalidSilenceError, parseSilenceMatchers, silenceState, validateSilence, type Silence, type SilenceMatcher, type SilenceState } from './silence.ts';

/** A new silence as asked for: matchers as text or parts, a start (default now) and an end or a duration. */
export interface SilenceInput {
  readonly matchers: readonly (string | SilenceMatcher)[];
  readonly startsAtMs?: number;
  readonly endsAtMs?: number;
  readonly durationMs?: number;
  readonly createdBy: string;
  readonly comment: string;
}

/**
 * The silence `input` asks for, validated (Alertmanager's `validateSilence`, plus the API's
 * refusal of an end in the past). Throws {@link InvalidSilenceError} naming the field.
 */
export function buildSilence(input: SilenceInput, id: string, nowMs: number): Silence {
  const matchers = input.matchers.map((m, i) => (typeof m === 'string' ? parseOne(m, i) : m));
  if (input.comment.trim() === '') throw new InvalidSilenceError('comment', 'required (say why, as amtool asks)');
  if (input.createdBy.trim() === '') throw new InvalidSilenceError('createdBy', 'required');
  const startsAtMs = input.startsAtMs ?? nowMs;
  if (input.durationMs !== undefined && !(input.durationMs > 0)) throw new InvalidSilenceError('duration', 'must be positive');
  const endsAtMs = input.endsAtMs ?? (input.durationMs !== undefined ? startsAtMs + input.durationMs : Number.NaN);
  if (Number.isNaN(endsAtMs)) throw new InvalidSilenceError('endsAt', 'required (or a duration)');
  const s: Silence = { id, matchers, startsAtMs, endsAtMs, createdBy: input.createdBy, comment: input.comment, updatedAtMs: nowMs };
  validateSilence(s);
  if (endsAtMs <= nowMs) throw new InvalidSilenceError('endsAt', `${new Date(endsAtMs).toISOString()} is not in the future`);
  return s;
}

function parseOne(text: string, i: number): SilenceMatcher {
  try {
    return parseSilenceMatchers([text])[0]!;
  } catch (err) {
    if (err instanceof InvalidSilenceError) throw new InvalidSilenceError(`matchers[${i}]`, err.message.replace(/^matchers\[0\]: /, ''), { cause: err });
    throw err;
  }
}

/** Validates and stores a new silence; nothing is stored when it is invalid. */
export async function addSilence(store: SilenceStore, input: SilenceInput, id: string, nowMs: number): Promise<Silence> {
  const s = buildSilence(input, id, nowMs);
  await store.create(s);
  return s;
}

/**
 * Expires silences now; the firings they muted become due once dispatch's silence cache has
 * forgotten the silence (`settleMs`, default the cache lifetime: a re-check decided by an
 * instance that still holds the silence as active would mute the firing again until the
 * silence's original end), so a timers sweep soon after notifies those no other silence holds.
 * Throws on the first unknown or already expired id.
 */
export async function expireSilences(
  ports: { readonly silences: SilenceStore; readonly muted?: MutedAlertIndex },
  ids: readonly string[],
  nowMs: number,
  settleMs: number = DEFAULT_SILENCE_CACHE_TTL_MS,
): Promise<Silence[]> {
  const out: Silence[] = [];
  for (const id of ids) {
    out.push(await ports.silences.expire(id, nowMs));
    await ports.muted?.recheckNow(id, nowMs + settleMs);
  }
  return out;
}

/**
 * Expires the silences made "until resolved" for an alert (or group): those whose `untilResolved`
 * is `target` and that have not ended. Dispatch calls it when that alert resolves (the Slack button
 * "Silence until resolved", docs/incidents.md). Returns the silences expired; one already expired
 * by someone else meanwhile is skipped.
 */
export async function expireSilencesUntilResolved(
  ports: { readonly silences: SilenceStore; readonly muted?: MutedAlertIndex },
  target: string,
  nowMs: number,
  settleMs: number = DEFAULT_SILENCE_CACHE_TTL_MS,
): Promise<Silence[]> {
  const marked = (await ports.silences.list()).filter((s) => s.untilResolved === target && silenceState(s, nowMs) !== 'expired');
  const out: Silence[] = [];
  for (const s of marked) {
    try {
      out.push(...(await expireSilences(ports, [s.id], nowMs, settleMs)));
    } catch (err) {
      if (!(err instanceof SilenceExpiredError) && !(err instanceof SilenceNotFoundError)) throw err;
    }
  }
  return out;
}

/**
 * amtool's `silence query` filter (Alertmanager's `CheckSilenceMatchesFilterLabels`): each filter
 * matcher is matched against the silence's matchers read as labels (name → value as written); a
 * filter `name=""` (or `!=""`) accepts a silence without (with) that name. Without `expired`, the
 * pending and active silences; with it, only the expired ones. Sorted by end, then id.
 */
export function querySilences(silences: readonly Silence[], filter: readonly string[], options: { readonly expired: boolean }, nowMs: number): Silence[] {
  const ms = parseSilenceMatchers(filter).map((m, i) => {
    try {
      return alertmanagerMatcher(m.name, m.op, m.value);
    } catch (cause) {
      throw new InvalidSilenceError(`matchers[${i}]`, (cause as Error).message, { cause });
    }
  });
  return silences
    .filter((s) => (silenceState(s, nowMs) === 'expired') === options.expired)
    .filter((s) => {
      const sms = new Map(s.matchers.map((m) => [m.name, m.value]));
      return ms.every((m) => {
        const present = sms.has(m.name);
        const negative = m.op === '!=' || m.op === '!~';
        if (m.value === '' && (negative ? present : !present)) return true;
        return matchesAll([m], { [m.name]: sms.get(m.name) ?? '' });
      });
    })
    .sort((a, b) => a.endsAtMs - b.endsAtMs || a.id.localeCompare(b.id));
}

/** A silence in Alertmanager's API v2 JSON (what `amtool silence query -o json` prints and `amtool silence import` reads). */
export interface AlertmanagerSilenceJson {
  readonly id?: string;
  readonly matchers: readonly { readonly name: string; readonly value: string; readonly isRegex: boolean; readonly isEqual?: boolean }[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdBy: string;
  readonly comment: string;
  readonly updatedAt?: string;
  readonly status?: { readonly state: SilenceState };
}

/** A silence as Alertmanager's API writes it. */
export function toAlertmanagerJson(s: Silence, nowMs: number): AlertmanagerSilenceJson {
  return {
    id: s.id,
    matchers: s.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.op === '=~' || m.op === '!~', isEqual: m.op === '=' || m.op === '=~' })),
    startsAt: new Date(s.startsAtMs).toISOString(),
    endsAt: new Date(s.endsAtMs).toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    updatedAt: new Date(s.updatedAtMs).toISOString(),
    status: { state: silenceState(s, nowMs) },
  };
}

function op(isRegex: boolean, isEqual: boolean): MatchOp {
  return isRegex ? (isEqual ? '=~' : '!~') : isEqual ? '=' : '!=';
}

/**
 * The silences of an export (Alertmanager's JSON, or Klaxon's own `{id, matchers: ["a=\"b\""], ...}`),
 * each validated; `newId` gives an id to one without. Throws {@link InvalidSilenceError} naming
 * `[i].field`; nothing is stored by this function.
 */
export function parseSilenceImport(doc: unknown, newId: () => string, nowMs: number): Silence[] {
  if (!Array.isArray(doc)) throw new InvalidSilenceError('(file)', 'expected a list of silences');
  return doc.map((raw: unknown, i) => {
    const at = (field: string, problem: string): never => {
      throw new InvalidSilenceError(`[${i}].${field}`, problem);
    };
    if (typeof raw !== 'object' || raw === null) return at('', 'expected an object');
    const o = raw as Record<string, unknown>;
    const time = (field: 'startsAt' | 'endsAt'): number => {
      const v = o[field] ?? o[`${field}Ms`];
      const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
      return Number.isFinite(ms) ? ms : at(field, `not a valid time: ${JSON.stringify(v)}`);
    };
    if (!Array.isArray(o.matchers)) return at('matchers', 'expected a list');
    const matchers = o.matchers.map((m: unknown, j): SilenceMatcher => {
      if (typeof m === 'string') {
        try {
          return parseSilenceMatchers([m])[0]!;
        } catch (err) {
          return at(`matchers[${j}]`, (err as Error).message.replace(/^matchers\[0\]: /, ''));
        }
      }
      const mm = m as Record<string, unknown>;
      if (typeof mm?.name !== 'string' || typeof mm.value !== 'string') return at(`matchers[${j}]`, 'expected {name, value, isRegex, isEqual} or a matcher such as team="db"');
      if (typeof mm.op === 'string' && (MATCH_OPS as readonly string[]).includes(mm.op)) return { name: mm.name, op: mm.op as MatchOp, value: mm.value };
      return { name: mm.name, op: op(mm.isRegex === true, mm.isEqual !== false), value: mm.value };
    });
    const s: Silence = {
      id: typeof o.id === 'string' && o.id !== '' ? o.id : newId(),
      matchers,
      startsAtMs: time('startsAt'),
      endsAtMs: time('endsAt'),
      createdBy: typeof o.createdBy === 'string' ? o.createdBy : at('createdBy', 'required'),
      comment: typeof o.comment === 'string' ? o.comment : at('comment', 'required'),
      updatedAtMs: nowMs,
    };
    try {
      validateSilence(s);
    } catch (err) {
      if (err instanceof InvalidSilenceError) return at(err.field, err.message.slice(err.field.length + 2));
      throw err;
    }
    return s;
  });
}
