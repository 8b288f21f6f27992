/**
 * The local console's analytics view (local/console/analytics.ts; docs/local.md): `/api/analytics`
 * answers `klaxon report`'s figures from the history table on DynamoDB Local over a period ending
 * at the pipeline's clock, with the alerts fired per hour and severity; bad parameters are a 400
 * naming them; the page renders in Chromium with everything from the history as text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startConsole, type ConsoleServer } from '../../local/console/server.ts';
import { analyticsOf, chartLibraryFile, type AnalyticsView } from '../../local/console/analytics.ts';
import type { ConsoleSnapshot } from '../../local/console/observer.ts';
import { DynamoHistoryStore } from '../../shared/adapters/dynamodb/history-store.ts';
import type { HistoryEvent } from '../../shared/core/history/types.ts';
import { provisionFresh } from '../support/aws.ts';

const MIN = 60_000;
const H = 60 * MIN;
/** The pipeline's clock: 2027-01-04 12:30 UTC. */
const NOW = Date.UTC(2027, 0, 4, 12, 30);
const HOSTILE = '<img src=x onerror="window.pwned=1">';
const base = { team: 'web', severity: 'high' as const };
const HISTORY: HistoryEvent[] = [
  // 10:05: cpu_high fires, acknowledged after 3 min, resolved after 20 min.
  { ...base, id: 'f1', kind: 'fired', atMs: NOW - 2 * H - 25 * MIN, firedAtMs: NOW - 2 * H - 25 * MIN, fingerprint: 'a', ruleId: 'cpu_high' },
  { ...base, id: 'k1', kind: 'acknowledged', atMs: NOW - 2 * H - 22 * MIN, firedAtMs: NOW - 2 * H - 25 * MIN, fingerprint: 'a', ruleId: 'cpu_high', by: 'U1' },
  { ...base, id: 'r1', kind: 'resolved', atMs: NOW - 2 * H - 5 * MIN, firedAtMs: NOW - 2 * H - 25 * MIN, fingerprint: 'a', ruleId: 'cpu_high' },
  // 12:10: a rule whose id is markup fires (critical), notified on Slack.
  { ...base, severity: 'critical', id: 'f2', kind: 'fired', atMs: NOW - 20 * MIN, firedAtMs: NOW - 20 * MIN, fingerprint: 'b', ruleId: HOSTILE },
  { ...base, severity: 'critical', id: 'n2', kind: 'notified', atMs: NOW - 20 * MIN, firedAtMs: NOW - 20 * MIN, fingerprint: 'b', ruleId: HOSTILE, channel: 'slack', receiver: 'web' },
  // Two days ago: outside a 24-hour period and the one before it.
  { ...base, id: 'old', kind: 'fired', atMs: NOW - 50 * H, firedAtMs: NOW - 50 * H, fingerprint: 'c', ruleId: 'cpu_high' },
];

let server: ConsoleServer;
let charts: boolean;

beforeAll(async () => {
  const p = await provisionFresh();
  const store = new DynamoHistoryStore({ client: p.dynamodb, table: p.tables.history });
  await store.record(HISTORY);
  charts = (await chartLibraryFile()) !== undefined;
  server = await startConsole({ port: 0, snapshot: async () => ({}) as ConsoleSnapshot, analytics: analyticsOf(store, { now: () => NOW }, charts) });
});
afterAll(async () => server.stop());

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};

