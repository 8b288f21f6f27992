import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileRoutes, RoutesConfigError } from '../../shared/core/dispatch/route/routes-config.ts';
import { destinationId, routeAlert, type RoutingConfig } from '../../shared/core/dispatch/route/routing.ts';
import { routesFromText } from '../../shared/adapters/routes/routes-source.ts';
import type { Channel, Severity } from '../../shared/core/model/index.ts';

const defaults = { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'primary' };

/** `channel receiver destinationId` lines, for readable expectations. */
function targets(config: RoutingConfig, labels: Record<string, string>, severity: Severity): string[] {
  return routeAlert(labels, severity, config).targets.map((t) => `${t.channel} ${t.receiver} ${t.destinationId}`);
}

const teams = compileRoutes(
  {
    receivers: [
      { name: 'db', slack: { channel: 'C0DB' }, email: { to: ['db@example.com'] }, pagerduty: { routingKey: 'db' } },
      { name: 'web', slack: { webhook: 'web' } },
      { name: 'audit', slack: { webhook: 'audit' }, severities: { critical: ['slack'], high: ['slack'], medium: ['slack'], low: ['slack'] } },
      { name: 'quiet', slack: { webhook: 'quiet' }, email: { to: ['q@example.com'] }, severities: { high: ['email'] } },
    ],
    routes: [
      { matchers: ['env="prod"'], receivers: ['audit'], continue: true },
      { matchers: ['team="db"'], receivers: ['db'], routes: [{ matchers: ['env=~"dev|staging"'], receivers: ['web'] }] },
      { matchers: ['team=~"web|frontend"'], receivers: ['web'] },
      { matchers: ['team="web"'], receivers: ['quiet'] },
      { matchers: ['team="quiet"'], receivers: ['quiet'] },
    ],
  },
  'teams.yaml',
  defaults,
);

