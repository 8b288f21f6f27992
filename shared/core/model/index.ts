/**
 * Klaxon's shared vocabulary: the types that cross stage boundaries.
 *
 * Every message that travels between functions (an {@link AlertTransition} on the alert-events
 * queue, a {@link NotificationJob} on a channel queue) is defined here, once. Stages own their
 * internal types; only what two stages exchange lives in this file.
 */

import type { Enrichment } from '../enrich/types.ts';

/** Label set of a series or an alert. Keys and values are plain strings. */
export type Labels = Readonly<Record<string, string>>;

/** Severity levels, most severe first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
/** One of {@link SEVERITIES}. */
export type Severity = (typeof SEVERITIES)[number];

/** Delivery channels, each with its own queue and function. */
export const CHANNELS = ['slack', 'email', 'pagerduty', 'webhook'] as const;
/** One of {@link CHANNELS}. */
export type Channel = (typeof CHANNELS)[number];

/** One metric sample, decoded and validated. `timestampMs` is event time, epoch milliseconds. */
export interface MetricSample {
  readonly name: string;
  readonly value: number;
  readonly timestampMs: number;
  readonly labels: Labels;
}

/** Where a Kafka record came from: enough to find it again and to report a partial batch failure. */
export interface RecordCoordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The Kafka record's own timestamp (epoch ms). */
  readonly timestampMs: number;
}

/** A record (or one sample of a record) that could not be used, with why. Sent to the rejected queue. */
export interface RejectedRecord {
  readonly source: RecordCoordinates;
  /**
   * Human-readable reason naming what was wrong and where, e.g. `[2].value: expected a finite number`;
   * at most {@link REJECTED_REASON_MAX_CHARS} characters.
   */
  readonly reason: string;
  /** The raw record value as text, truncated to {@link REJECTED_RAW_MAX_CHARS} characters. */
  readonly raw: string;
  readonly rawTruncated: boolean;
}

/** Upper bound of the raw value kept in a rejected record (well below SQS's 256 KiB message size). */
export const REJECTED_RAW_MAX_CHARS = 8192;

/**
 * Upper bound of a rejected record's reason (UTF-16 code units). With the raw bound, one message on
 * the rejected queue stays below 60 KB even when JSON escapes every character to 6 bytes, far under
 * SQS's 256 KiB message limit
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 */
export const REJECTED_REASON_MAX_CHARS = 1024;

/**
 * Most rejected items one Kafka record yields: the first this many rejected samples are sent one by
 * one, the rest of the record is ONE summary item (counts and first reasons), so a record of
 * 250,000 bad samples costs 11 messages, not 250,000.
 */
export const REJECTED_ITEMS_PER_RECORD = 10;

/**
 * States of an alert as Prometheus names them. `inactive` is the absence of an alert; `resolved` is
 * the terminal state a firing alert reaches.
 */
export const ALERT_STATES = ['inactive', 'pending', 'firing', 'resolved'] as const;
/** One of {@link ALERT_STATES}. */
export type AlertState = (typeof ALERT_STATES)[number];

/**
 * A change of an alert's state, as the evaluator sees it. Every change is reported by the core
 * (the replay CLI prints them all); only `pending→firing` and `firing→resolved` become
 * {@link AlertTransition}s on the queue.
 */
export interface StateChange {
  readonly ruleId: string;
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly from: AlertState;
  readonly to: AlertState;
  /** Event time of the change (epoch ms): the sample's time, or the virtual/timer clock for absence and staleness. */
  readonly atMs: number;
  /** The value that decided the change (the aggregate, rate, z-score...); NaN for absence. */
  readonly value: number;
}

/** Transitions that leave the evaluator: only these are notified. */
export const TRANSITION_KINDS = ['firing', 'resolved'] as const;
/** One of {@link TRANSITION_KINDS}. */
export type TransitionKind = (typeof TRANSITION_KINDS)[number];

/** Per-rule notification policy carried with each transition, so dispatch needs no rule lookup. */
export interface NotificationPolicy {
  /** Throttle window override per severity, in ms (0 = none). Absent keys use the deployment defaults. */
  readonly throttleMs?: Partial<Record<Severity, number>>;
  /** Escalate one level when the alert fires `count` times within `windowMs`. Default 3 in 1 h. */
  readonly escalation?: { readonly count: number; readonly windowMs: number };
}

/**
 * A rule's remediation as a transition carries it (shared/core/remediate/spec.ts `RemediationSpec`,
 * repeated here so the model imports nothing): the action's name, parameter templates, policy.
 */
export interface TransitionRemediation {
  readonly action: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly approval?: { readonly timeoutMs: number };
  readonly cooldownMs: number;
  readonly maxAttempts: number;
  readonly attemptsWindowMs: number;
  readonly dryRun: boolean;
}

