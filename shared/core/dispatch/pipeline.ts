/**
 * The dispatch pipeline: from one alert transition (alert-events queue) to the notification jobs
 * on the channel queues. Read this list top to bottom; each stage is a folder beside this file
 * with its pure decision, its reasons and their readable text, and docs/design.md ("The
 * notification pipeline") says what each one decides.
 *
 * The transition enters with its alert record and the routes already read ({@link dispatchTransition}:
 * one GetItem). The decisions are pure; the last two stages act: publish, then commit.
 * Publish-then-commit is the contract that makes a crash harmless: dying between the two, the
 * transition is received again, decided again from the same record, and the same jobs (same
 * idempotency keys) are published again, deduplicated by SQS FIFO and by the channel's
 * idempotency. A job may be published twice, never lost.
 */
import { TransientError } from '../errors/index.ts';
import type { AlertTransition } from '../model/index.ts';
import { effect, next, runDecisions, runStages, type Stage } from '../pipeline/stage.ts';
import { channelsStage } from './channels/index.ts';
import { dispatchedDecision, startContext, type DispatchConfig, type DispatchContext, type DispatchDecision } from './context.ts';
import { dedupStage } from './dedup/index.ts';
import { flappingStage } from './flapping/index.ts';
import { AlertRecordConflictError, type DispatchPorts } from './ports.ts';
import type { AlertRecord } from './record/alert-record.ts';
import { recordStage } from './record/index.ts';
import type { RoutingConfig } from './route/routing.ts';
import { routeStage } from './route/index.ts';
import { silenceStage } from './silence/index.ts';
import { timeIntervalsStage } from './time-intervals/index.ts';
import { lowerStage } from './lower/index.ts';
import { remediateStage } from './remediate/index.ts';
import { throttleStage } from './throttle/index.ts';
import { inhibitStage, inhibitSyncStage } from './inhibit/index.ts';
import { GroupFullError, groupStage, groupSyncStage } from './group/index.ts';
import { inhibitReadKeys, type InhibitItem } from './inhibit/inhibition.ts';
import type { ReleaseMessage } from './inhibit/release.ts';
import { withSeverityLabel } from '../model/severity.ts';
import type { DispatchInputs } from './context.ts';
import { decideAck, decideNote, type ActionOutcome, type NoteOutcome } from './ack/index.ts';
import { decideEscalationStep, ESCALATION_STEP_REASON_TEXT, isEscalationStep } from './escalation-policy/step.ts';
import { noopDecision } from './context.ts';
import { historyOfDecision } from './history.ts';
import { silenceState, type CompiledSilence } from './silence/silence.ts';
import { expireSilencesUntilResolved } from './silence/manage.ts';
import type { ActionMessage, NoteMessage } from '../lifecycle/action.ts';
import type { HistoryEvent, HistoryStore } from '../history/types.ts';

/** A stage of the dispatch pipeline. */
export type DispatchStage = Stage<DispatchContext, DispatchPorts, DispatchDecision>;

/** publish: the jobs to their channels' queues (SendMessageBatch per channel; nothing when there are none). */
const publishStage = effect<DispatchContext, DispatchPorts, DispatchDecision>('publish', async (ctx, ports) => {
  if (ctx.jobs.length > 0) await ports.jobs.publish(ctx.jobs);
  return next(ctx);
});

/** commit: the record, conditional on the version read (the throttle claim); a conflict throws {@link AlertRecordConflictError}. */
const commitStage = effect<DispatchContext, DispatchPorts, DispatchDecision>('commit', async (ctx, ports) => {
  if (ctx.next) await ports.alerts.commit(ctx.next, ctx.record?.version);
  return next(ctx);
});

/**
 * history: what the decision adds to the alert history (./history.ts), written BEFORE the commit:
 * a crash after it makes the transition come again, decided again from the same record, and the
 * same events (same ids) are written again; after the commit, a crash would lose them (the
 * redelivery is then a duplicate, which records nothing).
 */
