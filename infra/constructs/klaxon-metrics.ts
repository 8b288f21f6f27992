/**
 * CloudWatch metric objects for Klaxon's own EMF metrics (shared/core/model/metrics.ts): namespace
 * `Klaxon`, Powertools' `service` dimension = the function's logical name, plus the metric's own
 * dimensions (`channel`, `kind`, `reason`). Alarms need the exact dimension set the function emits;
 * dashboards use SEARCH expressions instead where the set may vary.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, type METRIC } from '../../shared/core/model/metrics.ts';
import type { FunctionName } from '../topology.ts';

/** One of the metric names in {@link METRIC}. */
export type KlaxonMetricName = (typeof METRIC)[keyof typeof METRIC];

/** A Klaxon EMF metric emitted by `service` with the given extra dimensions. */
export function klaxonMetric(
  metricName: KlaxonMetricName,
  service: FunctionName,
  options: { dimensions?: Record<string, string>; statistic?: string; period?: Duration; label?: string } = {},
): cw.Metric {
  return new cw.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service, ...options.dimensions },
    statistic: options.statistic ?? 'Sum',
    period: options.period ?? Duration.minutes(1),
    ...(options.label ? { label: options.label } : {}),
  });
}

/**
 * Every series of a Klaxon metric whose dimensions include `dimensionKeys` (plus `service`), one
 * line per dimension value; for dashboards, where a series that does not exist yet simply shows nothing.
 */
export function klaxonSearch(
  metricName: KlaxonMetricName,
  dimensionKeys: readonly string[],
  options: { filter?: Record<string, string>; statistic?: string; period?: Duration; label?: string } = {},
): cw.MathExpression {
  const period = options.period ?? Duration.minutes(5);
  const schema = [METRICS_NAMESPACE, 'service', ...dimensionKeys].join(',');
  const filters = Object.entries(options.filter ?? {})
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return new cw.MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}"${filters}', '${options.statistic ?? 'Sum'}', ${period.toSeconds()})`,
    label: options.label ?? '',
    period,
  });
}
