/**
 * The Amazon MSK event that Lambda's Kafka event source mapping delivers, and the Kafka partial
 * batch response the function returns.
 *
 * Event shape: https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
 * Partial batch response (an OBJECT identifier, unlike SQS's string):
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
 * Lambda resumes a topic-partition at the reported offset, so everything after it in that partition
 * is delivered again; that is why only the lowest failed offset per partition is reported.
 */

/** One Kafka record as Lambda delivers it (`key` and `value` base64; header bytes are Java signed bytes). */
export interface MskRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly timestampType?: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  /** Absent or null for keyless messages. */
  readonly key?: string | null;
  /** Base64 of the record value. Absent or null for a tombstone. */
  readonly value?: string | null;
  readonly headers?: readonly Readonly<Record<string, readonly number[]>>[];
}

/** The event: records grouped by `"<topic>-<partition>"`. */
export interface MskEvent {
  readonly eventSource: 'aws:kafka' | 'SelfManagedKafka' | string;
  readonly eventSourceArn?: string;
  readonly bootstrapServers?: string;
  readonly records: Readonly<Record<string, readonly MskRecord[]>>;
}

/** What `decodeRecord` needs from a record (value is base64; `''` for a tombstone). */
export interface KafkaRecordInput {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly value: string;
}

/** One failed position in Lambda's Kafka partial batch response format. */
export interface KafkaBatchItemFailure {
  readonly itemIdentifier: { readonly partition: string; readonly offset: number };
}

/** The function's answer to a Kafka batch: an empty list means every record is done. */
export interface KafkaBatchResponse {
  readonly batchItemFailures: KafkaBatchItemFailure[];
}

/**
 * The partition key Lambda uses in `records` and expects back in `itemIdentifier.partition`.
 * Built from the record's own fields (topic names may contain `-`, so never parse the map key).
 */
export function partitionId(record: { readonly topic: string; readonly partition: number }): string {
  return `${record.topic}-${record.partition}`;
}

/**
 * Flattens the event into one list, each partition's records in offset order (Lambda delivers them
 * in order already; sorting again costs little and keeps "lowest offset" reasoning simple).
 */
export function recordsOf(event: MskEvent): KafkaRecordInput[] {
  const out: KafkaRecordInput[] = [];
  for (const list of Object.values(event.records ?? {})) {
    const sorted = [...list].sort((a, b) => a.offset - b.offset);
    for (const r of sorted) {
      out.push({ topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp, value: r.value ?? '' });
    }
  }
  return out;
}

/**
 * Decodes one Kafka header value (an array of Java signed bytes) as UTF-8. `Buffer.from` keeps the
 * low 8 bits of each number, so `-61, -85` becomes `0xC3 0xAB` ("ë") as it should.
 */
export function headerText(bytes: readonly number[]): string {
  return Buffer.from(bytes as number[]).toString('utf8');
}

/**
 * Builds the partial batch response from the records whose processing failed: for each partition,
 * the lowest failed offset. Lambda treats an unknown partition or offset as invalid and retries the
 * whole batch, so only coordinates of records that were in the batch may be passed here.
 */
export function kafkaBatchResponse(failed: Iterable<{ readonly topic: string; readonly partition: number; readonly offset: number }>): KafkaBatchResponse {
  const lowest = new Map<string, number>();
  for (const r of failed) {
    const id = partitionId(r);
    const cur = lowest.get(id);
    if (cur === undefined || r.offset < cur) lowest.set(id, r.offset);
  }
  return {
    batchItemFailures: [...lowest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([partition, offset]) => ({ itemIdentifier: { partition, offset } })),
  };
}
