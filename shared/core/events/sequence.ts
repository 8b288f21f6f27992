/**
 * The error-events sequence (issue 11): a batch of job events in, error-alert transitions out,
 * the states kept in the errors table. The evaluator runs it for the events of each MSK batch,
 * `klaxon replay` with the in-memory store, the timers' quiet-period sweep and `klaxon errors
 * resolve` with their own steps below; all of them publish THEN commit, as the metric sequence
 * does (docs/design.md): a crash between the two makes the batch come again, and the same
 * transitions (same ids) are computed and published again, which SQS FIFO deduplication and
 * dispatch drop.
 *
 * Per batch:
 * 1. classify and fingerprint each error event (pure; the decision is returned for the log);
 * 2. read the states of the errors' fingerprints, and of the alerts firing for the tasks of the
 *    success events (the store's by-task index);
 * 3. apply the events in batch order (Kafka order within a partition): an error to its
 *    fingerprint's state, a success to every firing state of its task (./alerting.ts);
 * 4. publish the transitions, then write the changed states, each conditional on the version read;
 * 5. states another invocation wrote first are read again and their events applied again, up to
 *    `maxRounds`; past that, {@link ErrorStateConflictError} (transient: the batch comes again).
 *
 * Exactly once on redelivery: each state keeps, per Kafka partition, the highest offset applied to
 * it; an event at or below it was applied already (a batch delivered again after the commit) and
 * is skipped, so occurrence counts do not double. Events without coordinates (a replay) are
 * applied as they come.
 *
 * A published firing that the state does not keep (a round lost to another writer, whose state
 * says the alert fired at another time): dispatch saw both firings and keeps the LATER one as the
 * alert's start, so the state keeps the later of the two as its notified firing, and the
 * resolution later matches dispatch's record. (At worst one extra notification in that race; an
 * alert is never left firing in dispatch.)
 */
import { createHash } from 'node:crypto';
import type { AlertTransition } from '../model/index.ts';
import { PermanentError, TransientError } from '../errors/index.ts';
import type { TransitionPublisher } from '../sequence/ports.ts';
import { applyErrorEvent, applySuccess, lastTimeMs, quietResolution, resolveByPerson, type ErrorAlertReason, type ErrorAlertState, type NotifiedFiring } from './alerting.ts';
import { classifyEvent, type ClassifyDecision } from './classify.ts';
import type { EventsConfig } from './config.ts';
import { fingerprintOf, type ErrorFingerprint } from './fingerprint.ts';
import type { ErrorEvent, JobEvent, SuccessEvent } from './types.ts';

/**
 * An event with where it came from: its Kafka partition (`topic-n`), offset and place in the
 * record (a record may hold an array of events), when it has them.
 */
export interface SourcedEvent {
  readonly event: JobEvent;
  readonly partition?: string;
  readonly offset?: number;
  /** Index in the record's array (0 for a single event). */
  readonly index?: number;
}

/** A position in a partition: offset, then index in the record. */
export type EventPosition = readonly [offset: number, index: number];

/** An error alert as stored. */
export interface StoredErrorAlert {
  readonly state: ErrorAlertState;
  /** Optimistic-lock counter: every write is conditional on the version read. */
  readonly version: number;
  /** Per Kafka partition, the last position applied to this state (redelivery is skipped). */
  readonly offsets: Readonly<Record<string, EventPosition>>;
}

/** A state to write; `expectedVersion` undefined: the item must not exist yet. */
export interface ErrorAlertWrite {
  readonly fingerprint: string;
  readonly state: ErrorAlertState;
  readonly offsets: Readonly<Record<string, EventPosition>>;
  readonly expectedVersion: number | undefined;
  /** When the quiet period resolves it (firing, quiet period on): the store's sparse due index. */
  readonly quietDueAtMs?: number;
}

/** The error alerts' store (the errors table; in memory for replays and tests). */
export interface ErrorAlertStore {
  /** Reads the states of these fingerprints (missing ones are absent from the map). */
  getMany(fingerprints: readonly string[]): Promise<Map<string, StoredErrorAlert>>;
  /** Fingerprints of the alerts firing for these tasks ({@link taskKeyOf}); eventually consistent. */
  firingOfTasks(taskKeys: readonly string[]): Promise<string[]>;
  /** Conditional writes; returns the fingerprints whose condition failed (another writer first). */
  commit(writes: readonly ErrorAlertWrite[]): Promise<{ conflicts: string[] }>;
  /** Up to `limit` fingerprints whose quiet-period resolution is due at `nowMs`. */
  quietDue(nowMs: number, limit: number): Promise<string[]>;
  /** Firing alerts, newest failure first, up to `limit` (the CLI and the console). */
  listFiring?(limit: number): Promise<StoredErrorAlert[]>;
}

