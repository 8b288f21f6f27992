/**
 * Windows as derived data (docs/design.md, "Windows as derived data"): the evaluator keeps each
 * Kafka partition's series states, windows included, in its memory between batches, and the state
 * table holds only what the design requires to survive: the alert state of every series (pending
 * since, firing since, identity), written when it changes and refreshed every half hour while
 * quiet, and the window of the few series that are pending or firing (the timers evaluate those
 * without samples). What a partition's windows were is rebuilt from the sample log when the
 * partition reaches an instance whose memory of it is not current.
 *
 * When is memory current? Lambda hands a partition's batches out one at a time, in offset order,
 * each starting where the last successful one ended; so a view of a partition that ended at
 * offset N is current for a batch starting at N and for no other. Anything else is caught up:
 * - the batch starts after N (another instance took the batches in between, or Kafka's offsets
 *   have a gap): the segments from this view's last batch start up to `start` that end past N are
 *   folded into the windows (a batch delivered again with other bounds overwrote that first
 *   segment), and the series they touched are read again from the table (that instance changed them);
 * - no view, a view ahead of the batch (a redelivery after a failure, an offset reset), or new
 *   rules: the view is rebuilt from the segments written since the rebuild horizon
 *   ({@link rebuildHorizonMs}), and every series is read from the table before it is used.
 *
 * Two guards make memory safe even when the assumption behind it breaks (a series on two
 * partitions, a write by the timers, an operator's tool): every write is conditional on the
 * version memory was built on (a conflict reads the item again), and a transition computed from a
 * state held in memory is published only after the item is read and found unchanged
 * ({@link PartitionStore.verify}); transitions are rare, so this costs a read per transition, not
 * per sample.
 */
import type { Labels, MetricSample } from '../model/index.ts';
import type { RuleIndex } from '../rules/index.ts';
import { foldWindow, groupSamples, type SeriesBatch, type SeriesState } from '../evaluate/index.ts';
import type { CommitResult, DueCursor, DuePage, LogSegment, SampleLog, SeriesPut, SeriesStateStore, SeriesWrite, StoredSeries } from './ports.ts';
import { stateToken, storedForm } from './writes.ts';
import { evaluateBatch, type EvaluateBatchOptions, type EvaluateBatchPorts, type EvaluateBatchResult } from './evaluate-batch.ts';

/**
 * How late (after its event time) a sample may arrive and still see a window rebuilt exactly as
 * the instance that had it in memory would have: a rebuild reads the log back this much further
 * than the longest window needs.
 */
export const REBUILD_LATENESS_MS = 60 * 60_000;

/**
 * Estimated bytes of series states one instance keeps (a quarter of the evaluator's 1,024 MB);
 * past it, the least recently used partitions are forgotten (they are rebuilt if they come back).
 * Estimate per state: {@link STATE_BYTES} plus 16 bytes per window sample (two float64 arrays).
 */
export const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
/** Estimated bytes of one state besides its window (keys, labels, fields, map entry). */
export const STATE_BYTES = 400;

function viewBytes(v: View): number {
  let n = 0;
  for (const e of v.entries.values()) n += STATE_BYTES + 16 * (e.state?.wt?.length ?? 0);
  return n;
}

/** How far back (wall clock of the segments' writes) a rebuild reads the sample log. */
export function rebuildHorizonMs(index: RuleIndex, opts: { staleAfterMs: number; maxFutureSkewMs: number }): number {
  let longest = 0;
  for (const r of index.rules) if (r.windowMs > longest) longest = r.windowMs;
  return longest + opts.staleAfterMs + opts.maxFutureSkewMs + REBUILD_LATENESS_MS;
}

/** What changes windows: the rules' series, kinds and window lengths. */
const signatures = new WeakMap<RuleIndex, string>();
function windowSignature(index: RuleIndex): string {
  let sig = signatures.get(index);
  if (sig === undefined) {
    sig = index.rules
      .map((r) => [r.id, r.metric, r.kind, r.windowMs, r.matchers.map((m) => m.text).join(',')].join('\u0000'))
      .sort()
      .join('\n');
    signatures.set(index, sig);
  }
  return sig;
}

