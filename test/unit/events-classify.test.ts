/**
 * Classification of error events (docs/events.md, "Classification"): the built-in set against
 * realistic Airflow failures, first-match precedence, each kind of condition, label templates,
 * the log fields and metric dimensions of a decision, the document's validation naming each bad
 * field, and user regexes staying linear on an adversarial message.
 *
 * (test/unit/classify.test.ts is the delivery failure classification; this file is the events'.)
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  classificationLog,
  ClassificationConfigError,
  classifyEvent,
  compileClassification,
  compileGlob,
  MAX_LABEL_VALUE_LENGTH,
  metricDimensions,
  type ClassifyDecision,
} from '../../shared/core/events/classify.ts';
import { DEFAULT_CLASSIFICATION, DEFAULT_CLASSIFICATION_DOCUMENT, DEFAULT_CLASSIFICATION_YAML } from '../../shared/core/events/default-classification.ts';
import type { ErrorEvent } from '../../shared/core/events/types.ts';
import type { Severity } from '../../shared/core/model/index.ts';

const NOW = Date.parse('2026-11-30T10:00:00Z'); // a Monday, 10:00 UTC

/** A final failure of an untiered Airflow task, overridable. */
function event(over: Partial<Omit<ErrorEvent, 'error'>> & { type?: string; message?: string } = {}): ErrorEvent {
  const { type = 'Exception', message = 'something went wrong', ...rest } = over;
  return {
    kind: 'error',
    source: 'airflow',
    service: 'etl_daily',
    task: 'load_orders',
    run: 'scheduled__2026-11-30T02:00:00+00:00',
    try: 3,
    maxTries: 3,
    final: true,
    error: { type, message },
    tags: { team: 'data' },
    timestampMs: NOW,
    ...rest,
  };
}

const classify = (e: ErrorEvent): ClassifyDecision => classifyEvent(e, DEFAULT_CLASSIFICATION, NOW);

/** Compiles a document written as YAML (fails the test on a problem). */
const compiled = (yaml: string) => compileClassification(parse(yaml), 'test.yaml');

/** The problems of a document that must not compile. */
function problems(doc: unknown): readonly string[] {
  try {
    compileClassification(doc, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ClassificationConfigError);
    return (err as ClassificationConfigError).problems;
  }
  throw new Error('the document compiled');
}

const CATCH_ALL = { name: 'default', then: { severity: 'high', reason: 'unclassified' } };

