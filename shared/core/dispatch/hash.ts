/**
 * Hashing for ids that must be stable and short (destination ids, SQS deduplication ids).
 * node:crypto's hash is a pure computation, not I/O, so core may use it.
 */
import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
