/**
 * Error identity: which failures share a fingerprint (the same error with different ids, times,
 * addresses, numbers), which do not (another type, task, service or wording), how fingerprint
 * rules take precedence, and that a hostile message costs no more than a plain one.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fingerprintOf, normalizeMessage, parseFingerprintRules, TOKEN_EXACT, TOKEN_REGEXES, type FingerprintRule } from '../../shared/core/events/fingerprint.ts';
import type { ErrorEvent } from '../../shared/core/events/types.ts';

function ev(message: string, patch: Partial<Omit<ErrorEvent, 'error'>> & { type?: string } = {}): ErrorEvent {
  const { type = 'TimeoutError', ...rest } = patch;
  return { kind: 'error', source: 'airflow', service: 'etl_daily', task: 'load_orders', final: true, tags: {}, timestampMs: 1_795_300_000_000, error: { type, message }, ...rest };
}
const fp = (e: ErrorEvent, rules?: readonly FingerprintRule[]): string => fingerprintOf(e, rules).fingerprint;

function rules(doc: unknown): readonly FingerprintRule[] {
  const r = parseFingerprintRules(doc);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.rules;
}

describe('normalizeMessage', () => {
  it.each([
    ['Connection to 10.0.0.12:5432 timed out after 30.5s (attempt 3)', 'Connection to <ip> timed out after <duration> (attempt <n>)'],
    ['Run scheduled__2026-11-28T02:00:00+00:00 failed at 02:04:10', 'Run scheduled__<date> failed at <time>'],
    ['job 550e8400-e29b-41d4-a716-446655440000 lost', 'job <uuid> lost'],
    ['user bob.smith@example.com got https://api.example.com/v1/x?id=42 in 300ms', 'user <email> got <url> in <duration>'],
    ['ptr 0xdeadbeef sha 3fa85f6457174562 word deadbeefcafe', 'ptr <hex> sha <hex> word deadbeefcafe'],
    // a letter and digits is a name; digits after `_` or `-` are a number
    ['s3 ec2 utf8 orders_20261128 worker-17', 's3 ec2 utf8 orders_<n> worker-<n>'],
    ['peer [2001:db8::1]:443 and fe80::1 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'peer <ip> and <ip> and <ip>'],
    ['on 28/11/2026, Nov 28, 2026, 28 Nov 2026 and 2026/11/28', 'on <date>, <date>, <date> and <date>'],
    ['waited 5 minutes, then 1h30m', 'waited <duration>, then <duration>'],
    // first two non-empty lines, whitespace collapsed; no pattern spans the two lines
    ['\n\n  first   line 1\n\n second   2\nthird 3', 'first line <n> second <n>'],
  ])('%j → %j', (message, normalized) => {
    expect(normalizeMessage(message)).toBe(normalized);
  });
});

describe('fingerprintOf: the same error', () => {
  it.each([
    ['different ids', 'Task 550e8400-e29b-41d4-a716-446655440000 failed: row 17 missing', 'Task 9b2f4a10-1c3d-4e5f-8a9b-0c1d2e3f4a5b failed: row 90210 missing'],
    ['different timestamps', 'deadline 2026-11-28T02:00:00Z passed at 02:04:10', 'deadline 2026-11-29T02:00:00.123+01:00 passed at 03:14:59'],
    ['different IPs and ports', 'could not connect to 10.0.0.12:5432', 'could not connect to 192.168.1.7:6432'],
    ['different durations', 'query timed out after 30.5s', 'query timed out after 300ms'],
    ['different numbers', 'expected 100 rows, got 97', 'expected 2500 rows, got 0'],
    ['different URLs', 'GET https://api.example.com/v1/orders?page=3 returned 503', 'GET https://api.example.com/v1/orders?page=4 returned 502'],
    ['different e-mails', 'mail to alice@example.com bounced', 'mail to bob.jones@corp.example.org bounced'],
    ['different hex ids', 'object 0x7f3a2b1c freed twice', 'object 0x55d0c0ffee freed twice'],
    ['a different third line', 'Task failed\nwith code 1\nat line 42 of foo.py', 'Task failed\nwith code 1\nat line 97 of bar.py'],
  ])('%s', (_case, a, b) => {
    expect(fp(ev(a))).toBe(fp(ev(b)));
  });
});

describe('fingerprintOf: different errors', () => {
  it.each([
    ['another type', ev('query timed out'), ev('query timed out', { type: 'OperationalError' })],
    ['another task', ev('query timed out'), ev('query timed out', { task: 'load_customers' })],
    ['another service', ev('query timed out'), ev('query timed out', { service: 'etl_hourly' })],
    ['another source', ev('query timed out'), ev('query timed out', { source: 'dagster' })],
    ['other wording', ev('query timed out'), ev('connection refused')],
    ['the second line differs', ev('Task failed\nwith code 1'), ev('Task failed\nout of memory')],
    // framed fields: moving text from one field to the next is another error
    ['text moved between type and message', ev('b c', { type: 'a' }), ev('c', { type: 'a b' })],
    ['text moved between service and task', ev('m', { service: 'etl', task: 'load' }), ev('m', { service: 'etlload', task: '' })],
  ])('%s', (_case, a, b) => {
    expect(fp(a)).not.toBe(fp(b));
  });

  it('is 16 hex digits and says no rule by default', () => {
    const r = fingerprintOf(ev('x'));
    expect(r.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(r.rule).toBeUndefined();
  });
});

describe('fingerprint rules', () => {
  const doc = {
    fingerprints: [
      // every database timeout of every service is one error
      { name: 'db-timeouts', match: { type: '*Timeout*', message: 'connection to .* timed out' }, fingerprint: ['db-timeout'] },
      // per table for the loaders
      { name: 'loaders', match: { task: 'load_?*' }, fingerprint: ['{{ type }}', '{{ tags.table }}', '{{ normalized }}'] },
      // never reached for a loader timeout: the first rule that matches wins
      { name: 'all-timeouts', match: { type: '*Timeout*' }, fingerprint: ['timeout', '{{ service }}'] },
    ],
  };
  const rs = rules(doc);

  it.each([
    // the first rule: services merged
    ['connection to 10.0.0.1 timed out', {}, 'db-timeouts'],
    // the second: a loader, not a connection timeout
    ['query timed out', {}, 'loaders'],
    // the third: not a loader task
    ['query timed out', { task: 'transform' }, 'all-timeouts'],
    // none: not a timeout, not a loader
    ['boom', { type: 'ValueError', task: 'transform' }, undefined],
  ])('%j (%j) is decided by rule %j', (message, patch, rule) => {
    expect(fingerprintOf(ev(message, patch), rs).rule).toBe(rule);
  });

  it('merges what its fingerprint leaves out, and splits by what it names', () => {
    expect(fp(ev('connection to 10.0.0.1 timed out', { service: 'a' }), rs)).toBe(fp(ev('connection to 10.9.9.9 timed out', { service: 'b', task: 'x' }), rs));
    expect(fp(ev('query timed out', { tags: { table: 'orders' } }), rs)).not.toBe(fp(ev('query timed out', { tags: { table: 'customers' } }), rs));
    // an absent tag is not an empty one
    expect(fp(ev('query timed out', { tags: {} }), rs)).not.toBe(fp(ev('query timed out', { tags: { table: '' } }), rs));
  });

  it('never equals a default fingerprint, whatever the parts', () => {
    const e = ev('m', { type: 'T' });
    const imitation = rules({ fingerprints: [{ name: 'x', match: { type: '*' }, fingerprint: ['T', 'm', 'airflow', 'etl_daily', 'load_orders'] }] });
    expect(fp(e, imitation)).not.toBe(fp(e));
  });

  it('globs are anchored and know only * and ?', () => {
    const r = rules({ fingerprints: [{ name: 'g', match: { service: 'etl.[a]?' }, fingerprint: ['x'] }] });
    expect(fingerprintOf(ev('m', { service: 'etl.[a]1' }), r).rule).toBe('g');
    expect(fingerprintOf(ev('m', { service: 'etl.a1' }), r).rule).toBeUndefined();
    expect(fingerprintOf(ev('m', { service: 'my_etl.[a]1' }), r).rule).toBeUndefined();
  });

  it.each([
    [{}, ['fingerprints: Invalid input: expected array, received undefined']],
    [{ fingerprints: [{ name: 'a b', match: { type: 'x' }, fingerprint: ['x'] }] }, ['fingerprints[0].name: expected a name ([a-zA-Z_][a-zA-Z0-9_.:-]*, at most 128 characters)']],
    [{ fingerprints: [{ name: 'a', match: {}, fingerprint: ['x'] }] }, ['fingerprints[0].match: expected at least one of type, message, source, service, task']],
    [{ fingerprints: [{ name: 'a', match: { typo: 'x' }, fingerprint: ['x'] }] }, expect.arrayContaining([expect.stringMatching(/^fingerprints\[0\]\.match: Unrecognized key: "typo"/)])],
    [{ fingerprints: [{ name: 'a', match: { type: 'x' }, fingerprint: [] }] }, [expect.stringMatching(/^fingerprints\[0\]\.fingerprint: /)]],
    // lookahead: not RE2, which is what keeps matching linear
    [{ fingerprints: [{ name: 'a', match: { message: '(?=x)' }, fingerprint: ['x'] }] }, [expect.stringMatching(/^fingerprints\[0\]\.match\.message: invalid regular expression \(RE2 syntax\): /)]],
    [{ fingerprints: [{ name: 'a', match: { type: 'x' }, fingerprint: ['{{ dag }}'] }] }, ['fingerprints[0].fingerprint[0]: unknown variable {{ dag }} (variables: type, normalized, message, source, service, task, tags.<name>)']],
    [{ fingerprints: [{ name: 'a', match: { type: 'x' }, fingerprint: ['x'] }, { name: 'a', match: { type: 'y' }, fingerprint: ['y'] }] }, ['fingerprints[1].name: duplicate name a']],
  ])('refuses %j naming the field', (d, errors) => {
    expect(parseFingerprintRules(d)).toEqual({ ok: false, errors });
  });
});

describe('hostile messages', () => {
  /** Least time of a few runs of normalizeMessage on `m` (ms). */
  function cost(m: string): number {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      normalizeMessage(m);
      best = Math.min(best, performance.now() - t);
    }
    return best;
  }

  it.each([
    // word starts everywhere, each able to begin a URL or an e-mail that never completes
    ['a.'.repeat(4096)],
    // one long run of hex digits with no boundary at its end
    [`${'a1'.repeat(4095)}zz`],
    // digits and dots: IPs, dates, versions that never complete
    ['1.'.repeat(4096)],
    // colons: IPv6 and times that never complete
    ['1:'.repeat(4096)],
    // an e-mail's local part that never meets its @
    ['a'.repeat(8192)],
  ])('costs about as much as a plain message of the same length (%#)', (bad) => {
    const plain = 'lorem ipsum '.repeat(Math.ceil(bad.length / 12)).slice(0, bad.length);
    cost(plain); // warm up
    // The scanner is linear, so the ratio stays within a constant; a quadratic pattern on 8 KB would
    // be hundreds of times slower. A same-run ratio, never a wall-clock threshold; the plain
    // message's cost is floored at 0.2 ms because the single-pass normaliser reads 8 KB of plain
    // words in well under that, where a timer's noise would decide the ratio (measured: 0.1 to 2 ms
    // for these on a busy machine, so at most ~10 times the floor).
    expect(cost(bad) / Math.max(cost(plain), 0.2)).toBeLessThan(50);
  });

  it('reads only the first two lines of a huge message', () => {
    const huge = `a\nb\n${'x '.repeat(2_000_000)}`;
    expect(normalizeMessage(huge)).toBe('a b');
  });
});

describe('hand-written token matches equal their patterns', () => {
  const alphabet = [...'0123456789abcdefxmshnuµ.,:-/@+[]%_ABCDEFMS', '://', 'secs', 'min', 'hrs'];
  const token = fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 14 }).map((parts) => parts.join(''));
  const samples = ['10.0.3.17', '10.0.3.17:5432', '1.2.3', '12:30', '2:05:07.123', '1h30m', '12.5s', '300ms', '5mins', '7f3a9c2e-1b44-4e1a-9f00-3c2d1e0a9b77', 's3://b/k', 'https://x.y/z?q=1', '-12', '1,234.5', '+3'];
  it.each(TOKEN_EXACT.flatMap((exact, i) => (exact ? [[i, exact] as const] : [])))('pattern %i', (i, exact) => {
    for (const t of samples) expect(exact(t), t).toBe(TOKEN_REGEXES[i]!.matches(t));
    fc.assert(
      fc.property(token, (t) => exact(t) === TOKEN_REGEXES[i]!.matches(t)),
      { numRuns: 3000 },
    );
  });
});
