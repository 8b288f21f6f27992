import { describe, expect, it } from 'vitest';
import type { Enrichment } from '../../shared/core/enrich/types.ts';
import { renderEmail } from '../../shared/core/format/email.ts';
import { renderPagerDutyEvent, type PagerDutyTrigger } from '../../shared/core/format/pagerduty.ts';
import { renderSlackMessage, renderSlackThreadReply, SLACK_LIMITS, type SlackBlock } from '../../shared/core/format/slack.ts';
import { blockKitProblem } from '../../local/receivers/slack.ts';
import { HOSTILE, job, T0 } from '../integration/deliver-fixtures.ts';

const opts = { productName: 'Klaxon' };
const FULL: Enrichment = {
  owner: 'Alice',
  team: 'payments',
  onCall: '@payments-oncall',
  runbook: { text: 'Runbook', url: 'https://runbooks.example.com/checkout' },
  links: [{ text: 'Grafana', url: 'https://grafana.example.com/d/svc?var-service=checkout' }],
  traces: [{ text: 'Traces', url: 'https://xray.example.com/t?s=checkout' }],
  logs: { state: 'ready', lines: [{ atMs: T0, message: 'ERROR payment declined' }] },
  failures: [],
};
const HOSTILE_E: Enrichment = {
  owner: HOSTILE.mrkdwn,
  team: HOSTILE.html,
  onCall: HOSTILE.newline,
  links: Array.from({ length: 40 }, (_, i) => ({ text: HOSTILE.html.slice(0, 70), url: `https://x.example.com/${i}` })),
  traces: [],
  logs: { state: 'ready', lines: Array.from({ length: 20 }, () => ({ message: `${HOSTILE.mrkdwn} \`\`\` ${'y'.repeat(480)}` })) },
  failures: [{ part: 'catalog', reason: 'timeout' }],
};
const mrkdwn = (blocks: readonly SlackBlock[]): string =>
  blocks
    .flatMap((b) => [...('text' in b && b.text ? [b.text.text] : []), ...('fields' in b && b.fields ? b.fields.map((f) => f.text) : []), ...(b.type === 'context' ? b.elements.map((e) => e.text) : [])])
    .join('\n');

