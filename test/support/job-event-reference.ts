/**
 * Job event validation as it was before it was rewritten without object spreads, the control
 * character regex and `trim` (commit eafca89, shared/core/events/event.ts), verbatim but for its
 * import paths and its timestamp reader (the old one, test/support/rfc3339-reference.ts): the
 * oracle the property test in test/unit/job-event-equivalence.test.ts holds `parseJobEvent` to,
 * results, reasons and field order included.
 */
/**
 * Validation of one job event (an error or a success of a job runner, see ./types.ts): the event,
 * or ONE reason naming the field (`error.type: expected a non-empty string`). Hand-written, like
 * ../decode/sample.ts and for its reasons: what is accepted and what the reason says cannot drift
 * apart, an own `__proto__` key is reported rather than dropped, lengths are UTF-16 code units.
 *
 * The rules (docs/schemas/job-event.schema.json states the same for producers):
 * - `kind` is `error` or `success`; unknown top-level fields are ignored (producers may add fields
 *   before Klaxon reads them); for a success the error-only fields are ignored too.
 * - Identifiers `source`, `service`, `task` (required) and `run` (optional): non-empty strings of at
 *   most {@link MAX_IDENTIFIER_CHARS} code units without control characters. Longer ones are
 *   REJECTED, never cut: two runs cut to the same prefix would become one identity.
 * - `timestamp` (required): epoch ms or RFC 3339, read by ../decode/time.ts as sample times are;
 *   with a clock reading (`nowMs`) the evaluator's event-time bounds apply too.
 * - Texts are CUT, never rejected for length, so a failure with a huge traceback still alerts:
 *   `error.type` at {@link MAX_ERROR_TYPE_CHARS}, `error.message` at {@link MAX_MESSAGE_CHARS},
 *   `error.stack` at {@link MAX_STACK_CHARS}, tag values at {@link MAX_TAG_VALUE_CHARS}; see
 *   {@link cutText}.
 * - `try`, `maxTries`: integers in [1, {@link MAX_TRIES}]; `try > maxTries` is accepted (a cleared
 *   and rerun Airflow task may report it). `final`: a boolean, or derived ({@link deriveFinal}).
 * - `tags`: at most {@link MAX_TAGS}, names as label names (`[a-zA-Z_][a-zA-Z0-9_]*`, no `__`
 *   prefix; a bad name rejects the event), values strings.
 * - `logUrl`: kept when it is an http(s) URL of at most {@link MAX_LOG_URL_CHARS} code units;
 *   anything else is DROPPED with a warning, not rejected: the link is an aid, the failure is the
 *   news, and a `javascript:` or `file:` link must never reach a Slack button.
 * - `null` in an optional field is taken as absent (Python's `json.dumps` writes `None` as `null`).
 *
 * Never throws, whatever the value (deep nesting, huge arrays, 50,000 keys, `__proto__` keys,
 * even a Proxy whose traps throw): unknown fields are never walked, and a last-resort catch turns
 * anything unforeseen into a reason.
 */
import { labelNameReason, pathKey } from '../../shared/core/decode/sample.ts';
import { defaultEventTimeBounds, eventTimeReason, formatCount } from '../../shared/core/decode/time.ts';
import { referenceCheckTimestamp as checkTimestamp } from './rfc3339-reference.ts';
import type { Labels } from '../../shared/core/model/index.ts';
import type { ErrorEvent, JobEvent, SuccessEvent } from '../../shared/core/events/types.ts';

/** Kinds of job event, as `kind` on the wire. */
export const JOB_EVENT_KINDS = ['error', 'success'] as const;
/** One of {@link JOB_EVENT_KINDS}. */
export type JobEventKind = (typeof JOB_EVENT_KINDS)[number];

/**
 * Longest identifier (`source`, `service`, `task`, `run`), UTF-16 code units. Airflow's ids fit:
 * `ID_LEN` = 250 for dag and task ids and run ids (airflow/models/base.py).
 */
export const MAX_IDENTIFIER_CHARS = 256;
/** Longest `error.type` kept (an exception class name, qualified); longer is cut. */
export const MAX_ERROR_TYPE_CHARS = 256;
/** Longest `error.message` kept (8 KB of UTF-16 code units); longer is cut with a marker. */
export const MAX_MESSAGE_CHARS = 8192;
/** Longest `error.stack` kept (32 KB of UTF-16 code units); longer is cut with a marker. */
export const MAX_STACK_CHARS = 32_768;
/** At most this many tags (more rejects the event: tags become labels, and label sets are bounded). */
export const MAX_TAGS = 32;
/** Longest tag value kept, as label values are bounded (../decode/sample.ts); longer is cut. */
export const MAX_TAG_VALUE_CHARS = 1024;
/** Longest `logUrl` kept; longer is dropped (a cut URL is a broken link). */
export const MAX_LOG_URL_CHARS = 2048;
/** Most attempts `try` and `maxTries` may state (Airflow would need `retries: 999`). */
export const MAX_TRIES = 1000;

