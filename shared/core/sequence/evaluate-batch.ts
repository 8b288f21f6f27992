/**
 * The evaluation sequence, written once: samples → rules → group by (rule, series) → load state →
 * evaluate in event time → publish transitions → commit state. The evaluator function runs it on
 * each MSK batch against DynamoDB and SQS; `klaxon replay` and `klaxon rules test` run it against
 * the in-memory store, so a replay makes the decisions production makes, in the same order, with
 * the same guards.
 *
 * The order of the I/O is the contract: transitions are published BEFORE the state that produced
 * them is written. A crash between any two calls redelivers the batch; the old state is read
 * again, the same transitions (same ids) are computed and published again, and FIFO
 * deduplication plus idempotency on the transition id downstream make the repeat harmless.
 * Writing state first would lose a transition on a crash before the publish.
 *
 * Guards, in order:
 * - event time: a sample stamped more than `maxFutureSkewMs` after `nowMs` is not evaluated
 *   (decode rejects such samples with a reason first; this keeps a stored time from ever passing
 *   now + skew whatever the caller);
 * - cardinality: a rule holds at most its series limit; new series past it are refused, counted,
 *   and reported with the label whose values explode (see {@link SeriesLimitBreach});
 * - out of order and duplicates: the core skips samples at or before a series' newest time.
 */
import type { AlertTransition, Labels, MetricSample } from '../model/index.ts';
import type { RuleIndex } from '../rules/index.ts';
import { evaluateSeries, groupSamples, toTransition, type AlertStateChange, type SeriesBatch, type SeriesState } from '../evaluate/index.ts';
import { canSkipWrite, storedDueAt, type WindowsMode } from './writes.ts';
import { TransientError } from '../errors/index.ts';
import type { SeriesBudget, SeriesPut, SeriesStateStore, TransitionPublisher } from './ports.ts';

export { DEFAULT_MAX_FUTURE_SKEW_MS } from '../decode/index.ts';
/** Default number of series one rule may hold (a rule's `seriesLimit` overrides it). */
export const DEFAULT_SERIES_LIMIT_PER_RULE = 10_000;
/** Series named in the result when samples were skipped (the log line stays short). */
export const SKIPPED_SERIES_LOGGED = 5;
/** Default rounds of re-read and re-evaluate for series another invocation advanced first. */
export const DEFAULT_MAX_CONFLICT_ROUNDS = 3;

/** What {@link evaluateBatch} reads and writes. */
export interface EvaluateBatchPorts {
  readonly states: SeriesStateStore<SeriesState>;
  readonly publisher: TransitionPublisher;
  readonly budget: SeriesBudget;
}

/** Options of one run of {@link evaluateBatch}. */
export interface EvaluateBatchOptions {
  /** The clock: wall time in production, the virtual clock in a replay (epoch ms). */
  readonly nowMs: number;
  readonly staleAfterMs: number;
  readonly maxFutureSkewMs: number;
  /** Series a rule may hold unless it sets its own `seriesLimit`. */
  readonly seriesLimitPerRule: number;
  readonly maxConflictRounds?: number;
  /** Where windows live (default `stored`); `derived` lets every quiet series skip its writes. */
  readonly windows?: WindowsMode;
}

/** A rule that reached its series limit in this batch. */
export interface SeriesLimitBreach {
  readonly ruleId: string;
  readonly limit: number;
  /** New series refused in this batch. */
  readonly refusedSeries: number;
  /** Their samples, not evaluated. */
  readonly refusedSamples: number;
  /** The label with the most distinct values among the refused series (the likely cause), if any. */
  readonly explodingLabel?: string;
  readonly distinctValues?: number;
}

/** What one run did. */
export interface EvaluateBatchResult {
  /** Samples evaluated against at least one rule (skipped ones included; refused and future ones not). */
  readonly evaluated: number;
  /** Samples at or before their series' newest time (out of order, duplicates, redeliveries). */
  readonly skipped: number;
  /** Samples stamped beyond now + skew: not evaluated. */
  readonly future: number;
  /** The first few series (state keys) that skipped samples, for the log line behind the SamplesSkipped alarm. */
  readonly skippedSeries: string[];
  /** Every state change, pending ones included, in the order computed. */
  readonly changes: AlertStateChange[];
  /** The transitions published (firing and resolved). */
  readonly transitions: AlertTransition[];
  readonly limited: SeriesLimitBreach[];
  /** Keys whose item would pass DynamoDB's item size limit: not saved. */
  readonly tooLarge: string[];
}

