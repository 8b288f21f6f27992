/**
 * Replay: the evaluation sequence of production ({@link evaluateBatch}, {@link advanceTimers})
 * run against in-memory ports with a virtual clock, for `klaxon replay` and `klaxon rules test`.
 * It is the same code with the same guards (future skew, series limits, out-of-order skips) and
 * the same order of work; only the clock differs: production's timers run on the wall clock each
 * minute, a replay runs them before each batch at the batch's time, which gives the same
 * transitions because every time-based end is decided in event time.
 *
 * Two ways in:
 * - {@link InMemoryEvaluator.ingestBatch}: one batch as production would receive it, samples in
 *   arrival order (`klaxon replay` feeds each input line as a batch, so an out-of-order or
 *   duplicate line is skipped exactly as production skips it);
 * - {@link InMemoryEvaluator.ingest}: samples sorted by time and fed one instant at a time, the
 *   shape of a promtool-style rule test.
 */
import type { AlertTransition, Labels, MetricSample, StateChange } from '../model/index.ts';
import type { JobEvent } from '../events/types.ts';
import { DEFAULT_EVENTS_CONFIG, type EventsConfig } from '../events/config.ts';
import { applyJobEvents, InMemoryErrorAlertStore, resolveQuietErrors } from '../events/sequence.ts';
import { RuleIndex, type Rule } from '../rules/index.ts';
import { DEFAULT_STALE_AFTER_MS, type AlertStateChange, type SeriesState } from '../evaluate/index.ts';
import {
  advanceTimers,
  CollectingPublisher,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  DEFAULT_SERIES_LIMIT_PER_RULE,
  evaluateBatch,
  InMemorySeriesBudget,
  InMemorySeriesStateStore,
  type SeriesLimitBreach,
} from '../sequence/index.ts';

/** Options of a replay. */
export interface ReplayOptions {
  readonly staleAfterMs?: number;
  readonly maxFutureSkewMs?: number;
  readonly seriesLimitPerRule?: number;
}

/** In-memory evaluator with a virtual clock (event time). */
export class InMemoryEvaluator {
  private readonly index: RuleIndex;
  private readonly staleAfterMs: number;
  private readonly maxFutureSkewMs: number;
  private readonly seriesLimitPerRule: number;
  private readonly states = new InMemorySeriesStateStore<SeriesState>((s) => s.state === 'firing');
  private readonly budget = new InMemorySeriesBudget();
  private readonly knownExpected = new Set<string>();
  /** Transitions as production would publish them (deduplicated by id). */
  readonly publisher = new CollectingPublisher();
  private nowMs = -Infinity;
  /** Samples skipped as out of order or duplicate, in total. */
  skipped = 0;
  /** Samples not evaluated because they were stamped beyond the clock + skew. */
  future = 0;
  /** Rules that reached their series limit. */
  readonly limited: SeriesLimitBreach[] = [];

  constructor(rules: readonly Rule[], opts: ReplayOptions = {}) {
    this.index = new RuleIndex(rules);
    this.staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    this.maxFutureSkewMs = opts.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
    this.seriesLimitPerRule = opts.seriesLimitPerRule ?? DEFAULT_SERIES_LIMIT_PER_RULE;
  }

  /** State writes applied so far (a quiet series is not rewritten on every batch). */
  get writes(): number {
    return this.states.writes;
  }

  /** The virtual clock (epoch ms); -Infinity before anything happened. */
  get now(): number {
    return this.nowMs;
  }

  /** Advances the virtual clock to `nowMs` (never backwards) and runs the timers: returns the changes that became due. */
  async advanceTo(nowMs: number): Promise<AlertStateChange[]> {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    const res = await advanceTimers(
      { states: this.states, publisher: this.publisher, budget: this.budget, clock: { now: () => this.nowMs }, knownExpected: this.knownExpected },
      this.index,
      { nowMs: this.nowMs, staleAfterMs: this.staleAfterMs, chunkSize: 1000 },
    );
    return res.changes.sort((a, b) => a.atMs - b.atMs);
  }

