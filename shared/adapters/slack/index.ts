/**
 * Slack notifier. Two ways to post, chosen by the destination and the Slack secret:
 *  - incoming webhook (`destination.webhookKey` → `webhooks[<key>]` in the secret): POST the
 *    Block Kit message; 200 `ok` is success, errors are plain-text codes (classifySlackWebhook);
 *  - bot token (`destination.channel` and `botToken` in the secret): chat.postMessage, keeping the
 *    message's `{channel, ts}` on the alert record; on resolution a reply in that thread
 *    (thread_ts) and chat.update of the original to its resolved form; an acknowledgement likewise
 *    (a reply saying who, the original updated to show it). The Web API answers HTTP 200
 *    with `{ok:false, error}` (classifySlackApi).
 *  - a group job (docs/routing.md, "Grouping") in bot-token mode is ONE message per group, updated
 *    in place: the thread is kept under the group id; each later notification of the group posts a
 *    reply in that thread saying what changed (the notification: its failure is the job's) and
 *    chat.updates the original to the group's current state (a failed update is a warning). A
 *    group's first notification (seq 1) always starts a new message, and an all-resolved group
 *    with no message posts one without keeping it. Webhooks cannot update: each group job posts.
 *    The change is in the reply rather than in the updated message because Slack notifies
 *    nobody of an edit.
 * https://docs.slack.dev/reference/methods/chat.postMessage, https://docs.slack.dev/messaging/modifying-messages
 *
 * Webhook URLs and the token are secrets: they never appear in logs or failure details.
 */
import type { GroupNotice, NotificationJob } from '../../core/model/index.ts';
import type { SlackThread } from '../../core/dispatch/record/alert-record.ts';
import { classifySlackApi, classifySlackWebhook, type SendResult } from '../../core/deliver/classify.ts';
import type { Notifier } from '../../core/deliver/notifier.ts';
import { renderSlackMessage, renderSlackThreadReply, type SlackFormatOptions, type SlackMessage } from '../../core/format/slack.ts';
import type { SlackThreadStore } from '../../core/deliver/ports.ts';
import { isFailure, postJson, type FetchLike } from '../channel/http.ts';
import { readSecret, SecretConfigError, SlackSecretSchema, type SecretSource } from '../secrets/index.ts';
import { CHANNEL_SEND_TIMEOUT_MS } from '../../config/timing.ts';

/** Default Slack Web API base URL (SLACK_API_URL overrides it for the local receiver). */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api';

/** What the Slack notifier renders: the message, and for resolutions the thread reply. */
export interface SlackRendered {
  readonly message: SlackMessage;
  readonly reply?: SlackMessage;
}

/** Options of {@link createSlackNotifier}. */
export interface SlackNotifierOptions {
  readonly secrets: SecretSource;
  readonly secretName: string;
  readonly threads: SlackThreadStore;
  readonly format: SlackFormatOptions;
  readonly apiUrl?: string;
  readonly fetch?: FetchLike;
  readonly timeoutMs?: number;
  /** Logs thread bookkeeping problems that do not fail the notification. */
  readonly onWarning?: (message: string, extra: Record<string, unknown>) => void;
}

const configError = (detail: string): SendResult => ({ ok: false, retryable: false, reason: 'client', detail });

