/**
 * What the local console shows, gathered in one place: events the runtime taps as they pass
 * (transitions entering dispatch, channel jobs and their outcome, rejected records, evaluator
 * batches) and state read on demand from the emulators and receivers (alerts and breakers in
 * DynamoDB, queue depths in SQS, what Slack / PagerDuty / SES received).
 */
import type { AttemptRecord } from '../../shared/core/remediate/messages.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ConsoleSilences, SilenceView } from './silences.ts';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AlertTransition, NotificationJob } from '../../shared/core/model/index.ts';
import type { RejectedMessage } from '../../shared/adapters/sqs/rejected-sink.ts';
import type { Provisioned } from '../provision.ts';
import { renderBlockKit } from './block-kit.ts';
import { isAlertRecordItem } from '../../shared/adapters/dynamodb/alert-store.ts';
import type { ErrorAlertState } from '../../shared/core/events/alerting.ts';
import { alertNameOf } from '../../shared/core/events/alerting.ts';

/** A transition as seen entering dispatch. */
export interface TransitionView {
  readonly seenAtMs: number;
  readonly transitionId: string;
  readonly kind: string;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly severity: string;
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number | null;
  readonly atMs: number;
}

/** One attempt of a channel function at one job. */
export interface DeliveryAttemptView {
  readonly seenAtMs: number;
  readonly channel: string;
  readonly outcome: 'sent' | 'retry';
  readonly receiveCount: number;
  readonly ruleId: string;
  readonly kind: string;
  readonly severity: string;
  readonly fingerprint: string;
  readonly destinationId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The job's idempotency key: one notification (a group's every update is its own). */
  readonly idempotencyKey: string;
}

/** A rejected record as taken off the rejected queue. */
export interface RejectedView extends Partial<RejectedMessage> {
  readonly seenAtMs: number;
}

/** Live counters. */
export interface Counters {
  recordsIn: number;
  evaluatorInvocations: number;
  evaluatorErrors: number;
  rejected: number;
  transitionsFiring: number;
  transitionsResolved: number;
  sent: Record<string, number>;
  retried: Record<string, number>;
  timerRuns: number;
}

/** An error alert as the console shows it: its classification and why, its occurrences, how it resolved. */
export interface ErrorAlertView {
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly severity: string;
  readonly error: string;
  readonly task: string;
  readonly rule: string;
  readonly reason: string;
  readonly count: number;
  readonly sinceMs: number;
  readonly lastSeenMs: number;
  readonly excerpt: string;
  readonly final: boolean;
  readonly resolvedBy?: string;
  readonly resolvedAtMs?: number;
}

/** An errors-table item as a view (undefined when it is not one). */
export function errorAlertView(item: Record<string, unknown>): ErrorAlertView | undefined {
  if (typeof item.state !== 'string') return undefined;
  let s: ErrorAlertState;
  try {
    s = JSON.parse(item.state) as ErrorAlertState;
  } catch {
    return undefined;
  }
  return {
    fingerprint: s.fingerprint,
    status: s.status,
    severity: s.notified?.severity ?? s.severity,
    error: alertNameOf(s.errorType),
    task: `${s.service}.${s.task}`,
    rule: s.rule,
    reason: s.reason,
    count: s.count,
    sinceMs: s.activeAtMs,
    lastSeenMs: s.lastSeenMs,
    excerpt: s.excerpt,
    final: s.final,
    ...(s.resolvedBy !== undefined ? { resolvedBy: s.resolvedBy } : {}),
    ...(s.resolvedAtMs !== undefined ? { resolvedAtMs: s.resolvedAtMs } : {}),
  };
}

/** What the receivers and the SES emulator got, for previews. */
export interface ReceivedView {
  readonly slack: readonly { readonly atMs?: number; readonly html: string; readonly payload: unknown; readonly path?: string }[];
  readonly pagerduty: readonly { readonly atMs?: number; readonly event: unknown }[];
  /** Requests the local webhook receiver got: verified (2xx) or refused (401, the signature did not verify). */
  readonly webhook: readonly { readonly atMs?: number; readonly status: number; readonly path?: string; readonly webhookId?: string; readonly payload: unknown }[];
  readonly email: readonly { readonly atMs?: number; readonly subject: string; readonly to: readonly string[]; readonly html: string; readonly text: string }[];
}

