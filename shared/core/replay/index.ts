/**
 * Replay: the evaluation core with in-memory state and a virtual clock, for `klaxon replay` and
 * `klaxon rules test`. Samples are taken in time order; before each distinct sample time the
 * virtual clock advances to it (absence rules fire, stale series resolve) exactly as the timers
 * function would, so a replay prints the transitions production would have produced.
 */
import type { Labels, MetricSample, StateChange } from '../model/index.ts';
import { RuleIndex, type Rule } from '../rules/index.ts';
import {
  advanceClock,
  DEFAULT_STALE_AFTER_MS,
  evaluateSeries,
  expectedAbsenceSeries,
  groupSamples,
  initialAbsenceState,
  nextDueMs,
  type SeriesState,
  type TimeOptions,
} from '../evaluate/index.ts';

interface Entry {
  readonly rule: Rule;
  readonly labels: Labels;
  state: SeriesState;
  due: number | undefined;
}

/** In-memory evaluator with a virtual clock (event time). */
export class InMemoryEvaluator {
  private readonly index: RuleIndex;
  private readonly opts: TimeOptions;
  private readonly entries = new Map<string, Entry>();
  private nowMs = -Infinity;
  private minDue = Infinity;
  private started = false;
  /** Samples skipped as out of order or duplicate, in total. */
  skipped = 0;

  constructor(rules: readonly Rule[], opts?: { staleAfterMs?: number }) {
    this.index = new RuleIndex(rules);
    this.opts = { staleAfterMs: opts?.staleAfterMs ?? DEFAULT_STALE_AFTER_MS };
  }

  /** The virtual clock (epoch ms); -Infinity before anything happened. */
  get now(): number {
    return this.nowMs;
  }

  private track(key: string, e: Entry): void {
    e.due = nextDueMs(e.rule, e.state, this.opts);
    this.entries.set(key, e);
    if (e.due !== undefined && e.due < this.minDue) this.minDue = e.due;
  }

  /** Expected absence series start counting silence when the clock first starts. */
  private start(nowMs: number): void {
    this.started = true;
    for (const rule of this.index.rules) {
      for (const s of expectedAbsenceSeries(rule)) {
        if (!this.entries.has(s.stateKey)) this.track(s.stateKey, { rule, labels: s.labels, state: initialAbsenceState(rule, nowMs), due: undefined });
      }
    }
  }

  /** Advances the virtual clock to `nowMs` (never backwards) and returns the changes that became due. */
  advanceTo(nowMs: number): StateChange[] {
    if (!this.started) this.start(nowMs);
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    const now = this.nowMs;
    if (now < this.minDue) return [];
    const changes: StateChange[] = [];
    let minDue = Infinity;
    for (const [key, e] of this.entries) {
      if (e.due !== undefined && e.due <= now) {
        const res = advanceClock(e.rule, e.labels, e.state, now, this.opts);
        changes.push(...res.changes);
        if (res.state === undefined) {
          this.entries.delete(key);
          continue;
        }
        e.state = res.state;
        e.due = nextDueMs(e.rule, e.state, this.opts);
      }
      if (e.due !== undefined && e.due < minDue) minDue = e.due;
    }
    this.minDue = minDue;
    return changes.sort((a, b) => a.atMs - b.atMs);
  }

  /** Evaluates samples in time order, advancing the virtual clock through them. Returns every change. */
  ingest(samples: readonly MetricSample[]): StateChange[] {
    const sorted = [...samples].sort((a, b) => a.timestampMs - b.timestampMs);
    const changes: StateChange[] = [];
    let i = 0;
    while (i < sorted.length) {
      const t = sorted[i]!.timestampMs;
      let j = i;
      while (j < sorted.length && sorted[j]!.timestampMs === t) j++;
      changes.push(...this.advanceTo(t));
      for (const b of groupSamples(this.index, sorted.slice(i, j))) {
        const e = this.entries.get(b.stateKey);
        const res = evaluateSeries(b, e?.state, this.opts);
        this.skipped += res.skipped;
        changes.push(...res.changes);
        if (e) {
          e.state = res.state;
          e.due = nextDueMs(e.rule, e.state, this.opts);
          if (e.due !== undefined && e.due < this.minDue) this.minDue = e.due;
        } else {
          this.track(b.stateKey, { rule: b.rule, labels: b.labels, state: res.state, due: undefined });
        }
      }
      i = j;
    }
    return changes;
  }

  /** Alerts firing now. */
  firing(): { rule: Rule; labels: Labels; state: SeriesState }[] {
    const out: { rule: Rule; labels: Labels; state: SeriesState }[] = [];
    for (const e of this.entries.values()) if (e.state.state === 'firing') out.push({ rule: e.rule, labels: e.labels, state: e.state });
    return out;
  }
}