/** Builds the Slack {@link Notifier}. */
export function createSlackNotifier(opts: SlackNotifierOptions): Notifier<SlackRendered> {
  const fetchFn = opts.fetch ?? ((url, init) => fetch(url, init));
  const apiUrl = (opts.apiUrl ?? DEFAULT_SLACK_API_URL).replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? CHANNEL_SEND_TIMEOUT_MS;
  const warn = opts.onWarning ?? (() => {});

  async function api(method: 'chat.postMessage' | 'chat.update', token: string, body: unknown, nowMs: number): Promise<{ result: SendResult; json: unknown }> {
    const reply = await postJson(fetchFn, `${apiUrl}/${method}`, body, { headers: { authorization: `Bearer ${token}` }, timeoutMs, nowMs });
    if (isFailure(reply)) return { result: reply, json: undefined };
    return { result: classifySlackApi(reply.status, reply.json, reply.retryAfterMs), json: reply.json };
  }

  /** A group job in bot-token mode: update the group's message in place and reply in its thread, or start it. */
  async function sendGroup(job: NotificationJob, group: GroupNotice, rendered: SlackRendered, channel: string, token: string, nowMs: number): Promise<SendResult> {
    // A store error propagates as in the per-alert path (the pipeline retries it without blaming Slack): posting a second message instead would split the group.
    const thread: SlackThread | undefined = group.seq > 1 ? await opts.threads.get(group.id) : undefined;
    if (thread && rendered.reply) {
      const r = await api('chat.postMessage', token, { channel: thread.channel, thread_ts: thread.ts, ...rendered.reply }, nowMs);
      if (!r.result.ok) return r.result;
      const u = await api('chat.update', token, { channel: thread.channel, ts: thread.ts, ...rendered.message }, nowMs);
      if (!u.result.ok) warn("chat.update of the group's message failed", { group: group.id, detail: u.result.detail });
      return { ok: true, detail: `group ${group.id} thread ${thread.ts}` };
    }
    const r = await api('chat.postMessage', token, { channel, ...rendered.message }, nowMs);
    if (!r.result.ok) return r.result;
    const j = r.json as { channel?: unknown; ts?: unknown };
    if (group.firingCount > 0 && typeof j.channel === 'string' && typeof j.ts === 'string') {
      try {
        await opts.threads.set(group.id, { channel: j.channel, ts: j.ts }, nowMs);
      } catch (err) {
        warn("could not keep the group's Slack thread", { group: group.id, error: (err as Error).message });
      }
    }
    return { ok: true, ...(typeof j.ts === 'string' ? { detail: `ts ${j.ts}` } : {}) };
  }

  return {
    channel: 'slack',
    render(job: NotificationJob): SlackRendered {
      const message = renderSlackMessage(job, opts.format);
      return job.group || job.transition.kind === 'resolved' || job.ack || job.note ? { message, reply: renderSlackThreadReply(job, opts.format) } : { message };
    },
    async send(job, rendered, nowMs): Promise<SendResult> {
      const dest = job.destination;
      if (dest.kind !== 'slack') return configError(`slack notifier got a ${dest.kind} destination`);
      let secret;
      try {
        secret = await readSecret(opts.secrets, opts.secretName, SlackSecretSchema);
      } catch (err) {
        if (err instanceof SecretConfigError) return configError(err.message);
        return { ok: false, retryable: true, reason: 'other', detail: (err as Error).message };
      }

      if (dest.channel && secret.botToken && job.group) {
        return sendGroup(job, job.group, rendered, dest.channel, secret.botToken, nowMs);
      }
      if (dest.channel && secret.botToken) {
        const token = secret.botToken;
        const fp = job.transition.fingerprint;
        // An acknowledgement: said in the alert's thread, and the message updated in place to show
        // it. A note: said in the thread only (a group's note: the group's thread).
        if ((job.ack || job.note) && rendered.reply) {
          const thread = await opts.threads.get(fp);
          if (!thread) {
            const r = await api('chat.postMessage', token, { channel: dest.channel, ...rendered.reply }, nowMs);
            return r.result;
          }
          const r = await api('chat.postMessage', token, { channel: thread.channel, thread_ts: thread.ts, ...rendered.reply }, nowMs);
          if (!r.result.ok) return r.result;
          if (job.note) return { ok: true, detail: `thread ${thread.ts}` };
          const u = await api('chat.update', token, { channel: thread.channel, ts: thread.ts, ...rendered.message }, nowMs);
          if (!u.result.ok) warn('chat.update of the original message failed', { fingerprint: fp, detail: u.result.detail });
          return { ok: true, detail: `thread ${thread.ts}` };
        }
        if (job.transition.kind === 'resolved' && rendered.reply) {
          const thread = await opts.threads.get(fp);
          if (thread) {
            const r = await api('chat.postMessage', token, { channel: thread.channel, thread_ts: thread.ts, ...rendered.reply }, nowMs);
            if (!r.result.ok) return r.result;
            // Restyle the original as resolved; the thread reply above is the notification, so a failed update is only logged.
            const u = await api('chat.update', token, { channel: thread.channel, ts: thread.ts, ...rendered.message }, nowMs);
            if (!u.result.ok) warn('chat.update of the original message failed', { fingerprint: fp, detail: u.result.detail });
            return { ok: true, detail: `thread ${thread.ts}` };
          }
        }
        const r = await api('chat.postMessage', token, { channel: dest.channel, ...rendered.message }, nowMs);
        if (!r.result.ok) return r.result;
        const j = r.json as { channel?: unknown; ts?: unknown };
        if (job.transition.kind === 'firing' && typeof j.channel === 'string' && typeof j.ts === 'string') {
          try {
            await opts.threads.set(fp, { channel: j.channel, ts: j.ts }, nowMs);
          } catch (err) {
            warn('could not keep the Slack thread on the alert record', { fingerprint: fp, error: (err as Error).message });
          }
        }
        return { ok: true, ...(typeof j.ts === 'string' ? { detail: `ts ${j.ts}` } : {}) };
      }

      if (dest.webhookKey) {
        const url = secret.webhooks?.[dest.webhookKey];
        if (!url) return configError(`no webhook named ${dest.webhookKey} in secret ${opts.secretName}`);
        // A webhook cannot update a message: an acknowledgement is its short line, posted.
        const reply = await postJson(fetchFn, url, (job.ack || job.note) && rendered.reply ? rendered.reply : rendered.message, { timeoutMs, nowMs });
        if (isFailure(reply)) return reply;
        return classifySlackWebhook(reply.status, reply.text, reply.retryAfterMs);
      }
      return configError(dest.channel ? `destination names channel ${dest.channel} but secret ${opts.secretName} has no botToken` : 'slack destination has neither webhookKey nor channel');
    },
  };
}
