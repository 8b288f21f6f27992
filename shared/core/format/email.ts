/**
 * Alert email: subject `[SEVERITY] name — instance`, an HTML part (table layout, inline CSS, product
 * name and colours configurable) and a plain-text part. Rendered with eta, whose `<%= %>` escapes
 * `& < > " '` by default (autoEscape), so every alert value is escaped in text and in attribute
 * values; URLs are additionally allow-listed to http(s) before they reach an `href`. A group job
 * renders as a digest (`[FIRING:3, RESOLVED:1] <group labels>`, one table row per listed alert).
 *
 * HTML practice (tables, inline styles, < 100 KB): see https://www.caniemail.com/ and Gmail's 102 KB clipping (https://support.google.com/mail/answer/6594).
 */
import { Eta } from 'eta/core';
import type { NotificationJob, Severity } from '../model/index.ts';
import { alertView, andMoreText, groupView, type AlertView, type GroupMemberLine, type GroupView } from '../deliver/alert-view.ts';
import { safeHttpUrl, singleLine, truncate } from './escape.ts';
import { enrichmentFacts, enrichmentLinks, enrichmentNotes, logLineText, type Enrichment } from '../enrich/types.ts';

/** Colours of the HTML email (hex, inline). */
export interface EmailColours {
  readonly severity: Readonly<Record<Severity | 'resolved', string>>;
  readonly text: string;
  readonly muted: string;
  readonly background: string;
  readonly panel: string;
  readonly link: string;
}

/** Default colours. */
export const DEFAULT_EMAIL_COLOURS: EmailColours = {
  severity: { critical: '#D50000', high: '#E65100', medium: '#B28704', low: '#1565C0', resolved: '#2E7D32' },
  text: '#1F2328',
  muted: '#59636E',
  background: '#F6F8FA',
  panel: '#FFFFFF',
  link: '#0969DA',
};

/** Options the deployment sets. */
export interface EmailFormatOptions {
  readonly productName: string;
  readonly dashboardUrl?: string;
  readonly colours?: EmailColours;
}