describe('the built-in classification', () => {
  it.each<[string, string, string, string, Severity]>([
    // [what, error type, message, rule, severity]: final failures of an untiered task
    // credentials: botocore puts the AWS error code in the message of a ClientError
    ['S3 AccessDenied', 'botocore.exceptions.ClientError', 'An error occurred (AccessDenied) when calling the GetObject operation: Access Denied', 'credentials', 'high'],
    ['expired STS token', 'botocore.exceptions.ClientError', 'An error occurred (ExpiredToken) when calling the ListObjectsV2 operation: The provided token has expired.', 'credentials', 'high'],
    ['invalid access key', 'ClientError', 'An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.', 'credentials', 'high'],
    ['no credentials at all (by type)', 'botocore.exceptions.NoCredentialsError', 'Unable to locate credentials', 'credentials', 'high'],
    ['a file without permission (by type)', 'PermissionError', "[Errno 13] Permission denied: '/data/exports/orders.csv'", 'credentials', 'high'],
    ['HTTP 403 from an API', 'requests.exceptions.HTTPError', '403 Client Error: Forbidden for url: https://api.example.com/v1/orders', 'credentials', 'high'],
    ['Postgres password', 'psycopg2.OperationalError', 'connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user "etl"', 'credentials', 'high'],
    // out of memory
    ['Python MemoryError with no message', 'MemoryError', '', 'out-of-memory', 'high'],
    ['Airflow: the task process was SIGKILLed', 'AirflowException', 'Task exited with return code Negsignal.SIGKILL', 'out-of-memory', 'high'],
    ['Kubernetes OOMKilled pod', 'AirflowException', 'Pod etl-daily-load-orders-abc123 returned a failure: OOMKilled (exit code 137)', 'out-of-memory', 'high'],
    ['Spark on the JVM', 'py4j.protocol.Py4JJavaError', 'An error occurred while calling o123.collectToPython. : java.lang.OutOfMemoryError: Java heap space', 'out-of-memory', 'high'],
    // data quality
    ['Great Expectations checkpoint', 'AirflowException', 'Validation with Great Expectations failed. great_expectations checkpoint orders_suite: ValidationError', 'data-quality', 'medium'],
    ['a validation error type', 'great_expectations.exceptions.ValidationError', 'expect_column_values_to_not_be_null failed for column customer_id', 'data-quality', 'medium'],
    ['Postgres unique constraint', 'psycopg2.errors.UniqueViolation', 'duplicate key value violates unique constraint "orders_pkey"', 'data-quality', 'medium'],
    ['Postgres not-null', 'psycopg2.errors.NotNullViolation', 'null value in column "amount" of relation "orders" violates not-null constraint', 'data-quality', 'medium'],
    ['SQLCheckOperator', 'AirflowException', 'Test failed.\nQuery:\nSELECT COUNT(*) FROM orders WHERE amount < 0\nResults:\n(12,)', 'data-quality', 'medium'],
    // upstream
    ['a database that refuses connections', 'psycopg2.OperationalError', 'could not connect to server: Connection refused\n\tIs the server running on host "db" (10.0.0.5) and accepting TCP/IP connections on port 5432?', 'upstream', 'medium'],
    ['ExternalTaskSensor: the other DAG failed', 'AirflowException', 'The external task load_customers in DAG crm_daily failed.', 'upstream', 'medium'],
    ['a sensor that timed out (by type, before the timeout rule)', 'airflow.exceptions.AirflowSensorTimeout', 'Sensor has timed out; run duration of 3600.2 seconds exceeds the specified timeout of 3600.0.', 'upstream', 'medium'],
    ['API 502', 'requests.exceptions.HTTPError', '502 Server Error: Bad Gateway for url: https://api.example.com/v1/orders', 'upstream', 'medium'],
    // transient network
    ['connection reset (by type)', 'ConnectionResetError', '[Errno 104] Connection reset by peer', 'transient-network', 'medium'],
    ['Node ECONNRESET', 'Error', 'read ECONNRESET', 'transient-network', 'medium'],
    ['DNS', 'psycopg2.OperationalError', 'could not translate host name "db" to address: Temporary failure in name resolution', 'transient-network', 'medium'],
    ['503 from an API', 'requests.exceptions.HTTPError', '503 Server Error: Service Unavailable for url: https://api.example.com/v1/orders', 'transient-network', 'medium'],
    ['DynamoDB throttling', 'botocore.exceptions.ClientError', 'An error occurred (ThrottlingException) when calling the BatchWriteItem operation: Rate exceeded', 'transient-network', 'medium'],
    ['a socket read timeout (network, not the task timeout)', 'requests.exceptions.ReadTimeout', "HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=30)", 'transient-network', 'medium'],
    // timeout
    ['execution_timeout', 'airflow.exceptions.AirflowTaskTimeout', 'Timeout, PID: 1234', 'timeout', 'medium'],
    ['a gRPC deadline', 'google.api_core.exceptions.DeadlineExceeded', '504 Deadline Exceeded', 'timeout', 'medium'],
    ['a query that timed out', 'snowflake.connector.errors.ProgrammingError', '000630 (57014): Statement reached its statement or warehouse timeout of 3600 second(s) and was canceled.', 'timeout', 'medium'],
    // catch-all
    ['a plain bug', 'KeyError', "'customer_id'", 'unclassified', 'high'],
    ['a ZeroDivisionError', 'ZeroDivisionError', 'division by zero', 'unclassified', 'high'],
  ])('%s → %s', (_what, type, message, rule, severity) => {
    const d = classify(event({ type, message }));
    expect({ rule: d.rule, severity: d.severity }).toEqual({ rule, severity });
    expect(d.suppress).toBe(false);
    expect(d.matched.length).toBeGreaterThan(0);
  });

  it.each<[string, Partial<ErrorEvent>, string, string, Severity]>([
    // [what, event fields, error message, rule, severity]: the attempt comes before the content
    ['a tier-1 task that fails for good is critical, whatever the error', { tags: { tier: '1' } }, 'division by zero', 'tier1-final', 'critical'],
    ['tier-1 beats credentials', { tags: { tier: 'tier-1' } }, 'An error occurred (AccessDenied) when calling the GetObject operation: Access Denied', 'tier1-final', 'critical'],
    ['tier1 written as one word', { tags: { tier: 'tier1' } }, 'Timeout, PID: 1234', 'tier1-final', 'critical'],
    ['a tier-1 task that will retry is low', { tags: { tier: '1' }, try: 1, final: false }, 'Timeout, PID: 1234', 'will-retry', 'low'],
    ['a retry of a credential error is low: the final try decides on content', { try: 2, final: false }, 'An error occurred (AccessDenied) when calling the GetObject operation: Access Denied', 'will-retry', 'low'],
    ['tier 2, final: by content', { tags: { tier: '2' } }, 'Timeout, PID: 1234', 'timeout', 'medium'],
    ['tier 10 is not tier 1', { tags: { tier: '10' } }, 'division by zero', 'unclassified', 'high'],
    ['no retries configured: the first try is final', { try: 1, maxTries: 1 }, 'Task exited with return code Negsignal.SIGKILL', 'out-of-memory', 'high'],
  ])('%s', (_what, over, message, rule, severity) => {
    const d = classify({ ...event({ message }), ...over });
    expect({ rule: d.rule, severity: d.severity }).toEqual({ rule, severity });
  });

  it('says which conditions held, readably', () => {
    const d = classify(event({ type: 'botocore.exceptions.ClientError', message: 'An error occurred (AccessDenied) when calling the GetObject operation: Access Denied' }));
    expect(d.matched).toEqual([expect.stringMatching(/^message matches \/access \?denied\|.*… at "AccessDenied"$/)]);
    expect(classify(event({ type: 'PermissionError', message: 'x' })).matched).toEqual(['type "PermissionError" matches "PermissionError"']);
    expect(classify({ ...event(), tags: { tier: '1' } }).matched).toEqual(['attempt: final (try 3 of 3)', 'tags.tier "1" matches "1"']);
    expect(classify(event({ type: 'KeyError' }))).toMatchObject({ outcome: 'catch-all', matched: ['no earlier rule held (catch-all)'] });
  });

  it('labels every decision with the team and owner tags, and the category; an absent tag is left out', () => {
    expect(classify({ ...event({ type: 'MemoryError' }), tags: { team: 'data', owner: 'ana' } }).labels).toEqual({ team: 'data', owner: 'ana', category: 'out-of-memory' });
    expect(classify({ ...event({ type: 'MemoryError' }), tags: {} }).labels).toEqual({ category: 'out-of-memory' });
  });

  it('is what the YAML text says (what --print-defaults prints)', () => {
    expect(parse(DEFAULT_CLASSIFICATION_YAML)).toEqual(DEFAULT_CLASSIFICATION_DOCUMENT);
    expect(DEFAULT_CLASSIFICATION.rules.map((r) => r.name)).toEqual(['tier1-final', 'will-retry', 'credentials', 'out-of-memory', 'data-quality', 'upstream', 'transient-network', 'timeout', 'unclassified']);
  });
});

