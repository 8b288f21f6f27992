import { describe, expect, it } from 'vitest';
import { renderSlackMessage, renderSlackThreadReply, SLACK_ACTION_IDS, SLACK_COLOURS, SLACK_GROUP_ACTION_IDS, SLACK_LIMITS, type SlackBlock, type SlackMessage, type SlackText } from '../../shared/core/format/slack.ts';
import { renderEmail, EMAIL_SUBJECT_MAX } from '../../shared/core/format/email.ts';
import { renderPagerDutyEvent, type PagerDutyGroupAlert, type PagerDutyTrigger } from '../../shared/core/format/pagerduty.ts';
import { groupView } from '../../shared/core/deliver/alert-view.ts';
import { blockKitProblem } from '../../local/receivers/slack.ts';
import { pagerDutyEventErrors } from '../../local/receivers/pagerduty.ts';
import { job, resolvedOf, T0 } from '../integration/deliver-fixtures.ts';
import { GROUP_ID, groupJob, hostileGroupJob } from '../integration/group-fixtures.ts';

const opts = { productName: 'Klaxon', dashboardUrl: 'https://grafana.example.com/home' };
const KEY = 'R0UT1NGKEY0000000000000000000001';

const blocksOf = (m: SlackMessage): readonly SlackBlock[] => m.attachments[0].blocks;
const header = (m: SlackMessage): string => (blocksOf(m)[0] as { text: SlackText }).text.text;
/** Every mrkdwn text of a message (sections, fields, context). */
const mrkdwnTexts = (blocks: readonly SlackBlock[]): string[] =>
  blocks.flatMap((b) => [
    ...('text' in b && b.text?.type === 'mrkdwn' ? [b.text.text] : []),
    ...('fields' in b && b.fields ? b.fields.map((f: SlackText) => f.text) : []),
    ...(b.type === 'context' ? b.elements.map((e) => e.text) : []),
  ]);
/** The alert lines of a group message (each starts with a severity or resolved emoji). */
const alertLines = (m: SlackMessage): string[] =>
  blocksOf(m)
    .flatMap((b) => (b.type === 'section' && b.text ? b.text.text.split('\n') : []))
    .filter((l) => /^:(red_circle|large_\w+_circle|white_check_mark): \*/.test(l));
const buttons = (m: SlackMessage): { action_id: string; value?: string }[] => blocksOf(m).flatMap((b) => (b.type === 'actions' ? b.elements : []));
const andMore = (s: string): number => Number(/…and (\d+) more/.exec(s)?.[1] ?? 0);

/** Asserts every Block Kit limit the renderer promises, as the local receiver checks them too. */
function expectWithinSlackLimits(m: SlackMessage): void {
  const blocks = blocksOf(m);
  expect(blockKitProblem(m)).toBeUndefined();
  expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const b of blocks) {
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    if (b.type === 'context') {
      expect(b.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
      for (const e of b.elements) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
    }
  }
  expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
}

describe('group view', () => {
  it.each([
    // [case, firing, resolved, Alertmanager status tag, both counts]
    ['firing only', 12, 0, '[FIRING:12]', '[FIRING:12]'],
    ['firing and resolved', 3, 1, '[FIRING:3]', '[FIRING:3, RESOLVED:1]'],
    ['all resolved', 0, 4, '[RESOLVED]', '[RESOLVED:4]'],
    // counts, not lists: 500 firing though 100 are listed
    ['more than listed', 500, 150, '[FIRING:500]', '[FIRING:500, RESOLVED:150]'],
  ])('%s: %s firing, %s resolved → %s / %s', (_c, firing, resolved, status, counts) => {
    const g = groupView(groupJob('slack', { firing, resolved, seq: 2 }))!;
    expect([g.statusTag, g.countsTag]).toEqual([status, counts]);
    expect(g.unlistedFiring + g.firing.length).toBe(firing);
    expect(g.unlistedResolved + g.resolvedMembers.length).toBe(resolved);
  });

  it('is undefined for a per-alert job', () => {
    expect(groupView(job('slack'))).toBeUndefined();
  });
});

