/**
 * Validation of a channel-queue message body into a {@link NotificationJob}. A body that does not
 * parse is a permanent failure (dead-lettered with the reason), never a crash of the batch.
 */
import { z } from 'zod';
import { CHANNELS, GROUP_JOB_MAX_LISTED, SEVERITIES, TRANSITION_KINDS, WEBHOOK_FORMATS, type GroupNoticeReason, type NotificationJob } from '../model/index.ts';

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
  // The template was checked when the routes loaded (shared/core/format/webhook.ts compileWebhookTemplate); its size is bounded there.
  z.object({ kind: z.literal('webhook'), url: z.string().min(1).max(2048), format: z.enum(WEBHOOK_FORMATS), template: z.unknown().optional(), maxAlerts: z.number().int().positive().optional(), secretKey: z.string().min(1).max(200) }),
]);

/** Bounds of a group job's strings and label sets (a group job stays well under SQS's 256 KiB). */
export const GROUP_JOB_BOUNDS = {
  /** Labels per alert and per group (GroupMemberView: at most 30 labels). */
  labels: 30,
  /** A label value (GroupMemberView: values cut to 200 characters). */
  labelValue: 200,
  labelName: 200,
  /** Name, instance, value, fingerprint, id, route path. */
  text: 1024,
  summary: 4096,
} as const;

const GROUP_NOTICE_REASONS = ['first-notification', 'new-firing', 'all-resolved', 'new-resolved', 'repeat'] as const satisfies readonly GroupNoticeReason[];

const boundedLabels = z
  .record(z.string().max(GROUP_JOB_BOUNDS.labelName), z.string().max(GROUP_JOB_BOUNDS.labelValue))
  .refine((l) => Object.keys(l).length <= GROUP_JOB_BOUNDS.labels, { message: `at most ${GROUP_JOB_BOUNDS.labels} labels` });
const text = z.string().max(GROUP_JOB_BOUNDS.text);
const count = z.number().int().nonnegative();
const epochMs = z.number().finite();

/** One listed alert of a group job ({@link GroupMemberView}). */
const GroupMemberSchema = z.object({
  fingerprint: text.min(1),
  status: z.enum(['firing', 'resolved']),
  severity,
  name: text,
  instance: text,
  summary: z.string().max(GROUP_JOB_BOUNDS.summary).optional(),
  value: text,
  startsAtMs: epochMs,
  endsAtMs: epochMs.optional(),
  labels: boundedLabels,
  runbookUrl: text.optional(),
  isNew: z.boolean().optional(),
});

/** The group part of a group job ({@link GroupNotice}): lists bounded, counts consistent with them. */
export const GroupNoticeSchema = z
  .object({
    id: z.string().regex(/^group:[0-9a-f]{32}$/, 'expected group:<32 hex>'),
    routePath: text,
    labels: boundedLabels,
    reason: z.enum(GROUP_NOTICE_REASONS),
    firing: z.array(GroupMemberSchema.extend({ status: z.literal('firing') })).max(GROUP_JOB_MAX_LISTED),
    resolved: z.array(GroupMemberSchema.extend({ status: z.literal('resolved') })).max(GROUP_JOB_MAX_LISTED),
    firingCount: count,
    resolvedCount: count,
    changes: z.object({ newFiring: count, newResolved: count }),
    seq: z.number().int().positive(),
  })
  .refine((g) => g.firing.length <= g.firingCount && g.resolved.length <= g.resolvedCount, { message: 'a list is longer than its count', path: ['firingCount'] })
  .refine((g) => g.firingCount + g.resolvedCount > 0, { message: 'a group notification needs at least one alert', path: ['firingCount'] });

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
  reminder: z.object({ lastSentAtMs: epochMs }).optional(),
  ack: z.object({ state: z.enum(['acknowledged', 'unacknowledged']), by: text, atMs: epochMs, source: z.string().max(32) }).optional(),
  note: z.object({ text, by: text, atMs: epochMs, source: z.string().max(32), approval: z.strictObject({ attemptId: z.string().regex(/^rem_[0-9a-f]{32}$/), expiresAtMs: epochMs }).optional() }).optional(),
  escalated: z.object({ policy: text, level: count, levels: count, step: count, steps: count, reason: text }).optional(),
  group: GroupNoticeSchema.optional(),
  logsFollowUp: z.object({ key: z.string().min(1).max(2048), gaveUp: z.boolean().optional() }).optional(),
}).refine((j) => !j.group || (j.transition.fingerprint === j.group.id && j.transition.kind === (j.group.firingCount === 0 ? 'resolved' : 'firing')), {
  message: "a group job's transition is the group's: fingerprint = group id, kind resolved exactly when nothing fires",
  path: ['group'],
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
