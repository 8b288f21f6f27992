/**
 * The ports of the dispatch pipeline: what its acting stages need from the outside world
 * (docs/design.md, "The notification pipeline"). The dispatch function implements them with
 * DynamoDB and SQS (shared/adapters), tests and simulations with the in-memory implementations
 * beside this file (`in-memory.ts`), so both run the same stages in the same order.
 */
import { TransientError } from '../errors/index.ts';
import type { Clock, NotificationJob } from '../model/index.ts';
import type { AlertRecord } from './record/alert-record.ts';
import type { RoutingConfig } from './route/routing.ts';
import type { InhibitItem, InhibitSource } from './inhibit/inhibition.ts';
import type { ReleaseMessage } from './inhibit/release.ts';
import type { CompiledSilence } from './silence/silence.ts';
import type { FlushScheduler, GroupStore } from './group/ports.ts';
import type { SilenceStore } from './silence/ports.ts';
import type { RemediationRequestPublisher } from './remediate/index.ts';

/** The silences dispatch matches with (`CachedSilences` over a `SilenceStore`: read at most once per few seconds). */
export interface SilenceSource {
  current(): Promise<readonly CompiledSilence[]>;
}

/** Alert records: one per fingerprint, read whole and committed under a version guard. */
export interface AlertStore {
  /** The record, or undefined when dispatch never committed one. */
  get(fingerprint: string): Promise<AlertRecord | undefined>;
  /**
   * Writes `record` if the stored version is still `expectedVersion` (undefined or 0: no record).
   * Throws {@link AlertRecordConflictError} when another writer got there first.
   */
  commit(record: AlertRecord, expectedVersion: number | undefined): Promise<void>;
}

/** The record changed between read and commit (another instance, or a redelivery racing us): transient, read and decide again. */
export class AlertRecordConflictError extends TransientError {}

/** Publishes notification jobs to their channels' queues, all or throw (FIFO by fingerprint, deduplicated by idempotency key). */
export interface JobPublisher {
  publish(jobs: readonly NotificationJob[]): Promise<void>;
}

/** The current routes config (cached by the adapter; a failed reload keeps the last good one). */
export interface RoutesSource {
  get(): Promise<RoutingConfig>;
}

/** More about a dead-lettered message: its own deduplication key, and attributes beside `reason`. */
export interface DeadLetterExtra {
  /** Deduplicates on this instead of the body (FIFO; hashed to fit SQS's 128 characters). */
  readonly dedupId?: string;
  /** Further String message attributes (e.g. `detail`, `channel`), each cut like `reason`. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Moves a message that can never be processed to the dead-letter queue, with why. */
export interface DeadLetterSender {
  send(body: string, reason: string, groupId: string, extra?: DeadLetterExtra): Promise<void>;
}

/**
 * The inhibit items (docs/routing.md, "Inhibition"): one per (inhibit rule, `equal` values), in
 * the alerts table beside the alert records. Every write is idempotent (a redelivered transition
 * writes the same again).
 */
export interface InhibitionStore {
  /** The items of `keys` (strongly consistent; a key nobody wrote is absent from the map). */
  read(keys: readonly string[]): Promise<ReadonlyMap<string, InhibitItem>>;
  /** Registers a firing source. */
  addSource(key: string, fingerprint: string, source: InhibitSource): Promise<void>;
  /** Removes a source; returns the targets the item lists after the removal (to release them). */
  removeSource(key: string, fingerprint: string): Promise<ReadonlyMap<string, number>>;
  /** Registers a muted target (its activation's `firedAtMs`); returns the item after the write, atomically. */
  addTarget(key: string, fingerprint: string, firedAtMs: number): Promise<InhibitItem>;
  /** Removes a target. */
  removeTarget(key: string, fingerprint: string): Promise<void>;
}

/** Puts release messages on the alert-events FIFO queue (group = the held alert, deduplicated by `releaseDedupId`). */
export interface ReleasePublisher {
  publish(releases: readonly ReleaseMessage[]): Promise<void>;
}

/** An inhibit item changed between the read and the target's registration: read and decide again (transient). */
export class InhibitionChangedError extends AlertRecordConflictError {}

/** What the dispatch pipeline reads, publishes and commits through. */
export interface DispatchPorts {
  readonly alerts: AlertStore;
  readonly jobs: JobPublisher;
  readonly routes: RoutesSource;
  /** Silences (absent: none; docs/design.md, "The notification pipeline": silence). */
  readonly silences?: SilenceSource;
  /** Dispatch's clock: throttle windows are measured on it (when people get notified). */
  readonly clock: Clock;
  /** Inhibit items; required when the routes config has `inhibit_rules`. */
  readonly inhibitions?: InhibitionStore;
  /** Releases of held notifications; required when the routes config has `inhibit_rules`. */
  readonly releases?: ReleasePublisher;
  /** Notification groups; required when a route sets `group_by`. */
  readonly groups?: GroupStore;
  /** Schedules the flush of a group a transition created; required with `groups`. */
  readonly flushes?: FlushScheduler;
  /**
   * Where silences are expired: a silence made "until resolved" for an alert (Slack's button,
   * docs/incidents.md) is expired when that alert resolves (absent: they run to their end).
   */
  readonly silenceStore?: SilenceStore;
  /** Remediation requests (docs/remediation.md); absent: nothing is requested. */
  readonly remediations?: RemediationRequestPublisher;
}
