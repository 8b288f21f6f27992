/**
 * Error and success events of job runners (Airflow first): what travels on the metrics topic beside
 * samples, told apart by `kind` (docs/events.md). The shape is a contract with producers: fields
 * may be added, never renamed.
 *
 * ```json
 * {"kind":"error","source":"airflow","service":"etl_daily","task":"load_orders",
 *  "run":"scheduled__2026-11-28T02:00:00+00:00","try":2,"maxTries":3,"final":false,
 *  "error":{"type":"TimeoutError","message":"...","stack":"..."},"logUrl":"https://...",
 *  "tags":{"team":"data","tier":"1"},"timestamp":"2026-11-28T02:04:10Z"}
 * {"kind":"success","source":"airflow","service":"etl_daily","task":"load_orders","run":"...","timestamp":"..."}
 * ```
 */
import type { Labels } from '../model/index.ts';

/**
 * A job's failure, validated by `parseJobEvent` (./event.ts): texts (error type, message, stack, tag
 * values) cut to their bounds, identifiers (source, service, task, run) refused when too long.
 */
export interface ErrorEvent {
  readonly kind: 'error';
  /** The runner (`airflow`, `dagster`, `cron`, ...). */
  readonly source: string;
  /** The job (an Airflow DAG id). */
  readonly service: string;
  /** The step (an Airflow task id). */
  readonly task: string;
  /** The run (an Airflow run id); absent for runners without runs. */
  readonly run?: string;
  /** The attempt, 1-based (Airflow's try_number), when the runner retries. */
  readonly try?: number;
  /** The attempts the runner allows in all (Airflow: retries + 1). */
  readonly maxTries?: number;
  /**
   * Whether the runner will not retry: given, or derived with Airflow's rule (is_eligible_to_retry:
   * retries and try_number <= max_tries, where Airflow's max_tries = maxTries - 1): final when
   * not (try < maxTries), i.e. try >= maxTries.
   */
  readonly final: boolean;
  readonly error: { readonly type: string; readonly message: string; readonly stack?: string };
  readonly logUrl?: string;
  readonly tags: Labels;
  /** Event time, epoch ms. */
  readonly timestampMs: number;
}

/** A job step that succeeded: it resolves the step's error alerts. */
export interface SuccessEvent {
  readonly kind: 'success';
  readonly source: string;
  readonly service: string;
  readonly task: string;
  readonly run?: string;
  readonly tags: Labels;
  readonly timestampMs: number;
}

/** An event of a job runner. */
export type JobEvent = ErrorEvent | SuccessEvent;
