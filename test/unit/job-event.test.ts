/**
 * Job events: what parseJobEvent accepts, the reason it gives for what it refuses, how it derives
 * `final`, how it cuts texts, and (properties) that no value makes it throw.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  cutText,
  deriveFinal,
  isJobEventKind,
  MAX_MESSAGE_CHARS,
  MAX_STACK_CHARS,
  MAX_TAG_VALUE_CHARS,
  parseJobEvent,
  type JobEventResult,
} from '../../shared/core/events/event.ts';
import type { ErrorEvent } from '../../shared/core/events/types.ts';
import { REJECTED_REASON_MAX_CHARS } from '../../shared/core/model/index.ts';

const T = '2026-11-28T02:04:10Z';
const T_MS = Date.UTC(2026, 10, 28, 2, 4, 10);
/** A valid error event as an Airflow producer sends it. */
const ERR = {
  kind: 'error',
  source: 'airflow',
  service: 'etl_daily',
  task: 'load_orders',
  run: 'scheduled__2026-11-28T02:00:00+00:00',
  try: 2,
  maxTries: 3,
  error: { type: 'TimeoutError', message: 'query timed out', stack: 'Traceback...' },
  logUrl: 'https://airflow.example.com/log?dag_id=etl_daily',
  tags: { team: 'data', tier: '1' },
  timestamp: T,
};
const OK = { kind: 'success', source: 'airflow', service: 'etl_daily', task: 'load_orders', timestamp: T };

function errorOf(r: JobEventResult): ErrorEvent {
  if (!r.ok) throw new Error(r.reason);
  if (r.event.kind !== 'error') throw new Error('not an error event');
  return r.event;
}

describe('parseJobEvent: accepted', () => {
  it('reads the wire example of types.ts', () => {
    const r = parseJobEvent(ERR);
    expect(r).toEqual({
      ok: true,
      warnings: [],
      event: {
        kind: 'error',
        source: 'airflow',
        service: 'etl_daily',
        task: 'load_orders',
        run: 'scheduled__2026-11-28T02:00:00+00:00',
        try: 2,
        maxTries: 3,
        final: false,
        error: { type: 'TimeoutError', message: 'query timed out', stack: 'Traceback...' },
        logUrl: 'https://airflow.example.com/log?dag_id=etl_daily',
        tags: { team: 'data', tier: '1' },
        timestampMs: T_MS,
      },
    });
  });

  it('reads a success event, ignoring error-only fields', () => {
    expect(parseJobEvent({ ...OK, error: 5, try: 'x', final: 'maybe' })).toEqual({
      ok: true,
      warnings: [],
      event: { kind: 'success', source: 'airflow', service: 'etl_daily', task: 'load_orders', tags: {}, timestampMs: T_MS },
    });
  });

  it.each([
    // unknown top-level fields are ignored (forward compatible)
    ['an unknown field', { ...ERR, severity: 'high', nested: { deep: [1, 2] } }],
    // null is absent (Python's None)
    ['nulls in optional fields', { ...ERR, run: null, try: null, maxTries: null, final: null, logUrl: null, tags: null, error: { type: 'E', message: 'm', stack: null } }],
    // epoch milliseconds
    ['an epoch-ms timestamp', { ...ERR, timestamp: T_MS }],
    // an empty message is a message (Python's `raise ValueError()`)
    ['an empty message', { ...ERR, error: { type: 'ValueError', message: '' } }],
    // try above maxTries: a cleared and rerun Airflow task
    ['try above maxTries', { ...ERR, try: 5, maxTries: 3 }],
    // a 256-character identifier is the longest accepted
    ['a 256-character task', { ...ERR, task: 't'.repeat(256) }],
    // 32 tags, the most accepted
    ['32 tags', { ...ERR, tags: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, 'v'])) }],
  ])('accepts %s', (_case, doc) => {
    const r = parseJobEvent(doc);
    expect(r.ok ? 'ok' : r.reason).toBe('ok');
  });
});

