/**
 * Rules as the functions use them: fetched from a {@link RuleSource}, validated by the core, cached
 * for a configurable lifetime (an edit is picked up within it), and robust to a bad edit: a rule
 * that fails validation is reported with its source and id, and the last good version of that rule
 * (or of the whole document, if it no longer parses as YAML) stays in force. One broken rule never
 * switches off alerting for the others.
 */
import type { Clock } from '../../core/model/index.ts';
import { parseRule, parseRules, parseYamlText, RuleIndex, type Rule } from '../../core/rules/index.ts';
import type { RuleDocument, RuleSource } from './sources.ts';
import { TransientError } from '../../core/errors/index.ts';

/** A rule (or document) that could not be used, with where it came from. */
export interface RuleProblem {
  readonly source: string;
  readonly origin: string;
  /** The rule id when known. */
  readonly ruleId?: string;
  readonly message: string;
  /** What is used instead: the last good version, or nothing. */
  readonly fallback: 'last-good' | 'none';
  readonly error: unknown;
}

/** Thrown when the source cannot be read and no rules were ever loaded (transient: retry the batch). */
export class RulesUnavailableError extends TransientError {}

/** Options of {@link CachedRules}. */
export interface CachedRulesOptions {
  readonly source: RuleSource;
  /** How long fetched rules are used before the source is read again (ms). */
  readonly ttlMs: number;
  readonly clock: Clock;
  /** Called for every rule or document that fails validation (log it). */
  readonly onProblem?: (p: RuleProblem) => void;
  /** Called when the source is unreachable and the cached rules are kept. */
  readonly onStale?: (err: unknown) => void;
  /** After a failed fetch with rules cached, wait this long before trying again (ms; default min(ttl, 10 s)). */
  readonly retryAfterMs?: number;
}

function ruleIdOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** The cached, validated rule set of one source. */
export class CachedRules {
  private index: RuleIndex | undefined;
  private loadedAt = -Infinity;
  private nextFetchAt = -Infinity;
  private inflight: Promise<RuleIndex> | undefined;
  /** Last good rules per origin, by rule id. */
  private lastGood = new Map<string, Map<string, Rule>>();

  constructor(private readonly opts: CachedRulesOptions) {}

  /** When the rules in use were fetched (epoch ms), or -Infinity. */
  get fetchedAtMs(): number {
    return this.loadedAt;
  }

  /** The current rule index, fetching the source when the cache lifetime has passed. */
  async current(): Promise<RuleIndex> {
    const now = this.opts.clock.now();
    if (this.index && now < this.nextFetchAt) return this.index;
    this.inflight ??= this.refresh(now).finally(() => {
      this.inflight = undefined;
    });
    return await this.inflight;
  }

  /** Drops the cache so the next call fetches. */
  invalidate(): void {
    this.nextFetchAt = -Infinity;
  }

  private async refresh(now: number): Promise<RuleIndex> {
    let docs: RuleDocument[];
    try {
      docs = await this.opts.source.fetch();
    } catch (err) {
      if (!this.index) throw new RulesUnavailableError(`rules source ${this.opts.source.name} unavailable`, { cause: err });
      // Keep alerting on the rules we have; try again soon rather than on every batch.
      this.opts.onStale?.(err);
      this.nextFetchAt = now + (this.opts.retryAfterMs ?? Math.min(this.opts.ttlMs, 10_000));
      return this.index;
    }
    const next = new Map<string, Map<string, Rule>>();
    for (const doc of docs) next.set(doc.origin, this.parseDocument(doc));
    this.lastGood = next;
    const byId = new Map<string, Rule>();
    for (const [origin, rules] of next) {
      for (const [id, rule] of rules) {
        if (byId.has(id)) {
          this.problem({ origin, ruleId: id, message: `duplicate rule id '${id}' (first definition kept)`, fallback: 'none', error: undefined });
          continue;
        }
        byId.set(id, rule);
      }
    }
    this.index = new RuleIndex([...byId.values()]);
    this.loadedAt = now;
    this.nextFetchAt = now + this.opts.ttlMs;
    return this.index;
  }

  private problem(p: Omit<RuleProblem, 'source'>): void {
    this.opts.onProblem?.({ source: this.opts.source.name, ...p });
  }

  private parseDocument(doc: RuleDocument): Map<string, Rule> {
    const previous = this.lastGood.get(doc.origin) ?? new Map<string, Rule>();
    const out = new Map<string, Rule>();
    if (doc.kind === 'document') {
      try {
        for (const r of parseRules(doc.text, doc.origin)) out.set(r.id, r);
        return out;
      } catch (err) {
        // Salvage rule by rule below; the document as a whole failed.
        let entries: unknown[];
        try {
          const parsed = parseYamlText(doc.text, doc.origin) as { rules?: unknown } | null;
          if (!Array.isArray(parsed?.rules)) throw err;
          entries = parsed.rules;
        } catch (yamlErr) {
          this.problem({ origin: doc.origin, message: (yamlErr as Error).message, fallback: previous.size ? 'last-good' : 'none', error: yamlErr });
          return previous;
        }
        for (const entry of entries) this.salvage(doc.origin, entry, previous, out);
        return out;
      }
    }
    let value: unknown;
    try {
      value = parseYamlText(doc.text, doc.origin);
    } catch (err) {
      this.problem({ origin: doc.origin, message: (err as Error).message, fallback: previous.size ? 'last-good' : 'none', error: err });
      return previous;
    }
    this.salvage(doc.origin, value, previous, out);
    return out;
  }

  private salvage(origin: string, value: unknown, previous: Map<string, Rule>, out: Map<string, Rule>): void {
    try {
      const r = parseRule(value, origin);
      out.set(r.id, r);
    } catch (err) {
      const id = ruleIdOf(value);
      const old = id !== undefined ? previous.get(id) : undefined;
      this.problem({ origin, ...(id !== undefined ? { ruleId: id } : {}), message: (err as Error).message, fallback: old ? 'last-good' : 'none', error: err });
      if (old && id !== undefined) out.set(id, old);
    }
  }
}
