/**
 * `klaxon routes import`: an Alertmanager configuration becomes a routes file Klaxon accepts and
 * routes the same way (Alertmanager's routing: first matching child, inherited receivers,
 * continue), with what was left behind listed and no secret copied.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { importAlertmanager } from '../../shared/core/dispatch/route/import-alertmanager.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { routeAlert } from '../../shared/core/dispatch/route/routing.ts';
import type { Severity } from '../../shared/core/model/index.ts';
import { run } from '../../cli/routes.ts';
import { EXIT } from '../../cli/index.ts';
import { captureIo } from '../support/cli-io.ts';

const FIXTURE = new URL('../fixtures/alertmanager/alertmanager.yml', import.meta.url).pathname;
const text = readFileSync(FIXTURE, 'utf8');
const imported = importAlertmanager(parseYaml(text));
const config = compileRoutes(imported.document, 'imported');

describe('routes import (Alertmanager → Klaxon)', () => {
  it('produces a document Klaxon accepts, with the receivers it could convert', () => {
    expect(imported.document.receiver).toBe('team-X-mails');
    expect(imported.document.receivers).toEqual([
      { name: 'team-X-mails', email: { to: ['team-X+alerts@example.org', 'team-X+alerts-critical@example.org'] } },
      { name: 'team-X-pager', email: { to: ['team-X+alerts-critical@example.org'] }, pagerduty: { routingKey: 'team-X-pager' } },
      { name: 'team-Y-mails', email: { to: ['team-Y+alerts@example.org'] } },
      { name: 'team-Y-pager', pagerduty: { routingKey: 'team-Y-pager' } },
      { name: 'team-DB-pager', pagerduty: { routingKey: 'team-DB-pager' } },
      { name: 'chat_ops', slack: { channel: 'ops' } },
    ]);
  });

  // Klaxon gives routes the alert's severity as its `severity` label (critical, high, medium, low).
  it.each<[string, Record<string, string>, Severity, string[]]>([
    // the root's receiver when nothing matches
    ['nothing matches', { service: 'other' }, 'critical', ['team-X-mails']],
    // a matching parent without a matching child handles it itself
    ['foo1, not critical', { service: 'foo1' }, 'high', ['team-X-mails']],
    ['foo1, critical', { service: 'foo1' }, 'critical', ['team-X-pager']],
    // legacy match / match_re
    ['files, critical', { service: 'files' }, 'critical', ['team-Y-pager']],
    ['files, medium', { service: 'files' }, 'medium', ['team-Y-mails']],
    // continue: true on the first child lets the next sibling match too
    ['database, owner X', { service: 'database', owner: 'team-X' }, 'critical', ['team-X-pager']],
    ['database, owner Y', { service: 'database', owner: 'team-Y' }, 'critical', ['team-Y-pager']],
    ['database, no owner', { service: 'database' }, 'critical', ['team-DB-pager']],
    // a renamed receiver
    ['chat ops', { team: 'chat ops' }, 'low', ['chat_ops']],
    // a route whose receiver could not be converted keeps its parent's (the root's)
    ['hooks', { team: 'hooks' }, 'high', ['team-X-mails']],
  ])('routes %s as Alertmanager does', (_what, labels, severity, receivers) => {
    expect(routeAlert(labels, severity, config).receivers).toEqual(receivers);
  });

  it('converts an https webhook_config to a webhook receiver in Alertmanager format, its signing secret listed; Klaxon compiles it', () => {
    const am = { route: { receiver: 'hook' }, receivers: [{ name: 'hook', webhook_configs: [{ url: 'https://tool.example.com/am', max_alerts: 500, http_config: {} }] }] };
    const r = importAlertmanager(am);
    expect(r.document.receivers).toEqual([{ name: 'hook', webhook: { url: 'https://tool.example.com/am', format: 'alertmanager', max_alerts: 100 } }]);
    expect(r.secrets).toEqual([expect.stringMatching(/^Webhooks secret: hook = \{ "secrets": \["whsec_\.\.\."\] \}/)]);
    expect(r.notConverted.join('\n')).toMatch(/webhook_configs\[0\]: http_config not converted[\s\S]*max_alerts: 500 is now 100/);
    expect(compileRoutes(r.document, 'imported').receivers.get('hook')!.webhook).toMatchObject({ format: 'alertmanager', maxAlerts: 100, secretKey: 'hook' });
  });

  it('converts inhibit rules, the legacy match forms included, and Klaxon compiles them', () => {
    const am = { route: { receiver: 'a' }, receivers: [{ name: 'a', email_configs: [{ to: 'a@example.org' }] }], inhibit_rules: [{ source_match: { severity: 'critical' }, target_match_re: { severity: 'high|medium' }, equal: ['cluster', 'alertname'] }] };
    const r = importAlertmanager(am);
    expect(r.document.inhibit_rules).toEqual([{ source_matchers: ['severity="critical"'], target_matchers: ['severity=~"high|medium"'], equal: ['cluster', 'alertname'] }]);
    expect(compileRoutes(r.document, 'imported').inhibitRules).toHaveLength(1);
  });

  it('lists what it left behind, and the secrets to create instead of copying them', () => {
    const nc = imported.notConverted.join('\n');
    for (const expected of [
      'templates: not converted',
      // the fixture's inhibit rule mutes `severity="warning"`: said, not silently dead
      'inhibit_rules[0]: severity="warning" never matches in Klaxon',
      "receivers[5].name: 'chat ops' is now 'chat_ops'",
      'receivers[5].slack_configs[0]: title not converted',
      'receivers[4].pagerduty_configs[0]: description not converted',
      // plain http to another host: Klaxon sends https only
      'receivers[6].webhook_configs[0].url: Klaxon sends webhooks over https only',
      "receivers[6]: no Slack, email, PagerDuty or webhook destination; receiver 'hooks-only' left out",
      "route.routes[4].receiver: 'hooks-only' was not converted",
      'global: not converted',
      // Alertmanager's `warning` is not a Klaxon severity: said, not silently dead
      'route.routes[0].routes[1].matchers: severity="warning" never matches in Klaxon (its severities are critical, high, medium, low)',
    ]) expect(nc).toContain(expected);
    expect(imported.secrets).toEqual([
      'PagerDuty secret: team-X-pager = the routing key of receivers[1].pagerduty_configs[0]',
      'PagerDuty secret: team-Y-pager = the routing key of receivers[3].pagerduty_configs[0] (a service_key is an Events API v1 key: use an Events API v2 integration key)',
      'PagerDuty secret: team-DB-pager = the routing key of receivers[4].pagerduty_configs[0]',
    ]);
    // No key, URL or address of the global section reaches the document.
    const out = JSON.stringify(imported.document);
    for (const secret of ['0123456789abcdef0123456789abcdef', 'fedcba9876543210', 'hooks.slack.com', 'smtp']) expect(out).not.toContain(secret);
  });

  it('converts grouping: the fixture keeps its group_by and timing, and Klaxon compiles them', () => {
    expect(imported.document).toMatchObject({ group_by: ['alertname', 'cluster', 'service'], group_wait: '30s', group_interval: '5m', repeat_interval: '3h' });
    expect(config.root.groupBy).toEqual(['alertname', 'cluster', 'service']);
    expect(config.root.timing).toEqual({ waitMs: 30_000, intervalMs: 300_000, repeatMs: 3 * 3_600_000 });
    expect(imported.notConverted.join('\n')).not.toContain('group_by');
    expect(imported.notes).toEqual([]);
  });

  it('converts time intervals (both top-level keys) and the routes naming them; the result compiles and mutes as Alertmanager would', () => {
    const am = {
      route: {
        receiver: 'a',
        mute_time_intervals: ['weekends'],
        routes: [
          { matchers: ['team="db"'], receiver: 'a', group_by: ['...'], mute_time_intervals: ['weekends', 'holidays'], active_time_intervals: ['business-hours'], repeat_interval: '30d' },
          { matchers: ['team="web"'], group_wait: '10s', mute_time_intervals: ['broken'] },
        ],
      },
      receivers: [{ name: 'a', email_configs: [{ to: 'a@example.org' }] }],
      time_intervals: [
        { name: 'business-hours', time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'], location: 'Europe/Berlin' }] },
        { name: 'broken', time_intervals: [{ weekdays: ['funday'] }] },
      ],
      mute_time_intervals: [{ name: 'weekends', time_intervals: [{ weekdays: ['saturday', 'sunday'] }] }],
    };
    const r = importAlertmanager(am);
    expect(r.document.time_intervals?.map((i) => i.name)).toEqual(['business-hours', 'weekends']);
    expect(r.document.routes).toEqual([
      { matchers: ['team="db"'], receivers: ['a'], group_by: ['...'], mute_time_intervals: ['weekends'], active_time_intervals: ['business-hours'] },
      { matchers: ['team="web"'], group_wait: '10s' },
    ]);
    // no group_by on the root: Alertmanager's one group per route, kept, and said
    expect(r.document.group_by).toEqual([]);
    expect(r.notes.join('\n')).toContain('route.group_by: absent');
    const nc = r.notConverted.join('\n');
    for (const expected of [
      'route.mute_time_intervals: not converted (the root route cannot have time intervals',
      'route.routes[0].mute_time_intervals: "holidays" is not a converted time interval; left out',
      'route.routes[0].repeat_interval: "30d" not converted (30d is out of range (1s to 7d))',
      "time_intervals[1].time_intervals[0].weekdays[0]: 'funday' is not a weekday; interval 'broken' not converted",
      'route.routes[1].mute_time_intervals: "broken" is not a converted time interval',
    ]) expect(nc).toContain(expected);
    const c = compileRoutes(r.document, 'imported');
    expect(c.root.groupBy).toEqual([]);
    expect(c.root.routes[0]!.muteTimeIntervals).toEqual(['weekends']);
    expect(c.root.routes[0]!.activeTimeIntervals).toEqual(['business-hours']);
    expect(c.timeIntervals?.get('business-hours')?.entries[0]?.location).toBe('Europe/Berlin');
  });

  it.each<[string, string, RegExp]>([
    ['no route', 'receivers: []\n', /no `route` section/],
    ['not YAML', 'route: [\n', /Flow sequence|Unexpected|Missing/i],
  ])('exits 1 on %s', async (_what, body, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'am-import-'));
    const f = join(dir, 'am.yml');
    writeFileSync(f, body);
    const c = captureIo();
    expect(await run(['import', f], c.io)).toBe(EXIT.failed);
    expect(c.err()).toMatch(message);
  });

  it('writes the routes file with --out and reports on stderr; the file loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'am-import-'));
    const out = join(dir, 'routes.yaml');
    const c = captureIo();
    expect(await run(['import', FIXTURE, '--out', out], c.io)).toBe(EXIT.ok);
    expect(c.err()).toContain('secrets to create');
    expect(c.err()).toContain('not converted:');
    const written = readFileSync(out, 'utf8');
    expect(written).toMatch(/^# Converted from /);
    expect(compileRoutes(parseYaml(written), out).root.routes).toHaveLength(5);
  });
});
