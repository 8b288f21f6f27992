/**
 * The built-in classification of error events (docs/events.md, "Classification", the default set):
 * what Klaxon decides when a deployment gives no classification document of its own. Written as
 * YAML, comments and all, so that `klaxon classify --print-defaults` prints exactly what runs and
 * an operator can start their own document from it; parsed and compiled once at module load (a
 * mistake here fails every test at import, never a Lambda at run time).
 *
 * The principles behind the order and the severities:
 * - the attempt decides first: a final failure of a tier-1 task is critical whatever its error
 *   (its output is missing and something downstream waits for it); a failure the runner will
 *   retry is low (recorded, nobody told: the runner has not given up, and the final failure is
 *   classified on its content);
 * - so every rule after the second sees only final failures, and none of them is low: a final
 *   failure means a run's output is missing, and low is never notified;
 * - high where a person must change something before a rerun can succeed (a credential, a
 *   policy, a memory limit) and where nobody yet knows what happened (the catch-all: look, then
 *   write a rule); medium where the owner should know but a rerun, or another team, fixes it;
 * - where two categories' texts overlap, the more specific cause comes first (see each rule).
 */
import { parse } from 'yaml';
import { compileClassification, type CompiledClassification } from './classify.ts';

/** Where decisions of the built-in set say they came from. */
export const DEFAULT_CLASSIFICATION_SOURCE = 'built-in classification';