/** Several rounds lost to other writers: transient, the batch comes again. */
export class ErrorStateConflictError extends TransientError {
  constructor(readonly fingerprints: readonly string[]) {
    super(`${fingerprints.length} error alerts still conflicting after retries (first: ${fingerprints[0] ?? '-'})`);
  }
}

/** A person's resolution that cannot be applied (unknown fingerprint, not firing, no name): permanent. */
export class ResolveRefusedError extends PermanentError {
  constructor(
    message: string,
    readonly reason: ErrorAlertReason | 'unknown',
  ) {
    super(message);
  }
}

/** The task key of a (source, service, task): a hash, so the index key stays short whatever the identifiers hold. */
export function taskKeyOf(t: { readonly source: string; readonly service: string; readonly task: string }): string {
  return createHash('sha256').update(JSON.stringify([t.source, t.service, t.task])).digest('hex').slice(0, 32);
}

/** When the quiet period resolves a state (firing, quiet period on), else undefined. */
export function quietDueAtOf(s: ErrorAlertState, quietPeriodMs: number): number | undefined {
  if (s.status !== 'firing' || !(quietPeriodMs > 0)) return undefined;
  return lastTimeMs(s) + quietPeriodMs;
}

/** What the sequence decided for one error event (the evaluator logs and counts it). */
export interface ClassifiedErrorEvent {
  readonly event: ErrorEvent;
  readonly decision: ClassifyDecision;
  readonly id: ErrorFingerprint;
}

/** One state change and why (the evaluator logs them). */
export interface ErrorAlertChange {
  readonly fingerprint: string;
  readonly reason: ErrorAlertReason | 'duplicate';
  readonly transition?: AlertTransition;
}

/** What {@link applyJobEvents} did. */
export interface JobEventsResult {
  readonly classified: readonly ClassifiedErrorEvent[];
  readonly changes: readonly ErrorAlertChange[];
  readonly transitions: readonly AlertTransition[];
  /** Successes that found no firing alert of their task. */
  readonly successesWithoutAlert: number;
  /** Conflict rounds taken (0: every write went through at once). */
  readonly rounds: number;
}

/** The ports of the sequence. */
export interface JobEventsPorts {
  readonly store: ErrorAlertStore;
  readonly publisher: TransitionPublisher;
}

/** Default rounds before {@link ErrorStateConflictError}. */
export const DEFAULT_ERROR_CONFLICT_ROUNDS = 3;

interface Working {
  state: ErrorAlertState | undefined;
  /** {@link taskKeyOf} the state, computed once. */
  task?: string;
  readonly version: number | undefined;
  offsets: Record<string, EventPosition>;
  touched: boolean;
}

/** Whether position `a` is after `b`. */
function after(a: EventPosition, b: EventPosition): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

/** The event's position, when it has coordinates. */
function positionOf(ev: SourcedEvent): EventPosition | undefined {
  return ev.partition === undefined || ev.offset === undefined ? undefined : [ev.offset, ev.index ?? 0];
}

/** Whether the event was applied to this state already (redelivery): at or before the last position applied. */
function seen(w: Working, ev: SourcedEvent): boolean {
  const p = positionOf(ev);
  if (p === undefined) return false;
  const at = w.offsets[ev.partition!];
  return at !== undefined && !after(p, at);
}

function markSeen(w: Working, ev: SourcedEvent): void {
  const p = positionOf(ev);
  if (p === undefined) return;
  const at = w.offsets[ev.partition!];
  if (at === undefined || after(p, at)) w.offsets[ev.partition!] = p;
}

/** The state with the later of its notified firing and one published in an earlier round (see the module comment). */
function keepPublished(s: ErrorAlertState, published: NotifiedFiring | undefined): ErrorAlertState {
  if (published === undefined || s.status !== 'firing') return s;
  if (s.notified !== undefined && s.notified.firedAtMs >= published.firedAtMs) return s;
  return { ...s, notified: published };
}

function notifiedOf(t: AlertTransition): NotifiedFiring {
  return { firedAtMs: t.firedAtMs ?? t.atMs, severity: t.severity, labels: t.labels, ruleId: t.ruleId, ruleName: t.ruleName };
}