/** One series state as memory holds it. */
interface Entry {
  readonly ruleId: string;
  readonly labels: Labels;
  /** The newest evaluated state, window included (undefined: the series has no item). */
  state: SeriesState | undefined;
  /**
   * The version of the item `state` is built on: a number, null when there is no item, undefined
   * when unknown (memory has the window but another writer may have changed the item: read it).
   */
  version: number | null | undefined;
  /** The item's newest sample time as written (the quiet refresh counts from it). */
  writtenLastSampleMs: number | undefined;
  /** The item's content token as read or written (writes require it: see ports.ts `expectedToken`). */
  token: string | undefined;
  dueAt: number | undefined;
}

/** One partition's view. */
interface View {
  /** The first offset not yet evaluated, or undefined while a batch is in progress or failed. */
  nextOffset: number | undefined;
  /** The first offset of the last batch this instance evaluated (a catch-up reads from there). */
  lastStartOffset: number;
  signature: string;
  readonly entries: Map<string, Entry>;
  usedAt: number;
}

/** How {@link PartitionMemory.begin} found the partition. */
export type ViewStatus = 'current' | 'caught-up' | 'rebuilt';

/** What {@link PartitionMemory.begin} did to bring memory up to the batch. */
export interface BeginResult {
  readonly store: PartitionStore;
  readonly status: ViewStatus;
  /** Segments read from the sample log. */
  readonly segmentsRead: number;
  /** Samples folded into windows from them. */
  readonly samplesFolded: number;
}

/** The series states of the partitions this instance has evaluated (module scope in the evaluator). */
export class PartitionMemory {
  private readonly views = new Map<string, View>();
  private tick = 0;

  constructor(
    private readonly deps: { readonly log: SampleLog; readonly table: SeriesStateStore<SeriesState> },
    private readonly maxBytes = MAX_MEMORY_BYTES,
  ) {}

  /**
   * Brings the partition's view up to a batch starting at `startOffset` (see the module comment)
   * and returns the store to evaluate the batch with. The view stays invalid until {@link end}.
   */
  async begin(partition: string, startOffset: number, index: RuleIndex, opts: { nowMs: number; horizonMs: number }): Promise<BeginResult> {
    const signature = windowSignature(index);
    let view = this.views.get(partition);
    let status: ViewStatus = 'current';
    let segments: LogSegment[] = [];
    if (view && view.signature === signature && view.nextOffset !== undefined && view.nextOffset <= startOffset) {
      if (view.nextOffset < startOffset) {
        status = 'caught-up';
        // What other instances evaluated between this one's last batch and this batch: segments
        // starting in the gap, and a batch delivered again from this one's last start with other
        // bounds (Lambda redelivers from the last committed offset: it overwrote that segment, and
        // it ends past `nextOffset`). This instance's own last segment (ending at `nextOffset`)
        // is skipped. Kafka offsets may have gaps (transaction markers, compaction): an empty gap
        // costs one small Query.
        const since = view.nextOffset;
        segments = (await this.deps.log.read(partition, view.lastStartOffset, startOffset)).filter((s) => s.endOffset > since);
      }
    } else {
      status = 'rebuilt';
      this.views.delete(partition);
      segments = await this.deps.log.readBack(partition, startOffset, opts.nowMs - opts.horizonMs);
      view = { nextOffset: undefined, lastStartOffset: startOffset, signature, entries: new Map(), usedAt: 0 };
      this.views.set(partition, view);
    }
    view.nextOffset = undefined;
    view.lastStartOffset = startOffset;
    view.usedAt = ++this.tick;
    let samplesFolded = 0;
    for (const seg of segments) {
      samplesFolded += seg.samples.length;
      for (const b of groupSamples(index, seg.samples)) {
        const e = view.entries.get(b.stateKey);
        const state = foldWindow(b, e?.state);
        if (e) {
          e.state = state;
          e.version = undefined;
        } else {
          view.entries.set(b.stateKey, { ruleId: b.rule.id, labels: b.labels, state, version: undefined, writtenLastSampleMs: undefined, dueAt: undefined, token: undefined });
        }
      }
    }
    const log = this.deps.log;
    let forward: Promise<Map<string, SeriesBatch[]>> | undefined;
    // Read at most once per batch, and only if an item is ahead of memory (a redelivery).
    const ahead = () =>
      (forward ??= log.read(partition, startOffset, Number.MAX_SAFE_INTEGER).then((segs) => {
        const byKey = new Map<string, SeriesBatch[]>();
        for (const seg of segs) {
          for (const b of groupSamples(index, seg.samples)) {
            let list = byKey.get(b.stateKey);
            if (!list) byKey.set(b.stateKey, (list = []));
            list.push(b);
          }
        }
        return byKey;
      }));
    return { store: new PartitionStore(view, this.deps.table, ahead), status, segmentsRead: segments.length, samplesFolded };
  }