describe('console analytics API', () => {
  it('reports the last 24 hours on the pipeline clock, with the alerts fired per hour and severity', async () => {
    const r = await get('/api/analytics?since=24h');
    expect(r.status).toBe(200);
    const v = JSON.parse(r.text) as AnalyticsView;
    expect(v.report.period).toEqual({ fromMs: NOW - 24 * H, toMs: NOW });
    // f1 and f2; f1 acknowledged after 3 min and resolved after 20 min.
    expect(v.report.headline).toEqual({ fired: 2, acknowledged: 1, resolved: 1, notifications: 1, suppressed: 0, escalations: 0, mttaMs: 3 * MIN, mttrMs: 20 * MIN });
    // `old` is 50 h back: not in the period before either (24-48 h back).
    expect(v.report.previousHeadline.fired).toBe(0);
    // Hourly buckets from 12:00 the day before (the period's start aligned on the hour) to now: 25 bars.
    expect(v.overTime.bucketMs).toBe(H);
    expect(v.overTime.starts).toHaveLength(25);
    expect(v.overTime.starts[0]).toBe(NOW - 24 * H - 30 * MIN);
    // f1 at 10:05 is in bar 22 (10:00), f2 at 12:10 in bar 24 (12:00).
    expect(v.overTime.bySeverity.high.flatMap((n, i) => (n ? [[i, n]] : []))).toEqual([[22, 1]]);
    expect(v.overTime.bySeverity.critical.flatMap((n, i) => (n ? [[i, n]] : []))).toEqual([[24, 1]]);
    expect(v.charts).toBe(charts);
  });

  it('filters by rule and team', async () => {
    const rule = JSON.parse((await get('/api/analytics?since=24h&rule=cpu_high')).text) as AnalyticsView;
    expect(rule.report.headline.fired).toBe(1);
    const team = JSON.parse((await get('/api/analytics?since=24h&team=db')).text) as AnalyticsView;
    expect(team.report.headline.fired).toBe(0);
    // 3 days reach `old` (50 h back).
    const days = JSON.parse((await get('/api/analytics?since=3d&rule=cpu_high')).text) as AnalyticsView;
    expect(days.report.headline.fired).toBe(2);
  });

  it.each([
    // not a duration
    ['since=yesterday', 'since'],
    // longer than the view's bound
    ['since=400d', 'since'],
    // a filter longer than any label value the view accepts
    [`rule=${'x'.repeat(300)}`, 'rule'],
  ])('refuses %s with a 400 naming %s', async (query, param) => {
    const r = await get(`/api/analytics?${query}`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ param });
  });

  it('serves the page, linked from the console, and the charting library only when it is installed', async () => {
    const page = await get('/analytics');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.text).toContain('<canvas id="over-time">');
    expect(page.text).toContain('src="/vendor/chart.js"');
    expect((await get('/')).text).toContain('href="/analytics"');
    const lib = await get('/vendor/chart.js');
    expect(lib.status).toBe(charts ? 200 : 404);
    if (!charts) expect(lib.text).toContain('npm install chart.js');
  });

  it('answers 404 for the API when the console has no history', async () => {
    const bare = await startConsole({ port: 0, snapshot: async () => ({}) as ConsoleSnapshot });
    try {
      expect((await fetch(`${bare.url}/api/analytics`)).status).toBe(404);
    } finally {
      await bare.stop();
    }
  });
});

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

describe('console analytics page', () => {
  const title = 'renders the figures, with a rule id made of markup shown as text';
  it.skipIf(!hasChromium)(hasChromium ? title : `${title} (skipped: no Chromium at ${CHROMIUM})`, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/analytics`);
      await page.selectOption('select[name=since]', '24h');
      await page.click('#filters button');
      await page.waitForFunction("document.querySelectorAll('#by-rule tbody tr').length === 2");
      const rules = await page.$$eval('#by-rule tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
      // Both fired once; the markup rule has the notification: first.
      expect(rules).toEqual([HOSTILE, 'cpu_high']);
      expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
      expect(await page.$$eval('#by-rule img', (imgs) => imgs.length)).toBe(0);
      // The headline: 2 alerts fired, MTTA 3m.
      const headline = await page.$eval('#headline', (e) => e.textContent ?? '');
      expect(headline).toContain('2alerts fired');
      expect(headline).toContain('3mMTTA');
      // Without Chart.js the alerts over time are a table of the busy hours.
      if (!charts) expect(await page.$$eval('#over-time-table tbody tr', (trs) => trs.length)).toBe(2);
    } finally {
      await browser.close();
    }
  });
});
