/**
 * Inhibit rules as the routes config writes them (`inhibit_rules`, Alertmanager 0.25's syntax:
 * `source_matchers`, `target_matchers`, `equal`) and their compilation into {@link InhibitRule}.
 * docs/routing.md, "Inhibition".
 *
 * ```yaml
 * inhibit_rules:
 *   - source_matchers: ['severity="critical"']
 *     target_matchers: ['severity=~"high|medium"']
 *     equal: [cluster, alertname]
 * ```
 */
import { z } from 'zod';
import { MatcherSyntaxError, type Matcher } from '../../matchers/index.ts';
import { parseAlertmanagerMatcher } from '../../matchers/alertmanager.ts';
import { sha256Hex } from '../hash.ts';

/** A label name as Prometheus and Alertmanager accept it. */
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The zod schema of one `inhibit_rules` entry (unknown keys refused, e.g. the deprecated `source_match`). */
export const inhibitRuleSchema = z.strictObject({
  source_matchers: z.array(z.string()).optional(),
  target_matchers: z.array(z.string()).optional(),
  equal: z.array(z.string().regex(LABEL_NAME, 'not a label name (letters, digits and _, not starting with a digit)')).optional(),
});

/** One `inhibit_rules` entry as written. */
export type InhibitRuleDocument = z.infer<typeof inhibitRuleSchema>;

/** A compiled inhibit rule. */
export interface InhibitRule {
  /** Where it is in the config, e.g. `inhibit_rules[0]`. */
  readonly path: string;
  /** Alerts that inhibit (every matcher must match; an empty list matches every alert, as in Alertmanager). */
  readonly source: readonly Matcher[];
  /** Alerts that may be inhibited. */
  readonly target: readonly Matcher[];
  /** Labels whose values must be equal in source and target (a label missing on both sides is equal: ""). Sorted, unique. */
  readonly equal: readonly string[];
  /**
   * The rule's identity in the alerts table: a hash of its matchers and `equal`, not of its
   * position, so reordering the rules keeps the firing sources the table holds; editing a rule
   * starts a new set (the old items expire by TTL).
   */
  readonly id: string;
}

/**
 * Compiles the (already schema-checked) `inhibit_rules`. Problems are pushed as
 * `inhibit_rules[i].<field>[j]: <what>` lines, as the rest of the routes config reports them.
 */
export function compileInhibitRules(docs: readonly InhibitRuleDocument[], problems: string[]): InhibitRule[] {
  return docs.map((d, i) => {
    const path = `inhibit_rules[${i}]`;
    const parse = (list: readonly string[] | undefined, field: string): Matcher[] => {
      const out: Matcher[] = [];
      (list ?? []).forEach((text, j) => {
        try {
          out.push(parseAlertmanagerMatcher(text));
        } catch (err) {
          if (!(err instanceof MatcherSyntaxError)) throw err;
          problems.push(`${path}.${field}[${j}]: ${err.message}`);
        }
      });
      return out;
    };
    const source = parse(d.source_matchers, 'source_matchers');
    const target = parse(d.target_matchers, 'target_matchers');
    const seen = new Set<string>();
    (d.equal ?? []).forEach((name, j) => {
      if (seen.has(name)) problems.push(`${path}.equal[${j}]: label ${JSON.stringify(name)} listed twice`);
      seen.add(name);
    });
    const equal = [...seen].sort();
    const id = sha256Hex(JSON.stringify([source.map((m) => m.text), target.map((m) => m.text), equal])).slice(0, 24);
    return { path, source, target, equal, id };
  });
}
