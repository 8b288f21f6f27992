/**
 * The evaluation core's data types and limits: the stored state of one (rule, series), the batch
 * the evaluator hands in, the changes it reports and the time options.
 */
import type { AlertState, Labels, MetricSample, Severity, StateChange } from '../model/index.ts';
import type { Rule } from '../rules/index.ts';

/**
 * Most window samples kept per series and rule. Worst-case item: 720 × (13-digit time + 24-char
 * value + separators) ≈ 28 KB of JSON, plus < 1 KB of fields: far below DynamoDB's 400 KB item
 * limit (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
 * 720 is a 1 h window at one sample every 5 s, or a 2 h window at 10 s.
 */
export const MAX_WINDOW_SAMPLES = 720;

/** Default staleness: Prometheus's 5 minute lookback delta. */
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

/** States a series is kept in (`resolved` is reported as a change, then the series is inactive). */
export type SeriesAlertState = Exclude<AlertState, 'resolved'>;

/**
 * What a firing alert was published as, kept in its state while it fires so that it can still be
 * resolved when its rule is deleted (the fingerprint cannot be recomputed then: the alert labels
 * include the deleted rule's labels). Bounded: the alert labels are the series labels (capped by
 * decode) plus the rule's labels.
 */
export interface FiringAlert {
  readonly fingerprint: string;
  readonly ruleName: string;
  readonly severity: Severity;
  /** Alert labels (series labels + rule labels + alertname), as on the firing transition. */
  readonly labels: Labels;
  /** The rule's condition text. */
  readonly condition: string;
}

/**
 * Duration state of one (rule, series), JSON-serialisable and bounded (see {@link MAX_WINDOW_SAMPLES}).
 * Time fields are event time (epoch ms).
 */
export interface SeriesState {
  /** Format version. */
  readonly v: 1;
  /** Newest sample time evaluated: the out-of-order / duplicate guard. */
  readonly lastSampleMs: number;
  readonly state: SeriesAlertState;
  /** When the series became pending (the alert's activeAt). */
  readonly activeAtMs?: number;
  /** When the alert started firing. */
  readonly firedAtMs?: number;
  /** When the condition cleared while firing with keepFiringFor. */
  readonly keepFiringSinceMs?: number;
  /** Last value that decided the state (null when not finite, as JSON has no NaN/Infinity). */
  readonly value?: number | null;
  /** True while no sample has been seen (an expected absence series): `lastSampleMs` is when silence began counting. */
  readonly noSample?: true;
  /** Window sample times (ascending), for windowed kinds. */
  readonly wt?: readonly number[];
  /** Window sample values, parallel to {@link SeriesState.wt}. */
  readonly wv?: readonly number[];
  /** The alert's identity, present exactly while `state` is firing (absent in items written before it existed). */
  readonly alert?: FiringAlert;
  /**
   * Derived windows only, in an item written without its window: the oldest window sample's time
   * when it was written. A window rebuilt from the sample log keeps no sample before it (the
   * series may have started afresh since older samples were logged: its item deleted as stale,
   * then created again). Never in a state being evaluated.
   */
  readonly wf?: number;
}

/** The samples of one (rule, series) in a batch, in time order. */
export interface SeriesBatch {
  /** `${rule.id}#${seriesKey}` (see {@link stateKeyFrom}): the state's key. */
  readonly stateKey: string;
  readonly rule: Rule;
  readonly metric: string;
  /** Series labels (without the metric name). */
  readonly labels: Labels;
  /** Sorted by time (stable: equal times keep arrival order). */
  readonly samples: MetricSample[];
}

/** A {@link StateChange} with the alert's times, so a transition can be built from any change of a batch. */
export interface AlertStateChange extends StateChange {
  readonly activeAtMs: number;
  readonly firedAtMs?: number;
}

/** Options of the time-based logic. */
export interface TimeOptions {
  /** A series with no sample for this long is stale. Default {@link DEFAULT_STALE_AFTER_MS}. */
  readonly staleAfterMs: number;
}
