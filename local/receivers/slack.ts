/**
 * A local Slack: incoming webhooks (`POST /services/...`) and the Web API (`POST /api/chat.postMessage`,
 * `POST /api/chat.update`), answering as Slack does (https://api.slack.com/messaging/webhooks#handling_errors, https://api.slack.com/methods/chat.postMessage#errors):
 *  - webhook: 200 `ok` (text); errors are plain-text codes with their statuses (400 invalid_payload,
 *    no_text, invalid_blocks; 403 invalid_token, action_prohibited; 404 no_service, channel_not_found;
 *    410 channel_is_archived; 500 rollup_error; 429 + Retry-After);
 *  - Web API: HTTP 200 `{ok:true, channel, ts, message}` or `{ok:false, error}` (invalid_auth when the
 *    bearer token is wrong, channel_not_found, message_not_found, invalid_blocks...); 429 + Retry-After.
 * Block Kit limits are validated as Slack does (invalid_blocks), so formatting tests are end to end.
 *
 * Use as `SLACK_API_URL=<url>/api` and webhook URLs `<url>/services/T000/B000/<name>`.
 *
 * It can also CLICK (issue 12): `POST /_click` with `{ fingerprint | (channel, ts), action_id,
 * user? }` finds the message it received with that button, builds Slack's `block_actions` payload
 * for it (the user, channel, message, a `response_url` on this receiver, the button's action id and
 * value), signs it as Slack does (`v0:` timestamp `:` body, HMAC-SHA256 with the local signing
 * secret, local/config/index.ts) and POSTs it, form-encoded, to the interactions endpoint set with
 * `setInteractions`; it answers with the endpoint's status and body. Ephemeral answers POSTed to
 * `/_response/<n>` are recorded like any request. `GET /api/usergroups.users.list?usergroup=S…`
 * answers from the `userGroups` option.
 */
import { retryAfterHeader, startHttpReceiver, tryJson, type Fault, type Receiver, type ReceiverOptions, type Reply, type VendorRequest } from './http-receiver.ts';
import { slackSignature } from '../../shared/core/interact/verify.ts';
import { SLACK_BURST, SLACK_PER_SECOND, TokenBuckets, type RateLimit } from './rate-limit.ts';

/** The bot token the local Web API accepts by default. */
export const LOCAL_SLACK_BOT_TOKEN = 'xoxb-local-0000000000-klaxon';

/** HTTP status of each webhook error code (Slack changelog 2016-05-17 and client libraries). */
export const SLACK_WEBHOOK_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_payload: 400,
  user_not_found: 400,
  no_text: 400,
  too_many_attachments: 400,
  invalid_blocks: 400,
  action_prohibited: 403,
  invalid_token: 403,
  posting_to_general_channel_denied: 403,
  channel_not_found: 404,
  no_service: 404,
  no_active_hooks: 404,
  channel_is_archived: 410,
  rollup_error: 500,
  rate_limited: 429,
};

/** Options of the Slack receiver. */
export interface SlackReceiverOptions extends ReceiverOptions {
  /** Bearer token chat.* accepts. */
  readonly botToken?: string;
  /** Channels that exist (ids or names); others get channel_not_found. Default: any. */
  readonly channels?: readonly string[];
  /** Webhook path suffix (last path segment) → error code it always answers (a revoked or broken webhook). */
  readonly brokenWebhooks?: Readonly<Record<string, string>>;
  /**
   * Slack's posting limit (./rate-limit.ts: one message a second per webhook and per channel, a
   * burst of three, then 429 + Retry-After). Default on; `false` for a throughput measurement of
   * Klaxon's own handlers.
   */
  readonly rateLimit?: RateLimit | false;
  /** User groups for usergroups.users.list: id → member user ids. */
  readonly userGroups?: Readonly<Record<string, readonly string[]>>;
}

