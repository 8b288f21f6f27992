/**
 * Signature verification of inbound requests (shared/core/interact/verify.ts): Slack's `v0`
 * signature with its official test vector, the replay window both ways, missing headers, wrong
 * secrets and versions; PagerDuty's `v1` signatures (any of several), timing-safe comparison of
 * unequal lengths; the body bound.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_INTERACTION_BODY_BYTES,
  REPLAY_WINDOW_SECONDS,
  pagerDutySignature,
  replayKey,
  signaturesEqual,
  slackSignature,
  verifyPagerDutyWebhook,
  verifySlackRequest,
  type InteractionRefusal,
} from '../../shared/core/interact/verify.ts';

// Slack's published example (https://api.slack.com/authentication/verifying-requests-from-slack).
const VECTOR = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
/** The vector's own time: the injected clock stands at its timestamp. */
const VECTOR_NOW_MS = Number(VECTOR.timestamp) * 1000;

const SECRET = 'local-test-signing-secret';
const NOW_MS = 1_800_000_000_000;
const NOW_S = String(NOW_MS / 1000);
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
const signed = (ts: string, body = BODY, secret = SECRET) => ({ signature: slackSignature(secret, ts, body), timestamp: ts, body: Buffer.from(body) });

describe('Slack request signatures', () => {
  it('computes the official test vector', () => {
    expect(slackSignature(VECTOR.secret, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it.each<[string, Parameters<typeof verifySlackRequest>[0], string | undefined, number, true | InteractionRefusal]>([
    // The official vector, verified at its own time.
    ['the official vector at its own time', { signature: VECTOR.signature, timestamp: VECTOR.timestamp, body: Buffer.from(VECTOR.body) }, VECTOR.secret, VECTOR_NOW_MS, true],
    // The same vector today: far outside the window.
    ['the official vector, years later', { signature: VECTOR.signature, timestamp: VECTOR.timestamp, body: Buffer.from(VECTOR.body) }, VECTOR.secret, NOW_MS, 'stale'],
    // A freshly signed request.
    ['valid, now', signed(NOW_S), SECRET, NOW_MS, true],
    // Signed with another secret (a forgery).
    ['wrong secret', signed(NOW_S, BODY, 'another-secret'), SECRET, NOW_MS, 'bad-signature'],
    // One byte of the body changed after signing.
    ['body changed', { ...signed(NOW_S), body: Buffer.from(`${BODY}x`) }, SECRET, NOW_MS, 'bad-signature'],
    // The signature is for another timestamp than the header says.
    ['timestamp changed', { ...signed(NOW_S), timestamp: String(NOW_MS / 1000 - 1) }, SECRET, NOW_MS, 'bad-signature'],
    // Exactly at the edge of the window: still accepted.
    ['5 minutes old', signed(String(NOW_MS / 1000 - REPLAY_WINDOW_SECONDS)), SECRET, NOW_MS, true],
    // One second past it.
    ['5 minutes and 1 s old', signed(String(NOW_MS / 1000 - REPLAY_WINDOW_SECONDS - 1)), SECRET, NOW_MS, 'stale'],
    // Ahead of us by more than the window (forged timestamp, or a clock far off).
    ['6 minutes ahead', signed(String(NOW_MS / 1000 + 360)), SECRET, NOW_MS, 'future'],
    // No signature header.
    ['no signature', { signature: undefined, timestamp: NOW_S, body: Buffer.from(BODY) }, SECRET, NOW_MS, 'missing-headers'],
    // No timestamp header.
    ['no timestamp', { signature: 'v0=00', timestamp: undefined, body: Buffer.from(BODY) }, SECRET, NOW_MS, 'missing-headers'],
    // An empty body.
    ['empty body', { signature: 'v0=00', timestamp: NOW_S, body: Buffer.alloc(0) }, SECRET, NOW_MS, 'missing-headers'],
    // A timestamp that is not seconds.
    ['timestamp not a number', { signature: 'v0=00', timestamp: '12e9', body: Buffer.from(BODY) }, SECRET, NOW_MS, 'bad-timestamp'],
    // Another scheme than v0 (the hex is right for v0, the version is not).
    ['v1 instead of v0', { ...signed(NOW_S), signature: signed(NOW_S).signature.replace(/^v0=/, 'v1=') }, SECRET, NOW_MS, 'bad-version'],
    // Truncated signature: unequal length, a mismatch without comparing.
    ['truncated signature', { ...signed(NOW_S), signature: signed(NOW_S).signature.slice(0, 20) }, SECRET, NOW_MS, 'bad-signature'],
    // No signing secret configured: everything is refused.
    ['no secret configured', signed(NOW_S), undefined, NOW_MS, 'no-secret'],
    // Over the body bound: refused before hashing.
    ['body too large', { ...signed(NOW_S), body: Buffer.alloc(MAX_INTERACTION_BODY_BYTES + 1, 'a') }, SECRET, NOW_MS, 'too-large'],
  ])('%s', (_name, req, secret, now, expected) => {
    const v = verifySlackRequest(req, secret, now);
    expect(v.ok ? true : v.reason).toBe(expected);
  });
});

describe('PagerDuty webhook signatures', () => {
  const body = Buffer.from('{"event":{"id":"01","event_type":"incident.acknowledged"}}');
  const good = pagerDutySignature(SECRET, body);
  const other = pagerDutySignature('old-secret', body);

  it.each<[string, string | undefined, Buffer, string | undefined, true | InteractionRefusal]>([
    // One signature, right.
    ['one valid v1', good, body, SECRET, true],
    // Two during a rotation: the old one first, ours second: any match is enough.
    ['valid among several', `${other},${good}`, body, SECRET, true],
    // Spaces after the comma.
    ['valid among several, with spaces', `${other}, ${good}`, body, SECRET, true],
    // None matches.
    ['only others', `${other},v1=${'0'.repeat(64)}`, body, SECRET, 'bad-signature'],
    // Right hex, unknown scheme.
    ['v2 only', good.replace('v1=', 'v2='), body, SECRET, 'bad-version'],
    // No header (go-pagerduty: 400).
    ['no header', undefined, body, SECRET, 'missing-headers'],
    // No body.
    ['no body', good, Buffer.alloc(0), SECRET, 'missing-headers'],
    // The body changed.
    ['body changed', good, Buffer.from(`${body.toString()} `), SECRET, 'bad-signature'],
    // No secret configured.
    ['no secret', good, body, undefined, 'no-secret'],
  ])('%s', (_name, signature, b, secret, expected) => {
    const v = verifyPagerDutyWebhook({ signature, body: b }, secret);
    expect(v.ok ? true : v.reason).toBe(expected);
  });
});

describe('comparison and replay keys', () => {
  it.each([
    // Equal.
    ['v0=abc', 'v0=abc', true],
    // Same length, one byte off.
    ['v0=abc', 'v0=abd', false],
    // Different lengths never throw (timingSafeEqual would).
    ['v0=abc', 'v0=abcd', false],
    ['v0=abc', '', false],
  ])('signaturesEqual(%j, %j) = %s', (a, b, expected) => {
    expect(signaturesEqual(a, b)).toBe(expected);
  });

  it('keys a request by source and a hash of its identity, bounded and free of the request', () => {
    const k = replayKey('slack', 'v0=secret-looking-signature');
    expect(k).toMatch(/^replay#slack#[0-9a-f]{64}$/);
    expect(replayKey('pagerduty', 'v0=secret-looking-signature')).not.toBe(k);
  });
});
