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

  it('converts inhibit rules, the legacy match forms included, and Klaxon compiles them', () => {
    const am = { route: { receiver: 'a' }, receivers: [{ name: 'a', email_configs: [{ to: 'a@example.org' }] }], inhibit_rules: [{ source_match: { severity: 'critical' }, target_match_re: { severity: 'high|medium' }, equal: ['cluster', 'alertname'] }] };
    const r = importAlertmanager(am);
    expect(r.document.inhibit_rules).toEqual([{ source_matchers: ['severity="critical"'], target_matchers: ['severity=~"high|medium"'], equal: ['cluster', 'alertname'] }]);
    expect(compileRoutes(r.document, 'imported').inhibitRules).toHaveLength(1);
  });

  it('lists what it left behind, and the secrets to create instead of copying them', () => {
    const nc = imported.notConverted.join('\n');
    for (const expected of [
      'route.group_by: not converted yet',
      "route.routes[2].group_by: not converted yet",
      'templates: not converted yet',
      // the fixture's inhibit rule mutes `severity="warning"`: said, not silently dead
      'inhibit_rules[0]: severity="warning" never matches in Klaxon',
      "receivers[5].name: 'chat ops' is now 'chat_ops'",
      'receivers[5].slack_configs[0]: title not converted',
      'receivers[4].pagerduty_configs[0]: description not converted',
      'receivers[6].webhook_configs: Klaxon has no webhook channel',
      "receivers[6]: no Slack, email or PagerDuty destination; receiver 'hooks-only' left out",
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