/** Who clicks when `_click` names nobody. */
export const LOCAL_SLACK_USER = { id: 'U0LOCAL001', name: 'local-oncall' } as const;

/** The request body of `POST /_click`. */
export interface ClickRequest {
  /** The alert (or group id) whose newest message with this button is clicked. */
  readonly fingerprint?: string;
  /** Or the message itself (chat.postMessage messages). */
  readonly channel?: string;
  readonly ts?: string;
  /** The button, e.g. `klaxon_ack` (shared/core/format/slack.ts SLACK_ACTION_IDS). */
  readonly action_id: string;
  readonly user?: { readonly id: string; readonly name?: string };
  /** Sign with this secret instead (tests of forged clicks). */
  readonly signingSecret?: string;
  /** Sign at this time instead of now (epoch seconds; tests of stale clicks). */
  readonly timestamp?: number;
}

/** A started Slack receiver. */
export interface SlackReceiver extends Receiver {
  /** Messages posted through chat.postMessage (and updated by chat.update), by `channel:ts`. */
  messages(): Map<string, Record<string, unknown>>;
  /** Webhook URL for a name: `<url>/services/T000LOCAL/B000LOCAL/<name>`. */
  webhookUrl(name: string): string;
  /** Web API base for SLACK_API_URL. */
  readonly apiUrl: string;
  /** Requests answered 429 by the posting limit so far. */
  rateLimited(): number;
  /** Where `_click` sends, and the signing secret it signs with. */
  setInteractions(target: { readonly url: string; readonly signingSecret: string }): void;
  /** Clicks a button (what `POST /_click` does): the endpoint's status and body. */
  click(req: ClickRequest): Promise<{ readonly status: number; readonly body: string }>;
  /** Ephemeral messages posted to this receiver's response URLs, oldest first (not the replacements of a clicked message). */
  ephemerals(): { readonly text: string; readonly path: string }[];
}

