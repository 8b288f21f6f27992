/**
 * Names of Klaxon's CloudWatch metrics (EMF), shared by the functions that emit them and the
 * dashboard and alarms that read them. Namespace {@link METRICS_NAMESPACE}; every metric also
 * carries Powertools' `service` dimension (the function's logical name from infra/topology.ts).
 */
export const METRICS_NAMESPACE = 'Klaxon';

/** Metric names, with their dimensions beyond `service`. */
export const METRIC = {
  /** Kafka records received by the evaluator (Count). */
  recordsIn: 'RecordsIn',
  /** Records or samples sent to the rejected queue (Count). */
  recordsRejected: 'RecordsRejected',
  /** Samples (or whole undecodable records) rejected, including those a per-record summary item stands for (Count). */
  samplesRejected: 'SamplesRejected',
  /** Samples evaluated against at least one rule (Count). */
  samplesEvaluated: 'SamplesEvaluated',
  /** Samples skipped as out of order or duplicate (Count). Alarmed: a series that skips steadily is blind. */
  samplesSkipped: 'SamplesSkipped',
  /** Samples stamped beyond the clock + future skew that reached evaluation and were not evaluated (Count). */
  samplesFuture: 'SamplesFuture',
  /** New series refused because their rule reached its series limit (Count). Alarmed. */
  seriesLimited: 'SeriesLimited',
  /** 1 when a timers run stopped at its deadline with due items left, else 0 (Count). Alarmed. */
  timersBacklog: 'TimersBacklog',
  /** Alert transitions emitted; dimension `kind` = firing | resolved (Count). */
  transitions: 'Transitions',
  /** Alerts currently firing, as counted by the timers function each minute (Count). */
  alertsFiring: 'AlertsFiring',
  /**
   * Partitions whose windows were rebuilt from the sample log (derived windows: a cold instance,
   * a partition moved, new rules); dimension `how` = rebuilt | caught-up (Count).
   */
  windowsRebuilt: 'WindowsRebuilt',
  /** Job events received (valid ones); dimension `kind` = error | success (Count). */
  jobEventsIn: 'JobEventsIn',
  /** Error events classified; dimensions `severity` and `rule` (the classification rule that decided) (Count). */
  errorEventsClassified: 'ErrorEventsClassified',
  /** Error alerts resolved by the timers' quiet-period sweep (Count). */
  errorAlertsQuietResolved: 'ErrorAlertsQuietResolved',
  /** Evaluator batch duration (Milliseconds). */
  batchDuration: 'BatchDuration',
  /** Notifications sent; dimension `channel` (Count). */
  notificationsSent: 'NotificationsSent',
  /** Notifications failed; dimensions `channel`, `reason` (a {@link DELIVERY_FAILURE_REASONS} value) (Count). */
  notificationsFailed: 'NotificationsFailed',
  /** Notifications dead-lettered at once for a permanent error; dimension `channel` (Count). Alarmed. */
  notificationsDeadLettered: 'NotificationsDeadLettered',
  /** Notifications held back by an open breaker or Retry-After; dimension `channel` (Count). */
  notificationsDeferred: 'NotificationsDeferred',
  /** Parts of an enrichment that could not be added (docs/enrichment.md); dimensions `channel`, `reason` (an ENRICH_FAILURE_REASONS value) (Count). */
  enrichmentFailures: 'EnrichmentFailures',
  /** Notifications a throttle window suppressed; dimension `channel` (Count). */
  notificationsSuppressed: 'NotificationsSuppressed',
  /** Group flushes, dimension `outcome` (`notified`: at least one channel got a notification; `quiet`; `obsolete`; `early`; `gone`) (Count). */
  groupFlushes: 'GroupFlushes',
  /** Transitions routed to no channel (low severity, or no receiver); (Count). */
  notificationsThrottled: 'NotificationsThrottled',
  /** 1 when a breaker is open at the time of a delivery attempt, else 0; dimension `channel` (Count). */
  breakerOpen: 'BreakerOpen',
  /** From the sample's event time to the receiver's 2xx; dimension `channel` (Milliseconds). */
  deliveryLatency: 'DeliveryLatency',
  // Alert history (shared/core/history/metrics.ts; docs/incidents.md "History and analytics"),
  // emitted where history is recorded. Dimensions are bounded sets only (severity, reason), never
  // a rule id or a label: each dimension value is a metric of its own, billed and kept 15 months.
  /** Alerts fired (`fired` history events); dimension `severity` (Count). */
  alertsFired: 'AlertsFired',
  /** Notifications not sent (`suppressed` history events); dimension `reason` (a SUPPRESSION_REASONS value, else `other`) (Count). */
  alertsSuppressed: 'AlertsSuppressed',
  /** From an activation's firing to an acknowledgement of it; dimension `severity` (Milliseconds). */
  timeToAcknowledge: 'TimeToAcknowledge',
  /** From an activation's firing to its resolution; dimension `severity` (Milliseconds). */
  timeToResolve: 'TimeToResolve',
  /**
   * Inbound Slack / PagerDuty requests refused (forged, stale, replayed, too large, no secret);
   * emitted twice: with `service` only (alarmed) and with `reason` (an INTERACTION_REFUSALS value) (Count).
   */
  interactionsRefused: 'InteractionsRefused',
  /** Verified requests taken onto the interactions queue; dimension `source` = slack | pagerduty (Count). */
  interactionsAccepted: 'InteractionsAccepted',
  /** Verified requests that could not be enqueued within the answer budget; dimension `source` (Count). */
  interactionsDropped: 'InteractionsDropped',
  /** Auto-remediation attempts recorded (docs/remediation.md); dimension `status` = an ATTEMPT_STATUSES value (Count). */
  remediations: 'Remediations',
} as const;

/**
 * Bounded failure reasons for delivery metrics (after Alertmanager's notify `Reason`); `render`: the
 * job's message could not be rendered (a template bug or content it cannot render; never the
 * destination's fault).
 */
export const DELIVERY_FAILURE_REASONS = ['client', 'auth', 'rate-limited', 'server', 'timeout', 'network', 'breaker-open', 'render', 'other'] as const;
/** One of {@link DELIVERY_FAILURE_REASONS}. */
export type DeliveryFailureReason = (typeof DELIVERY_FAILURE_REASONS)[number];
