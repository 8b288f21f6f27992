import { describe, expect, it } from 'vitest';
import { classifyTransportError, classifyUnsentRequest } from '../../shared/core/deliver/classify.ts';
import { redactSecrets } from '../../shared/core/deliver/redact.ts';
import { createSlackNotifier } from '../../shared/adapters/slack/index.ts';
import type { SecretSource } from '../../shared/adapters/secrets/index.ts';
import { job } from '../integration/deliver-fixtures.ts';

describe('redactSecrets', () => {
  it.each([
    // userinfo (user:password) in a webhook URL
    ['https://user:pass@hooks.example/in/abc', 'https://***@hooks.example/in/abc'],
    // a user name alone is a credential too (basic auth with an empty password, or a token as user)
    ['POST http://tok3n@relay.example:8080/x failed', 'POST http://***@relay.example:8080/x failed'],
    // query-string secrets, whatever the case and wherever in the query
    ['https://h.example/x?token=abc&env=prod', 'https://h.example/x?token=***&env=prod'],
    ['https://h.example/x?env=prod&API_KEY=abc#top', 'https://h.example/x?env=prod&API_KEY=***#top'],
    ['https://b.s3.amazonaws.com/o?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=f00d', 'https://b.s3.amazonaws.com/o?X-Amz-Credential=***&X-Amz-Signature=***'],
    ['https://h.example/cb?sig=zz;access_token=yy', 'https://h.example/cb?sig=***;access_token=***'],
    // a Slack webhook URL is a secret as a whole: everything after the host goes
    ['webhook https://hooks.slack.com/services/T000/B000/XXXXXXXX refused', 'webhook https://hooks.slack.com/*** refused'],
    ['https://hooks.slack.com/workflows/T1/A2/3/abc', 'https://hooks.slack.com/***'],
    // Slack tokens and bearer credentials
    ['token xoxb-123-456-abcDEF leaked', 'token xoxb-*** leaked'],
    ['authorization: Bearer abc.def.ghi', 'authorization: Bearer ***'],
    // both at once: userinfo and a secret parameter
    ['https://u:p@h.example/x?key=1', 'https://***@h.example/x?key=***'],
    // nothing secret: unchanged (an email address is not userinfo; harmless parameters stay)
    ['mail to oncall@example.com failed', 'mail to oncall@example.com failed'],
    ['https://grafana.example.com/d/cpu?orgId=1&from=now-1h', 'https://grafana.example.com/d/cpu?orgId=1&from=now-1h'],
    ['slack 404 channel_not_found', 'slack 404 channel_not_found'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });
});

describe('failure details are redacted where they are built', () => {
  it.each([
    // classified transport failure quoting the URL it was given
    ['transport', () => classifyTransportError({ name: 'Error', message: 'connect ECONNREFUSED https://u:secret@h.example/x' }).detail],
    // a request fetch refused to build
    ['unsent', () => classifyUnsentRequest('Request cannot be constructed from a URL that includes credentials: https://u:secret@h.example/x').detail],
  ])('%s', (_name, detail) => {
    const d = detail();
    expect(d).not.toContain('secret');
    expect(d).toContain('***@h.example');
  });

  it('a Slack webhook URL with credentials is a permanent configuration error, never sent and never quoted', async () => {
    // In-memory stand-in for Secrets Manager; the fetch is Node's real one (it refuses the URL before any connection).
    const secrets: SecretSource = { getJson: async () => ({ webhooks: { ops: 'https://user:hunter2@hooks.example/services/T1/B2/C3' } }) };
    const notifier = createSlackNotifier({ secrets, secretName: 'klaxon/slack', threads: { get: async () => undefined, set: async () => {} }, format: { productName: 'Klaxon' } });
    const j = job('slack');
    const r = await notifier.send(j, notifier.render(j), 0);
    expect(r).toMatchObject({ ok: false, retryable: false, reason: 'client' });
    expect(!r.ok && r.detail).toMatch(/^request not sent: Request cannot be constructed from a URL that includes credentials: https:\/\/\*\*\*@hooks\.example/);
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });
});