describe('classification rules', () => {
  // One document exercising each condition; every rule sets a distinct severity or name.
  const rules = compiled(`
time_intervals:
  - name: business-hours
    time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] }]
  - name: weekends
    time_intervals: [{ weekdays: ['saturday', 'sunday'] }]
rules:
  - name: exact-type
    when: { type: KeyError }
    then: { severity: low, reason: exact type }
  - name: glob-type
    when: { type: 'Airflow*Timeout' }
    then: { severity: medium, reason: glob type }
  - name: qualified-type
    when: { type: 'psycopg2.errors.*' }
    then: { severity: medium, reason: qualified glob }
  - name: case-sensitive
    when: { message: { regex: 'DISK', case_sensitive: true } }
    then: { severity: high, reason: case-sensitive }
  - name: message
    when: { message: 'disk (?:is )?full' }
    then: { severity: high, reason: message }
  - name: payments-service
    when: { source: airflow, service: 'payments_*', task: ['charge_?', 'refund'] }
    then: { severity: critical, reason: payments }
  - name: third-try
    when: { attempt: { min: 3 }, task: flaky }
    then: { severity: medium, reason: third try or later }
  - name: owned
    when: { tags: { owner: '*', sla: ['1h', '2h'] } }
    then: { severity: high, reason: owned with an SLA }
  - name: office-hours
    when: { task: office, time: { active_time_intervals: [business-hours] } }
    then: { severity: high, reason: in office hours }
  - name: not-weekend
    when: { task: weekday, time: { mute_time_intervals: [weekends] } }
    then: { severity: medium, reason: not at the weekend }
  - name: any-of
    when: [{ type: ValueError }, { message: 'bad value' }]
    then: { severity: low, reason: any of, suppress: true }
  - name: default
    then: { severity: high, reason: unclassified }
`);
  const decide = (over: Partial<Omit<ErrorEvent, 'error'>> & { type?: string; message?: string }, nowMs = NOW): string => classifyEvent(event(over), rules, nowMs).rule;

  it.each<[string, Parameters<typeof decide>[0], string]>([
    // [what, event, rule]
    ['an exact type', { type: 'KeyError' }, 'exact-type'],
    ['an exact type also matches the last dotted part of a qualified type', { type: 'builtins.KeyError' }, 'exact-type'],
    ['an exact type is not a prefix', { type: 'KeyErrorX' }, 'default'],
    ['types are case-sensitive', { type: 'keyerror' }, 'default'],
    ['a glob type', { type: 'AirflowTaskTimeout' }, 'glob-type'],
    ['a glob type on the last dotted part', { type: 'airflow.exceptions.AirflowSensorTimeout' }, 'glob-type'],
    ['a dotted glob matches the qualified type only', { type: 'psycopg2.errors.UniqueViolation' }, 'qualified-type'],
    ['a dotted glob does not match the bare name', { type: 'UniqueViolation' }, 'default'],
    ['a message regex searches anywhere, case-insensitive', { message: 'OSError: [Errno 28] No space left: Disk is FULL now' }, 'message'],
    ['a case-sensitive regex', { message: 'DISK quota' }, 'case-sensitive'],
    ['a case-sensitive regex does not match other cases', { message: 'disk quota' }, 'default'],
    ['source, service and task globs all hold', { service: 'payments_eu', task: 'charge_1' }, 'payments-service'],
    ['a task glob list, second entry', { service: 'payments_eu', task: 'refund' }, 'payments-service'],
    ['? is one character', { service: 'payments_eu', task: 'charge_12' }, 'default'],
    ['another source', { source: 'dagster', service: 'payments_eu', task: 'charge_1' }, 'default'],
    ['try 3 ≥ 3', { task: 'flaky', try: 3 }, 'third-try'],
    ['try 2 < 3', { task: 'flaky', try: 2 }, 'default'],
    ['no try reported: the first', { task: 'flaky', try: undefined }, 'default'],
    ['tags: present and matching', { tags: { owner: 'ana', sla: '2h' } }, 'owned'],
    ['tags: a glob * needs the tag present', { tags: { sla: '2h' } }, 'default'],
    ['tags: a value outside the list', { tags: { owner: 'ana', sla: '4h' } }, 'default'],
    ['any-of: the first branch', { type: 'ValueError' }, 'any-of'],
    ['any-of: the second branch', { message: 'a bad value in row 3' }, 'any-of'],
  ])('%s', (_what, over, rule) => {
    expect(decide(over)).toBe(rule);
  });

  it.each<[string, string, string, string]>([
    // [what, task, instant (UTC), rule]: time conditions at the injected instant
    ['in business hours on a Monday', 'office', '2026-11-30T10:00:00Z', 'office-hours'],
    ['after hours on a Monday', 'office', '2026-11-30T18:00:00Z', 'default'],
    ['on a Saturday', 'office', '2026-11-28T10:00:00Z', 'default'],
    ['mute: a Monday is outside the weekend', 'weekday', '2026-11-30T10:00:00Z', 'not-weekend'],
    ['mute: a Sunday is in it', 'weekday', '2026-11-29T10:00:00Z', 'default'],
  ])('time: %s', (_what, task, iso, rule) => {
    expect(decide({ task }, Date.parse(iso))).toBe(rule);
  });

  it('first match wins: an earlier rule decides even when a later one holds too', () => {
    // KeyError with "disk full": exact-type (rule 1) before message (rule 5)
    expect(decide({ type: 'KeyError', message: 'disk full' })).toBe('exact-type');
  });

  it('a rule may suppress: recorded, never notified', () => {
    expect(classifyEvent(event({ type: 'ValueError' }), rules, NOW)).toMatchObject({ rule: 'any-of', severity: 'low', suppress: true, reason: 'any of' });
  });

  it('says which time interval held', () => {
    expect(classifyEvent(event({ task: 'office' }), rules, NOW).matched).toEqual(['task "office" matches "office"', 'time: in business-hours']);
    expect(classifyEvent(event({ task: 'weekday' }), rules, NOW).matched).toEqual(['task "weekday" matches "weekday"', 'time: outside weekends']);
  });
});

