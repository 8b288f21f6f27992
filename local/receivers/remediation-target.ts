/**
 * Local mode's remediation target (docs/remediation.md, "Local mode"): what a team's own "restart
 * this service" endpoint would be, for the demo's webhook actions. It verifies every request's
 * Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature; the replay window)
 * with the secret local mode stores for the action, drops a repeated webhook-id (the attempt id:
 * a redelivered attempt restarts nothing twice), and records "restarted <service>". A request with
 * a bad signature is refused 401 and recorded as refused.
 *
 * `GET /_restarts` lists what it did, `GET /_received` every request (http-receiver.ts).
 */
import { verifyStandardWebhook } from '../../shared/core/webhook/standard-webhooks.ts';
import type { Clock } from '../../shared/core/model/index.ts';
import { startHttpReceiver, tryJson, type Receiver, type Reply } from './http-receiver.ts';

/** What the target did for one verified request. */
export interface Restart {
  readonly webhookId: string;
  readonly action: string;
  /** The `Service` parameter (or the parameters as text when there is none). */
  readonly service: string;
  readonly text: string;
  readonly atMs: number;
}

/** A running remediation target. */
export interface RemediationTarget extends Receiver {
  /** Where the action posts. */
  readonly endpoint: string;
  /** Verified, first-seen requests, oldest first. */
  restarts(): Restart[];
  /** Requests refused for their signature. */
  refused(): number;
}

const ok = (body: unknown, status = 200): Reply => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** Starts the target; `secret` is the action's `whsec_…` secret. */
export async function startRemediationTarget(opts: { secret: string; port?: number; clock?: Clock }): Promise<RemediationTarget> {
  const clock = opts.clock ?? { now: () => Date.now() };
  const restarts: Restart[] = [];
  const seen = new Set<string>();
  let refused = 0;
  const r = await startHttpReceiver(
    { ...(opts.port !== undefined ? { port: opts.port } : {}), clock },
    {
      parse: (req) => tryJson(req.body),
      answer: (req, parsed) => {
        if (req.method === 'GET' && req.path === '/_restarts') return ok(restarts);
        if (req.method !== 'POST' || req.path !== '/restart') return ok({ error: 'not found' }, 404);
        // The wall clock, as a real receiver's: the signature's timestamp is the sender's wall clock.
        const v = verifyStandardWebhook(req.headers, req.body, opts.secret, Date.now());
        if (!v.ok) {
          refused++;
          return ok({ error: `signature refused: ${v.reason}` }, 401);
        }
        if (seen.has(v.id)) return ok({ ok: true, duplicate: true });
        seen.add(v.id);
        const p = (parsed ?? {}) as { action?: unknown; parameters?: Record<string, unknown> };
        const params = p.parameters && typeof p.parameters === 'object' ? p.parameters : {};
        const service = typeof params.Service === 'string' ? params.Service : JSON.stringify(params);
        const action = typeof p.action === 'string' ? p.action : '?';
        restarts.push({ webhookId: v.id, action, service, text: `restarted ${service}`, atMs: clock.now() });
        return ok({ ok: true, restarted: service });
      },
      renderFault: (_req, f) => ok({ error: f.code ?? 'unavailable' }, f.status),
    },
  );
  return { ...r, endpoint: `${r.url}/restart`, restarts: () => restarts.slice(), refused: () => refused };
}
