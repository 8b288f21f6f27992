/**
 * Pieces every function's environment reader uses: the error it throws at init, zod field types
 * for environment variables, JSON-valued variables, and the parse that names each bad variable.
 */
import { z } from 'zod';
import { PermanentError } from '../core/errors/index.ts';

/** Thrown at init for a missing or invalid environment variable; the message names it (permanent: fix the deployment). */
export class ConfigError extends PermanentError {}

/** A required, non-blank variable. */
export const nonEmpty = z.string().trim().min(1, 'must be set');

/** An optional variable; blank counts as unset. */
export const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));

/** Formats zod issues as `VAR: message; VAR.field: message`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root = '(env)'): string {
  return issues.map((i) => `${i.path.map(String).join('.') || root}: ${i.message}`).join('; ');
}

/**
 * An optional variable holding JSON, validated by `schema`. `hint` is added to the message when the
 * text is not JSON (e.g. an example value).
 */
export function jsonEnv<T extends z.ZodType>(schema: T, hint?: string) {
  return z
    .string()
    .trim()
    .optional()
    .transform((v, ctx): z.infer<T> | undefined => {
      if (!v) return undefined;
      let raw: unknown;
      try {
        raw = JSON.parse(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: hint ? `must be JSON, e.g. ${hint}` : 'must be JSON' });
        return z.NEVER;
      }
      const r = schema.safeParse(raw);
      if (!r.success) {
        ctx.addIssue({ code: 'custom', message: formatIssues(r.error.issues, '(value)') });
        return z.NEVER;
      }
      return r.data;
    });
}

/**
 * Parses the environment with a schema; on failure throws `makeError(message)` (a
 * {@link ConfigError} by default) whose message names the function and each bad variable.
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  env: NodeJS.ProcessEnv,
  fn: string,
  makeError: (message: string) => ConfigError = (m) => new ConfigError(m),
): z.infer<T> {
  const res = schema.safeParse(env);
  if (!res.success) throw makeError(`${fn}: invalid environment: ${formatIssues(res.error.issues)}`);
  return res.data;
}
