/**
 * In-memory implementations of the evaluation ports, with the same conditional-write semantics as
 * the DynamoDB adapters (a version per item, `attribute_not_exists` for a new one). They serve
 * `klaxon replay`, `klaxon rules test` and fast tests; production uses shared/adapters.
 */
import type { AlertTransition, MetricSample } from '../model/index.ts';
import { stateToken } from './writes.ts';
import type {
  CommitResult,
  DueCursor,
  DuePage,
  FiringCounter,
  LogSegment,
  SampleLog,
  SeriesBudget,
  SeriesStateStore,
  SeriesWrite,
  StoredSeries,
  TransitionPublisher,
} from './ports.ts';
import { checkOffsetBound, checkSegment } from './sample-log.ts';

/** A due-index position: items strictly after it come next. */
interface MemoryCursor {
  readonly dueAt: number;
  readonly key: string;
}

/** {@link SeriesStateStore} in a Map. */
export class InMemorySeriesStateStore<S = unknown> implements SeriesStateStore<S>, FiringCounter {
  private readonly items = new Map<string, StoredSeries<S>>();
  /** Writes applied (puts and deletes): what the same run would bill in DynamoDB write requests. */
  writes = 0;
  /** A lower bound of every item's dueAt: a page asked for before it is empty without a scan. */
  private minDue = Infinity;

  constructor(private readonly isFiring: (state: S) => boolean = () => false) {}

  async getMany(keys: readonly string[]): Promise<Map<string, StoredSeries<S>>> {
    const out = new Map<string, StoredSeries<S>>();
    for (const k of keys) {
      const it = this.items.get(k);
      if (it) out.set(k, it);
    }
    return out;
  }

  async commit(writes: readonly SeriesWrite<S>[]): Promise<CommitResult> {
    const conflicts: string[] = [];
    for (const w of writes) {
      if (w.kind === 'put' && w.skippable) continue;
      const cur = this.items.get(w.key);
      if (w.kind === 'delete') {
        if (!cur || cur.version !== w.expectedVersion) conflicts.push(w.key);
        else {
          this.items.delete(w.key);
          this.writes++;
        }
        continue;
      }
      if (w.expectedVersion === undefined ? cur !== undefined : cur?.version !== w.expectedVersion || (w.expectedToken !== undefined && cur.token !== w.expectedToken)) {
        conflicts.push(w.key);
        continue;
      }
      this.items.set(w.key, {
        key: w.key,
        ruleId: w.ruleId,
        labels: w.labels,
        state: w.state,
        version: (w.expectedVersion ?? 0) + 1,
        token: stateToken(w.state),
        ...(w.lastSampleMs !== undefined ? { lastSampleMs: w.lastSampleMs } : {}),
        ...(w.dueAt !== undefined && Number.isFinite(w.dueAt) ? { dueAt: w.dueAt } : {}),
      });
      this.writes++;
      if (w.dueAt !== undefined && w.dueAt < this.minDue) this.minDue = w.dueAt;
    }
    return { conflicts, tooLarge: [] };
  }

  async duePage(nowMs: number, limit: number, cursor?: DueCursor): Promise<DuePage> {
    const after = cursor as MemoryCursor | undefined;
    if (nowMs < this.minDue) return { keys: [] };
    const due: MemoryCursor[] = [];
    let minDue = Infinity;
    for (const it of this.items.values()) {
      if (it.dueAt !== undefined && it.dueAt < minDue) minDue = it.dueAt;
      if (it.dueAt === undefined || it.dueAt > nowMs) continue;
      if (after && (it.dueAt < after.dueAt || (it.dueAt === after.dueAt && it.key <= after.key))) continue;
      due.push({ dueAt: it.dueAt, key: it.key });
    }
    if (!after) this.minDue = minDue;
    due.sort((a, b) => a.dueAt - b.dueAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const page = due.slice(0, Math.max(1, limit));
    return { keys: page.map((d) => d.key), ...(due.length > page.length ? { next: page[page.length - 1]! } : {}) };
  }

  async countFiring(): Promise<number> {
    let n = 0;
    for (const it of this.items.values()) if (this.isFiring(it.state)) n++;
    return n;
  }

  /** Every item (for replays that list what fires, and for tests). */
  all(): IterableIterator<StoredSeries<S>> {
    return this.items.values();
  }

  /** Number of items. */
  get size(): number {
    return this.items.size;
  }
}

/** {@link SeriesBudget} with a counter per rule. */
export class InMemorySeriesBudget implements SeriesBudget {
  private readonly counts = new Map<string, number>();

