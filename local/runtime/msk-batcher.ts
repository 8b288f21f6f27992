/**
 * An MSK-shaped event source for the local runtime: records go to a partition chosen by their
 * series key (as a producer keying by series would do, so one series always lands on one
 * partition and stays in order), and are handed to the evaluator in `aws:kafka` events of at most
 * `batchSize` records, after at most `maxBatchingWindowMs`, one invocation at a time.
 *
 * Partial batch responses are honoured as Lambda does for Kafka: a failure `{ partition:
 * "<topic>-<n>", offset }` makes that partition resume from that offset (everything before it is
 * committed); a thrown error or an unknown identifier retries the whole batch.
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
 */
import type { MSKEvent, MSKRecord } from 'aws-lambda';

/** Lambda's Kafka partial batch response (`itemIdentifier` is an object, unlike SQS). */
export interface KafkaBatchResponse {
  readonly batchItemFailures?: readonly { readonly itemIdentifier: { readonly partition: string; readonly offset: number } }[];
}

/** One record to put on the local topic. */
export interface KafkaInput {
  /** The record value (a JSON sample or array of samples, or anything malformed). */
  readonly value: string | Buffer | null;
  /** Record key; when absent the series key of the value is used. */
  readonly key?: string | null;
  /** Record timestamp (epoch ms); defaults to the batcher's clock. */
  readonly timestampMs?: number;
  /** Fixed partition (a real Kafka consumer knows it); otherwise chosen by key. */
  readonly partition?: number;
  /** Fixed offset (a real Kafka consumer knows it); otherwise the next of the partition. */
  readonly offset?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What happened in one invocation (for logs and the console). */
export interface MskInvocation {
  readonly event: MSKEvent;
  readonly records: number;
  readonly durationMs: number;
  readonly response?: KafkaBatchResponse | void;
  readonly error?: unknown;
  /** Records that will be delivered again. */
  readonly retried: number;
}

/** Options of {@link MskBatcher}. */
export interface MskBatcherOptions {
  readonly topic: string;
  readonly partitions: number;
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly invoke: (event: MSKEvent) => Promise<KafkaBatchResponse | void>;
  readonly onInvoke?: (info: MskInvocation) => void;
  /** Pause before a failed batch is retried (default 500 ms). */
  readonly retryDelayMs?: number;
  /** Attempts per record before it is dropped (Lambda's MaximumRetryAttempts; default 10). */
  readonly maxRetries?: number;
  readonly onDrop?: (record: MSKRecord, reason: string) => void;
  readonly now?: () => number;
  readonly eventSourceArn?: string;
}

interface Pending {
  readonly record: MSKRecord;
  attempts: number;
}

/** A stable string hash (FNV-1a, 32 bit). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The partition a series key lands on (stable across runs). */
export function partitionFor(seriesKey: string, partitions: number): number {
  return fnv1a(seriesKey) % Math.max(1, partitions);
}

/**
 * The series key of a record value: metric name plus sorted labels of its (first) sample, in
 * either wire format; `job:source/service/task` for a job event; the raw text otherwise (a
 * malformed record still gets a stable partition).
 */
export function seriesKeyOf(value: string | Buffer | null): string {
  const text = value === null ? '' : typeof value === 'string' ? value : value.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    const first: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first && typeof first === 'object') {
      const o = first as Record<string, unknown>;
      // A job event: keyed by its task, as producers key them (docs/events.md), so one task's
      // events stay on one partition, in order.
      if ((o.kind === 'error' || o.kind === 'success') && typeof o.service === 'string' && typeof o.task === 'string') return `job:${String(o.source)}/${o.service}/${o.task}`;
      const name = typeof o.name === 'string' ? o.name : typeof o.metric_name === 'string' ? o.metric_name : undefined;
      if (name !== undefined) {
        const labels: Record<string, unknown> = { ...((o.labels ?? o.tags ?? {}) as Record<string, unknown>) };
        if (typeof o.instance_id === 'string') labels.instance = o.instance_id;
        const body = Object.keys(labels)
          .sort()
          .map((k) => `${k}=${JSON.stringify(String(labels[k]))}`)
          .join(',');
        return `${name}{${body}}`;
      }
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text;
}

const toBase64 = (v: string | Buffer): string => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64');

/** The local MSK event source. */
export class MskBatcher {
  private readonly queues: Pending[][];
  private readonly nextOffset: number[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: MskBatcherOptions) {
    this.queues = Array.from({ length: opts.partitions }, () => []);
    this.nextOffset = Array.from({ length: opts.partitions }, () => 0);
  }

  /** Records waiting to be delivered (including ones waiting for a retry). */
  get pending(): number {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }

