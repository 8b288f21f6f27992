/**
 * Outgoing webhooks, the pure parts: the three payloads (Alertmanager v4, klaxon, template) for
 * single and group jobs, their bounds and hostile values, the webhook id, the routes receiver
 * field, the classification of answers and the SSRF guard's decisions. The Alertmanager shape is
 * checked against the real Alertmanager in test/integration/webhook-alertmanager-conformance.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { classifyAddress, refuseAddress, type AddressClass } from '../../shared/adapters/webhook/ssrf.ts';
import { classifyWebhook } from '../../shared/core/deliver/classify.ts';
import { parseNotificationJob } from '../../shared/core/deliver/job.ts';
import { compileRoutes, RoutesConfigError } from '../../shared/core/dispatch/route/routes-config.ts';
import { routeAlert } from '../../shared/core/dispatch/route/routing.ts';
import { ELLIPSIS } from '../../shared/core/format/escape.ts';
import {
  alertmanagerFingerprint,
  compileWebhookTemplate,
  conditionThreshold,
  GO_ZERO_TIME,
  goTime,
  renderWebhook,
  WEBHOOK_LIMITS,
  webhookMessageId,
  type AlertmanagerWebhookMessage,
  type WebhookRendered,
} from '../../shared/core/format/webhook.ts';
import type { Enrichment } from '../../shared/core/enrich/types.ts';
import type { NotificationJob, WebhookDestination } from '../../shared/core/model/index.ts';
import { HOSTILE, hostileJob, job, resolvedOf, T0 } from '../integration/deliver-fixtures.ts';
import { groupJob, hostileGroupJob } from '../integration/group-fixtures.ts';

const dest = (over: Partial<WebhookDestination> = {}): WebhookDestination => ({ kind: 'webhook', url: 'https://tool.example.com/hook', format: 'alertmanager', secretKey: 'tool', ...over });
/** A job as dispatch sends it to a webhook receiver. */
const asWebhook = (j: NotificationJob, d: Partial<WebhookDestination> = {}): NotificationJob => ({ ...j, channel: 'webhook', receiver: 'tool', destination: dest(d), destinationId: 'webhook:tool:x', idempotencyKey: `${j.transition.transitionId}:tool:webhook` });
const body = (r: WebhookRendered): unknown => {
  if (r.kind !== 'send') throw new Error(`skipped: ${r.reason}`);
  return JSON.parse(r.body);
};
const am = (j: NotificationJob, d: Partial<WebhookDestination> = {}): AlertmanagerWebhookMessage => body(renderWebhook(asWebhook(j, d), { externalUrl: 'https://klaxon.example.com' })) as AlertmanagerWebhookMessage;
const bytes = (r: WebhookRendered): number => (r.kind === 'send' ? Buffer.byteLength(r.body) : 0);