/** The result of {@link parseJobEvent}. `warnings` name what was dropped (a bad `logUrl`). */
export type JobEventResult = { readonly ok: true; readonly event: JobEvent; readonly warnings: readonly string[] } | { readonly ok: false; readonly reason: string };

const hasOwn = Object.prototype.hasOwnProperty;
const EMPTY_TAGS: Labels = Object.freeze({});
const NO_WARNINGS: readonly string[] = Object.freeze([]);
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const HTTP_URL_RE = /^https?:\/\/[^\s]+$/i;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own field, `null` taken as absent (never an inherited one: `constructor`, a prototype's). */
function field(o: Record<string, unknown>, k: string): unknown {
  if (!hasOwn.call(o, k)) return undefined;
  const v = o[k];
  return v === null ? undefined : v;
}

/** Whether `doc` is a job event (its `kind` is `error` or `success`), so a decoder can tell events from samples. */
export function isJobEventKind(doc: unknown): boolean {
  try {
    if (!isRecord(doc) || !hasOwn.call(doc, 'kind')) return false;
    const k = doc.kind;
    return k === 'error' || k === 'success';
  } catch {
    return false;
  }
}

/** `… [cut 12,345 characters]`: the marker that ends a cut text. */
function cutMarker(removed: number): string {
  return `… [cut ${formatCount(removed)} characters]`;
}

/**
 * `text` if it has at most `max` UTF-16 code units; else its start, then a marker saying how many
 * code units were cut, the whole at most `max`. A surrogate pair is never split: when the cut falls
 * between its halves the high half goes too (a lone surrogate would become U+FFFD in UTF-8, or make
 * a strict JSON encoder refuse the text).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  // The marker for `text.length` removed is at least as long as the real one: the result fits.
  let keep = Math.max(0, max - cutMarker(text.length).length);
  const c = text.charCodeAt(keep - 1);
  if (c >= 0xd800 && c <= 0xdbff) keep--;
  return `${text.slice(0, keep)}${cutMarker(text.length - keep)}`;
}

/**
 * Whether a failure is final (the runner will not retry), when the producer did not say.
 *
 * Airflow decides with `TaskInstance.is_eligible_to_retry`: `task.retries and try_number <= max_tries`
 * (airflow/models/taskinstance.py), where `try_number` is the attempt that failed, 1-based, and
 * `max_tries` is the number of RETRIES allowed (`task.retries`, raised when the task is cleared).
 * Our `maxTries` counts all attempts allowed, first one included: `maxTries = max_tries + 1`. So
 * Airflow retries when `retries > 0 and try <= maxTries - 1`, that is when `try < maxTries` (which
 * implies `maxTries > 1`, and `retries = 0` then always means final); the failure is final when
 * `try >= maxTries`. Without both numbers nothing says a retry will come, so the failure is final:
 * an alert too many beats a silent job.
 *
 * Airflow cases this cannot see (a task that raised `AirflowFailException`, one in state
 * `restarting`): the producer sends `final` itself (true from `on_failure_callback`, false from
 * `on_retry_callback`), and a given `final` always wins.
 */
export function deriveFinal(tryNumber: number | undefined, maxTries: number | undefined): boolean {
  if (tryNumber === undefined || maxTries === undefined) return true;
  return tryNumber >= maxTries;
}

/** Checks an identifier field; its reason, or undefined. */
function identifierReason(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length === 0) return 'expected a non-empty string';
  if (v.length > MAX_IDENTIFIER_CHARS) return `too long: ${formatCount(v.length)} UTF-16 code units (at most ${MAX_IDENTIFIER_CHARS}; an identifier is never cut)`;
  if (CONTROL_RE.test(v)) return 'control characters (a newline, a tab...) are not allowed in an identifier';
  return undefined;
}

function triesReason(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return 'expected a positive integer';
  if (v > MAX_TRIES) return `at most ${formatCount(MAX_TRIES)} (got ${v > 1e15 ? 'more' : formatCount(v)})`;
  return undefined;
}

/** Validates the tags; the cut tags or the reason. */
function checkTags(raw: unknown): { tags: Labels } | { reason: string } {
  if (raw === undefined) return { tags: EMPTY_TAGS };
  if (!isRecord(raw)) return { reason: 'tags: expected an object of tag names to string values' };
  let n = 0;
  for (const k in raw) if (hasOwn.call(raw, k)) n++;
  if (n > MAX_TAGS) return { reason: `tags: at most ${MAX_TAGS} tags (got ${formatCount(n)})` };
  if (n === 0) return { tags: EMPTY_TAGS };
  const out: Record<string, string> = {};
  for (const k in raw) {
    if (!hasOwn.call(raw, k)) continue;
    // `__proto__` is refused here (reserved `__` prefix), so the plain assignment below is safe.
    const nameReason = labelNameReason(k);
    if (nameReason) return { reason: `tags.${pathKey(k)}: ${nameReason.replace('label name', 'tag name')}` };
    const v = raw[k];
    if (typeof v !== 'string') return { reason: `tags.${pathKey(k)}: expected a string` };
    out[k] = cutText(v, MAX_TAG_VALUE_CHARS);
  }
  return { tags: out };
}

