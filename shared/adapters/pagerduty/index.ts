/**
 * PagerDuty notifier: Events API v2 (`POST /v2/enqueue`), a plain fetch (the official pdjs client
 * hard-codes https, so it cannot reach the local receiver). Routing keys come from the PagerDuty
 * secret by the destination's `routingKeyName`. 202 success, 400 permanent, 429 and 5xx retryable
 * (classifyPagerDuty). https://github.com/PagerDuty/developer-docs/blob/main/docs/events-API-v2/01-Overview.md
 */
import { classifyPagerDuty, type SendResult } from '../../core/deliver/classify.ts';
import type { Notifier } from '../../core/deliver/notifier.ts';
import { renderPagerDutyEvent, type PagerDutyEvent, type PagerDutyFormatOptions } from '../../core/format/pagerduty.ts';
import type { NotificationJob } from '../../core/model/index.ts';
import { isFailure, postJson, type FetchLike } from '../channel/http.ts';
import { PagerDutySecretSchema, readSecret, SecretConfigError, type SecretSource } from '../secrets/index.ts';
import { CHANNEL_SEND_TIMEOUT_MS } from '../../config/timing.ts';

/** Default Events v2 endpoint (PAGERDUTY_EVENTS_URL overrides it for the local receiver). */
export const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Rendering needs the routing key, which is a secret: render with a placeholder, fill it in at send. */
const ROUTING_KEY_PLACEHOLDER = '<routing-key>';

/** Options of {@link createPagerDutyNotifier}. */
export interface PagerDutyNotifierOptions {
  readonly secrets: SecretSource;
  readonly secretName: string;
  readonly format: PagerDutyFormatOptions;
  readonly eventsUrl?: string;
  readonly fetch?: FetchLike;
  readonly timeoutMs?: number;
}

/** Builds the PagerDuty {@link Notifier}. */
export function createPagerDutyNotifier(opts: PagerDutyNotifierOptions): Notifier<PagerDutyEvent> {
  const fetchFn = opts.fetch ?? ((url, init) => fetch(url, init));
  const url = opts.eventsUrl ?? DEFAULT_PAGERDUTY_EVENTS_URL;
  return {
    channel: 'pagerduty',
    render: (job: NotificationJob) => renderPagerDutyEvent(job, ROUTING_KEY_PLACEHOLDER, opts.format),
    async send(job, rendered, nowMs): Promise<SendResult> {
      const dest = job.destination;
      if (dest.kind !== 'pagerduty') return { ok: false, retryable: false, reason: 'client', detail: `pagerduty notifier got a ${dest.kind} destination` };
      let keys: Record<string, string>;
      try {
        keys = await readSecret(opts.secrets, opts.secretName, PagerDutySecretSchema);
      } catch (err) {
        if (err instanceof SecretConfigError) return { ok: false, retryable: false, reason: 'client', detail: err.message };
        return { ok: false, retryable: true, reason: 'other', detail: (err as Error).message };
      }
      const routingKey = keys[dest.routingKeyName];
      if (!routingKey) return { ok: false, retryable: false, reason: 'client', detail: `no routing key named ${dest.routingKeyName} in secret ${opts.secretName}` };
      const reply = await postJson(fetchFn, url, { ...rendered, routing_key: routingKey }, { timeoutMs: opts.timeoutMs ?? CHANNEL_SEND_TIMEOUT_MS, nowMs });
      if (isFailure(reply)) return reply;
      const r = classifyPagerDuty(reply.status, reply.json, reply.retryAfterMs);
      const dedup = (reply.json as { dedup_key?: unknown } | undefined)?.dedup_key;
      return r.ok && typeof dedup === 'string' ? { ok: true, detail: `dedup_key ${dedup}` } : r;
    },
  };
}
