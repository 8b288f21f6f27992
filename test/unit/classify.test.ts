import { describe, expect, it } from 'vitest';
import {
  classifyPagerDuty,
  classifySesError,
  classifySlackApi,
  classifySlackWebhook,
  classifyTransportError,
  parseRetryAfter,
} from '../../shared/core/deliver/classify.ts';
import { backoffMs, decideAfterSend, decideClaim, decideGate, holdDelayMs, DEFAULT_RETRY_CONFIG as rc, SQS_MAX_VISIBILITY_MS } from '../../shared/core/deliver/decide.ts';
import { parseNotificationJob } from '../../shared/core/deliver/job.ts';
import { job } from '../integration/deliver-fixtures.ts';

const NOW = 1_700_000_000_000;

describe('classify', () => {
  it.each([
    // [description, status, body, retryable, reason]
    ['200 ok is success', 200, 'ok', undefined, undefined],
    ['400 invalid_payload is our bug: permanent', 400, 'invalid_payload', false, 'client'],
    ['404 no_service is a revoked webhook: permanent auth', 404, 'no_service', false, 'auth'],
    ['404 channel_not_found: permanent', 404, 'channel_not_found', false, 'client'],
    ['403 invalid_token: permanent auth', 403, 'invalid_token', false, 'auth'],
    ['410 channel_is_archived: permanent', 410, 'channel_is_archived', false, 'client'],
    ['500 rollup_error: retry', 500, 'rollup_error', true, 'server'],
    ['429 rate limited: retry', 429, 'rate_limited', true, 'rate-limited'],
    ['503 with an empty body: retry', 503, '', true, 'server'],
  ])('Slack webhook: %s', (_d, status, body, retryable, reason) => {
    const r = classifySlackWebhook(status, body, status === 429 ? 30_000 : undefined);
    if (retryable === undefined) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, retryable, reason });
    if (status === 429) expect(r).toMatchObject({ retryAfterMs: 30_000 });
  });

  it.each([
    // [description, http status, body, retryable, reason]
    ['ok:true is success', 200, { ok: true, ts: '1.2' }, undefined, undefined],
    ['HTTP 200 ok:false channel_not_found is permanent', 200, { ok: false, error: 'channel_not_found' }, false, 'client'],
    ['HTTP 200 ok:false invalid_auth is permanent auth', 200, { ok: false, error: 'invalid_auth' }, false, 'auth'],
    ['HTTP 200 ok:false ratelimited is retryable', 200, { ok: false, error: 'ratelimited' }, true, 'rate-limited'],
    ['HTTP 200 ok:false internal_error is retryable', 200, { ok: false, error: 'internal_error' }, true, 'server'],
    ['HTTP 429 is retryable', 429, undefined, true, 'rate-limited'],
    ['HTTP 502 is retryable', 502, undefined, true, 'server'],
  ])('Slack Web API: %s', (_d, status, body, retryable, reason) => {
    const r = classifySlackApi(status, body);
    if (retryable === undefined) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, retryable, reason });
  });

  it.each([
    // [description, status, retryable, reason]
    ['202 accepted', 202, undefined, undefined],
    ['400 invalid event: permanent', 400, false, 'client'],
    ['429 throttled: retry', 429, true, 'rate-limited'],
    ['500: retry', 500, true, 'server'],
    ['503: retry', 503, true, 'server'],
  ])('PagerDuty: %s', (_d, status, retryable, reason) => {
    const r = classifyPagerDuty(status, status === 400 ? { status: 'invalid event', message: 'Event object is invalid', errors: ['bad key'] } : undefined);
    if (retryable === undefined) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, retryable, reason });
    if (status === 400 && !r.ok) expect(r.detail).toContain('bad key');
  });

  it.each([
    // [description, name, message, status, retryable, reason]
    ['MessageRejected is permanent', 'MessageRejected', 'Email address is not verified.', 400, false, 'client'],
    ['MailFromDomainNotVerifiedException is permanent', 'MailFromDomainNotVerifiedException', 'x', 400, false, 'client'],
    ['account sending paused is permanent', 'AccountSendingPausedException', 'x', 400, false, 'client'],
    ['rate throttling is retryable', 'Throttling', 'Maximum sending rate exceeded.', 400, true, 'rate-limited'],
    ['daily quota throttling waits an hour', 'Throttling', 'Daily message quota exceeded.', 400, true, 'rate-limited'],
    ['InternalFailure is retryable', 'InternalFailure', 'x', 500, true, 'server'],
    ['AccessDenied is permanent auth', 'AccessDenied', 'x', 403, false, 'auth'],
    ['a refused connection is retryable', 'Error', 'connect ECONNREFUSED 127.0.0.1:1', undefined, true, 'network'],
  ])('SES: %s', (_d, name, message, httpStatus, retryable, reason) => {
    const r = classifySesError({ name, message, ...(httpStatus !== undefined ? { httpStatus } : {}) });
    expect(r).toMatchObject({ ok: false, retryable, reason });
    if (/Daily/.test(message)) expect(r.retryAfterMs).toBe(3_600_000);
  });

  it('classifies a timeout apart from other network errors', () => {
    expect(classifyTransportError({ name: 'TimeoutError', message: 'The operation was aborted due to timeout' }).reason).toBe('timeout');
    expect(classifyTransportError({ name: 'TypeError', message: 'ECONNRESET' }).reason).toBe('network');
  });

  it.each([
    // [header, expected ms]
    ['30', 30_000],
    ['0', 0],
    [new Date(NOW + 5_000).toUTCString(), 5_000],
    ['soon', undefined],
    [null, undefined],
  ])('parses Retry-After %s', (h, ms) => {
    expect(parseRetryAfter(h, NOW)).toBe(ms);
  });
});

