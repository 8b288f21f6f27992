import { describe, expect, it } from 'vitest';
import { mrkdwnToHtml, renderBlockKit } from '../../local/console/block-kit.ts';

describe('mrkdwnToHtml', () => {
  it.each([
    // bold, italic, strike, code
    ['*CPU* is _high_ ~now~ `95%`', '<b>CPU</b> is <i>high</i> <s>now</s> <code>95%</code>'],
    // a labelled link
    ['see <https://x.example/r?a=1&amp;b=2|the runbook>', 'see <a href="https://x.example/r?a=1&amp;b=2" target="_blank" rel="noopener">the runbook</a>'],
    // Slack-escaped angle brackets come out as text, never as markup
    ['&lt;script&gt;alert(1)&lt;/script&gt;', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    // raw HTML in a label value is escaped
    ['<b onmouseover=x>hi</b>', '<a href="#" target="_blank" rel="noopener">b onmouseover=x</a>hi<a href="#" target="_blank" rel="noopener">/b</a>'],
    // a javascript: link is neutralised
    ['<javascript:alert(1)|click>', '<a href="#" target="_blank" rel="noopener">click</a>'],
    // line breaks
    ['a\nb', 'a<br>b'],
  ])('%s', (input, html) => {
    expect(mrkdwnToHtml(input)).toBe(html);
  });
});

describe('renderBlockKit', () => {
  const message = {
    text: 'fallback',
    attachments: [
      {
        color: '#E01E5A',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: '🔴 [HIGH] High CPU <usage>' } },
          { type: 'section', fields: [{ type: 'mrkdwn', text: '*Value*\n95' }, { type: 'mrkdwn', text: '*Condition*\n> 80' }] },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'rule `cpu_high`' }] },
          { type: 'divider' },
          {
            type: 'actions',
            elements: [
              { type: 'button', text: { type: 'plain_text', text: 'Runbook' }, url: 'https://wiki.example.com/r' },
              { type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, action_id: 'ack', style: 'primary' },
            ],
          },
        ],
      },
    ],
  };

  it('renders header, fields, context, divider and buttons behind the colour bar', () => {
    const html = renderBlockKit(message);
    expect(html).toContain('border-left-color:#E01E5A');
    expect(html).toContain('<div class="sk-header">🔴 [HIGH] High CPU &lt;usage&gt;</div>');
    expect(html).toContain('<div class="sk-field"><b>Value</b><br>95</div>');
    expect(html).toContain('<code>cpu_high</code>');
    expect(html).toContain('<hr class="sk-divider">');
    expect(html).toContain('<a class="sk-button" href="https://wiki.example.com/r"');
    expect(html).toContain('<span class="sk-button sk-primary" title="ack">Acknowledge</span>');
    expect(html).not.toContain('fallback');
  });

  it('falls back to the top-level text when there are no blocks', () => {
    expect(renderBlockKit({ text: '*resolved*' })).toBe('<div class="sk-message"><div class="sk-text"><b>resolved</b></div></div>');
  });

  it('ignores a colour that is not a colour', () => {
    expect(renderBlockKit({ attachments: [{ color: 'red;background:url(x)', text: 'x' }] })).toContain('border-left-color:#dddddd');
  });
});
