/**
 * Grouping: a batch of samples → one {@link SeriesBatch} per (rule, series) state to read.
 */
import type { Labels, MetricSample } from '../model/index.ts';
import type { Rule, RuleIndex } from '../rules/index.ts';
import { seriesKey, stateKeyFrom } from './identity.ts';
import type { SeriesBatch } from './types.ts';

/** Same labels in the same order (the common case of one producer), or the same object. */
function sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _k in b) n--;
  return n === 0;
}

/** What a series resolves to under a rule index: its canonical key, its rules and their state keys. */
interface SeriesInfo {
  readonly rules: readonly Rule[];
  readonly stateKeys: readonly string[];
}

/** Most series remembered per rule index between batches (then the memo starts over). */
const SERIES_MEMO_MAX = 200_000;
const seriesMemo = new WeakMap<RuleIndex, Map<string, SeriesInfo>>();

function seriesInfo(index: RuleIndex, name: string, labels: Labels): SeriesInfo | undefined {
  if (!index.hasMetric(name)) return undefined;
  let memo = seriesMemo.get(index);
  if (!memo) seriesMemo.set(index, (memo = new Map()));
  // Cheap identity first (labels in arrival order); the canonical key only for a new one.
  const raw = `${name}${JSON.stringify(labels)}`;
  let info = memo.get(raw);
  if (!info) {
    const rules = index.match(name, labels);
    const sk = seriesKey(name, labels);
    info = { rules, stateKeys: rules.map((r) => stateKeyFrom(r.id, name, sk)) };
    if (memo.size >= SERIES_MEMO_MAX) memo.clear();
    memo.set(raw, info);
  }
  return info;
}

/**
 * Groups samples by (rule, series): one {@link SeriesBatch} per state to read, samples sorted by
 * time. Samples no rule watches are dropped here.
 *
 * Hot path: consecutive samples of one series reuse the previous lookup; a series is otherwise
 * found by a cheap identity (metric + labels JSON in arrival order) in a bounded memo kept per rule
 * index across batches, so label sorting and matcher evaluation happen once per series, not per
 * sample.
 */
export function groupSamples(index: RuleIndex, samples: readonly MetricSample[]): SeriesBatch[] {
  type Group = { stateKey: string; rule: Rule; metric: string; labels: Labels; samples: MetricSample[]; unsorted: boolean };
  const groups = new Map<string, Group>();
  const out: Group[] = [];
  let prev: MetricSample | undefined;
  let prevGroups: Group[] | undefined;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    let gs: Group[];
    if (prev && prevGroups && s.name === prev.name && sameLabels(s.labels, prev.labels)) {
      gs = prevGroups;
    } else {
      const info = seriesInfo(index, s.name, s.labels);
      if (!info || info.rules.length === 0) {
        prev = undefined;
        continue;
      }
      gs = [];
      for (let j = 0; j < info.rules.length; j++) {
        const key = info.stateKeys[j]!;
        let g = groups.get(key);
        if (!g) {
          g = { stateKey: key, rule: info.rules[j]!, metric: s.name, labels: s.labels, samples: [], unsorted: false };
          groups.set(key, g);
          out.push(g);
        }
        gs.push(g);
      }
    }
    prev = s;
    prevGroups = gs;
    for (let j = 0; j < gs.length; j++) {
      const g = gs[j]!;
      const n = g.samples.length;
      if (n > 0 && s.timestampMs < g.samples[n - 1]!.timestampMs) g.unsorted = true;
      g.samples.push(s);
    }
  }
  const result: SeriesBatch[] = [];
  for (const g of out) {
    if (g.unsorted) g.samples.sort((a, b) => a.timestampMs - b.timestampMs);
    result.push({ stateKey: g.stateKey, rule: g.rule, metric: g.metric, labels: g.labels, samples: g.samples });
  }
  return result;
}
