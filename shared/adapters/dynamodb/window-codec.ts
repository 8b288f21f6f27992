/**
 * The stored form of a series' window sample times: DynamoDB bills one write unit per KB of the
 * whole item, and a window's times are most of it (a 1 h window at 10 s holds 360 epoch-ms times,
 * 14 characters each: 5 KB). Producers sample at a fixed interval, so the gaps between times repeat:
 * the times are kept as the first time and runs of equal gaps, `t0|gap*count|gap*count...` (the
 * idea of Prometheus's delta-of-delta chunk encoding, in text), which is a few dozen characters for
 * a regular series and never longer than the plain list by more than a few characters a sample.
 *
 * Only the state table's item uses it (the adapter encodes on write and decodes on read); the core
 * and the in-memory store keep plain arrays. Items written before it existed (plain `wt` arrays)
 * read as they are.
 */

/** Encodes ascending integer times as `t0|gap*count|...` (a run of one gap is written `gap`). */
export function encodeTimes(times: readonly number[]): string {
  if (times.length === 0) return '';
  let out = String(times[0]);
  let gap = NaN;
  let run = 0;
  const flush = (): void => {
    if (run > 0) out += run === 1 ? `|${gap}` : `|${gap}*${run}`;
  };
  for (let i = 1; i < times.length; i++) {
    const d = times[i]! - times[i - 1]!;
    if (d === gap) {
      run++;
      continue;
    }
    flush();
    gap = d;
    run = 1;
  }
  flush();
  return out;
}

/** Decodes {@link encodeTimes}; throws a RangeError on text it did not produce. */
export function decodeTimes(text: string): number[] {
  if (text === '') return [];
  const parts = text.split('|');
  const first = Number(parts[0]);
  if (!Number.isSafeInteger(first)) throw new RangeError(`window times: bad first time ${JSON.stringify(parts[0])}`);
  const out = [first];
  let t = first;
  for (let i = 1; i < parts.length; i++) {
    const [g, n] = parts[i]!.split('*');
    const gap = Number(g);
    const count = n === undefined ? 1 : Number(n);
    if (!Number.isSafeInteger(gap) || !Number.isSafeInteger(count) || count < 1) throw new RangeError(`window times: bad run ${JSON.stringify(parts[i])}`);
    for (let k = 0; k < count; k++) out.push((t += gap));
  }
  return out;
}

/** The state as stored: `wt` replaced by its encoded form `wtc` (other fields as they are). */
export function compactState(state: unknown): unknown {
  if (typeof state !== 'object' || state === null || !Array.isArray((state as { wt?: unknown }).wt)) return state;
  const { wt, ...rest } = state as { wt: number[] };
  return { ...rest, wtc: encodeTimes(wt) };
}

/** The state as read: `wtc` decoded back into `wt`; a state stored with a plain `wt` is returned as it is. */
export function expandState(state: unknown): unknown {
  if (typeof state !== 'object' || state === null || typeof (state as { wtc?: unknown }).wtc !== 'string') return state;
  const { wtc, ...rest } = state as { wtc: string };
  return { ...rest, wt: decodeTimes(wtc) };
}