describe('deliver decisions', () => {
  it('skips a job that was already sent (a redelivered job notifies once)', () => {
    expect(decideClaim({ kind: 'already-sent' })).toEqual({ action: 'skip-duplicate' });
    expect(decideClaim({ kind: 'claimed' })).toBeNull();
  });

  it.each([
    // [description, gate, held until, expected action]
    ['sends through a closed breaker', { allow: true, probe: false } as const, undefined, 'send'],
    ['holds while the breaker is open', { allow: false, retryAtMs: NOW + 60_000, why: 'open' } as const, undefined, 'hold'],
    ['holds the destination after a Retry-After in the same batch', { allow: true, probe: false } as const, NOW + 10_000, 'hold'],
    ['a Retry-After that has passed does not hold', { allow: true, probe: false } as const, NOW - 1, 'send'],
  ])('gate: %s', (_d, g, held, action) => {
    expect(decideGate(g, held, NOW).action).toBe(action);
  });

  it('dead-letters permanent failures and retries retryable ones', () => {
    expect(decideAfterSend({ ok: false, retryable: false, reason: 'client', detail: 'x' }, NOW, 1, rc).action).toBe('dead-letter');
    expect(decideAfterSend({ ok: false, retryable: true, reason: 'server', detail: 'x' }, NOW, 1, rc)).toMatchObject({ action: 'retry', delayMs: 30_000 });
  });

  it('honours Retry-After exactly on the first receive, capped at SQS’s 12 hours', () => {
    expect(decideAfterSend({ ok: false, retryable: true, reason: 'rate-limited', retryAfterMs: 120_000, detail: '' }, NOW, 1, rc)).toMatchObject({ delayMs: 120_000 });
    expect(decideAfterSend({ ok: false, retryable: true, reason: 'rate-limited', retryAfterMs: 48 * 3_600_000, detail: '' }, NOW, 1, rc)).toMatchObject({ delayMs: SQS_MAX_VISIBILITY_MS });
  });

  it('backs off by receive count so receives do not run out during a long outage', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 9].map((n) => backoffMs(n, rc) / 1000)).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    // The first hold waits only until the breaker reopens; later ones back off further.
    expect(holdDelayMs(NOW + 60_000, NOW, 1, rc)).toBe(60_000);
    expect(holdDelayMs(NOW + 60_000, NOW, 6, rc)).toBe(480_000);
  });

  it('parses a job and rejects a malformed one with the reason', () => {
    const j = job('slack');
    expect(parseNotificationJob(JSON.stringify(j))).toEqual({ ok: true, job: j });
    const bad = parseNotificationJob(JSON.stringify({ ...j, destinationId: 42 }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toContain('destinationId');
    expect(parseNotificationJob('{nope')).toEqual({ ok: false, reason: 'message body is not JSON' });
  });
});
