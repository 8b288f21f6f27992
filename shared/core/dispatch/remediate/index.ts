/**
 * The remediation stage (issue 13; docs/remediation.md): a firing whose rule declares a
 * remediation, and that nothing mutes, is handed to the remediate function as a request on the
 * `remediation` queue. Placed after publish and before commit, like the jobs: a crash in between
 * decides the transition again and sends the same request (its attempt id comes from the
 * transition id), which the remediate function recognises: asked twice, run once.
 *
 * Silenced, inhibited or muted by a time interval: NOT requested. People silenced it to be left
 * alone, an inhibited alert is a symptom of the inhibiting one, and neither has a thread where an
 * approval or an outcome could be seen. A throttled or grouped firing is requested (the problem is
 * real; only the notification was held). A resolution never is.
 */
import { effect, next } from '../../pipeline/stage.ts';
import { mutesWholeFiring, type DispatchContext, type DispatchDecision } from '../context.ts';
import type { RemediationRequest } from '../../remediate/messages.ts';

/** Puts remediation requests on the remediation queue (deduplicated downstream by their attempt id). */
export interface RemediationRequestPublisher {
  publish(requests: readonly RemediationRequest[]): Promise<void>;
}

/** The request a transition makes, or undefined (pure). */
export function remediationRequestOf(ctx: DispatchContext): RemediationRequest | undefined {
  const t = ctx.transition;
  if (t.kind !== 'firing' || !t.remediation || !ctx.next) return undefined;
  if (ctx.inhibition?.muted === true || mutesWholeFiring(ctx.muted)) return undefined;
  return { version: 1, kind: 'request', requestId: t.transitionId, fingerprint: t.fingerprint, firedAtMs: t.firedAtMs, ruleId: t.ruleId, severity: t.severity, labels: t.labels, spec: t.remediation, atMs: ctx.nowMs };
}

/** remediate: the request to the remediation queue (nothing without a publisher: a deployment without remediation). */
export const remediateStage = effect<DispatchContext, { readonly remediations?: RemediationRequestPublisher }, DispatchDecision>('remediate', async (ctx, ports) => {
  const req = ports.remediations ? remediationRequestOf(ctx) : undefined;
  if (req) await ports.remediations!.publish([req]);
  return next(ctx);
});