  /** The batch succeeded up to `endOffset` (exclusive): the view is current for the next batch. */
  end(partition: string, endOffset: number): void {
    const view = this.views.get(partition);
    if (!view) return;
    view.nextOffset = endOffset;
    this.trim(partition);
  }

  /**
   * A batch of this partition with no sample to evaluate (every record rejected): a current view
   * stays current past it.
   */
  advance(partition: string, startOffset: number, endOffset: number): void {
    const view = this.views.get(partition);
    if (view && view.nextOffset === startOffset) view.nextOffset = endOffset;
  }

  /** The batch failed: its partition's view is not trusted again until rebuilt. */
  drop(partition: string): void {
    this.views.delete(partition);
  }

  /** Series states held, all partitions together. */
  size(): number {
    let n = 0;
    for (const v of this.views.values()) n += v.entries.size;
    return n;
  }

  /** Partitions held. */
  partitions(): string[] {
    return [...this.views.keys()];
  }

  private trim(keep: string): void {
    const sizes = new Map<string, number>();
    let n = 0;
    for (const [p, v] of this.views) {
      const b = viewBytes(v);
      sizes.set(p, b);
      n += b;
    }
    if (n <= this.maxBytes) return;
    const order = [...this.views.entries()].filter(([p]) => p !== keep).sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [p] of order) {
      if (n <= this.maxBytes) break;
      n -= sizes.get(p)!;
      this.views.delete(p);
    }
  }
}

/**
 * A window lives in memory; the alert state lives in the table. The newest sample time is the
 * later of the two (a quiet item is refreshed only every half hour), and the window is the item's
 * when the item is at least as new as memory (it was written with one), else memory's.
 */
function merge(item: SeriesState, memory: SeriesState | undefined): SeriesState {
  const { wt: _wt, wv: _wv, wf, ...rest } = item;
  if (!memory) return wf === undefined ? item : (rest as SeriesState);
  const itemNewer = item.lastSampleMs >= memory.lastSampleMs;
  let window: { wt?: readonly number[]; wv?: readonly number[] | undefined } = {};
  if (item.wt !== undefined && itemNewer) window = { wt: item.wt, wv: item.wv };
  else if (memory.wt !== undefined) {
    // The item's window began at `wf`: memory's older samples belong to an earlier life of the series.
    const from = wf === undefined ? 0 : memory.wt.findIndex((t) => t >= wf);
    window = from === 0 ? { wt: memory.wt, wv: memory.wv } : from < 0 ? { wt: [], wv: [] } : { wt: memory.wt.slice(from), wv: memory.wv!.slice(from) };
  }
  return { ...rest, ...window, lastSampleMs: Math.max(item.lastSampleMs, memory.lastSampleMs) } as SeriesState;
}

/**
 * The {@link SeriesStateStore} of one partition's batch: states from memory where it is current,
 * from the table (merged with memory's window) where not; writes the table's part of each state
 * ({@link storedForm}) unless nothing of it changed, and keeps every evaluated state in memory.
 */