describe('Alertmanager v4 payload', () => {
  it('a firing alert: version 4, every field of Alertmanager 0.25, endsAt Go zero time, Alertmanager fingerprint, severity a label', () => {
    const j = job('slack');
    const m = am(j);
    const labels = { ...j.transition.labels, severity: 'critical' };
    expect(Object.keys(m).sort()).toEqual(['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version']);
    expect(m).toMatchObject({ version: '4', status: 'firing', receiver: 'tool', externalURL: 'https://klaxon.example.com', truncatedAlerts: 0 });
    expect(m.alerts).toEqual([
      {
        status: 'firing',
        labels,
        annotations: j.transition.annotations,
        startsAt: '2026-11-22T05:00:00Z',
        endsAt: GO_ZERO_TIME,
        generatorURL: 'https://grafana.example.com/d/cpu',
        fingerprint: alertmanagerFingerprint(labels),
      },
    ]);
    // One by one is Alertmanager's group_by ['...']: every label groups, all are common.
    expect(m.groupLabels).toEqual(labels);
    expect(m.commonLabels).toEqual(labels);
    expect(m.commonAnnotations).toEqual(j.transition.annotations);
  });

  it('a resolved alert: status resolved, endsAt the resolution time', () => {
    const m = am(resolvedOf(job('slack'), T0 + 90_500));
    expect(m.status).toBe('resolved');
    expect(m.alerts[0]).toMatchObject({ status: 'resolved', endsAt: '2026-11-22T05:01:30.5Z' });
  });

  it('a group job: the listed alerts (firing then resolved), the rest counted in truncatedAlerts; common labels of those listed', () => {
    const j = groupJob('slack', { firing: 250, resolved: 20, labels: { cluster: 'eu1' } });
    const m = am(j, { maxAlerts: 30 });
    expect(m.alerts).toHaveLength(30);
    expect(m.truncatedAlerts).toBe(270 - 30);
    expect(m.alerts.every((a) => a.status === 'firing' && a.endsAt === GO_ZERO_TIME)).toBe(true);
    expect(m.groupLabels).toEqual({ cluster: 'eu1' });
    expect(m.commonLabels).toEqual({ alertname: 'HighCPU', cluster: 'eu1' });
    expect(m.groupKey).toBe('{}/routes[0]:{cluster="eu1"}');
    // Resolved members are listed after the firing ones, with their end time.
    const all = am(groupJob('slack', { firing: 2, resolved: 2 }));
    expect(all.alerts.map((a) => a.status)).toEqual(['firing', 'firing', 'resolved', 'resolved']);
    expect(all.alerts[2]!.endsAt).toBe(goTime(T0 - 60_000));
  });

  it('an acknowledgement is not sent (Alertmanager has none): skipped with the reason', () => {
    const r = renderWebhook(asWebhook({ ...job('slack'), ack: { state: 'acknowledged', by: 'alice', atMs: T0, source: 'slack' } }));
    expect(r).toEqual({ kind: 'skip', reason: expect.stringContaining("Alertmanager's webhook format has no acknowledgement") });
  });

  it('hostile values: JSON carries them verbatim (nothing to inject into), long ones cut with …, the body within its bound', () => {
    const j = hostileJob('slack');
    const r = renderWebhook(asWebhook(j));
    const m = body(r) as AlertmanagerWebhookMessage;
    const a = m.alerts[0]!;
    expect(a.labels.alertname).toBe(HOSTILE.html);
    expect(a.labels.instance).toBe(HOSTILE.mrkdwn + HOSTILE.newline);
    expect(a.labels.huge).toHaveLength(WEBHOOK_LIMITS.labelValue);
    expect(a.labels.huge!.endsWith(ELLIPSIS)).toBe(true);
    // The fingerprint is of the labels as the alert has them (with its severity), not as cut.
    expect(a.fingerprint).toBe(alertmanagerFingerprint({ ...j.transition.labels, severity: j.severity }));
    expect(Object.keys(a.labels)).toHaveLength(61);
    expect(bytes(r)).toBeLessThanOrEqual(WEBHOOK_LIMITS.bodyBytes);
  });

  it('a group too large for the body bound lists fewer alerts and counts the rest', () => {
    const j = hostileGroupJob('slack');
    const r = renderWebhook(asWebhook(j));
    const m = body(r) as AlertmanagerWebhookMessage;
    expect(bytes(r)).toBeLessThanOrEqual(WEBHOOK_LIMITS.bodyBytes);
    expect(m.alerts.length).toBeGreaterThan(0);
    expect(m.alerts.length + m.truncatedAlerts).toBe(650);
  });

  it.each([
    // the empty label set: FNV-1a 64's offset basis (prometheus/common model.LabelSet{}.Fingerprint())
    [{}, 'cbf29ce484222325'],
    // order of the labels does not matter
    [{ b: '2', a: '1' }, alertmanagerFingerprint({ a: '1', b: '2' })],
  ])('Alertmanager fingerprint of %o is %s', (labels, fp) => {
    expect(alertmanagerFingerprint(labels)).toBe(fp);
  });

  it.each([
    // whole seconds: no fraction (Go's RFC3339Nano)
    [Date.UTC(2026, 0, 2, 3, 4, 5), '2026-01-02T03:04:05Z'],
    // milliseconds without trailing zeros
    [Date.UTC(2026, 0, 2, 3, 4, 5, 120), '2026-01-02T03:04:05.12Z'],
    [Date.UTC(2026, 0, 2, 3, 4, 5, 7), '2026-01-02T03:04:05.007Z'],
  ])('Go time of %d is %s', (ms, text) => {
    expect(goTime(ms)).toBe(text);
  });
});

