/**
 * The logs follow-up (docs/enrichment.md, "Later: the Slack thread"): a Slack notification that
 * went with `logs pending` gets its log lines as a reply in its thread once the query ends.
 *
 * After the Slack notification is sent, the channel function puts a {@link LogsFollowUp} on the
 * enrich-followup queue (a standard queue: per-message DelaySeconds, which FIFO queues do not
 * have, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-timers.html).
 * The enrich-followup function reads the query once per delivery ({@link checkFollowUp}); when it
 * ended it sends a note job ({@link logsNoteJob}) to the Slack queue, so the reply goes through
 * the channel pipeline like any notification (idempotency, breaker, retries, DLQ) and the Slack
 * enricher fills the lines from the cache; while the query runs, the message comes back after a
 * delay, at most `maxAttempts` times; after the last the thread says the logs timed out and the
 * query is stopped.
 */
import { z } from 'zod';
import type { NotificationJob } from '../model/index.ts';
import { NotificationJobSchema } from '../deliver/job.ts';
import { pollQueryOnce, type LogsConfig, type LogsPorts } from './logs.ts';
import type { LogsEnrichment } from './types.ts';

/** Bounds of the follow-up: 10 looks, 15 s apart (a query over a narrow range ends well within 2.5 min). */
export const FOLLOW_UP_DEFAULTS = { maxAttempts: 10, delaySeconds: 15 } as const;

/** The follow-up queue message. */
export interface LogsFollowUp {
  readonly version: 1;
  /** The Slack job whose notification said `logs pending`. */
  readonly job: NotificationJob;
  /** The logs cache key (./logs.ts `logsKey`). */
  readonly key: string;
  /** 1 on the first look. */
  readonly attempt: number;
}

const FollowUpSchema = z.object({ version: z.literal(1), job: NotificationJobSchema, key: z.string().min(1).max(2048), attempt: z.number().int().positive() });

/** Parses a follow-up queue message body, or says why not. */
export function parseLogsFollowUp(body: string): { ok: true; value: LogsFollowUp } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
  const r = FollowUpSchema.safeParse(raw);
  if (!r.success) return { ok: false, reason: `invalid logs follow-up: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, value: r.data as unknown as LogsFollowUp };
}

/** What to do with a follow-up after one look. */
export type FollowUpDecision =
  | { readonly action: 'post' }
  | { readonly action: 'again'; readonly delaySeconds: number }
  | { readonly action: 'give-up' };

/** One look decided: post when the query ended (lines or a failure to say), look again while attempts remain, else give up. */
export function decideFollowUp(logs: LogsEnrichment, attempt: number, maxAttempts: number, delaySeconds: number): FollowUpDecision {
  if (logs.state !== 'pending') return { action: 'post' };
  return attempt < maxAttempts ? { action: 'again', delaySeconds } : { action: 'give-up' };
}

/** Reads the query of a follow-up once: the cache's outcome, or one GetQueryResults. */
export async function checkFollowUp(ports: LogsPorts, cfg: LogsConfig, key: string): Promise<LogsEnrichment> {
  const entry = await ports.cache.get(key);
  if (entry?.result) return entry.result;
  if (!entry?.queryId) return { state: 'pending', key };
  return (await pollQueryOnce(ports, cfg, key, entry.queryId)) ?? { state: 'pending', key };
}

/**
 * The note job that carries the lines to the alert's Slack thread: the original job with its own
 * idempotency key (`…:logs`), a note, and the cache key the Slack enricher reads the lines from.
 */
export function logsNoteJob(job: NotificationJob, key: string, nowMs: number, by: string, gaveUp: boolean): NotificationJob {
  return {
    ...job,
    idempotencyKey: `${job.idempotencyKey}:logs`,
    note: { text: gaveUp ? 'Recent error log lines: the query did not finish in time.' : 'Recent error log lines', by, atMs: nowMs, source: 'enrichment' },
    logsFollowUp: { key, ...(gaveUp ? { gaveUp: true } : {}) },
  };
}
