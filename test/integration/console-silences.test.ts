/**
 * The local console's silences (docs/local.md, docs/routing.md "Silences"): listed, added and
 * expired through its HTTP API on the local tables (DynamoDB Local), on the pipeline's clock; an
 * invalid silence is a 400 naming the field, with nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type ConsoleServer } from '../../local/console/server.ts';
import { consoleSilences, type ConsoleSilences } from '../../local/console/silences.ts';
import type { ConsoleSnapshot } from '../../local/console/observer.ts';
import { provisionFresh } from '../support/aws.ts';

const NOW = 1_860_000_000_000;
let server: ConsoleServer;
let silences: ConsoleSilences;

beforeAll(async () => {
  const p = await provisionFresh();
  silences = consoleSilences(p.dynamodb, p.tables, { now: () => NOW });
  server = await startConsole({ port: 0, snapshot: async () => ({ silences: await silences.list() }) as unknown as ConsoleSnapshot, silences });
});
afterAll(async () => server.stop());

const post = async (path: string, body: unknown, type = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('console silences', () => {
  it('adds a silence, lists it in the state, and expires it', async () => {
    const added = await post('/api/silences', { matchers: ['instance="db-1"', 'alertname=~"Disk.*"'], duration: '2h', comment: 'disk swap', createdBy: 'ana' });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ startsAtMs: NOW, endsAtMs: NOW + 7_200_000, createdBy: 'ana', matchers: [{ name: 'instance', op: '=', value: 'db-1' }, { name: 'alertname', op: '=~', value: 'Disk.*' }] });
    const state = (await (await fetch(`${server.url}/api/state`)).json()) as { silences: { id: string; state: string }[] };
    expect(state.silences).toEqual([expect.objectContaining({ id: added.json.id, state: 'active' })]);

    const expired = await post(`/api/silences/${String(added.json.id)}/expire`, {});
    expect(expired).toMatchObject({ status: 200, json: { endsAtMs: NOW } });
    expect((await silences.list()).map((s) => s.state)).toEqual(['expired']);
    expect((await post(`/api/silences/${String(added.json.id)}/expire`, {})).status).toBe(409);
    expect((await post('/api/silences/nope/expire', {})).status).toBe(404);
  });

  it.each([
    // [body, field]
    [{ matchers: ['instance="db-1'], duration: '1h', comment: 'x' }, 'matchers[0]'],
    [{ matchers: [], duration: '1h', comment: 'x' }, 'matchers'],
    [{ matchers: ['a=~"("'], duration: '1h', comment: 'x' }, 'matchers[0]'],
    [{ matchers: ['a="b"'], duration: 'soon', comment: 'x' }, 'duration'],
    [{ matchers: ['a="b"'], duration: '1h', comment: '' }, 'comment'],
  ])('refuses %j naming %s, storing nothing', async (body, field) => {
    const before = (await silences.list()).length;
    const r = await post('/api/silences', body);
    expect(r.status).toBe(400);
    expect(r.json.field).toBe(field);
    expect((await silences.list()).length).toBe(before);
  });

  it('takes JSON only (a form post from another page is refused)', async () => {
    expect((await post('/api/silences', {}, 'text/plain')).status).toBe(415);
  });
});