describe('klaxon payload (the seed notification service)', () => {
  it("carries the seed's fields with their types, then Klaxon's", () => {
    const p = body(renderWebhook(asWebhook(job('slack', { fireCount: 3 }), { format: 'klaxon' }))) as Record<string, unknown>;
    expect(p).toMatchObject({
      alert_name: 'High CPU',
      severity: 'critical',
      instance_id: 'web-1',
      value: 97.25,
      threshold: 90,
      runbook_url: 'https://runbooks.example.com/cpu',
      timestamp: '2026-11-22T05:00:00.000Z',
      labels: { alertname: 'High CPU', instance: 'web-1', job: 'node', team: 'ops' },
      fire_count: 3,
      event: 'firing',
      status: 'firing',
      receiver: 'tool',
      ends_at: null,
    });
    expect(typeof p.alert_id).toBe('string');
    expect(p.message).toContain('Severity: CRITICAL');
  });

  it.each<[string, Partial<NotificationJob>, string]>([
    // an acknowledgement is an event of its own
    ['acknowledged', { ack: { state: 'acknowledged', by: 'alice', atMs: T0, source: 'slack' } }, 'acknowledged'],
    ['unacknowledged', { ack: { state: 'unacknowledged', by: 'alice', atMs: T0, source: 'console' } }, 'unacknowledged'],
    // a reminder (repeat_interval)
    ['reminder', { reminder: { lastSentAtMs: T0 - 3_600_000 } }, 'reminder'],
    // a step of an escalation policy
    ['escalation step', { escalated: { policy: 'db', level: 2, levels: 3, step: 2, steps: 3, reason: 'unacknowledged for 15m' } }, 'escalation'],
  ])('%s → event %s', (_c, over, event) => {
    const p = body(renderWebhook(asWebhook({ ...job('slack'), ...over }, { format: 'klaxon' }))) as { event: string };
    expect(p.event).toBe(event);
  });

  it('carries the enrichment: owner, team, on-call, runbook, links, ready log lines and what failed; none when absent', () => {
    const enrichment: Enrichment = {
      owner: 'payments',
      team: 'checkout',
      onCall: '@pay-oncall',
      runbook: { text: 'Runbook', url: 'https://runbooks.example.com/checkout' },
      links: [{ text: 'Grafana', url: 'https://grafana.example.com/d/x?var-service=checkout' }],
      traces: [],
      logs: { state: 'ready', lines: [{ atMs: T0, message: 'ERROR payment declined' }] },
      failures: [{ part: 'catalog', reason: 'timeout' }],
    };
    const p = body(renderWebhook(asWebhook({ ...job('slack'), enrichment }, { format: 'klaxon' }))) as { enrichment: Record<string, unknown> };
    expect(p.enrichment).toEqual({
      owner: 'payments',
      team: 'checkout',
      on_call: '@pay-oncall',
      runbook_url: 'https://runbooks.example.com/checkout',
      links: [{ text: 'Grafana', url: 'https://grafana.example.com/d/x?var-service=checkout' }],
      traces: [],
      recent_logs: [{ at: new Date(T0).toISOString(), message: 'ERROR payment declined' }],
      notes: ['catalog unavailable: timed out'],
    });
    // Logs still running are said, not waited for: a webhook has no thread to add them to later.
    const pending = body(renderWebhook(asWebhook({ ...job('slack'), enrichment: { ...enrichment, failures: [], logs: { state: 'pending', key: 'k' } } }, { format: 'klaxon' }))) as { enrichment: { recent_logs: unknown[]; notes: string[] } };
    expect(pending.enrichment).toMatchObject({ recent_logs: [], notes: ['logs pending'] });
    expect(body(renderWebhook(asWebhook(job('slack'), { format: 'klaxon' })))).not.toHaveProperty('enrichment');
  });

  it('a group: its alerts listed to max_alerts, the rest counted and said (truncated)', () => {
    const p = body(renderWebhook(asWebhook(groupJob('slack', { firing: 40 }), { format: 'klaxon', maxAlerts: 5 }))) as { group: { alerts: unknown[]; truncated_alerts: number; firing_count: number }; truncated: { alerts: number } };
    expect(p.group.alerts).toHaveLength(5);
    expect(p.group).toMatchObject({ truncated_alerts: 35, firing_count: 40 });
    expect(p.truncated.alerts).toBe(35);
  });

  it('hostile values are cut and said, the body stays within its bound', () => {
    const r = renderWebhook(asWebhook(hostileJob('slack'), { format: 'klaxon' }));
    const p = body(r) as { labels: Record<string, string>; truncated?: { values: number } };
    expect(p.labels.huge!.endsWith(ELLIPSIS)).toBe(true);
    expect(p.truncated?.values).toBeGreaterThan(0);
    expect(bytes(r)).toBeLessThanOrEqual(WEBHOOK_LIMITS.bodyBytes);
  });

  it.each([
    ['avg_over_time(5m) > 90', 90],
    ['rate(1m) <= -0.5', -0.5],
    ['absent for 5m', null],
  ])('threshold of %s is %s', (c, t) => {
    expect(conditionThreshold(c)).toBe(t);
  });
});