/** Validates a message against Block Kit limits; returns a problem or undefined. https://docs.slack.dev/reference/block-kit/blocks */
export function blockKitProblem(msg: unknown): string | undefined {
  const m = msg as { blocks?: unknown; attachments?: unknown };
  const lists: unknown[][] = [];
  if (Array.isArray(m.blocks)) lists.push(m.blocks);
  if (Array.isArray(m.attachments)) {
    if (m.attachments.length > 100) return 'too_many_attachments';
    for (const a of m.attachments) if (Array.isArray((a as { blocks?: unknown }).blocks)) lists.push((a as { blocks: unknown[] }).blocks);
  }
  for (const blocks of lists) {
    if (blocks.length > 50) return 'invalid_blocks: more than 50 blocks';
    for (const b of blocks as Record<string, unknown>[]) {
      const text = (b.text as { text?: string } | undefined)?.text;
      if (b.type === 'header' && (!text || text.length > 150)) return 'invalid_blocks: header text must be 1-150 characters';
      if (b.type === 'section') {
        if (text !== undefined && (text.length < 1 || text.length > 3000)) return 'invalid_blocks: section text must be 1-3000 characters';
        const fields = b.fields as { text: string }[] | undefined;
        if (fields && (fields.length > 10 || fields.some((f) => f.text.length > 2000 || f.text.length < 1))) return 'invalid_blocks: fields';
        if (text === undefined && !fields) return 'invalid_blocks: section needs text or fields';
      }
      if (b.type === 'context') {
        const els = b.elements as unknown[] | undefined;
        if (!els || els.length > 10) return 'invalid_blocks: context elements';
      }
      if (b.type === 'actions') {
        const els = (b.elements as Record<string, unknown>[] | undefined) ?? [];
        if (els.length > 25) return 'invalid_blocks: actions elements';
        for (const e of els) {
          const t = (e.text as { text?: string } | undefined)?.text ?? '';
          if (t.length > 75) return 'invalid_blocks: button text';
          if (typeof e.url === 'string' && (e.url.length > 3000 || !/^https?:\/\//.test(e.url))) return 'invalid_blocks: button url';
          if (typeof e.value === 'string' && e.value.length > 2000) return 'invalid_blocks: button value';
          if (typeof e.action_id === 'string' && e.action_id.length > 255) return 'invalid_blocks: action_id';
        }
      }
    }
  }
  return undefined;
}

const text = (status: number, body: string, headers: Record<string, string> = {}): Reply => ({ status, body, contentType: 'text/html', headers });
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({ status, body: JSON.stringify(body), contentType: 'application/json; charset=utf-8', headers });

/** Starts the local Slack. */
export async function startSlackReceiver(opts: SlackReceiverOptions = {}): Promise<SlackReceiver> {
  const token = opts.botToken ?? LOCAL_SLACK_BOT_TOKEN;
  const messages = new Map<string, Record<string, unknown>>();
  let seq = 0;
  const clock = opts.clock ?? { now: () => Date.now() };
  const nextTs = (): string => `${Math.floor(clock.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
  const isApi = (path: string): boolean => path.startsWith('/api/');
  const limit = opts.rateLimit === false ? undefined : new TokenBuckets(opts.rateLimit ?? { burst: SLACK_BURST, perSecond: SLACK_PER_SECOND }, clock);
  let limited = 0;
  // Messages posted through webhooks (they have no ts in Slack's answer): kept so they can be clicked.
  const webhookMessages: { channel: string; ts: string; message: Record<string, unknown> }[] = [];
  let interactions: { url: string; signingSecret: string } | undefined;
  let clicks = 0;
  let baseUrl = '';

  const buttonsOf = (m: Record<string, unknown>): { action_id: string; value?: string; block_id?: string; text?: { text?: string } }[] => {
    const lists = [m.blocks, ...(Array.isArray(m.attachments) ? (m.attachments as { blocks?: unknown }[]).map((a) => a.blocks) : [])];
    const out: { action_id: string; value?: string; block_id?: string }[] = [];
    for (const blocks of lists) {
      if (!Array.isArray(blocks)) continue;
      for (const b of blocks as { type?: string; block_id?: string; elements?: { action_id?: string; value?: string }[] }[]) {
        if (b.type !== 'actions') continue;
        for (const e of b.elements ?? []) if (typeof e.action_id === 'string') out.push({ ...e, action_id: e.action_id, ...(b.block_id ? { block_id: b.block_id } : {}) });
      }
    }
    return out;
  };
  const valueNames = (value: string | undefined, fingerprint: string): boolean => value === fingerprint || (value !== undefined && (value.startsWith('a1:') || value.startsWith('r1:')) && value.slice(value.indexOf(':', 3) + 1) === fingerprint);

  /** The message each click was on (its response_url can replace it). */
  const clickedOn = new Map<number, { channel: string; ts: string }>();
  const click = async (c: ClickRequest): Promise<{ status: number; body: string }> => {
    if (!interactions) return { status: 409, body: 'no interactions endpoint set (local mode sets it when the interactions function runs)' };
    const all = [...[...messages].map(([k, message]) => ({ channel: k.slice(0, k.lastIndexOf(':')), ts: k.slice(k.lastIndexOf(':') + 1), message })), ...webhookMessages];
    const candidates = all
      .filter((x) => (c.channel && c.ts ? x.channel === c.channel && x.ts === c.ts : true))
      .filter((x) => buttonsOf(x.message).some((b) => b.action_id === c.action_id && (c.fingerprint === undefined || valueNames(b.value, c.fingerprint))))
      .sort((a, b) => Number(b.ts) - Number(a.ts));
    const found = candidates[0];
    if (!found) return { status: 404, body: `no message received with a ${c.action_id} button${c.fingerprint ? ` for ${c.fingerprint}` : ''}` };
    const button = buttonsOf(found.message).find((b) => b.action_id === c.action_id && (c.fingerprint === undefined || valueNames(b.value, c.fingerprint)))!;
    const user = c.user ?? LOCAL_SLACK_USER;
    const n = ++clicks;
    clickedOn.set(n, { channel: found.channel, ts: found.ts });
    const nowS = Math.floor(Date.now() / 1000);
    const payload = {
      type: 'block_actions',
      user: { id: user.id, username: user.name ?? user.id, name: user.name ?? user.id, team_id: 'T000LOCAL' },
      api_app_id: 'A000LOCAL',
      token: 'local-verification-token',
      container: { type: 'message', message_ts: found.ts, channel_id: found.channel, is_ephemeral: false },
      trigger_id: `${nowS}.${n}.local`,
      team: { id: 'T000LOCAL', domain: 'klaxon-local' },
      channel: { id: found.channel, name: found.channel },
      message: found.message,
      response_url: `${baseUrl}/_response/${n}`,
      actions: [{ action_id: button.action_id, block_id: button.block_id ?? 'klaxon_actions', text: button.text ?? { type: 'plain_text', text: button.action_id }, value: button.value ?? '', type: 'button', action_ts: `${nowS}.${String(n).padStart(6, '0')}` }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(c.timestamp ?? nowS);
    const res = await fetch(interactions.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(c.signingSecret ?? interactions.signingSecret, ts, body) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: await res.text() };
  };

  const control = async (req: VendorRequest): Promise<Reply | undefined> => {
    if (req.path !== '/_click' || req.method !== 'POST') return undefined;
    const c = tryJson(req.body) as ClickRequest | undefined;
    if (!c || typeof c.action_id !== 'string') return json(400, { ok: false, error: 'send { fingerprint | channel + ts, action_id, user? }' });
    const r = await click(c);
    return json(200, { ok: r.status >= 200 && r.status < 300, status: r.status, body: r.body });
  };

  const r = await startHttpReceiver(opts, {
    control,
    parse: (req) => tryJson(req.body),
    renderFault(req, f: Fault): Reply {
      const code = f.code ?? (f.status === 429 ? 'rate_limited' : f.status >= 500 ? (isApi(req.path) ? 'internal_error' : 'rollup_error') : 'invalid_payload');
      if (isApi(req.path)) {
        // The Web API uses 429 for rate limits, 5xx for outages, and 200 + ok:false for everything else.
        if (f.status === 429) return json(429, { ok: false, error: 'ratelimited' }, retryAfterHeader(f));
        if (f.status >= 500) return text(f.status, 'Service Unavailable');
        return json(200, { ok: false, error: code });
      }
      return text(f.status, code, retryAfterHeader(f));
    },
    answer(req, parsed): Reply {
      if (req.method === 'GET' && req.path === '/api/usergroups.users.list') {
        if ((req.headers.authorization ?? '') !== `Bearer ${token}`) return json(200, { ok: false, error: 'invalid_auth' });
        const id = new URLSearchParams(req.query).get('usergroup') ?? '';
        const users = opts.userGroups?.[id];
        return users ? json(200, { ok: true, users }) : json(200, { ok: false, error: 'no_such_subteam' });
      }
      if (req.method !== 'POST') return text(404, 'not_found');
      // response_url: Slack answers `ok` (https://api.slack.com/interactivity/handling#message_responses);
      // `replace_original: true` replaces the message the button was on (its blocks go).
      if (req.path.startsWith('/_response/')) {
        const body = parsed as { replace_original?: unknown; text?: unknown } | undefined;
        const on = clickedOn.get(Number(req.path.slice('/_response/'.length)));
        const key = on ? `${on.channel}:${on.ts}` : '';
        const old = messages.get(key);
        // The message keeps its place (ts, thread); its content becomes the text alone.
        if (body?.replace_original === true && old) messages.set(key, { ...old, text: String(body.text ?? ''), attachments: undefined, blocks: undefined, edited: { user: 'B0LOCAL', ts: nextTs() } });
        return text(200, 'ok');
      }
      if (isApi(req.path)) {
        const method = req.path.slice('/api/'.length);
        if ((req.headers.authorization ?? '') !== `Bearer ${token}`) return json(200, { ok: false, error: req.headers.authorization ? 'invalid_auth' : 'not_authed' });
        const body = parsed as Record<string, unknown> | undefined;
        if (!body) return json(200, { ok: false, error: 'invalid_json' });
        const channel = body.channel;
        if (typeof channel !== 'string' || !channel) return json(200, { ok: false, error: 'channel_not_found' });
        if (opts.channels && !opts.channels.includes(channel)) return json(200, { ok: false, error: 'channel_not_found' });
        const problem = blockKitProblem(body);
        if (problem) return json(200, { ok: false, error: problem.split(':')[0] });
        if (method === 'chat.postMessage') {
          if (!body.text && !body.blocks && !body.attachments) return json(200, { ok: false, error: 'no_text' });
          const wait = limit?.take(`channel:${channel}`) ?? 0;
          if (wait > 0) {
            limited++;
            return json(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(wait) });
          }
          const ts = nextTs();
          const message = { type: 'message', subtype: 'bot_message', bot_id: 'B0LOCAL', text: body.text ?? '', ts, ...(body.thread_ts ? { thread_ts: body.thread_ts } : {}), attachments: body.attachments, blocks: body.blocks };
          messages.set(`${channel}:${ts}`, message);
          return json(200, { ok: true, channel, ts, message });
        }
        if (method === 'chat.update') {
          const ts = body.ts;
          const key = `${channel}:${String(ts)}`;
          const old = messages.get(key);
          if (typeof ts !== 'string' || !old) return json(200, { ok: false, error: 'message_not_found' });
          const message = { ...old, text: body.text ?? old.text, attachments: body.attachments ?? old.attachments, blocks: body.blocks ?? old.blocks, edited: { user: 'B0LOCAL', ts: nextTs() } };
          messages.set(key, message);
          return json(200, { ok: true, channel, ts, text: message.text, message });
        }
        return json(200, { ok: false, error: 'unknown_method' });
      }
      if (req.path.startsWith('/services/')) {
        const name = req.path.split('/').pop() ?? '';
        const broken = opts.brokenWebhooks?.[name];
        if (broken) return text(SLACK_WEBHOOK_ERROR_STATUS[broken] ?? 400, broken);
        const body = parsed as Record<string, unknown> | undefined;
        if (!body || typeof body !== 'object') return text(400, 'invalid_payload');
        if (!body.text && !body.blocks && !body.attachments) return text(400, 'no_text');
        const problem = blockKitProblem(body);
        if (problem) return text(400, problem.startsWith('too_many') ? 'too_many_attachments' : 'invalid_blocks');
        const wait = limit?.take(`webhook:${req.path}`) ?? 0;
        if (wait > 0) {
          limited++;
          return text(429, 'rate_limited', { 'Retry-After': String(wait) });
        }
        webhookMessages.push({ channel: `webhook:${name}`, ts: nextTs(), message: body });
        return text(200, 'ok');
      }
      return text(404, 'no_service');
    },
  });
  baseUrl = r.url;
  return {
    ...r,
    messages: () => new Map(messages),
    webhookUrl: (name) => `${r.url}/services/T000LOCAL/B000LOCAL/${name}`,
    apiUrl: `${r.url}/api`,
    rateLimited: () => limited,
    setInteractions: (target) => {
      interactions = { ...target };
    },
    click,
    ephemerals: () =>
      r
        .received()
        .filter((x) => x.path.startsWith('/_response/') && (x.json as { replace_original?: unknown } | undefined)?.replace_original !== true)
        .map((x) => ({ text: String((x.json as { text?: unknown } | undefined)?.text ?? ''), path: x.path })),
  };
}