describe('parseJobEvent: refused, with the reason naming the field', () => {
  const { error: _e, ...noError } = ERR;
  it.each([
    // not an object at all
    ['an array', [ERR], 'value: expected a JSON object'],
    ['null', null, 'value: expected a JSON object'],
    // a kind Klaxon does not know
    ['kind started', { ...ERR, kind: 'started' }, 'kind: expected "error" or "success"'],
    // required identifiers
    ['no source', { ...ERR, source: undefined }, 'source: expected a non-empty string'],
    ['an empty service', { ...ERR, service: '' }, 'service: expected a non-empty string'],
    ['a numeric task', { ...ERR, task: 7 }, 'task: expected a non-empty string'],
    // identifiers are never cut: two long runs cut alike would become one
    ['a 257-character run', { ...ERR, run: 'r'.repeat(257) }, 'run: too long: 257 UTF-16 code units (at most 256; an identifier is never cut)'],
    // a newline in an identifier would forge a line in a notification
    ['a newline in service', { ...ERR, service: 'etl\nFIRING: all clear' }, 'service: control characters (a newline, a tab...) are not allowed in an identifier'],
    // timestamp
    ['no timestamp', { ...ERR, timestamp: undefined }, 'timestamp: expected epoch milliseconds or an RFC 3339 time'],
    ['seconds for milliseconds', { ...ERR, timestamp: 1_795_300_000 }, 'timestamp: expected epoch milliseconds, at least 100000000000 (1973-03-03): this looks like seconds'],
    ['February 30', { ...ERR, timestamp: '2026-02-30T00:00:00Z' }, 'timestamp: 2026-02-30 does not exist'],
    // try / maxTries
    ['try 0', { ...ERR, try: 0 }, 'try: expected a positive integer'],
    ['try 1.5', { ...ERR, try: 1.5 }, 'try: expected a positive integer'],
    ['try as text', { ...ERR, try: '2' }, 'try: expected a positive integer'],
    ['maxTries 1001', { ...ERR, maxTries: 1001 }, 'maxTries: at most 1,000 (got 1,001)'],
    // final
    ['final as text', { ...ERR, final: 'yes' }, 'final: expected true or false'],
    // error
    ['no error', noError, 'error: expected an object with type and message'],
    ['error as text', { ...ERR, error: 'boom' }, 'error: expected an object with type and message'],
    ['no error.type', { ...ERR, error: { message: 'm' } }, 'error.type: expected a non-empty string'],
    ['a blank error.type', { ...ERR, error: { type: '  ', message: 'm' } }, 'error.type: expected a non-empty string'],
    ['no error.message', { ...ERR, error: { type: 'E' } }, 'error.message: expected a string'],
    ['a numeric stack', { ...ERR, error: { type: 'E', message: 'm', stack: 3 } }, 'error.stack: expected a string'],
    // tags
    ['tags as a list', { ...ERR, tags: ['a'] }, 'tags: expected an object of tag names to string values'],
    ['33 tags', { ...ERR, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, 'v'])) }, 'tags: at most 32 tags (got 33)'],
    ['a tag name with a dash', { ...ERR, tags: { 'my-team': 'x' } }, 'tags."my-team": expected a tag name ([a-zA-Z_][a-zA-Z0-9_]*)'],
    ['a reserved tag name', { ...ERR, tags: { __name__: 'x' } }, 'tags.__name__: tag names starting with __ are reserved'],
    // JSON.parse makes __proto__ an own key: reported, never dropped or assigned to a prototype
    ['a __proto__ tag', JSON.parse('{"kind":"error","source":"a","service":"b","task":"c","timestamp":1795300000000,"error":{"type":"E","message":"m"},"tags":{"__proto__":"x"}}'), 'tags.__proto__: tag names starting with __ are reserved'],
    ['a numeric tag value', { ...ERR, tags: { tier: 1 } }, 'tags.tier: expected a string'],
  ])('refuses %s', (_case, doc, reason) => {
    expect(parseJobEvent(doc)).toEqual({ ok: false, reason });
  });

  it.each([
    // a day ahead of the clock
    [T_MS - 86_400_000, 'timestamp: 1d in the future (max skew 10m)'],
    // older than the evaluator's maximum age
    [T_MS + 9 * 86_400_000, 'timestamp: 9d old (max age 7d)'],
  ])('with the clock at %d, refuses the event time as %s', (nowMs, reason) => {
    expect(parseJobEvent(ERR, nowMs)).toEqual({ ok: false, reason });
  });

  it('without a clock, applies no age bound', () => {
    expect(parseJobEvent({ ...ERR, timestamp: '2001-01-01T00:00:00Z' }).ok).toBe(true);
  });
});