describe('label templates', () => {
  const rules = compiled(`
labels: { team: '{{ tags.team }}', runner: '{{source}}' }
rules:
  - name: all
    then:
      severity: high
      reason: r
      labels: { team: 'team-{{ tags.team }}', where: '{{ service }}/{{ task }}', type: '{{ type }}', empty: '{{ tags.none }}', plain: 'a {b} c' }
`);

  it.each<[string, string, string | undefined]>([
    // [what, label, value]
    ['the rule overrides a document label', 'team', 'team-data'],
    ['a document label the rule leaves alone', 'runner', 'airflow'],
    ['several fields in one value', 'where', 'etl_daily/load_orders'],
    ['the error type', 'type', 'KeyError'],
    ['a value that renders empty is left out', 'empty', undefined],
    ['single braces are text', 'plain', 'a {b} c'],
  ])('%s', (_what, name, value) => {
    expect(classifyEvent(event({ type: 'KeyError' }), rules, NOW).labels[name]).toBe(value);
  });

  it('is bounded: a long tag is cut', () => {
    const d = classifyEvent({ ...event(), tags: { team: 'x'.repeat(1000) } }, rules, NOW);
    expect(d.labels.team).toHaveLength(MAX_LABEL_VALUE_LENGTH);
  });

  it('is plain text: a tag holding template syntax is not expanded again', () => {
    expect(classifyEvent({ ...event(), tags: { team: '{{ service }}' } }, rules, NOW).labels.team).toBe('team-{{ service }}');
  });
});

