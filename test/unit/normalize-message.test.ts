/**
 * The message normaliser's hand-written scanner against the implementation it replaced
 * (test/support/normalize-reference.ts: split on whitespace, token patterns on re2js): the same
 * output, character for character, on random and adversarial messages. Fingerprints are alert
 * identities: a normalised text that changed would split open alerts in two. Also: each token
 * scanner accepts exactly its pattern's language (RE2 case folding included), and fingerprint
 * values are those computed before the change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { fingerprintOf, normalizeMessage, parseFingerprintRules, TOKEN_EXACT, TOKEN_REGEXES } from '../../shared/core/events/fingerprint.ts';
import type { ErrorEvent } from '../../shared/core/events/types.ts';
import { eventLine } from '../../bench/events.ts';
import { referenceNormalizeMessage } from '../support/normalize-reference.ts';

/** Pieces messages are made of: tokens of every pattern, their near misses, punctuation, case folds, unit words, months. */
const PIECES = [
  ...'0123456789abcdefxmshnuµ.,:-/@+[]%_ABCDEFMSTZtz()<>"\'`=;!?|{}#*&~^$',
  'ſ', // folds to s in RE2
  'K', // the Kelvin sign, folds to k in RE2
  'İ', // lower-cases to two code units
  'Μ', // Greek capital mu: lower-cases to μ, not µ
  '://', '::', '0x', 'secs', 'min', 'minutes', 'ms', 'hrs', 'Nov', 'jan', 'ſep', 'Day', 'aug', 'T02', '+00:00', 'Z',
  '2026', '10', '5', '.5', '1.2.3.4', '<n>', '<n>,', 'row-', 'e29b', '-41d4-', 'fe80', 'x@y.io', 's3',
  ' ', ' ', ' ', '\t', '\n', '\r', '\r\n', '\v', '\f', '\u00a0', '\u1680', '\u2003', '\u2028', '\u202f', '\u3000', '\ufeff', '\u200b', '\u180e', '\u0085',
  '😀', '\ud800', '\udc00',
];
const message = fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((p) => p.join(''));

/** Messages of real shape: the bench's, the fingerprint tests', and hostile ones. */
const EXAMPLES = [
  ...Array.from({ length: 14 }, (_, i) => (JSON.parse(eventLine(i)) as { error: { message: string } }).error.message),
  'Connection to 10.0.0.12:5432 timed out after 30.5s (attempt 3)',
  'Run scheduled__2026-11-28T02:00:00+00:00 failed at 02:04:10',
  'user bob.smith@example.com got https://api.example.com/v1/x?id=42 in 300ms',
  'ptr 0xdeadbeef sha 3fa85f6457174562 word deadbeefcafe',
  'peer [2001:db8::1]:443 and fe80::1%eth0 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334',
  'on 28/11/2026, Nov 28, 2026, 28 Nov 2026 and 2026/11/28, 28-Nov-2026, 28-ſep-2026',
  'waited 5 minutes, then 1h30m; 5 Ms. 5 SECONDS; <n> ms <n>',
  '\n\n  first   line 1\n\n second   2\nthird 3',
  '[abc:def] (::) :: [::1]:8080 ::1%lo0 a::b::c 1:2:3:4:5:6:7:8 1:2:3:4:5:6:7:8:9',
  'mail x@y.z, ſ@example.Kom and a.b@c-d.e.fg (bob@localhost)',
  // IPv6 of hex letters only (no digit): seven colons, or `::`, or brackets
  'dead:beef:cafe:babe:dead:beef:cafe:babe, (a:b:c:d:e:f:a:b) fe::ab [ab:cd] a:b:c:d:e:f:a x:y',
  'a.'.repeat(4096),
  `${'a1'.repeat(4095)}zz`,
  '1:'.repeat(4096),
  `${'word '.repeat(2000)}\nsecond`,
  `${'1 '.repeat(6000)}x`,
  `x${' '.repeat(9000)}y`,
];

describe('normalizeMessage gives what the re2js normaliser gave', () => {
  it.each(EXAMPLES.map((m) => [m.length > 80 ? `${m.slice(0, 80)}…` : m, m]))('%j', (_shown, m) => {
    expect(normalizeMessage(m)).toBe(referenceNormalizeMessage(m));
  });

  it('on messages of tokens, near misses, punctuation and every kind of whitespace', () => {
    fc.assert(
      fc.property(message, (m) => normalizeMessage(m) === referenceNormalizeMessage(m)),
      { numRuns: 20_000 },
    );
  });

  it('on arbitrary text, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (m) => normalizeMessage(m) === referenceNormalizeMessage(m)),
      { numRuns: 2_000 },
    );
  });

  it('splits words where JavaScript sees whitespace, every UTF-16 code unit tried', () => {
    for (let c = 0; c < 0x10000; c++) {
      const m = `1${String.fromCharCode(c)}x`;
      if (normalizeMessage(m) !== referenceNormalizeMessage(m)) expect([c, normalizeMessage(m)]).toEqual([c, referenceNormalizeMessage(m)]);
    }
  });

  it('cuts a line longer than the bound as before (its marker normalised too)', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 8100, max: 8300 }), message, (a, n, b) => {
        const m = `${a}${'x '.repeat(n / 2)}${b}\n${b}`;
        return normalizeMessage(m) === referenceNormalizeMessage(m);
      }),
      { numRuns: 30 },
    );
  });
});

