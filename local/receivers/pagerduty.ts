/**
 * A local PagerDuty Events API v2 (`POST /v2/enqueue`), answering as PagerDuty does
 * (https://developer.pagerduty.com/docs/events-api-v2/overview/): 202 `{status:"success", message:"Event processed",
 * dedup_key}`; 400 `{status:"invalid event", message:"Event object is invalid", errors:[...]}` after
 * validating the event as PagerDuty does (routing_key 32 characters, event_action and severity
 * enums, summary ≤ 1024, source required, dedup_key ≤ 255 and required for resolve, ≤ 512 KB);
 * scheduled 429 (optionally with Retry-After) and 5xx. It also keeps the incidents it opened
 * (dedup_key → triggered / resolved) for tests and the local console.
 *
 * Use as `PAGERDUTY_EVENTS_URL=<url>/v2/enqueue`.
 *
 * Two-way (issue 12): `POST /_webhook` with `{ dedup_key, event: acknowledged | unacknowledged |
 * resolved | escalated, agent? }` sends a v3 webhook for that incident to the endpoint set with
 * `setWebhooks`, as PagerDuty does (https://developer.pagerduty.com/docs/db0fa8c8984fc-overview):
 * `{ event: { id, event_type: "incident.<event>", resource_type: "incident", occurred_at, agent,
 * data: { incident_key, html_url, … } } }`, signed `X-PagerDuty-Signature: v1=<HMAC-SHA256>` with
 * the local webhook secret (local/config/index.ts), with an `X-Webhook-Id`.
 */
import { randomUUID } from 'node:crypto';
import { pagerDutySignature } from '../../shared/core/interact/verify.ts';
import { retryAfterHeader, startHttpReceiver, tryJson, type Fault, type Receiver, type ReceiverOptions, type Reply, type VendorRequest } from './http-receiver.ts';
import { PAGERDUTY_PER_MINUTE, TokenBuckets, type RateLimit } from './rate-limit.ts';

/** A started PagerDuty receiver. */
export interface PagerDutyReceiver extends Receiver {
  /** Events URL for PAGERDUTY_EVENTS_URL. */
  readonly eventsUrl: string;
  /** Incident state per dedup_key (from accepted events). */
  incidents(): Map<string, 'triggered' | 'acknowledged' | 'resolved'>;
  /** Events answered 429 by the rate limit so far. */
  rateLimited(): number;
  /** Where `_webhook` sends, and the secret it signs with. */
  setWebhooks(target: { readonly url: string; readonly secret: string }): void;
  /** Sends a signed v3 webhook (what `POST /_webhook` does): the endpoint's status and body. */
  sendWebhook(req: WebhookRequest): Promise<{ readonly status: number; readonly body: string }>;
}

/** The incident events the local PagerDuty can send back. */
export const LOCAL_WEBHOOK_EVENTS = ['acknowledged', 'unacknowledged', 'resolved', 'escalated'] as const;

/** The request body of `POST /_webhook`. */
export interface WebhookRequest {
  /** The incident: the dedup_key Klaxon sent. */
  readonly dedup_key: string;
  readonly event: (typeof LOCAL_WEBHOOK_EVENTS)[number];
  /** Who did it (default `Local Responder`). */
  readonly agent?: string;
  /** Sign with this secret instead (tests of forged webhooks). */
  readonly secret?: string;
  /** Send with this delivery id (tests of replays; default a new one). */
  readonly webhookId?: string;
}

