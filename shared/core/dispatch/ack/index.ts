/**
 * Acknowledgements (issue 12; docs/incidents.md): dispatch applies an action message
 * (shared/core/lifecycle/action.ts) to the alert record, the one writer of alert records as for
 * transitions, so an acknowledgement stays in order with the alert's firing and resolution (same
 * FIFO group) and is never lost to a concurrent write (version guard, rounds).
 *
 * An accepted acknowledgement is kept on the record (who, when, from where; a new activation starts
 * unacknowledged), recorded in the alert's history, and told where the alert was notified on its
 * own for this activation: the Slack message is updated in place (a thread reply says who), and the
 * PagerDuty incident is acknowledged, unless the acknowledgement came from PagerDuty (nothing
 * loops: PagerDuty's webhook of our own acknowledge finds the alert acknowledged already and is
 * refused). A refused action changes nothing and says why. Publish, then commit, as for
 * transitions: a crash in between makes the message come again and the same jobs (same idempotency
 * keys) be published again.
 */
import { MESSAGE_VERSION, type AlertTransition, type NotificationJob } from '../../model/index.ts';
import { decideAction, type ActionMessage, type ActionRefusal, type NoteMessage } from '../../lifecycle/action.ts';
import { sha256Hex } from '../hash.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import type { HistoryEvent } from '../../history/types.ts';
import { teamOf } from '../../history/types.ts';
import { startEscalation, type EscalationPolicy } from '../escalation-policy/index.ts';

/** What an action did. */
export type ActionOutcome =
  | { readonly applied: true; readonly record: AlertRecord; readonly jobs: readonly NotificationJob[]; readonly history: readonly HistoryEvent[] }
  | { readonly applied: false; readonly refusal: ActionRefusal };

/** The action's id in job keys and history ids (stable for the same request). */
export function actionIdOf(a: Pick<ActionMessage, 'fingerprint' | 'action' | 'source' | 'requestId'>): string {
  return sha256Hex(`${a.fingerprint}:${a.action}:${a.source}:${a.requestId}`).slice(0, 32);
}

/** The record's current activation as a transition (what the channels render an acknowledgement on). */
export function activationTransition(record: AlertRecord, transitionId: string, nowMs: number): AlertTransition {
  return {
    version: 1,
    transitionId,
    kind: 'firing',
    fingerprint: record.fingerprint,
    ruleId: record.ruleId,
    ruleName: record.ruleName,
    severity: record.severity,
    labels: record.labels,
    annotations: record.annotations,
    value: record.value ?? null,
    // The record keeps the condition only with a reminder or a held firing; the message shows what it has.
    condition: record.repeat?.condition ?? record.held?.transition.condition ?? record.muted?.transition.condition ?? '',
    atMs: record.lastTransition.atMs,
    activeAtMs: record.activeAtMs,
    firedAtMs: record.startsAtMs,
    emittedAtMs: nowMs,
  };
}

/**
 * Decides an action on a record (pure): the record after it (version incremented), the jobs that
 * tell the channels, the history event; or the refusal.
 */
export function decideAck(record: AlertRecord | undefined, a: ActionMessage, nowMs: number, policies?: ReadonlyMap<string, EscalationPolicy>): ActionOutcome {
  const d = decideAction(record, a);
  if (!d.ok) return { applied: false, refusal: d.refusal };
  const r = record!;
  const id = actionIdOf(a);
  const { ack: _previous, escalating, ...rest } = r;
  // An acknowledgement pauses the escalation (docs/incidents.md); taking it back starts it again
  // from its first level, now (the policy as the routes say today; gone from them: it stays off).
  const policy = escalating ? policies?.get(escalating.policy) : undefined;
  const esc: AlertRecord['escalating'] | undefined = !escalating
    ? undefined
    : d.ack
      ? { ...escalating, paused: true }
      : policy
        ? { ...startEscalation(policy, nowMs), firingId: escalating.firingId }
        : undefined;
  const next: AlertRecord = { ...rest, ...(d.ack ? { ack: d.ack } : {}), ...(esc ? { escalating: esc } : {}), version: r.version + 1, updatedAtMs: nowMs };
  const t = activationTransition(r, `${r.lastTransition.id}:${a.action}:${id}`, nowMs);
  const state = a.action === 'acknowledge' ? 'acknowledged' : 'unacknowledged';
  const jobs: NotificationJob[] = [];
  for (const del of Object.values(r.deliveries)) {
    // Only where this activation was notified on its own (a group's message shows it at its next update).
    if (del.notifiedFiredAtMs !== r.startsAtMs) continue;
    if (del.channel === 'email') continue;
    // PagerDuty: an acknowledge of its incident, unless PagerDuty told us (Events API v2 has no "unacknowledge").
    if (del.channel === 'pagerduty' && (a.action !== 'acknowledge' || a.source === 'pagerduty')) continue;
    jobs.push({
      version: MESSAGE_VERSION,
      idempotencyKey: `${id}:${del.receiver}:${del.channel}`,
      channel: del.channel,
      receiver: del.receiver,
      destination: del.destination,
      destinationId: del.destinationId,
      transition: t,
      severity: r.effectiveSeverity,
      ...(r.escalation ? { escalation: r.escalation } : {}),
      fireCount: r.fireCount,
      ack: { state, by: a.by, atMs: a.atMs, source: a.source },
    });
  }
  const team = teamOf(r.labels);
  const history: HistoryEvent[] = [
    {
      id: `${state}:${id}`,
      kind: state,
      atMs: a.atMs,
      fingerprint: r.fingerprint,
      firedAtMs: r.startsAtMs,
      ruleId: r.ruleId,
      severity: r.effectiveSeverity,
      ...(team ? { team } : {}),
      reason: `from ${a.source}`,
      by: a.by,
    },
  ];
  return { applied: true, record: next, jobs, history };
}

