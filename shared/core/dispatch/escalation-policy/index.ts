/**
 * Escalation policies (issue 12; docs/incidents.md, "Escalation policies"): an alert nobody
 * acknowledges is notified to further receivers, level by level, as PagerDuty's escalation
 * policies do (ordered rules, each `escalation_delay_in_minutes`, `num_loops` repeats).
 *
 * ```yaml
 * escalation_policies:
 *   - name: db-oncall
 *     levels:
 *       - { after: 15m, receivers: [pagerduty-primary] }   # unacknowledged 15 min after it was notified
 *       - { after: 30m, receivers: [team-lead] }
 *     repeat: 1                                           # the levels once more (0 to 9; default 0)
 * routes:
 *   - matchers: ['team="db"']
 *     receivers: [db-slack]          # notified at once: the first level
 *     escalation: db-oncall          # or per severity: { critical: db-oncall, high: db-slow }
 * ```
 *
 * When a firing is notified (on its own or through its groups), the record starts the policy of
 * its routes for its severity: step 0 due `levels[0].after` later. Each step is a due time on the
 * record (the alerts table's `by-recheck` index, beside muted firings and reminders); the timers'
 * sweep puts it on the alert-events queue as a firing with an id of its own
 * (`<firing id>:escalate:<run start>:<step>`), and dispatch notifies that level's receivers on the channels
 * the severity matrix gives them, records the step in the history with why, and sets the next
 * step. An acknowledgement or a resolution stops it; taking the acknowledgement back starts it
 * again from the first level. A silence that now matches the alert stops it too (the alert was
 * silenced on purpose). Pure: time is an argument.
 */
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../model/index.ts';
import { parseDuration } from '../../rules/duration.ts';

/** The most levels a policy has, and the most repeats (PagerDuty's `num_loops` is 0 to 9). */
export const MAX_ESCALATION_LEVELS = 10;
export const MAX_ESCALATION_REPEATS = 9;
/** The shortest wait before a level: the timers run each minute. */
export const MIN_ESCALATION_AFTER_MS = 60_000;

/** One level: who is notified, how long after the first notification (unacknowledged). */
export interface EscalationLevel {
  readonly afterMs: number;
  readonly receivers: readonly string[];
}

/** A policy, compiled. */
export interface EscalationPolicy {
  readonly name: string;
  readonly levels: readonly EscalationLevel[];
  readonly repeat: number;
}

/** A route's `escalation`: the policy name per severity (one name: every severity). */
export type RouteEscalation = Partial<Record<Severity, string>>;

/** The zod schema of `escalation_policies`. */
export const escalationPoliciesSchema = z.array(
  z.strictObject({
    name: z.string().min(1).max(128),
    levels: z
      .array(z.strictObject({ after: z.string().min(1), receivers: z.array(z.string().min(1)).min(1) }))
      .min(1, 'list at least one level')
      .max(MAX_ESCALATION_LEVELS, `at most ${MAX_ESCALATION_LEVELS} levels`),
    repeat: z.number().int().min(0).max(MAX_ESCALATION_REPEATS).optional(),
  }),
);

/** The zod schema of a route's `escalation`: a policy name, `none`, or one per severity. */
export const routeEscalationSchema = z.union([z.string().min(1), z.strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, z.string().min(1).optional()])) as Record<Severity, z.ZodOptional<z.ZodString>>)]);

/** Compiles the policies; problems are pushed naming the field. */
export function compileEscalationPolicies(docs: z.infer<typeof escalationPoliciesSchema>, receiverExists: (name: string) => boolean, problems: string[]): Map<string, EscalationPolicy> {
  const out = new Map<string, EscalationPolicy>();
  docs.forEach((p, i) => {
    const at = `escalation_policies[${i}]`;
    if (out.has(p.name)) problems.push(`${at}.name: duplicate escalation policy ${JSON.stringify(p.name)}`);
    let prev = 0;
    const levels: EscalationLevel[] = [];
    p.levels.forEach((l, j) => {
      const lat = `${at}.levels[${j}]`;
      let afterMs = NaN;
      try {
        afterMs = parseDuration(l.after);
      } catch (err) {
        problems.push(`${lat}.after: ${(err as Error).message}`);
      }
      if (afterMs === afterMs) {
        if (afterMs < MIN_ESCALATION_AFTER_MS) problems.push(`${lat}.after: at least 1m (the timers run each minute)`);
        else if (afterMs <= prev) problems.push(`${lat}.after: must be later than the level before (${JSON.stringify(p.levels[j - 1]!.after)}): each level's wait counts from the first notification`);
        prev = Math.max(prev, afterMs);
      }
      l.receivers.forEach((r, k) => {
        if (!receiverExists(r)) problems.push(`${lat}.receivers[${k}]: unknown receiver ${JSON.stringify(r)} (declare it under receivers)`);
      });
      levels.push({ afterMs, receivers: l.receivers });
    });
    out.set(p.name, { name: p.name, levels, repeat: p.repeat ?? 0 });
  });
  return out;
}

