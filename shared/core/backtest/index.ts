/**
 * Backtest (`klaxon rules backtest`, docs/rules.md "Backtest before deploying"): recorded samples
 * run through the whole decision path of production, on in-memory ports and a virtual clock, so a
 * team sees what a rule would have sent before it goes live.
 *
 * 1. Evaluation: {@link InMemoryEvaluator} (production's evaluation sequence; each input batch as
 *    the evaluator receives one); its publisher collects the alert transitions.
 * 2. Dispatch, in event-time order: each transition through `dispatchTransition` with dispatch's
 *    clock at the transition's event time (routes, inhibition, silences, time intervals,
 *    escalation, the severity matrix, groups, the throttle windows of the dispatch config);
 *    releases of held notifications dispatched at once, as the alert-events queue delivers them;
 *    group flushes run at their due time (`flushGroup`, the route's time intervals decided then,
 *    as the flush-groups function does); the timers' sweep (`recheckMutedAlerts`: muted
 *    re-checks and `repeat_interval` reminders) on whole minutes, as the timers function runs
 *    each minute (infra/topology.ts, `timers`: `everyMinutes: 1`).
 * 3. The report ({@link BacktestReport}): per rule, the notifications per channel, firings,
 *    resolutions, mean firing time, flapping and the suppressed notifications by reason.
 *
 * Nothing is sent and nothing is read but the arguments: pure (time is the samples' time).
 */
import { CHANNELS, type AlertTransition, type Channel, type MetricSample } from '../model/index.ts';
import type { Rule } from '../rules/index.ts';
import { InMemoryEvaluator, type ReplayOptions } from '../replay/index.ts';
import { DEFAULT_DISPATCH_CONFIG, type DispatchConfig, type DispatchDecision } from '../dispatch/context.ts';
import { dispatchRelease, dispatchTransition } from '../dispatch/pipeline.ts';
import type { DispatchPorts } from '../dispatch/ports.ts';
import { CollectingJobPublisher, CollectingReleasePublisher, fixedRoutes, InMemoryAlertStore, InMemoryInhibitionStore } from '../dispatch/in-memory.ts';
import { CollectingFlushScheduler, InMemoryGroupStore, InMemoryMemberRecords } from '../dispatch/group/in-memory.ts';
import { flushGroup } from '../dispatch/group/flush.ts';
import { CachedSilences } from '../dispatch/silence/cache.ts';
import { InMemoryMutedAlertIndex, InMemorySilenceStore } from '../dispatch/silence/in-memory.ts';
import { recheckMutedAlerts } from '../dispatch/silence/recheck.ts';
import type { Silence } from '../dispatch/silence/silence.ts';
import { routeMuteAt } from '../dispatch/time-intervals/route-mute.ts';
import { routeAlert, type RoutingConfig } from '../dispatch/route/routing.ts';
import { recheckDueAt } from '../dispatch/record/alert-record.ts';
import { ManualClock } from '../pipeline/clock.ts';
import { SUPPRESSION_REASONS, type SuppressionReason } from '../history/types.ts';

/** How often the timers function sweeps for due re-checks and reminders (infra/topology.ts: `everyMinutes: 1`). */
export const TIMERS_EVERY_MS = 60_000;

/** Default flap window: an alert that fires again within 10 minutes of resolving flapped. */
export const DEFAULT_FLAP_WINDOW_MS = 10 * 60_000;

/** Options of a backtest. */
export interface BacktestOptions {
  /** An activation flapped when its alert had resolved at most this long before it fired (default {@link DEFAULT_FLAP_WINDOW_MS}). */
  readonly flapWindowMs?: number;
  /** Dispatch's settings (default {@link DEFAULT_DISPATCH_CONFIG}: production's throttle windows and escalation). */
  readonly config?: DispatchConfig;
  /** The evaluator's options (staleness, skew, series limits). */
  readonly replay?: ReplayOptions;
}

/** Notifications per channel. */
export type ChannelCounts = Record<Channel, number>;
/** Suppressed notifications per reason. */
export type SuppressionCounts = Record<SuppressionReason, number>;

