/**
 * The route stage (docs/design.md, "The notification pipeline": route): which receivers a firing
 * alert reaches, by its labels (`severity` among them) and the routes tree, Alertmanager-style
 * (first match, `continue`, inheritance; `routing.ts`). A resolution is not routed again: it goes
 * where its firing went (the channels stage reads that from the record), whatever the routes say
 * now.
 */
import type { AlertTransition, Labels } from '../../model/index.ts';
import { decision, next } from '../../pipeline/stage.ts';
import { closesRecordedActivation, noted, type DispatchContext, type DispatchDecision } from '../context.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import { matchRoutes, receiversOf, type RoutedReceiver, type RouteNode, type RoutingConfig } from './routing.ts';

export * from './routing.ts';
export * from './routes-config.ts';

/** Why the route stage decided as it did. */
export const ROUTE_REASONS = ['matched', 'no-route-matched', 'follows-firing', 'firing-not-seen'] as const;
/** One of {@link ROUTE_REASONS}. */
export type RouteReason = (typeof ROUTE_REASONS)[number];

/** Readable text for each {@link RouteReason}. */
export const ROUTE_REASON_TEXT: Readonly<Record<RouteReason, string>> = {
  matched: 'routes matched the labels',
  'no-route-matched': 'no route matched the labels: the root receiver takes it',
  'follows-firing': 'a resolution is not routed: it goes where its firing went',
  'firing-not-seen': 'a resolution whose firing never reached dispatch: nowhere to go',
};

/** What the route stage decided. */
export interface RouteDecision {
  readonly reason: RouteReason;
  /** Routes that took the alert, in order (the root when none matched); empty for a resolution. */
  readonly routes: readonly RouteNode[];
  /** Receivers those routes name, in order, without repeats, each with the route that named it first. */
  readonly receivers: readonly RoutedReceiver[];
}

/**
 * Decides the receivers of a transition. `labels` are the alert's labels with `severity`
 * (`withSeverityLabel`, shared/core/model/severity.ts); `record` is the alert record as read.
 */
export function decideRoute(t: Pick<AlertTransition, 'kind' | 'firedAtMs'>, labels: Labels, record: AlertRecord | undefined, config: RoutingConfig): RouteDecision {
  if (t.kind === 'resolved') {
    return { reason: closesRecordedActivation(record, t) ? 'follows-firing' : 'firing-not-seen', routes: [], receivers: [] };
  }
  const routes = matchRoutes(config.root, labels);
  const onlyRoot = routes.length === 1 && routes[0] === config.root;
  return { reason: onlyRoot ? 'no-route-matched' : 'matched', routes, receivers: receiversOf(routes) };
}

/** The route stage. */
export const routeStage = decision<DispatchContext, DispatchDecision>('route', (ctx) => {
  const d = decideRoute(ctx.transition, ctx.labels, ctx.record, ctx.routes);
  return next(noted(ctx, { stage: 'route', reason: d.reason, text: ROUTE_REASON_TEXT[d.reason] }, { routed: d.routes, receivers: d.receivers }));
});
