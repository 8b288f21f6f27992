import { describe, expect, it } from 'vitest';
import { renderSlackMessage, renderSlackThreadReply, SLACK_ACTION_IDS, SLACK_COLOURS, SLACK_LIMITS, type SlackBlock, type SlackText } from '../../shared/core/format/slack.ts';
import { blockKitProblem } from '../../local/receivers/slack.ts';
import { hostileJob, job, resolvedOf } from '../integration/deliver-fixtures.ts';

const opts = { productName: 'Klaxon', dashboardUrl: 'https://grafana.example.com/home' };
const texts = (blocks: readonly SlackBlock[]): string[] =>
  blocks.flatMap((b) => {
    const out: string[] = [];
    if ('text' in b && b.text) out.push(b.text.text);
    if ('fields' in b && b.fields) out.push(...b.fields.map((f: SlackText) => f.text));
    if ('elements' in b) for (const e of b.elements) out.push('action_id' in e ? e.text.text : e.text);
    return out;
  });
const mrkdwnTexts = (blocks: readonly SlackBlock[]): string[] =>
  blocks.flatMap((b) => [
    ...('text' in b && b.text?.type === 'mrkdwn' ? [b.text.text] : []),
    ...('fields' in b && b.fields ? b.fields.map((f: SlackText) => f.text) : []),
    ...(b.type === 'context' ? b.elements.map((e) => e.text) : []),
  ]);

describe('slack format', () => {
  it('renders header with severity, value vs condition, labels, context and the actions', () => {
    const m = renderSlackMessage(job('slack', { fireCount: 4, suppressed: { count: 3, sinceMs: 0 } }), opts);
    const blocks = m.attachments[0].blocks;
    expect(blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect((blocks[0] as { text: SlackText }).text.text).toContain('CRITICAL: High CPU — web-1');
    const all = texts(blocks).join('\n');
    expect(all).toContain('*Value*\n97.25');
    expect(all).toContain('*Condition*\navg_over_time(5m) &gt; 90');
    expect(all).toContain('*Fire count*\n4');
    expect(all).toContain('+3 occurrences since 1970-01-01T00:00:00.000Z');
    expect(all).toContain('team=ops');
    expect(all).toContain('fingerprint fp-');
    const actions = blocks.find((b) => b.type === 'actions');
    expect(actions && 'elements' in actions ? actions.elements.map((e) => ('action_id' in e ? e.action_id : '')) : []).toEqual([
      SLACK_ACTION_IDS.runbook,
      SLACK_ACTION_IDS.dashboard,
      SLACK_ACTION_IDS.acknowledge,
      SLACK_ACTION_IDS.silence1h,
      SLACK_ACTION_IDS.silence4h,
      SLACK_ACTION_IDS.silenceUntilResolved,
    ]);
    expect(m.attachments[0].color).toBe(SLACK_COLOURS.critical);
    expect(m.text).toBe('[CRITICAL] High CPU — web-1: CPU above 90% for 5 minutes');
  });

  it('colours by severity and says why it escalated', () => {
    const m = renderSlackMessage(job('slack', { severity: 'medium', escalation: { from: 'low', reason: 'fired 3 times within 1h' } }), opts);
    expect(m.attachments[0].color).toBe(SLACK_COLOURS.medium);
    expect(texts(m.attachments[0].blocks).join('\n')).toContain('Escalated from LOW: fired 3 times within 1h');
  });

  it('renders a resolution in green without Acknowledge/Silence, and a thread reply', () => {
    const r = resolvedOf(job('slack'));
    const m = renderSlackMessage(r, opts);
    expect(m.attachments[0].color).toBe(SLACK_COLOURS.resolved);
    expect(m.text.startsWith('[RESOLVED CRITICAL]')).toBe(true);
    expect(JSON.stringify(m)).not.toContain(SLACK_ACTION_IDS.acknowledge);
    expect(renderSlackThreadReply(r, opts).text).toContain('after 10m');
  });

  it('escapes every mrkdwn control sequence from alerts: no <!channel>, mention or link survives', () => {
    const m = renderSlackMessage(hostileJob('slack'), opts);
    for (const t of [...mrkdwnTexts(m.attachments[0].blocks), m.text]) {
      expect(t).not.toMatch(/<[!@#]|<https?:/);
      expect(t).not.toContain('<script>');
    }
    expect(JSON.stringify(m)).toContain('&lt;!channel&gt;');
  });

  it('keeps every Block Kit limit with 10,000-character values and 60 labels (truncates, never fails)', () => {
    const m = renderSlackMessage(hostileJob('slack'), opts);
    const blocks = m.attachments[0].blocks;
    expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(blockKitProblem(m)).toBeUndefined();
    for (const b of blocks) {
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      if (b.type === 'section' && b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
        for (const f of b.fields) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
      }
    }
    expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
    expect(JSON.stringify(m)).toContain('…');
  });

  it('makes buttons only from http(s) URLs within the URL limit (javascript: and 4,000-char URLs are dropped)', () => {
    const m = renderSlackMessage(hostileJob('slack'), opts);
    const actions = m.attachments[0].blocks.find((b) => b.type === 'actions');
    const ids = actions && 'elements' in actions ? actions.elements.map((e) => ('action_id' in e ? e.action_id : '')) : [];
    expect(ids).toEqual([SLACK_ACTION_IDS.acknowledge, SLACK_ACTION_IDS.silence1h, SLACK_ACTION_IDS.silence4h, SLACK_ACTION_IDS.silenceUntilResolved]);
    expect(JSON.stringify(m)).not.toContain('javascript:');
  });

  it('does not cut an escaped entity in half when truncating', () => {
    const j = job('slack', { t: { annotations: { summary: '&'.repeat(5000) } } });
    const section = renderSlackMessage(j, opts).attachments[0].blocks[1] as { text: SlackText };
    expect(section.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(section.text.text).toMatch(/^(&amp;)+…$/);
  });
});