/** What one rule would have done over the input. */
export interface RuleBacktest {
  readonly rule: string;
  /** Activations that fired (pending ones that never fired are not counted). */
  readonly firings: number;
  readonly resolutions: number;
  /** Activations still firing at the end of the input. */
  readonly stillFiring: number;
  /** Mean of resolution − firing over the activations that resolved within the input; null when none did. */
  readonly meanFiringMs: number | null;
  /** Activations that fired within the flap window after the same alert resolved. */
  readonly flaps: number;
  /**
   * Notifications each channel would have received about this rule: its alerts' own jobs, and
   * each group notification that lists one of its alerts (once per channel and rule: a group
   * notification listing two rules counts for both).
   */
  readonly notifications: ChannelCounts;
  /** Notifications not sent, by reason (see {@link BacktestReport}). */
  readonly suppressed: SuppressionCounts;
}

/** The report of a backtest. */
export interface BacktestReport {
  /** The first sample's time and the end of the virtual clock (epoch ms); null without samples. */
  readonly fromMs: number | null;
  readonly untilMs: number | null;
  readonly flapWindowMs: number;
  /** Every rule, in rule order, with or without activity. */
  readonly rules: readonly RuleBacktest[];
  /**
   * Totals. `notifications` counts the jobs that would have been published: a group notification
   * once per channel, however many rules it lists (so it may be less than the sum over rules).
   */
  readonly totals: Omit<RuleBacktest, 'rule' | 'meanFiringMs'> & { readonly meanFiringMs: number | null };
  /** Samples evaluated, and those the evaluator skipped (out of order, duplicate) or refused (beyond the clock's skew). */
  readonly samples: { readonly evaluated: number; readonly skipped: number; readonly future: number };
}

/**
 * What the dispatch simulation saw: each notification (per channel; `rules` lists the rules it
 * is about) and each suppression (`count` notifications of one rule, for one reason).
 */
export interface DispatchLog {
  readonly notifications: { readonly atMs: number; readonly channel: Channel; readonly receiver: string; readonly rules: readonly string[]; readonly group: boolean; readonly kind: AlertTransition['kind'] }[];
  readonly suppressions: { readonly atMs: number; readonly rule: string; readonly reason: SuppressionReason; readonly count: number }[];
}

const zeroChannels = (): ChannelCounts => Object.fromEntries(CHANNELS.map((c) => [c, 0])) as ChannelCounts;
const zeroSuppressions = (): SuppressionCounts => Object.fromEntries(SUPPRESSION_REASONS.map((r) => [r, 0])) as SuppressionCounts;

/** A re-check decides again a firing that was already counted as muted when it arrived (silence/recheck.ts `recheckTransition`). */
function isRecheck(t: AlertTransition): boolean {
  return t.transitionId.includes(':recheck:');
}

/**
 * Suppressions of one dispatch decision. Units: throttle, one per (receiver, channel) held
 * (`decision.suppressed`); silence, inhibition and time intervals, one per (receiver, channel)
 * the firing would have reached (`routeAlert` targets at the notified severity; for time
 * intervals only those of muted routes); no channel, one per firing that reaches none (low
 * severity). A re-check still muted is not counted again (nor a release: see the caller).
 */
function suppressionsOf(d: DispatchDecision, t: AlertTransition, routes: RoutingConfig, nowMs: number): [SuppressionReason, number][] {
  const out: [SuppressionReason, number][] = [];
  if (d.outcome !== 'dispatched' || t.kind !== 'firing') return out;
  if (d.suppressed.length > 0) out.push(['throttle', d.suppressed.length]);
  if (isRecheck(t)) return out;
  const targets = (d.silencedBy || d.inhibitedBy || d.mutedBy) ? routeAlert(t.labels, d.severity, routes).targets : [];
  if (d.silencedBy) out.push(['silence', targets.length]);
  else if (d.inhibitedBy) out.push(['inhibition', targets.length]);
  else if (d.mutedBy) out.push(['time-interval', targets.filter((x) => routeMuteAt(x.routePath, routes, nowMs).muted).length]);
  if (d.unrouted) out.push(['no-channel', 1]);
  return out.filter(([, n]) => n > 0);
}