const historyStage = effect<DispatchContext, DispatchPorts & { readonly history?: HistoryStore }, DispatchDecision>('history', async (ctx, ports) => {
  if (ports.history && ctx.next) await recordHistory(ports.history, historyOfDecision(ctx.transition, ctx.record, dispatchedDecision(ctx), ctx.nowMs));
  return next(ctx);
});

/** The dispatch pipeline, in order (docs/design.md, "The notification pipeline"). */
export const DISPATCH_PIPELINE: readonly DispatchStage[] = [
  dedupStage, //      a redelivered or out-of-date transition stops here
  routeStage, //      receivers by label routes, `severity` among the labels (a resolution: where its firing went)
  inhibitStage, //    a firing source alert mutes its targets (`equal` labels): held on the record
  silenceStage, //    an active silence mutes a firing: recorded, notified when the silence ends
  timeIntervalsStage, // a route's mute / active time intervals: its receivers muted, decided again at the interval's end
  flappingStage, //   a flapping alert (N firings in a window) is raised one severity level
  lowerStage, //      outside business hours a route may lower the severity (never a critical one)
  channelsStage, //   the severity matrix: each receiver's channels for this severity
  groupStage, //      routes with group_by: the alert joins its groups (their flush notifies); the rest go on
  throttleStage, //   per (receiver, channel): send now, or hold and count
  recordStage, //     what the alert record remembers
  publishStage, //    jobs to the channel queues
  remediateStage, //  a firing whose rule declares a remediation: a request to the remediate function
  groupSyncStage, //  group members written, new groups' flushes scheduled
  inhibitSyncStage, // inhibit items: sources in and out, muted targets registered, releases sent
  historyStage, //    the alert history: fired, resolved, notified, suppressed (and why)
  commitStage, //     the record, version-guarded
];

/**
 * The pipeline's decision for a transition, without its effects: what dispatch would publish and
 * commit given the record as read. Pure and deterministic: a redelivery after a crash re-decides
 * from the same record and yields the same jobs with the same idempotency keys.
 */
export function decideDispatch(
  record: AlertRecord | undefined,
  t: AlertTransition,
  routes: RoutingConfig,
  config: DispatchConfig,
  nowMs: number,
  inputs: DispatchInputs = {},
): DispatchDecision {
  return runDecisions(DISPATCH_PIPELINE, startContext(t, record, routes, config, nowMs, inputs), dispatchedDecision);
}

/**
 * The inhibit items a firing needs (the rules that target it; docs/routing.md, "Inhibition"): one
 * BatchGetItem, and no request at all for an alert no inhibit rule targets.
 */
async function readInhibitItems(ports: DispatchPorts, t: AlertTransition, routes: RoutingConfig): Promise<ReadonlyMap<string, InhibitItem>> {
  const rules = routes.inhibitRules ?? [];
  if (t.kind !== 'firing' || rules.length === 0) return new Map();
  const keys = inhibitReadKeys(rules, withSeverityLabel(t.labels, t.severity));
  if (keys.length === 0) return new Map();
  if (!ports.inhibitions) throw new Error('the routes config has inhibit_rules but dispatch was given no InhibitionStore');
  return await ports.inhibitions.read(keys);
}

/** Options of {@link dispatchTransition}. */
export interface DispatchOptions {
  readonly config: DispatchConfig;
  /** Read-decide-publish-commit rounds on version conflicts (default 3). */
  readonly maxAttempts?: number;
  /** Told when a commit lost a race and the transition is decided again. */
  readonly onConflict?: (attempt: number) => void;
  /** Told when a group is full and the transition is decided again with its alert notified on its own there. */
  readonly onGroupFull?: (groupId: string) => void;
}

/** The record kept changing under us for every attempt: transient, the message is received again. */
export class DispatchConflictError extends TransientError {}