describe('template payload', () => {
  const template = { text: '{{ alertname }} on {{ labels.instance }} is {{ status }}', severity: '{{severity}}', n: 3, nested: [{ id: '{{ webhookId }}', team: '{{ labels.team }}' }], ok: true };

  it('substitutes placeholders in string values (JSON-escaped), keeps other values as they are', () => {
    const j = asWebhook(job('slack'), { format: 'template', template });
    const p = body(renderWebhook(j)) as typeof template;
    expect(p).toEqual({ text: 'High CPU on web-1 is firing', severity: 'critical', n: 3, nested: [{ id: webhookMessageId(j), team: 'ops' }], ok: true });
  });

  it('hostile values stay data: quotes, newlines and braces cannot break out of the JSON string', () => {
    const evil = `"}, "admin": true, "x": "{{ status }}\n`;
    const j = asWebhook(job('slack', { t: { labels: { alertname: 'A', instance: evil } } }), { format: 'template', template: { text: 'on {{ labels.instance }}' } });
    const p = body(renderWebhook(j)) as Record<string, unknown>;
    expect(Object.keys(p)).toEqual(['text']);
    // Substituted once: a placeholder inside a value is not expanded again.
    expect(p.text).toBe(`on ${evil}`);
  });

  it('a missing label is the empty string', () => {
    const p = body(renderWebhook(asWebhook(job('slack'), { format: 'template', template: { x: '[{{ labels.nope }}]' } }))) as { x: string };
    expect(p.x).toBe('[]');
  });

  it.each<[string, unknown, RegExp]>([
    // unknown field
    ['unknown placeholder', { a: '{{ secret }}' }, /template\.a: unknown placeholder \{\{ secret \}\}/],
    // unknown map
    ['unknown map', { a: '{{ env.HOME }}' }, /unknown placeholder/],
    // braces that are not a placeholder
    ['malformed', { a: '{{ labels. }}' }, /template\.a: malformed placeholder/],
    // a scalar is not a document
    ['not an object', 'text', /expected a JSON object or array/],
    // too big
    ['too large', { a: 'x'.repeat(WEBHOOK_LIMITS.templateBytes) }, /bytes, at most/],
    // too deep
    ['too deep', JSON.parse(`${'{"a":'.repeat(10)}1${'}'.repeat(10)}`) as unknown, /nested deeper than/],
  ])('refused at load: %s', (_c, t, problem) => {
    expect(compileWebhookTemplate(t).join('\n')).toMatch(problem);
  });
});

