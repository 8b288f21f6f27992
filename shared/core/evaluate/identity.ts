/**
 * Identities: the series key (Prometheus text form), the DynamoDB state key, the alert labels, the
 * alert fingerprint and the transition id.
 */
import { createHash } from 'node:crypto';
import type { Labels } from '../model/index.ts';
import { ruleTemplates, type Rule } from '../rules/index.ts';

function escapeLabelValue(v: string): string {
  // Quote as JSON only when needed (a quote, a backslash or a control character): most values are plain.
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 34 || c === 92 || c < 32) return JSON.stringify(v);
  }
  return `"${v}"`;
}

/** The series identity: `metric{a="1",b="2"}` with labels sorted by name (Prometheus text form). */
export function seriesKey(metric: string, labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let s = `${metric}{`;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    s += `${i ? ',' : ''}${k}=${escapeLabelValue(labels[k]!)}`;
  }
  return `${s}}`;
}

/**
 * Longest state key kept readable, in UTF-8 bytes. DynamoDB partition keys hold at most 2,048 bytes
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys);
 * a longer series identity (many or long label values) is replaced by its hash.
 */
export const MAX_READABLE_STATE_KEY_BYTES = 1024;

/** `${ruleId}#${seriesKey}`, or `${ruleId}#${metric}#sha256:<hex>` when that would be too long. */
export function stateKeyFrom(ruleId: string, metric: string, sk: string): string {
  const key = `${ruleId}#${sk}`;
  // Fast path: 3 bytes per UTF-16 unit is the UTF-8 worst case.
  if (key.length * 3 <= MAX_READABLE_STATE_KEY_BYTES || new TextEncoder().encode(key).length <= MAX_READABLE_STATE_KEY_BYTES) return key;
  return `${ruleId}#${metric}#sha256:${createHash('sha256').update(sk).digest('hex')}`;
}

/** The state key of a (rule, series). */
export function stateKeyOf(rule: Rule, metric: string, labels: Labels): string {
  return stateKeyFrom(rule.id, metric, seriesKey(metric, labels));
}

/** Alert labels: series labels (no metric name) + rendered rule labels (override) + `alertname` = rule id; sorted by name. */
export function alertLabels(rule: Rule, seriesLabels: Labels): Labels {
  const merged: Record<string, string> = { ...seriesLabels };
  for (const [k, t] of ruleTemplates(rule).labels) merged[k] = t.render({ value: NaN, labels: seriesLabels });
  merged.alertname = rule.id;
  const out: Record<string, string> = {};
  for (const k of Object.keys(merged).sort()) out[k] = merged[k]!;
  return out;
}

/** Alert identity: sha256 over the rule id and the sorted labels (name 0xFF value 0xFF), first 16 hex digits. */
export function fingerprint(ruleId: string, labels: Labels): string {
  const h = createHash('sha256');
  h.update(ruleId);
  h.update('\u0000');
  for (const k of Object.keys(labels).sort()) {
    h.update(k);
    h.update('\u00ff');
    h.update(labels[k]!);
    h.update('\u00ff');
  }
  return h.digest('hex').slice(0, 16);
}

/** Transition id: a hash of fingerprint, kind, activeAt and the transition time; stable under replay. */
export function transitionIdOf(fp: string, kind: string, activeAtMs: number, atMs: number): string {
  return createHash('sha256').update(`${fp}|${kind}|${activeAtMs}|${atMs}`).digest('hex').slice(0, 32);
}