/** Series still conflicting after every round (concurrent writers): the batch is tried again. */
export class StateConflictError extends TransientError {
  constructor(
    readonly keys: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${keys.length} series still conflicting after retries (first: ${keys[0] ?? '-'})`, options);
  }
}

/** The label whose values differ most among these label sets (the cardinality culprit). */
export function explodingLabel(labelSets: readonly Labels[]): { label: string; distinct: number } | undefined {
  const values = new Map<string, Set<string>>();
  for (const l of labelSets) {
    for (const k in l) {
      let s = values.get(k);
      if (!s) values.set(k, (s = new Set()));
      s.add(l[k]!);
    }
  }
  let best: { label: string; distinct: number } | undefined;
  for (const [label, s] of values) if (s.size > 1 && (!best || s.size > best.distinct || (s.size === best.distinct && label < best.label))) best = { label, distinct: s.size };
  return best;
}

/**
 * Admits the new series of this batch within each rule's budget. Returns the batches to evaluate,
 * the reserved keys (released again if they turn out not to be new) and the breaches.
 */
async function admitNewSeries(
  budget: SeriesBudget,
  batches: readonly SeriesBatch[],
  isNew: (b: SeriesBatch) => boolean,
  defaultLimit: number,
): Promise<{ admitted: SeriesBatch[]; reserved: Map<string, string>; limited: SeriesLimitBreach[] }> {
  const newByRule = new Map<string, SeriesBatch[]>();
  for (const b of batches) {
    if (!isNew(b)) continue;
    let list = newByRule.get(b.rule.id);
    if (!list) newByRule.set(b.rule.id, (list = []));
    list.push(b);
  }
  const refused = new Set<SeriesBatch>();
  const reserved = new Map<string, string>();
  const limited: SeriesLimitBreach[] = [];
  for (const [ruleId, list] of newByRule) {
    const limit = list[0]!.rule.seriesLimit ?? defaultLimit;
    const granted = await budget.reserve(ruleId, list.length, limit);
    // Batch order decides who gets the last places: deterministic for a given batch (replays agree).
    for (let i = 0; i < list.length; i++) {
      if (i < granted) reserved.set(list[i]!.stateKey, ruleId);
      else refused.add(list[i]!);
    }
    if (granted < list.length) {
      const out = list.slice(granted);
      const culprit = explodingLabel(out.map((b) => b.labels));
      limited.push({
        ruleId,
        limit,
        refusedSeries: out.length,
        refusedSamples: out.reduce((n, b) => n + b.samples.length, 0),
        ...(culprit ? { explodingLabel: culprit.label, distinctValues: culprit.distinct } : {}),
      });
    }
  }
  return { admitted: refused.size ? batches.filter((b) => !refused.has(b)) : [...batches], reserved, limited };
}

/** Gives back the reservations of keys that were not created by this run. */
async function releaseKeys(budget: SeriesBudget, keys: Iterable<string>, reserved: Map<string, string>): Promise<void> {
  const perRule = new Map<string, number>();
  for (const k of keys) {
    const ruleId = reserved.get(k);
    if (ruleId === undefined) continue;
    reserved.delete(k);
    perRule.set(ruleId, (perRule.get(ruleId) ?? 0) + 1);
  }
  for (const [ruleId, n] of perRule) await budget.release(ruleId, n);
}

/**
 * Runs the evaluation sequence on one batch of decoded samples (any order: each series' samples
 * are sorted in event time). Per round: read the states, evaluate, publish, commit; series that
 * another invocation advanced between our read and our write are read and evaluated again (at
 * most `maxConflictRounds` rounds, then {@link StateConflictError}).
 */
export async function evaluateBatch(ports: EvaluateBatchPorts, index: RuleIndex, samples: readonly MetricSample[], opts: EvaluateBatchOptions): Promise<EvaluateBatchResult> {
  const maxRounds = opts.maxConflictRounds ?? DEFAULT_MAX_CONFLICT_ROUNDS;
  const windows = opts.windows ?? 'stored';
  const horizon = opts.nowMs + opts.maxFutureSkewMs;
  let future = 0;
  let usable: readonly MetricSample[] = samples;
  for (const s of samples) if (s.timestampMs > horizon) future++;
  if (future > 0) usable = samples.filter((s) => s.timestampMs <= horizon);

  const timeOpts = { staleAfterMs: opts.staleAfterMs };
  const changes: AlertStateChange[] = [];
  const transitions: AlertTransition[] = [];
  const tooLarge: string[] = [];
  let limited: SeriesLimitBreach[] = [];
  let reserved = new Map<string, string>();
  let evaluated = 0;
  let skipped = 0;
  const skippedSeries: string[] = [];
  let pending: SeriesBatch[] = groupSamples(index, usable);
  for (let round = 1; pending.length > 0; round++) {
    if (round > maxRounds) {
      await releaseKeys(ports.budget, pending.map((b) => b.stateKey), reserved);
      throw new StateConflictError(pending.map((b) => b.stateKey));
    }
    const stored = await ports.states.getMany(pending.map((b) => b.stateKey));
    if (round === 1) {
      ({ admitted: pending, reserved, limited } = await admitNewSeries(ports.budget, pending, (b) => !stored.has(b.stateKey), opts.seriesLimitPerRule));
      const distinct = new Set<MetricSample>();
      for (const b of pending) for (const s of b.samples) distinct.add(s);
      evaluated = distinct.size;
    } else {
      // Reserved as new, but another invocation created it first: its reservation counts.
      await releaseKeys(ports.budget, pending.filter((b) => stored.has(b.stateKey)).map((b) => b.stateKey), reserved);
    }
    const roundChanges = new Map<string, AlertStateChange[]>();
    const roundTransitions = new Map<string, AlertTransition[]>();
    const writes: SeriesPut<SeriesState>[] = [];
    const skippedByKey = new Map<string, number>();
    const fromMemory: string[] = [];
    for (const b of pending) {
      const prev = stored.get(b.stateKey);
      const res = evaluateSeries(b, prev?.state, timeOpts);
      skippedByKey.set(b.stateKey, res.skipped);
      roundChanges.set(b.stateKey, res.changes);
      const ts: AlertTransition[] = [];
      for (const change of res.changes) {
        const t = toTransition(b.rule, change, res.state, opts.nowMs);
        if (t) ts.push(t);
      }
      if (ts.length > 0) {
        roundTransitions.set(b.stateKey, ts);
        if (prev?.fromMemory) fromMemory.push(b.stateKey);
      }
      // Nothing new for this series (a redelivered batch), or only its last-sample time on a quiet
      // series (./writes.ts): nothing to write. The store still sees it (skippable), so a store
      // that keeps states in memory keeps the new one.
      const skippable =
        prev !== undefined && res.changes.length === 0 && (res.skipped >= b.samples.length || canSkipWrite(b.rule, prev.state, res.state, 0, windows, prev.writtenLastSampleMs));
      const dueAt = storedDueAt(b.rule, res.state, timeOpts);
      writes.push({
        kind: 'put',
        key: b.stateKey,
        ruleId: b.rule.id,
        labels: b.labels,
        state: res.state,
        expectedVersion: prev?.version,
        lastSampleMs: res.state.lastSampleMs,
        ...(dueAt !== undefined ? { dueAt } : {}),
        ...(skippable ? { skippable } : {}),
      });
    }
    // A transition computed from a state held in memory is published only if the item is still
    // the one that state was built on (another writer would make it a transition nobody made).
    // Stale series go to the next round like conflicts: re-read, re-evaluated.
    const stale = new Set(fromMemory.length > 0 && ports.states.verify ? await ports.states.verify(fromMemory) : []);
    const publishNow: AlertTransition[] = [];
    for (const [key, ts] of roundTransitions) if (!stale.has(key)) publishNow.push(...ts);
    await ports.publisher.publish(publishNow);
    const commit = await ports.states.commit(stale.size > 0 ? writes.filter((w) => !stale.has(w.key)) : writes);
    tooLarge.push(...commit.tooLarge);
    await releaseKeys(ports.budget, commit.tooLarge, reserved);
    const conflicted = new Set([...commit.conflicts, ...stale]);
    // A conflicted series is counted in the round that settles it; its changes and transitions of
    // this round were published (harmless: same ids) but are reported once, when settled.
    for (const b of pending) {
      if (conflicted.has(b.stateKey)) continue;
      const n = skippedByKey.get(b.stateKey)!;
      skipped += n;
      if (n > 0 && skippedSeries.length < SKIPPED_SERIES_LOGGED) skippedSeries.push(b.stateKey);
      changes.push(...roundChanges.get(b.stateKey)!);
    }
    for (const t of publishNow) transitions.push(t);
    pending = pending.filter((b) => conflicted.has(b.stateKey));
  }
  return { evaluated, skipped, future, skippedSeries, changes, transitions: dedupeById(transitions), limited, tooLarge };
}

function dedupeById(ts: readonly AlertTransition[]): AlertTransition[] {
  const seen = new Set<string>();
  const out: AlertTransition[] = [];
  for (const t of ts) {
    if (seen.has(t.transitionId)) continue;
    seen.add(t.transitionId);
    out.push(t);
  }
  return out;
}