/** Options of the PagerDuty receiver. */
export interface PagerDutyReceiverOptions extends ReceiverOptions {
  /** The Events API limit per routing key (./rate-limit.ts: 120 a minute). Default on; `false` to measure Klaxon's own throughput. */
  readonly rateLimit?: RateLimit | false;
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({ status, body: JSON.stringify(body), contentType: 'application/json', headers });

/** The validation errors PagerDuty would report for an event (empty = valid). */
export function pagerDutyEventErrors(e: unknown, rawLength: number): string[] {
  const errors: string[] = [];
  if (rawLength > 512 * 1024) return ['Event object is too large (limit 512 KB)'];
  if (!e || typeof e !== 'object' || Array.isArray(e)) return ['Event object is not a JSON object'];
  const ev = e as Record<string, unknown>;
  if (typeof ev.routing_key !== 'string' || ev.routing_key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (typeof ev.event_action !== 'string' || !ACTIONS.includes(ev.event_action)) errors.push("'event_action' is missing or blank; must be one of trigger, acknowledge, resolve");
  if (ev.dedup_key !== undefined && (typeof ev.dedup_key !== 'string' || ev.dedup_key.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
  if ((ev.event_action === 'acknowledge' || ev.event_action === 'resolve') && (typeof ev.dedup_key !== 'string' || !ev.dedup_key)) errors.push("'dedup_key' is missing or blank");
  if (ev.event_action === 'trigger') {
    const p = ev.payload as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object') errors.push("'payload' is missing or blank");
    else {
      if (typeof p.summary !== 'string' || !p.summary) errors.push("'payload.summary' is missing or blank");
      else if (p.summary.length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
      if (typeof p.source !== 'string' || !p.source) errors.push("'payload.source' is missing or blank");
      if (typeof p.severity !== 'string' || !SEVERITIES.includes(p.severity)) errors.push("'payload.severity' is invalid (must be one of critical, error, warning, info)");
      if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' || Number.isNaN(Date.parse(p.timestamp)))) errors.push("'payload.timestamp' is not a valid ISO 8601 date-time");
      if (p.custom_details !== undefined && (typeof p.custom_details !== 'object' || p.custom_details === null)) errors.push("'payload.custom_details' must be an object");
    }
    if (ev.links !== undefined && (!Array.isArray(ev.links) || ev.links.some((l) => !l || typeof (l as { href?: unknown }).href !== 'string'))) errors.push("'links' entries need an 'href'");
  }
  return errors;
}

/** Starts the local PagerDuty. */
export async function startPagerDutyReceiver(opts: PagerDutyReceiverOptions = {}): Promise<PagerDutyReceiver> {
  const incidents = new Map<string, 'triggered' | 'acknowledged' | 'resolved'>();
  const clock = opts.clock ?? { now: () => Date.now() };
  const limit = opts.rateLimit === false ? undefined : new TokenBuckets(opts.rateLimit ?? { burst: PAGERDUTY_PER_MINUTE, perSecond: PAGERDUTY_PER_MINUTE / 60 }, clock);
  let limited = 0;
  let webhooks: { url: string; secret: string } | undefined;
  const sendWebhook = async (w: WebhookRequest): Promise<{ status: number; body: string }> => {
    if (!webhooks) return { status: 409, body: 'no webhook endpoint set (local mode sets it when the interactions function runs)' };
    const agent = w.agent ?? 'Local Responder';
    const incidentId = `PLOCAL${Math.abs([...w.dedup_key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7)).toString(36).toUpperCase()}`;
    const doc = {
      event: {
        id: randomUUID(),
        event_type: `incident.${w.event}`,
        resource_type: 'incident',
        occurred_at: new Date(clock.now()).toISOString(),
        agent: { id: 'PUSERLOCAL', summary: agent, type: 'user_reference', html_url: `${r.url}/users/PUSERLOCAL` },
        client: null,
        data: {
          id: incidentId,
          type: 'incident',
          html_url: `${r.url}/incidents/${incidentId}`,
          status: w.event === 'resolved' ? 'resolved' : w.event === 'acknowledged' ? 'acknowledged' : 'triggered',
          incident_key: w.dedup_key,
          title: `Local incident ${w.dedup_key}`,
          assignees: [{ id: 'PUSERLOCAL', summary: agent, type: 'user_reference' }],
        },
      },
    };
    const body = JSON.stringify(doc);
    const res = await fetch(webhooks.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'PagerDuty-Webhook/V3.0',
        'x-webhook-id': w.webhookId ?? randomUUID(),
        'x-webhook-subscription': 'PSUBLOCAL',
        'x-pagerduty-signature': pagerDutySignature(w.secret ?? webhooks.secret, body),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (res.ok && incidents.has(w.dedup_key)) {
      if (w.event === 'acknowledged' || w.event === 'resolved') incidents.set(w.dedup_key, w.event);
      else if (w.event === 'unacknowledged') incidents.set(w.dedup_key, 'triggered');
    }
    return { status: res.status, body: await res.text() };
  };
  const control = async (req: VendorRequest): Promise<Reply | undefined> => {
    if (req.path !== '/_webhook' || req.method !== 'POST') return undefined;
    const w = tryJson(req.body) as WebhookRequest | undefined;
    if (!w || typeof w.dedup_key !== 'string' || !(LOCAL_WEBHOOK_EVENTS as readonly string[]).includes(w.event)) return json(400, { ok: false, error: `send { dedup_key, event: ${LOCAL_WEBHOOK_EVENTS.join(' | ')}, agent? }` });
    const out = await sendWebhook(w);
    return json(200, { ok: out.status >= 200 && out.status < 300, ...out });
  };
  const r = await startHttpReceiver(opts, {
    control,
    parse: (req) => tryJson(req.body),
    renderFault(_req, f: Fault): Reply {
      if (f.status === 429) return json(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.  Please retry later.' }, retryAfterHeader(f));
      if (f.status >= 500) return json(f.status, { status: 'unrecognized', message: 'Internal Server Error' });
      return json(f.status, { status: 'invalid event', message: 'Event object is invalid', errors: [f.code ?? 'Event object is invalid'] });
    },
    answer(req, parsed): Reply {
      if (req.method !== 'POST' || req.path !== '/v2/enqueue') return json(404, { status: 'not found', message: 'Not Found' });
      if (parsed === undefined) return json(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Malformed JSON'] });
      const errors = pagerDutyEventErrors(parsed, Buffer.byteLength(req.body));
      if (errors.length) return json(400, { status: 'invalid event', message: 'Event object is invalid', errors });
      const ev = parsed as { event_action: string; dedup_key?: string; routing_key: string };
      const wait = limit?.take(ev.routing_key) ?? 0;
      if (wait > 0) {
        limited++;
        return json(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.  Please retry later.' }, { 'Retry-After': String(wait) });
      }
      const dedup = ev.dedup_key ?? randomUUID().replace(/-/g, '');
      // Ack/resolve of an unknown key is accepted and dropped, as PagerDuty does (asynchronous API).
      if (ev.event_action === 'trigger') incidents.set(dedup, 'triggered');
      else if (incidents.has(dedup)) incidents.set(dedup, ev.event_action === 'resolve' ? 'resolved' : 'acknowledged');
      return json(202, { status: 'success', message: 'Event processed', dedup_key: dedup });
    },
  });
  return {
    ...r,
    eventsUrl: `${r.url}/v2/enqueue`,
    incidents: () => new Map(incidents),
    rateLimited: () => limited,
    setWebhooks: (target) => {
      webhooks = { ...target };
    },
    sendWebhook,
  };
}