/** The whole console state, as served at `/api/state` and pushed over SSE. */
export interface ConsoleSnapshot {
  readonly nowMs: number;
  readonly eventTimeMs: number;
  readonly speed: number;
  readonly alerts: readonly Record<string, unknown>[];
  readonly transitions: readonly TransitionView[];
  readonly attempts: readonly DeliveryAttemptView[];
  readonly received: ReceivedView;
  readonly breakers: readonly Record<string, unknown>[];
  readonly queues: readonly { readonly name: string; readonly visible: number; readonly inFlight: number; readonly dlq?: { readonly visible: number; readonly inFlight: number } }[];
  readonly rejected: readonly RejectedView[];
  /** Silences with their state on the pipeline's clock (docs/routing.md, "Silences"). */
  readonly silences: readonly SilenceView[];
  /** Error alerts of job events (the errors table; docs/events.md), firing first, newest failure first. */
  readonly errorAlerts: readonly ErrorAlertView[];
  /** Auto-remediation attempts (the remediations table's audit log; docs/remediation.md), newest first. */
  readonly remediations: readonly AttemptRecord[];
  readonly counters: Counters;
  readonly links: Readonly<Record<string, string>>;
}

/** Where the observer reads from. */
export interface ObserverSources {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly provisioned: Provisioned;
  readonly slackUrl?: string;
  readonly pagerdutyUrl?: string;
  readonly webhookUrl?: string;
  readonly sesUrl?: string;
  readonly links?: Record<string, string>;
  readonly eventTime?: () => number;
  readonly speed?: number;
  /** Lists silences (absent: none shown). */
  readonly silences?: Pick<ConsoleSilences, 'list'>;
}

const LIMIT = 200;
const pushBounded = <T>(list: T[], item: T): void => {
  list.unshift(item);
  if (list.length > LIMIT) list.length = LIMIT;
};

/** Entries a receiver answered at `GET /_received`, whatever the envelope (`[...]` or `{ received: [...] }`). */
function entriesOf(json: unknown): unknown[] {
  if (Array.isArray(json)) return json;
  if (json && typeof json === 'object') {
    for (const key of ['received', 'requests', 'items', 'events', 'messages']) {
      const v = (json as Record<string, unknown>)[key];
      if (Array.isArray(v)) return v;
    }
  }
  return [];
}

/** Whether a recorded request was answered with success (receivers also record the failures they answered). */
function succeeded(entry: unknown): boolean {
  const status = entry && typeof entry === 'object' ? (entry as { status?: unknown }).status : undefined;
  return typeof status !== 'number' || (status >= 200 && status < 300);
}

/** The request body of a recorded entry (`{ body }`, `{ payload }`, `{ json }`, or the entry itself). */
function bodyOf(entry: unknown): { body: unknown; atMs?: number; path?: string } {
  if (!entry || typeof entry !== 'object') return { body: entry };
  const e = entry as Record<string, unknown>;
  let body: unknown = e.json ?? e.body ?? e.payload ?? e.event ?? entry;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // a form-encoded or text body stays as it is
    }
  }
  const at = e.atMs ?? e.at ?? e.receivedAt ?? e.timestamp;
  const atMs = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : undefined;
  return { body, ...(atMs !== undefined && !Number.isNaN(atMs) ? { atMs } : {}), ...(typeof e.path === 'string' ? { path: e.path } : {}) };
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return await res.json();
}

/** Collects events and assembles snapshots. */
export class LocalObserver {
  readonly transitions: TransitionView[] = [];
  readonly attempts: DeliveryAttemptView[] = [];
  readonly rejected: RejectedView[] = [];
  readonly counters: Counters = {
    recordsIn: 0,
    evaluatorInvocations: 0,
    evaluatorErrors: 0,
    rejected: 0,
    transitionsFiring: 0,
    transitionsResolved: 0,
    sent: {},
    retried: {},
    timerRuns: 0,
  };
  private readonly seenTransitions = new Set<string>();

  constructor(private readonly sources: ObserverSources) {}

