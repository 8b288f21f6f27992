/**
 * Powertools Logger and Metrics, configured the same way for every function. Create them once at
 * module scope in a handler and pass them down; handler.ts wraps the handler with them
 * (./middy.ts). Every string of every log line passes through the core's redaction, so a webhook
 * URL, a credential in a URL or a token never lands in the logs whole.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../core/model/metrics.ts';
import type { Clock } from '../../core/model/index.ts';
import { redactSecrets } from '../../core/deliver/redact.ts';

/**
 * JSON replacer of every log line: strings are redacted. Powertools calls it before its own error
 * formatting and again on each field of the formatted error, so error messages and stacks are
 * redacted too.
 */
export const redactingReplacer = (_key: string, value: unknown): unknown => (typeof value === 'string' ? redactSecrets(value) : value);

/** A structured JSON logger for a function (`service` = the function's logical name). */
export function createLogger(service: string): Logger {
  return new Logger({ serviceName: service, jsonReplacerFn: redactingReplacer });
}

/** An EMF metrics emitter for a function, in the Klaxon namespace. */
export function createMetrics(service: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