/**
 * Runs `transitions` (any order: sorted by event time, stably) through dispatch, the group
 * flushes and the timers' sweep on in-memory ports, up to `untilMs` (nothing after it runs).
 */
export async function simulateDispatch(
  transitions: readonly AlertTransition[],
  routes: RoutingConfig,
  silences: readonly Silence[],
  untilMs: number,
  config: DispatchConfig = DEFAULT_DISPATCH_CONFIG,
): Promise<DispatchLog> {
  const queue = [...transitions].sort((a, b) => a.atMs - b.atMs);
  const log: DispatchLog = { notifications: [], suppressions: [] };
  if (queue.length === 0) return log;
  const clock = new ManualClock(queue[0]!.atMs);
  const alerts = new InMemoryAlertStore();
  const jobs = new CollectingJobPublisher();
  const groups = new InMemoryGroupStore();
  const scheduler = new CollectingFlushScheduler();
  const releases = new CollectingReleasePublisher();
  const routesSource = fixedRoutes(routes);
  const ports: DispatchPorts = {
    alerts,
    jobs,
    routes: routesSource,
    clock,
    inhibitions: new InMemoryInhibitionStore(),
    releases,
    silences: new CachedSilences(new InMemorySilenceStore(silences), clock),
    groups,
    flushes: scheduler,
  };
  const flushPorts = { groups, jobs, scheduler, routes: routesSource, clock, records: new InMemoryMemberRecords(alerts) };
  const muted = new InMemoryMutedAlertIndex(alerts);
  const options = { config };
  const flushOptions = { config: { throttleWindows: config.throttleWindows }, muteOf: (rc: RoutingConfig, path: string, now: number) => routeMuteAt(path, rc, now) };
  // Every alert's rule, for the group notifications (which list fingerprints).
  const ruleOf = new Map(queue.map((t) => [t.fingerprint, t.ruleId]));
  let seenJobs = 0;

  const harvest = (groupRules: ReadonlyMap<string, readonly string[]> = new Map()): void => {
    for (const j of jobs.published.slice(seenJobs)) {
      const rules = j.group ? (groupRules.get(j.group.id) ?? [...j.group.firing, ...j.group.resolved].map((m) => ruleOf.get(m.fingerprint) ?? m.name)) : [j.transition.ruleId];
      log.notifications.push({ atMs: clock.now(), channel: j.channel, receiver: j.receiver, rules: [...new Set(rules)].sort(), group: j.group !== undefined, kind: j.transition.kind });
    }
    seenJobs = jobs.published.length;
  };
  const suppress = (rule: string, reason: SuppressionReason, count: number): void => void log.suppressions.push({ atMs: clock.now(), rule, reason, count });
  const dispatch = async (t: AlertTransition): Promise<void> => {
    const d = await dispatchTransition(ports, t, options);
    for (const [reason, n] of suppressionsOf(d, t, routes, clock.now())) suppress(t.ruleId, reason, n);
    harvest();
    // Releases go on the alert-events queue and are dispatched at once.
    for (let rs = releases.take(); rs.length > 0; rs = releases.take()) {
      for (const r of rs) {
        const rd = await dispatchRelease(ports, r, options);
        // A release decides again a firing already counted as inhibited: only a throttle hold is new.
        if (rd?.outcome === 'dispatched' && rd.suppressed.length > 0) suppress(rd.record.ruleId, 'throttle', rd.suppressed.length);
        harvest();
      }
    }
  };

  let next = 0;
  let lastSweepMs = -Infinity;
  for (;;) {
    const atT = queue[next]?.atMs ?? Infinity;
    const atFlush = Math.max(clock.now(), scheduler.scheduled.reduce((a, m) => Math.min(a, m.dueAtMs), Infinity));
    const [dueRecord] = await muted.due(Infinity, 1);
    const due = dueRecord ? recheckDueAt(dueRecord) : undefined;
    const atSweep = due === undefined ? Infinity : Math.max(Math.ceil(due / TIMERS_EVERY_MS) * TIMERS_EVERY_MS, lastSweepMs + TIMERS_EVERY_MS);
    const at = Math.min(atT, atFlush, atSweep);
    if (!Number.isFinite(at) || at > untilMs) break;
    clock.set(Math.max(clock.now(), at));
    if (atT === at) {
      await dispatch(queue[next++]!);
    } else if (atFlush === at) {
      for (const m of scheduler.takeDue(clock.now())) {
        const members = groups.peek(m.id)?.members ?? {};
        const rules = [...new Set(Object.keys(members).map((fp) => ruleOf.get(fp) ?? fp))].sort();
        const r = await flushGroup(flushPorts, m, flushOptions);
        harvest(new Map([[m.id, rules]]));
        if (r.outcome !== 'flushed') continue;
        for (const c of r.decision.channels) {
          const reason: SuppressionReason | undefined = c.reason === 'throttled' ? 'throttle' : c.reason === 'muted' ? 'time-interval' : undefined;
          if (reason) for (const rule of rules) suppress(rule, reason, 1);
        }
      }
    } else {
      lastSweepMs = at;
      const due: AlertTransition[] = [];
      await recheckMutedAlerts({ muted, publisher: { publish: async (ts) => void due.push(...ts) } }, at, Number.MAX_SAFE_INTEGER);
      for (const t of due) await dispatch(t);
    }
  }
  return log;
}

