/**
 * Validation of the alert-events queue message ({@link AlertTransition}, version 1). A message that
 * fails it is dead-lettered at once by dispatch with the message this module produces.
 */
import { z } from 'zod';
import { SEVERITIES, TRANSITION_KINDS, type AlertTransition } from '../model/index.ts';
import { formatPath } from './route/routes-config.ts';
import { PermanentError } from '../errors/index.ts';
import { remediationSpecSchema } from '../remediate/spec.ts';

const labels = z.record(z.string(), z.string());
const epochMs = z.number().int().nonnegative();
const severityRecord = z.strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, z.number().nonnegative().optional()])) as Record<(typeof SEVERITIES)[number], z.ZodOptional<z.ZodNumber>>);

/** zod schema of an {@link AlertTransition} (unknown fields are ignored, for forward compatibility). */
export const alertTransitionSchema = z.object({
  version: z.literal(1),
  transitionId: z.string().min(1),
  kind: z.enum(TRANSITION_KINDS),
  fingerprint: z.string().min(1),
  ruleId: z.string().min(1),
  ruleName: z.string(),
  severity: z.enum(SEVERITIES),
  labels,
  annotations: labels,
  value: z.number().nullable(),
  condition: z.string(),
  atMs: epochMs,
  activeAtMs: epochMs,
  firedAtMs: epochMs,
  resolvedAtMs: epochMs.optional(),
  runbookUrl: z.string().optional(),
  dashboardUrl: z.string().optional(),
  policy: z
    .object({
      throttleMs: severityRecord.optional(),
      escalation: z.object({ count: z.number().int().positive(), windowMs: z.number().positive() }).optional(),
    })
    .optional(),
  remediation: remediationSpecSchema.optional(),
  emittedAtMs: epochMs,
});

/** The message is not a valid transition; `message` says where and why (permanent: dead-lettered at once). */
export class InvalidTransitionError extends PermanentError {}

/** Parses a queue message body into a transition. Throws {@link InvalidTransitionError}. */
export function parseTransition(body: string): AlertTransition {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (cause) {
    throw new InvalidTransitionError(`not JSON: ${(cause as Error).message}`, { cause });
  }
  const r = alertTransitionSchema.safeParse(doc);
  if (!r.success) {
    throw new InvalidTransitionError(r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '));
  }
  return r.data as AlertTransition;
}
