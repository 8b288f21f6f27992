/**
 * The timers function's configuration, read once at init from the variables of the `timers` entry
 * of infra/topology.ts (plus RULES_FILE for local mode).
 */
import { nonEmpty, optionalString as optional, parseEnv } from './env.ts';
import { ruleSourceEnv, ruleSourceSettings, type RuleSourceSettings } from './evaluator.ts';

const timersEnv = ruleSourceEnv.extend({
  STATE_TABLE: nonEmpty,
  ALERT_EVENTS_QUEUE_URL: nonEmpty,
  ALERTS_TABLE: optional,
  GROUPS_TABLE: optional,
  GROUP_FLUSH_QUEUE_URL: optional,
});

/** The timers function's validated configuration. */
export interface TimersConfig extends RuleSourceSettings {
  readonly stateTable: string;
  readonly alertEventsQueueUrl: string;
  /** The alerts table: muted firings due to be decided again (absent: no re-checks). */
  readonly alertsTable?: string;
  /** The groups table and the group-flush queue: groups whose flush message was lost are scheduled again (absent: not checked). */
  readonly groups?: { readonly table: string; readonly flushQueueUrl: string };
}

/** Reads the timers configuration. @throws ConfigError naming the variable */
export function timersConfig(env: NodeJS.ProcessEnv): TimersConfig {
  const e = parseEnv(timersEnv, env, 'timers');
  return { ...ruleSourceSettings(e, 'timers'), stateTable: e.STATE_TABLE, alertEventsQueueUrl: e.ALERT_EVENTS_QUEUE_URL, ...(e.ALERTS_TABLE ? { alertsTable: e.ALERTS_TABLE } : {}),
    ...(e.GROUPS_TABLE && e.GROUP_FLUSH_QUEUE_URL ? { groups: { table: e.GROUPS_TABLE, flushQueueUrl: e.GROUP_FLUSH_QUEUE_URL } } : {}),
  };
}
