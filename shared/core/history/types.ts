/**
 * The alert history (issue 12): every transition, notification, suppression, acknowledgement,
 * escalation step and resolution, with its time and reason, so that people can see what happened
 * to an alert and the report can compute MTTA, MTTR, noisy and flapping rules. Written by dispatch,
 * the flush and the channel functions (each event once: its id is deterministic, a retry writes
 * the same item), read by `klaxon report` and the console; kept for a configurable retention.
 */
import type { Channel, Labels, Severity } from '../model/index.ts';

/** What happened. */
export const HISTORY_KINDS = [
  // The alert fired (a new activation, or fired again at a worse severity).
  'fired',
  'resolved',
  // A notification was published to a channel (per receiver and channel; a group notification lists its alerts' fingerprints).
  'notified',
  // A notification was not sent, and why ({@link SUPPRESSION_REASONS}).
  'suppressed',
  'acknowledged',
  'unacknowledged',
  // An escalation step notified the next level of a policy (reason: the policy, level, loop).
  'escalated',
  // A note told the alert's thread something that changes nothing of its state (reason: the text), e.g. resolved in PagerDuty.
  'noted',
] as const;
/** One of {@link HISTORY_KINDS}. */
export type HistoryKind = (typeof HISTORY_KINDS)[number];

/** Why a notification was not sent. */
export const SUPPRESSION_REASONS = ['throttle', 'silence', 'inhibition', 'time-interval', 'no-channel'] as const;
/** One of {@link SUPPRESSION_REASONS}. */
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** One event of an alert's history. */
export interface HistoryEvent {
  /** Deterministic: the same event written twice is one item (`<kind>:<transition or action id>[:<receiver>|<channel>]`). */
  readonly id: string;
  readonly kind: HistoryKind;
  /** When it happened (epoch ms): event time for transitions, the acting clock for the rest. */
  readonly atMs: number;
  readonly fingerprint: string;
  /** The activation (its `firedAtMs`): MTTA and MTTR are per activation. */
  readonly firedAtMs?: number;
  readonly ruleId: string;
  readonly severity: Severity;
  /** The alert's `team` label, if any (reports group by it). */
  readonly team?: string;
  readonly receiver?: string;
  readonly channel?: Channel;
  /** Why: the suppression reason, the escalation step, the action's source. */
  readonly reason?: string;
  /** Who acted (acknowledged, resolved by hand). */
  readonly by?: string;
}

/** A query of the history: a time range, optionally one rule, team or alert. */
export interface HistoryQuery {
  readonly fromMs: number;
  readonly toMs: number;
  readonly ruleId?: string;
  readonly team?: string;
  readonly fingerprint?: string;
}

/** Where the history is kept (a DynamoDB table in AWS and local mode; memory in tests and backtests). */
export interface HistoryStore {
  /** Writes events; idempotent by id. */
  record(events: readonly HistoryEvent[]): Promise<void>;
  /** Events with `fromMs <= atMs < toMs` matching the query, oldest first. */
  query(q: HistoryQuery): Promise<HistoryEvent[]>;
}

/** Whether an event matches a query. */
export function matchesQuery(e: HistoryEvent, q: HistoryQuery): boolean {
  return e.atMs >= q.fromMs && e.atMs < q.toMs && (q.ruleId === undefined || e.ruleId === q.ruleId) && (q.team === undefined || e.team === q.team) && (q.fingerprint === undefined || e.fingerprint === q.fingerprint);
}

/** The history in memory. */
export class InMemoryHistoryStore implements HistoryStore {
  readonly #events = new Map<string, HistoryEvent>();

  record(events: readonly HistoryEvent[]): Promise<void> {
    for (const e of events) this.#events.set(e.id, e);
    return Promise.resolve();
  }

  query(q: HistoryQuery): Promise<HistoryEvent[]> {
    return Promise.resolve([...this.#events.values()].filter((e) => matchesQuery(e, q)).sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id)));
  }

  /** Every event, oldest first (tests). */
  all(): HistoryEvent[] {
    return [...this.#events.values()].sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id));
  }
}

/** The `team` of labels, when present. */
export function teamOf(labels: Labels): string | undefined {
  return labels.team !== undefined && labels.team !== '' ? labels.team : undefined;
}