  /** Records a transition entering dispatch; returns it when first seen (redeliveries return undefined). */
  transition(t: AlertTransition): TransitionView | undefined {
    if (this.seenTransitions.has(t.transitionId)) return undefined;
    this.seenTransitions.add(t.transitionId);
    if (t.kind === 'firing') this.counters.transitionsFiring++;
    else this.counters.transitionsResolved++;
    const view: TransitionView = {
      seenAtMs: Date.now(),
      transitionId: t.transitionId,
      kind: t.kind,
      ruleId: t.ruleId,
      ruleName: t.ruleName,
      severity: t.severity,
      fingerprint: t.fingerprint,
      labels: t.labels,
      value: t.value,
      atMs: t.atMs,
    };
    pushBounded(this.transitions, view);
    return view;
  }

  /** Records one channel function's attempt at a job. */
  attempt(channel: string, job: NotificationJob, outcome: 'sent' | 'retry', receiveCount: number): DeliveryAttemptView {
    const counter = outcome === 'sent' ? this.counters.sent : this.counters.retried;
    counter[channel] = (counter[channel] ?? 0) + 1;
    const view: DeliveryAttemptView = {
      seenAtMs: Date.now(),
      channel,
      outcome,
      receiveCount,
      ruleId: job.transition?.ruleId ?? '?',
      kind: job.transition?.kind ?? '?',
      severity: job.severity,
      fingerprint: job.transition?.fingerprint ?? '?',
      destinationId: job.destinationId,
      labels: job.transition?.labels ?? {},
      idempotencyKey: job.idempotencyKey,
    };
    pushBounded(this.attempts, view);
    return view;
  }

  /** Records a rejected record taken off the rejected queue. */
  reject(r: Partial<RejectedMessage>): void {
    this.counters.rejected++;
    pushBounded(this.rejected, { ...r, seenAtMs: Date.now() });
  }

  /** Reads the current state of everything and returns the snapshot. Sources that fail are shown empty. */
  async snapshot(): Promise<ConsoleSnapshot> {
    const [alerts, breakers, queues, received, silences, errorItems] = await Promise.all([
      // Inhibit items and bare Slack-thread items share the alerts table: not alerts.
      this.scan(this.sources.provisioned.tables.alerts)
        .then((items) => items.filter((i) => isAlertRecordItem(i)))
        .catch(() => []),
      this.scan(this.sources.provisioned.tables.delivery)
        .then((items) => items.filter((i) => /breaker/i.test(String(i.pk ?? i.type ?? i.kind ?? ''))))
        .catch(() => []),
      this.queueDepths().catch(() => []),
      this.received(),
      this.sources.silences?.list().catch(() => []) ?? Promise.resolve([]),
      this.sources.provisioned.tables.errors ? this.scan(this.sources.provisioned.tables.errors).catch(() => []) : Promise.resolve([]),
    ]);
    const remediationItems = this.sources.provisioned.tables.remediations ? await this.scan(this.sources.provisioned.tables.remediations).catch(() => []) : [];
    const remediations = remediationItems
      .filter((i) => i.kind === 'attempt')
      .map((i) => i.attempt as AttemptRecord)
      .sort((a, b) => b.requestedAtMs - a.requestedAtMs)
      .slice(0, 50);
    const eventNow = this.sources.eventTime?.() ?? Date.now();
    // An alert with an approval still open gets Approve / Reject in the console (as in its Slack thread).
    const awaiting = new Set(remediations.filter((r) => r.status === 'awaiting-approval' && (r.expiresAtMs ?? 0) >= eventNow).map((r) => r.fingerprint));
    for (const a of alerts) if (awaiting.has(String(a.fingerprint))) a.pendingApproval = true;
    const errorAlerts = errorItems
      .map(errorAlertView)
      .filter((v): v is ErrorAlertView => v !== undefined)
      .sort((a, b) => (a.status === b.status ? b.lastSeenMs - a.lastSeenMs : a.status === 'firing' ? -1 : 1))
      .slice(0, 100);
    // The alert record keeps no value; show the one of its latest transition. Suppressed counts
    // are kept per destination: sum them.
    const latestValue = new Map<string, number | null>();
    for (const t of [...this.transitions].reverse()) latestValue.set(t.fingerprint, t.value);
    for (const a of alerts) {
      if (!('value' in a) && latestValue.has(String(a.fingerprint))) a.value = latestValue.get(String(a.fingerprint));
      const deliveries = (a.deliveries ?? {}) as Record<string, { suppressedCount?: number }>;
      a.suppressedCount = Object.values(deliveries).reduce((n, d) => n + (d?.suppressedCount ?? 0), 0);
    }
    alerts.sort((a, b) => String(a.state).localeCompare(String(b.state)) || String(a.fingerprint).localeCompare(String(b.fingerprint)));
    return {
      nowMs: Date.now(),
      eventTimeMs: this.sources.eventTime?.() ?? Date.now(),
      speed: this.sources.speed ?? 1,
      alerts,
      transitions: this.transitions.slice(0, 50),
      attempts: this.attempts.slice(0, 50),
      received,
      breakers,
      queues,
      rejected: this.rejected.slice(0, 50),
      silences,
      errorAlerts,
      remediations,
      counters: this.counters,
      links: this.sources.links ?? {},
    };
  }