  /**
   * One batch, as production's evaluator receives it. The virtual clock first moves to `nowMs`
   * (default: the newest sample time of the batch, the moment it would have arrived) and the
   * timers run; then the batch is evaluated. Returns every change, timers' first.
   */
  async ingestBatch(samples: readonly MetricSample[], nowMs?: number): Promise<AlertStateChange[]> {
    let newest = -Infinity;
    for (const s of samples) if (s.timestampMs > newest) newest = s.timestampMs;
    const at = nowMs ?? newest;
    const changes = Number.isFinite(at) ? await this.advanceTo(at) : [];
    if (samples.length === 0) return changes;
    const res = await evaluateBatch({ states: this.states, publisher: this.publisher, budget: this.budget }, this.index, samples, {
      nowMs: this.nowMs,
      staleAfterMs: this.staleAfterMs,
      maxFutureSkewMs: this.maxFutureSkewMs,
      seriesLimitPerRule: this.seriesLimitPerRule,
    });
    this.skipped += res.skipped;
    this.future += res.future;
    this.limited.push(...res.limited);
    changes.push(...res.changes);
    return changes;
  }

  /** Evaluates samples in time order, one instant at a time, advancing the virtual clock through them. Returns every change. */
  async ingest(samples: readonly MetricSample[]): Promise<AlertStateChange[]> {
    const sorted = [...samples].sort((a, b) => a.timestampMs - b.timestampMs);
    const changes: AlertStateChange[] = [];
    let i = 0;
    while (i < sorted.length) {
      const t = sorted[i]!.timestampMs;
      let j = i;
      while (j < sorted.length && sorted[j]!.timestampMs === t) j++;
      changes.push(...(await this.ingestBatch(sorted.slice(i, j), t)));
      i = j;
    }
    return changes;
  }

  /** Alerts firing now. */
  firing(): { rule: Rule; labels: Labels; state: SeriesState }[] {
    const rules = new Map(this.index.rules.map((r) => [r.id, r]));
    const out: { rule: Rule; labels: Labels; state: SeriesState }[] = [];
    for (const it of this.states.all()) {
      const rule = rules.get(it.ruleId);
      if (rule && it.state.state === 'firing') out.push({ rule, labels: it.labels, state: it.state });
    }
    return out;
  }
}

/**
 * Job events replayed (`klaxon replay` with error and success events beside samples): production's
 * error-events sequence (shared/core/events/sequence.ts: classification, fingerprints, the error
 * alerts' states, the quiet-period sweep) on the in-memory store, with the virtual clock. Each
 * input line is one batch, as each Kafka record is; the quiet period is swept when the clock moves.
 */
export class ErrorEventsReplay {
  readonly store = new InMemoryErrorAlertStore();
  readonly transitions: AlertTransition[] = [];
  private nowMs = -Infinity;

  constructor(private readonly config: EventsConfig = DEFAULT_EVENTS_CONFIG) {}

  private readonly publisher = {
    publish: (ts: readonly AlertTransition[]): Promise<void> => {
      this.transitions.push(...ts);
      return Promise.resolve();
    },
  };

  /** Moves the virtual clock to `nowMs` (never backwards) and resolves the error alerts whose quiet period ended: their changes. */
  async advanceTo(nowMs: number): Promise<StateChange[]> {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    if (!Number.isFinite(this.nowMs)) return [];
    const r = await resolveQuietErrors({ store: this.store, publisher: this.publisher }, this.config, { nowMs: this.nowMs, limit: 100_000 });
    return r.transitions.map(changeOf);
  }

  /** One batch of events (one input line): the clock moves to its newest event first. Returns the changes. */
  async ingest(events: readonly JobEvent[]): Promise<StateChange[]> {
    if (events.length === 0) return [];
    const newest = Math.max(...events.map((e) => e.timestampMs));
    const changes = await this.advanceTo(newest);
    const r = await applyJobEvents({ store: this.store, publisher: this.publisher }, this.config, events.map((event) => ({ event })), { nowMs: this.nowMs });
    return [...changes, ...r.transitions.map(changeOf)];
  }
}

/** An error-alert transition as a state change (`klaxon replay`'s output). */
function changeOf(t: AlertTransition): StateChange {
  return {
    ruleId: t.ruleId,
    fingerprint: t.fingerprint,
    labels: t.labels,
    from: t.kind === 'firing' ? (t.firedAtMs === t.activeAtMs ? 'inactive' : 'firing') : 'firing',
    to: t.kind === 'firing' ? 'firing' : 'inactive',
    atMs: t.kind === 'resolved' ? (t.resolvedAtMs ?? t.atMs) : (t.firedAtMs ?? t.atMs),
    value: typeof t.value === 'number' ? t.value : NaN,
  };
}