/** Compiles a route's `escalation` against the declared policies (`none` turns an inherited one off). */
export function compileRouteEscalation(doc: z.infer<typeof routeEscalationSchema> | undefined, at: string, inherited: RouteEscalation | undefined, policies: ReadonlyMap<string, EscalationPolicy>, problems: string[]): RouteEscalation | undefined {
  if (doc === undefined) return inherited;
  if (doc === 'none') return undefined;
  const bySeverity: RouteEscalation = typeof doc === 'string' ? Object.fromEntries(SEVERITIES.map((s) => [s, doc])) : doc;
  for (const [s, name] of Object.entries(bySeverity)) {
    if (name === undefined || name === 'none') continue;
    if (!policies.has(name)) problems.push(`${at}${typeof doc === 'string' ? '' : `.${s}`}: unknown escalation policy ${JSON.stringify(name)} (declare it under escalation_policies)`);
  }
  const clean = Object.fromEntries(Object.entries(bySeverity).filter(([, n]) => n !== undefined && n !== 'none')) as RouteEscalation;
  return Object.keys(clean).length > 0 ? clean : undefined;
}

/** Where an alert is in its escalation, as its record keeps it. */
export interface EscalationState {
  readonly policy: string;
  /** The next step to take (0-based over every level of every loop). */
  readonly step: number;
  /** When it is due (dispatch's clock). */
  readonly dueAtMs: number;
  /** When the escalation started (the first notification, or the acknowledgement taken back). */
  readonly startedAtMs: number;
}

/** Steps a policy has: its levels, times the loops. */
export function stepCount(p: EscalationPolicy): number {
  return p.levels.length * (p.repeat + 1);
}

/** The level and loop of a step, and when it is due after the start. */
export function stepOf(p: EscalationPolicy, step: number): { readonly level: number; readonly loop: number; readonly offsetMs: number } {
  const level = step % p.levels.length;
  const loop = Math.floor(step / p.levels.length);
  const cycle = p.levels[p.levels.length - 1]!.afterMs;
  return { level, loop, offsetMs: loop * cycle + p.levels[level]!.afterMs };
}

/** The state that starts a policy at `nowMs` (step 0). */
export function startEscalation(p: EscalationPolicy, nowMs: number): EscalationState {
  return { policy: p.name, step: 0, dueAtMs: nowMs + stepOf(p, 0).offsetMs, startedAtMs: nowMs };
}

/** The state after `step` was taken: the next one, or undefined when the policy is done. */
export function afterStep(p: EscalationPolicy, s: EscalationState): EscalationState | undefined {
  const next = s.step + 1;
  if (next >= stepCount(p)) return undefined;
  return { ...s, step: next, dueAtMs: s.startedAtMs + stepOf(p, next).offsetMs };
}

/** The policy of the first route (in routing order) that has one for `severity`. */
export function policyFor(routes: readonly { readonly escalation?: RouteEscalation }[], severity: Severity, policies: ReadonlyMap<string, EscalationPolicy> | undefined): EscalationPolicy | undefined {
  if (!policies) return undefined;
  for (const r of routes) {
    const name = r.escalation?.[severity];
    if (name) return policies.get(name);
  }
  return undefined;
}

/** `unacknowledged for 15m (db-oncall: level 2 of 2, second round of 2)`: why a step happened. */
export function stepReason(p: EscalationPolicy, step: number, format: (ms: number) => string): string {
  const { level, loop, offsetMs } = stepOf(p, step);
  const rounds = p.repeat + 1;
  return `unacknowledged for ${format(offsetMs)} (${p.name}: level ${level + 1} of ${p.levels.length}${rounds > 1 ? `, round ${loop + 1} of ${rounds}` : ''})`;
}

/**
 * The id of a step's message: the activation's firing id, `:escalate:`, when this run of the policy
 * started (an acknowledgement taken back starts a new run, whose steps are new notifications), the
 * step.
 */
export function escalationStepId(firingId: string, startedAtMs: number, step: number): string {
  return `${firingId}:escalate:${startedAtMs}:${step}`;
}

/** The step of an escalation message id, or undefined when it is not one. */
export function escalationStepOfId(transitionId: string): number | undefined {
  const m = /:escalate:\d{1,16}:(\d{1,4})$/.exec(transitionId);
  return m ? Number(m[1]) : undefined;
}
