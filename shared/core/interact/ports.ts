/**
 * The ports of the interactions endpoint and worker (issue 12). Adapters in shared/adapters
 * (DynamoDB replay guard, SQS queues, Slack's response_url and usergroups.users.list); tests
 * inject their own.
 */
import type { ActionMessage, NoteMessage } from '../lifecycle/action.ts';
import type { InteractionWork } from './work.ts';

/** Remembers verified requests for the replay window: the same one again is refused. */
export interface ReplayGuard {
  /**
   * Records `key` until `expiresAtMs` unless it is recorded already (one conditional write):
   * true the first time, false for a replay. `signal` aborts the write.
   */
  claim(key: string, expiresAtMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Forgets a claim (the request was not taken after all: its sender's retry must be accepted). */
  release(key: string): Promise<void>;
}

/** The interactions queue (the endpoint's side). */
export interface InteractionQueue {
  /** Puts one piece of work on the queue; `signal` aborts the send (the endpoint's time budget). */
  enqueue(work: InteractionWork, signal?: AbortSignal): Promise<void>;
}

/** Action and note messages onto the alert-events FIFO queue (group = fingerprint, dedup = actionDedupId / noteDedupId). */
export interface ActionPublisher {
  publish(messages: readonly (ActionMessage | NoteMessage)[]): Promise<void>;
}

/** Ephemeral answers through a Slack payload's response_url. */
export interface SlackResponder {
  /** Posts `text` as an ephemeral message; resolves false when Slack refused or did not answer (never throws). */
  ephemeral(responseUrl: string, text: string): Promise<boolean>;
  /**
   * Replaces the message the button was on with `text` (Slack's `replace_original: true`), so its
   * buttons go once what they asked is decided; resolves false when Slack refused (never throws).
   */
  replaceOriginal?(responseUrl: string, text: string): Promise<boolean>;
}

/** Slack user-group membership (usergroups.users.list). */
export interface UserGroupDirectory {
  /** The user ids of a group; throws a TransientError when Slack cannot say. */
  members(groupId: string): Promise<ReadonlySet<string>>;
}
