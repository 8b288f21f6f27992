/**
 * Standard Webhooks signing, checked against an independent implementation: the scheme's own
 * JavaScript library (`standardwebhooks`, a devDependency used only here and by the local
 * webhook receiver's tests), and the other way round.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signStandardWebhook, verifyStandardWebhook, webhookSecretKey, WebhookSecretError } from '../../shared/core/webhook/standard-webhooks.ts';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const body = JSON.stringify({ version: '4', status: 'firing', alerts: [{ labels: { alertname: 'Ünïcode ✓' } }] });
const nowMs = 1_764_400_000_000;

describe('Standard Webhooks signing', () => {
  it('is verified by the standardwebhooks library', () => {
    const headers = signStandardWebhook({ id: 'msg_2b3c', body, nowMs: Date.now(), secrets: [secret] });
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('with two secrets (rotation), is verified by either', () => {
    const old = `whsec_${randomBytes(24).toString('base64')}`;
    const headers = signStandardWebhook({ id: 'msg_rot', body, nowMs: Date.now(), secrets: [secret, old] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(old).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers })).not.toThrow();
  });

  it('verifies what the standardwebhooks library signs', () => {
    const sig = new Webhook(secret).sign('msg_lib', new Date(nowMs), body);
    const headers = { 'webhook-id': 'msg_lib', 'webhook-timestamp': String(nowMs / 1000), 'webhook-signature': sig };
    expect(verifyStandardWebhook(headers, body, secret, nowMs)).toEqual({ ok: true, id: 'msg_lib' });
  });

  it.each([
    // a changed body
    ['bad-signature', { body: `${body} ` }],
    // a different secret
    ['bad-signature', { secret: `whsec_${randomBytes(32).toString('base64')}` }],
    // six minutes old
    ['stale', { at: nowMs + 6 * 60_000 }],
    // six minutes ahead
    ['future', { at: nowMs - 6 * 60_000 }],
    // no signature header
    ['missing-headers', { drop: 'webhook-signature' }],
    // a timestamp that is not seconds
    ['bad-timestamp', { ts: '2026-11-30T00:00:00Z' }],
  ] as const)('refuses: %s (%o)', (reason, change: { body?: string; secret?: string; at?: number; drop?: string; ts?: string }) => {
    const headers: Record<string, string> = { ...signStandardWebhook({ id: 'msg_1', body, nowMs, secrets: [secret] }) };
    if (change.drop) delete headers[change.drop];
    if (change.ts) headers['webhook-timestamp'] = change.ts;
    expect(verifyStandardWebhook(headers, change.body ?? body, change.secret ?? secret, change.at ?? nowMs)).toEqual({ ok: false, reason });
  });

  it.each([
    // not base64
    ['whsec_not base64!'],
    // 8 bytes: too short for the scheme
    [`whsec_${randomBytes(8).toString('base64')}`],
    // 100 bytes: too long
    [`whsec_${randomBytes(100).toString('base64')}`],
  ])('refuses the secret %s with a reason', (s) => {
    expect(() => webhookSecretKey(s)).toThrow(WebhookSecretError);
  });

  it('refuses an id with a dot (it would make the signed content ambiguous)', () => {
    expect(() => signStandardWebhook({ id: 'a.b', body, nowMs, secrets: [secret] })).toThrow(/no spaces or dots/);
  });
});
