/**
 * The timers' half of the evaluation sequence: what no sample will ever trigger. Run each minute
 * by the timers function (wall clock) and between batches by a replay (virtual clock):
 * - absence: a heartbeat that stopped, or a listed expected series that never reported;
 * - staleness, keep_firing_for and the other time-based ends the core schedules with `nextDueMs`;
 * - deleted rules: a due item whose rule is no longer in the rule source is deleted, and if its
 *   alert was firing, a `resolved` transition is published first (built from the identity the
 *   state keeps while firing), so dispatch resolves it everywhere the firing went. "No longer in
 *   the source" only ever means a successful read: an unreachable source keeps the cached rules or
 *   fails the run, never an empty set.
 *
 * It reads only what is due (the store's due index), in bounded chunks, each published then
 * committed before the next is read: a backlog (a million series gone stale at once) delays only
 * itself, everything committed so far stays committed, and a run that reaches its deadline leaves
 * the rest, still due, to the next run. Same publish-then-commit order as {@link evaluateBatch}.
 */
import type { AlertTransition, Clock, Labels } from '../model/index.ts';
import type { Rule, RuleIndex } from '../rules/index.ts';
import { advanceClock, deletedRuleTransition, expectedAbsenceSeries, initialAbsenceState, toTransition, type AlertStateChange, type SeriesState } from '../evaluate/index.ts';
import { storedDueAt } from './writes.ts';
import type { DueCursor, SeriesBudget, SeriesStateStore, SeriesWrite, TransitionPublisher } from './ports.ts';

/** Due items read, advanced and committed together. */
export const DEFAULT_TIMERS_CHUNK = 200;

/** What {@link advanceTimers} reads and writes. */
export interface AdvanceTimersPorts {
  readonly states: SeriesStateStore<SeriesState>;
  readonly publisher: TransitionPublisher;
  readonly budget: SeriesBudget;
  /** Tells when the run's time is up (wall clock in production; a replay never stops early). */
  readonly clock: Clock;
  /** Expected absence series known to have an item (kept by the caller across runs: avoids reading them every minute). */
  readonly knownExpected: Set<string>;
}

/** Options of one run. */
export interface AdvanceTimersOptions {
  /** The time the run acts on (epoch ms). */
  readonly nowMs: number;
  readonly staleAfterMs: number;
  /** Due items per chunk (default {@link DEFAULT_TIMERS_CHUNK}). */
  readonly chunkSize?: number;
  /** No new chunk is started after this clock time (epoch ms); the rest waits for the next run. */
  readonly deadlineMs?: number;
}

/** What one run did. */
export interface AdvanceTimersResult {
  /** Expected absence series created because they had no item yet. */
  readonly seeded: number;
  /** Items found due. */
  readonly due: number;
  /** Items written back with a new state. */
  readonly updated: number;
  /** Items deleted (the core dropped the series, or its rule no longer exists). */
  readonly deleted: number;
  /** Firing alerts of deleted rules resolved by this run. */
  readonly deletedRuleResolutions: number;
  /** Items another invocation changed meanwhile (left for the next run). */
  readonly conflicts: number;
  /** Chunks committed. */
  readonly chunks: number;
  /** True when the deadline stopped the run with due items left. */
  readonly backlog: boolean;
  readonly changes: AlertStateChange[];
  readonly transitions: AlertTransition[];
  /** Firing alerts of deleted rules that had no stored identity: deleted without a resolution. */
  readonly unresolvable: string[];
  readonly tooLarge: string[];
}

async function seedExpected(ports: AdvanceTimersPorts, rules: readonly Rule[], nowMs: number, staleAfterMs: number): Promise<number> {
  const wanted = new Map<string, { rule: Rule; labels: Labels }>();
  for (const rule of rules) {
    if (rule.kind !== 'absence') continue;
    for (const s of expectedAbsenceSeries(rule)) if (!ports.knownExpected.has(s.stateKey)) wanted.set(s.stateKey, { rule, labels: s.labels });
  }
  if (wanted.size === 0) return 0;
  const existing = await ports.states.getMany([...wanted.keys()]);
  const writes: SeriesWrite<SeriesState>[] = [];
  for (const [key, { rule, labels }] of wanted) {
    if (existing.has(key)) continue;
    const state = initialAbsenceState(rule, nowMs);
    const dueAt = storedDueAt(rule, state, { staleAfterMs });
    writes.push({ kind: 'put', key, ruleId: rule.id, labels, state, expectedVersion: undefined, ...(dueAt !== undefined ? { dueAt } : {}) });
  }
  // Listed series are part of the rule: they do not count against its series budget.
  await ports.states.commit(writes);
  for (const key of wanted.keys()) ports.knownExpected.add(key);
  return writes.length;
}

