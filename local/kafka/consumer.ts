/**
 * `npm start -- --kafka BROKERS --topic T`: consumes a real Kafka topic with kafkajs and hands the
 * records, with their real partitions and offsets, to the local MSK event source (so the evaluator
 * sees exactly what Lambda's MSK event source mapping would give it).
 */
import kafkajs from 'kafkajs';
import type { MskBatcher } from '../runtime/msk-batcher.ts';
import type { LocalLog } from '../runtime/log.ts';

/** Options of {@link startKafkaSource}. */
export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly batcher: MskBatcher;
  readonly log: LocalLog;
  /** Consumer group (default `klaxon-local`). */
  readonly groupId?: string;
  /** Start at the earliest offset when the group has none (default false: only new records). */
  readonly fromBeginning?: boolean;
}

/** Thrown when the topic cannot be consumed (brokers unreachable, topic missing). */
export class KafkaSourceError extends Error {
  override name = 'KafkaSourceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Connects, subscribes and starts feeding the batcher; `stop()` disconnects. */
export async function startKafkaSource(opts: KafkaSourceOptions): Promise<{ stop(): Promise<void> }> {
  const kafka = new kafkajs.Kafka({ clientId: 'klaxon-local', brokers: [...opts.brokers], logLevel: kafkajs.logLevel.ERROR });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [opts.topic] });
    const partitions = meta.topics[0]?.partitions.length ?? 0;
    if (partitions === 0) throw new KafkaSourceError(`topic ${opts.topic} has no partitions`);
    opts.log.info(`kafka: consuming ${opts.topic} (${partitions} partitions) from ${opts.brokers.join(',')}`);
  } catch (cause) {
    await admin.disconnect().catch(() => undefined);
    throw cause instanceof KafkaSourceError ? cause : new KafkaSourceError(`kafka: cannot read topic ${opts.topic} on ${opts.brokers.join(',')}: ${(cause as Error).message}`, { cause });
  }
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: opts.groupId ?? 'klaxon-local' });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.fromBeginning ?? false });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : String(v);
      opts.batcher.push({
        value: message.value,
        key: message.key ? message.key.toString('utf8') : null,
        partition,
        offset: Number(message.offset),
        timestampMs: Number(message.timestamp),
        headers,
      });
    },
  });
  return { stop: () => consumer.disconnect() };
}