/**
 * The message on the alert-events queue (FIFO, MessageGroupId = fingerprint,
 * MessageDeduplicationId = transitionId). Version 1.
 */
export interface AlertTransition {
  readonly version: 1;
  /** Stable under replay: a hash of fingerprint, kind and the alert's activeAt/at times. Idempotency key downstream. */
  readonly transitionId: string;
  readonly kind: TransitionKind;
  readonly fingerprint: string;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly severity: Severity;
  /** Alert labels: series labels (without the metric name) merged with the rule's labels, plus `alertname`. */
  readonly labels: Labels;
  /** Rendered annotations (summary, description, ...). */
  readonly annotations: Labels;
  /** The value that decided the transition (NaN is sent as null). */
  readonly value: number | null;
  /** Human text of the condition, e.g. `avg_over_time(5m) > 80`. */
  readonly condition: string;
  /** Event time of the transition (epoch ms). */
  readonly atMs: number;
  /** When the alert became active (pending), epoch ms. */
  readonly activeAtMs: number;
  /** When it started firing (epoch ms); equals atMs for `firing`. */
  readonly firedAtMs: number;
  /** For `resolved`: when it resolved (epoch ms). */
  readonly resolvedAtMs?: number;
  readonly runbookUrl?: string;
  readonly dashboardUrl?: string;
  readonly policy?: NotificationPolicy;
  /**
   * The rule's auto-remediation (docs/remediation.md), carried like `policy` so dispatch needs no
   * rule lookup: what dispatch asks the remediate function to run when it notifies a firing.
   */
  readonly remediation?: TransitionRemediation;
  /** Wall-clock time the evaluator emitted it (epoch ms): for pipeline latency metrics only. */
  readonly emittedAtMs: number;
}

/** A Slack destination: an incoming webhook (secret) or a channel posted to with the bot token. */
export interface SlackDestination {
  readonly kind: 'slack';
  /** Name of the key inside the Slack secret whose value is an incoming-webhook URL. */
  readonly webhookKey?: string;
  /** Channel id or name for chat.postMessage with the bot token from the Slack secret. */
  readonly channel?: string;
}
/** An email destination: recipients of SES SendEmail. */
export interface EmailDestination {
  readonly kind: 'email';
  readonly to: readonly string[];
}
/** A PagerDuty destination: the key inside the PagerDuty secret that holds the routing key. */
export interface PagerDutyDestination {
  readonly kind: 'pagerduty';
  readonly routingKeyName: string;
}
/** The payload formats of a webhook receiver (docs/channels.md, "Webhook"). */
export const WEBHOOK_FORMATS = ['alertmanager', 'klaxon', 'template'] as const;
/** One of {@link WEBHOOK_FORMATS}. */
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
/**
 * A signed outgoing webhook (docs/channels.md, "Webhook"): POSTed JSON, signed with the Standard
 * Webhooks scheme with the secret kept for `receiver` in the webhooks secret. The URL is not a
 * secret (the signature is what authenticates Klaxon), so it travels in the job.
 */
export interface WebhookDestination {
  readonly kind: 'webhook';
  /** http(s) URL the payload is POSTed to. */
  readonly url: string;
  readonly format: WebhookFormat;
  /** For `template`: the JSON document whose strings may hold `{{ path }}` placeholders (checked when the routes load). */
  readonly template?: unknown;
  /** Most alerts one group payload lists (the rest are counted: Alertmanager's `truncatedAlerts`). */
  readonly maxAlerts?: number;
  /** Key of its signing secrets in the webhooks secret (default: the receiver's name). */
  readonly secretKey: string;
}
/** Where one notification goes. */
export type Destination = SlackDestination | EmailDestination | PagerDutyDestination | WebhookDestination;

/**
 * The message on a channel queue (slack / email / pagerduty / webhook). Version 1.
 * Dispatch writes it; exactly one channel function consumes it.
 */
