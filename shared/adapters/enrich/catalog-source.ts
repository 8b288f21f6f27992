/**
 * Where the service catalog comes from (shared/core/enrich/catalog.ts): a YAML document in an SSM
 * parameter (the CDK app creates it from the deployment's catalog file, like the routes), a file
 * (local mode), or the items of a DynamoDB table (one item per entry, the entry's fields as
 * attributes: `match` a map, `links` a list). Cached for a TTL with last-good semantics
 * (shared/adapters/cache/last-good-cache.ts): a bad edit keeps the last good catalog and is
 * reported. Unlike routes, a catalog that cannot be read at all does not fail the function's
 * init: notifications go without owners ("catalog unavailable") rather than not at all.
 */
import { readFile } from 'node:fs/promises';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CATALOG_BOUNDS, CatalogError, catalogFromText, compileCatalogEntries, EMPTY_CATALOG, type Catalog } from '../../core/enrich/catalog.ts';
import type { CatalogSource } from '../../core/enrich/enrich.ts';
import type { Clock } from '../../core/model/index.ts';
import type { CatalogLocation } from '../../config/enrich.ts';
import { LastGoodCache } from '../cache/last-good-cache.ts';

/** How long a loaded catalog is used before it is read again. */
export const CATALOG_CACHE_TTL_MS = 60_000;

/** Reads a catalog file. @throws CatalogError (also for a missing file) */
export async function loadCatalogFile(path: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CatalogError(path, [`cannot read: ${(cause as Error).message}`], { cause });
  }
  return catalogFromText(text, path);
}

/** Reads the catalog YAML of an SSM parameter. */
export async function loadCatalogParameter(ssm: SSMClient, name: string): Promise<Catalog> {
  const r = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  return catalogFromText(r.Parameter?.Value ?? '', `ssm:${name}`);
}

/** Reads every item of a catalog table (at most {@link CATALOG_BOUNDS.entries}; more is an error, not a silent cut). */
export async function loadCatalogTable(dynamodb: DynamoDBClient, table: string): Promise<Catalog> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
    for (const i of r.Items ?? []) items.push(unmarshall(i));
    if (items.length > CATALOG_BOUNDS.entries) throw new CatalogError(`dynamodb:${table}`, [`more than ${CATALOG_BOUNDS.entries} entries`]);
    start = r.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start);
  // Items are named by their key `id` (not a field of an entry), and ordered by it: ties of equal specificity go to the smaller id.
  items.sort((a, b) => String(a.id).localeCompare(String(b.id)));
  return compileCatalogEntries(
    items.map(({ id: _id, ...entry }) => entry),
    `dynamodb:${table}`,
    (i) => `item ${String(items[i]?.id)}`,
  );
}

/** The catalog source of a location, cached with last-good semantics. */
export function catalogSource(loc: CatalogLocation, clock: Clock, onStale: (err: unknown) => void, clients: { dynamodb?: DynamoDBClient; ssm?: SSMClient } = {}, ttlMs = CATALOG_CACHE_TTL_MS): CatalogSource {
  if (loc.kind === 'none') return { current: () => Promise.resolve(EMPTY_CATALOG) };
  const ssm = loc.kind === 'ssm' ? (clients.ssm ?? new SSMClient({})) : undefined;
  const load = (): Promise<Catalog> => {
    if (loc.kind === 'file') return loadCatalogFile(loc.path);
    if (loc.kind === 'ssm') return loadCatalogParameter(ssm!, loc.name);
    if (!clients.dynamodb) throw new Error('a catalog table needs a DynamoDB client');
    return loadCatalogTable(clients.dynamodb, loc.table);
  };
  const cache = new LastGoodCache<Catalog>({ load, clock, ttlMs, onStale });
  return { current: () => cache.get() };
}
