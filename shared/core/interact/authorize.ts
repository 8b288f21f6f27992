/**
 * Who may press Klaxon's Slack buttons (issue 12): per receiver, Slack user ids and user-group ids
 * (routes config: `slack: { channel, authorized: { users: [U…], user_groups: [S…] } }`). A receiver
 * without `authorized` lets anyone in the workspace act (Slack already limits who sees the
 * channel). Pure: the user-group members are looked up by the caller (usergroups.users.list),
 * only for the groups that can decide.
 */

/** Who may act on a receiver's messages. */
export interface SlackAuthorization {
  /** Slack user ids (`U…`, `W…`). */
  readonly users: readonly string[];
  /** Slack user-group ids (`S…`). */
  readonly userGroups: readonly string[];
}

/** How a click was authorized, or not. */
export type AuthorizationDecision =
  | { readonly ok: true; readonly how: 'anyone' | 'user' | 'user-group' }
  | { readonly ok: false };

/** The text of the ephemeral refusal. */
export const NOT_AUTHORIZED_TEXT = 'you are not allowed to act on these alerts (ask the team that owns them to add you to its `authorized` users or user groups)';

/**
 * The user groups whose members must be known to decide: none when a receiver lets anyone act or
 * lists the user; otherwise every group listed (sorted, distinct).
 */
export function userGroupsToCheck(auths: readonly (SlackAuthorization | undefined)[], userId: string): string[] {
  if (auths.length === 0 || auths.some((a) => a === undefined || a.users.includes(userId))) return [];
  return [...new Set(auths.flatMap((a) => a!.userGroups))].sort();
}

/**
 * Decides: the user may act when ANY of the receivers that notified the message lets them (no
 * `authorized`: anyone; listed as a user; a member of a listed user group). No receiver known
 * (the routes changed since): anyone, as with no `authorized` (the buttons were posted by Klaxon;
 * refusing would lock everyone out of an alert whose receiver was renamed).
 */
export function decideAuthorization(
  auths: readonly (SlackAuthorization | undefined)[],
  userId: string,
  members: ReadonlyMap<string, ReadonlySet<string>>,
): AuthorizationDecision {
  if (auths.length === 0 || auths.some((a) => a === undefined)) return { ok: true, how: 'anyone' };
  if (auths.some((a) => a!.users.includes(userId))) return { ok: true, how: 'user' };
  if (auths.some((a) => a!.userGroups.some((g) => members.get(g)?.has(userId)))) return { ok: true, how: 'user-group' };
  return { ok: false };
}