/** Per-activation facts of the evaluator's transitions, per rule (firings, resolutions, firing time, flaps). */
function activationStats(transitions: readonly AlertTransition[], flapWindowMs: number): Map<string, { firings: number; resolutions: number; stillFiring: number; firingMsSum: number; flaps: number }> {
  const byAlert = new Map<string, { ruleId: string; firedAtMs: number; resolvedAtMs?: number }[]>();
  for (const t of [...transitions].sort((a, b) => a.atMs - b.atMs)) {
    const list = byAlert.get(t.fingerprint) ?? [];
    byAlert.set(t.fingerprint, list);
    const act = list.find((a) => a.firedAtMs === t.firedAtMs);
    if (t.kind === 'firing' && !act) list.push({ ruleId: t.ruleId, firedAtMs: t.firedAtMs });
    else if (t.kind === 'resolved' && act && act.resolvedAtMs === undefined) act.resolvedAtMs = t.resolvedAtMs ?? t.atMs;
  }
  const out = new Map<string, { firings: number; resolutions: number; stillFiring: number; firingMsSum: number; flaps: number }>();
  for (const list of byAlert.values()) {
    list.forEach((a, i) => {
      const s = out.get(a.ruleId) ?? { firings: 0, resolutions: 0, stillFiring: 0, firingMsSum: 0, flaps: 0 };
      out.set(a.ruleId, s);
      s.firings++;
      if (a.resolvedAtMs === undefined) s.stillFiring++;
      else {
        s.resolutions++;
        s.firingMsSum += a.resolvedAtMs - a.firedAtMs;
      }
      const prev = list[i - 1]?.resolvedAtMs;
      if (prev !== undefined && a.firedAtMs - prev <= flapWindowMs) s.flaps++;
    });
  }
  return out;
}

