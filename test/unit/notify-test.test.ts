/**
 * `klaxon notify test`: the dispatch stages on in-memory stores for a set of firing alerts; the
 * `--json` contract (one line per input alert, in input order), inhibition by input index,
 * silences active at `--at`, and input errors naming the file and the line or field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../cli/notify.ts';
import { EXIT } from '../../cli/index.ts';
import { routePosition } from '../../shared/core/dispatch/simulate.ts';
import { captureIo } from '../support/cli-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'notify-test-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const ROUTES = file(
  'routes.yaml',
  `receivers:
  - { name: db-team, slack: { channel: C0DB } }
  - { name: audit, slack: { webhook: audit } }
routes:
  - { matchers: ['env="prod"'], receivers: [audit], continue: true }
  - matchers: ['team="db"']
    receivers: [db-team]
    routes:
      - { matchers: ['tier="batch"'], receivers: [audit] }
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity=~"high|medium"']
    equal: [cluster]
`,
);
const ALERTS = file(
  'alerts.jsonl',
  [
    { alertname: 'NodeDown', severity: 'critical', cluster: 'eu', team: 'db', env: 'prod' },
    { alertname: 'Errors', severity: 'high', cluster: 'eu', team: 'db' },
    { alertname: 'Latency', severity: 'medium', cluster: 'us', team: 'db', tier: 'batch' },
    { alertname: 'Disk', severity: 'low', cluster: 'eu', instance: 'db-1' },
    { alertname: 'NodeDown', severity: 'critical', cluster: 'us', team: 'db' },
  ]
    .map((labels) => JSON.stringify({ labels }))
    .join('\n'),
);
const SILENCES = file(
  'silences.yaml',
  `- { id: s1, matchers: ['instance="db-1"'], comment: maintenance }
- { id: s2, matchers: ['alertname="Errors"'], startsAt: '2030-01-01T00:00:00Z', endsAt: '2030-01-02T00:00:00Z' }
`,
);

async function notify(args: string[]) {
  const c = captureIo();
  const code = await run(['test', ...args], c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('klaxon notify test', () => {
  it('prints one JSON line per input alert, in input order: receivers, silences, inhibiting inputs, groups', async () => {
    const r = await notify(['--routes', ROUTES, '--alerts', ALERTS, '--silences', SILENCES, '--at', '2026-11-29T12:00:00Z', '--json']);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => ({ receivers: l.receivers, silencedBy: l.silencedBy, inhibitedBy: l.inhibitedBy, groups: l.groups }))).toEqual([
      { receivers: ['audit', 'db-team'], silencedBy: [], inhibitedBy: [], groups: [{ receiver: 'audit', route: '0.0', groupLabels: {} }, { receiver: 'db-team', route: '0.1', groupLabels: {} }] },
      // inhibited by input 0 (critical, same cluster); s2 is not active yet
      { receivers: ['db-team'], silencedBy: [], inhibitedBy: [0], groups: [{ receiver: 'db-team', route: '0.1', groupLabels: {} }] },
      // us: inhibited by input 4 (critical in us); a nested route
      { receivers: ['audit'], silencedBy: [], inhibitedBy: [4], groups: [{ receiver: 'audit', route: '0.1.0', groupLabels: {} }] },
      // silenced by s1; routed to the root's receiver
      { receivers: ['default'], silencedBy: ['s1'], inhibitedBy: [], groups: [{ receiver: 'default', route: '0', groupLabels: {} }] },
      { receivers: ['db-team'], silencedBy: [], inhibitedBy: [], groups: [{ receiver: 'db-team', route: '0.1', groupLabels: {} }] },
    ]);
    expect(lines[0]!.labels).toEqual({ alertname: 'NodeDown', severity: 'critical', cluster: 'eu', team: 'db', env: 'prod' });
    expect(Object.keys(lines[0]!)).toEqual(['labels', 'receivers', 'silencedBy', 'mutedBy', 'inhibitedBy', 'groups']);
    expect(lines.map((l) => l.mutedBy)).toEqual([[], [], [], [], []]);
  });

  it('applies a silence at the time given by --at', async () => {
    const r = await notify(['--routes', ROUTES, '--alerts', ALERTS, '--silences', SILENCES, '--at', '2030-01-01T06:00:00Z', '--json']);
    const errors = JSON.parse(r.out.trim().split('\n')[1]!) as { silencedBy: string[] };
    expect(errors.silencedBy).toEqual(['s2']);
  });

  it('prints a readable table without --json', async () => {
    const r = await notify(['--routes', ROUTES, '--alerts', ALERTS, '--at', '1800000000000']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/^#\s+RECEIVERS\s+SILENCED BY\s+MUTED BY\s+INHIBITED BY\s+GROUPS\s+LABELS$/m);
    expect(r.out).toMatch(/^1\s+db-team\s+-\s+-\s+0\s+db-team@0\.1\s+alertname=Errors,cluster=eu,severity=high,team=db$/m);
  });

  const TIMED = file(
    'timed.yaml',
    `receivers:
  - { name: db-team, slack: { channel: C0DB } }
  - { name: audit, slack: { webhook: audit } }
time_intervals:
  - name: weekends
    time_intervals: [{ weekdays: [saturday, sunday] }]
  - name: business-hours
    time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] }]
group_by: [cluster]
routes:
  - { matchers: ['env="prod"'], receivers: [audit], continue: true, mute_time_intervals: [weekends], group_by: [] }
  - { matchers: ['team="db"'], receivers: [db-team], active_time_intervals: [business-hours], group_by: [cluster, team] }
`,
  );
  const TIMED_ALERTS = file('timed.jsonl', JSON.stringify({ labels: { alertname: 'NodeDown', cluster: 'eu', team: 'db', env: 'prod' } }));

  it.each<[string, string, string[], string[], { receiver: string; route: string; groupLabels: Record<string, string> }[]]>([
    // [why, --at, receivers, mutedBy, groups]; 2026-11-28 is a Saturday, 2026-11-30 a Monday
    ['Monday in business hours: both, grouped by their group_by', '2026-11-30T10:00:00Z', ['audit', 'db-team'], [], [{ receiver: 'audit', route: '0.0', groupLabels: {} }, { receiver: 'db-team', route: '0.1', groupLabels: { cluster: 'eu', team: 'db' } }]],
    ['Monday before business hours: db-team is outside its active interval', '2026-11-30T08:00:00Z', ['audit'], ['business-hours'], [{ receiver: 'audit', route: '0.0', groupLabels: {} }]],
    ['Saturday: both muted', '2026-11-28T12:00:00Z', [], ['business-hours', 'weekends'], []],
  ])('--at drives time intervals: %s', async (_why, atTime, receivers, mutedBy, groups) => {
    const r = await notify(['--routes', TIMED, '--alerts', TIMED_ALERTS, '--at', atTime, '--json']);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.out.trim())).toMatchObject({ receivers, mutedBy, groups });
  });

  it('groups by the root group_by when the route has none of its own', async () => {
    const routes = file('grouped.yaml', "group_by: [cluster]\nreceivers: [{ name: a, slack: { channel: C } }]\nroutes: [{ matchers: ['team=\"db\"'], receivers: [a] }]\n");
    const r = await notify(['--routes', routes, '--alerts', TIMED_ALERTS, '--at', '2026-11-30T10:00:00Z', '--json']);
    expect(JSON.parse(r.out.trim()).groups).toEqual([{ receiver: 'a', route: '0.0', groupLabels: { cluster: 'eu' } }]);
  });

  it.each<[string, string[], number, RegExp]>([
    ['no flags', [], EXIT.usage, /--routes and --alerts are required/],
    ['an unknown flag', ['--routes', ROUTES, '--alerts', ALERTS, '--group'], EXIT.usage, /unexpected argument '--group'/],
    ['a line that is not JSON', ['--routes', ROUTES, '--alerts', file('bad.jsonl', '{"labels":{"a":"b"}}\n{oops')], EXIT.failed, /bad\.jsonl:2: not JSON/],
    ['labels that are not strings', ['--routes', ROUTES, '--alerts', file('num.jsonl', '{"labels":{"a":1}}')], EXIT.failed, /num\.jsonl:1: expected \{"labels"/],
    ['a bad silence matcher', ['--routes', ROUTES, '--alerts', ALERTS, '--silences', file('s.yaml', "- { id: x, matchers: ['team=~\"(\"'] }\n")], EXIT.failed, /s\.yaml: \[0\]: .*matchers\[0\]/],
    ['a silence without an id', ['--routes', ROUTES, '--alerts', ALERTS, '--silences', file('s2.yaml', "- { matchers: ['a=\"b\"'] }\n")], EXIT.failed, /s2\.yaml: \[0\]\.id: a silence needs an id/],
    ['a bad time', ['--routes', ROUTES, '--alerts', ALERTS, '--at', 'tomorrow'], EXIT.failed, /--at: 'tomorrow' is not an RFC 3339 time/],
    ['a bad routes file', ['--routes', file('r.yaml', 'routes: [ { receivers: [nobody] } ]\n'), '--alerts', ALERTS], EXIT.failed, /unknown receiver "nobody"/],
  ])('exits with a message naming the problem: %s', async (_what, args, code, message) => {
    const r = await notify(args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
  });

  it.each([
    ['root', '0'],
    ['routes[2]', '0.2'],
    ['routes[1].routes[0]', '0.1.0'],
  ])('names route %s as Alertmanager positions it: %s', (path, position) => {
    expect(routePosition(path)).toBe(position);
  });
});