describe('classification log and metrics', () => {
  it('logs the rule, the conditions that held and the event, the message cut and redacted', () => {
    const e = { ...event({ type: 'botocore.exceptions.ClientError', message: `An error occurred (AccessDenied) for https://user:hunter2@db.example.com/x ${'y'.repeat(400)}` }), tags: { team: 'data' } };
    const d = classify(e);
    const log = classificationLog(d, e);
    expect(log).toMatchObject({
      message: 'error event classified',
      rule: 'credentials',
      outcome: 'matched',
      severity: 'high',
      matched: d.matched,
      final: true,
      suppress: false,
      service: 'etl_daily',
      task: 'load_orders',
      try: 3,
      maxTries: 3,
      errorType: 'botocore.exceptions.ClientError',
      timestamp: '2026-11-30T10:00:00.000Z',
    });
    expect(log.errorMessage).not.toContain('hunter2');
    expect(log.errorMessage.length).toBeLessThanOrEqual(201);
  });

  it.each<[string, ErrorEvent, { severity: Severity; rule: string }]>([
    // [what, event, dimensions]
    ['a content rule', event({ type: 'MemoryError' }), { severity: 'high', rule: 'out-of-memory' }],
    ['the catch-all', event({ type: 'KeyError' }), { severity: 'high', rule: 'unclassified' }],
    ['a retry', { ...event(), final: false, try: 1 }, { severity: 'low', rule: 'will-retry' }],
  ])('counts %s by severity and rule', (_what, e, dims) => {
    expect(metricDimensions(classify(e))).toEqual(dims);
  });
});