/**
 * Runs a batch of job events through classification, fingerprints and the error alerts' states
 * (see the module comment for the order). `nowMs` stamps `emittedAtMs` (the pipeline latency);
 * decisions use event time only.
 */
export async function applyJobEvents(ports: JobEventsPorts, config: EventsConfig, events: readonly SourcedEvent[], opts: { readonly nowMs: number; readonly maxRounds?: number }): Promise<JobEventsResult> {
  const classified: ClassifiedErrorEvent[] = [];
  const byEvent = new Map<SourcedEvent, ClassifiedErrorEvent>();
  for (const ev of events) {
    if (ev.event.kind !== 'error') continue;
    const e = ev.event;
    const c: ClassifiedErrorEvent = { event: e, decision: classifyEvent(e, config.classification, e.timestampMs), id: fingerprintOf(e, config.fingerprints) };
    classified.push(c);
    byEvent.set(ev, c);
  }
  const alerting = { quietPeriodMs: config.quietPeriodMs, excerptChars: config.excerptChars };
  const changes: ErrorAlertChange[] = [];
  const transitions: AlertTransition[] = [];
  const published = new Map<string, NotifiedFiring>();
  let pending = events;
  let successesWithoutAlert = 0;
  const maxRounds = opts.maxRounds ?? DEFAULT_ERROR_CONFLICT_ROUNDS;
  for (let round = 0; ; round++) {
    const successTasks = [...new Set(pending.filter((ev) => ev.event.kind === 'success').map((ev) => taskKeyOf(ev.event)))];
    const fromIndex = successTasks.length > 0 ? await ports.store.firingOfTasks(successTasks) : [];
    const keys = new Set<string>(fromIndex);
    for (const ev of pending) {
      const c = byEvent.get(ev);
      if (c) keys.add(c.id.fingerprint);
    }
    const stored = keys.size > 0 ? await ports.store.getMany([...keys]) : new Map<string, StoredErrorAlert>();
    const working = new Map<string, Working>();
    for (const k of keys) {
      const s = stored.get(k);
      working.set(k, { state: s?.state, version: s?.version, offsets: { ...(s?.offsets ?? {}) }, touched: false });
    }
    const roundChanges: ErrorAlertChange[] = [];
    const roundTransitions: AlertTransition[] = [];
    const record = (fingerprint: string, reason: ErrorAlertChange['reason'], t?: AlertTransition) => {
      roundChanges.push({ fingerprint, reason, ...(t ? { transition: { ...t, emittedAtMs: opts.nowMs } } : {}) });
      if (t) roundTransitions.push({ ...t, emittedAtMs: opts.nowMs });
    };
    for (const ev of pending) {
      const c = byEvent.get(ev);
      if (c) {
        const w = working.get(c.id.fingerprint)!;
        if (seen(w, ev)) {
          record(c.id.fingerprint, 'duplicate');
          continue;
        }
        const r = applyErrorEvent(w.state, c.event, c.id, c.decision, alerting);
        w.state = r.state;
        w.touched = true;
        markSeen(w, ev);
        record(c.id.fingerprint, r.reason, r.transition);
        continue;
      }
      const s = ev.event as SuccessEvent;
      const tk = taskKeyOf(s);
      let found = 0;
      for (const [fp, w] of working) {
        if (w.state === undefined || w.state.status !== 'firing' || (w.task ??= taskKeyOf(w.state)) !== tk) continue;
        found++;
        if (seen(w, ev)) {
          record(fp, 'duplicate');
          continue;
        }
        const [r] = applySuccess([w.state], s);
        w.state = r!.state;
        w.touched = true;
        markSeen(w, ev);
        record(fp, r!.reason, r!.transition);
      }
      if (found === 0 && round === 0) successesWithoutAlert++;
    }
    const writes: ErrorAlertWrite[] = [];
    for (const [fingerprint, w] of working) {
      if (!w.touched || w.state === undefined) continue;
      const state = keepPublished(w.state, published.get(fingerprint));
      const due = quietDueAtOf(state, config.quietPeriodMs);
      writes.push({ fingerprint, state, offsets: w.offsets, expectedVersion: w.version, ...(due !== undefined ? { quietDueAtMs: due } : {}) });
    }
    // Publish, then commit.
    if (roundTransitions.length > 0) await ports.publisher.publish(roundTransitions);
    for (const t of roundTransitions) {
      if (t.kind !== 'firing') continue;
      const key = t.fingerprint.slice(t.fingerprint.indexOf(':') + 1);
      const prev = published.get(key);
      if (prev === undefined || (t.firedAtMs ?? t.atMs) > prev.firedAtMs) published.set(key, notifiedOf(t));
    }
    const { conflicts } = writes.length > 0 ? await ports.store.commit(writes) : { conflicts: [] as string[] };
    const lost = new Set(conflicts);
    for (const ch of roundChanges) if (!lost.has(ch.fingerprint)) changes.push(ch);
    for (const t of roundTransitions) transitions.push(t);
    if (lost.size === 0) return { classified, changes, transitions: dedupe(transitions), successesWithoutAlert, rounds: round };
    if (round + 1 >= maxRounds) throw new ErrorStateConflictError([...lost]);
    // Again, the events that touched a lost state: errors of those fingerprints, and successes
    // of their tasks (a success is skipped where it was applied already: offsets, or not firing).
    const lostTasks = new Set<string>();
    for (const fp of lost) {
      const w = working.get(fp);
      if (w?.state) lostTasks.add(taskKeyOf(w.state));
    }
    pending = pending.filter((ev) => {
      const c = byEvent.get(ev);
      return c ? lost.has(c.id.fingerprint) : lostTasks.has(taskKeyOf(ev.event));
    });
  }
}

