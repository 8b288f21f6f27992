/**
 * The service catalog (docs/enrichment.md, "Catalog"): owner, team, on-call contact, runbook and
 * extra links per service or instance, keyed by label values. One YAML document (an SSM parameter,
 * a file in local mode) or items of the `catalog` table, both validated here.
 *
 * ```yaml
 * entries:
 *   - match: { service: checkout }
 *     owner: Alice Example
 *     team: payments
 *     on_call: "@payments-oncall"
 *     runbook: https://runbooks.example.com/checkout
 *     links:
 *       - { text: Service page, url: "https://backstage.example.com/catalog/{{labels.service}}" }
 *   - match: { service: checkout, instance: checkout-canary }
 *     owner: Bob Example
 * ```
 *
 * Matching: an entry matches when every label of its `match` has exactly that value on the alert
 * (exact strings: no regular expressions, so nothing user-written runs against alert text). The
 * most specific match wins: the entry with the most `match` labels; among equally specific
 * entries the first in the document. Fields the winner lacks are taken from the next matching
 * entries in the same order (a canary entry that only names its owner keeps the service's runbook).
 * An entry with `match: {}` matches every alert: the catalog's default.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PermanentError } from '../errors/index.ts';
import type { Labels } from '../model/index.ts';
import { LINK_TEMPLATE_BOUNDS, LinkTemplateSchema, type LinkTemplate } from './links.ts';

/** Bounds of a catalog (it is read on every notification: a few hundred services, not a CMDB). */
export const CATALOG_BOUNDS = { entries: 2000, matchLabels: 10, text: 200, linksPerEntry: 10 } as const;

/** A catalog that cannot be used: every problem named with its entry and field. */
export class CatalogError extends PermanentError {
  override name = 'CatalogError';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid catalog (${source}): ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; …and ${problems.length - 10} more` : ''}`, options);
    this.problems = problems;
  }
}

const text = z.string().trim().min(1).max(CATALOG_BOUNDS.text);
const httpUrl = z
  .string()
  .max(LINK_TEMPLATE_BOUNDS.url)
  .refine((u) => /^https?:\/\/[^\s]+$/i.test(u), { message: 'must be an absolute http(s) URL' });

/** One entry as written in the document (snake_case keys). */
export const CatalogEntrySchema = z
  .object({
    match: z
      .record(z.string().min(1).max(CATALOG_BOUNDS.text), z.string().max(CATALOG_BOUNDS.text))
      .refine((m) => Object.keys(m).length <= CATALOG_BOUNDS.matchLabels, { message: `at most ${CATALOG_BOUNDS.matchLabels} labels` }),
    owner: text.optional(),
    team: text.optional(),
    on_call: text.optional(),
    runbook: httpUrl.optional(),
    links: z.array(LinkTemplateSchema).max(CATALOG_BOUNDS.linksPerEntry).optional(),
  })
  .strict();

const CatalogDocSchema = z.object({ entries: z.array(z.unknown()).max(CATALOG_BOUNDS.entries) }).strict();

/** One catalog entry. */
export interface CatalogEntry {
  readonly match: Readonly<Record<string, string>>;
  readonly owner?: string;
  readonly team?: string;
  readonly onCall?: string;
  readonly runbook?: string;
  readonly links: readonly LinkTemplate[];
}

/** A validated catalog. */
export interface Catalog {
  /** Where it came from (`ssm:/klaxon/catalog`, a file, `dynamodb:<table>`). */
  readonly source: string;
  readonly entries: readonly CatalogEntry[];
}

/** The empty catalog (no catalog configured). */
export const EMPTY_CATALOG: Catalog = { source: 'none', entries: [] };

/** `entries[3] (service=checkout)`: how a problem names its entry. */
function entryName(i: number, raw: unknown): string {
  const m = (raw as { match?: unknown } | null)?.match;
  const labels = m && typeof m === 'object' ? Object.entries(m as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(',') : '';
  return `entries[${i}]${labels ? ` (${labels.slice(0, 80)})` : ''}`;
}

/** Validates one raw entry; problems are prefixed with `name`. */
export function parseCatalogEntry(raw: unknown, name: string): { ok: true; entry: CatalogEntry } | { ok: false; problems: string[] } {
  const r = CatalogEntrySchema.safeParse(raw);
  if (!r.success) return { ok: false, problems: r.error.issues.map((i) => `${name}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`) };
  const e = r.data;
  return {
    ok: true,
    entry: {
      match: e.match,
      ...(e.owner ? { owner: e.owner } : {}),
      ...(e.team ? { team: e.team } : {}),
      ...(e.on_call ? { onCall: e.on_call } : {}),
      ...(e.runbook ? { runbook: e.runbook } : {}),
      links: e.links ?? [],
    },
  };
}

/** Validates a parsed document. @throws CatalogError naming every bad entry and field */
export function compileCatalog(doc: unknown, source: string): Catalog {
  if (doc === null || doc === undefined) return { source, entries: [] };
  const top = CatalogDocSchema.safeParse(doc);
  if (!top.success) throw new CatalogError(source, top.error.issues.map((i) => `${i.path.join('.') || 'document'}: ${i.message}`));
  return compileCatalogEntries(top.data.entries, source, entryName);
}

/** Validates raw entries (a document's list or table items). @throws CatalogError */
export function compileCatalogEntries(raw: readonly unknown[], source: string, name: (i: number, raw: unknown) => string = entryName): Catalog {
  const problems: string[] = [];
  const entries: CatalogEntry[] = [];
  raw.forEach((r, i) => {
    const p = parseCatalogEntry(r, name(i, r));
    if (p.ok) entries.push(p.entry);
    else problems.push(...p.problems);
  });
  if (problems.length) throw new CatalogError(source, problems);
  return { source, entries };
}

/** Parses and validates a catalog YAML document. @throws CatalogError */
export function catalogFromText(text: string, source: string): Catalog {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new CatalogError(source, [`not valid YAML: ${(cause as Error).message}`], { cause });
  }
  return compileCatalog(doc, source);
}

/** What the catalog says about one alert (the merged fields of its matching entries). */
export interface CatalogMatch {
  readonly owner?: string;
  readonly team?: string;
  readonly onCall?: string;
  readonly runbook?: string;
  /** Link templates of every matching entry, most specific first. */
  readonly links: readonly LinkTemplate[];
}

/**
 * The catalog's view of an alert with these labels: the matching entries ordered most specific
 * first (ties: document order), each field from the first that has it; undefined when none matches.
 */
export function matchCatalog(catalog: Catalog, labels: Labels): CatalogMatch | undefined {
  const hits = catalog.entries
    .map((e, i) => ({ e, i, n: Object.keys(e.match).length }))
    .filter(({ e }) => Object.entries(e.match).every(([k, v]) => labels[k] === v))
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .map(({ e }) => e);
  if (!hits.length) return undefined;
  const first = <K extends 'owner' | 'team' | 'onCall' | 'runbook'>(k: K): Record<K, string> | Record<string, never> => {
    const v = hits.find((h) => h[k] !== undefined)?.[k];
    return v !== undefined ? ({ [k]: v } as Record<K, string>) : {};
  };
  return { ...first('owner'), ...first('team'), ...first('onCall'), ...first('runbook'), links: hits.flatMap((h) => h.links) };
}