/** A rendered email. */
export interface RenderedEmail {
  /** Single line (CR/LF removed), at most {@link EMAIL_SUBJECT_MAX} characters. */
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** Subject length cap: RFC 5322 recommends lines ≤ 78 characters; mail clients show ~100; keep room. */
export const EMAIL_SUBJECT_MAX = 200;
/** Cap per displayed value so one huge label cannot push the mail past Gmail's ~100 KB clipping. */
const VALUE_MAX = 2000;

const HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title><%= it.subject %></title></head>
<body style="margin:0;padding:0;background:<%= it.c.background %>;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:<%= it.c.background %>;">
<tr><td align="center" style="padding:24px 8px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:640px;max-width:100%;background:<%= it.c.panel %>;border:1px solid #D0D7DE;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:<%= it.c.text %>;">
<tr><td style="background:<%= it.accent %>;color:#FFFFFF;padding:16px 24px;font-size:18px;font-weight:bold;"><%= it.banner %></td></tr>
<tr><td style="padding:20px 24px 8px 24px;font-size:20px;font-weight:bold;"><%= it.v.name %> — <%= it.v.instance %></td></tr>
<% if (it.summary) { %><tr><td style="padding:4px 24px 12px 24px;font-size:15px;line-height:1.5;white-space:pre-wrap;"><%= it.summary %></td></tr><% } %>
<tr><td style="padding:8px 24px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="font-size:14px;">
<% it.facts.forEach(function (f) { %><tr><td width="160" style="padding:6px 8px 6px 0;color:<%= it.c.muted %>;vertical-align:top;"><%= f[0] %></td><td style="padding:6px 0;vertical-align:top;word-break:break-word;"><%= f[1] %></td></tr>
<% }) %></table></td></tr>
<% if (it.links.length) { %><tr><td style="padding:12px 24px;font-size:14px;"><% it.links.forEach(function (l, i) { %><% if (i) { %> &nbsp;|&nbsp; <% } %><a href="<%= l.url %>" style="color:<%= it.c.link %>;font-weight:bold;text-decoration:underline;"><%= l.text %></a><% }) %></td></tr><% } %>
<% if (it.logs.length) { %><tr><td style="padding:12px 24px;"><div style="font-size:13px;font-weight:bold;padding-bottom:4px;">Recent error logs</div><pre style="margin:0;padding:8px;font-size:12px;font-family:Menlo,Consolas,monospace;background:<%= it.c.background %>;white-space:pre-wrap;word-break:break-all;"><%= it.logs.join('\\n') %></pre></td></tr><% } %>
<% if (it.notes.length) { %><tr><td style="padding:4px 24px;font-size:12px;color:<%= it.c.muted %>;"><%= it.notes.join(' · ') %></td></tr><% } %>
<% if (it.labels.length) { %><tr><td style="padding:12px 24px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="font-size:13px;font-family:Menlo,Consolas,monospace;background:<%= it.c.background %>;">
<% it.labels.forEach(function (l) { %><tr><td style="padding:4px 8px;color:<%= it.c.muted %>;vertical-align:top;"><%= l[0] %></td><td style="padding:4px 8px;word-break:break-all;"><%= l[1] %></td></tr>
<% }) %></table></td></tr><% } %>
<tr><td style="padding:16px 24px;font-size:12px;color:<%= it.c.muted %>;border-top:1px solid #D0D7DE;"><%= it.product %> · rule <%= it.v.ruleId %> · fingerprint <%= it.v.fingerprint %></td></tr>
</table></td></tr></table></body></html>
`;

const TEXT = `<%~ it.banner %>

<%~ it.v.name %> — <%~ it.v.instance %>
<% if (it.summary) { %>
<%~ it.summary %>
<% } %>

<% it.facts.forEach(function (f) { %><%~ f[0] %>: <%~ f[1] %>
<% }) %>
<% if (it.links.length) { %>
Links:
<% it.links.forEach(function (l) { %>  <%~ l.text %>: <%~ l.url %>
<% }) %><% } %>
<% if (it.logs.length) { %>
Recent error logs:
<% it.logs.forEach(function (l) { %>  <%~ l %>
<% }) %><% } %>
<% if (it.notes.length) { %>
(<%~ it.notes.join('; ') %>)
<% } %>
<% if (it.labels.length) { %>
Labels:
<% it.labels.forEach(function (l) { %>  <%~ l[0] %>=<%~ l[1] %>
<% }) %><% } %>
--
<%~ it.product %> · rule <%~ it.v.ruleId %> · fingerprint <%~ it.v.fingerprint %>
`;

// autoEscape is eta's default; stated so a reader sees it. The text part is text/plain: no escaping.
const htmlEngine = new Eta({ autoEscape: true, autoTrim: false, useWith: false });
const textEngine = new Eta({ autoEscape: false, autoTrim: false, useWith: false });
const htmlTemplate = htmlEngine.compile(HTML);
const textTemplate = textEngine.compile(TEXT);

/** The subject line: `[SEVERITY] name — instance` (or `[RESOLVED] ...`), one line. */
export function emailSubject(v: AlertView): string {
  const tag = v.resolved ? `[RESOLVED] [${v.severityLabel}]` : v.escalatedText ? `[ESCALATED] [${v.severityLabel}]` : v.reminderText ? `[REMINDER] [${v.severityLabel}]` : `[${v.severityLabel}]`;
  return truncate(singleLine(`${tag} ${v.name} — ${v.instance}`), EMAIL_SUBJECT_MAX);
}

/**
 * SES accepts at most 50 recipients per message (To + Cc + Bcc); more is refused, not cut, all the
 * way from configuration to sending. https://docs.aws.amazon.com/ses/latest/dg/quotas.html
 */
export const EMAIL_MAX_RECIPIENTS = 50;

/** Renders the email for a firing or resolved notification. */
export function renderEmail(job: NotificationJob, opts: EmailFormatOptions): RenderedEmail {
  const g = groupView(job);
  if (g) return renderGroupEmail(g, opts, job.enrichment);
  const v = alertView(job, opts.dashboardUrl);
  const c = opts.colours ?? DEFAULT_EMAIL_COLOURS;
  const cut = (s: string): string => truncate(s, VALUE_MAX);
  const facts: [string, string][] = [
    ['Severity', v.severityLabel],
    ['Value', cut(v.value)],
    ['Condition', cut(v.condition)],
    ['Started', v.startedAt],
  ];
  if (v.resolved) facts.push(['Resolved', `${v.resolvedAt ?? ''} (after ${v.duration})`]);
  else facts.push(['Firing for', v.duration]);
  facts.push(['Fire count', String(v.fireCount)]);
  if (v.suppressedText) facts.push(['Suppressed', v.suppressedText]);
  if (v.escalationText) facts.push(['Escalation', cut(v.escalationText)]);
  if (v.reminderText) facts.push(['Reminder', v.reminderText]);
  if (v.escalatedText) facts.push(['Escalated', v.escalatedText]);
  const e = job.enrichment;
  if (e) for (const [k, val] of enrichmentFacts(e)) facts.push([k, cut(singleLine(val))]);
  const own = [v.runbook, v.dashboard, ...v.sourceLinks].filter((l): l is NonNullable<typeof l> => !!l);
  // The rule's runbook wins over the catalog's; a URL shown once.
  const links = [...own, ...(e ? enrichmentLinks(e).filter((l) => !(v.runbook && l === e.runbook)) : [])].filter((l, i, all) => all.findIndex((x) => x.url === l.url) === i);
  const subject = emailSubject(v);
  const data = {
    subject,
    v,
    c,
    accent: v.resolved ? c.severity.resolved : c.severity[v.severity],
    banner: v.resolved ? `RESOLVED · ${v.severityLabel}` : v.escalatedText ? `${v.severityLabel} ALERT · ESCALATED` : v.reminderText ? `${v.severityLabel} ALERT · REMINDER` : `${v.severityLabel} ALERT`,
    summary: cut([v.summary, v.description].filter(Boolean).join('\n\n')),
    facts,
    links,
    labels: v.labels.map(([k, val]) => [cut(k), cut(val)] as const),
    logs: e?.logs?.state === 'ready' ? e.logs.lines.map((l) => cut(logLineText(l))) : [],
    notes: e ? enrichmentNotes(e) : [],
    product: opts.productName,
  };
  return {
    subject,
    html: htmlEngine.render(htmlTemplate, data),
    text: textEngine.render(textTemplate, data).replace(/\n{3,}/g, '\n\n'),
  };
}

/**
 * Bounds of a group digest: each cell is cut, and rows stop once their escaped text reaches
 * `rowsMaxChars`, so a 500-alert group stays below Gmail's ~100 KB clipping; the rest is counted
 * ("and N more").
 */
export const EMAIL_GROUP_LIMITS = { name: 200, instance: 200, summary: 300, rowsMaxChars: 80_000 } as const;

const GROUP_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title><%= it.subject %></title></head>
<body style="margin:0;padding:0;background:<%= it.c.background %>;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:<%= it.c.background %>;">
<tr><td align="center" style="padding:24px 8px;">
<table role="presentation" width="720" cellpadding="0" cellspacing="0" border="0" style="width:720px;max-width:100%;background:<%= it.c.panel %>;border:1px solid #D0D7DE;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:<%= it.c.text %>;">
<tr><td style="background:<%= it.accent %>;color:#FFFFFF;padding:16px 24px;font-size:18px;font-weight:bold;"><%= it.banner %></td></tr>
<tr><td style="padding:20px 24px 8px 24px;font-size:20px;font-weight:bold;"><%= it.g.title %></td></tr>
<tr><td style="padding:4px 24px 12px 24px;font-size:15px;line-height:1.5;"><%= it.g.changesText %></td></tr>
<tr><td style="padding:8px 24px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="font-size:13px;border-collapse:collapse;">
<tr><th align="left" style="padding:6px 8px;border-bottom:1px solid #D0D7DE;">Status</th><th align="left" style="padding:6px 8px;border-bottom:1px solid #D0D7DE;">Severity</th><th align="left" style="padding:6px 8px;border-bottom:1px solid #D0D7DE;">Alert</th><th align="left" style="padding:6px 8px;border-bottom:1px solid #D0D7DE;">Instance</th><th align="left" style="padding:6px 8px;border-bottom:1px solid #D0D7DE;">Summary</th><th align="left" style="padding:6px 8px;border-bottom:1px solid #D0D7DE;">Since</th></tr>
<% it.rows.forEach(function (r) { %><tr><td style="padding:6px 8px;vertical-align:top;color:<%= r.colour %>;font-weight:bold;"><%= r.status %></td><td style="padding:6px 8px;vertical-align:top;"><%= r.severity %></td><td style="padding:6px 8px;vertical-align:top;word-break:break-word;"><%= r.name %></td><td style="padding:6px 8px;vertical-align:top;word-break:break-word;"><%= r.instance %></td><td style="padding:6px 8px;vertical-align:top;word-break:break-word;"><%= r.summary %></td><td style="padding:6px 8px;vertical-align:top;white-space:nowrap;"><%= r.since %></td></tr>
<% }) %><% if (it.more) { %><tr><td colspan="6" style="padding:8px;color:<%= it.c.muted %>;"><%= it.more %></td></tr><% } %>
</table></td></tr>
<% if (it.labels.length) { %><tr><td style="padding:12px 24px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="font-size:13px;font-family:Menlo,Consolas,monospace;background:<%= it.c.background %>;">
<% it.labels.forEach(function (l) { %><tr><td style="padding:4px 8px;color:<%= it.c.muted %>;vertical-align:top;"><%= l[0] %></td><td style="padding:4px 8px;word-break:break-all;"><%= l[1] %></td></tr>
<% }) %></table></td></tr><% } %>
<% if (it.facts.length) { %><tr><td style="padding:8px 24px;font-size:14px;"><% it.facts.forEach(function (f, i) { %><% if (i) { %> &nbsp;·&nbsp; <% } %><span style="color:<%= it.c.muted %>;"><%= f[0] %>:</span> <%= f[1] %><% }) %></td></tr><% } %>
<% if (it.dashboard) { %><tr><td style="padding:12px 24px;font-size:14px;"><a href="<%= it.dashboard %>" style="color:<%= it.c.link %>;font-weight:bold;text-decoration:underline;">Dashboard</a></td></tr><% } %>
<% if (it.links.length) { %><tr><td style="padding:4px 24px 12px 24px;font-size:14px;"><% it.links.forEach(function (l, i) { %><% if (i) { %> &nbsp;|&nbsp; <% } %><a href="<%= l.url %>" style="color:<%= it.c.link %>;text-decoration:underline;"><%= l.text %></a><% }) %></td></tr><% } %>
<% if (it.notes.length) { %><tr><td style="padding:4px 24px;font-size:12px;color:<%= it.c.muted %>;"><%= it.notes.join(' · ') %></td></tr><% } %>
<tr><td style="padding:16px 24px;font-size:12px;color:<%= it.c.muted %>;border-top:1px solid #D0D7DE;"><%= it.product %> · route <%= it.g.routePath %> · <%= it.g.id %> · update #<%= it.g.seq %></td></tr>
</table></td></tr></table></body></html>
`;

const GROUP_TEXT = `<%~ it.banner %>

<%~ it.g.title %>
<%~ it.g.changesText %>

<% it.rows.forEach(function (r) { %><%~ r.status %> [<%~ r.severity %>] <%~ r.name %> — <%~ r.instance %><% if (r.summary) { %>: <%~ r.summary %><% } %> (since <%~ r.since %>)
<% }) %><% if (it.more) { %><%~ it.more %>
<% } %>
<% if (it.labels.length) { %>
Group labels:
<% it.labels.forEach(function (l) { %>  <%~ l[0] %>=<%~ l[1] %>
<% }) %><% } %>
<% it.facts.forEach(function (f) { %><%~ f[0] %>: <%~ f[1] %>
<% }) %><% if (it.dashboard) { %>
Dashboard: <%~ it.dashboard %>
<% } %><% it.links.forEach(function (l) { %><%~ l.text %>: <%~ l.url %>
<% }) %><% if (it.notes.length) { %>(<%~ it.notes.join('; ') %>)
<% } %>
--
<%~ it.product %> · route <%~ it.g.routePath %> · <%~ it.g.id %> · update #<%~ it.g.seq %>
`;

const groupHtmlTemplate = htmlEngine.compile(GROUP_HTML);
const groupTextTemplate = textEngine.compile(GROUP_TEXT);

/** The subject of a group digest: `[FIRING:3, RESOLVED:1] cluster=eu1, env=prod` (the title when the group has no labels), one line. */
export function emailGroupSubject(g: GroupView): string {
  const reminder = g.reason === 'repeat' && !g.newFiring && !g.newResolved ? '[REMINDER] ' : '';
  return truncate(singleLine(`${reminder}${g.countsTag} ${g.labelsText || g.title}`), EMAIL_SUBJECT_MAX);
}

/** Upper bound of the escaped length of `s` (eta escapes & < > " ' to at most 6 characters). */
const escapedLength = (s: string): number => s.length + 5 * (s.match(/[&<>"']/g)?.length ?? 0);

/** Renders the digest email of a group notification: every listed alert in one table, firing first. */
function renderGroupEmail(g: GroupView, opts: EmailFormatOptions, e: Enrichment | undefined): RenderedEmail {
  const c = opts.colours ?? DEFAULT_EMAIL_COLOURS;
  const rows: { status: string; colour: string; severity: string; name: string; instance: string; summary: string; since: string }[] = [];
  let used = 0;
  let droppedFiring = 0;
  let droppedResolved = 0;
  const add = (m: GroupMemberLine): void => {
    const row = {
      status: m.resolved ? 'RESOLVED' : m.isNew ? 'FIRING (new)' : 'FIRING',
      colour: m.resolved ? c.severity.resolved : c.severity[m.member.severity],
      severity: m.severityLabel,
      name: truncate(singleLine(m.member.name), EMAIL_GROUP_LIMITS.name),
      instance: truncate(singleLine(m.member.instance), EMAIL_GROUP_LIMITS.instance),
      summary: truncate(singleLine(m.summary ?? ''), EMAIL_GROUP_LIMITS.summary),
      since: m.resolved ? `${m.since} → ${m.endedAt ?? 'unknown'}` : m.since,
    };
    const size = escapedLength(row.name) + escapedLength(row.instance) + escapedLength(row.summary) + 600;
    if (used + size > EMAIL_GROUP_LIMITS.rowsMaxChars) {
      if (m.resolved) droppedResolved++;
      else droppedFiring++;
      return;
    }
    used += size;
    rows.push(row);
  };
  g.firing.forEach(add);
  g.resolvedMembers.forEach(add);
  const subject = emailGroupSubject(g);
  const data = {
    subject,
    g: { ...g, title: truncate(singleLine(`${g.title}${g.labelsText ? ` — ${g.labelsText}` : ''}`), VALUE_MAX) },
    c,
    accent: g.resolved ? c.severity.resolved : c.severity[g.severity],
    banner: `${g.resolved ? 'RESOLVED' : `${g.severity.toUpperCase()} · FIRING`} · ${g.countsTag.slice(1, -1)}`,
    rows,
    more: andMoreText(g.unlistedFiring + droppedFiring, g.unlistedResolved + droppedResolved),
    labels: g.labels.map(([k, val]) => [truncate(k, VALUE_MAX), truncate(val, VALUE_MAX)] as const),
    dashboard: safeHttpUrl(opts.dashboardUrl),
    // The catalog's owner and links of the group labels (docs/enrichment.md); no logs for a group.
    facts: e ? enrichmentFacts(e).map(([k, v]) => [k, truncate(singleLine(v), VALUE_MAX)] as const) : [],
    links: e ? enrichmentLinks(e) : [],
    notes: e ? enrichmentNotes(e) : [],
    product: opts.productName,
  };
  return {
    subject,
    html: htmlEngine.render(groupHtmlTemplate, data),
    text: textEngine.render(groupTextTemplate, data).replace(/\n{3,}/g, '\n\n'),
  };
}
