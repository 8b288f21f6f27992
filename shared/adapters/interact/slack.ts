/**
 * Slack calls of the interactions worker (issue 12): ephemeral answers through a payload's
 * response_url, and user-group membership through usergroups.users.list with the bot token.
 *
 * - response_url: "up to 5 times within 30 minutes" (https://api.slack.com/interactivity/handling#message_responses);
 *   POST JSON `{ response_type: "ephemeral", replace_original: false, text }`. Only URLs on Slack's
 *   hooks host (or the local receiver, in local mode) are posted to, with a short timeout: the URL
 *   came in a signed payload, but the worker never becomes a way to POST anywhere.
 * - usergroups.users.list: `GET ?usergroup=S…` → `{ ok, users: [U…] }`, Tier 2 (20+ a minute:
 *   https://api.slack.com/methods/usergroups.users.list), so members are cached per group.
 */
import type { Clock } from '../../core/model/index.ts';
import { TransientError } from '../../core/errors/index.ts';
import type { SlackResponder, UserGroupDirectory } from '../../core/interact/ports.ts';
import { postJson, isFailure, type FetchLike } from '../channel/http.ts';
import { fitEscaped } from '../../core/format/escape.ts';

/** Where response_url may point: Slack's hooks host. */
export const SLACK_RESPONSE_URL_PREFIX = 'https://hooks.slack.com/';
/** How long one response_url POST may take (the worker has other messages to do). */
export const RESPONSE_TIMEOUT_MS = 3000;
/** Ephemeral text limit we keep to (a message's text: 4,000 recommended, chat.postMessage docs). */
export const EPHEMERAL_MAX_CHARS = 3000;

/** {@link SlackResponder} over fetch. */
export class FetchSlackResponder implements SlackResponder {
  readonly #fetch: FetchLike;
  readonly #prefixes: readonly string[];
  readonly #now: () => number;

  /** `extraPrefixes`: besides Slack's hooks host (local mode: the local Slack receiver). */
  constructor(opts: { fetch?: FetchLike; extraPrefixes?: readonly string[]; now: () => number }) {
    this.#fetch = opts.fetch ?? ((url, init) => fetch(url, init));
    this.#prefixes = [SLACK_RESPONSE_URL_PREFIX, ...(opts.extraPrefixes ?? [])];
    this.#now = opts.now;
  }

  async ephemeral(responseUrl: string, text: string): Promise<boolean> {
    if (!this.#prefixes.some((p) => responseUrl.startsWith(p))) return false;
    const body = { response_type: 'ephemeral', replace_original: false, text: fitEscaped(text, EPHEMERAL_MAX_CHARS) };
    const r = await postJson(this.#fetch, responseUrl, body, { timeoutMs: RESPONSE_TIMEOUT_MS, nowMs: this.#now() });
    return !isFailure(r) && r.status >= 200 && r.status < 300;
  }

  async replaceOriginal(responseUrl: string, text: string): Promise<boolean> {
    if (!this.#prefixes.some((p) => responseUrl.startsWith(p))) return false;
    // https://api.slack.com/interactivity/handling#modifying-original: the message becomes this text, its blocks (the buttons) gone.
    const body = { replace_original: true, text: fitEscaped(text, EPHEMERAL_MAX_CHARS) };
    const r = await postJson(this.#fetch, responseUrl, body, { timeoutMs: RESPONSE_TIMEOUT_MS, nowMs: this.#now() });
    return !isFailure(r) && r.status >= 200 && r.status < 300;
  }
}

/** Slack could not list a user group's members. */
export class UserGroupLookupError extends TransientError {}

/** How long a user group's members are kept (people join and leave a rota: minutes are fine). */
export const USER_GROUP_CACHE_MS = 5 * 60_000;

/** {@link UserGroupDirectory} over Slack's Web API, cached per group. */
export class SlackUserGroupDirectory implements UserGroupDirectory {
  readonly #cache = new Map<string, { atMs: number; members: ReadonlySet<string> }>();

  constructor(
    private readonly opts: { readonly token: () => Promise<string | undefined>; readonly apiUrl: string; readonly clock: Clock; readonly fetch?: FetchLike },
  ) {}

  async members(groupId: string): Promise<ReadonlySet<string>> {
    const now = this.opts.clock.now();
    const hit = this.#cache.get(groupId);
    if (hit && now - hit.atMs < USER_GROUP_CACHE_MS) return hit.members;
    const token = await this.opts.token();
    if (!token) throw new UserGroupLookupError('the Slack secret has no botToken: user groups in `authorized` cannot be checked');
    const fetchFn = this.opts.fetch ?? ((url, init) => fetch(url, init));
    let json: { ok?: boolean; users?: unknown; error?: string };
    try {
      const res = await fetchFn(`${this.opts.apiUrl.replace(/\/+$/, '')}/usergroups.users.list?usergroup=${encodeURIComponent(groupId)}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(RESPONSE_TIMEOUT_MS),
        redirect: 'error',
      });
      json = (await res.json()) as typeof json;
    } catch (err) {
      throw new UserGroupLookupError(`usergroups.users.list ${groupId}: ${(err as Error).message}`, { cause: err });
    }
    if (!json.ok || !Array.isArray(json.users)) throw new UserGroupLookupError(`usergroups.users.list ${groupId}: ${json.error ?? 'no users'}`);
    const members = new Set(json.users.filter((u): u is string => typeof u === 'string'));
    this.#cache.set(groupId, { atMs: now, members });
    return members;
  }
}
