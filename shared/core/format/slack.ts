/**
 * Slack Block Kit rendering of a notification: header with severity, fields (value vs condition,
 * started, fire count, suppressed, escalation), labels, context (rule, fingerprint) and actions
 * (Runbook, Dashboard, Acknowledge or Unacknowledge, Silence 1 h / 4 h / until resolved, Resolve for
 * error alerts), coloured by severity through a legacy attachment,
 * with a top-level `text` fallback. Every value from an alert is mrkdwn-escaped, and every limit is
 * respected by truncation: rendering never fails. A group job renders as one message listing its
 * alerts (renderSlackGroupMessage), its thread reply as what changed; a reminder job is marked so.
 *
 * Limits: https://docs.slack.dev/reference/block-kit/blocks (and @slack/types JSDoc).
 */
import type { NotificationJob, Severity } from '../model/index.ts';
import { alertView, andMoreText, groupView, type AlertView, type GroupMemberLine, type GroupView } from '../deliver/alert-view.ts';
import { escapeMrkdwn, fitEscaped, safeHttpUrl, singleLine, truncate } from './escape.ts';
import { enrichmentFacts, enrichmentLinks, enrichmentNotes, logLineText, type Enrichment } from '../enrich/types.ts';


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

/**
 * Action ids of an alert message's buttons, handled by the interactivity endpoint
 * (functions/interactions; docs/incidents.md, "Slack buttons"). The value of the acting buttons is
 * {@link alertButtonValue}: the fingerprint and the activation the message shows.
 */
export const SLACK_ACTION_IDS = {
  acknowledge: 'klaxon_ack',
  unacknowledge: 'klaxon_unack',
  silence1h: 'klaxon_silence_1h',
  silence4h: 'klaxon_silence_4h',
  silenceUntilResolved: 'klaxon_silence_resolved',
  /** Error alerts only (labels with `error_fingerprint`): they resolve by hand or after their quiet period. */
  resolve: 'klaxon_resolve',
  runbook: 'klaxon_runbook',
  dashboard: 'klaxon_dashboard',
} as const;

/**
 * Action ids of a group message's buttons. Button value = the group id (`group:<hex>`), so the
 * interactivity endpoint acts on every alert of the group, not on one fingerprint.
 */
export const SLACK_GROUP_ACTION_IDS = {
  acknowledge: 'klaxon_ack_group',
  unacknowledge: 'klaxon_unack_group',
  silence1h: 'klaxon_silence_group_1h',
  silence4h: 'klaxon_silence_group_4h',
  silenceUntilResolved: 'klaxon_silence_group_resolved',
} as const;

/**
 * Action ids of an auto-remediation approval request's buttons (docs/remediation.md), posted in the
 * alert's thread. Value: {@link remediationButtonValue}.
 */
export const SLACK_REMEDIATION_ACTION_IDS = {
  approve: 'klaxon_remediation_approve',
  reject: 'klaxon_remediation_reject',
} as const;

/**
 * The value of a remediation approval button, `r1:<attemptId>:<fingerprint>`: the attempt decided,
 * and the alert whose receivers' `authorized` users may decide it (read back by
 * shared/core/interact/slack.ts `parseButtonValue`).
 */
export function remediationButtonValue(attemptId: string, fingerprint: string): string {
  return `r1:${attemptId}:${fingerprint}`;
}

/**
 * The value of an alert's acting buttons, `a1:<firedAtMs>:<fingerprint>`: the endpoint refuses a
 * click on an older activation's message (`stale-activation`) instead of acting on a newer firing
 * (read back by shared/core/interact/slack.ts `parseButtonValue`).
 */
export function alertButtonValue(fingerprint: string, firedAtMs: number): string {
  return `a1:${firedAtMs}:${fingerprint}`;
}

/** Which acting buttons a message gets. */
export interface ActingButtonsInput {
  /** The button value (alert: {@link alertButtonValue}; group: the group id). */
  readonly value: string;
  /** Whether the alert (or group) is acknowledged: Unacknowledge instead of Acknowledge. */
  readonly acknowledged: boolean;
  /** An error alert (labels with `error_fingerprint`): a Resolve button. Never for a group. */
  readonly errorAlert: boolean;
}

