/**
 * The ports of the evaluation sequence: what {@link evaluateBatch} and {@link advanceTimers} need
 * from the outside world. The evaluator and timers functions implement them with DynamoDB and SQS
 * (shared/adapters), `klaxon replay` and `klaxon rules test` with the in-memory implementations
 * beside this file, so production and replay run the same code in the same order.
 */
import type { AlertTransition, Labels, MetricSample } from '../model/index.ts';

/** A series item as read. */
export interface StoredSeries<S = unknown> {
  readonly key: string;
  readonly ruleId: string;
  readonly labels: Labels;
  readonly state: S;
  /** Optimistic-lock counter: every write is conditional on the version read. */
  readonly version: number;
  readonly lastSampleMs?: number;
  readonly dueAt?: number;
  /**
   * The newest sample time of the item as last written, when the state handed out is newer than
   * the item (a store that keeps evaluated states in memory between writes): the quiet-refresh
   * decision ({@link SeriesPut.skippable}) counts from the write, not from the last evaluation.
   */
  readonly writtenLastSampleMs?: number;
  /**
   * True when the state comes from a store's memory rather than a read: the sequence verifies
   * such a series against the table before it publishes a transition computed from it.
   */
  readonly fromMemory?: boolean;
  /**
   * The item's content token ({@link stateToken} of its state, written with it); absent on items
   * written before tokens existed.
   */
  readonly token?: string;
}

/** Write a series' new state. `expectedVersion` undefined means the item must not exist yet. */
export interface SeriesPut<S = unknown> {
  readonly kind: 'put';
  readonly key: string;
  readonly ruleId: string;
  readonly labels: Labels;
  readonly state: S;
  readonly expectedVersion: number | undefined;
  readonly lastSampleMs?: number;
  /** The core's nextDueMs; undefined keeps the item out of the due index. */
  readonly dueAt?: number;
  /**
   * True when nothing the table must hold changed (a quiet series between refreshes, or a
   * redelivered batch): a store writes nothing for it; a store that keeps states in memory keeps
   * this one there (its window moved on).
   */
  readonly skippable?: boolean;
  /**
   * When set, the write also requires the item's content token to be this one. A version alone
   * cannot tell the item read from one deleted since and created again (its version starts at 1
   * again); memory that holds a version for hours needs this, a read-then-write does not.
   */
  readonly expectedToken?: string;
}

/** Delete a series item if it still has the version read. */
export interface SeriesDelete {
  readonly kind: 'delete';
  readonly key: string;
  readonly expectedVersion: number;
}

/** One conditional write. */
export type SeriesWrite<S = unknown> = SeriesPut<S> | SeriesDelete;

/** Outcome of {@link SeriesStateStore.commit}. */
export interface CommitResult {
  /** Keys whose condition failed: another invocation advanced or created that series first. */
  readonly conflicts: string[];
  /** Keys not written because the item would approach DynamoDB's 400 KB item limit. */
  readonly tooLarge: string[];
}

/** Where a page of due keys ended: pass it back to read the next page. Opaque to callers. */
export type DueCursor = unknown;

/** One page of due keys, oldest due first within each shard of the index. */
export interface DuePage {
  readonly keys: string[];
  /** Present when more due keys may follow. */
  readonly next?: DueCursor;
}

/** Series state, one item per (rule, series). */
export interface SeriesStateStore<S = unknown> {
  /** Reads the items of these keys (missing keys are absent from the map). */
  getMany(keys: readonly string[]): Promise<Map<string, StoredSeries<S>>>;
  /** Applies conditional writes; every write not listed in the result is applied. */
  commit(writes: readonly SeriesWrite<S>[]): Promise<CommitResult>;
  /**
   * At most about `limit` keys of items whose dueAt <= nowMs, continuing after `cursor`: the
   * timers work through a backlog in bounded chunks, committing as they go.
   */
  duePage(nowMs: number, limit: number, cursor?: DueCursor): Promise<DuePage>;
  /**
   * Of these keys (states handed out `fromMemory`), those whose item changed since (another
   * writer): a store that hands out states from memory implements it; the others never need it.
   */
  verify?(keys: readonly string[]): Promise<string[]>;
}

/** Counts the series whose alert is firing (the timers function's `AlertsFiring`). */
export interface FiringCounter {
  countFiring(): Promise<number>;
}

/**
 * The per-rule series budget behind the cardinality limit: how many series each rule holds.
 * A counter per rule, raised before a new series is first written and lowered when one is
 * deleted. A crash between the reservation and the write leaves the count a little high (the
 * limit then bites slightly early), never low: the bound holds.
 */
export interface SeriesBudget {
  /** Grants up to `n` new series to `ruleId` without passing `limit`; returns how many were granted. */
  reserve(ruleId: string, n: number, limit: number): Promise<number>;
  /** Returns `n` series of `ruleId` to the budget (deleted, or reserved but never written). */
  release(ruleId: string, n: number): Promise<void>;
}

/** Publishes alert transitions (FIFO by fingerprint, deduplicated by transition id). */
export interface TransitionPublisher {
  publish(transitions: readonly AlertTransition[]): Promise<void>;
}

/**
 * One Kafka partition's decoded samples of one batch: the sample log's unit. Written before the
 * batch is evaluated, keyed by the batch's first offset, so a redelivered batch overwrites its own
 * segment (idempotent) and a rebuild that reads the segments before a batch's first offset sees
 * exactly the samples every earlier batch evaluated (docs/design.md, "Windows as derived data").
 */
export interface LogSegment {
  /** `${topic}-${partition}`, as the MSK event keys its records. */
  readonly partition: string;
  /** Offset of the batch's first record of this partition. */
  readonly startOffset: number;
  /** One past the offset of the batch's last record of this partition. */
  readonly endOffset: number;
  /** Wall clock when the segment was written (epoch ms): how far back a rebuild must read. */
  readonly writtenAtMs: number;
  /** The samples decoded from the records, in record order (samples of one record in their order). */
  readonly samples: readonly MetricSample[];
}

/**
 * The per-partition sample log from which windows are rebuilt when a partition moves.
 *
 * "Complete" segments: an implementation returns only segments whose append finished (the
 * DynamoDB log stores large segments in several items; see shared/adapters/dynamodb/sample-log.ts).
 * Segments are returned as stored, keyed by start offset only: if the same partition is delivered
 * again from an offset before a segment already written (Kafka redelivers from the last committed
 * offset, and a batch can be processed before its commit is), the new segment covers offsets an
 * older one also covers, and both are returned; their `startOffset`/`endOffset` show the overlap.
 */
export interface SampleLog {
  /** Writes a segment; a segment with the same (partition, startOffset) is replaced whole. */
  append(segment: LogSegment): Promise<void>;
  /** Complete segments with `fromOffset <= startOffset < beforeOffset`, oldest first. */
  read(partition: string, fromOffset: number, beforeOffset: number): Promise<LogSegment[]>;
  /**
   * Complete segments with `startOffset < beforeOffset`, read newest first and stopping at the
   * first segment written before `sinceWrittenMs` (not included); returned oldest first.
   */
  readBack(partition: string, beforeOffset: number, sinceWrittenMs: number): Promise<LogSegment[]>;
}