/** The report from the evaluator's transitions and the dispatch log. */
export function buildReport(rules: readonly Pick<Rule, 'id'>[], transitions: readonly AlertTransition[], log: DispatchLog, window: { fromMs: number | null; untilMs: number | null; flapWindowMs: number }, samples: BacktestReport['samples']): BacktestReport {
  const stats = activationStats(transitions, window.flapWindowMs);
  const ids = [...rules.map((r) => r.id), ...[...stats.keys()].filter((id) => !rules.some((r) => r.id === id))];
  const perRule = new Map(ids.map((id) => [id, { notifications: zeroChannels(), suppressed: zeroSuppressions() }]));
  const totals = { notifications: zeroChannels(), suppressed: zeroSuppressions() };
  for (const n of log.notifications) {
    totals.notifications[n.channel]++;
    for (const rule of n.rules) if (perRule.has(rule)) perRule.get(rule)!.notifications[n.channel]++;
  }
  for (const s of log.suppressions) {
    totals.suppressed[s.reason] += s.count;
    if (perRule.has(s.rule)) perRule.get(s.rule)!.suppressed[s.reason] += s.count;
  }
  const out: RuleBacktest[] = ids.map((id) => {
    const s = stats.get(id) ?? { firings: 0, resolutions: 0, stillFiring: 0, firingMsSum: 0, flaps: 0 };
    return {
      rule: id,
      firings: s.firings,
      resolutions: s.resolutions,
      stillFiring: s.stillFiring,
      meanFiringMs: s.resolutions > 0 ? s.firingMsSum / s.resolutions : null,
      flaps: s.flaps,
      ...perRule.get(id)!,
    };
  });
  const all = [...stats.values()];
  const sum = (k: 'firings' | 'resolutions' | 'stillFiring' | 'flaps' | 'firingMsSum'): number => all.reduce((a, s) => a + s[k], 0);
  return {
    ...window,
    rules: out,
    totals: {
      firings: sum('firings'),
      resolutions: sum('resolutions'),
      stillFiring: sum('stillFiring'),
      meanFiringMs: sum('resolutions') > 0 ? sum('firingMsSum') / sum('resolutions') : null,
      flaps: sum('flaps'),
      ...totals,
    },
    samples,
  };
}

/**
 * A backtest: feed batches of samples ({@link Backtest.ingestBatch}, one per input line, in
 * order, as `klaxon replay` does), then {@link Backtest.run}.
 */
export class Backtest {
  readonly evaluator: InMemoryEvaluator;
  private readonly flapWindowMs: number;
  private evaluated = 0;
  private first = Infinity;
  private last = -Infinity;

  constructor(
    private readonly rules: readonly Rule[],
    private readonly routes: RoutingConfig,
    private readonly silences: readonly Silence[] = [],
    private readonly options: BacktestOptions = {},
  ) {
    this.evaluator = new InMemoryEvaluator(rules, options.replay);
    this.flapWindowMs = options.flapWindowMs ?? DEFAULT_FLAP_WINDOW_MS;
  }

  /** The newest sample time seen (epoch ms), undefined before any. */
  get lastSampleMs(): number | undefined {
    return Number.isFinite(this.last) ? this.last : undefined;
  }

  /** One batch as production's evaluator receives it (the virtual clock moves to its newest sample). */
  async ingestBatch(samples: readonly MetricSample[]): Promise<void> {
    for (const s of samples) {
      if (s.timestampMs > this.last) this.last = s.timestampMs;
      if (s.timestampMs < this.first) this.first = s.timestampMs;
    }
    this.evaluated += samples.length;
    await this.evaluator.ingestBatch(samples);
  }

  /**
   * Advances the evaluator to `untilMs` (absence and staleness act; default: the last sample),
   * runs dispatch, the flushes and the timers up to it, and reports.
   */
  async run(untilMs?: number): Promise<BacktestReport> {
    const end = Math.max(untilMs ?? -Infinity, this.last);
    if (Number.isFinite(end)) await this.evaluator.advanceTo(end);
    const transitions = this.evaluator.publisher.published.filter((t) => t.atMs <= end);
    const log = await simulateDispatch(transitions, this.routes, this.silences, end, this.options.config);
    return buildReport(
      this.rules,
      transitions,
      log,
      { fromMs: Number.isFinite(this.first) ? this.first : null, untilMs: Number.isFinite(end) ? end : null, flapWindowMs: this.flapWindowMs },
      { evaluated: this.evaluated, skipped: this.evaluator.skipped, future: this.evaluator.future },
    );
  }
}
