/**
 * Classification with literal prefilters, type sets and a per-event view decides exactly as the
 * implementation it replaced (test/support/classify-reference.ts): the same decision, the same
 * `matched` texts, for the built-in classification and for documents that exercise what the
 * fast paths touch (case-sensitive and prefilter-less regexes, type globs with and without dots,
 * tag and name globs, attempts, time intervals, label templates).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyEvent, compileClassification } from '../../shared/core/events/classify.ts';
import { DEFAULT_CLASSIFICATION_DOCUMENT } from '../../shared/core/events/default-classification.ts';
import type { ErrorEvent } from '../../shared/core/events/types.ts';
import { classifyEvent as referenceClassify, compileClassification as referenceCompile } from '../support/classify-reference.ts';

/** Error types: the built-in rules' exact names and glob targets, qualified, near misses. */
const TYPES = [
  'PermissionError', 'botocore.exceptions.ClientError', 'AccessDeniedException', 'x.AccessDenied', 'ExpiredTokenException', 'ldap.AuthenticationError',
  'MemoryError', 'java.lang.OutOfMemoryError', 'XOutOfMemoryY', 'great_expectations.exceptions.ValidationError', 'pydantic.ValidationError',
  'psycopg2.errors.UniqueViolation', 'ConnectionRefusedError', 'AirflowSensorTimeout', 'ConnectionResetError', 'ThrottlingException',
  'botocore.errorfactory.ProvisionedThroughputExceededException', 'airflow.exceptions.AirflowTaskTimeout', 'concurrent.futures.TimeoutError',
  'grpc.DeadlineExceeded', 'ValueError', 'a.b.', '.', 'Timeout.Error', 'accessdenied', 'ſlowDown', 'Tier1Error', ' ',
];

/** Message pieces: the built-in regexes' phrases in several cases, their near misses, case folds, noise. */
const PHRASES = [
  'Access Denied', 'access denied', 'ACCESSDENIED', 'accessdenie', 'permission denied', 'insufficient privileges', 'not authorized',
  'Forbidden', 'forbiddenx', 'status code: 403', 'status=401', 'ſtatus 403', 'HTTP 401 Unauthorized', 'token has expired',
  'out of memory', 'OOM-killed', 'oomkiller', 'exit code 137', 'exited with return code: 137', 'Negsignal.SIGKILL', 'return code -9',
  'container killed on request. Exit code is 143, memory', 'great_expectations', 'great expectations', 'data quality', 'checkpoint nightly failed',
  'violates unique constraint', 'test failed. \n query', 'upstream_failed', 'the external dag', 'connection refused', 'could not connect to server',
  '502 Bad Gateway', 'status code 503', 'connection reset', 'Read timed out', 'ECONNRESET', '429 Too Many Requests', 'throttling', 'SlowDown',
  'timed out', 'time out', 'Timeout', 'deadline exceeded', 'DEADLINEEXCEEDED', 'Kill', '\u212aILLED BY SIGNAL 9',
  // glued to word characters: a search that begins mid-word must still see them (\b)
  'xaccess denied', 'fooforbidden', '_timeout', 'id=forbidden', 'status_code 403', '9forbidden9', 'ſforbidden',
  'id 42', '10.0.0.1', 'x', ' ', '  ', '\n', ':', '.', '(', ')', 'é', '😀',
];
const message = fc.array(fc.constantFrom(...PHRASES), { maxLength: 8 }).map((p) => p.join(' '));

function event(type: string, msg: string, attempt: { try?: number; maxTries?: number; final?: boolean }, tags: Record<string, string>, source = 'airflow', service = 'etl_daily', task = 'load_orders'): ErrorEvent {
  const final = attempt.final ?? (attempt.try === undefined || attempt.maxTries === undefined || attempt.try >= attempt.maxTries);
  return {
    kind: 'error',
    source,
    service,
    task,
    ...(attempt.try !== undefined ? { try: attempt.try } : {}),
    ...(attempt.maxTries !== undefined ? { maxTries: attempt.maxTries } : {}),
    final,
    error: { type, message: msg },
    tags,
    timestampMs: 1_795_300_000_000,
  };
}

const attempt = fc.record({ try: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), maxTries: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), final: fc.option(fc.boolean(), { nil: undefined }) });
const tags = fc.dictionary(fc.constantFrom('team', 'tier', 'owner', 'table', 'sla'), fc.constantFrom('1', 'tier1', 'tierX1', '2', 'data', '', 'payments'), { maxKeys: 4 });

/** Both implementations compile `doc`; returns a check that they decide the same for an event. */
function sameDecisions(doc: unknown): (e: ErrorEvent) => void {
  const ours = compileClassification(doc, 'test');
  const reference = referenceCompile(doc, 'test');
  return (e) => {
    for (const nowMs of [e.timestampMs, Date.UTC(2026, 10, 28, 10), Date.UTC(2026, 10, 29, 22)]) {
      expect(classifyEvent(e, ours, nowMs)).toEqual(referenceClassify(e, reference, nowMs));
    }
  };
}

describe('classification decides as before', () => {
  it('the built-in classification, on random events', () => {
    const check = sameDecisions(DEFAULT_CLASSIFICATION_DOCUMENT);
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), message, attempt, tags, (type, msg, a, t) => {
        check(event(type, msg, a, t));
      }),
      { numRuns: 5_000 },
    );
  });

  it('documents with case-sensitive, flagged and literal-free regexes, globs of every field, times and templates', () => {
    const check = sameDecisions({
      labels: { team: '{{ tags.team }}', who: '{{ service }}/{{ task }}:{{ type }}' },
      time_intervals: [{ name: 'day', time_intervals: [{ times: [{ start_time: '08:00', end_time: '18:00' }] }] }],
      rules: [
        { name: 'cs', when: { message: { regex: 'Access Denied|SlowDown', case_sensitive: true } }, then: { severity: 'critical', reason: 'cs' } },
        { name: 'flags', when: { message: '(?i:forbidden)|\\pL{40}' }, then: { severity: 'high', reason: 'flags' } },
        { name: 'anything', when: { message: '^.{200}', type: ['*Error', 'x.*'] }, then: { severity: 'high', reason: 'long' } },
        { name: 'names', when: [{ service: 'etl_*', task: ['load_?rders', 'x'], tags: { tier: ['1', 'tier?1'] } }, { source: 'air*', attempt: { min: 3 } }], then: { severity: 'medium', reason: 'names', labels: { tier: '{{ tags.tier }}' } } },
        { name: 'timed', when: { message: 'time ?out|timed out', time: { active_time_intervals: ['day'] } }, then: { severity: 'medium', reason: 'day' } },
        { name: 'muted', when: { type: ['*Timeout*', 'Timeout.Error'], time: { mute_time_intervals: ['day'] } }, then: { severity: 'low', reason: 'night', suppress: true } },
        { name: 'retry', when: { attempt: 'retry' }, then: { severity: 'low', reason: 'retry' } },
        { name: 'rest', then: { severity: 'high', reason: 'rest' } },
      ],
    });
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.oneof(message, message.map((m) => m.repeat(12))), attempt, tags, fc.constantFrom('airflow', 'cron'), fc.constantFrom('etl_daily', 'web'), fc.constantFrom('load_orders', 'load_Xrders', 'x'), (type, msg, a, t, source, service, task) => {
        check(event(type, msg, a, t, source, service, task));
      }),
      { numRuns: 3_000 },
    );
  });
});
