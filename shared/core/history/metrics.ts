/**
 * CloudWatch metric points of history events (docs/incidents.md, "History and analytics"): what
 * the dashboard charts of the history, emitted by the functions that record it
 * (shared/adapters/observability/history-metrics.ts). Pure: the points, not their emission.
 *
 * Bounded dimensions only. Every distinct combination of dimension values is a custom metric of
 * its own, billed per month and kept for 15 months
 * (https://aws.amazon.com/cloudwatch/pricing/, "Metrics";
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
 * So the points carry severity (4 values), suppression reason (5, plus `other`) and nothing else:
 * never a rule id, team, fingerprint or label, whose values grow with the rules and the alerts.
 * Per-rule and per-team figures are `klaxon report`'s, computed from the history table.
 *
 * Notifications per channel are not repeated here: the channel functions already count what they
 * deliver (`NotificationsSent`, dimension `channel`), and the dashboard charts that.
 */
import { METRIC } from '../model/metrics.ts';
import type { Severity } from '../model/index.ts';
import { SUPPRESSION_REASONS, type HistoryEvent, type SuppressionReason } from './types.ts';

/** The history's metric names. */
export type HistoryMetricName = typeof METRIC.alertsFired | typeof METRIC.alertsSuppressed | typeof METRIC.timeToAcknowledge | typeof METRIC.timeToResolve;

/** One value of one metric. */
export interface HistoryMetricPoint {
  readonly name: HistoryMetricName;
  /** `{ severity }` or `{ reason }`: bounded values only (see the module comment). */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly unit: 'Count' | 'Milliseconds';
  readonly value: number;
}

/** The `reason` dimension of a suppression: one of {@link SUPPRESSION_REASONS}, else `other` (a writer's free text must not add metrics). */
export function suppressionReasonDimension(reason: string | undefined): SuppressionReason | 'other' {
  return (SUPPRESSION_REASONS as readonly string[]).includes(reason ?? '') ? (reason as SuppressionReason) : 'other';
}

/**
 * The metric points of `events`:
 * - `AlertsFired{severity}`: `fired` events, one Count point per severity with their number;
 * - `AlertsSuppressed{reason}`: `suppressed` events, one Count point per reason;
 * - `TimeToAcknowledge{severity}`: per `acknowledged` event with its `firedAtMs`, atMs − firedAtMs (Milliseconds);
 * - `TimeToResolve{severity}`: per `resolved` event with its `firedAtMs`, atMs − firedAtMs (Milliseconds).
 * Other kinds make no point. A time that would be negative (writers' clocks apart) is left out.
 */
export function historyMetricPoints(events: readonly HistoryEvent[]): HistoryMetricPoint[] {
  const fired = new Map<Severity, number>();
  const suppressed = new Map<string, number>();
  const times: HistoryMetricPoint[] = [];
  for (const e of events) {
    switch (e.kind) {
      case 'fired':
        fired.set(e.severity, (fired.get(e.severity) ?? 0) + 1);
        break;
      case 'suppressed': {
        const reason = suppressionReasonDimension(e.reason);
        suppressed.set(reason, (suppressed.get(reason) ?? 0) + 1);
        break;
      }
      case 'acknowledged':
      case 'resolved':
        if (e.firedAtMs !== undefined && e.atMs >= e.firedAtMs) {
          times.push({ name: e.kind === 'acknowledged' ? METRIC.timeToAcknowledge : METRIC.timeToResolve, dimensions: { severity: e.severity }, unit: 'Milliseconds', value: e.atMs - e.firedAtMs });
        }
        break;
      default:
        break;
    }
  }
  return [
    ...[...fired].map(([severity, n]): HistoryMetricPoint => ({ name: METRIC.alertsFired, dimensions: { severity }, unit: 'Count', value: n })),
    ...[...suppressed].map(([reason, n]): HistoryMetricPoint => ({ name: METRIC.alertsSuppressed, dimensions: { reason }, unit: 'Count', value: n })),
    ...times,
  ];
}
