/**
 * Emits the history's CloudWatch metrics (shared/core/history/metrics.ts) with Powertools Metrics:
 * each point is a single metric (its own EMF blob, written at once), as the evaluator emits its
 * dimensioned metrics, so a point's dimensions never mix with the function's stored metrics.
 * Call it with the events just recorded (after `HistoryStore.record` succeeded): an event
 * recorded again by a retry is counted again, which the dashboard tolerates (`klaxon report`
 * reads the table, where a retried event is one item).
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { HistoryEvent, HistoryStore } from '../../core/history/types.ts';
import { historyMetricPoints } from '../../core/history/metrics.ts';

/** Emits the metric points of `events` on `metrics` (the recording function's Metrics). */
export function emitHistoryMetrics(metrics: Metrics, events: readonly HistoryEvent[]): void {
  for (const p of historyMetricPoints(events)) {
    metrics
      .singleMetric()
      .addDimensions({ ...p.dimensions })
      .addMetric(p.name, p.unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, p.value);
  }
}

/** The history store, with each recorded event also counted in CloudWatch ({@link emitHistoryMetrics}, after the write). */
export function meteredHistory(store: HistoryStore, metrics: Metrics): HistoryStore {
  return {
    record: async (events) => {
      await store.record(events);
      emitHistoryMetrics(metrics, events);
    },
    query: (q) => store.query(q),
  };
}
