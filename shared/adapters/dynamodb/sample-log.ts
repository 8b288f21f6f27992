/**
 * The per-partition sample log in DynamoDB (the `samples` table of infra/topology.ts): one segment
 * per (Kafka partition, batch), the samples encoded by ./segment-codec.ts.
 *
 * Item layout (one item per chunk of a segment):
 * | attribute     | type | what |
 * |---------------|------|------|
 * | `pk`          | S    | the partition, `${topic}-${partition}` |
 * | `sk`          | S    | the segment's startOffset, 20 digits zero-padded, `#`, the chunk index, 3 digits (`00000000000000001200#000`): string order is offset order |
 * | `b`           | B    | the chunk's samples, encoded by ./segment-codec.ts |
 * | `wid`         | S    | a random id of the append that wrote the chunk, the same on all its chunks |
 * | `expiresAt`   | N    | TTL, epoch seconds: writtenAt + the retention ({@link SAMPLE_LOG_RETENTION_SECONDS} by default) |
 * | `chunks`      | N    | chunk 0 only: how many chunks the segment has |
 * | `endOffset`   | N    | chunk 0 only |
 * | `writtenAtMs` | N    | chunk 0 only |
 *
 * Chunks. An item may not exceed 400 KB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items),
 * so a segment whose encoding exceeds {@link CHUNK_MAX_BYTES} is split: its samples are cut into
 * runs, each encoded on its own. A typical batch (1,000 records) is one chunk of a few KB.
 *
 * What a reader trusts. Chunk 0 is written last, after every other chunk has been written, and
 * names how many chunks there are; a reader takes a segment only when its chunk 0 exists and
 * chunks 0..count-1 all carry chunk 0's `wid`. So:
 * - a crash while a segment is written (no chunk 0 yet) leaves a segment nobody reads; the batch is
 *   delivered again and its segment rewritten whole;
 * - a crash while a segment is rewritten leaves the previous write's chunk 0 beside chunks of the
 *   new one: their `wid`s differ, the segment is not read (the redelivery rewrites it);
 * - a rewrite with fewer chunks leaves the earlier write's higher chunks behind: chunk 0's count
 *   excludes them, and TTL removes them;
 * - TTL deletes a segment's items one by one (within days of expiry, not at once): a segment with
 *   a chunk missing is not read either.
 * Segments are otherwise returned as stored: see {@link SampleLog} for what overlapping offsets mean.
 *
 * Reads are Query requests over a key range of one partition, paged (a page holds at most 1 MB,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html), and
 * strongly consistent: when a partition moves to another Lambda instance, the instance that
 * appended the previous batch's segment may have done so milliseconds before, and an eventually
 * consistent read may miss a write that recent
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html);
 * a rebuilt window without that batch's samples would be silently wrong.
 *
 * Every request goes through `client.send`, so a meter on the client (./capacity.ts) counts it.
 */