  private async scan(table: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const doc = DynamoDBDocumentClient.from(this.sources.dynamodb);
    let start: Record<string, unknown> | undefined;
    do {
      const res = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, Limit: 500 }));
      for (const i of res.Items ?? []) items.push(i);
      start = res.LastEvaluatedKey;
    } while (start && items.length < 2000);
    return items;
  }

  private async queueDepths(): Promise<ConsoleSnapshot['queues']> {
    const depth = async (url: string): Promise<{ visible: number; inFlight: number }> => {
      const res = await this.sources.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return { visible: Number(res.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
    };
    return await Promise.all(
      Object.entries(this.sources.provisioned.queues).map(async ([name, q]) => ({
        name,
        ...(await depth(q.url)),
        ...(q.dlq ? { dlq: await depth(q.dlq.url) } : {}),
      })),
    );
  }

  private async received(): Promise<ReceivedView> {
    const { slackUrl, pagerdutyUrl, webhookUrl, sesUrl } = this.sources;
    const [slack, pagerduty, email, webhook] = await Promise.all([
      slackUrl
        ? getJson(`${slackUrl}/_received`)
            .then((j) =>
              entriesOf(j).filter(succeeded).map((e) => {
                const { body, atMs, path } = bodyOf(e);
                return { ...(atMs !== undefined ? { atMs } : {}), ...(path ? { path } : {}), payload: body, html: renderBlockKit(body) };
              }),
            )
            .catch(() => [])
        : [],
      pagerdutyUrl
        ? getJson(`${pagerdutyUrl}/_received`)
            .then((j) =>
              entriesOf(j).filter(succeeded).map((e) => {
                const { body, atMs } = bodyOf(e);
                return { ...(atMs !== undefined ? { atMs } : {}), event: body };
              }),
            )
            .catch(() => [])
        : [],
      sesUrl
        ? getJson(`${sesUrl}/store`)
            .then((j) =>
              ((j as { emails?: unknown[] }).emails ?? []).map((raw) => {
                const m = raw as { subject?: string; destination?: { to?: string[] }; body?: { html?: string; text?: string }; at?: number };
                return {
                  ...(typeof m.at === 'number' ? { atMs: m.at * 1000 } : {}),
                  subject: m.subject ?? '',
                  to: m.destination?.to ?? [],
                  html: m.body?.html ?? '',
                  text: m.body?.text ?? '',
                };
              }),
            )
            .catch(() => [])
        : [],
      webhookUrl
        ? getJson(`${webhookUrl}/_received`)
            .then((j) =>
              entriesOf(j).map((e) => {
                const { body, atMs, path } = bodyOf(e);
                const r = e as { status?: unknown; headers?: Record<string, unknown> };
                const id = r.headers?.['webhook-id'];
                return { ...(atMs !== undefined ? { atMs } : {}), ...(path ? { path } : {}), status: typeof r.status === 'number' ? r.status : 0, ...(typeof id === 'string' ? { webhookId: id } : {}), payload: body };
              }),
            )
            .catch(() => [])
        : [],
    ]);
    // Newest first, bounded.
    return { slack: slack.slice(-50).reverse(), pagerduty: pagerduty.slice(-50).reverse(), email: email.slice(-50).reverse(), webhook: webhook.slice(-20).reverse() };
  }
}
