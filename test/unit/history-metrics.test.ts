/**
 * History → CloudWatch metrics (shared/core/history/metrics.ts, shared/adapters/observability/
 * history-metrics.ts): the points of a batch of history events, with bounded dimensions only, and
 * the EMF blobs Powertools writes for them.
 */
import { describe, expect, it } from 'vitest';
import { historyMetricPoints, suppressionReasonDimension } from '../../shared/core/history/metrics.ts';
import type { HistoryEvent } from '../../shared/core/history/types.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';
import { createMetrics } from '../../shared/adapters/observability/index.ts';
import { emitHistoryMetrics } from '../../shared/adapters/observability/history-metrics.ts';

const T = Date.UTC(2027, 0, 4, 12);
const base = { fingerprint: 'fp', ruleId: 'cpu_high', team: 'web', firedAtMs: T } as const;
const EVENTS: HistoryEvent[] = [
  { ...base, id: 'f1', kind: 'fired', atMs: T, severity: 'critical' },
  { ...base, id: 'f2', kind: 'fired', atMs: T, severity: 'critical', fingerprint: 'fp2' },
  { ...base, id: 'f3', kind: 'fired', atMs: T, severity: 'low', fingerprint: 'fp3' },
  { ...base, id: 's1', kind: 'suppressed', atMs: T, severity: 'critical', reason: 'throttle', channel: 'slack' },
  { ...base, id: 's2', kind: 'suppressed', atMs: T, severity: 'critical', reason: 'throttle', channel: 'email' },
  // A reason outside SUPPRESSION_REASONS is `other`: free text never becomes a metric of its own.
  { ...base, id: 's3', kind: 'suppressed', atMs: T, severity: 'low', reason: 'rule 1234 said so' },
  { ...base, id: 'a1', kind: 'acknowledged', atMs: T + 90_000, severity: 'critical', by: 'U1' },
  // No firedAtMs: no time to measure.
  { id: 'a2', kind: 'acknowledged', atMs: T + 90_000, fingerprint: 'fp9', ruleId: 'x', severity: 'high' },
  // Before its firing (clocks apart): left out rather than negative.
  { ...base, id: 'a3', kind: 'acknowledged', atMs: T - 1, severity: 'high' },
  { ...base, id: 'r1', kind: 'resolved', atMs: T + 600_000, severity: 'critical' },
  // Kinds without a metric of their own: notifications are the channel functions' NotificationsSent.
  { ...base, id: 'n1', kind: 'notified', atMs: T, severity: 'critical', channel: 'slack', receiver: 'default' },
  { ...base, id: 'u1', kind: 'unacknowledged', atMs: T + 100_000, severity: 'critical' },
  { ...base, id: 'e1', kind: 'escalated', atMs: T + 100_000, severity: 'critical', reason: 'level 2' },
];

describe('historyMetricPoints', () => {
  it('counts firings per severity and suppressions per reason, and measures each acknowledgement and resolution', () => {
    expect(historyMetricPoints(EVENTS)).toEqual([
      // f1 f2
      { name: METRIC.alertsFired, dimensions: { severity: 'critical' }, unit: 'Count', value: 2 },
      // f3
      { name: METRIC.alertsFired, dimensions: { severity: 'low' }, unit: 'Count', value: 1 },
      // s1 s2
      { name: METRIC.alertsSuppressed, dimensions: { reason: 'throttle' }, unit: 'Count', value: 2 },
      // s3
      { name: METRIC.alertsSuppressed, dimensions: { reason: 'other' }, unit: 'Count', value: 1 },
      // a1: 90 s after firing
      { name: METRIC.timeToAcknowledge, dimensions: { severity: 'critical' }, unit: 'Milliseconds', value: 90_000 },
      // r1: 10 min after firing
      { name: METRIC.timeToResolve, dimensions: { severity: 'critical' }, unit: 'Milliseconds', value: 600_000 },
    ]);
  });

  it('never dimensions a point by rule, team, fingerprint or label', () => {
    const keys = new Set(historyMetricPoints(EVENTS).flatMap((p) => Object.keys(p.dimensions)));
    expect([...keys].sort()).toEqual(['reason', 'severity']);
  });

  it.each([
    // each of SUPPRESSION_REASONS stays itself
    ['throttle', 'throttle'],
    ['silence', 'silence'],
    ['inhibition', 'inhibition'],
    ['time-interval', 'time-interval'],
    ['no-channel', 'no-channel'],
    // anything else is `other`
    ['Throttle', 'other'],
    [undefined, 'other'],
  ])('reason %s → dimension %s', (reason, dim) => {
    expect(suppressionReasonDimension(reason)).toBe(dim);
  });
});

describe('emitHistoryMetrics', () => {
  it('writes one EMF blob per point, with the service and the point’s dimension', () => {
    const metrics = createMetrics('dispatch');
    // Stand-in for stdout: Powertools writes EMF with its own Console (a public field), and each
    // single metric is a Metrics instance of its own; capture theirs instead of printing.
    const emf: Record<string, unknown>[] = [];
    const capture = { log: (s: string) => void emf.push(JSON.parse(s) as Record<string, unknown>) };
    const single = metrics.singleMetric.bind(metrics);
    metrics.singleMetric = () => {
      const m = single();
      (m as unknown as { console: typeof capture }).console = capture;
      return m;
    };
    emitHistoryMetrics(metrics, EVENTS);
    const blobs = emf.map((b) => {
      const cw = (b._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0]!;
      const name = cw.Metrics[0]!.Name;
      return { name, unit: cw.Metrics[0]!.Unit, dimensions: cw.Dimensions[0], value: b[name], service: b.service, severity: b.severity, reason: b.reason };
    });
    expect(blobs).toEqual([
      { name: 'AlertsFired', unit: 'Count', dimensions: ['service', 'severity'], value: 2, service: 'dispatch', severity: 'critical', reason: undefined },
      { name: 'AlertsFired', unit: 'Count', dimensions: ['service', 'severity'], value: 1, service: 'dispatch', severity: 'low', reason: undefined },
      { name: 'AlertsSuppressed', unit: 'Count', dimensions: ['service', 'reason'], value: 2, service: 'dispatch', severity: undefined, reason: 'throttle' },
      { name: 'AlertsSuppressed', unit: 'Count', dimensions: ['service', 'reason'], value: 1, service: 'dispatch', severity: undefined, reason: 'other' },
      { name: 'TimeToAcknowledge', unit: 'Milliseconds', dimensions: ['service', 'severity'], value: 90_000, service: 'dispatch', severity: 'critical', reason: undefined },
      { name: 'TimeToResolve', unit: 'Milliseconds', dimensions: ['service', 'severity'], value: 600_000, service: 'dispatch', severity: 'critical', reason: undefined },
    ]);
  });
});