export class PartitionStore implements SeriesStateStore<SeriesState> {
  constructor(
    private readonly view: View,
    private readonly table: SeriesStateStore<SeriesState>,
    /** The log from this batch on, by state key (for {@link PartitionStore.catchUp}). */
    private readonly ahead: () => Promise<Map<string, SeriesBatch[]>> = async () => new Map(),
  ) {}

  /**
   * Memory's window, brought up to an item that is ahead of it. Memory holds the log before this
   * batch; an item is ahead when this batch is delivered again after an earlier delivery of it
   * (and maybe of later batches) committed. The sequence will skip the samples the item has seen
   * (at or before its newest time), so the window takes them here from the log, in log order, as
   * the earlier delivery did: every sample up to the item's newest time, and none after it (a
   * later sample at or before that time was skipped then, and the fold's own rule skips it too).
   */
  private async catchUp(key: string, item: SeriesState, memory: SeriesState | undefined): Promise<SeriesState | undefined> {
    const from = memory?.lastSampleMs ?? -Infinity;
    if (item.lastSampleMs <= from || item.wt !== undefined) return memory;
    let w = memory;
    for (const b of (await this.ahead()).get(key) ?? []) {
      const upTo = b.samples.filter((x) => x.timestampMs <= item.lastSampleMs);
      if (upTo.length > 0) w = foldWindow({ ...b, samples: upTo }, w);
    }
    return w;
  }

  async getMany(keys: readonly string[]): Promise<Map<string, StoredSeries<SeriesState>>> {
    const out = new Map<string, StoredSeries<SeriesState>>();
    const toRead: string[] = [];
    for (const k of keys) {
      const e = this.view.entries.get(k);
      if (!e || e.version === undefined) toRead.push(k);
      else if (e.version !== null && e.state) out.set(k, this.handOut(k, e, true));
    }
    if (toRead.length === 0) return out;
    const items = await this.table.getMany(toRead);
    for (const k of toRead) {
      const item = items.get(k);
      const e = this.view.entries.get(k);
      if (!item) {
        // No item (never written, deleted as stale by the timers, or refused by the series limit):
        // the series starts afresh, as it would from the table alone.
        if (e) {
          e.state = undefined;
          e.version = null;
        } else {
          this.view.entries.set(k, { ruleId: '', labels: {}, state: undefined, version: null, writtenLastSampleMs: undefined, dueAt: undefined, token: undefined });
        }
        continue;
      }
      const entry: Entry = {
        ruleId: item.ruleId,
        labels: item.labels,
        state: merge(item.state, await this.catchUp(k, item.state, e?.state)),
        version: item.version,
        writtenLastSampleMs: item.lastSampleMs ?? item.state.lastSampleMs,
        dueAt: item.dueAt,
        token: item.token,
      };
      this.view.entries.set(k, entry);
      out.set(k, this.handOut(k, entry, false));
    }
    return out;
  }

  private handOut(key: string, e: Entry, fromMemory: boolean): StoredSeries<SeriesState> {
    const s = e.state!;
    return {
      key,
      ruleId: e.ruleId,
      labels: e.labels,
      state: s,
      version: e.version!,
      lastSampleMs: s.lastSampleMs,
      ...(e.dueAt !== undefined ? { dueAt: e.dueAt } : {}),
      ...(e.writtenLastSampleMs !== undefined ? { writtenLastSampleMs: e.writtenLastSampleMs } : {}),
      ...(fromMemory ? { fromMemory } : {}),
    };
  }