/**
 * The read-decide-publish-commit rounds of one alert: `round` reads and runs the pipeline. On a
 * version conflict at commit (another writer of the same alert) it runs again, at most
 * `maxAttempts` times, then throws {@link DispatchConflictError} (transient). A full group
 * (`GroupFullError`) runs it again with that group taken as full, the alert notified on its own
 * there; that costs no attempt (each group once).
 */
async function inRounds<T>(fingerprint: string, options: DispatchOptions, round: (fullGroups: ReadonlySet<string>) => Promise<T>): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 3;
  const fullGroups = new Set<string>();
  for (let attempt = 1; ; ) {
    try {
      return await round(fullGroups);
    } catch (err) {
      if (err instanceof GroupFullError && !fullGroups.has(err.groupId)) {
        fullGroups.add(err.groupId);
        options.onGroupFull?.(err.groupId);
        continue;
      }
      if (!(err instanceof AlertRecordConflictError)) throw err;
      if (attempt >= maxAttempts) throw new DispatchConflictError(`alert ${fingerprint}: record still changing after ${attempt} attempts`, { cause: err });
      options.onConflict?.(attempt);
      attempt++;
    }
  }
}

/**
 * Dispatches one transition: reads its record and the routes, runs the pipeline (which publishes
 * and commits), in rounds ({@link inRounds}: version conflicts, full groups). Returns the decision
 * that was committed (or the no-op one).
 */
export async function dispatchTransition(ports: DispatchPorts & { readonly history?: HistoryStore }, t: AlertTransition, options: DispatchOptions): Promise<DispatchDecision> {
  return inRounds(t.fingerprint, options, async (fullGroups) => {
    const record = await ports.alerts.get(t.fingerprint);
    const routes = await ports.routes.get();
    if (isEscalationStep(t)) return await escalationRound(ports, t, record, routes);
    const inhibitItems = await readInhibitItems(ports, t, routes);
    const silences = (await ports.silences?.current()) ?? [];
    const nowMs = ports.clock.now();
    const ctx = startContext(t, record, routes, options.config, nowMs, { inhibitItems, silences, fullGroups });
    const d = await runStages(DISPATCH_PIPELINE, ctx, ports, dispatchedDecision);
    if (t.kind === 'resolved' && d.reason === 'resolved') await expireUntilResolved(ports, t.fingerprint, silences, nowMs);
    return d;
  });
}

/**
 * Dispatches a release (docs/routing.md, "Inhibition"): what muted a held firing ended. Reads the
 * record; when it still holds that activation's firing as held, the held transition runs through
 * the pipeline again (inhibition decided afresh: notified, or held again by the sources still
 * firing). Returns undefined when there is nothing held to release (resolved since, released
 * already, another activation): nothing is written. Rounds as {@link dispatchTransition}.
 */
export async function dispatchRelease(ports: DispatchPorts, r: ReleaseMessage, options: DispatchOptions): Promise<DispatchDecision | undefined> {
  return inRounds(r.fingerprint, options, async (fullGroups) => {
    const record = await ports.alerts.get(r.fingerprint);
    const held = record?.held;
    if (!record || record.state !== 'firing' || !held || held.transition.firedAtMs !== r.firedAtMs || record.startsAtMs !== r.firedAtMs) return undefined;
    const routes = await ports.routes.get();
    const inhibitItems = await readInhibitItems(ports, held.transition, routes);
    // A released firing may be silenced meanwhile: the silence stage decides it too.
    const silences = (await ports.silences?.current()) ?? [];
    const ctx = startContext(held.transition, record, routes, options.config, ports.clock.now(), { inhibitItems, silences, release: true, fullGroups });
    return runStages(DISPATCH_PIPELINE, ctx, ports, dispatchedDecision);
  });
}

/**
 * Applies an action message (shared/core/lifecycle/action.ts; ./ack/index.ts): reads the record,
 * decides, publishes the channels' jobs, commits the record (version-guarded), then records the
 * history. A refused action writes nothing. Rounds as {@link dispatchTransition}.
 */
