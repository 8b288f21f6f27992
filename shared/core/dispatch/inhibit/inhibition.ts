/**
 * Inhibition, Alertmanager 0.25's semantics (docs/design.md, "The notification pipeline": inhibit;
 * docs/routing.md, "Inhibition"): a firing alert that matches a rule's `source_matchers` mutes the
 * firing alerts that match its `target_matchers` and have the same value for every `equal` label (a
 * label missing on both sides is "" on both: equal). An alert never inhibits itself, and an alert
 * that matches both sides of a rule is not inhibited through that rule by another alert that also
 * matches both sides (Alertmanager's `excludeTwoSidedMatch`), so `severity=~".*"` on both sides
 * cannot make two alerts mute each other.
 *
 * Dispatch does not hold every alert in memory as Alertmanager does. What it needs is kept where
 * one read finds it: an item per (rule, `equal` values) in the alerts table ({@link InhibitItem},
 * key {@link inhibitKey}) holding the firing sources with those values and the targets they
 * muted. A target reads the items of the rules that target it (one BatchGetItem); a source adds
 * itself when it fires and removes itself when it resolves, and then every target the item lists
 * is sent a release (an SQS message), whose dispatch decides again. Pure: no I/O here.
 */
import type { Labels } from '../../model/index.ts';
import { matchesAll } from '../../matchers/index.ts';
import { sha256Hex } from '../hash.ts';
import type { InhibitRule } from './inhibit-rules.ts';

/** Prefix of the alerts-table keys of inhibit items (an alert fingerprint never starts with it). */
export const INHIBIT_KEY_PREFIX = 'inhibit#';

/** A firing source as its item records it. */
export interface InhibitSource {
  /** The source's activation (`firedAtMs`). */
  readonly firedAtMs: number;
  /** The source also matches the rule's target matchers (it cannot inhibit another two-sided alert). */
  readonly twoSided: boolean;
}

/** The item of one (rule, `equal` values): firing sources, and the targets they muted (to release them). */
export interface InhibitItem {
  readonly key: string;
  /** Firing sources by fingerprint. */
  readonly sources: ReadonlyMap<string, InhibitSource>;
  /** Muted targets by fingerprint → their activation's `firedAtMs`. */
  readonly targets: ReadonlyMap<string, number>;
}

/** An empty item (what a key nobody wrote reads as). */
export function emptyInhibitItem(key: string): InhibitItem {
  return { key, sources: new Map(), targets: new Map() };
}

/**
 * The key of `rule`'s item for the `equal` values of `labels`: `inhibit#<rule id>#<hash of the
 * values>`. Two alerts share it exactly when their `equal` values are all the same ("" for a
 * missing label), which is Alertmanager's equality test.
 */
export function inhibitKey(rule: Pick<InhibitRule, 'id' | 'equal'>, labels: Labels): string {
  const values = rule.equal.map((n) => labels[n] ?? '');
  return `${INHIBIT_KEY_PREFIX}${rule.id}#${sha256Hex(JSON.stringify(values)).slice(0, 32)}`;
}

/** One rule seen from one alert: the item it shares with alerts of equal values, and which sides it matches. */
export interface InhibitSide {
  readonly rule: InhibitRule;
  readonly key: string;
  readonly isSource: boolean;
  readonly isTarget: boolean;
}

/** The rules `labels` is a source or a target of, with their item keys (none: inhibition costs this alert nothing). */
export function inhibitSides(rules: readonly InhibitRule[], labels: Labels): InhibitSide[] {
  const out: InhibitSide[] = [];
  for (const rule of rules) {
    const isSource = matchesAll(rule.source, labels);
    const isTarget = matchesAll(rule.target, labels);
    if (isSource || isTarget) out.push({ rule, key: inhibitKey(rule, labels), isSource, isTarget });
  }
  return out;
}

/** The item keys a firing alert must read to know whether it is inhibited (unique, in rule order). */
export function inhibitReadKeys(rules: readonly InhibitRule[], labels: Labels): string[] {
  return [...new Set(inhibitSides(rules, labels).filter((s) => s.isTarget).map((s) => s.key))];
}

/** Why the inhibit stage decided as it did. */
export const INHIBIT_REASONS = ['not-a-target', 'no-firing-source', 'only-itself', 'inhibited', 'resolution'] as const;
/** One of {@link INHIBIT_REASONS}. */
export type InhibitReason = (typeof INHIBIT_REASONS)[number];