/**
 * The acting buttons: Acknowledge (or Unacknowledge), Silence 1 h, Silence 4 h, Silence until
 * resolved, and Resolve for an error alert; the ids of `ids` (alert or group).
 */
export function slackActingButtons(input: ActingButtonsInput, ids: typeof SLACK_ACTION_IDS | typeof SLACK_GROUP_ACTION_IDS): SlackButton[] {
  const value = truncate(input.value, SLACK_LIMITS.buttonValue);
  const b = (text: string, actionId: string, style?: 'primary' | 'danger'): SlackButton => ({ type: 'button', text: plain(text, SLACK_LIMITS.buttonText), action_id: actionId, value, ...(style ? { style } : {}) });
  const out: SlackButton[] = [input.acknowledged ? b('Unacknowledge', ids.unacknowledge) : b('Acknowledge', ids.acknowledge, 'primary')];
  out.push(b('Silence 1 h', ids.silence1h), b('Silence 4 h', ids.silence4h), b('Silence until resolved', ids.silenceUntilResolved));
  if (input.errorAlert && 'resolve' in ids) out.push(b('Resolve', ids.resolve, 'danger'));
  return out;
}

/**
 * Whether a job says its alert is acknowledged. Stream A (dispatch) adds the acknowledgement to the
 * notification job; until then no job has one and the Acknowledge button is shown.
 */
function jobAcknowledged(job: NotificationJob): boolean {
  return job.ack?.state === 'acknowledged';
}

/**
 * How a group message lists its alerts: each alert line is cut to `lineMax` characters (escaped),
 * lines are packed into sections of at most {@link SLACK_LIMITS.sectionText}, and the list stops at
 * `listMaxChars` characters in all (a channel message is read by people: a few screens, the rest
 * counted as "…and N more"). `replyNamesMax`: names a thread reply lists per kind.
 */
export const SLACK_GROUP_LIMITS = { lineMax: 300, listMaxChars: 24_000, replyNamesMax: 20 } as const;

/** Emoji per severity on an alert line of a group message; resolved lines get a check mark. */
export const SLACK_SEVERITY_EMOJI: Readonly<Record<Severity | 'resolved', string>> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  resolved: ':white_check_mark:',
};

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

/**
 * Link buttons an enrichment adds (its own actions block, `klaxon_links`, so the acting buttons
 * keep theirs): at most 10, a readable row rather than Slack's 25
 * (https://docs.slack.dev/reference/block-kit/blocks/actions-block).
 */
export const SLACK_ENRICH_LIMITS = { linkButtons: 10 } as const;

/**
 * Recent log lines as a mrkdwn code block: escaped, backticks replaced so no line can close the
 * block, cut to the section limit. Raw lines are redacted and bounded by shared/core/enrich/logs.ts.
 */