describe('slack: group message', () => {
  it('has the [FIRING:N] header with the group labels, the changes, one line per alert and group buttons valued with the group id', () => {
    const m = renderSlackMessage(groupJob('slack', { firing: 3 }), opts);
    expect(header(m)).toBe(':rotating_light: [FIRING:3] HighCPU — cluster=eu1');
    expect(m.text).toBe('[FIRING:3] HighCPU — cluster=eu1');
    expect(m.attachments[0].color).toBe(SLACK_COLOURS.critical);
    const lines = alertLines(m);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^:red_circle: \*CRITICAL\* `new` HighCPU — web-0: CPU above 90% on web-0 · since 2026-11-22T04:00:00\.000Z$/);
    expect(mrkdwnTexts(blocksOf(m))).toContain('Group: cluster=eu1');
    expect(buttons(m).map((b) => [b.action_id, b.value])).toEqual([
      [SLACK_ACTION_IDS.dashboard, undefined],
      [SLACK_GROUP_ACTION_IDS.acknowledge, GROUP_ID],
      [SLACK_GROUP_ACTION_IDS.silence1h, GROUP_ID],
      [SLACK_GROUP_ACTION_IDS.silence4h, GROUP_ID],
      [SLACK_GROUP_ACTION_IDS.silenceUntilResolved, GROUP_ID],
    ]);
    expectWithinSlackLimits(m);
  });

  it.each([
    // [case, options, text of the changes section]
    ['first notification', { firing: 12 }, '12 firing'],
    ['an update: new and resolved', { firing: 12, resolved: 2, seq: 3, newFiring: 3 }, '3 new, 2 resolved since the last update: 12 firing (update #3)'],
    ['a reminder with no change', { firing: 5, seq: 4, reason: 'repeat' as const }, 'No change since the last update: 5 still firing (reminder) (update #4)'],
    ['the last alerts resolved', { firing: 0, resolved: 2, seq: 2 }, '2 resolved since the last update: all resolved (update #2)'],
  ])('says what changed: %s', (_c, o, text) => {
    const m = renderSlackMessage(groupJob('slack', o), opts);
    expect((blocksOf(m)[1] as { text: SlackText }).text.text).toBe(text);
  });

  it('lists firing alerts before resolved ones', () => {
    const m = renderSlackMessage(groupJob('slack', { firing: 2, resolved: 2, seq: 2, newFiring: 0 }), opts);
    expect(alertLines(m).map((l) => l.split(' ')[0])).toEqual([':red_circle:', ':large_orange_circle:', ':white_check_mark:', ':white_check_mark:']);
    const all = mrkdwnTexts(blocksOf(m)).join('\n');
    expect(all.indexOf('*Firing (2)*')).toBeLessThan(all.indexOf('*Resolved (2)*'));
  });

  it('renders an all-resolved group as [RESOLVED], green, without Acknowledge/Silence', () => {
    const m = renderSlackMessage(groupJob('slack', { firing: 0, resolved: 3, seq: 2 }), opts);
    expect(header(m)).toBe(':white_check_mark: [RESOLVED] HighCPU — cluster=eu1');
    expect(m.attachments[0].color).toBe(SLACK_COLOURS.resolved);
    expect(buttons(m).map((b) => b.action_id)).toEqual([SLACK_ACTION_IDS.dashboard]);
  });

  it('renders a 500-alert group within every Block Kit limit and counts the rest: "…and N more"', () => {
    const m = renderSlackMessage(groupJob('slack', { firing: 500, resolved: 150 }), opts);
    expectWithinSlackLimits(m);
    const listed = alertLines(m).length;
    expect(listed).toBeGreaterThan(20);
    const more = mrkdwnTexts(blocksOf(m)).find((t) => t.startsWith('…and '));
    expect(more).toBeDefined();
    // Everything is either listed or counted, never lost.
    expect(listed + andMore(more!)).toBe(650);
  });

  it('escapes hostile group labels, names and summaries: no <!channel>, mention, link or HTML survives; still within limits', () => {
    const m = renderSlackMessage(hostileGroupJob('slack'), opts);
    expectWithinSlackLimits(m);
    for (const t of [...mrkdwnTexts(blocksOf(m)), m.text, header(m)]) {
      expect(t).not.toMatch(/<[!@#]|<https?:/);
      expect(t).not.toContain('<script>');
      expect(t).not.toMatch(/[\r]/);
    }
    expect(JSON.stringify(m)).toContain('&lt;!channel&gt;');
    // A hostile `*` stays inside its own line: every alert line still starts with our severity marker.
    for (const l of alertLines(m)) expect(l).toMatch(/^:\w+: \*(CRITICAL|HIGH|MEDIUM|LOW)\* /);
    expect(alertLines(m).length + andMore(mrkdwnTexts(blocksOf(m)).find((t) => t.startsWith('…and '))!)).toBe(650);
  });
});

describe('slack: group thread reply', () => {
  it('names the new firing alerts and the resolved ones', () => {
    const r = renderSlackThreadReply(groupJob('slack', { firing: 12, resolved: 2, seq: 3, newFiring: 2 }), opts);
    const text = (r.attachments[0].blocks[0] as { text: SlackText }).text.text;
    expect(text).toBe(
      [
        '2 new, 2 resolved since the last update: 12 firing (update #3).',
        ':rotating_light: New: HighCPU — web-0, HighCPU — web-1',
        ':white_check_mark: Resolved: HighCPU — web-1000, HighCPU — web-1001',
      ].join('\n'),
    );
    expect(blockKitProblem(r)).toBeUndefined();
  });

  it.each([
    // [case, options, expected line]
    // dispatch did not mark which alerts are new: the count, never a guess
    ['new alerts not marked', { firing: 5, seq: 2, newFiring: 2, markNew: false }, ':rotating_light: 2 new firing'],
    // 150 resolved, 100 listed, 20 named
    ['names capped', { firing: 1, resolved: 150, seq: 2 }, ':white_check_mark: Resolved: HighCPU — web-1000, '],
    ['all resolved', { firing: 0, resolved: 3, seq: 2 }, ':white_check_mark: All 3 alerts of this group resolved.'],
    ['reminder', { firing: 2, seq: 5, reason: 'repeat' as const }, ':repeat: Still firing: HighCPU — web-0, HighCPU — web-1'],
  ])('%s', (_c, o, line) => {
    const text = (renderSlackThreadReply(groupJob('slack', o), opts).attachments[0].blocks[0] as { text: SlackText }).text.text;
    expect(text).toContain(line);
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    if (_c === 'names capped') expect(text).toMatch(/…and 130 more$/);
  });
});

describe('reminders (per-alert jobs)', () => {
  const reminder = () => job('slack', { t: { firedAtMs: T0 - 4 * 3_600_000 }, reminder: { lastSentAtMs: T0 - 3_600_000 } });

  it('slack says it is a reminder in the header, a field and the fallback', () => {
    const m = renderSlackMessage(reminder(), opts);
    expect(header(m)).toBe(':repeat: CRITICAL (reminder): High CPU — web-1');
    expect(mrkdwnTexts(blocksOf(m)).join('\n')).toContain('*Reminder*\nStill firing since 2026-11-22T01:00:00.000Z (4h), reminder; last notified 2026-11-22T04:00:00.000Z');
    expect(m.text.startsWith('[CRITICAL] [REMINDER] High CPU')).toBe(true);
  });

  it('email prefixes the subject [REMINDER] and says so in the facts', () => {
    const e = renderEmail({ ...reminder(), channel: 'email' }, opts);
    expect(e.subject).toBe('[REMINDER] [CRITICAL] High CPU — web-1');
    expect(e.text).toContain('Reminder: Still firing since 2026-11-22T01:00:00.000Z');
  });

  it('pagerduty re-triggers the same incident with the reminder in custom_details', () => {
    const j = reminder();
    const e = renderPagerDutyEvent(j, KEY, opts) as PagerDutyTrigger;
    expect(e.dedup_key).toBe(j.transition.fingerprint);
    expect(e.payload.custom_details.reminder).toMatch(/^Still firing since /);
  });

  it('a resolution is never called a reminder', () => {
    const m = renderSlackMessage(resolvedOf(reminder()), opts);
    expect(JSON.stringify(m)).not.toContain('reminder');
  });
});

describe('email: group digest', () => {
  it.each([
    // [case, options, subject]
    ['firing', { firing: 3 }, '[FIRING:3] cluster=eu1'],
    ['firing and resolved', { firing: 3, resolved: 1, seq: 2 }, '[FIRING:3, RESOLVED:1] cluster=eu1'],
    ['all resolved', { firing: 0, resolved: 2, seq: 2 }, '[RESOLVED:2] cluster=eu1'],
    ['several group labels, sorted', { firing: 1, labels: { env: 'prod', cluster: 'eu1' } }, '[FIRING:1] cluster=eu1, env=prod'],
    // group_by nothing: the title instead of empty labels
    ['no group labels', { firing: 2, labels: {} }, '[FIRING:2] HighCPU'],
    ['a reminder', { firing: 2, seq: 6, reason: 'repeat' as const }, '[REMINDER] [FIRING:2] cluster=eu1'],
  ])('subject: %s', (_c, o, subject) => {
    expect(renderEmail(groupJob('email', o), opts).subject).toBe(subject);
  });

  it('lists every alert in an HTML table and the text part, firing first', () => {
    const e = renderEmail(groupJob('email', { firing: 2, resolved: 1, seq: 2, newFiring: 1 }), opts);
    expect(e.html.match(/<tr><td style="padding:6px 8px;vertical-align:top;color:/g)).toHaveLength(3);
    expect(e.html).toContain('FIRING (new)');
    expect(e.text).toContain('FIRING (new) [CRITICAL] HighCPU — web-0: CPU above 90% on web-0 (since 2026-11-22T04:00:00.000Z)');
    expect(e.text.indexOf('FIRING [HIGH] HighCPU — web-1')).toBeLessThan(e.text.indexOf('RESOLVED [CRITICAL] HighCPU — web-1000'));
    expect(e.text).toContain('1 new, 1 resolved since the last update: 2 firing');
    expect(e.html).toContain('href="https://grafana.example.com/home"');
  });

  it('caps a 500-alert digest below Gmail’s clipping and counts the rest', () => {
    const e = renderEmail(groupJob('email', { firing: 500, resolved: 150 }), opts);
    expect(Buffer.byteLength(e.html)).toBeLessThan(102_000);
    const rows = e.text.split('\n').filter((l) => /^(FIRING|RESOLVED)/.test(l)).length;
    expect(rows + andMore(e.text)).toBe(650);
    expect(e.html).toContain(`…and ${650 - rows} more`);
  });

  it('escapes hostile values in HTML and keeps the subject one bounded line (no header injection)', () => {
    const e = renderEmail(hostileGroupJob('email'), opts);
    expect(e.html).not.toContain('<script');
    expect(e.html).not.toContain('<img');
    expect(e.html).not.toContain('<b>bold');
    expect(e.html).toContain('&lt;script&gt;');
    expect(e.html).toContain('&quot;&#39;&gt;&lt;b&gt;');
    for (const m of e.html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^https?:\/\//);
    expect(e.subject).not.toMatch(/[\r\n]/);
    expect(e.subject.length).toBeLessThanOrEqual(EMAIL_SUBJECT_MAX);
    expect(e.subject.startsWith('[FIRING:500, RESOLVED:150] cluster=')).toBe(true);
    expect(Buffer.byteLength(e.html)).toBeLessThan(102_000);
  });
});

describe('pagerduty: one incident per group', () => {
  it('triggers with dedup_key = group id, the [FIRING:N] summary and the alerts in custom_details', () => {
    const e = renderPagerDutyEvent(groupJob('pagerduty', { firing: 12, resolved: 1, seq: 2 }), KEY, opts) as PagerDutyTrigger;
    expect(e).toMatchObject({ event_action: 'trigger', dedup_key: GROUP_ID, payload: { summary: '[FIRING:12] cluster=eu1', severity: 'critical', source: 'cluster=eu1', class: 'HighCPU' } });
    const d = e.payload.custom_details;
    expect(d).toMatchObject({ group_id: GROUP_ID, firing_count: 12, resolved_count: 1, group_labels: { cluster: 'eu1' } });
    const alerts = d.alerts as PagerDutyGroupAlert[];
    expect(alerts).toHaveLength(13);
    expect(alerts[0]).toEqual({
      status: 'firing',
      name: 'HighCPU',
      instance: 'web-0',
      severity: 'critical',
      summary: 'CPU above 90% on web-0',
      value: '97.5',
      labels: { alertname: 'HighCPU', cluster: 'eu1', instance: 'web-0' },
      started: '2026-11-22T04:00:00.000Z',
    });
    expect(alerts.at(-1)).toMatchObject({ status: 'resolved', ended: '2026-11-22T04:59:00.000Z' });
    expect(d.and_more).toBeUndefined();
    expect(pagerDutyEventErrors(e, JSON.stringify(e).length)).toEqual([]);
  });

  it.each([
    // [case, seq, resolved count]
    ['the last alert resolved', 2, 1],
    ['many resolved at once', 7, 150],
  ])('resolves with the same dedup_key when nothing fires: %s', (_c, seq, resolved) => {
    const e = renderPagerDutyEvent(groupJob('pagerduty', { firing: 0, resolved, seq }), KEY, opts);
    expect(e).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: GROUP_ID });
  });

  it.each([
    // [case, job]
    ['500 alerts', groupJob('pagerduty', { firing: 500, resolved: 150 })],
    ['500 hostile alerts with long values', hostileGroupJob('pagerduty')],
  ])('stays well under 512 KB with %s and counts the rest as and_more', (_c, j) => {
    const e = renderPagerDutyEvent(j, KEY, opts) as PagerDutyTrigger;
    const raw = JSON.stringify(e);
    expect(Buffer.byteLength(raw)).toBeLessThan(300 * 1024);
    expect(pagerDutyEventErrors(e, raw.length)).toEqual([]);
    expect(e.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(e.payload.summary).not.toMatch(/[\r\n]/);
    const listed = (e.payload.custom_details.alerts as unknown[]).length;
    expect(listed + (e.payload.custom_details.and_more as number)).toBe(650);
  });
});