export interface NotificationJob {
  readonly version: 1;
  /** `${transitionId}:${receiver}:${channel}`: a notification is sent once per key. */
  readonly idempotencyKey: string;
  readonly channel: Channel;
  /** Receiver name from the routes config (or `default`). */
  readonly receiver: string;
  readonly destination: Destination;
  /** Stable id of the destination, the circuit breaker's key, e.g. `slack:webhook:ops`. No secrets in it. */
  readonly destinationId: string;
  readonly transition: AlertTransition;
  /** Severity after escalation. */
  readonly severity: Severity;
  /** Present when dispatch raised the severity; `reason` is human text for the message. */
  readonly escalation?: { readonly from: Severity; readonly reason: string };
  /** Present when dispatch lowered the severity outside business hours (docs/routing.md, "Severity by business hours"); `reason` is human text for the message. */
  readonly lowered?: { readonly from: Severity; readonly reason: string };
  /** How many times this alert has fired (lifetime of the alert record). */
  readonly fireCount: number;
  /** Notifications the throttle window suppressed since the last one sent on this channel. */
  readonly suppressed?: { readonly count: number; readonly sinceMs: number };
  /** A reminder: the alert still fires and was notified here `repeat_interval` ago (docs/routing.md, "Grouping"). */
  readonly reminder?: { readonly lastSentAtMs: number };
  /**
   * An acknowledgement changed (docs/incidents.md): not a new notification, the alert's message is
   * updated to say who acknowledged it and when (Slack), its incident acknowledged (PagerDuty).
   */
  readonly ack?: { readonly state: 'acknowledged' | 'unacknowledged'; readonly by: string; readonly atMs: number; readonly source: string };
  /**
   * A step of an escalation policy (docs/incidents.md, "Escalation policies"): nobody acknowledged
   * the alert, so a further level is notified; `reason` says why (`unacknowledged for 15m
   * (db-oncall: level 2 of 3)`).
   */
  /** A note for the alert's (or group's) Slack thread (docs/incidents.md): e.g. "Resolved in PagerDuty by Alice". Plain text. */
  readonly note?: {
    readonly text: string;
    readonly by: string;
    readonly atMs: number;
    readonly source: string;
    /** An auto-remediation approval request (docs/remediation.md): rendered with Approve / Reject buttons naming the attempt. */
    readonly approval?: { readonly attemptId: string; readonly expiresAtMs: number };
  };
  readonly escalated?: { readonly policy: string; readonly level: number; readonly levels: number; readonly step: number; readonly steps: number; readonly reason: string };
  /**
   * A group notification (docs/routing.md, "Grouping"): the alerts of one (route, receiver, group
   * labels). `transition` is then the group's own (fingerprint = the group id, kind `resolved`
   * when none of its alerts fires any more, labels = the group labels, severity = the highest of its
   * firing alerts), so the channel pipeline (idempotency, breaker, FIFO group) treats it like any job.
   */
  readonly group?: GroupNotice;
  /**
   * What the channel's enrichment stage found (docs/enrichment.md): set in the channel function just
   * before rendering, never carried on a queue (the pipeline drops one that arrives).
   */
  readonly enrichment?: Enrichment;
  /** A logs follow-up note (shared/core/enrich/follow-up.ts): the cache key of the lines to post in the alert's thread. */
  readonly logsFollowUp?: { readonly key: string; readonly gaveUp?: boolean };
}

/** The most alerts a group job lists one by one (the rest are counted: "and 480 more"). */
export const GROUP_JOB_MAX_LISTED = 100;

/** One alert of a group notification, as messages list it (strings raw: each formatter escapes). */
export interface GroupMemberView {
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly severity: Severity;
  /** Rule name, else `alertname`. */
  readonly name: string;
  /** The `instance` label, else `host`, `job` or `service`; `-` when none. */
  readonly instance: string;
  readonly summary?: string;
  /** The deciding value as text. */
  readonly value: string;
  readonly startsAtMs: number;
  readonly endsAtMs?: number;
  /** Its labels (values cut to 200 characters, at most 30 labels). */
  readonly labels: Labels;
  readonly runbookUrl?: string;
  /**
   * Firing alerts only: true when it was not in the group's last notification on this channel (one
   * of `changes.newFiring`). Optional: absent, messages count new alerts without naming them.
   */
  readonly isNew?: boolean;
}

/** Why a group notification was sent (Alertmanager's flush decision). */
export type GroupNoticeReason = 'first-notification' | 'new-firing' | 'all-resolved' | 'new-resolved' | 'repeat';

/** What a group job carries besides the job's usual fields. */
export interface GroupNotice {
  /** The group id (`group:<hash>`), also the transition's fingerprint and the Slack thread's key. */
  readonly id: string;
  /** The route that made the group (e.g. `routes[0]`). */
  readonly routePath: string;
  /** The group labels (the alerts' values of the route's `group_by`). */
  readonly labels: Labels;
  readonly reason: GroupNoticeReason;
  /** The firing alerts, most severe and oldest first, at most {@link GROUP_JOB_MAX_LISTED}. */
  readonly firing: readonly GroupMemberView[];
  /** The alerts resolved since the last notification, at most {@link GROUP_JOB_MAX_LISTED}. */
  readonly resolved: readonly GroupMemberView[];
  /** How many fire / resolved in all (the lists may be cut). */
  readonly firingCount: number;
  readonly resolvedCount: number;
  /** Since the last notification of this group on this channel: alerts that joined firing, alerts that resolved. */
  readonly changes: { readonly newFiring: number; readonly newResolved: number };
  /** The group's notification number on this channel (1 for the first). */
  readonly seq: number;
}

/** Current versions of the two queue message formats. */
export const MESSAGE_VERSION = 1 as const;

/** The time source injected into stages that need "now" (core never reads the clock itself). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}