describe('routing', () => {
  describe('the default severity matrix (built-in default receiver)', () => {
    const config = compileRoutes(undefined, 'built-in defaults', defaults);
    it.each<[Severity, Channel[]]>([
      // critical pages: every channel
      ['critical', ['email', 'slack', 'pagerduty']],
      // high: email and Slack, no page
      ['high', ['email', 'slack']],
      // medium: Slack only
      ['medium', ['slack']],
      // low: recorded only, no channel
      ['low', []],
    ])('%s goes to %j', (severity, channels) => {
      expect(routeAlert({ alertname: 'X' }, severity, config).targets.map((t) => t.channel)).toEqual(channels);
    });

    it('sends the default receiver to the configured Slack webhook key, recipients and PagerDuty key', () => {
      expect(targets(config, { alertname: 'X' }, 'critical')).toEqual([
        `email default ${destinationId({ kind: 'email', to: ['oncall@example.com'] })}`,
        'slack default slack:webhook:default',
        'pagerduty default pagerduty:primary',
      ]);
    });

    it('has no email destination when DEFAULT_EMAIL_RECIPIENTS is empty', () => {
      const c = compileRoutes(undefined, 'x', { ...defaults, emailRecipients: [] });
      expect(routeAlert({}, 'high', c).targets.map((t) => t.channel)).toEqual(['slack']);
    });
  });

  describe('label routes', () => {
    it.each<[string, Record<string, string>, Severity, string[]]>([
      // no route matches: the root (default) receiver takes it
      ['unmatched → default', { team: 'ops' }, 'medium', ['slack default slack:webhook:default']],
      // first match wins: team=web stops at routes[2], routes[3] (also team=web) is not reached
      ['first match wins', { team: 'web' }, 'high', ['slack web slack:webhook:web']],
      // continue: the prod audit route and then the db route both take it
      ['continue', { team: 'db', env: 'prod' }, 'medium', ['slack audit slack:webhook:audit', 'slack db slack:channel:C0DB']],
      // a child route refines its parent: staging db alerts go to web, not db
      ['child route', { team: 'db', env: 'staging' }, 'medium', ['slack web slack:webhook:web']],
      // no child matches: the parent route handles it
      ['parent when no child matches', { team: 'db', env: 'qa' }, 'critical', [
        `email db ${destinationId({ kind: 'email', to: ['db@example.com'] })}`,
        'slack db slack:channel:C0DB',
        'pagerduty db pagerduty:db',
      ]],
      // receiver severities override: audit takes low alerts to Slack though the matrix says none
      ['receiver override: low to Slack', { env: 'prod', team: 'none' }, 'low', ['slack audit slack:webhook:audit']],
      // receiver override: quiet wants only email for high
      ['receiver override: high to email only', { team: 'quiet' }, 'high', [`email quiet ${destinationId({ kind: 'email', to: ['q@example.com'] })}`]],
      // a receiver without the channel the severity asks for just does not get it
      ['receiver lacks a channel', { team: 'web' }, 'critical', ['slack web slack:webhook:web']],
    ])('%s', (_name, labels, severity, expected) => {
      expect(targets(teams, labels, severity)).toEqual(expected);
    });

    it('reports the route paths that took the alert', () => {
      const r = routeAlert({ team: 'db', env: 'prod' }, 'high', teams);
      expect(r.routes.map((x) => x.path)).toEqual(['routes[0]', 'routes[1]']);
      expect(routeAlert({ team: 'db', env: 'dev' }, 'high', teams).routes.map((x) => x.path)).toEqual(['routes[1].routes[0]']);
      expect(routeAlert({ team: 'zzz' }, 'high', teams).routes.map((x) => x.path)).toEqual(['root']);
    });

    it('notifies one destination once even when two receivers share it', () => {
      const c = compileRoutes(
        {
          receivers: [
            { name: 'a', slack: { webhook: 'shared' } },
            { name: 'b', slack: { webhook: 'shared' } },
          ],
          routes: [
            { matchers: ['x="1"'], receivers: ['a'], continue: true },
            { matchers: ['x="1"'], receivers: ['b'] },
          ],
        },
        't',
        defaults,
      );
      expect(targets(c, { x: '1' }, 'medium')).toEqual(['slack a slack:webhook:shared']);
    });

    it('lets the config override the matrix for everyone, and name another root receiver', () => {
      const c = compileRoutes({ receiver: 'web', matrix: { low: ['slack'] }, receivers: [{ name: 'web', slack: { webhook: 'web' } }] }, 't', defaults);
      expect(targets(c, {}, 'low')).toEqual(['slack web slack:webhook:web']);
    });

    it('inherits receivers from the parent route when a child names none', () => {
      const c = compileRoutes(
        { receivers: [{ name: 'web', slack: { webhook: 'web' } }], routes: [{ matchers: ['a="1"'], receivers: ['web'], routes: [{ matchers: ['b="2"'] }] }] },
        't',
        defaults,
      );
      const r = routeAlert({ a: '1', b: '2' }, 'medium', c);
      expect(r.routes.map((x) => x.path)).toEqual(['routes[0].routes[0]']);
      expect(r.receivers).toEqual(['web']);
    });
  });

  describe('destination ids', () => {
    it('are stable, secret-free and independent of recipient order and case', () => {
      expect(destinationId({ kind: 'slack', webhookKey: 'ops' })).toBe('slack:webhook:ops');
      expect(destinationId({ kind: 'slack', channel: 'C1' })).toBe('slack:channel:C1');
      expect(destinationId({ kind: 'pagerduty', routingKeyName: 'primary' })).toBe('pagerduty:primary');
      const a = destinationId({ kind: 'email', to: ['b@x.io', 'A@x.io'] });
      expect(a).toBe(destinationId({ kind: 'email', to: ['a@x.io', 'b@x.io'] }));
      expect(a).toMatch(/^email:[0-9a-f]{16}$/);
      expect(a).not.toContain('x.io');
      expect(a).not.toBe(destinationId({ kind: 'email', to: ['a@x.io'] }));
    });
  });

  describe('config validation', () => {
    it.each<[string, unknown, string]>([
      // an unknown receiver name in a route
      ['unknown receiver', { routes: [{ matchers: [], receivers: ['nobody'] }] }, 'routes[0].receivers[0]: unknown receiver "nobody"'],
      // a bad matcher, deep in the tree
      ['bad matcher', { receivers: [{ name: 'r', slack: { webhook: 'w' } }], routes: [{ receivers: ['r'], routes: [{ matchers: ['team=~"("'] }] }] }, 'routes[0].routes[0].matchers[0]: invalid regular expression'],
      // a regex RE2 cannot run (lookbehind): the matcher and the reason
      ['lookbehind regex', { routes: [{ matchers: ['team=~"(?<=x)db"'] }] }, 'routes[0].matchers[0]: invalid regular expression in matcher team=~"(?<=x)db": invalid named capture: `(?<=x)db` (lookbehind is not supported in RE2 syntax)'],
      // a bad email address
      ['bad email', { receivers: [{ name: 'r', email: { to: ['not-an-address'] } }] }, 'receivers[0].email.to[0]'],
      // slack needs exactly one of webhook and channel
      ['slack with both', { receivers: [{ name: 'r', slack: { webhook: 'a', channel: 'b' } }] }, 'receivers[0].slack: give exactly one of webhook or channel'],
      // a receiver with no channel at all
      ['empty receiver', { receivers: [{ name: 'r' }] }, 'receivers[0]: a receiver needs at least one of slack, email, pagerduty'],
      // a misspelt field is an error, not silently ignored
      ['unknown field', { routes: [{ matcher: ['a="b"'] }] }, 'routes[0]: Unrecognized key: "matcher"'],
      // an unknown channel in a severity override
      ['unknown channel', { receivers: [{ name: 'r', slack: { webhook: 'w' }, severities: { high: ['sms'] } }] }, 'receivers[0].severities.high[0]'],
      // duplicate receiver names
      ['duplicate name', { receivers: [{ name: 'r', slack: { webhook: 'w' } }, { name: 'r', slack: { webhook: 'v' } }] }, 'receivers[1].name: duplicate receiver name "r"'],
      // an unknown root receiver
      ['unknown root receiver', { receiver: 'ghost' }, 'receiver[0]: unknown receiver "ghost"'],
      // more recipients than SES takes in one message: refused here rather than cut when sending
      ['51 recipients', { receivers: [{ name: 'r', email: { to: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) } }] }, 'receivers[0].email.to: at most 50 recipients'],
    ])('rejects %s, naming the file and the field', (_name, doc, fragment) => {
      let err: unknown;
      try {
        compileRoutes(doc, 'routes.yaml', defaults);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RoutesConfigError);
      expect((err as Error).message).toContain('routes.yaml: invalid routes config');
      expect((err as Error).message).toContain(fragment);
    });

    it('compiles route regexes as Alertmanager does', () => {
      const c = compileRoutes({ routes: [{ matchers: ['team=~"db.*"'] }] }, 'routes.yaml', defaults);
      expect(c.root.routes[0]!.matchers[0]!.regex?.flavour).toBe('alertmanager');
    });

    it('names the file for YAML syntax errors', () => {
      expect(() => routesFromText('routes: [\n  - {', 'bad.yaml')).toThrow(/bad\.yaml: invalid routes config:\n {2}not valid YAML/);
    });

    it('compiles the shipped example and routes it as its comments say', () => {
      const c = routesFromText(readFileSync(new URL('../../examples/routes.yaml', import.meta.url), 'utf8'), 'examples/routes.yaml', defaults);
      expect(targets(c, { team: 'db', env: 'prod' }, 'critical').map((t) => t.split(' ').slice(0, 2).join(' '))).toEqual([
        'slack audit',
        'email db-team',
        'slack db-team',
        'pagerduty db-team',
      ]);
      expect(targets(c, { team: 'db', env: 'staging' }, 'critical').map((t) => t.split(' ').slice(0, 2).join(' '))).toEqual(['email data-platform', 'slack data-platform']);
      expect(targets(c, { team: 'airflow' }, 'low').map((t) => t.split(' ').slice(0, 2).join(' '))).toEqual(['slack data-platform']);
    });
  });
});
