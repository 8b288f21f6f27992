/**
 * Powertools Logger and Metrics, configured the same way for every function. Create them once at
 * module scope in a handler and pass them down.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../core/model/metrics.ts';
import type { Clock } from '../../core/model/index.ts';

/** A structured JSON logger for a function (`service` = the function's logical name). */
export function createLogger(service: string): Logger {
  return new Logger({ serviceName: service });
}

/** An EMF metrics emitter for a function, in the Klaxon namespace. */
export function createMetrics(service: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
