/**
 * A small Block Kit → HTML renderer for the local console's Slack previews. It covers what Klaxon's
 * messages use (header, section text and fields, context, divider, actions with buttons, legacy
 * attachments with a colour bar) and Slack's mrkdwn (bold, italic, strike, code, links, quotes).
 * Everything is escaped first; only the markup this file adds is HTML.
 * https://docs.slack.dev/reference/block-kit/blocks
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Slack's own escaping (`&amp; &lt; &gt;`) undone, so it is not escaped twice. */
function unSlack(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const safeUrl = (u: string): string => (/^(https?:|mailto:)/i.test(u) ? u : '#');

/** The emoji shortcodes Klaxon's messages use (others stay as text). */
const EMOJI: Readonly<Record<string, string>> = {
  warning: '⚠️',
  rotating_light: '🚨',
  white_check_mark: '✅',
  fire: '🔥',
  information_source: 'ℹ️',
  red_circle: '🔴',
  large_green_circle: '🟢',
};
const emoji = (s: string): string => s.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);

/** Renders Slack mrkdwn to HTML. https://docs.slack.dev/messaging/formatting-message-text */
export function mrkdwnToHtml(text: string): string {
  // Links first (<url|label>, <url>), while the angle brackets are still Slack's.
  const parts: string[] = [];
  const re = /<([^<>|]+)(?:\|([^<>]*))?>/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    parts.push(inline(unSlack(text.slice(last, m.index))));
    const url = unSlack(m[1]!);
    const label = m[2] !== undefined ? unSlack(m[2]) : url;
    if (/^[#@!]/.test(url)) parts.push(`<span class="sk-mention">${escapeHtml(label)}</span>`);
    else parts.push(`<a href="${escapeHtml(safeUrl(url))}" target="_blank" rel="noopener">${escapeHtml(label)}</a>`);
    last = m.index + m[0].length;
  }
  parts.push(inline(unSlack(text.slice(last))));
  return parts.join('');
}

function inline(raw: string): string {
  let s = escapeHtml(emoji(raw));
  s = s.replace(/```([\s\S]*?)```/g, '<pre>$1</pre>');
  s = s.replace(/`([^`\n]+)`/g, '<code>$1</code>');
  s = s.replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1<b>$2</b>');
  s = s.replace(/(^|[\s(])_([^_\n]+)_/g, '$1<i>$2</i>');
  s = s.replace(/(^|[\s(])~([^~\n]+)~/g, '$1<s>$2</s>');
  s = s.replace(/^&gt; ?(.*)$/gm, '<blockquote>$1</blockquote>');
  return s.replace(/\n/g, '<br>');
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function textObject(t: unknown): string {
  if (!isObj(t) || typeof t.text !== 'string') return '';
  return t.type === 'mrkdwn' ? mrkdwnToHtml(t.text) : escapeHtml(t.emoji === false ? t.text : emoji(t.text));
}

function element(e: unknown): string {
  if (!isObj(e)) return '';
  if (e.type === 'button') {
    const label = textObject(e.text);
    const style = e.style === 'primary' || e.style === 'danger' ? ` sk-${e.style}` : '';
    if (typeof e.url === 'string') return `<a class="sk-button${style}" href="${escapeHtml(safeUrl(e.url))}" target="_blank" rel="noopener">${label}</a>`;
    return `<span class="sk-button${style}" title="${escapeHtml(String(e.action_id ?? ''))}">${label}</span>`;
  }
  if (e.type === 'image') return `<img class="sk-image" alt="${escapeHtml(String(e.alt_text ?? ''))}" src="${escapeHtml(safeUrl(String(e.image_url ?? '')))}">`;
  if (e.type === 'mrkdwn' || e.type === 'plain_text') return `<span>${textObject(e)}</span>`;
  return '';
}

function block(b: unknown): string {
  if (!isObj(b)) return '';
  switch (b.type) {
    case 'header':
      return `<div class="sk-header">${textObject(b.text)}</div>`;
    case 'divider':
      return '<hr class="sk-divider">';
    case 'section': {
      const text = b.text ? `<div class="sk-text">${textObject(b.text)}</div>` : '';
      const fields = Array.isArray(b.fields) ? `<div class="sk-fields">${b.fields.map((f) => `<div class="sk-field">${textObject(f)}</div>`).join('')}</div>` : '';
      const acc = b.accessory ? `<div class="sk-accessory">${element(b.accessory)}</div>` : '';
      return `<div class="sk-section">${text}${fields}${acc}</div>`;
    }
    case 'context':
      return `<div class="sk-context">${(Array.isArray(b.elements) ? b.elements : []).map(element).join(' ')}</div>`;
    case 'actions':
      return `<div class="sk-actions">${(Array.isArray(b.elements) ? b.elements : []).map(element).join('')}</div>`;
    default:
      return `<div class="sk-unknown">[${escapeHtml(String(b.type))} block]</div>`;
  }
}

/**
 * Renders a Slack message payload (incoming webhook or chat.postMessage body) to HTML: its blocks,
 * its attachments' blocks behind a colour bar, or the top-level `text` when there are no blocks.
 */
export function renderBlockKit(payload: unknown): string {
  if (!isObj(payload)) return '';
  const out: string[] = [];
  if (Array.isArray(payload.blocks) && payload.blocks.length > 0) out.push(payload.blocks.map(block).join(''));
  if (Array.isArray(payload.attachments)) {
    for (const a of payload.attachments) {
      if (!isObj(a)) continue;
      const colour = typeof a.color === 'string' && /^#?[0-9a-fA-F]{3,8}$/.test(a.color) ? (a.color.startsWith('#') ? a.color : `#${a.color}`) : '#dddddd';
      const inner = Array.isArray(a.blocks) ? a.blocks.map(block).join('') : typeof a.text === 'string' ? `<div class="sk-text">${mrkdwnToHtml(a.text)}</div>` : '';
      out.push(`<div class="sk-attachment" style="border-left-color:${colour}">${inner}</div>`);
    }
  }
  if (out.length === 0 && typeof payload.text === 'string') out.push(`<div class="sk-text">${mrkdwnToHtml(payload.text)}</div>`);
  return `<div class="sk-message">${out.join('')}</div>`;
}