export function slackLogsText(e: Enrichment, heading: string): string | undefined {
  if (e.logs?.state !== 'ready' || e.logs.lines.length === 0) return undefined;
  const head = `*${escapeMrkdwn(heading)}*\n\`\`\`\n`;
  const tail = '\n```';
  const raw = e.logs.lines.map((l) => logLineText(l).replace(/`/g, 'ˋ')).join('\n');
  return head + fitEscaped(raw, SLACK_LIMITS.sectionText - head.length - tail.length) + tail;
}

/** The blocks an enrichment adds to an alert's message: owner/team/on-call fields, log lines, what is missing, link buttons. */
export function slackEnrichmentBlocks(e: Enrichment, ruleRunbook: boolean): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  const facts = enrichmentFacts(e);
  if (facts.length) blocks.push({ type: 'section', fields: facts.map(([k, v]) => field(k, singleLine(v))) });
  const logs = slackLogsText(e, 'Recent error logs');
  if (logs) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: logs } });
  const notes = enrichmentNotes(e);
  if (notes.length) blocks.push({ type: 'context', elements: [md(`:hourglass_flowing_sand: ${notes.join(' · ')}`, SLACK_LIMITS.contextText)] });
  // The rule's own runbook is the Runbook button; the catalog's is a link button only when the rule has none.
  const links = enrichmentLinks(e).filter((l) => !(ruleRunbook && l === e.runbook) && l.url.length <= SLACK_LIMITS.buttonUrl);
  const buttons = links.slice(0, SLACK_ENRICH_LIMITS.linkButtons).map((l, i): SlackButton => ({ type: 'button', text: plain(l.text, SLACK_LIMITS.buttonText), action_id: `klaxon_link_${i}`, url: l.url }));
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'klaxon_links', elements: buttons });
  return blocks;
}

/**
 * `:raised_hand: Acknowledged by <@U123> (alice) at 2026-11-30 09:12 UTC, from slack`: mrkdwn, the
 * actor escaped except a leading Slack user mention (`<@U…>`, which Slack renders as the person).
 */
export function ackLine(ack: NonNullable<NotificationJob['ack']>, verb: string): string {
  const m = /^<@([A-Z0-9]{2,30})>(.*)$/s.exec(ack.by);
  const rest = m ? singleLine(m[2]!).trim() : '';
  const who = m ? `<@${m[1]}>${rest ? ` ${fitEscaped(rest, 150)}` : ''}` : fitEscaped(singleLine(ack.by), 200);
  const when = `${new Date(ack.atMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `${ack.state === 'acknowledged' ? ':raised_hand:' : ':leftwards_arrow_with_hook:'} ${escapeMrkdwn(verb)} by ${who} at ${when}, from ${escapeMrkdwn(ack.source)}`;
}

/** One-line fallback text, e.g. `[CRITICAL] High CPU — web-1: CPU above 90%`. Raw, not escaped. */
export function slackFallback(v: AlertView): string {
  const state = v.resolved ? `[RESOLVED ${v.severityLabel}]` : v.escalatedText ? `[${v.severityLabel}] [ESCALATED]` : v.reminderText ? `[${v.severityLabel}] [REMINDER]` : `[${v.severityLabel}]`;
  return singleLine(`${state} ${v.name} — ${v.instance}${v.summary ? `: ${v.summary}` : ''}`);
}

/** Renders the Block Kit message for a firing or resolved notification. */
export function renderSlackMessage(job: NotificationJob, opts: SlackFormatOptions): SlackMessage {
  const g = groupView(job);
  if (g) return renderSlackGroupMessage(g, opts, job);
  const v = alertView(job, opts.dashboardUrl);
  const blocks: SlackBlock[] = [];
  const icon = v.resolved ? ':white_check_mark:' : v.escalatedText ? ':arrow_double_up:' : v.reminderText ? ':repeat:' : v.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const state = v.resolved ? 'RESOLVED' : v.escalatedText ? `${v.severityLabel} (escalated)` : v.reminderText ? `${v.severityLabel} (reminder)` : v.severityLabel;
  blocks.push({ type: 'header', text: plain(`${icon} ${state}: ${v.name} — ${v.instance}`, SLACK_LIMITS.headerText) });

  // Who acknowledged it (docs/incidents.md): said right under the header, where the on-call looks.
  if (job.ack?.state === 'acknowledged') blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ackLine(job.ack, 'Acknowledged') }] });

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
  if (v.reminderText) fields.push(field('Reminder', v.reminderText));
  if (v.escalatedText) fields.push(field('Escalated', v.escalatedText));
  blocks.push({ type: 'section', fields: fields.slice(0, SLACK_LIMITS.fields) });

  if (v.labels.length) {
    // All labels in one section (any number of labels fits in one block; cut at the section limit).
    const raw = v.labels.map(([k, val]) => `${k}=${singleLine(val)}`).join('\n');
    const head = '*Labels*\n';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: head + fitEscaped(raw, SLACK_LIMITS.sectionText - head.length) } });
  }

  if (job.enrichment) blocks.push(...slackEnrichmentBlocks(job.enrichment, !!v.runbook));

  blocks.push({
    type: 'context',
    elements: [md(`${opts.productName} · rule ${v.ruleId} · fingerprint ${v.fingerprint}`, SLACK_LIMITS.contextText)],
  });

  const buttons: SlackButton[] = [];
  if (v.runbook && v.runbook.url.length <= SLACK_LIMITS.buttonUrl) {
    buttons.push({ type: 'button', text: plain('Runbook', SLACK_LIMITS.buttonText), action_id: SLACK_ACTION_IDS.runbook, url: v.runbook.url });
  }
  if (v.dashboard && v.dashboard.url.length <= SLACK_LIMITS.buttonUrl) {
    buttons.push({ type: 'button', text: plain('Dashboard', SLACK_LIMITS.buttonText), action_id: SLACK_ACTION_IDS.dashboard, url: v.dashboard.url });
  }
  if (!v.resolved) {
    const value = alertButtonValue(v.fingerprint, job.transition.firedAtMs);
    buttons.push(...slackActingButtons({ value, acknowledged: jobAcknowledged(job), errorAlert: job.transition.labels.error_fingerprint !== undefined }, SLACK_ACTION_IDS));
  }
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'klaxon_actions', elements: buttons.slice(0, SLACK_LIMITS.actionsElements) });

  const text = fitEscaped(slackFallback(v), SLACK_LIMITS.fallbackText);
  return {
    text,
    attachments: [{ color: v.resolved ? SLACK_COLOURS.resolved : SLACK_COLOURS[v.severity], fallback: text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
  };
}

/**
 * The short reply posted in the original message's thread: when an alert resolves, or for a group
 * job what changed since the last update (bot-token mode).
 */
export function renderSlackThreadReply(job: NotificationJob, opts: SlackFormatOptions): SlackMessage {
  const g = groupView(job);
  if (g) return renderSlackGroupReply(g);
  const v = alertView(job, opts.dashboardUrl);
  if (job.note) {
    const when = `${new Date(job.note.atMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    const line = `:speech_balloon: ${fitEscaped(job.note.text, SLACK_LIMITS.sectionText - 300)} (${fitEscaped(singleLine(job.note.by), 150)}, from ${escapeMrkdwn(job.note.source)}, ${when})`;
    const text = fitEscaped(`${job.note.text}`, SLACK_LIMITS.fallbackText);
    const noteBlocks: SlackBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: line } }];
    // A logs follow-up (shared/core/enrich/follow-up.ts): the lines, or why there are none.
    if (job.logsFollowUp && job.enrichment) {
      const logs = slackLogsText(job.enrichment, 'Recent error logs');
      const notes = enrichmentNotes(job.enrichment).filter((n) => n !== 'logs pending');
      if (logs) noteBlocks.push({ type: 'section', text: { type: 'mrkdwn', text: logs } });
      else noteBlocks.push({ type: 'context', elements: [md(notes.join(' · ') || 'no error lines found', SLACK_LIMITS.contextText)] });
    }
    const approval = job.note.approval;
    if (approval) {
      // An approval request of auto-remediation: Approve / Reject in the thread (docs/remediation.md).
      const value = truncate(remediationButtonValue(approval.attemptId, job.transition.fingerprint), SLACK_LIMITS.buttonValue);
      noteBlocks.push({
        type: 'actions',
        block_id: 'klaxon_remediation',
        elements: [
          { type: 'button', text: plain('Approve', SLACK_LIMITS.buttonText), action_id: SLACK_REMEDIATION_ACTION_IDS.approve, value, style: 'primary' },
          { type: 'button', text: plain('Reject', SLACK_LIMITS.buttonText), action_id: SLACK_REMEDIATION_ACTION_IDS.reject, value, style: 'danger' },
        ],
      });
    }
    return { text, attachments: [{ color: SLACK_COLOURS[v.severity], fallback: text, blocks: noteBlocks }] };
  }
  if (job.ack) {
    const line = ackLine(job.ack, job.ack.state === 'acknowledged' ? 'Acknowledged' : 'Acknowledgement taken back');
    const text = fitEscaped(`${slackFallback(v)} — ${job.ack.state === 'acknowledged' ? 'acknowledged' : 'unacknowledged'} by ${job.ack.by}`, SLACK_LIMITS.fallbackText);
    return { text, attachments: [{ color: SLACK_COLOURS[v.severity], fallback: text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: line } }] }] };
  }
  const raw = `Resolved at ${v.resolvedAt ?? 'unknown'} after ${v.duration}. Last value ${v.value} (${v.condition}).`;
  const text = fitEscaped(`${slackFallback(v)} — ${raw}`, SLACK_LIMITS.fallbackText);
  return {
    text,
    attachments: [{ color: SLACK_COLOURS.resolved, fallback: text, blocks: [{ type: 'section', text: md(`:white_check_mark: ${raw}`, SLACK_LIMITS.sectionText) }] }],
  };
}

/** `[FIRING:12] HighCPU — cluster=eu1` (raw): the group's header and fallback text. */
export function slackGroupTitle(g: GroupView): string {
  return singleLine(`${g.statusTag} ${g.title}${g.labelsText ? ` — ${g.labelsText}` : ''}`);
}

/** One alert line of a group message, mrkdwn, escaped and cut to {@link SLACK_GROUP_LIMITS.lineMax}. */
function memberMrkdwn(m: GroupMemberLine): string {
  const emoji = m.resolved ? SLACK_SEVERITY_EMOJI.resolved : SLACK_SEVERITY_EMOJI[m.member.severity];
  const head = `${emoji} *${m.severityLabel}*${m.isNew ? ' `new`' : ''} `;
  const when = m.resolved ? `since ${m.since}, resolved ${m.endedAt ?? 'unknown'}` : `since ${m.since}`;
  const raw = singleLine(`${m.title}${m.summary ? `: ${m.summary}` : ''}`);
  const tail = ` · ${when}`;
  // The time stays readable however long the summary: the cut is made on name and summary.
  return head + fitEscaped(raw, SLACK_GROUP_LIMITS.lineMax - head.length - tail.length) + tail;
}

/**
 * Packs titled lists of lines into sections within the section limit and a total budget; returns
 * the sections and how many lines of each list did not fit.
 */
function packSections(lists: readonly { readonly heading: string; readonly lines: readonly string[] }[], maxSections: number, budget: number): { sections: string[]; dropped: number[] } {
  const sections: string[] = [];
  const dropped = lists.map(() => 0);
  let current = '';
  let used = 0;
  let full = false;
  const flush = (): void => {
    if (current) sections.push(current);
    current = '';
  };
  lists.forEach((list, i) => {
    if (!list.lines.length) return;
    let headingPending = true;
    for (const line of list.lines) {
      const piece = headingPending ? `${list.heading}\n${line}` : line;
      const joined = current ? `${current}\n${piece}` : piece;
      if (!full && used + piece.length + 1 > budget) full = true;
      if (!full && joined.length > SLACK_LIMITS.sectionText) {
        if (sections.length + 1 >= maxSections) full = true;
        else {
          flush();
          current = piece;
          used += piece.length + 1;
          headingPending = false;
          continue;
        }
      }
      if (full) {
        dropped[i]! += 1;
        continue;
      }
      current = joined;
      used += piece.length + 1;
      headingPending = false;
    }
  });
  flush();
  return { sections, dropped };
}

/**
 * The Block Kit message of a group notification: header `[FIRING:12] HighCPU — cluster=eu1`, what
 * changed, one line per listed alert (firing first), "…and N more" for what is not listed or does
 * not fit, the group labels, and Acknowledge / Silence buttons whose value is the group id.
 */
function renderSlackGroupMessage(g: GroupView, opts: SlackFormatOptions, job: NotificationJob): SlackMessage {
  const icon = g.resolved ? ':white_check_mark:' : g.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const title = slackGroupTitle(g);
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(`${icon} ${title}`, SLACK_LIMITS.headerText) }];
  blocks.push({ type: 'section', text: md(`${g.changesText}${g.seq > 1 ? ` (update #${g.seq})` : ''}`, SLACK_LIMITS.sectionText) });

  // Fixed blocks besides the list: header, changes, "and more", context, actions (and a spare), and up to 4 of an enrichment.
  const maxListSections = SLACK_LIMITS.blocks - 10;
  const { sections, dropped } = packSections(
    [
      { heading: `*Firing (${g.firingCount})*`, lines: g.firing.map(memberMrkdwn) },
      { heading: `*Resolved (${g.resolvedCount})*`, lines: g.resolvedMembers.map(memberMrkdwn) },
    ],
    maxListSections,
    SLACK_GROUP_LIMITS.listMaxChars,
  );
  for (const text of sections) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  const more = andMoreText(g.unlistedFiring + (dropped[0] ?? 0), g.unlistedResolved + (dropped[1] ?? 0));
  if (more) blocks.push({ type: 'context', elements: [md(more, SLACK_LIMITS.contextText)] });

  if (job.enrichment) blocks.push(...slackEnrichmentBlocks(job.enrichment, false));

  const context: SlackText[] = [];
  if (g.labels.length) context.push(md(`Group: ${g.labelsText}`, SLACK_LIMITS.contextText));
  context.push(md(`${opts.productName} · route ${g.routePath} · ${g.id}`, SLACK_LIMITS.contextText));
  blocks.push({ type: 'context', elements: context });

  const buttons: SlackButton[] = [];
  if (opts.dashboardUrl) {
    const url = safeHttpUrl(opts.dashboardUrl);
    if (url && url.length <= SLACK_LIMITS.buttonUrl) buttons.push({ type: 'button', text: plain('Dashboard', SLACK_LIMITS.buttonText), action_id: SLACK_ACTION_IDS.dashboard, url });
  }
  if (!g.resolved) buttons.push(...slackActingButtons({ value: g.id, acknowledged: false, errorAlert: false }, SLACK_GROUP_ACTION_IDS));
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'klaxon_group_actions', elements: buttons });

  const text = fitEscaped(title, SLACK_LIMITS.fallbackText);
  return {
    text,
    attachments: [{ color: g.resolved ? SLACK_COLOURS.resolved : SLACK_COLOURS[g.severity], fallback: text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
  };
}

/** `A — web-1, B — web-2, …and 3 more` (raw), at most {@link SLACK_GROUP_LIMITS.replyNamesMax} names. */
function namesLine(lines: readonly GroupMemberLine[], total: number): string {
  const shown = lines.slice(0, SLACK_GROUP_LIMITS.replyNamesMax).map((m) => singleLine(truncate(m.title, 120)));
  const rest = total - shown.length;
  return shown.join(', ') + (rest > 0 ? `${shown.length ? ', ' : ''}…and ${rest} more` : '');
}

/** The thread reply of a group update: what changed (new firing names, resolved names, capped). */
function renderSlackGroupReply(g: GroupView): SlackMessage {
  const parts: string[] = [];
  if (g.resolved) parts.push(`:white_check_mark: All ${g.resolvedCount} alert${g.resolvedCount === 1 ? '' : 's'} of this group resolved.`);
  else parts.push(`${g.changesText} (update #${g.seq}).`);
  const newOnes = g.firing.filter((m) => m.isNew);
  if (g.newFiring > 0) {
    // Names only when dispatch marked the new alerts; otherwise the count alone (never guess).
    parts.push(newOnes.length ? `:rotating_light: New: ${namesLine(newOnes, g.newFiring)}` : `:rotating_light: ${g.newFiring} new firing`);
  }
  if (g.resolvedCount > 0) parts.push(`:white_check_mark: Resolved: ${namesLine(g.resolvedMembers, g.resolvedCount)}`);
  if (g.reason === 'repeat' && !g.newFiring && !g.resolvedCount) parts.push(`:repeat: Still firing: ${namesLine(g.firing, g.firingCount)}`);
  const raw = parts.join('\n');
  const text = fitEscaped(singleLine(`${g.statusTag} ${g.title}: ${parts[0] ?? ''}`), SLACK_LIMITS.fallbackText);
  return {
    text,
    attachments: [{ color: g.resolved ? SLACK_COLOURS.resolved : SLACK_COLOURS[g.severity], fallback: text, blocks: [{ type: 'section', text: md(raw, SLACK_LIMITS.sectionText) }] }],
  };
}
