/**
 * docs/schemas/job-event.schema.json (for producers) and parseJobEvent (what Klaxon accepts) agree:
 * a document is valid for the schema exactly when the parser accepts it as sent (ok, nothing
 * dropped). The differences the schema cannot express are listed, and checked, as such.
 *
 * The validator is Ajv 8's draft 2020-12 build, the Ajv that `ajv-formats` (in node_modules through
 * the dev tooling) depends on; the top-level `ajv` is version 6, which predates draft 2020-12.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseJobEvent } from '../../shared/core/events/event.ts';

const schema = JSON.parse(readFileSync(new URL('../../docs/schemas/job-event.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
type Validate = ((doc: unknown) => boolean) & { errors?: unknown };
const requireFromAjvFormats = createRequire(createRequire(import.meta.url).resolve('ajv-formats'));
const Ajv2020 = (requireFromAjvFormats('ajv/dist/2020') as { default: new (o: object) => { compile(s: object): Validate } }).default;
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);

const T = '2026-11-28T02:04:10Z';
const ERR = {
  kind: 'error', source: 'airflow', service: 'etl_daily', task: 'load_orders', run: 'scheduled__2026-11-28T02:00:00+00:00',
  try: 2, maxTries: 3, error: { type: 'TimeoutError', message: 'query timed out', stack: 'Traceback' },
  logUrl: 'https://airflow.example.com/log', tags: { team: 'data' }, timestamp: T,
};
const OK = { kind: 'success', source: 'airflow', service: 'etl_daily', task: 'load_orders', timestamp: T };
const { error: _e, ...noError } = ERR;

function parserAccepts(doc: unknown): boolean {
  const r = parseJobEvent(doc);
  return r.ok && r.warnings.length === 0;
}

describe('the JSON Schema and parseJobEvent agree', () => {
  it.each([
    ['the full error example', ERR, true],
    ['a success', OK, true],
    ['a success with error-only fields of any type (ignored)', { ...OK, try: 'x', error: 1 }, true],
    ['unknown fields', { ...ERR, extra: { deep: [1] } }, true],
    ['nulls in optional fields', { ...ERR, run: null, try: null, maxTries: null, final: null, logUrl: null, tags: null }, true],
    ['epoch ms', { ...ERR, timestamp: 1_795_300_000_000 }, true],
    ['an empty message', { ...ERR, error: { type: 'E', message: '' } }, true],
    ['a 20 KB message (cut, not refused)', { ...ERR, error: { type: 'E', message: 'x'.repeat(20_000) } }, true],
    ['32 tags', { ...ERR, tags: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, 'v'])) }, true],
    ['an unknown kind', { ...ERR, kind: 'started' }, false],
    ['no kind', { ...ERR, kind: undefined }, false],
    ['no source', { ...ERR, source: undefined }, false],
    ['an empty task', { ...ERR, task: '' }, false],
    ['a 257-character run', { ...ERR, run: 'r'.repeat(257) }, false],
    ['a tab in service', { ...ERR, service: 'a\tb' }, false],
    ['no timestamp', { ...ERR, timestamp: undefined }, false],
    ['seconds', { ...ERR, timestamp: 1_795_300_000 }, false],
    ['a date without time', { ...ERR, timestamp: '2026-11-28' }, false],
    ['try 0', { ...ERR, try: 0 }, false],
    ['maxTries 1001', { ...ERR, maxTries: 1001 }, false],
    ['try 1.5', { ...ERR, try: 1.5 }, false],
    ['final as text', { ...ERR, final: 'yes' }, false],
    ['no error', noError, false],
    ['no error.type', { ...ERR, error: { message: 'm' } }, false],
    ['a blank error.type', { ...ERR, error: { type: ' ', message: 'm' } }, false],
    ['no error.message', { ...ERR, error: { type: 'E' } }, false],
    ['a numeric stack', { ...ERR, error: { type: 'E', message: 'm', stack: 1 } }, false],
    ['33 tags', { ...ERR, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, 'v'])) }, false],
    ['a tag name with a dash', { ...ERR, tags: { 'a-b': 'x' } }, false],
    ['a reserved tag name', { ...ERR, tags: { __name__: 'x' } }, false],
    ['a numeric tag value', { ...ERR, tags: { a: 1 } }, false],
    // dropped with a warning by the parser: not valid as sent
    ['a javascript: logUrl', { ...ERR, logUrl: 'javascript:alert(1)' }, false],
    ['a 3 KB logUrl', { ...ERR, logUrl: `https://x/${'p'.repeat(3000)}` }, false],
    ['an array', [ERR], false],
  ])('%s: valid %j', (_case, doc, valid) => {
    const clean = JSON.parse(JSON.stringify(doc)) as unknown;
    expect(parserAccepts(clean)).toBe(valid);
    expect(validate(clean)).toBe(valid);
  });

  it.each([
    // what JSON Schema cannot say (RFC 3339 times that do not exist, UTF-16 lengths): the
    // schema's description names these; the parser is the reference
    ['February 30', { ...ERR, timestamp: '2026-02-30T00:00:00Z' }],
    ['hour 24', { ...ERR, timestamp: '2026-02-03T24:00:00Z' }],
    ['200 emoji in task: 200 code points, 400 UTF-16 code units', { ...ERR, task: '😀'.repeat(200) }],
  ])('known difference: %s passes the schema, not the parser', (_case, doc) => {
    expect(validate(doc)).toBe(true);
    expect(parseJobEvent(doc).ok).toBe(false);
  });

  it('requires what the parser requires', () => {
    expect(schema.required).toEqual(['kind', 'source', 'service', 'task', 'timestamp']);
    const then = (schema.allOf as { then: { required: string[]; properties: { error: { required: string[] } } } }[])[0]!.then;
    expect(then.required).toEqual(['error']);
    expect(then.properties.error.required).toEqual(['type', 'message']);
  });
});
