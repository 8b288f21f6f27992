/**
 * Delivery metrics (EMF through Powertools Metrics), all with the `channel` dimension; failures
 * also with `reason` (a DELIVERY_FAILURE_REASONS value). Behind a small port so the channel
 * handler's tests can read what was counted. Each metric is its own single-metric EMF blob, written
 * at once (Powertools `singleMetric`); the function's `logMetrics` middleware writes the rest
 * (the cold start) when the invocation ends.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../core/model/metrics.ts';
import type { Channel } from '../../core/model/index.ts';
import type { DeliveryFailureReason } from '../../core/model/metrics.ts';

/** What a channel function counts. */
export interface DeliveryMetrics {
  sent(channel: Channel, latencyMs: number): void;
  failed(channel: Channel, reason: DeliveryFailureReason): void;
  deadLettered(channel: Channel): void;
  deferred(channel: Channel): void;
  breakerOpen(channel: Channel, open: boolean): void;
}

/** {@link DeliveryMetrics} on Powertools Metrics (EMF to stdout). */
export class EmfDeliveryMetrics implements DeliveryMetrics {
  readonly #m: Metrics;
  constructor(metrics: Metrics) {
    this.#m = metrics;
  }
  #single(channel: Channel, name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, extra: Record<string, string> = {}): void {
    const s = this.#m.singleMetric();
    s.addDimensions({ channel, ...extra });
    s.addMetric(name, unit, value);
  }
  sent(channel: Channel, latencyMs: number): void {
    this.#single(channel, METRIC.notificationsSent, MetricUnit.Count, 1);
    this.#single(channel, METRIC.deliveryLatency, MetricUnit.Milliseconds, latencyMs);
  }
  failed(channel: Channel, reason: DeliveryFailureReason): void {
    this.#single(channel, METRIC.notificationsFailed, MetricUnit.Count, 1, { reason });
  }
  deadLettered(channel: Channel): void {
    this.#single(channel, METRIC.notificationsDeadLettered, MetricUnit.Count, 1);
  }
  deferred(channel: Channel): void {
    this.#single(channel, METRIC.notificationsDeferred, MetricUnit.Count, 1);
  }
  breakerOpen(channel: Channel, open: boolean): void {
    this.#single(channel, METRIC.breakerOpen, MetricUnit.Count, open ? 1 : 0);
  }
}

/** {@link DeliveryMetrics} that keeps counts in memory (tests, local console, benchmark). */
export class InMemoryDeliveryMetrics implements DeliveryMetrics {
  readonly counts = new Map<string, number>();
  readonly latenciesMs: number[] = [];
  #add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  /** Count of a metric, e.g. `count('NotificationsFailed', { reason: 'server' })`. */
  count(name: string, dims: { reason?: string } = {}): number {
    let n = 0;
    for (const [k, v] of this.counts) {
      const [metric, , reason] = k.split('|');
      if (metric === name && (dims.reason === undefined || reason === dims.reason)) n += v;
    }
    return n;
  }
  sent(channel: Channel, latencyMs: number): void {
    this.#add(`${METRIC.notificationsSent}|${channel}`);
    this.latenciesMs.push(latencyMs);
  }
  failed(channel: Channel, reason: DeliveryFailureReason): void {
    this.#add(`${METRIC.notificationsFailed}|${channel}|${reason}`);
  }
  deadLettered(channel: Channel): void {
    this.#add(`${METRIC.notificationsDeadLettered}|${channel}`);
  }
  deferred(channel: Channel): void {
    this.#add(`${METRIC.notificationsDeferred}|${channel}`);
  }
  breakerOpen(channel: Channel, open: boolean): void {
    if (open) this.#add(`${METRIC.breakerOpen}|${channel}`);
  }
}
