/**
 * The channels stage (docs/design.md, "The notification pipeline": channels): where, on which
 * channels, the notification may go. For a firing, the severity matrix applied to each receiver
 * the routes reached, with the escalated severity (critical: email, Slack, PagerDuty; high: email,
 * Slack; medium: Slack; low: recorded only; refined per receiver and per routes file). For a
 * resolution, every destination its firing was notified on in this activation, as recorded then,
 * whatever the routes say now.
 */
import type { Severity } from '../../model/index.ts';
import { decision, next } from '../../pipeline/stage.ts';
import { closesRecordedActivation, mutesWholeFiring, noted, type DispatchContext, type DispatchDecision, type NotifyTarget } from '../context.ts';
import type { AlertRecord } from '../record/alert-record.ts';
import { targetsFor, type RoutedReceiver, type RoutingConfig } from '../route/routing.ts';

/** Why the channels stage decided as it did. */
export const CHANNELS_REASONS = ['severity-matrix', 'no-channel-for-severity', 'where-firing-went', 'firing-not-notified', 'muted'] as const;
/** One of {@link CHANNELS_REASONS}. */
export type ChannelsReason = (typeof CHANNELS_REASONS)[number];

/** Readable text for each {@link ChannelsReason}. */
export const CHANNELS_REASON_TEXT: Readonly<Record<ChannelsReason, string>> = {
  'severity-matrix': "the receivers' channels for this severity",
  'no-channel-for-severity': 'no receiver has a channel for this severity: recorded only',
  'where-firing-went': 'the destinations its firing was notified on',
  'firing-not-notified': 'its firing was notified nowhere (held, silenced, low severity, or never seen): nothing to resolve',
  muted: 'muted (silenced, or in a mute time interval of every route): notified nowhere, decided again when that ends',
};

/** What the channels stage decided. */
export interface ChannelsDecision {
  readonly reason: ChannelsReason;
  readonly targets: readonly NotifyTarget[];
}

/** The targets of a firing: the matrix over the routed receivers (`targetsFor`). */
export function decideFiringChannels(receivers: readonly RoutedReceiver[], severity: Severity, config: Pick<RoutingConfig, 'receivers' | 'matrix'>): ChannelsDecision {
  const targets = targetsFor(receivers, severity, config);
  return { reason: targets.length > 0 ? 'severity-matrix' : 'no-channel-for-severity', targets };
}

/**
 * The targets of a resolution: each (receiver, channel) of the record whose firing notification of
 * this activation was published (`notifiedFiredAtMs` = the record's `startsAtMs`), in the record's
 * order. None when the record holds another activation (its firing never reached dispatch).
 */
export function decideResolvedChannels(record: AlertRecord | undefined, t: { readonly firedAtMs: number }): ChannelsDecision {
  if (!closesRecordedActivation(record, t)) return { reason: 'firing-not-notified', targets: [] };
  const targets: NotifyTarget[] = [];
  for (const d of Object.values(record.deliveries)) {
    if (d.notifiedFiredAtMs !== record.startsAtMs) continue;
    targets.push({ receiver: d.receiver, channel: d.channel, destination: d.destination, destinationId: d.destinationId });
  }
  return { reason: targets.length > 0 ? 'where-firing-went' : 'firing-not-notified', targets };
}

/** The channels stage. */
export const channelsStage = decision<DispatchContext, DispatchDecision>('channels', (ctx) => {
  const d: ChannelsDecision =
    ctx.transition.kind === 'firing' && mutesWholeFiring(ctx.muted)
      ? { reason: 'muted', targets: [] }
      : ctx.transition.kind === 'firing' ? decideFiringChannels(ctx.receivers, ctx.severity, ctx.routes) : decideResolvedChannels(ctx.record, ctx.transition);
  return next(noted(ctx, { stage: 'channels', reason: d.reason, text: CHANNELS_REASON_TEXT[d.reason] }, { targets: d.targets }));
});