describe('Slack rendering of an enrichment', () => {
  it.each([
    // everything: fields, the log block, link buttons (Grafana, Traces); the rule has its own runbook, so the catalog's is not repeated
    ['full', FULL, ['*Owner*\nAlice', '*On-call*\n@payments-oncall', '```\n2026-11-22T05:00:00.000Z ERROR payment declined\n```'], 2],
    // a rule without a runbook: the catalog's runbook is a link button too
    ['catalog runbook', FULL, ['*Team*\npayments'], 3],
    // pending logs: said in a context line
    ['pending', { links: [], traces: [], failures: [], logs: { state: 'pending', key: 'k' } }, ['logs pending'], 0],
    // throttled: the reason in the text
    ['throttled', { links: [], traces: [], failures: [{ part: 'logs', reason: 'throttled' }], logs: { state: 'unavailable', reason: 'throttled' } }, ['logs unavailable: throttled'], 0],
  ] as const)('%s', (_name, e, wanted, linkButtons) => {
    const base = job('slack', { enrichment: e as Enrichment });
    const { runbookUrl: _r, ...withoutRunbook } = base.transition;
    const m = renderSlackMessage(_name === 'catalog runbook' ? { ...base, transition: withoutRunbook } : base, opts);
    expect(blockKitProblem(m)).toBeUndefined();
    const text = mrkdwn(m.attachments[0].blocks);
    for (const w of wanted) expect(text).toContain(w);
    const links = m.attachments[0].blocks.find((b) => b.type === 'actions' && b.block_id === 'klaxon_links');
    expect(links && 'elements' in links ? links.elements.length : 0).toBe(linkButtons);
  });

  it('hostile values are escaped, cannot close the code block, and every limit holds', () => {
    const m = renderSlackMessage(job('slack', { enrichment: HOSTILE_E }), opts);
    expect(blockKitProblem(m)).toBeUndefined();
    const text = mrkdwn(m.attachments[0].blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<script>');
    expect(text).toContain('&lt;!channel&gt;');
    const logs = m.attachments[0].blocks.find((b) => b.type === 'section' && 'text' in b && b.text?.text.startsWith('*Recent error logs*'));
    const body = logs && 'text' in logs ? logs.text!.text : '';
    expect(body.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    // exactly the opening and the closing fence: a line's backticks were replaced
    expect(body.match(/```/g)).toHaveLength(2);
    const links = m.attachments[0].blocks.find((b) => b.type === 'actions' && b.block_id === 'klaxon_links');
    expect(links && 'elements' in links ? links.elements.length : 0).toBe(10);
    expect(text).toContain('catalog unavailable: timed out');
  });

  it('the logs follow-up note posts the lines in the thread, or why there are none', () => {
    const note = { text: 'Recent error log lines', by: 'Klaxon', atMs: T0, source: 'enrichment' };
    const ready = renderSlackThreadReply(job('slack', { note, logsFollowUp: { key: 'k' }, enrichment: FULL }), opts);
    expect(mrkdwn(ready.attachments[0].blocks)).toContain('ERROR payment declined');
    const gaveUp = renderSlackThreadReply(job('slack', { note, logsFollowUp: { key: 'k', gaveUp: true }, enrichment: { links: [], traces: [], failures: [], logs: { state: 'unavailable', reason: 'timeout' } } }), opts);
    expect(mrkdwn(gaveUp.attachments[0].blocks)).toContain('logs unavailable: timed out');
  });
});

describe('email rendering of an enrichment', () => {
  it('HTML escapes every enriched value; the text part lists them', () => {
    const r = renderEmail(job('email', { enrichment: HOSTILE_E }), opts);
    expect(r.html).not.toContain('<script>');
    expect(r.html).toContain('&lt;script&gt;');
    expect(r.html).toContain('Recent error logs');
    expect(r.html).toContain('catalog unavailable: timed out');
    expect(r.text).toContain('Owner: <!channel>');
  });

  it('owner, links and lines; the rule runbook is not repeated', () => {
    const r = renderEmail(job('email', { enrichment: FULL }), opts);
    expect(r.text).toContain('Owner: Alice');
    expect(r.text).toContain('On-call: @payments-oncall');
    expect(r.text).toContain('Grafana: https://grafana.example.com/d/svc?var-service=checkout');
    expect(r.text).toContain('2026-11-22T05:00:00.000Z ERROR payment declined');
    expect(r.html).toContain('href="https://xray.example.com/t?s=checkout"');
  });

  it('pending logs are left out with the reason', () => {
    const r = renderEmail(job('email', { enrichment: { links: [], traces: [], failures: [], logs: { state: 'pending', key: 'k' } } }), opts);
    expect(r.text).toContain('(logs pending)');
    expect(r.html).not.toContain('Recent error logs');
  });
});

describe('PagerDuty rendering of an enrichment', () => {
  it.each([
    // full: custom_details and links (runbook/dashboard of the rule first, a repeated URL once)
    ['full', FULL, { owner: 'Alice', team: 'payments', on_call: '@payments-oncall', recent_logs: ['2026-11-22T05:00:00.000Z ERROR payment declined'] }, 5],
    // hostile: 40 links capped at 20; the failure said
    ['hostile', HOSTILE_E, { enrichment: 'catalog unavailable: timed out' }, 20],
  ] as const)('%s', (_n, e, details, links) => {
    const ev = renderPagerDutyEvent(job('pagerduty', { enrichment: e as Enrichment }), 'rk', opts) as PagerDutyTrigger;
    expect(ev.payload.custom_details).toMatchObject(details);
    expect(ev.links).toHaveLength(links);
    expect(Buffer.byteLength(JSON.stringify(ev))).toBeLessThan(512 * 1024);
  });
});

describe('group notifications get the catalog of their group labels', () => {
  const group = {
    id: `group:${'b'.repeat(32)}`,
    routePath: 'routes[0]',
    labels: { service: 'checkout' },
    reason: 'first-notification' as const,
    firing: [{ fingerprint: 'f1', status: 'firing' as const, severity: 'high' as const, name: 'Errors', instance: 'web-1', value: '7', startsAtMs: T0, labels: { service: 'checkout' } }],
    resolved: [],
    firingCount: 1,
    resolvedCount: 0,
    changes: { newFiring: 1, newResolved: 0 },
    seq: 1,
  };
  const E: Enrichment = { owner: HOSTILE.html, team: 'payments', links: [{ text: 'Grafana', url: 'https://grafana.example.com/d/svc' }], traces: [], failures: [] };
  const t = { fingerprint: group.id, labels: { service: 'checkout' } };

  it('Slack: fields and link buttons, within Block Kit', () => {
    const m = renderSlackMessage(job('slack', { group, t, enrichment: E }), opts);
    expect(blockKitProblem(m)).toBeUndefined();
    expect(mrkdwn(m.attachments[0].blocks)).toContain('*Team*\npayments');
    expect(m.attachments[0].blocks.some((b) => b.type === 'actions' && b.block_id === 'klaxon_links')).toBe(true);
  });

  it('email: owner escaped, links in both parts', () => {
    const r = renderEmail(job('email', { group, t, enrichment: E }), opts);
    expect(r.html).toContain('&lt;script&gt;');
    expect(r.html).not.toContain('<script>');
    expect(r.text).toContain('Team: payments');
    expect(r.text).toContain('Grafana: https://grafana.example.com/d/svc');
  });

  it('PagerDuty: custom_details and links', () => {
    const ev = renderPagerDutyEvent(job('pagerduty', { group, t, enrichment: E }), 'rk', opts) as PagerDutyTrigger;
    expect(ev.payload.custom_details).toMatchObject({ team: 'payments' });
    expect(ev.links).toEqual([{ href: 'https://grafana.example.com/d/svc', text: 'Grafana' }]);
  });
});