  async reserve(ruleId: string, n: number, limit: number): Promise<number> {
    const cur = this.counts.get(ruleId) ?? 0;
    const granted = Math.max(0, Math.min(n, limit - cur));
    if (granted > 0) this.counts.set(ruleId, cur + granted);
    return granted;
  }

  async release(ruleId: string, n: number): Promise<void> {
    this.counts.set(ruleId, Math.max(0, (this.counts.get(ruleId) ?? 0) - n));
  }

  /** Series counted for a rule. */
  count(ruleId: string): number {
    return this.counts.get(ruleId) ?? 0;
  }
}

/** {@link TransitionPublisher} that keeps what it is given (deduplicated by transition id, as FIFO does). */
export class CollectingPublisher implements TransitionPublisher {
  readonly published: AlertTransition[] = [];
  private readonly ids = new Set<string>();

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    for (const t of transitions) {
      if (this.ids.has(t.transitionId)) continue;
      this.ids.add(t.transitionId);
      this.published.push(t);
    }
  }
}

/** A copy of a segment that shares nothing mutable with it (samples and their labels copied). */
function copySegment(s: LogSegment): LogSegment {
  return {
    partition: s.partition,
    startOffset: s.startOffset,
    endOffset: s.endOffset,
    writtenAtMs: s.writtenAtMs,
    samples: s.samples.map((x): MetricSample => ({ name: x.name, value: x.value, timestampMs: x.timestampMs, labels: { ...x.labels } })),
  };
}

/**
 * {@link SampleLog} in a Map per partition, with the DynamoDB log's semantics: the same checks on
 * append, a segment replaced whole by one with the same start offset, copies in and out. A write
 * is never torn in memory, so every stored segment is complete.
 */
export class InMemorySampleLog implements SampleLog {
  private readonly partitions = new Map<string, Map<number, LogSegment>>();

  async append(segment: LogSegment): Promise<void> {
    checkSegment(segment);
    let p = this.partitions.get(segment.partition);
    if (!p) this.partitions.set(segment.partition, (p = new Map()));
    p.set(segment.startOffset, copySegment(segment));
  }

  async read(partition: string, fromOffset: number, beforeOffset: number): Promise<LogSegment[]> {
    checkOffsetBound('fromOffset', fromOffset);
    checkOffsetBound('beforeOffset', beforeOffset);
    return this.sorted(partition)
      .filter((s) => s.startOffset >= fromOffset && s.startOffset < beforeOffset)
      .map(copySegment);
  }

  async readBack(partition: string, beforeOffset: number, sinceWrittenMs: number): Promise<LogSegment[]> {
    checkOffsetBound('beforeOffset', beforeOffset);
    const out: LogSegment[] = [];
    const older = this.sorted(partition).filter((s) => s.startOffset < beforeOffset);
    for (let i = older.length - 1; i >= 0; i--) {
      const s = older[i]!;
      if (s.writtenAtMs < sinceWrittenMs) break;
      out.push(copySegment(s));
    }
    return out.reverse();
  }

  /** The partition's segments by start offset. */
  private sorted(partition: string): LogSegment[] {
    return [...(this.partitions.get(partition)?.values() ?? [])].sort((a, b) => a.startOffset - b.startOffset);
  }
}
