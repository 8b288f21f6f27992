/**
 * Silences, with Alertmanager 0.25's semantics (silence/silence.go): a silence mutes every alert
 * whose labels satisfy all of its matchers while it is active, `startsAt <= now < endsAt`.
 * Matchers are `=`, `!=`, `=~`, `!~`; regexes are fully anchored (`^(?:<re>)$`) and run on the
 * linear-time engine (shared/core/matchers, `alertmanager` flavour); a missing label is `""`.
 * docs/routing.md ("Silences"), docs/design.md ("The notification pipeline": silence).
 */
import { PermanentError } from '../../errors/index.ts';
import { matchesAll, MatcherSyntaxError, MATCH_OPS, type Matcher, type MatchOp } from '../../matchers/index.ts';
import { alertmanagerMatcher, formatAlertmanagerMatcher, parseAlertmanagerMatcher } from '../../matchers/alertmanager.ts';
import type { Labels } from '../../model/index.ts';

/** One matcher of a silence, as stored (Alertmanager's `{name, value, isRegex, isEqual}` written as an operator). */
export interface SilenceMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

/** A silence as stored (silences table, key `id`). Times are epoch milliseconds. */
export interface Silence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly createdBy: string;
  readonly comment: string;
  /** When it was created or last changed (expired). */
  readonly updatedAtMs: number;
  /**
   * "Until resolved" (a Slack button, docs/incidents.md): the alert fingerprint or group id whose
   * resolution expires it ({@link expireSilencesUntilResolved} in manage.ts). Absent: ends at `endsAt`.
   */
  readonly untilResolved?: string;
}

/** A silence with its matchers compiled (what the silence stage matches with). */
export interface CompiledSilence extends Silence {
  readonly compiled: readonly Matcher[];
}

/** The states of a silence, as Alertmanager names them. */
export const SILENCE_STATES = ['pending', 'active', 'expired'] as const;
/** One of {@link SILENCE_STATES}. */
export type SilenceState = (typeof SILENCE_STATES)[number];

/** A silence's state at `nowMs`: pending before `startsAt`, expired from `endsAt` on (silence.go `CalcSilenceState`). */
export function silenceState(s: Pick<Silence, 'startsAtMs' | 'endsAtMs'>, nowMs: number): SilenceState {
  if (nowMs < s.startsAtMs) return 'pending';
  if (nowMs >= s.endsAtMs) return 'expired';
  return 'active';
}

/**
 * A silence (or its input) is invalid; `field` names what is wrong (`matchers[1]`, `endsAt`),
 * and the message says it. Permanent: nothing is stored.
 */
export class InvalidSilenceError extends PermanentError {
  readonly field: string;
  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super(`${field}: ${problem}`, options);
    this.field = field;
  }
}

/** Whether a matcher matches the empty string (a missing label): Alertmanager refuses a silence made only of those. */
export function matchesEmpty(m: Matcher): boolean {
  return matchesAll([m], {});
}

/** The silence's matchers compiled; a bad one throws {@link InvalidSilenceError} naming `matchers[i]`. */
export function compileSilenceMatchers(matchers: readonly SilenceMatcher[]): Matcher[] {
  return matchers.map((m, i) => {
    if (!(MATCH_OPS as readonly string[]).includes(m.op)) throw new InvalidSilenceError(`matchers[${i}]`, `unknown operator ${JSON.stringify(m.op)} (expected one of ${MATCH_OPS.join(' ')})`);
    try {
      return alertmanagerMatcher(m.name, m.op, m.value);
    } catch (cause) {
      if (cause instanceof MatcherSyntaxError) throw new InvalidSilenceError(`matchers[${i}]`, cause.message, { cause });
      throw cause;
    }
  });
}

/**
 * Validates a silence as Alertmanager's `validateSilence` does, field by field, and compiles it:
 * an id; at least one matcher, each valid (label name, operator, a regex that compiles), not all
 * of them matching the empty string (such a silence would mute every alert); times that are
 * finite; `endsAt` not before `startsAt`. Throws {@link InvalidSilenceError} naming the field.
 */
