/**
 * Alert-events messages: the transition of a state change, and the resolution of a deleted rule's
 * firing alert.
 */
import type { AlertTransition, StateChange } from '../model/index.ts';
import { ruleTemplates, type Rule } from '../rules/index.ts';
import { transitionIdOf } from './identity.ts';
import type { AlertStateChange, SeriesState } from './types.ts';

/**
 * The alert-events message for a change: only `→firing` and `firing→resolved` give one.
 * Annotations are rendered with `$value` = the change's value and `$labels` = the alert labels.
 */
export function toTransition(rule: Rule, change: StateChange, state: SeriesState, emittedAtMs: number): AlertTransition | undefined {
  let kind: 'firing' | 'resolved';
  if (change.to === 'firing') kind = 'firing';
  else if (change.to === 'resolved') kind = 'resolved';
  else return undefined;
  const c = change as Partial<AlertStateChange> & StateChange;
  const activeAtMs = c.activeAtMs ?? state.activeAtMs ?? change.atMs;
  const firedAtMs = kind === 'firing' ? change.atMs : (c.firedAtMs ?? state.firedAtMs ?? activeAtMs);
  const annotations: Record<string, string> = {};
  for (const [k, t] of ruleTemplates(rule).annotations) annotations[k] = t.render({ value: change.value, labels: change.labels });
  return {
    version: 1,
    transitionId: transitionIdOf(change.fingerprint, kind, activeAtMs, change.atMs),
    kind,
    fingerprint: change.fingerprint,
    ruleId: rule.id,
    ruleName: rule.name,
    severity: rule.severity,
    labels: change.labels,
    annotations,
    value: Number.isFinite(change.value) ? change.value : null,
    condition: rule.conditionText,
    atMs: change.atMs,
    activeAtMs,
    firedAtMs,
    ...(kind === 'resolved' ? { resolvedAtMs: change.atMs } : {}),
    ...(rule.runbookUrl !== undefined ? { runbookUrl: rule.runbookUrl } : {}),
    ...(rule.dashboardUrl !== undefined ? { dashboardUrl: rule.dashboardUrl } : {}),
    ...(rule.policy !== undefined ? { policy: rule.policy } : {}),
    ...(rule.remediation !== undefined ? { remediation: rule.remediation } : {}),
    emittedAtMs,
  };
}

/**
 * The resolution of a firing alert whose rule was deleted from the rule source (Alertmanager
 * resolves alerts that stop being sent; so does Klaxon), built from the identity the state kept
 * while firing ({@link SeriesState.alert}). `atMs` is the timers function's clock. Undefined when
 * the state is not firing, or is firing without a stored identity (written before it was kept).
 * The transition id comes from {@link transitionIdOf} like any other.
 */
export function deletedRuleTransition(ruleId: string, state: SeriesState, atMs: number): AlertTransition | undefined {
  const a = state.alert;
  if (state.state !== 'firing' || !a) return undefined;
  const activeAtMs = state.activeAtMs ?? state.firedAtMs ?? atMs;
  const firedAtMs = state.firedAtMs ?? activeAtMs;
  return {
    version: 1,
    transitionId: transitionIdOf(a.fingerprint, 'resolved', activeAtMs, atMs),
    kind: 'resolved',
    fingerprint: a.fingerprint,
    ruleId,
    ruleName: a.ruleName,
    severity: a.severity,
    labels: a.labels,
    annotations: { summary: `rule ${ruleId} was deleted` },
    value: null,
    condition: a.condition,
    atMs,
    activeAtMs,
    firedAtMs,
    resolvedAtMs: atMs,
    emittedAtMs: atMs,
  };
}