describe('hand-written token scanners, RE2 case folding included', () => {
  // `ſ` and `K` are letters to RE2's case-insensitive [a-z] and \w; the scanners of <email>,
  // <date> and <ip> follow it. <url> and <duration> take ASCII letters only, as they always did
  // (their scanners predate this test): a difference the normalizer keeps, not one it adds.
  const folded = [1, 2, 3, 4, 5, 6, 7, 9];
  const alphabet = [...'0123456789abcdefxmshnuµ.,:-/@+[]%_ABCDEFMSTZtzjnovsepkg', 'ſ', 'K', 'İ', '://', '::', 'secs', 'min', 'hrs', 'jan', 'ſep', 'Nov', 'aug'];
  const token = fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 18 }).map((parts) => parts.join(''));
  const samples = ['bob.smith@example.com', 'a@b.cd', 'x@ſ.Kk', 'a@b.c', '@b.cd', 'a@b..cd', '2026-11-28', '2026-11-28T02:00:00+00:00', '2026-11-28t02:00z', '2026-11-28T02:00:00.123,5', '2026/11/28', '28/11/2026', '1.2.2026', '28-Nov-2026', '28-ſeptember-2026', '28-Nov-26', '[2001:db8::1]:443', '[::1]', '[a.b:c]', 'fe80::1%eth0', '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8%ſ', '1:2:3:4:5:6:7', '1:::2', '12:30', '10.0.3.17:5432'];
  it.each(folded.map((i) => [i]))('pattern %i', (i) => {
    const exact = TOKEN_EXACT[i]!;
    const re = TOKEN_REGEXES[i]!;
    for (const t of samples) expect(exact(t), t).toBe(re.matches(t));
    fc.assert(
      fc.property(token, (t) => exact(t) === re.matches(t)),
      { numRuns: 20_000 },
    );
  });
});

describe('fingerprint values did not change', () => {
  const ev = (type: string, message: string): ErrorEvent => ({ kind: 'error', source: 'airflow', service: 'etl_daily', task: 'load_orders', final: true, tags: { table: 'orders' }, timestampMs: 1_795_300_000_000, error: { type, message } });

  // Pinned when the digest moved to the UTF-8 of the framed fields (the normaliser's output is
  // pinned by the equivalence tests above): a change here changes every error alert's identity.
  it.each([
    ['TimeoutError', 'Connection to 10.0.0.12:5432 timed out after 30.5s (attempt 3)', '6fe5bf9affcf8590'],
    ['ValueError', 'naïve café ☕ 𝒳 id=42 — ünïcödé', '66cc65c6e7992c24'],
    ['MemoryError', '', '1d886a10004cfd46'],
  ])('%s %j → %s', (type, m, fingerprint) => {
    expect(fingerprintOf(ev(type, m)).fingerprint).toBe(fingerprint);
  });

  it('a rule fingerprint (literals, tags present and absent, the normalized message)', () => {
    const r = parseFingerprintRules({ fingerprints: [{ name: 'loaders', match: { task: 'load_*' }, fingerprint: ['{{ type }}', '{{ tags.table }}', '{{ tags.missing }}', '{{ normalized }}', 'lit'] }] });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(fingerprintOf(ev('TimeoutError', 'Connection to 10.0.0.12:5432 timed out after 30.5s (attempt 3)'), r.rules).fingerprint).toBe('6860c11ba829a991');
  });

  it('a lone surrogate (only a \\u escape makes one) is the U+FFFD it becomes anywhere it is stored: the one merge UTF-8 makes', () => {
    expect(fingerprintOf(ev('ValueError', 'bad byte \ud800 here')).fingerprint).toBe(fingerprintOf(ev('ValueError', 'bad byte \ufffd here')).fingerprint);
    expect(fingerprintOf(ev('ValueError', 'bad byte \ud800 here')).fingerprint).not.toBe(fingerprintOf(ev('ValueError', 'bad byte ? here')).fingerprint);
  });

  it('is sha256 over the UTF-8 of the length-framed fields, as createHash computes it', () => {
    const frame = (kind: number, s: string): string => String.fromCharCode(kind, (s.length >>> 22) & 0x7ff, (s.length >>> 11) & 0x7ff, s.length & 0x7ff) + s;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), message, fc.string({ minLength: 1, maxLength: 20 }), (type, m, service) => {
        const e = { ...ev(type, m), service };
        const fields = [frame(0, ''), ...[type, referenceNormalizeMessage(m), e.source, service, e.task].map((v) => frame(2, v))];
        const expected = createHash('sha256').update(fields.join(''), 'utf8').digest('hex').slice(0, 16);
        return fingerprintOf(e).fingerprint === expected;
      }),
      { numRuns: 2_000 },
    );
  });
});
