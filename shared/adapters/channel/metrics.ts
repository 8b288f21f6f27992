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
import type { DeliveryMetrics } from '../../core/deliver/ports.ts';
import { InMemoryDeliveryMetrics } from '../../core/deliver/in-memory.ts';

// The port is declared in core (shared/core/deliver/ports.ts); re-exported for callers of this adapter.
export type { DeliveryMetrics };

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

// The in-memory implementation lives in core (shared/core/deliver/in-memory.ts); re-exported for tests and the bench.
export { InMemoryDeliveryMetrics };
