/** Builds MSK events as Lambda delivers them (records grouped by `<topic>-<partition>`, base64 values). */
import type { MskEvent, MskRecord } from '../../../shared/adapters/kafka/index.ts';

/** One record to put in an event: `value` is JSON-encoded unless it is a `raw` string. */
export interface RecordSpec {
  readonly partition: number;
  readonly offset: number;
  readonly value?: unknown;
  /** Raw bytes of the value as text (for undecodable input). */
  readonly raw?: string;
  readonly timestamp?: number;
  readonly topic?: string;
}

/** An MSK event with these records (in the order given, grouped by partition). */
export function mskEvent(records: readonly RecordSpec[], topic = 'metrics'): MskEvent {
  const grouped: Record<string, MskRecord[]> = {};
  for (const r of records) {
    const t = r.topic ?? topic;
    const text = r.raw ?? JSON.stringify(r.value);
    const rec: MskRecord = {
      topic: t,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp ?? 1_795_300_000_000,
      timestampType: 'CREATE_TIME',
      key: null,
      value: Buffer.from(text, 'utf8').toString('base64'),
      headers: [],
    };
    (grouped[`${t}-${r.partition}`] ??= []).push(rec);
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/klaxon/00000000-0000-0000-0000-000000000000-1',
    bootstrapServers: 'b-1.klaxon.local:9098,b-2.klaxon.local:9098',
    records: grouped,
  };
}

/** A sample in the wire format. */
export function sample(name: string, value: number, timestamp: number, labels: Record<string, string>): unknown {
  return { name, value, timestamp, labels };
}

/**
 * Delivers a batch as Lambda's Kafka event source does until it succeeds: a thrown error
 * redelivers the whole batch; a partial batch response redelivers each reported partition from the
 * reported offset. Returns the number of invocations.
 */
export async function deliverUntilDone(
  handler: (e: MskEvent) => Promise<{ batchItemFailures: { itemIdentifier: { partition: string; offset: number } }[] }>,
  event: MskEvent,
  maxInvocations = 10,
): Promise<number> {
  let current = event;
  for (let n = 1; n <= maxInvocations; n++) {
    let failures: { itemIdentifier: { partition: string; offset: number } }[];
    try {
      failures = (await handler(current)).batchItemFailures;
    } catch {
      continue; // the function failed: the same batch again
    }
    if (failures.length === 0) return n;
    const next: Record<string, MskRecord[]> = {};
    for (const f of failures) {
      const recs = current.records[f.itemIdentifier.partition];
      if (!recs) throw new Error(`handler reported unknown partition ${f.itemIdentifier.partition}`);
      next[f.itemIdentifier.partition] = recs.filter((r) => r.offset >= f.itemIdentifier.offset);
    }
    current = { ...current, records: next };
  }
  throw new Error(`batch not done after ${maxInvocations} invocations`);
}
