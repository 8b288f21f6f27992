/**
 * PagerDuty v3 webhook payloads (issue 12): `{ "event": { id, event_type, resource_type,
 * occurred_at, agent, data } }`, `data` being the incident for incident.* events, with the
 * `incident_key` Klaxon sent as the Events API v2 `dedup_key` (an alert fingerprint, or a group id:
 * shared/core/format/pagerduty.ts). https://developer.pagerduty.com/docs/db0fa8c8984fc-overview
 * Only what the worker needs is kept, each field bounded.
 */
import { MAX_ACTOR_CHARS } from '../lifecycle/action.ts';
import { MAX_KEY_CHARS, PAGERDUTY_EVENT_TYPES, type PagerDutyEventType, type PagerDutyEventWork } from './work.ts';

/** Why a verified webhook is not work (answered 2xx: PagerDuty drops a 4xx, and a retry would not change it). */
export const PAGERDUTY_PAYLOAD_SKIPS = ['not-json', 'no-event', 'not-applied', 'no-incident-key', 'bad-time'] as const;
/** One of {@link PAGERDUTY_PAYLOAD_SKIPS}. */
export type PagerDutyPayloadSkip = (typeof PAGERDUTY_PAYLOAD_SKIPS)[number];

const obj = (x: unknown): Record<string, unknown> | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined);
const str = (x: unknown, max: number): string | undefined => (typeof x === 'string' && x.length > 0 ? x.slice(0, max) : undefined);

/** Reads a verified webhook body at `receivedAtMs`: the work, or why there is none. */
export function readPagerDutyWebhook(body: string, receivedAtMs: number): { ok: true; work: PagerDutyEventWork } | { ok: false; skip: PagerDutyPayloadSkip; eventType?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { ok: false, skip: 'not-json' };
  }
  const ev = obj(obj(doc)?.event);
  const id = str(ev?.id, 128);
  const type = str(ev?.event_type, 64);
  if (!ev || !id || !type) return { ok: false, skip: 'no-event' };
  if (!(PAGERDUTY_EVENT_TYPES as readonly string[]).includes(type)) return { ok: false, skip: 'not-applied', eventType: type };
  const data = obj(ev.data);
  const key = typeof data?.incident_key === 'string' ? data.incident_key : undefined;
  if (!key || key.length > MAX_KEY_CHARS) return { ok: false, skip: 'no-incident-key', eventType: type };
  const occurred = typeof ev.occurred_at === 'string' ? Date.parse(ev.occurred_at) : Number.NaN;
  if (!Number.isFinite(occurred) || occurred < 0) return { ok: false, skip: 'bad-time', eventType: type };
  const agent = str(obj(ev.agent)?.summary, MAX_ACTOR_CHARS);
  const url = str(data?.html_url, 2048);
  const assignees = (Array.isArray(data?.assignees) ? data.assignees : [])
    .map((a) => str(obj(a)?.summary, MAX_ACTOR_CHARS))
    .filter((a): a is string => a !== undefined)
    .slice(0, 10);
  return {
    ok: true,
    work: {
      version: 1,
      kind: 'pagerduty-event',
      eventType: type as PagerDutyEventType,
      eventId: id,
      incidentKey: key,
      ...(agent ? { agent } : {}),
      ...(url && /^https?:\/\//.test(url) ? { incidentUrl: url } : {}),
      ...(assignees.length ? { assignees } : {}),
      occurredAtMs: occurred,
      receivedAtMs,
    },
  };
}
