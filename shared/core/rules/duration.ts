/**
 * Prometheus-style durations (`30s`, `5m`, `1h30m`, `250ms`, `0`), as written in rule files.
 * Units, largest first: `w` (7 days), `d` (24 h), `h`, `m`, `s`, `ms`; each at most once, in that
 * order (as Prometheus's `model.ParseDuration` requires).
 */

/** Regex source of a duration, also used by the JSON Schema. */
export const DURATION_PATTERN = '^(?:0|(?:\\d+w)?(?:\\d+d)?(?:\\d+h)?(?:\\d+m)?(?:\\d+s)?(?:\\d+ms)?)$';

const DURATION_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1] as const;

/** A duration could not be parsed. */
export class DurationSyntaxError extends Error {
  override name = 'DurationSyntaxError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Parses a duration into milliseconds. `0` (number or string) is zero. Throws {@link DurationSyntaxError}. */
export function parseDuration(text: string | number): number {
  if (text === 0 || text === '0') return 0;
  if (typeof text !== 'string' || text === '') throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: expected e.g. 30s, 5m, 1h30m`);
  const m = DURATION_RE.exec(text);
  if (!m) throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: expected e.g. 30s, 5m, 1h30m (units w d h m s ms, largest first)`);
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNIT_MS[i]!;
  }
  if (!Number.isSafeInteger(ms)) throw new DurationSyntaxError(`duration ${JSON.stringify(text)} is too large`);
  return ms;
}

/** Formats milliseconds back into the shortest duration text (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units = ['w', 'd', 'h', 'm', 's', 'ms'] as const;
  let rest = ms;
  let out = '';
  for (let i = 0; i < UNIT_MS.length; i++) {
    const n = Math.floor(rest / UNIT_MS[i]!);
    if (n > 0) {
      out += `${n}${units[i]}`;
      rest -= n * UNIT_MS[i]!;
    }
  }
  return out;
}