  async commit(writes: readonly SeriesWrite<SeriesState>[]): Promise<CommitResult> {
    const send: SeriesWrite<SeriesState>[] = [];
    const puts = new Map<string, SeriesPut<SeriesState>>();
    for (const w of writes) {
      if (w.kind === 'delete') {
        send.push(w);
        continue;
      }
      if (w.skippable) {
        // Nothing for the table: memory moves on (the window and the newest sample time).
        const e = this.view.entries.get(w.key);
        if (e && e.version !== undefined && e.version !== null) e.state = w.state;
        continue;
      }
      puts.set(w.key, w);
      const token = this.view.entries.get(w.key)?.token;
      send.push({ ...w, state: storedForm(w.state, 'derived'), ...(w.expectedVersion !== undefined && token !== undefined ? { expectedToken: token } : {}) });
    }
    const result = await this.table.commit(send);
    const failed = new Set([...result.conflicts, ...result.tooLarge]);
    for (const w of send) {
      const e = this.view.entries.get(w.key);
      if (failed.has(w.key)) {
        // Read again before the next use; memory's window (before this batch) stays.
        if (e) e.version = undefined;
        continue;
      }
      if (w.kind === 'delete') {
        this.view.entries.delete(w.key);
        continue;
      }
      const put = puts.get(w.key)!;
      this.view.entries.set(w.key, {
        ruleId: put.ruleId,
        labels: put.labels,
        state: put.state,
        version: (put.expectedVersion ?? 0) + 1,
        writtenLastSampleMs: put.lastSampleMs ?? put.state.lastSampleMs,
        dueAt: put.dueAt,
        token: stateToken(w.state),
      });
    }
    return result;
  }

  async verify(keys: readonly string[]): Promise<string[]> {
    const items = await this.table.getMany(keys);
    const stale: string[] = [];
    for (const k of keys) {
      const e = this.view.entries.get(k);
      const item = items.get(k);
      // The version, and the content token: a version alone cannot tell an item deleted and
      // created again (by the timers and another instance) from the one memory was built on.
      if (!e || (item ? item.version !== e.version || (item.token !== undefined && item.token !== e.token) : e.version !== null)) {
        stale.push(k);
        if (e) e.version = undefined;
      }
    }
    return stale;
  }

  async duePage(nowMs: number, limit: number, cursor?: DueCursor): Promise<DuePage> {
    return await this.table.duePage(nowMs, limit, cursor);
  }
}

/** One partition's records of a batch: its offsets and the samples decoded from them. */
export interface PartitionBatch {
  /** `${topic}-${partition}`. */
  readonly partition: string;
  readonly startOffset: number;
  /** One past the last record's offset. */
  readonly endOffset: number;
  readonly samples: readonly MetricSample[];
}

/** What {@link evaluatePartitionBatch} reads and writes: the evaluation ports, the log and this instance's memory. */
export interface DerivedPorts extends Omit<EvaluateBatchPorts, 'states'> {
  readonly log: SampleLog;
  readonly memory: PartitionMemory;
}

/** The run's result, and how the partition's memory was found. */
export interface PartitionBatchResult extends EvaluateBatchResult {
  readonly view: Omit<BeginResult, 'store'>;
}

/**
 * The evaluation sequence of one partition's batch with derived windows, in this order: append
 * the samples to the sample log (keyed by the first offset: a redelivery overwrites its own
 * segment), bring the partition's memory up to the batch (current, caught up or rebuilt), run
 * {@link evaluateBatch} with the partition's store, and only then mark the memory current. A
 * failure anywhere forgets the partition's memory (the redelivery rebuilds it) and is rethrown.
 */
export async function evaluatePartitionBatch(
  ports: DerivedPorts,
  index: RuleIndex,
  batch: PartitionBatch,
  opts: Omit<EvaluateBatchOptions, 'windows'> & { readonly writtenAtMs?: number },
): Promise<PartitionBatchResult> {
  try {
    await ports.log.append({ partition: batch.partition, startOffset: batch.startOffset, endOffset: batch.endOffset, writtenAtMs: opts.writtenAtMs ?? opts.nowMs, samples: batch.samples });
    const begun = await ports.memory.begin(batch.partition, batch.startOffset, index, { nowMs: opts.writtenAtMs ?? opts.nowMs, horizonMs: rebuildHorizonMs(index, opts) });
    const result = await evaluateBatch({ states: begun.store, publisher: ports.publisher, budget: ports.budget }, index, batch.samples, { ...opts, windows: 'derived' });
    ports.memory.end(batch.partition, batch.endOffset);
    const { store: _store, ...view } = begun;
    return { ...result, view };
  } catch (err) {
    ports.memory.drop(batch.partition);
    throw err;
  }
}