describe('final', () => {
  it.each([
    // [try, maxTries, final]: Airflow retries while try <= max_tries, max_tries = maxTries - 1
    // first of three attempts failed: Airflow retries
    [1, 3, false],
    // second of three: retries again
    [2, 3, false],
    // third of three: the last one
    [3, 3, true],
    // no retries configured (retries = 0, maxTries = 1): final at once
    [1, 1, true],
    // try past maxTries (a rerun after clearing with retries = 0): final
    [4, 3, true],
    // one retry allowed, first attempt failed
    [1, 2, false],
    // try unknown: nothing says a retry will come
    [undefined, 3, true],
    // maxTries unknown
    [2, undefined, true],
    // neither
    [undefined, undefined, true],
  ])('try %j of maxTries %j is final: %j', (t, m, final) => {
    expect(deriveFinal(t, m)).toBe(final);
    const doc = { ...ERR, try: t, maxTries: m };
    expect(errorOf(parseJobEvent(doc)).final).toBe(final);
  });

  it.each([
    // the producer knows better (AirflowFailException, on_failure_callback): a given final wins
    [1, 3, true],
    // and on_retry_callback
    [3, 3, false],
  ])('a given final wins: try %j of %j, final %j', (t, m, final) => {
    expect(errorOf(parseJobEvent({ ...ERR, try: t, maxTries: m, final })).final).toBe(final);
  });
});

