/**
 * The flush-groups function's configuration, read once at init from the variables of the
 * `flushGroups` entry of infra/topology.ts (plus ROUTES_FILE for local mode). Routes, queues and
 * throttle windows are read exactly as dispatch reads them (`routingEnv`).
 */
import { z } from 'zod';
import { nonEmpty, parseEnv } from './env.ts';
import { routingEnv, routingSettings, type DispatchSettings } from './dispatch.ts';

const flushEnv = routingEnv.extend({
  GROUPS_TABLE: nonEmpty,
  ALERTS_TABLE: nonEmpty,
  GROUP_FLUSH_QUEUE_URL: nonEmpty,
  DEAD_LETTER_QUEUE_URL: nonEmpty,
  /** Silences: a group's "until resolved" silences are expired when it resolves (unset: they run to their end). */
  SILENCES_TABLE: z.string().trim().optional(),
});

/** flush-groups' validated configuration. */
export interface FlushGroupsSettings extends Pick<DispatchSettings, 'queueUrls' | 'routes' | 'routesCacheTtlMs' | 'defaultReceiver' | 'decision' | 'history'> {
  readonly groupsTable: string;
  /** The alert records, read for the members a notification lists. */
  readonly alertsTable: string;
  readonly flushQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly silencesTable?: string;
}

/** Reads the configuration. @throws ConfigError naming the variable */
export function readFlushGroupsSettings(env: NodeJS.ProcessEnv): FlushGroupsSettings {
  const v = parseEnv(flushEnv, env, 'flush-groups');
  return {
    ...routingSettings(v),
    groupsTable: v.GROUPS_TABLE,
    alertsTable: v.ALERTS_TABLE,
    flushQueueUrl: v.GROUP_FLUSH_QUEUE_URL,
    deadLetterQueueUrl: v.DEAD_LETTER_QUEUE_URL,
    ...(v.SILENCES_TABLE ? { silencesTable: v.SILENCES_TABLE } : {}),
  };
}
