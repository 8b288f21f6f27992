/**
 * The release message: "decide this held notification again", put on the alert-events FIFO queue
 * (group = the held alert's fingerprint, so it stays in order with the alert's own transitions)
 * when something that muted it ended, here an inhibiting source that resolved. Dispatch reads the
 * alert record; if it still holds that activation's firing as held, the held transition runs through
 * the pipeline again (inhibition decided afresh) and is notified if nothing mutes it any more.
 * A due time kept as an SQS message: no sleep, no scan.
 */
import { z } from 'zod';
import { PermanentError } from '../../errors/index.ts';
import { sha256Hex } from '../hash.ts';

/** Why a release was sent. */
export const RELEASE_CAUSES = ['inhibition-ended'] as const;
/** One of {@link RELEASE_CAUSES}. */
export type ReleaseCause = (typeof RELEASE_CAUSES)[number];

/** Readable text for each {@link ReleaseCause}. */
export const RELEASE_CAUSE_TEXT: Readonly<Record<ReleaseCause, string>> = {
  'inhibition-ended': 'an inhibiting source alert resolved',
};

/** A release message (version 1). */
export interface ReleaseMessage {
  readonly version: 1;
  readonly kind: 'release';
  /** The held alert. */
  readonly fingerprint: string;
  /** The held activation: a release of an older one does nothing. */
  readonly firedAtMs: number;
  readonly cause: ReleaseCause;
  /** What ended: the source alert's fingerprint. */
  readonly by: string;
  /** Event time of what ended (the source's resolution). */
  readonly atMs: number;
}

/** The release's SQS deduplication id (≤ 128 characters): the same release sent twice is received once. */
export function releaseDedupId(r: ReleaseMessage): string {
  return sha256Hex(`release:${r.fingerprint}:${r.firedAtMs}:${r.cause}:${r.by}:${r.atMs}`);
}

const epochMs = z.number().int().nonnegative();

/** zod schema of a {@link ReleaseMessage}. */
export const releaseMessageSchema = z.object({
  version: z.literal(1),
  kind: z.literal('release'),
  fingerprint: z.string().min(1),
  firedAtMs: epochMs,
  cause: z.enum(RELEASE_CAUSES),
  by: z.string().min(1),
  atMs: epochMs,
});

/** The message is not a valid release (permanent: dead-lettered at once). */
export class InvalidReleaseError extends PermanentError {}

/** Whether a parsed alert-events message is a release rather than a transition. */
export function isReleaseDocument(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && (doc as { kind?: unknown }).kind === 'release';
}

/** Validates a parsed release document. Throws {@link InvalidReleaseError}. */
export function toReleaseMessage(doc: unknown): ReleaseMessage {
  const r = releaseMessageSchema.safeParse(doc);
  if (!r.success) throw new InvalidReleaseError(r.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('; '));
  return r.data;
}