/** The URL kept, or why it was dropped. */
function checkLogUrl(v: unknown): { url?: string; warning?: string } {
  if (v === undefined) return {};
  if (typeof v !== 'string') return { warning: 'logUrl: dropped: expected a string' };
  if (v.length > MAX_LOG_URL_CHARS) return { warning: `logUrl: dropped: ${formatCount(v.length)} characters (at most ${formatCount(MAX_LOG_URL_CHARS)})` };
  if (!HTTP_URL_RE.test(v) || !URL.canParse(v)) return { warning: 'logUrl: dropped: expected an http or https URL' };
  return { url: v };
}

function parse(doc: unknown, nowMs: number | undefined): JobEventResult {
  if (!isRecord(doc)) return { ok: false, reason: 'value: expected a JSON object' };
  const kind = field(doc, 'kind');
  if (kind !== 'error' && kind !== 'success') return { ok: false, reason: 'kind: expected "error" or "success"' };
  for (const k of ['source', 'service', 'task'] as const) {
    const r = identifierReason(field(doc, k));
    if (r) return { ok: false, reason: `${k}: ${r}` };
  }
  const run = field(doc, 'run');
  if (run !== undefined) {
    const r = identifierReason(run);
    if (r) return { ok: false, reason: `run: ${r}` };
  }
  const ts = field(doc, 'timestamp');
  if (ts === undefined) return { ok: false, reason: 'timestamp: expected epoch milliseconds or an RFC 3339 time' };
  const t = checkTimestamp(ts);
  if ('reason' in t) return { ok: false, reason: `timestamp: ${t.reason}` };
  if (nowMs !== undefined) {
    const late = eventTimeReason(t.ms, Number.NaN, true, defaultEventTimeBounds(nowMs));
    if (late) return { ok: false, reason: `timestamp: ${late}` };
  }
  const tags = checkTags(field(doc, 'tags'));
  if ('reason' in tags) return { ok: false, reason: tags.reason };
  const common = {
    source: doc.source as string,
    service: doc.service as string,
    task: doc.task as string,
    ...(run !== undefined ? { run: run as string } : {}),
    tags: tags.tags,
    timestampMs: t.ms,
  };
  if (kind === 'success') {
    const event: SuccessEvent = { kind: 'success', ...common };
    return { ok: true, event, warnings: NO_WARNINGS };
  }

  const tryNumber = field(doc, 'try');
  if (tryNumber !== undefined) {
    const r = triesReason(tryNumber);
    if (r) return { ok: false, reason: `try: ${r}` };
  }
  const maxTries = field(doc, 'maxTries');
  if (maxTries !== undefined) {
    const r = triesReason(maxTries);
    if (r) return { ok: false, reason: `maxTries: ${r}` };
  }
  const final = field(doc, 'final');
  if (final !== undefined && typeof final !== 'boolean') return { ok: false, reason: 'final: expected true or false' };
  const error = field(doc, 'error');
  if (!isRecord(error)) return { ok: false, reason: 'error: expected an object with type and message' };
  const type = field(error, 'type');
  if (typeof type !== 'string' || type.trim().length === 0) return { ok: false, reason: 'error.type: expected a non-empty string' };
  // An empty message is a message: Python's `raise ValueError()` has one.
  const message = field(error, 'message');
  if (typeof message !== 'string') return { ok: false, reason: 'error.message: expected a string' };
  const stack = field(error, 'stack');
  if (stack !== undefined && typeof stack !== 'string') return { ok: false, reason: 'error.stack: expected a string' };
  const log = checkLogUrl(field(doc, 'logUrl'));
  const event: ErrorEvent = {
    kind: 'error',
    ...common,
    ...(tryNumber !== undefined ? { try: tryNumber as number } : {}),
    ...(maxTries !== undefined ? { maxTries: maxTries as number } : {}),
    final: final ?? deriveFinal(tryNumber as number | undefined, maxTries as number | undefined),
    error: {
      type: cutText(type, MAX_ERROR_TYPE_CHARS),
      message: cutText(message, MAX_MESSAGE_CHARS),
      ...(stack !== undefined ? { stack: cutText(stack, MAX_STACK_CHARS) } : {}),
    },
    ...(log.url !== undefined ? { logUrl: log.url } : {}),
  };
  return { ok: true, event, warnings: log.warning !== undefined ? [log.warning] : NO_WARNINGS };
}

/**
 * Validates an already JSON-parsed job event (see the module comment for every rule): the event
 * with its texts cut to their bounds, or the first reason, naming the field. With `nowMs` (the
 * clock's reading) the timestamp must also be within the evaluator's event-time bounds (at most 10
 * minutes ahead, at most 7 days old: ../decode/time.ts). Never throws.
 */
export function parseJobEvent(doc: unknown, nowMs?: number): JobEventResult {
  try {
    return parse(doc, nowMs);
  } catch {
    // Only a value that is not plain JSON gets here (a Proxy, a getter that throws).
    return { ok: false, reason: 'value: could not be read as a JSON object' };
  }
}