export function validateSilence(s: Silence): CompiledSilence {
  if (typeof s.id !== 'string' || s.id.trim() === '') throw new InvalidSilenceError('id', 'missing');
  if (!Array.isArray(s.matchers) || s.matchers.length === 0) throw new InvalidSilenceError('matchers', 'at least one matcher is required');
  const compiled = compileSilenceMatchers(s.matchers);
  if (compiled.every(matchesEmpty)) throw new InvalidSilenceError('matchers', 'at least one matcher must not match the empty string (this silence would mute every alert)');
  if (!Number.isFinite(s.startsAtMs)) throw new InvalidSilenceError('startsAt', 'not a valid time');
  if (!Number.isFinite(s.endsAtMs)) throw new InvalidSilenceError('endsAt', 'not a valid time');
  if (s.endsAtMs < s.startsAtMs) throw new InvalidSilenceError('endsAt', `${new Date(s.endsAtMs).toISOString()} is before startsAt ${new Date(s.startsAtMs).toISOString()}`);
  return { ...s, compiled };
}

/** Parses matchers written as amtool takes them (`team="db"`, `host=~"db\.example"`); a bad one throws {@link InvalidSilenceError} naming `matchers[i]`. */
export function parseSilenceMatchers(texts: readonly string[]): SilenceMatcher[] {
  return texts.map((text, i) => {
    try {
      const m = parseAlertmanagerMatcher(text);
      return { name: m.name, op: m.op, value: m.value };
    } catch (cause) {
      if (cause instanceof MatcherSyntaxError) throw new InvalidSilenceError(`matchers[${i}]`, cause.message, { cause });
      throw cause;
    }
  });
}

/** A silence's matchers as text, `{team="db", host=~"db\\.example"}`. */
export function formatSilenceMatchers(matchers: readonly SilenceMatcher[]): string {
  return `{${matchers.map(formatAlertmanagerMatcher).join(', ')}}`;
}

/** Whether the silence's matchers all match `labels` (its time range aside). */
export function silenceMatches(s: CompiledSilence, labels: Labels): boolean {
  return matchesAll(s.compiled, labels);
}

/** Why the silence stage decided as it did. */
export const SILENCE_REASONS = ['not-silenced', 'silenced', 'resolution'] as const;
/** One of {@link SILENCE_REASONS}. */
export type SilenceReason = (typeof SILENCE_REASONS)[number];

/** Readable text for each {@link SilenceReason}. */
export const SILENCE_REASON_TEXT: Readonly<Record<SilenceReason, string>> = {
  'not-silenced': 'no active silence matches the labels',
  silenced: 'an active silence matches the labels: recorded, not notified, checked again when the silence ends',
  resolution: 'a resolution is not silenced: it goes where its firing was notified (nowhere if it never was)',
};

/** The silence decision. */
export type SilenceDecision =
  | { readonly verdict: 'notify'; readonly reason: 'not-silenced' | 'resolution' }
  | {
      readonly verdict: 'mute';
      readonly reason: 'silenced';
      /** The ids of every active silence that matches, sorted. */
      readonly silencedBy: readonly string[];
      /** When to decide again: the earliest end among them (another may still hold; it is decided then). */
      readonly recheckAtMs: number;
    };

/**
 * Decides whether a transition is muted by a silence at `nowMs` (dispatch's clock). A firing is
 * muted by every active silence whose matchers all match its labels (with `severity`); a
 * resolution is never muted here: it goes only where its firing was notified, so the resolution
 * of a firing that a silence kept from being notified goes nowhere, and the resolution of one
 * that was notified closes it (a PagerDuty incident is resolved) even under a silence.
 */
export function decideSilence(kind: 'firing' | 'resolved', labels: Labels, silences: readonly CompiledSilence[], nowMs: number): SilenceDecision {
  if (kind === 'resolved') return { verdict: 'notify', reason: 'resolution' };
  const hits = silences.filter((s) => silenceState(s, nowMs) === 'active' && silenceMatches(s, labels));
  if (hits.length === 0) return { verdict: 'notify', reason: 'not-silenced' };
  return { verdict: 'mute', reason: 'silenced', silencedBy: hits.map((s) => s.id).sort(), recheckAtMs: Math.min(...hits.map((s) => s.endsAtMs)) };
}
