/**
 * Severity is a label (docs/design.md, "Severity is a label"): every alert is matched by its
 * labels with `severity` set to its severity (critical | high | medium | low), as Prometheus rule
 * authors write it, so routes (and, later, silences and inhibition rules) can match it.
 *
 * The label is added where alerts are matched (dispatch), not where they are identified (the
 * evaluator): a fingerprint is a hash of the rule id and the evaluator's labels, and adding a
 * label there would give every alert already firing or recorded a new identity. A rule that
 * writes `labels.severity` itself has it in its fingerprint, as it always had.
 */
import { SEVERITIES, type Labels, type Severity } from './index.ts';

/** The label that carries an alert's severity. */
export const SEVERITY_LABEL = 'severity';

/** Whether a string is one of {@link SEVERITIES}. */
export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

/**
 * The labels an alert is matched by: its labels with `severity` set to `severity`. The alert's
 * severity wins over a series label of that name, as a rule label overrides a series label.
 * Returns `labels` itself when it already says so (no copy on the common path of a rule that
 * writes `labels.severity`).
 */
export function withSeverityLabel(labels: Labels, severity: Severity): Labels {
  if (labels[SEVERITY_LABEL] === severity) return labels;
  return { ...labels, [SEVERITY_LABEL]: severity };
}

/** The severity a label set declares, or undefined when it has no `severity` label or one that is not a severity. */
export function severityOfLabels(labels: Labels): Severity | undefined {
  const v = labels[SEVERITY_LABEL];
  return isSeverity(v) ? v : undefined;
}
