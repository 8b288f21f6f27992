/**
 * A local webhook receiver (an "incident tool" for local mode and tests): it VERIFIES the Standard
 * Webhooks signature of every request with the local secret (local/config/index.ts
 * LOCAL_WEBHOOK_SECRET), as a real receiver does with the scheme's library, answers 204 when it
 * verifies and 401 `{ error }` when it does not (the refusal is recorded: `refusals()`), and keeps
 * what it received for the console (`GET /_received`) and tests. Scheduled faults (`POST
 * /_schedule`: 410, 429 with Retry-After, 5xx, 3xx) answer as a webhook endpoint would.
 *
 * Use as a receiver's `webhook: { url: <url>/hooks/<anything> }`.
 */
import { verifyStandardWebhook } from '../../shared/core/webhook/standard-webhooks.ts';
import { LOCAL_WEBHOOK_SECRET } from '../config/index.ts';
import { retryAfterHeader, startHttpReceiver, tryJson, type Receiver, type ReceiverOptions, type Reply } from './http-receiver.ts';

/** A request the receiver refused, and why (a {@link verifyStandardWebhook} reason). */
export interface WebhookRefusal {
  readonly atMs: number;
  readonly path: string;
  readonly webhookId: string | undefined;
  readonly reason: string;
}

/** A started webhook receiver. */
export interface WebhookReceiver extends Receiver {
  /** Requests refused because their signature did not verify. */
  refusals(): WebhookRefusal[];
}

/** Options of the webhook receiver. */
export interface WebhookReceiverOptions extends ReceiverOptions {
  /** The `whsec_` secret it verifies with (default: the local one). */
  readonly secret?: string;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({ status, body: JSON.stringify(body), contentType: 'application/json', headers });

/** Starts the local webhook receiver. */
export async function startWebhookReceiver(opts: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const clock = opts.clock ?? { now: () => Date.now() };
  const secret = opts.secret ?? LOCAL_WEBHOOK_SECRET;
  const refusals: WebhookRefusal[] = [];
  const r = await startHttpReceiver(opts, {
    parse: (req) => tryJson(req.body),
    answer: (req) => {
      if (req.method !== 'POST') return json(405, { error: 'POST only' });
      const v = verifyStandardWebhook(req.headers, req.body, secret, clock.now());
      if (!v.ok) {
        refusals.push({ atMs: clock.now(), path: req.path, webhookId: req.headers['webhook-id'], reason: v.reason });
        return json(401, { error: `signature not verified: ${v.reason}` });
      }
      return { status: 204, body: '', contentType: 'text/plain' };
    },
    renderFault: (_req, f) =>
      f.status >= 300 && f.status < 400
        ? { status: f.status, body: '', contentType: 'text/plain', headers: { location: 'http://127.0.0.1:9/moved' } }
        : json(f.status, { error: f.code ?? `scheduled ${f.status}` }, retryAfterHeader(f)),
  });
  return { ...r, refusals: () => refusals.slice() };
}
