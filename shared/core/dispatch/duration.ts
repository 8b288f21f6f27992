/**
 * Durations as people write them in dispatch's configuration (THROTTLE_WINDOWS: `90s`, `5m`,
 * `1h30m`, `0`) and as messages show them (`1h`, `15m`, `1h30m`). The grammar is the rule files'
 * (shared/core/rules/duration.ts, Prometheus's `model.ParseDuration`), so a duration that works
 * in a rule works here too; this module only adapts it to "undefined when not a duration".
 */
import { DurationSyntaxError, formatDuration as formatRuleDuration, parseDuration as parseRuleDuration } from '../rules/duration.ts';

/** Parses `1h30m`, `5m`, `90s`, `250ms`, `0`; returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  try {
    return parseRuleDuration(text.trim());
  } catch (err) {
    if (err instanceof DurationSyntaxError) return undefined;
    throw err;
  }
}

/** Milliseconds as the largest whole units, e.g. 3_600_000 → `1h`, 5_400_000 → `1h30m`; sub-second values as `1500ms`. */
export function formatDuration(ms: number): string {
  return ms % 1000 !== 0 ? `${ms}ms` : formatRuleDuration(ms);
}
