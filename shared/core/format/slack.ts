/**
 * Slack Block Kit rendering of a notification: header with severity, fields (value vs condition,
 * started, fire count, suppressed, escalation), labels, context (rule, fingerprint) and actions
 * (Runbook, Dashboard, Acknowledge, Silence 1 h), coloured by severity through a legacy attachment,
 * with a top-level `text` fallback. Every value from an alert is mrkdwn-escaped, and every limit is
 * respected by truncation: rendering never fails.
 *
 * Limits: https://docs.slack.dev/reference/block-kit/blocks (and @slack/types JSDoc).
 */
import type { NotificationJob, Severity } from '../model/index.ts';
import { alertView, type AlertView } from '../deliver/alert-view.ts';
import { escapeMrkdwn, fitEscaped, singleLine, truncate } from './escape.ts';

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  /** Context element text: same bound as section text. */
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  buttonValue: 2000,
  /** Top-level text: Slack truncates beyond 40,000; 4,000 is the recommended maximum (chat.postMessage docs). */
  fallbackText: 4000,
} as const;

/** Action ids the interactivity endpoint (a later issue) handles. Button value = fingerprint. */
export const SLACK_ACTION_IDS = { acknowledge: 'klaxon_ack', silence1h: 'klaxon_silence_1h', runbook: 'klaxon_runbook', dashboard: 'klaxon_dashboard' } as const;

/** Attachment colours by severity; resolved is green. */
export const SLACK_COLOURS: Readonly<Record<Severity | 'resolved', string>> = {
  critical: '#D50000',
  high: '#FF6D00',
  medium: '#FFC400',
  low: '#2979FF',
  resolved: '#2EB67D',
};

/** A plain_text or mrkdwn text object. */
export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}
/** The block shapes Klaxon emits. */
export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text?: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }
  | { readonly type: 'divider' }
  | { readonly type: 'actions'; readonly block_id?: string; readonly elements: readonly SlackButton[] };
/** A button element. */
export interface SlackButton {
  readonly type: 'button';
  readonly text: SlackText;
  readonly action_id: string;
  readonly url?: string;
  readonly value?: string;
  readonly style?: 'primary' | 'danger';
}
/** A message body for an incoming webhook or chat.postMessage (minus `channel`). */
export interface SlackMessage {
  /** Notification fallback text (mrkdwn-escaped). */
  readonly text: string;
  readonly attachments: readonly [{ readonly color: string; readonly fallback: string; readonly blocks: readonly SlackBlock[] }];
}

/** Options the deployment sets. */
export interface SlackFormatOptions {
  readonly productName: string;
  readonly dashboardUrl?: string;
}

// plain_text is not parsed for mentions or links, but Slack asks for &, <, > to be escaped in all text; escaping also keeps a hostile header inert if Slack ever does parse it.
const plain = (text: string, max: number): SlackText => ({ type: 'plain_text', text: fitEscaped(singleLine(text), max) || '-', emoji: true });
const md = (raw: string, max: number): SlackText => ({ type: 'mrkdwn', text: fitEscaped(raw, max) || ' ' });
/** A mrkdwn field `*Title*\nvalue`, the value escaped and cut to the field limit. */
const field = (title: string, raw: string): SlackText => {
  const head = `*${escapeMrkdwn(title)}*\n`;
  return { type: 'mrkdwn', text: head + fitEscaped(raw, SLACK_LIMITS.fieldText - head.length) };
};

/** One-line fallback text, e.g. `[CRITICAL] High CPU — web-1: CPU above 90%`. Raw, not escaped. */
export function slackFallback(v: AlertView): string {
  const state = v.resolved ? `[RESOLVED ${v.severityLabel}]` : `[${v.severityLabel}]`;
  return singleLine(`${state} ${v.name} — ${v.instance}${v.summary ? `: ${v.summary}` : ''}`);
}

