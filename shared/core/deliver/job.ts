/**
 * Validation of a channel-queue message body into a {@link NotificationJob}. A body that does not
 * parse is a permanent failure (dead-lettered with the reason), never a crash of the batch.
 */
import { z } from 'zod';
import { CHANNELS, SEVERITIES, TRANSITION_KINDS, type NotificationJob } from '../model/index.ts';

const labels = z.record(z.string(), z.string());
const severity = z.enum(SEVERITIES);

/** Schema of the alert transition inside a job (the fields delivery reads, others kept). */
const TransitionSchema = z.looseObject({
  version: z.literal(1),
  transitionId: z.string().min(1),
  kind: z.enum(TRANSITION_KINDS),
  fingerprint: z.string().min(1),
  ruleId: z.string(),
  ruleName: z.string(),
  severity,
  labels,
  annotations: labels,
  value: z.number().nullable(),
  condition: z.string(),
  atMs: z.number(),
  activeAtMs: z.number(),
  firedAtMs: z.number(),
  resolvedAtMs: z.number().optional(),
  runbookUrl: z.string().optional(),
  dashboardUrl: z.string().optional(),
  emittedAtMs: z.number(),
});

const DestinationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('slack'), webhookKey: z.string().optional(), channel: z.string().optional() }),
  z.object({ kind: z.literal('email'), to: z.array(z.string()) }),
  z.object({ kind: z.literal('pagerduty'), routingKeyName: z.string() }),
]);

/** Schema of a {@link NotificationJob} (version 1). */
export const NotificationJobSchema = z.looseObject({
  version: z.literal(1),
  idempotencyKey: z.string().min(1),
  channel: z.enum(CHANNELS),
  receiver: z.string(),
  destination: DestinationSchema,
  destinationId: z.string().min(1),
  transition: TransitionSchema,
  severity,
  escalation: z.object({ from: severity, reason: z.string() }).optional(),
  lowered: z.object({ from: severity, reason: z.string() }).optional(),
  fireCount: z.number(),
  suppressed: z.object({ count: z.number(), sinceMs: z.number() }).optional(),
});

/** Parses a queue message body: the job, or a readable reason why not. */
export function parseNotificationJob(body: string): { ok: true; job: NotificationJob } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
  const r = NotificationJobSchema.safeParse(raw);
  if (!r.success) return { ok: false, reason: `invalid notification job: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, job: r.data as unknown as NotificationJob };
}
