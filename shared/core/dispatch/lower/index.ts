/**
 * The lower stage (docs/design.md, "The notification pipeline": lower): a firing's severity lowered
 * outside business hours (`lowering.ts`), after escalation and before the channels, so the
 * severity matrix and the throttle window are the lowered severity's. The job carries
 * `lowered: {from, reason}` so the notification says why. Routing is not affected: routes saw
 * the rule's severity, as they do with escalation.
 */
import { decision, next } from '../../pipeline/stage.ts';
import { noted, type DispatchContext, type DispatchDecision } from '../context.ts';
import { decideLowering, LOWER_REASON_TEXT } from './lowering.ts';

export * from './lowering.ts';

/** The routes whose receivers are still notified (all the routes that took it when time intervals muted every one). */
function notifiedRoutes(ctx: DispatchContext): DispatchContext['routed'] {
  const paths = new Set(ctx.receivers.map((r) => r.routePath));
  const routes = ctx.routed.filter((r) => paths.has(r.path));
  return routes.length > 0 ? routes : ctx.routed;
}

/** The lower stage. */
export const lowerStage = decision<DispatchContext, DispatchDecision>('lower', (ctx) => {
  const d = decideLowering(ctx.transition.kind, ctx.severity, notifiedRoutes(ctx), ctx.routes, ctx.nowMs);
  const note = { stage: 'lower', reason: d.reason, text: LOWER_REASON_TEXT[d.reason], ...(d.lowered ? { subject: `${d.lowered.from} -> ${d.severity}: ${d.lowered.reason}` } : {}) };
  return next(noted(ctx, note, { severity: d.severity, lowered: d.lowered }));
});
