/**
 * In-memory implementations of the dispatch ports (`ports.ts`), with the semantics of the
 * DynamoDB and SQS adapters that matter to the pipeline: a version-guarded commit that keeps the
 * Slack thread, FIFO deduplication of jobs by idempotency key. They serve fast tests and `klaxon`
 * simulations; production uses shared/adapters.
 */
import type { NotificationJob } from '../model/index.ts';
import { AlertRecordConflictError, type AlertStore, type DeadLetterExtra, type DeadLetterSender, type JobPublisher, type RoutesSource } from './ports.ts';
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