/** Transitions published in several rounds, each once (same id: the same decision). */
function dedupe(ts: readonly AlertTransition[]): AlertTransition[] {
  const seenIds = new Set<string>();
  return ts.filter((t) => (seenIds.has(t.transitionId) ? false : (seenIds.add(t.transitionId), true)));
}

/** What the quiet-period sweep did. */
export interface QuietSweepResult {
  readonly due: number;
  readonly resolved: number;
  readonly transitions: readonly AlertTransition[];
  /** Lost to another writer this run (they stay due: the next run decides them again). */
  readonly conflicts: number;
}

/**
 * The timers' quiet-period sweep at `nowMs`: the states the due index names are read, resolved at
 * their due time (`quietResolution`: the same transition id on every run that finds them due),
 * published, then written. A state that got a failure since is not due any more and is written
 * back with its new due time.
 */
export async function resolveQuietErrors(ports: JobEventsPorts, config: Pick<EventsConfig, 'quietPeriodMs'>, opts: { readonly nowMs: number; readonly limit?: number }): Promise<QuietSweepResult> {
  if (!(config.quietPeriodMs > 0)) return { due: 0, resolved: 0, transitions: [], conflicts: 0 };
  const keys = await ports.store.quietDue(opts.nowMs, opts.limit ?? 500);
  if (keys.length === 0) return { due: 0, resolved: 0, transitions: [], conflicts: 0 };
  const stored = await ports.store.getMany(keys);
  const writes: ErrorAlertWrite[] = [];
  const transitions: AlertTransition[] = [];
  for (const [fingerprint, s] of stored) {
    // The period the state was written with: its due time says it (a changed configuration applies from the next failure).
    const r = quietResolution(s.state, opts.nowMs, config.quietPeriodMs);
    if (r.reason === 'quiet-period-not-due' || r.reason === 'not-firing') {
      // Not due at the configured period (it was lengthened since the write, or the index lagged
      // a newer write): written back with its due time now, so the index stops naming it.
      const due = quietDueAtOf(s.state, config.quietPeriodMs);
      writes.push({ fingerprint, state: s.state, offsets: s.offsets, expectedVersion: s.version, ...(due !== undefined ? { quietDueAtMs: due } : {}) });
      continue;
    }
    if (r.transition) transitions.push({ ...r.transition, emittedAtMs: opts.nowMs });
    writes.push({ fingerprint, state: r.state, offsets: s.offsets, expectedVersion: s.version });
  }
  if (transitions.length > 0) await ports.publisher.publish(transitions);
  const { conflicts } = writes.length > 0 ? await ports.store.commit(writes) : { conflicts: [] as string[] };
  const lost = new Set(conflicts);
  return { due: keys.length, resolved: writes.filter((w) => w.state.status === 'resolved' && !lost.has(w.fingerprint)).length, transitions, conflicts: conflicts.length };
}