export async function dispatchAction(ports: DispatchPorts & { readonly history?: HistoryStore }, a: ActionMessage, options: DispatchOptions): Promise<ActionOutcome> {
  return inRounds(a.fingerprint, options, async () => {
    const record = await ports.alerts.get(a.fingerprint);
    const routes = await ports.routes.get();
    const out = decideAck(record, a, ports.clock.now(), routes.escalationPolicies);
    if (!out.applied) return out;
    if (out.jobs.length > 0) await ports.jobs.publish(out.jobs);
    // History before the commit (see historyStage): redone by a redelivery, never lost.
    await recordHistory(ports.history, out.history);
    await ports.alerts.commit(out.record, record!.version);
    return out;
  });
}

/** Writes history events when a store is configured (a failure is the caller's: the message comes again and writes the same ids). */
export async function recordHistory(store: HistoryStore | undefined, events: readonly HistoryEvent[]): Promise<void> {
  if (store && events.length > 0) await store.record(events);
}

/**
 * An escalation step (./escalation-policy/step.ts): decided on the record, its jobs published,
 * the record committed, the history recorded; as a {@link DispatchDecision} for the caller's log
 * (`stale` when the step no longer applies).
 */
async function escalationRound(ports: DispatchPorts & { readonly history?: HistoryStore }, t: AlertTransition, record: AlertRecord | undefined, routes: RoutingConfig): Promise<DispatchDecision> {
  const silences = (await ports.silences?.current()) ?? [];
  const d = decideEscalationStep(record, t, routes, silences, ports.clock.now());
  const note = { stage: 'escalation-policy', reason: d.reason, text: ESCALATION_STEP_REASON_TEXT[d.reason] };
  if (!d.record || !record) {
    const base = record ?? ({ fingerprint: t.fingerprint, effectiveSeverity: t.severity } as AlertRecord);
    return noopDecision('stale', 'escalation-not-due', base, [note]);
  }
  if (d.jobs.length > 0) await ports.jobs.publish(d.jobs);
  await recordHistory(ports.history, d.history);
  await ports.alerts.commit(d.record, record.version);
  return { ...noopDecision('stale', 'escalation-step', d.record, [note]), outcome: 'dispatched', jobs: d.jobs };
}

/**
 * Posts a note (shared/core/lifecycle/action.ts `NoteMessage`) to the Slack thread of its alert,
 * or of its group (`group:<hex>`), and records it in the alert's history. Nothing of the alert's
 * state changes: no record is written, so no rounds.
 */
export async function dispatchNote(ports: DispatchPorts & { readonly history?: HistoryStore }, n: NoteMessage): Promise<NoteOutcome> {
  const nowMs = ports.clock.now();
  let out: NoteOutcome;
  if (n.fingerprint.startsWith('group:')) {
    const g = await ports.groups?.get(n.fingerprint);
    out = decideNote(n, g ? { group: { id: g.id, receiver: g.receiver, ...(g.destinations.slack ? { slack: g.destinations.slack } : {}) } } : undefined, nowMs);
  } else {
    const record = await ports.alerts.get(n.fingerprint);
    out = decideNote(n, record ? { record } : undefined, nowMs);
  }
  if (!out.posted) return out;
  if (out.jobs.length > 0) await ports.jobs.publish(out.jobs);
  await recordHistory(ports.history, out.history);
  return out;
}

/**
 * The silences made "until resolved" for `target` (an alert, or a group id) end now that it
 * resolved: only those the cached silences name (no scan of the table per resolution); one
 * expired meanwhile by someone else is skipped (silence/manage.ts).
 */
export async function expireUntilResolved(ports: Pick<DispatchPorts, 'silenceStore'>, target: string, silences: readonly CompiledSilence[], nowMs: number): Promise<number> {
  if (!ports.silenceStore) return 0;
  const marked = silences.filter((s) => s.untilResolved === target && silenceState(s, nowMs) !== 'expired');
  if (marked.length === 0) return 0;
  return (await expireSilencesUntilResolved({ silences: ports.silenceStore }, target, nowMs)).length;
}