import { PutItemCommand, QueryCommand, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { errorMessage, TransientError } from '../../core/errors/index.ts';
import type { MetricSample } from '../../core/model/index.ts';
import type { LogSegment, SampleLog } from '../../core/sequence/ports.ts';
import { checkOffsetBound, checkSegment, InvalidSegmentError, segmentName } from '../../core/sequence/sample-log.ts';
import { DEFAULT_CONCURRENCY, isTransientError, mapLimit, type Item } from './batch.ts';
import { CorruptSegmentError, decodeSamples, encodeChunks } from './segment-codec.ts';

/**
 * How long a segment is kept (TTL), seconds: 8 days. Longer than the maximum sample age (7 days,
 * `MAX_SAMPLE_AGE_SECONDS`, decode's DEFAULT_MAX_SAMPLE_AGE_MS): a window never holds a sample
 * older than decode accepts, so a rebuild never needs a segment written longer ago than that; the
 * extra day is margin for a rebuild that starts near the bound. A deployment that raises
 * MAX_SAMPLE_AGE_SECONDS should pass a longer retention.
 */
export const SAMPLE_LOG_RETENTION_SECONDS = 8 * 86_400;

/**
 * Largest encoded chunk, bytes: DynamoDB's item limit is 400 KB (409,600 bytes) including attribute
 * names and the keys; 350,000 leaves room for them (a partition key is at most 2,048 bytes).
 */
export const CHUNK_MAX_BYTES = 350_000;

/** Most chunks of one segment (the sort key's 3 digits): 350 MB, far beyond a 6 MB batch. */
export const MAX_CHUNKS = 1000;

/** Digits of the zero-padded start offset in the sort key (Kafka offsets are 64-bit: up to 19 digits). */
const OFFSET_DIGITS = 20;

/** DynamoDB failed in a way worth retrying (throttling, a timeout, a 5xx): try the batch again. */
export class SampleLogUnavailableError extends TransientError {}

/** The sort key of chunk `chunk` of the segment starting at `startOffset`. */
export function sampleLogSortKey(startOffset: number, chunk: number): string {
  return `${offsetPrefix(startOffset)}${String(chunk).padStart(3, '0')}`;
}

/** `<20-digit offset>#`: every chunk key of that offset sorts after it and before the next offset's. */
function offsetPrefix(offset: number): string {
  return `${String(offset).padStart(OFFSET_DIGITS, '0')}#`;
}

const SORT_KEY_RE = /^(\d{20})#(\d{3})$/;

/** Options of {@link DynamoSampleLog}. */
export interface DynamoSampleLogOptions {
  readonly client: DynamoDBClient;
  readonly table: string;
  /** TTL of a segment, seconds; default {@link SAMPLE_LOG_RETENTION_SECONDS}. */
  readonly retentionSeconds?: number;
  /** Largest encoded chunk, bytes, at most {@link CHUNK_MAX_BYTES} (the default); tests lower it to chunk small segments. */
  readonly chunkMaxBytes?: number;
}

/** The chunks read so far of one start offset, by chunk index. */
interface Group {
  readonly startOffset: number;
  readonly chunks: Map<number, Item>;
}

/** {@link SampleLog} on DynamoDB (see the module comment). */
export class DynamoSampleLog implements SampleLog {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly retentionSeconds: number;
  private readonly chunkMaxBytes: number;

  constructor(options: DynamoSampleLogOptions) {
    this.client = options.client;
    this.table = options.table;
    this.retentionSeconds = options.retentionSeconds ?? SAMPLE_LOG_RETENTION_SECONDS;
    this.chunkMaxBytes = options.chunkMaxBytes ?? CHUNK_MAX_BYTES;
    if (!Number.isSafeInteger(this.retentionSeconds) || this.retentionSeconds <= 0) {
      throw new RangeError(`DynamoSampleLog: retentionSeconds must be a positive whole number, got ${this.retentionSeconds}`);
    }
    if (!(this.chunkMaxBytes > 0 && this.chunkMaxBytes <= CHUNK_MAX_BYTES)) {
      throw new RangeError(`DynamoSampleLog: chunkMaxBytes must be in (0, ${CHUNK_MAX_BYTES}], got ${this.chunkMaxBytes}`);
    }
  }

  async append(segment: LogSegment): Promise<void> {
    checkSegment(segment);
    const name = segmentName(segment.partition, segment.startOffset);
    const chunks = encodeChunks(segment.samples, this.chunkMaxBytes, name);
    if (chunks.length > MAX_CHUNKS) throw new InvalidSegmentError(`${name}: ${chunks.length} chunks, at most ${MAX_CHUNKS}`);
    const common: Item = {
      pk: { S: segment.partition },
      wid: { S: randomBytes(9).toString('base64url') },
      expiresAt: { N: String(Math.floor(segment.writtenAtMs / 1000) + this.retentionSeconds) },
    };
    const item = (k: number): Item => ({ ...common, sk: { S: sampleLogSortKey(segment.startOffset, k) }, b: { B: chunks[k]! } });
    const put = (it: Item): Promise<unknown> => this.send(`append ${name}`, () => this.client.send(new PutItemCommand({ TableName: this.table, Item: it })));
    // Chunk 0 last: until it is written, readers do not see this write (module comment).
    await mapLimit(
      chunks.slice(1).map((_, i) => i + 1),
      DEFAULT_CONCURRENCY,
      (k) => put(item(k)),
    );
    await put({
      ...item(0),
      chunks: { N: String(chunks.length) },
      endOffset: { N: String(segment.endOffset) },
      writtenAtMs: { N: String(segment.writtenAtMs) },
    });
  }

  async read(partition: string, fromOffset: number, beforeOffset: number): Promise<LogSegment[]> {
    checkOffsetBound('fromOffset', fromOffset);
    checkOffsetBound('beforeOffset', beforeOffset);
    const lo = Math.max(0, Math.ceil(fromOffset));
    const hi = Math.min(Math.ceil(beforeOffset), Number.MAX_SAFE_INTEGER + 1);
    if (lo >= hi) return [];
    const out: LogSegment[] = [];
    for await (const segment of this.segments(partition, lo, hi, true)) out.push(segment);
    return out;
  }

  async readBack(partition: string, beforeOffset: number, sinceWrittenMs: number): Promise<LogSegment[]> {
    checkOffsetBound('beforeOffset', beforeOffset);
    const hi = Math.min(Math.ceil(beforeOffset), Number.MAX_SAFE_INTEGER + 1);
    if (hi <= 0) return [];
    const out: LogSegment[] = [];
    // Newest first. The page that holds the stopping segment may read further (at most 1 MB more).
    for await (const segment of this.segments(partition, 0, hi, false)) {
      if (segment.writtenAtMs < sinceWrittenMs) break;
      out.push(segment);
    }
    return out.reverse();
  }

  /**
   * Complete segments with `lo <= startOffset < hi`, in offset order (`forward`) or reverse. A
   * start offset's chunks are contiguous in key order: forward, chunk 0 comes first and the
   * segment is assembled when the next offset's first item (or the end) is reached; backward,
   * chunk 0 comes last and completes it.
   */
  private async *segments(partition: string, lo: number, hi: number, forward: boolean): AsyncGenerator<LogSegment> {
    const input: QueryCommandInput = {
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': { S: partition }, ':lo': { S: offsetPrefix(lo) }, ':hi': { S: offsetPrefix(hi) } },
      ScanIndexForward: forward,
      // Strongly consistent: the previous batch's segment may be milliseconds old (module comment).
      ConsistentRead: true,
    };
    let group: Group | undefined;
    let start: Item | undefined;
    do {
      const page = await this.send(`read ${partition}`, () => this.client.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) })));
      for (const it of page.Items ?? []) {
        const { startOffset, chunk } = parseSortKey(partition, it);
        if (group && group.startOffset !== startOffset) {
          const done = assemble(partition, group);
          if (done) yield done;
          group = undefined;
        }
        group ??= { startOffset, chunks: new Map() };
        group.chunks.set(chunk, it);
        if (!forward && chunk === 0) {
          // Backward, chunk 0 is its offset's last item: the segment is whole without reading on.
          const done = assemble(partition, group);
          if (done) yield done;
          group = undefined;
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    if (group) {
      const done = assemble(partition, group);
      if (done) yield done;
    }
  }

  /** Runs one request; a transient failure becomes a {@link SampleLogUnavailableError} naming the operation. */
  private async send<T>(op: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (isTransientError(err)) throw new SampleLogUnavailableError(`sample log: ${op}: ${errorMessage(err)}`, { cause: err });
      throw err;
    }
  }
}