describe('webhook id', () => {
  it('is stable per notification, different per notification, within the scheme’s id rules', () => {
    const a = asWebhook(job('slack'));
    const b = asWebhook(job('slack'));
    expect(webhookMessageId(a)).toBe(webhookMessageId({ idempotencyKey: a.idempotencyKey }));
    expect(webhookMessageId(a)).not.toBe(webhookMessageId(b));
    expect(webhookMessageId({ idempotencyKey: 'a.b c:d/e' })).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('a webhook job passes the job schema', () => {
    const j = asWebhook(job('slack'), { format: 'template', template: { a: '{{ status }}' }, maxAlerts: 5 });
    expect(parseNotificationJob(JSON.stringify(j))).toMatchObject({ ok: true });
    expect(parseNotificationJob(JSON.stringify({ ...j, destination: { ...j.destination, format: 'xml' } }))).toMatchObject({ ok: false });
  });
});

describe('routes: the webhook receiver field', () => {
  const compile = (webhook: unknown) => compileRoutes({ receivers: [{ name: 'tool', webhook }], routes: [{ receivers: ['tool'] }] }, 'routes.yaml');
  const problems = (webhook: unknown): string => {
    try {
      compile(webhook);
      return '';
    } catch (err) {
      expect(err).toBeInstanceOf(RoutesConfigError);
      return (err as RoutesConfigError).problems.join('\n');
    }
  };

  it('compiles to a webhook destination (format default alertmanager, secret key default the receiver name) reached by the matrix', () => {
    const c = compile({ url: 'https://tool.example.com/hook' });
    expect(c.receivers.get('tool')!.webhook).toEqual({ kind: 'webhook', url: 'https://tool.example.com/hook', format: 'alertmanager', secretKey: 'tool' });
    expect(routeAlert({ alertname: 'X' }, 'medium', c).targets.map((t) => t.channel)).toEqual(['webhook']);
    // low is recorded only, as for every channel
    expect(routeAlert({ alertname: 'X' }, 'low', c).targets).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    // plain http to another host
    ['http elsewhere', { url: 'http://tool.example.com/hook' }, /receivers\[0\]\.webhook\.url: must be an https URL.* \(receiver "tool"\)/],
    // not a URL
    ['not a URL', { url: 'tool' }, /receivers\[0\]\.webhook\.url: not a URL/],
    // credentials in the URL
    ['credentials', { url: 'https://u:p@tool.example.com/' }, /must not carry user:password/],
    // an unknown format
    ['format', { url: 'https://t.example.com', format: 'xml' }, /receivers\[0\]\.webhook\.format/],
    // template format without a template
    ['template missing', { url: 'https://t.example.com', format: 'template' }, /webhook\.template: format template needs a template/],
    // a bad template names the placeholder
    ['bad template', { url: 'https://t.example.com', format: 'template', template: { a: '{{ nope }}' } }, /webhook\.template: template\.a: unknown placeholder/],
    // a template with another format
    ['template unused', { url: 'https://t.example.com', template: { a: 1 } }, /only used with format: template/],
    // max_alerts above the bound
    ['max_alerts', { url: 'https://t.example.com', max_alerts: 1000 }, /webhook\.max_alerts/],
    // unknown field
    ['unknown field', { url: 'https://t.example.com', method: 'PUT' }, /webhook: Unrecognized key/i],
  ])('refuses %s', (_c, webhook, problem) => {
    expect(problems(webhook)).toMatch(problem);
  });

  it('accepts plain http to localhost (local mode)', () => {
    expect(problems({ url: 'http://localhost:8790/hooks/x' })).toBe('');
  });
});

describe('classification of a webhook answer (Standard Webhooks delivery guidance)', () => {
  it.each([
    // delivered
    [200, undefined, { ok: true }],
    [204, undefined, { ok: true }],
    // a redirect is a failure, never followed; permanent (the URL must be fixed)
    [301, undefined, { ok: false, retryable: false, reason: 'client' }],
    [307, undefined, { ok: false, retryable: false, reason: 'client' }],
    // the receiver asks to stop
    [410, undefined, { ok: false, retryable: false, reason: 'client' }],
    // throttled: retried after Retry-After
    [429, 30_000, { ok: false, retryable: true, reason: 'rate-limited', retryAfterMs: 30_000 }],
    // server errors: retried, Retry-After honoured
    [503, 5_000, { ok: false, retryable: true, reason: 'server', retryAfterMs: 5_000 }],
    [500, undefined, { ok: false, retryable: true, reason: 'server' }],
    // timeout answer
    [408, undefined, { ok: false, retryable: true, reason: 'timeout' }],
    // the receiver refuses our signature
    [401, undefined, { ok: false, retryable: false, reason: 'auth' }],
    // another 4xx: permanent
    [400, undefined, { ok: false, retryable: false, reason: 'client' }],
  ])('%i (Retry-After %s ms) → %o', (status, retryAfter, expected) => {
    expect(classifyWebhook(status, retryAfter)).toMatchObject(expected);
  });
});

describe('SSRF guard', () => {
  it.each<[string, AddressClass]>([
    // public
    ['93.184.216.34', 'public'],
    ['2606:4700::1111', 'public'],
    // loopback
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    // RFC 1918, CGNAT, unique local
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    // 172.32/16 is outside 172.16/12
    ['172.32.0.1', 'public'],
    // link-local
    ['169.254.10.10', 'link-local'],
    ['fe80::1', 'link-local'],
    // the metadata services (EC2 IMDS v4/v6, ECS task metadata)
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    // IPv4-mapped IPv6 is judged as the IPv4 it carries
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:8.8.8.8', 'public'],
    // unspecified, multicast, reserved
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    // not an address at all
    ['example.com', 'reserved'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it.each<[string, boolean, boolean]>([
    // [address, private targets allowed, refused]
    ['93.184.216.34', false, false],
    ['10.0.0.5', false, true],
    // local mode allows private targets...
    ['10.0.0.5', true, false],
    ['127.0.0.1', true, false],
    // ...but never the metadata service, the unspecified address or multicast
    ['169.254.169.254', true, true],
    ['0.0.0.0', true, true],
    ['224.0.0.1', true, true],
  ])('%s with private targets allowed=%s: refused=%s', (address, allow, refused) => {
    const r = refuseAddress(address, allow);
    expect(r !== undefined).toBe(refused);
    if (r) expect(r).toContain(address);
  });
});