describe('cutting texts', () => {
  it('cuts the message at 8 KB with a marker saying how much went', () => {
    const e = errorOf(parseJobEvent({ ...ERR, error: { type: 'E', message: 'x'.repeat(20_000) } }));
    expect(e.error.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(e.error.message).toMatch(/^x+… \[cut 11,833 characters\]$/);
    expect(e.error.message.length).toBe(MAX_MESSAGE_CHARS);
  });

  it('cuts the stack at 32 KB and tag values at 1 KB', () => {
    const e = errorOf(parseJobEvent({ ...ERR, error: { type: 'E', message: 'm', stack: 's'.repeat(100_000) }, tags: { note: 'n'.repeat(5000) } }));
    // The marker is sized for the longest count (100,000 removed at most): one character to spare.
    expect(e.error.stack!.length).toBe(MAX_STACK_CHARS - 1);
    expect(e.error.stack).toMatch(/… \[cut 67,258 characters\]$/);
    expect(e.tags.note!.length).toBeLessThanOrEqual(MAX_TAG_VALUE_CHARS);
  });

  it('keeps a text at its bound whole', () => {
    expect(cutText('x'.repeat(100), 100)).toBe('x'.repeat(100));
  });

  it('never splits a surrogate pair', () => {
    const marker = '… [cut 1,001 characters]';
    // The cut falls between the two halves of the emoji: the whole emoji goes.
    const keep = 100 - marker.length;
    const text = `${'a'.repeat(keep - 1)}😀${'b'.repeat(1000)}`;
    const out = cutText(text, 100);
    expect(out).toBe(`${'a'.repeat(keep - 1)}… [cut 1,002 characters]`);
    expect(out.length).toBeLessThanOrEqual(100);
    // Well-formed: no lone surrogate left.
    expect(out.isWellFormed()).toBe(true);
    // The cut falls right after the pair: it stays.
    const after = cutText(`${'a'.repeat(keep - 2)}😀${'b'.repeat(1000)}`, 100);
    expect(after.startsWith(`${'a'.repeat(keep - 2)}😀…`)).toBe(true);
  });
});

describe('logUrl', () => {
  it.each([
    // another scheme: never a link in a notification
    ['javascript:alert(1)', 'logUrl: dropped: expected an http or https URL'],
    ['file:///etc/passwd', 'logUrl: dropped: expected an http or https URL'],
    // not a URL
    ['https://exa mple.com', 'logUrl: dropped: expected an http or https URL'],
    // a cut URL would be a broken link: dropped whole
    [`https://x.example/${'p'.repeat(2100)}`, 'logUrl: dropped: 2,118 characters (at most 2,048)'],
    [42, 'logUrl: dropped: expected a string'],
  ])('drops %j with a warning, keeping the event', (logUrl, warning) => {
    const r = parseJobEvent({ ...ERR, logUrl });
    expect(r.ok && r.warnings).toEqual([warning]);
    expect(errorOf(r).logUrl).toBeUndefined();
  });

  it('keeps an http URL', () => {
    expect(errorOf(parseJobEvent({ ...ERR, logUrl: 'HTTP://airflow:8080/log' })).logUrl).toBe('HTTP://airflow:8080/log');
  });
});

describe('isJobEventKind', () => {
  it.each([
    [ERR, true],
    [OK, true],
    // a sample
    [{ name: 'cpu', value: 1 }, false],
    [{ kind: 'started' }, false],
    [null, false],
    [[ERR], false],
    // an inherited kind is not the document's
    [Object.create({ kind: 'error' }) as unknown, false],
  ])('%j: %j', (doc, expected) => {
    expect(isJobEventKind(doc)).toBe(expected);
  });
});

describe('hostile input (properties)', () => {
  const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
  const text = fc.oneof(fc.string(), fc.string({ unit: fc.oneof(loneSurrogate, fc.constantFrom('😀', '\n', '__proto__')) }), fc.constant('x'.repeat(300)), fc.constant('😀'.repeat(20_000)));
  const anyValue = fc.oneof(fc.jsonValue(), text, fc.constant(null), fc.integer(), fc.double());
  const key = fc.oneof(fc.constantFrom('team', '__proto__', 'constructor', 'a-b', ''), fc.string({ maxLength: 4 }), fc.constant('k'.repeat(150)));
  const eventish = fc.record(
    {
      kind: fc.oneof(fc.constantFrom('error', 'success'), anyValue),
      source: fc.oneof(fc.constant('airflow'), text, anyValue),
      service: fc.oneof(fc.constant('etl'), text),
      task: fc.oneof(fc.constant('load'), text),
      run: fc.oneof(text, anyValue),
      try: fc.oneof(fc.integer({ min: -2, max: 1002 }), anyValue),
      maxTries: fc.oneof(fc.integer({ min: -2, max: 1002 }), anyValue),
      final: fc.oneof(fc.boolean(), anyValue),
      error: fc.oneof(fc.record({ type: fc.oneof(text, anyValue), message: fc.oneof(text, anyValue), stack: fc.oneof(text, anyValue) }, { requiredKeys: [] }), anyValue),
      logUrl: fc.oneof(fc.webUrl(), text, anyValue),
      tags: fc.oneof(fc.dictionary(key, fc.oneof(text, anyValue), { maxKeys: 40 }), anyValue),
      timestamp: fc.oneof(fc.integer({ min: 1e11, max: 1e14 }), fc.constantFrom(T, '2026-02-30T00:00:00Z'), anyValue),
    },
    { requiredKeys: [] },
  );
  /** Mostly valid events, so accepted ones are well represented too. */
  const nearlyValid = fc.record({
    kind: fc.constantFrom('error', 'success'),
    source: fc.constant('airflow'),
    service: fc.oneof(fc.constant('etl'), text),
    task: fc.constant('load'),
    try: fc.oneof(fc.integer({ min: 0, max: 1001 }), fc.constant(null)),
    maxTries: fc.integer({ min: 1, max: 5 }),
    error: fc.record({ type: fc.oneof(fc.constant('E'), text), message: text, stack: text }),
    logUrl: fc.oneof(fc.webUrl(), text),
    tags: fc.dictionary(key, text, { maxKeys: 3 }),
    timestamp: fc.oneof(fc.constant(T), fc.integer({ min: T_MS - 8 * 86_400_000, max: T_MS + 20 * 60_000 })),
  });
  /** Nesting as deep as a 1 MB record holds, in an ignored field and in `error`. */
  const deep = fc.integer({ min: 1, max: 20_000 }).map((d) => JSON.parse(`{"kind":"error","x":${'['.repeat(d)}${']'.repeat(d)},"error":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`) as unknown);

  it('never throws; every reason is at most 1 KB; what it accepts is within bounds', () => {
    const seen = { ok: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(nearlyValid, nearlyValid.map((e) => JSON.parse(JSON.stringify(e)) as unknown), eventish, eventish.map((e) => JSON.parse(JSON.stringify(e)) as unknown), anyValue, deep), (doc) => {
        const r = parseJobEvent(doc, T_MS);
        if (!r.ok) {
          seen.refused++;
          expect(r.reason.length).toBeGreaterThan(0);
          expect(r.reason.length).toBeLessThanOrEqual(REJECTED_REASON_MAX_CHARS);
          return;
        }
        seen.ok++;
        for (const w of r.warnings) expect(w.length).toBeLessThanOrEqual(REJECTED_REASON_MAX_CHARS);
        if (r.event.kind === 'error') {
          expect(r.event.error.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
          expect((r.event.error.stack ?? '').length).toBeLessThanOrEqual(MAX_STACK_CHARS);
          expect(typeof r.event.final).toBe('boolean');
        }
        expect(Object.getPrototypeOf(r.event.tags)).toBe(Object.prototype);
      }),
      { numRuns: 500 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('never throws on a value whose reads throw', () => {
    const trap = new Proxy({}, { get: () => { throw new Error('boom'); }, has: () => { throw new Error('boom'); }, getOwnPropertyDescriptor: () => { throw new Error('boom'); } });
    expect(parseJobEvent(trap)).toEqual({ ok: false, reason: 'value: could not be read as a JSON object' });
    expect(isJobEventKind(trap)).toBe(false);
  });
});