/** What a note did: the jobs that post it, the history event; or why nothing (no such alert or group, nothing notified on Slack). */
export type NoteOutcome = { readonly posted: true; readonly jobs: readonly NotificationJob[]; readonly history: readonly HistoryEvent[] } | { readonly posted: false; readonly reason: 'unknown-alert' | 'not-on-slack' };

/**
 * Decides a note (shared/core/lifecycle/action.ts `NoteMessage`) on an alert record, or on a
 * group's Slack destination when the note is for a group (`group:<hex>`): a Slack job per place the
 * current activation (or the group) was notified on Slack, posted in its thread. Changes nothing of
 * the alert's state (the record is not written).
 */
export function decideNote(
  n: NoteMessage,
  target: { readonly record: AlertRecord } | { readonly group: { readonly id: string; readonly receiver: string; readonly slack?: { readonly destination: NotificationJob['destination']; readonly destinationId: string } } } | undefined,
  nowMs: number,
): NoteOutcome {
  if (!target) return { posted: false, reason: 'unknown-alert' };
  const id = sha256Hex(`note:${n.fingerprint}:${n.source}:${n.requestId}`).slice(0, 32);
  const note = { text: n.text, by: n.by, atMs: n.atMs, source: n.source, ...(n.approval ? { approval: n.approval } : {}) };
  const jobs: NotificationJob[] = [];
  let history: HistoryEvent[] = [];
  if ('record' in target) {
    const r = target.record;
    const t = activationTransition(r, `${r.lastTransition.id}:note:${id}`, nowMs);
    for (const del of Object.values(r.deliveries)) {
      if (del.channel !== 'slack' || del.notifiedFiredAtMs !== r.startsAtMs) continue;
      jobs.push({ version: MESSAGE_VERSION, idempotencyKey: `${id}:${del.receiver}:slack`, channel: 'slack', receiver: del.receiver, destination: del.destination, destinationId: del.destinationId, transition: t, severity: r.effectiveSeverity, fireCount: r.fireCount, note });
    }
    const team = teamOf(r.labels);
    history = [{ id: `noted:${id}`, kind: 'noted', atMs: n.atMs, fingerprint: r.fingerprint, firedAtMs: r.startsAtMs, ruleId: r.ruleId, severity: r.effectiveSeverity, ...(team ? { team } : {}), reason: n.text.slice(0, 200), by: n.by }];
  } else if (target.group.slack) {
    const g = target.group;
    const t: AlertTransition = { version: 1, transitionId: `${g.id}:note:${id}`, kind: 'firing', fingerprint: g.id, ruleId: 'group', ruleName: 'Alert group', severity: 'high', labels: {}, annotations: {}, value: null, condition: '', atMs: n.atMs, activeAtMs: n.atMs, firedAtMs: n.atMs, emittedAtMs: nowMs };
    jobs.push({ version: MESSAGE_VERSION, idempotencyKey: `${id}:${g.receiver}:slack`, channel: 'slack', receiver: g.receiver, destination: g.slack!.destination, destinationId: g.slack!.destinationId, transition: t, severity: 'high', fireCount: 0, note });
  }
  if (jobs.length === 0 && history.length === 0) return { posted: false, reason: 'not-on-slack' };
  return { posted: true, jobs, history };
}