/** Readable text for each {@link InhibitReason}. */
export const INHIBIT_REASON_TEXT: Readonly<Record<InhibitReason, string>> = {
  'not-a-target': 'no inhibit rule targets this alert',
  'no-firing-source': 'no firing source alert with equal labels',
  'only-itself': 'the only sources with equal labels are the alert itself or match both sides as it does: an alert never inhibits itself',
  inhibited: 'muted: a firing source alert with equal labels inhibits it',
  resolution: 'a resolution is not inhibited: it goes where its firing went',
};

/** What the inhibit stage decided. */
export interface InhibitDecision {
  readonly reason: InhibitReason;
  readonly muted: boolean;
  /** Fingerprints of the firing sources that inhibit it, sorted. */
  readonly inhibitedBy: readonly string[];
  /** Keys of the items holding those sources (where the target registers to be released). */
  readonly keys: readonly string[];
}

/** The sources of `item` that inhibit the alert `fingerprint` through `side` (Alertmanager's `hasEqual`). */
export function inhibitorsIn(item: InhibitItem | undefined, fingerprint: string, side: Pick<InhibitSide, 'isSource'>): string[] {
  if (!item) return [];
  const out: string[] = [];
  for (const [fp, s] of item.sources) {
    if (fp === fingerprint) continue; // never itself
    if (side.isSource && s.twoSided) continue; // two-sided alerts do not inhibit each other
    out.push(fp);
  }
  return out;
}

/**
 * Decides whether a firing alert is inhibited, from the items read for it (`items`, by key; a
 * missing key is an item nobody wrote). `labels` are its labels with `severity`.
 */
export function decideInhibition(fingerprint: string, labels: Labels, rules: readonly InhibitRule[], items: ReadonlyMap<string, InhibitItem>): InhibitDecision {
  const sides = inhibitSides(rules, labels).filter((s) => s.isTarget);
  if (sides.length === 0) return { reason: 'not-a-target', muted: false, inhibitedBy: [], keys: [] };
  const by = new Set<string>();
  const keys: string[] = [];
  let anySource = false;
  for (const side of sides) {
    const item = items.get(side.key);
    if (item && item.sources.size > 0) anySource = true;
    const found = inhibitorsIn(item, fingerprint, side);
    if (found.length === 0) continue;
    for (const fp of found) by.add(fp);
    if (!keys.includes(side.key)) keys.push(side.key);
  }
  if (by.size > 0) return { reason: 'inhibited', muted: true, inhibitedBy: [...by].sort(), keys };
  return { reason: anySource ? 'only-itself' : 'no-firing-source', muted: false, inhibitedBy: [], keys: [] };
}

/** The writes a transition makes to the inhibit items (executed by the `inhibit-sync` stage, before commit). */
export interface InhibitWrites {
  /** Items where the alert registers as a firing source. */
  readonly addSources: readonly { readonly key: string; readonly source: InhibitSource }[];
  /** Items the alert leaves as a source (it resolved): their targets are released. */
  readonly removeSources: readonly string[];
  /** Items where the alert registers as a muted target (released when a source leaves). */
  readonly addTargets: readonly string[];
  /** Items the alert no longer waits on as a target. */
  readonly removeTargets: readonly string[];
}

/**
 * What a transition writes to the inhibit items. A firing registers as a source of every rule it
 * matches the source side of (inhibited or not: an inhibited alert still inhibits others, as in
 * Alertmanager) and, when muted, as a target where its inhibitors are; a resolution leaves every
 * item it was in. `previousKeys`: the items the record says it waited on.
 */
export function planInhibitWrites(
  kind: 'firing' | 'resolved',
  firedAtMs: number,
  labels: Labels,
  rules: readonly InhibitRule[],
  decision: InhibitDecision | undefined,
  previousKeys: readonly string[],
): InhibitWrites {
  const sources = inhibitSides(rules, labels).filter((s) => s.isSource);
  const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
  if (kind === 'resolved') {
    return { addSources: [], removeSources: unique(sources.map((s) => s.key)), addTargets: [], removeTargets: unique(previousKeys) };
  }
  const addSources = [...new Map(sources.map((s) => [s.key, { key: s.key, source: { firedAtMs, twoSided: s.isTarget } }])).values()];
  const addTargets = decision?.muted ? [...decision.keys] : [];
  return { addSources, removeSources: [], addTargets, removeTargets: unique(previousKeys.filter((k) => !addTargets.includes(k))) };
}