/** Renders the Block Kit message for a firing or resolved notification. */
export function renderSlackMessage(job: NotificationJob, opts: SlackFormatOptions): SlackMessage {
  const v = alertView(job, opts.dashboardUrl);
  const blocks: SlackBlock[] = [];
  const icon = v.resolved ? ':white_check_mark:' : v.severity === 'critical' ? ':rotating_light:' : ':warning:';
  blocks.push({ type: 'header', text: plain(`${icon} ${v.resolved ? 'RESOLVED' : v.severityLabel}: ${v.name} — ${v.instance}`, SLACK_LIMITS.headerText) });

  const summary = [v.summary, v.description].filter((s): s is string => !!s).join('\n');
  if (summary) blocks.push({ type: 'section', text: md(summary, SLACK_LIMITS.sectionText) });

  const fields: SlackText[] = [
    field('Value', v.value),
    field('Condition', v.condition),
    field('Severity', v.severityLabel),
    field('Started', v.startedAt),
  ];
  if (v.resolved) fields.push(field('Resolved', `${v.resolvedAt ?? ''} (after ${v.duration})`));
  fields.push(field('Fire count', String(v.fireCount)));
  if (v.suppressedText) fields.push(field('Suppressed', v.suppressedText));
  if (v.escalationText) fields.push(field('Escalation', v.escalationText));
  blocks.push({ type: 'section', fields: fields.slice(0, SLACK_LIMITS.fields) });

  if (v.labels.length) {
    // All labels in one section (any number of labels fits in one block; cut at the section limit).
    const raw = v.labels.map(([k, val]) => `${k}=${singleLine(val)}`).join('\n');
    const head = '*Labels*\n';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: head + fitEscaped(raw, SLACK_LIMITS.sectionText - head.length) } });
  }

  blocks.push({
    type: 'context',
    elements: [md(`${opts.productName} · rule ${v.ruleId} · fingerprint ${v.fingerprint}`, SLACK_LIMITS.contextText)],
  });

  const buttons: SlackButton[] = [];
  const value = truncate(v.fingerprint, SLACK_LIMITS.buttonValue);
  if (v.runbook && v.runbook.url.length <= SLACK_LIMITS.buttonUrl) {
    buttons.push({ type: 'button', text: plain('Runbook', SLACK_LIMITS.buttonText), action_id: SLACK_ACTION_IDS.runbook, url: v.runbook.url });
  }
  if (v.dashboard && v.dashboard.url.length <= SLACK_LIMITS.buttonUrl) {
    buttons.push({ type: 'button', text: plain('Dashboard', SLACK_LIMITS.buttonText), action_id: SLACK_ACTION_IDS.dashboard, url: v.dashboard.url });
  }
  if (!v.resolved) {
    buttons.push({ type: 'button', text: plain('Acknowledge', SLACK_LIMITS.buttonText), action_id: SLACK_ACTION_IDS.acknowledge, value, style: 'primary' });
    buttons.push({ type: 'button', text: plain('Silence 1 h', SLACK_LIMITS.buttonText), action_id: SLACK_ACTION_IDS.silence1h, value });
  }
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'klaxon_actions', elements: buttons.slice(0, SLACK_LIMITS.actionsElements) });

  const text = fitEscaped(slackFallback(v), SLACK_LIMITS.fallbackText);
  return {
    text,
    attachments: [{ color: v.resolved ? SLACK_COLOURS.resolved : SLACK_COLOURS[v.severity], fallback: text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
  };
}

/** The short reply posted in the original message's thread when an alert resolves (bot-token mode). */
export function renderSlackThreadReply(job: NotificationJob, opts: SlackFormatOptions): SlackMessage {
  const v = alertView(job, opts.dashboardUrl);
  const raw = `Resolved at ${v.resolvedAt ?? 'unknown'} after ${v.duration}. Last value ${v.value} (${v.condition}).`;
  const text = fitEscaped(`${slackFallback(v)} — ${raw}`, SLACK_LIMITS.fallbackText);
  return {
    text,
    attachments: [{ color: SLACK_COLOURS.resolved, fallback: text, blocks: [{ type: 'section', text: md(`:white_check_mark: ${raw}`, SLACK_LIMITS.sectionText) }] }],
  };
}
