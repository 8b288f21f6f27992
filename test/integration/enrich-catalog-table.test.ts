/**
 * The catalog as items of the `catalog` table (enrichment.catalogSource: dynamodb) on DynamoDB
 * Local: read, validated with the item named, matched, and a bad edit keeps the last good catalog.
 */
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogSource, loadCatalogTable } from '../../shared/adapters/enrich/catalog-source.ts';
import { CatalogError, matchCatalog } from '../../shared/core/enrich/catalog.ts';
import { provisionFresh } from '../support/aws.ts';
import { T0, TestClock } from './deliver-fixtures.ts';

let p: Awaited<ReturnType<typeof provisionFresh>>;
let doc: DynamoDBDocumentClient;
const put = (item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: p.tables.catalog, Item: item }));

beforeAll(async () => {
  p = await provisionFresh();
  doc = DynamoDBDocumentClient.from(p.dynamodb);
  await put({ id: '10-checkout', match: { service: 'checkout' }, owner: 'Priya', team: 'payments', runbook: 'https://runbooks.example.com/checkout' });
  await put({ id: '20-canary', match: { service: 'checkout', instance: 'canary-1' }, owner: 'Bob', links: [{ text: 'Canary', url: 'https://deploy.example.com/{{labels.instance}}' }] });
  await put({ id: '00-default', match: {}, team: 'platform' });
}, 60_000);

describe('the catalog table', () => {
  it('reads every item; the most specific wins, fields fall through', async () => {
    const cat = await loadCatalogTable(p.dynamodb, p.tables.catalog);
    expect(cat.entries).toHaveLength(3);
    expect(matchCatalog(cat, { service: 'checkout', instance: 'canary-1' })).toMatchObject({ owner: 'Bob', team: 'payments', runbook: 'https://runbooks.example.com/checkout' });
    expect(matchCatalog(cat, { service: 'search' })).toMatchObject({ team: 'platform' });
  });

  it('a bad edit names the item, and the channel keeps serving the last good catalog', async () => {
    const clock = new TestClock(T0);
    const stale: unknown[] = [];
    const source = catalogSource({ kind: 'table', table: p.tables.catalog }, clock, (err) => stale.push(err), { dynamodb: p.dynamodb }, 60_000);
    expect((await source.current()).entries).toHaveLength(3);
    await put({ id: '30-bad', match: { service: 'x' }, runbook: 'javascript:alert(1)' });
    await expect(loadCatalogTable(p.dynamodb, p.tables.catalog)).rejects.toThrow(CatalogError);
    await expect(loadCatalogTable(p.dynamodb, p.tables.catalog)).rejects.toThrow('item 30-bad.runbook: must be an absolute http(s) URL');
    clock.advance(61_000);
    expect((await source.current()).entries).toHaveLength(3);
    expect(stale).toHaveLength(1);
  });
});
