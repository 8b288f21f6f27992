/**
 * Secrets (Slack webhook URLs and bot token, PagerDuty routing keys) from AWS Secrets Manager,
 * through Powertools Parameters' SecretsProvider: GetSecretValue, JSON-decoded, cached in memory
 * for `maxAgeSeconds` so a batch costs no Secrets Manager call per message.
 *
 * Never log a secret value; errors name the secret, not its content.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import { PermanentError, TransientError } from '../../core/errors/index.ts';

/** Reads a JSON secret by name. */
export interface SecretSource {
  getJson(name: string): Promise<unknown>;
}

/** The secret could not be read or decoded (Secrets Manager unreachable or throttled): transient. */
export class SecretUnavailableError extends TransientError {}

/** The secret does not exist, or its content is not what the channel needs: a configuration error (permanent). */
export class SecretConfigError extends PermanentError {}

/** {@link SecretSource} on Secrets Manager, cached. */
export class SecretsManagerSecretSource implements SecretSource {
  readonly #provider: SecretsProvider;
  readonly #maxAge: number;

  constructor(client: SecretsManagerClient, opts: { maxAgeSeconds?: number } = {}) {
    this.#provider = new SecretsProvider({ awsSdkV3Client: client });
    this.#maxAge = opts.maxAgeSeconds ?? 300;
  }

  async getJson(name: string): Promise<unknown> {
    let value: unknown;
    try {
      value = await this.#provider.get(name, { maxAge: this.#maxAge, transform: 'json' });
    } catch (err) {
      // A missing secret is configuration, not an outage: retrying will not create it.
      if (causeNamed(err, 'ResourceNotFoundException')) throw new SecretConfigError(`secret ${name} does not exist`, { cause: err });
      throw new SecretUnavailableError(`secret ${name} could not be read`, { cause: err });
    }
    if (value === undefined) throw new SecretUnavailableError(`secret ${name} has no value`);
    return value;
  }
}

function causeNamed(err: unknown, name: string): boolean {
  for (let e = err as { name?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) if (e.name === name) return true;
  return false;
}

/** The Slack secret: `{ botToken?, webhooks?: { <name>: <url> }, signingSecret? }` (infra/topology.ts SECRETS). */
export const SlackSecretSchema = z.object({
  botToken: z.string().min(1).optional(),
  webhooks: z.record(z.string(), z.string()).optional(),
  signingSecret: z.string().optional(),
});
/** Decoded Slack secret. */
export type SlackSecret = z.infer<typeof SlackSecretSchema>;

/** The PagerDuty secret: `{ <name>: <routing key> }`. */
export const PagerDutySecretSchema = z.record(z.string(), z.string());

/** Reads and validates a secret; shape errors never include the value. */
export async function readSecret<T>(source: SecretSource, name: string, schema: z.ZodType<T>): Promise<T> {
  const raw = await source.getJson(name);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new SecretConfigError(`secret ${name} does not have the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.code}`).join('; ')}`);
  }
  return parsed.data;
}