  /** Puts a record on the topic and returns its coordinates. */
  push(input: KafkaInput): { partition: number; offset: number } {
    if (this.stopped) throw new Error('MskBatcher is stopped');
    const key = input.key ?? seriesKeyOf(input.value);
    const partition = input.partition ?? partitionFor(key, this.opts.partitions);
    if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`invalid partition ${partition}`);
    // A real topic may have more partitions than configured: its records say which.
    while (this.queues.length <= partition) {
      this.queues.push([]);
      this.nextOffset.push(0);
    }
    const q = this.queues[partition]!;
    const offset = input.offset ?? this.nextOffset[partition]!;
    this.nextOffset[partition] = Math.max(this.nextOffset[partition]!, offset + 1);
    const headers = Object.entries(input.headers ?? {}).map(([k, v]) => ({ [k]: [...Buffer.from(v, 'utf8')] }));
    const record: MSKRecord = {
      topic: this.opts.topic,
      partition,
      offset,
      timestamp: input.timestampMs ?? (this.opts.now ?? Date.now)(),
      timestampType: 'CREATE_TIME',
      key: toBase64(key),
      value: input.value === null ? (null as unknown as string) : toBase64(input.value),
      headers,
    };
    q.push({ record, attempts: 0 });
    if (this.pending >= this.opts.batchSize) this.schedule(0);
    else this.schedule(this.opts.maxBatchingWindowMs);
    return { partition, offset };
  }

  /** Resolves when every pushed record has been delivered (or dropped). */
  async drain(): Promise<void> {
    if (this.pending === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the timers; records still pending are not delivered. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer && delayMs > 0) return; // a window is already open
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.invokeOnce());
    }, delayMs);
  }

  /** Takes up to batchSize records, partition by partition in offset order. */
  private take(): Pending[] {
    const batch: Pending[] = [];
    for (const q of this.queues) {
      while (q.length > 0 && batch.length < this.opts.batchSize) batch.push(q.shift()!);
      if (batch.length >= this.opts.batchSize) break;
    }
    return batch;
  }

  private async invokeOnce(): Promise<void> {
    if (this.stopped) return;
    const batch = this.take();
    if (batch.length === 0) return this.settle();
    this.inFlight = batch.length;
    const records: MSKEvent['records'] = {};
    for (const p of batch) (records[`${p.record.topic}-${p.record.partition}`] ??= []).push(p.record);
    const event: MSKEvent = {
      eventSource: 'aws:kafka',
      eventSourceArn: this.opts.eventSourceArn ?? 'arn:aws:kafka:us-east-1:000000000000:cluster/klaxon-local/local',
      bootstrapServers: 'localhost:9092',
      records,
    };
    const started = Date.now();
    let response: KafkaBatchResponse | void = undefined;
    let error: unknown;
    try {
      response = await this.opts.invoke(event);
    } catch (err) {
      error = err;
    }
    const retry = this.toRetry(batch, response, error);
    for (const p of retry) p.attempts++;
    const keep = retry.filter((p) => {
      if (p.attempts <= (this.opts.maxRetries ?? 10)) return true;
      this.opts.onDrop?.(p.record, 'maximum retry attempts exceeded');
      return false;
    });
    // Put retried records back at the head of their partitions, in offset order.
    for (const p of [...keep].reverse()) this.queues[p.record.partition]!.unshift(p);
    this.inFlight = 0;
    this.opts.onInvoke?.({ event, records: batch.length, durationMs: Date.now() - started, response, error, retried: keep.length });
    if (this.pending > 0) this.schedule(keep.length > 0 ? (this.opts.retryDelayMs ?? 500) : this.pending >= this.opts.batchSize ? 0 : this.opts.maxBatchingWindowMs);
    this.settle();
  }

  /** Which records of the batch are delivered again, as Lambda decides from the response. */
  private toRetry(batch: Pending[], response: KafkaBatchResponse | void, error: unknown): Pending[] {
    if (error !== undefined) return batch;
    const failures = response?.batchItemFailures ?? [];
    if (failures.length === 0) return [];
    const lowest = new Map<string, number>();
    for (const f of failures) {
      const id = f?.itemIdentifier as { partition?: unknown; offset?: unknown } | undefined;
      const known = batch.some((p) => `${p.record.topic}-${p.record.partition}` === id?.partition && p.record.offset === id?.offset);
      if (!id || typeof id.partition !== 'string' || typeof id.offset !== 'number' || !known) return batch; // invalid: whole batch
      lowest.set(id.partition, Math.min(lowest.get(id.partition) ?? Infinity, id.offset));
    }
    return batch.filter((p) => {
      const from = lowest.get(`${p.record.topic}-${p.record.partition}`);
      return from !== undefined && p.record.offset >= from;
    });
  }

  private settle(): void {
    if (this.pending === 0 && this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