/**
 * A person resolves an error alert (`klaxon errors resolve`, later Slack's Resolve): at `atMs`,
 * never before its last failure. Publish, then commit; a lost race is tried again once with the
 * state read again. Throws {@link ResolveRefusedError} when there is nothing to resolve.
 */
export async function resolveErrorByPerson(ports: JobEventsPorts, config: Pick<EventsConfig, 'quietPeriodMs'>, fingerprint: string, who: string, atMs: number): Promise<{ transition?: AlertTransition; state: ErrorAlertState }> {
  for (let attempt = 0; attempt < DEFAULT_ERROR_CONFLICT_ROUNDS; attempt++) {
    const s = (await ports.store.getMany([fingerprint])).get(fingerprint);
    if (!s) throw new ResolveRefusedError(`no error alert with fingerprint ${fingerprint} (klaxon errors list shows the firing ones)`, 'unknown');
    const r = resolveByPerson(s.state, who, atMs);
    if (r.reason === 'not-firing') throw new ResolveRefusedError(`error alert ${fingerprint} is not firing (resolved ${s.state.resolvedBy ? `by ${s.state.resolvedBy}` : ''})`.trim(), r.reason);
    if (r.reason === 'no-person') throw new ResolveRefusedError('a resolution by hand must name who resolved it (--by NAME)', r.reason);
    if (r.transition) await ports.publisher.publish([{ ...r.transition, emittedAtMs: atMs }]);
    const due = quietDueAtOf(r.state, config.quietPeriodMs);
    const { conflicts } = await ports.store.commit([{ fingerprint, state: r.state, offsets: s.offsets, expectedVersion: s.version, ...(due !== undefined ? { quietDueAtMs: due } : {}) }]);
    if (conflicts.length === 0) return { ...(r.transition ? { transition: r.transition } : {}), state: r.state };
  }
  throw new ErrorStateConflictError([fingerprint]);
}

/** An in-memory {@link ErrorAlertStore} (replays, tests): the same conditions as the table. */
export class InMemoryErrorAlertStore implements ErrorAlertStore {
  readonly items = new Map<string, StoredErrorAlert & { quietDueAtMs?: number }>();
  /** Counts of calls, for tests. */
  readonly calls = { getMany: 0, firingOfTasks: 0, commit: 0, quietDue: 0 };

  getMany(fingerprints: readonly string[]): Promise<Map<string, StoredErrorAlert>> {
    this.calls.getMany++;
    const out = new Map<string, StoredErrorAlert>();
    for (const fp of fingerprints) {
      const it = this.items.get(fp);
      if (it) out.set(fp, { state: it.state, version: it.version, offsets: it.offsets });
    }
    return Promise.resolve(out);
  }

  firingOfTasks(taskKeys: readonly string[]): Promise<string[]> {
    this.calls.firingOfTasks++;
    const wanted = new Set(taskKeys);
    return Promise.resolve([...this.items].filter(([, it]) => it.state.status === 'firing' && wanted.has(taskKeyOf(it.state))).map(([fp]) => fp));
  }

  commit(writes: readonly ErrorAlertWrite[]): Promise<{ conflicts: string[] }> {
    this.calls.commit++;
    const conflicts: string[] = [];
    for (const w of writes) {
      const cur = this.items.get(w.fingerprint);
      if ((w.expectedVersion === undefined && cur) || (w.expectedVersion !== undefined && cur?.version !== w.expectedVersion)) {
        conflicts.push(w.fingerprint);
        continue;
      }
      this.items.set(w.fingerprint, { state: w.state, version: (cur?.version ?? 0) + 1, offsets: w.offsets, ...(w.quietDueAtMs !== undefined ? { quietDueAtMs: w.quietDueAtMs } : {}) });
    }
    return Promise.resolve({ conflicts });
  }

  quietDue(nowMs: number, limit: number): Promise<string[]> {
    this.calls.quietDue++;
    return Promise.resolve(
      [...this.items]
        .filter(([, it]) => it.quietDueAtMs !== undefined && it.quietDueAtMs <= nowMs)
        .sort((a, b) => a[1].quietDueAtMs! - b[1].quietDueAtMs!)
        .slice(0, limit)
        .map(([fp]) => fp),
    );
  }

  listFiring(limit: number): Promise<StoredErrorAlert[]> {
    return Promise.resolve(
      [...this.items.values()]
        .filter((it) => it.state.status === 'firing')
        .sort((a, b) => b.state.lastSeenMs - a.state.lastSeenMs)
        .slice(0, limit),
    );
  }
}