function parseSortKey(partition: string, it: Item): { startOffset: number; chunk: number } {
  const m = SORT_KEY_RE.exec(it.sk?.S ?? '');
  if (!m) throw new CorruptSegmentError(`sample log ${partition}: item with sort key ${JSON.stringify(it.sk?.S ?? null)} is not <20-digit offset>#<3-digit chunk>`);
  return { startOffset: Number(m[1]), chunk: Number(m[2]) };
}

/** A number attribute of a segment's chunk 0, checked. */
function headNumber(name: string, head: Item, attr: string): number {
  const n = Number(head[attr]?.N ?? NaN);
  if (!Number.isSafeInteger(n)) throw new CorruptSegmentError(`${name}: chunk 0 has no valid ${attr} (${JSON.stringify(head[attr] ?? null)})`);
  return n;
}

/** The segment of a group when it is complete (module comment), else undefined. */
function assemble(partition: string, group: Group): LogSegment | undefined {
  const head = group.chunks.get(0);
  if (!head) return undefined;
  const name = segmentName(partition, group.startOffset);
  const count = headNumber(name, head, 'chunks');
  if (count < 1 || count > MAX_CHUNKS) throw new CorruptSegmentError(`${name}: chunk 0 gives ${count} chunks (1..${MAX_CHUNKS})`);
  const wid = head.wid?.S;
  if (wid === undefined) throw new CorruptSegmentError(`${name}: chunk 0 has no wid`);
  const parts: Item[] = [];
  for (let k = 0; k < count; k++) {
    const it = group.chunks.get(k);
    // Torn (a crash mid-rewrite) or partly expired: not read.
    if (!it || it.wid?.S !== wid) return undefined;
    parts.push(it);
  }
  const samples: MetricSample[] = [];
  parts.forEach((it, k) => {
    const bytes = it.b?.B;
    if (!bytes) throw new CorruptSegmentError(`${name} chunk ${k}: no samples attribute b`);
    for (const s of decodeSamples(bytes, `${name} chunk ${k}`)) samples.push(s);
  });
  return {
    partition,
    startOffset: group.startOffset,
    endOffset: headNumber(name, head, 'endOffset'),
    writtenAtMs: headNumber(name, head, 'writtenAtMs'),
    samples,
  };
}