describe('the classification document', () => {
  it.each<[string, unknown, RegExp]>([
    // [what, document, a problem that names the field]
    ['a bad regex', { rules: [{ name: 'a', when: { message: 'a(b' }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\.message: invalid regex "a\(b": missing closing \)/],
    ['a lookahead (not RE2)', { rules: [{ name: 'a', when: { message: '(?=x)' }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\.message: invalid regex/],
    ['a backreference (not RE2)', { rules: [{ name: 'a', when: [{ type: 'X' }, { message: '(a)\\1' }], then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\[1\]\.message: invalid regex/],
    ['an unknown time interval', { rules: [{ name: 'a', when: { time: { active_time_intervals: ['office'] } }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\.time\.active_time_intervals\[0\]: unknown time interval "office"/],
    ['a bad time interval', { time_intervals: [{ name: 'x', time_intervals: [{ weekdays: ['funday'] }] }], rules: [CATCH_ALL] }, /^time_intervals\[0\]\.time_intervals\[0\]\.weekdays/],
    ['no catch-all', { rules: [{ name: 'a', when: { type: 'X' }, then: { severity: 'high', reason: 'r' } }] }, /^rules\[0\]: the last rule must be a catch-all/],
    ['a catch-all before the end', { rules: [CATCH_ALL, { ...CATCH_ALL, name: 'b' }] }, /^rules\[0\]: a rule without when matches every event/],
    ['a bad severity', { rules: [{ name: 'a', then: { severity: 'urgent', reason: 'r' } }] }, /^rules\[0\]\.then\.severity: Invalid option: expected one of "critical"\|"high"\|"medium"\|"low"/],
    ['no reason', { rules: [{ name: 'a', then: { severity: 'high' } }] }, /^rules\[0\]\.then\.reason: /],
    ['an unknown condition', { rules: [{ name: 'a', when: { mesage: 'x' }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when: Unrecognized key: "mesage"/],
    ['an empty when', { rules: [{ name: 'a', when: {}, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when: give at least one condition/],
    ['empty tags (no condition at all)', { rules: [{ name: 'a', when: { tags: {} }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when: give at least one condition/],
    ['an empty time condition (it would hold always)', { rules: [{ name: 'a', when: { time: {} }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\.time: give active_time_intervals or mute_time_intervals/],
    ['a bad attempt', { rules: [{ name: 'a', when: { attempt: 'last' }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\.attempt: expected retry, final or \{ min: N \}/],
    ['a glob that is not a string', { rules: [{ name: 'a', when: { task: [3] }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\.task: expected a glob or a non-empty list of globs/],
    ['a bad tag name', { rules: [{ name: 'a', when: { tags: { 'a-b': 'x' } }, then: { severity: 'high', reason: 'r' } }, CATCH_ALL] }, /^rules\[0\]\.when\.tags\.a-b: a tag name is/],
    ['duplicate rule names', { rules: [{ name: 'a', when: { type: 'X' }, then: { severity: 'high', reason: 'r' } }, { ...CATCH_ALL, name: 'a' }] }, /^rules\[1\]\.name: duplicate rule name "a"/],
    ['a bad rule name', { rules: [{ ...CATCH_ALL, name: 'a b' }] }, /^rules\[0\]\.name: letters, digits/],
    ['an unknown template field', { rules: [{ ...CATCH_ALL, then: { severity: 'high', reason: 'r', labels: { team: '{{ dag }}' } } }] }, /^rules\[0\]\.then\.labels\.team: unknown template field "dag"/],
    ['an unclosed template', { labels: { team: '{{ tags.team' }, rules: [CATCH_ALL] }, /^labels\.team: unclosed \{\{/],
    ['severity as a label', { rules: [{ ...CATCH_ALL, then: { severity: 'high', reason: 'r', labels: { severity: 'low' } } }] }, /^rules\[0\]\.then\.labels\.severity: severity is set by then\.severity/],
    ['no rules', { rules: [] }, /^rules: at least one rule/],
    ['an empty document', undefined, /^rules: /],
  ])('%s', (_what, doc, problem) => {
    expect(problems(doc)).toContainEqual(expect.stringMatching(problem));
  });

  it('lists every problem at once, with the source', () => {
    const doc = { rules: [{ name: 'a', when: { message: 'a(b', time: { mute_time_intervals: ['x'] } }, then: { severity: 'high', reason: 'r' } }] };
    expect(() => compileClassification(doc, 'classification.yaml')).toThrow(/^classification\.yaml: invalid classification:\n {2}rules\[0\]\.when\.message: .*\n {2}rules\[0\]\.when\.time\.mute_time_intervals\[0\]: .*\n {2}rules\[0\]: the last rule must be a catch-all/);
  });
});

describe('linear time', () => {
  /** The fastest of several runs, in ns (the least disturbed by other work on the machine). */
  function fastest(run: () => void): number {
    let best = Infinity;
    for (let i = 0; i < 9; i++) {
      const t = process.hrtime.bigint();
      run();
      best = Math.min(best, Number(process.hrtime.bigint() - t));
    }
    return best;
  }

  it('an adversarial regex on an adversarial message costs about what it costs on a benign one', () => {
    // (x+x+)+y against "xxxx…x" takes a backtracking engine 2^n steps; RE2 scans it once.
    const rules = compiled(`
rules:
  - { name: evil, when: { message: '(x+x+)+y' }, then: { severity: high, reason: r } }
  - { name: default, then: { severity: low, reason: r } }
`);
    const n = 20_000;
    const adversarial = event({ message: 'x'.repeat(n) });
    const benign = event({ message: 'z'.repeat(n) });
    expect(classifyEvent(adversarial, rules, NOW).rule).toBe('default');
    const ratio = fastest(() => classifyEvent(adversarial, rules, NOW)) / fastest(() => classifyEvent(benign, rules, NOW));
    // A backtracking engine would not finish at this length; linear engines stay within a small factor.
    expect(ratio).toBeLessThan(20);
  });

  it('globs run on the same engine: a many-star glob on a long value', () => {
    const g = compileGlob('*a*a*a*a*a*a*a*b');
    const adversarial = 'a'.repeat(20_000);
    const benign = 'c'.repeat(20_000);
    expect(g.test(adversarial)).toBe(false);
    expect(fastest(() => g.test(adversarial)) / fastest(() => g.test(benign))).toBeLessThan(20);
  });
});
