/**
 * Identities: the series key (Prometheus text form), the DynamoDB state key, the alert labels, the
 * alert fingerprint and the transition id.
 */
import { createHash } from 'node:crypto';
import type { AlertTransition, Labels } from '../model/index.ts';
import { ruleTemplates, type Rule } from '../rules/index.ts';

function escapeLabelValue(v: string): string {
  // Quote as JSON only when needed (a quote, a backslash, a control character or a UTF-16
  // surrogate): most values are plain. JSON.stringify writes a lone surrogate as a `\udXXX`
  // escape, so the key is well-formed Unicode and stays distinct once encoded as UTF-8 (where
  // every lone surrogate would otherwise become the same U+FFFD).
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 34 || c === 92 || c < 32 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(v);
  }
  return `"${v}"`;
}

/**
 * The series identity: `metric{a="1",b="2"}` with labels sorted by name (Prometheus text form).
 *
 * Unambiguous (two different series never share a key, also once encoded as UTF-8): metric and
 * label names are validated by decode (`[a-zA-Z_:][a-zA-Z0-9_:.-]*`, `[a-zA-Z_][a-zA-Z0-9_]*`), so
 * the first `{` ends the metric and the first `=` ends a label name; every value is written as a
 * JSON string literal (plain values are literals already: no quote, backslash or control
 * character), so its first unescaped `"` ends it and `JSON.parse` gives the value back; then comes
 * `,` or `}`. A decoder can read the labels back, so the map is one-to-one.
 */
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

/** Writes one field framed by its length: 4 bytes (big-endian count of UTF-16 units), then its UTF-16LE units. */
function field(h: ReturnType<typeof createHash>, s: string): void {
  const n = s.length;
  h.update(new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));
  h.update(s, 'utf16le');
}

/**
 * Alert identity: sha256 over the rule id and the labels sorted by name, each field framed by its
 * length (see {@link field}), first 16 hex digits.
 *
 * Unambiguous: a length-framed sequence parses back into its fields, so two different (rule,
 * labels) pairs hash different byte strings whatever characters the values hold (the former
 * U+00FF separator could be imitated by a label value; see {@link legacyFingerprint}). UTF-16
 * units rather than UTF-8 keep lone surrogates distinct. The byte strings are also disjoint from
 * the legacy ones (they start with a 0 byte, a rule id never does), so a new fingerprint never
 * equals an old one.
 */
export function fingerprint(ruleId: string, labels: Labels): string {
  const h = createHash('sha256');
  field(h, ruleId);
  for (const k of Object.keys(labels).sort()) {
    field(h, k);
    field(h, labels[k]!);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The fingerprint of alerts published before the length-framed {@link fingerprint}: fields
 * separated by the character U+00FF, which a label value can contain, so crafted labels can
 * reproduce another alert's fingerprint. Used only to resolve an alert that was published with it
 * and whose stored state predates `SeriesState.alert` (see docs/operations.md, "Upgrading:
 * alert fingerprints"); never for a new alert.
 */
export function legacyFingerprint(ruleId: string, labels: Labels): string {
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

/**
 * Transition id: a hash of fingerprint, kind, activeAt and the transition time; stable under replay.
 * Unambiguous with `|` separators: a fingerprint is hex digits, the kind is `firing` or `resolved`
 * and the times are integers, none of which contains `|`.
 */
export function transitionIdOf(fp: string, kind: AlertTransition['kind'], activeAtMs: number, atMs: number): string {
  return createHash('sha256').update(`${fp}|${kind}|${activeAtMs}|${atMs}`).digest('hex').slice(0, 32);
}