/** The built-in classification document, as YAML text (what `--print-defaults` prints). */
export const DEFAULT_CLASSIFICATION_YAML = `# Klaxon's built-in classification of error events (docs/events.md, "Classification").
# Rules are tried in order; the first whose conditions hold decides. The conditions of one
# \`when\` object must all hold; a list under \`when\` holds if any of its objects does.
# Message regexes are RE2, searched anywhere in the message, case-insensitive.

# Every decision carries the task's team and owner from its tags (left out when absent).
labels:
  team: '{{ tags.team }}'
  owner: '{{ tags.owner }}'

rules:
  # The runner has given up on a tier-1 task: its output is missing and something downstream
  # waits for it, whatever the error. First, so that no content rule can lower it.
  - name: tier1-final
    when:
      attempt: final
      tags: { tier: ['1', 'tier1', 'tier?1'] }
    then:
      severity: critical
      reason: final failure of a tier-1 task
      labels: { category: tier1 }

  # The runner will try again: nobody needs to act yet. Recorded (not suppressed) so that the
  # history shows every try; the final failure is classified on its content below.
  # From here on, every event is a final failure.
  - name: will-retry
    when:
      attempt: retry
    then:
      severity: low
      reason: failed, the runner will retry
      labels: { category: retry }

  # Credentials and permissions never fix themselves: someone must rotate a secret or change a
  # policy. Before the HTTP and connection rules, because a 401/403 is an answer, not an outage.
  - name: credentials
    when:
      - type: [PermissionError, NoCredentialsError, PartialCredentialsError, CredentialRetrievalError,
               InvalidClientTokenId, 'AccessDenied*', 'ExpiredToken*', '*AuthenticationError',
               '*AuthorizationError', 'Unauthorized*', 'Forbidden*']
      - message: 'access ?denied|permission denied|insufficient (?:privileges?|permissions?)|not authori[sz]ed|unauthori[sz]ed|\\bforbidden\\b|invalid ?client ?token ?id|expired ?token|token (?:has )?expired|security token included in the request is (?:invalid|expired)|invalid ?access ?key ?id|signature ?does ?not ?match|unrecognized ?client|auth ?failure|authentication failed|invalid credentials|(?:unable to locate|could not load) credentials|\\b40[13] (?:client error|forbidden|unauthori[sz]ed)|status(?: code)?[ :=]*40[13]\\b'
    then:
      severity: high
      reason: credential or permission error, a person must fix access before a rerun can succeed
      labels: { category: credentials }

  # Out of memory fails the same way on every rerun until the limit or the data changes. Before
  # the timeout rule: a task killed by the kernel (SIGKILL, exit code 137, Airflow's
  # "Negsignal.SIGKILL" or "return code -9") was killed for memory, not for time.
  - name: out-of-memory
    when:
      - type: [MemoryError, OutOfMemoryError, '*OutOfMemory*']
      - message: 'out of memory|\\boom(?:[ -]?kill(?:ed|er))?\\b|java heap space|gc overhead limit exceeded|cannot allocate memory|memoryerror|exceed(?:ed|s|ing)? (?:the )?memory limit|container killed .*memory|exit(?:ed)?(?: with)?(?: return)? code:? ?137\\b|negsignal\\.sigkill|return code -9\\b|\\bsigkill\\b|killed by signal 9'
    then:
      severity: high
      reason: out of memory, a rerun fails the same way until the memory limit or the data changes
      labels: { category: out-of-memory }

  # The check did its job: bad data was stopped. The owner should look (medium, to the team),
  # and the data's producer usually fixes it. Before the upstream rule: a failed expectation is
  # about the data, not about the dependency being down.
  - name: data-quality
    when:
      - type: [DataQualityError, '*DataQuality*', ValidationError, '*ValidationError', SchemaError,
               SchemaErrors, IntegrityError, NotNullViolation, UniqueViolation, CheckViolation,
               ForeignKeyViolation]
      - message: 'great[_ ]expectations|data ?quality|validation (?:failed|error)|expectations? (?:failed|not met)|checkpoint .*(?:failed|unsuccessful)|violates (?:not-null|unique|check|foreign key) constraint|null value in column|duplicate key value|unique constraint|not null constraint|integrity ?error|the following query returned zero rows|test failed\\.\\s+query'
    then:
      severity: medium
      reason: data-quality check failed, the data needs a look before it is used
      labels: { category: data-quality }

  # A dependency is down or late: another job, a database, an API answering 5xx. Medium: the
  # owner should know, and the fix is usually the dependency's. Before the timeout rule, because
  # a sensor that times out (AirflowSensorTimeout, ExternalTaskSensor) waited for a dependency
  # that never came: the dependency, not the clock, is the cause.
  - name: upstream
    when:
      - type: [AirflowSensorTimeout, ConnectionRefusedError]
      - message: 'upstream[_ ]failed|externaltasksensor|the external (?:dag|task)|dependenc(?:y|ies) (?:failed|unavailable|not met)|connection refused|could not connect to server|\\b50[024] (?:server error|internal server error|bad gateway|gateway time-?out)|internal server error|bad gateway|gateway time-?out|status(?: code)?[ :=]*50[024]\\b'
    then:
      severity: medium
      reason: an upstream dependency failed or is unavailable
      labels: { category: upstream }

  # Transient network errors and throttling: a rerun most likely succeeds. Medium, not low,
  # because the runner has given up and the run's output is missing. Before the timeout rule:
  # a socket that timed out ("Read timed out", ConnectTimeout) is the network, not the task's
  # execution_timeout.
  - name: transient-network
    when:
      - type: [ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ConnectTimeout, ReadTimeout,
               ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError, gaierror,
               '*Throttl*', SlowDown, 'TooManyRequests*', RequestLimitExceeded,
               ProvisionedThroughputExceededException, 'ServiceUnavailable*']
      - message: 'connection reset|econnreset|econnaborted|etimedout|broken pipe|temporary failure in name resolution|name or service not known|could not translate host name|nodename nor servname|getaddrinfo|network is unreachable|no route to host|remote end closed connection|connection aborted|server closed the connection unexpectedly|connection timed out|read timed out|connect timeout|\\b(?:429|503) (?:client error|server error|too many requests|service unavailable|slow down)|too many requests|service unavailable|rate exceeded|throttl|slow ?down|request ?limit ?exceeded|eof occurred in violation of protocol'
    then:
      severity: medium
      reason: transient network error or throttling, a rerun will most likely succeed
      labels: { category: transient-network }

  # The task ran past its execution_timeout (or a deadline) on its last try. Medium: usually
  # load or slowness, and the next run often succeeds; raise it per task with a rule of your own
  # (e.g. tags: { sla: '*' }) where a late result matters.
  - name: timeout
    when:
      - type: [AirflowTaskTimeout, TimeoutError, '*TimeoutError', '*TimeoutException', '*Timeout', '*DeadlineExceeded*']
      - message: '\\btimed? ?out\\b|timeout|deadline ?exceeded'
    then:
      severity: medium
      reason: the task timed out
      labels: { category: timeout }

  # A final failure no rule knows: high, so that someone looks, then writes a rule for it
  # (the classification count by rule shows how often this one decides).
  - name: unclassified
    then:
      severity: high
      reason: final failure that no rule classifies, look at it and add a rule
      labels: { category: unclassified }
`;

/** The built-in document, parsed. */
export const DEFAULT_CLASSIFICATION_DOCUMENT: unknown = parse(DEFAULT_CLASSIFICATION_YAML);

/** The built-in classification, compiled. */
export const DEFAULT_CLASSIFICATION: CompiledClassification = compileClassification(DEFAULT_CLASSIFICATION_DOCUMENT, DEFAULT_CLASSIFICATION_SOURCE);