/**
 * Advances every due item to `nowMs`: seeds expected absence series, then works through the due
 * index chunk by chunk (read, advance, publish, commit), until nothing is due or the deadline.
 */
export async function advanceTimers(ports: AdvanceTimersPorts, index: RuleIndex, opts: AdvanceTimersOptions): Promise<AdvanceTimersResult> {
  const now = opts.nowMs;
  const timeOpts = { staleAfterMs: opts.staleAfterMs };
  const chunkSize = opts.chunkSize ?? DEFAULT_TIMERS_CHUNK;
  const rulesById = new Map(index.rules.map((r) => [r.id, r]));
  const seeded = await seedExpected(ports, index.rules, now, opts.staleAfterMs);

  const changes: AlertStateChange[] = [];
  const transitions: AlertTransition[] = [];
  const unresolvable: string[] = [];
  const tooLarge: string[] = [];
  let due = 0;
  let updated = 0;
  let deleted = 0;
  let deletedRuleResolutions = 0;
  let conflicts = 0;
  let chunks = 0;
  let backlog = false;
  let cursor: DueCursor | undefined;
  for (;;) {
    if (chunks > 0 && opts.deadlineMs !== undefined && ports.clock.now() >= opts.deadlineMs) {
      backlog = true;
      break;
    }
    const page = await ports.states.duePage(now, chunkSize, cursor);
    cursor = page.next;
    const items = page.keys.length ? await ports.states.getMany(page.keys) : new Map();
    const chunkTransitions: AlertTransition[] = [];
    const writes: SeriesWrite<SeriesState>[] = [];
    const released = new Map<string, number>();
    for (const item of items.values()) {
      // The index is eventually consistent: skip an item that is no longer due.
      if (item.dueAt === undefined || item.dueAt > now) continue;
      due++;
      const rule = rulesById.get(item.ruleId);
      if (!rule) {
        // Published before the delete, like any transition: a crash in between resolves again
        // next run, and dispatch drops the repeat (`already-resolved`).
        const t = deletedRuleTransition(item.ruleId, item.state, now);
        if (t) {
          chunkTransitions.push(t);
          deletedRuleResolutions++;
        } else if (item.state.state === 'firing') {
          unresolvable.push(item.key);
        }
        writes.push({ kind: 'delete', key: item.key, expectedVersion: item.version });
        continue;
      }
      const res = advanceClock(rule, item.labels, item.state, now, timeOpts);
      for (const change of res.changes) {
        changes.push(change);
        const t = toTransition(rule, change, res.state ?? item.state, now);
        if (t) chunkTransitions.push(t);
      }
      if (res.state === undefined) {
        writes.push({ kind: 'delete', key: item.key, expectedVersion: item.version });
        continue;
      }
      const dueAt = storedDueAt(rule, res.state, timeOpts);
      // Nothing changed and the due time stands: writing would change nothing.
      if (res.state === item.state && dueAt === item.dueAt) continue;
      writes.push({
        kind: 'put',
        key: item.key,
        ruleId: item.ruleId,
        labels: item.labels,
        state: res.state,
        expectedVersion: item.version,
        ...(item.lastSampleMs !== undefined ? { lastSampleMs: item.lastSampleMs } : {}),
        ...(dueAt !== undefined ? { dueAt } : {}),
      });
    }
    await ports.publisher.publish(chunkTransitions);
    transitions.push(...chunkTransitions);
    const commit = await ports.states.commit(writes);
    chunks++;
    tooLarge.push(...commit.tooLarge);
    const failed = new Set([...commit.conflicts, ...commit.tooLarge]);
    conflicts += commit.conflicts.length;
    for (const w of writes) {
      if (failed.has(w.key)) continue;
      if (w.kind === 'put') {
        updated++;
        continue;
      }
      deleted++;
      ports.knownExpected.delete(w.key);
      const ruleId = items.get(w.key)?.ruleId;
      if (ruleId !== undefined) released.set(ruleId, (released.get(ruleId) ?? 0) + 1);
    }
    for (const [ruleId, n] of released) await ports.budget.release(ruleId, n);
    if (page.next === undefined) break;
  }
  return { seeded, due, updated, deleted, deletedRuleResolutions, conflicts, chunks, backlog, changes, transitions, unresolvable, tooLarge };
}
