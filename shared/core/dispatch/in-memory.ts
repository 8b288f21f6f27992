/**
 * In-memory implementations of the dispatch ports (`ports.ts`), with the semantics of the
 * DynamoDB and SQS adapters that matter to the pipeline: a version-guarded commit that keeps the
 * Slack thread, FIFO deduplication of jobs by idempotency key. They serve fast tests and `klaxon`
 * simulations; production uses shared/adapters.
 */
import type { NotificationJob } from '../model/index.ts';
import {
  AlertRecordConflictError,
  type AlertStore,
  type DeadLetterExtra,
  type DeadLetterSender,
  type InhibitionStore,
  type JobPublisher,
  type ReleasePublisher,
  type RoutesSource,
} from './ports.ts';
import { emptyInhibitItem, type InhibitItem, type InhibitSource } from './inhibit/inhibition.ts';
import type { ReleaseMessage } from './inhibit/release.ts';
import type { AlertRecord, SlackThread } from './record/alert-record.ts';
import type { RoutingConfig } from './route/routing.ts';

/**
 * {@link AlertStore} in a Map; counts reads and writes as DynamoDB would bill them (one request
 * each). The Slack thread is kept apart, as the Slack channel function writes it on the same item
 * ({@link InMemoryAlertStore.setSlackThread}): a commit never drops it, and a thread written before
 * dispatch's first commit does not make a record.
 */
export class InMemoryAlertStore implements AlertStore {
  private readonly items = new Map<string, AlertRecord>();
  private readonly threads = new Map<string, SlackThread>();
  /** GetItem requests served. */
  reads = 0;
  /** Conditional writes applied (conflicts not counted). */
  writes = 0;

  async get(fingerprint: string): Promise<AlertRecord | undefined> {
    this.reads++;
    return this.peek(fingerprint);
  }

  async commit(record: AlertRecord, expectedVersion: number | undefined): Promise<void> {
    const cur = this.items.get(record.fingerprint);
    const ok = expectedVersion === undefined || expectedVersion === 0 ? cur === undefined : cur?.version === expectedVersion;
    if (!ok) throw new AlertRecordConflictError(`alert record ${record.fingerprint} changed since version ${expectedVersion ?? 0}`);
    // As the DynamoDB adapter: the Slack thread belongs to the Slack channel function; a commit does not write it.
    const { slackThread: _ignored, ...owned } = record;
    this.items.set(record.fingerprint, owned);
    this.writes++;
  }

  /** What the Slack channel function does: keeps the thread of the alert's message on its item. */
  setSlackThread(fingerprint: string, thread: SlackThread): void {
    this.threads.set(fingerprint, thread);
  }

  /** What the timers' re-check bookkeeping does to a muted record (silence expired early: due now). Not a version change, as in DynamoDB. */
  setMuted(fingerprint: string, muted: NonNullable<AlertRecord['muted']>): void {
    const r = this.items.get(fingerprint);
    if (r) this.items.set(fingerprint, { ...r, muted });
  }

  /** Every record (tests, simulations). */
  all(): AlertRecord[] {
    return [...this.items.keys()].map((fp) => this.peek(fp)!);
  }

  /** A record without counting a read (tests). */
  peek(fingerprint: string): AlertRecord | undefined {
    const r = this.items.get(fingerprint);
    const thread = this.threads.get(fingerprint);
    return r && thread ? { ...r, slackThread: thread } : r;
  }
}

/** {@link JobPublisher} that keeps the jobs, deduplicated by idempotency key as the FIFO queues deduplicate them. */
export class CollectingJobPublisher implements JobPublisher {
  readonly published: NotificationJob[] = [];
  private readonly keys = new Set<string>();
  /** publish() calls (one SendMessageBatch per channel in production). */
  calls = 0;

  async publish(jobs: readonly NotificationJob[]): Promise<void> {
    this.calls++;
    for (const j of jobs) {
      if (this.keys.has(j.idempotencyKey)) continue;
      this.keys.add(j.idempotencyKey);
      this.published.push(j);
    }
  }
}

/** {@link DeadLetterSender} that keeps what it is given. */
export class CollectingDeadLetters implements DeadLetterSender {
  readonly letters: { readonly body: string; readonly reason: string; readonly groupId: string; readonly extra?: DeadLetterExtra }[] = [];

  async send(body: string, reason: string, groupId: string, extra?: DeadLetterExtra): Promise<void> {
    this.letters.push({ body, reason, groupId, ...(extra ? { extra } : {}) });
  }
}

/** A {@link RoutesSource} that always serves one config. */
export function fixedRoutes(config: RoutingConfig): RoutesSource {
  return { get: () => Promise.resolve(config) };
}

/** {@link InhibitionStore} in a Map, counting requests as DynamoDB would bill them (a read of several keys is one BatchGetItem). */
export class InMemoryInhibitionStore implements InhibitionStore {
  private readonly items = new Map<string, { sources: Map<string, InhibitSource>; targets: Map<string, number> }>();
  /** BatchGetItem requests served. */
  reads = 0;
  /** UpdateItem requests applied. */
  writes = 0;

  async read(keys: readonly string[]): Promise<ReadonlyMap<string, InhibitItem>> {
    this.reads++;
    const out = new Map<string, InhibitItem>();
    for (const k of keys) {
      const it = this.peek(k);
      if (it) out.set(k, it);
    }
    return out;
  }

  async addSource(key: string, fingerprint: string, source: InhibitSource): Promise<void> {
    this.writes++;
    this.item(key).sources.set(fingerprint, source);
  }

  async removeSource(key: string, fingerprint: string): Promise<ReadonlyMap<string, number>> {
    this.writes++;
    const it = this.item(key);
    it.sources.delete(fingerprint);
    return new Map(it.targets);
  }

  async addTarget(key: string, fingerprint: string, firedAtMs: number): Promise<InhibitItem> {
    this.writes++;
    this.item(key).targets.set(fingerprint, firedAtMs);
    return this.peek(key)!;
  }

  async removeTarget(key: string, fingerprint: string): Promise<void> {
    this.writes++;
    this.item(key).targets.delete(fingerprint);
  }

  /** An item without counting a read (tests). */
  peek(key: string): InhibitItem | undefined {
    const it = this.items.get(key);
    return it ? { key, sources: new Map(it.sources), targets: new Map(it.targets) } : undefined;
  }

  private item(key: string): { sources: Map<string, InhibitSource>; targets: Map<string, number> } {
    let it = this.items.get(key);
    if (!it) {
      const e = emptyInhibitItem(key);
      it = { sources: new Map(e.sources), targets: new Map(e.targets) };
      this.items.set(key, it);
    }
    return it;
  }
}

/** {@link ReleasePublisher} that keeps the releases, deduplicated as the FIFO queue deduplicates them. */
export class CollectingReleasePublisher implements ReleasePublisher {
  readonly published: ReleaseMessage[] = [];
  private readonly keys = new Set<string>();

  async publish(releases: readonly ReleaseMessage[]): Promise<void> {
    for (const r of releases) {
      const k = JSON.stringify(r);
      if (this.keys.has(k)) continue;
      this.keys.add(k);
      this.published.push(r);
    }
  }

  /** Hands over what was published since the last call (a test's queue receive). */
  take(): ReleaseMessage[] {
    return this.published.splice(0);
  }
}
