/**
 * The local receivers answer as the real services do (the vendors' documented answers, cited in local/receivers/):
 * exact success and error bodies and statuses, Retry-After, schedules over HTTP, and, for SES and
 * Secrets Manager, through the real AWS SDK clients.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPagerDutyReceiver, type PagerDutyReceiver } from '../../local/receivers/pagerduty.ts';
import { startSecretsManagerLocal, type SecretsManagerLocal } from '../../local/receivers/secrets-manager.ts';
import { startSesFaultReceiver } from '../../local/receivers/ses-faults.ts';
import { LOCAL_SLACK_BOT_TOKEN, startSlackReceiver, type SlackReceiver } from '../../local/receivers/slack.ts';
import { SecretsManagerSecretSource } from '../../shared/adapters/secrets/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/aws.ts';

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get('retry-after') };
};
const KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';

describe('receivers: slack', () => {
  let slack: SlackReceiver;
  beforeAll(async () => {
    slack = await startSlackReceiver({ channels: ['C1'], brokenWebhooks: { revoked: 'no_service', archived: 'channel_is_archived' }, rateLimit: false });
  });
  afterAll(async () => slack.stop());

  it.each([
    // [description, webhook name, body, status, response body]
    ['accepts a message with 200 ok (plain text, not JSON)', 'ops', { text: 'hi' }, 200, 'ok'],
    ['rejects a body that is not JSON with 400 invalid_payload', 'ops', '{nope', 400, 'invalid_payload'],
    ['rejects a message with nothing to show with 400 no_text', 'ops', { username: 'x' }, 400, 'no_text'],
    ['answers a revoked webhook with 404 no_service', 'revoked', { text: 'hi' }, 404, 'no_service'],
    ['answers an archived channel with 410 channel_is_archived', 'archived', { text: 'hi' }, 410, 'channel_is_archived'],
    ['rejects a header over 150 characters with 400 invalid_blocks', 'ops', { text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }, 400, 'invalid_blocks'],
  ])('webhook %s', async (_d, name, body, status, text) => {
    const r = await post(slack.webhookUrl(name), body);
    expect([r.status, r.text]).toEqual([status, text]);
  });

  it('follows a schedule set over HTTP (fail the next 2 with 429 + Retry-After) and serves what it received', async () => {
    await post(`${slack.url}/_schedule`, { failNext: { count: 2, fault: { status: 429, retryAfterSeconds: 7 } } });
    const a = await post(slack.webhookUrl('ops'), { text: 'a' });
    const b = await post(slack.webhookUrl('ops'), { text: 'b' });
    const c = await post(slack.webhookUrl('ops'), { text: 'c' });
    expect([a.status, a.retryAfter, b.status, c.status, c.text]).toEqual([429, '7', 429, 200, 'ok']);
    const received = (await (await fetch(`${slack.url}/_received`)).json()) as { json: { text: string }; status: number }[];
    expect(received.slice(-3).map((r) => [r.json.text, r.status])).toEqual([
      ['a', 429],
      ['b', 429],
      ['c', 200],
    ]);
  });

  it('answers chat.postMessage with ok/channel/ts/message, checks the bearer token and the channel', async () => {
    const auth = { authorization: `Bearer ${LOCAL_SLACK_BOT_TOKEN}` };
    const ok = JSON.parse((await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'hello' }, auth)).text) as { ok: boolean; channel: string; ts: string; message: { text: string } };
    expect(ok).toMatchObject({ ok: true, channel: 'C1', message: { text: 'hello', ts: ok.ts } });
    expect(ok.ts).toMatch(/^\d+\.\d{6}$/);
    const badAuth = await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'x' }, { authorization: 'Bearer xoxb-wrong' });
    expect([badAuth.status, JSON.parse(badAuth.text)]).toEqual([200, { ok: false, error: 'invalid_auth' }]);
    expect(JSON.parse((await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C404', text: 'x' }, auth)).text)).toEqual({ ok: false, error: 'channel_not_found' });
    const upd = JSON.parse((await post(`${slack.apiUrl}/chat.update`, { channel: 'C1', ts: ok.ts, text: 'edited' }, auth)).text) as { ok: boolean };
    expect(upd.ok).toBe(true);
    expect(slack.messages().get(`C1:${ok.ts}`)?.text).toBe('edited');
    expect(JSON.parse((await post(`${slack.apiUrl}/chat.update`, { channel: 'C1', ts: '1.000000', text: 'x' }, auth)).text)).toEqual({ ok: false, error: 'message_not_found' });
  });

  it('answers Web API rate limits with HTTP 429 + Retry-After and other faults with 200 ok:false', async () => {
    const auth = { authorization: `Bearer ${LOCAL_SLACK_BOT_TOKEN}` };
    slack.setSchedule({ failNext: { count: 1, fault: { status: 429, retryAfterSeconds: 3 } } });
    const r = await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'x' }, auth);
    expect([r.status, r.retryAfter]).toEqual([429, '3']);
    slack.setSchedule({ failNext: { count: 1, fault: { status: 404, code: 'is_archived' } } });
    const f = await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'x' }, auth);
    expect([f.status, JSON.parse(f.text)]).toEqual([200, { ok: false, error: 'is_archived' }]);
    slack.setSchedule({});
  });
});

describe('receivers: pagerduty', () => {
  let pd: PagerDutyReceiver;
  let now = 0;
  beforeAll(async () => {
    pd = await startPagerDutyReceiver({ clock: { now: () => now }, rateLimit: false });
  });
  afterAll(async () => pd.stop());
  const trigger = { routing_key: KEY, event_action: 'trigger', dedup_key: 'fp1', payload: { summary: 's', source: 'web-1', severity: 'critical' } };

  it('accepts a valid event with 202 and PagerDuty’s success body', async () => {
    const r = await post(pd.eventsUrl, trigger);
    expect([r.status, JSON.parse(r.text)]).toEqual([202, { status: 'success', message: 'Event processed', dedup_key: 'fp1' }]);
    expect(pd.incidents().get('fp1')).toBe('triggered');
  });

  it.each([
    // [description, event, expected error fragment]
    ['a routing key that is not 32 characters', { ...trigger, routing_key: 'short' }, "Length of 'routing_key' is incorrect (should be 32 characters)"],
    ['an unknown severity', { ...trigger, payload: { ...trigger.payload, severity: 'high' } }, "'payload.severity' is invalid"],
    ['a summary over 1,024 characters', { ...trigger, payload: { ...trigger.payload, summary: 's'.repeat(1025) } }, "'payload.summary' is longer than 1024"],
    ['a trigger without source', { ...trigger, payload: { summary: 's', severity: 'info' } }, "'payload.source' is missing"],
    ['a resolve without dedup_key', { routing_key: KEY, event_action: 'resolve' }, "'dedup_key' is missing"],
  ])('rejects %s with 400 invalid event', async (_d, ev, fragment) => {
    const r = await post(pd.eventsUrl, ev);
    const body = JSON.parse(r.text) as { status: string; message: string; errors: string[] };
    expect(r.status).toBe(400);
    expect(body).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
    expect(body.errors.join(' ')).toContain(fragment);
  });

  it('fails until a point in (injected) time with 5xx, then succeeds; 429 carries Retry-After when scheduled', async () => {
    pd.setSchedule({ failUntil: { untilMs: 1_000, fault: { status: 503 } } });
    expect((await post(pd.eventsUrl, trigger)).status).toBe(503);
    now = 1_000;
    expect((await post(pd.eventsUrl, trigger)).status).toBe(202);
    pd.setSchedule({ failNext: { count: 1, fault: { status: 429, retryAfterSeconds: 30 } } });
    const r = await post(pd.eventsUrl, trigger);
    expect([r.status, r.retryAfter]).toEqual([429, '30']);
  });

  it('adds configurable latency', async () => {
    pd.setSchedule({ latencyMs: 150 });
    const t = performance.now();
    await post(pd.eventsUrl, trigger);
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    pd.setSchedule({});
  });
});

describe('receivers: the services\' posting limits (injected clock)', () => {
  let now = 1_795_300_000_000;
  const clock = { now: () => now };
  const recs: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const r of recs) await r.stop();
  });

  it('Slack: a burst of 3 per webhook, then 429 rate_limited with Retry-After in whole seconds; one more a second; other webhooks unaffected', async () => {
    const slack = await startSlackReceiver({ clock });
    recs.push(slack);
    const msg = { text: 'hi' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(slack.webhookUrl('ops'), msg)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await post(slack.webhookUrl('ops'), msg);
    expect(limited).toMatchObject({ status: 429, text: 'rate_limited', retryAfter: '1' });
    expect((await post(slack.webhookUrl('other'), msg)).status).toBe(200);
    now += 1000;
    expect((await post(slack.webhookUrl('ops'), msg)).status).toBe(200);
    expect((await post(slack.webhookUrl('ops'), msg)).status).toBe(429);
    expect(slack.rateLimited()).toBe(4);
  });

  it('Slack Web API: one chat.postMessage a second per channel after the burst, as HTTP 429 ratelimited', async () => {
    const slack = await startSlackReceiver({ clock, channels: ['C1', 'C2'] });
    recs.push(slack);
    const auth = { authorization: `Bearer ${LOCAL_SLACK_BOT_TOKEN}` };
    for (let i = 0; i < 3; i++) expect((await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'x' }, auth)).status).toBe(200);
    const r = await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'x' }, auth);
    expect(r).toMatchObject({ status: 429, retryAfter: '1' });
    expect(JSON.parse(r.text)).toEqual({ ok: false, error: 'ratelimited' });
    expect((await post(`${slack.apiUrl}/chat.postMessage`, { channel: 'C2', text: 'x' }, auth)).status).toBe(200);
  });

  it('PagerDuty: 120 events a minute per routing key, then 429 throttle event; two more a second', async () => {
    const pd = await startPagerDutyReceiver({ clock });
    recs.push(pd);
    const ev = { routing_key: KEY, event_action: 'trigger', payload: { summary: 's', source: 'h', severity: 'critical' } };
    let accepted = 0;
    for (let i = 0; i < 125; i++) if ((await post(pd.eventsUrl, ev)).status === 202) accepted++;
    expect(accepted).toBe(120);
    const r = await post(pd.eventsUrl, ev);
    expect(r.status).toBe(429);
    expect(JSON.parse(r.text)).toMatchObject({ status: 'throttle event' });
    expect((await post(pd.eventsUrl, { ...ev, routing_key: 'b'.repeat(32) })).status).toBe(202);
    now += 1000;
    expect((await post(pd.eventsUrl, ev)).status).toBe(202);
    expect((await post(pd.eventsUrl, ev)).status).toBe(202);
    expect((await post(pd.eventsUrl, ev)).status).toBe(429);
  });
});

describe('receivers: SES faults and Secrets Manager through the real SDK', () => {
  it.each([
    // [SES error code, HTTP status the SDK sees]
    ['MessageRejected', 400],
    ['MailFromDomainNotVerifiedException', 400],
    ['Throttling', 400],
    ['InternalFailure', 500],
  ])('SES answers %s as XML that the v1 SDK surfaces by name', async (code, status) => {
    const fake = await startSesFaultReceiver({ alwaysFail: { code } });
    try {
      const ses = new SESClient({ endpoint: fake.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
      const err = (await ses
        .send(new SendEmailCommand({ Source: 'a@example.com', Destination: { ToAddresses: ['b@example.com'] }, Message: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } }))
        .catch((e: unknown) => e)) as { name: string; $metadata: { httpStatusCode: number } };
      expect(err.name).toBe(code);
      expect(err.$metadata.httpStatusCode).toBe(status);
      expect(fake.received()[0]?.json).toMatchObject({ Action: 'SendEmail', 'Message.Subject.Data': 's' });
    } finally {
      await fake.stop();
    }
  });

  it('Secrets Manager returns GetSecretValue and ResourceNotFoundException; the source caches', async () => {
    let sm: SecretsManagerLocal | undefined;
    try {
      sm = await startSecretsManagerLocal({ secrets: { 'klaxon/pagerduty': { ops: KEY } } });
      const client = new SecretsManagerClient({ endpoint: sm.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
      const v = await client.send(new GetSecretValueCommand({ SecretId: 'klaxon/pagerduty' }));
      expect(JSON.parse(v.SecretString!)).toEqual({ ops: KEY });
      const err = (await client.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e: unknown) => e)) as Error;
      expect(err.name).toBe('ResourceNotFoundException');
      const source = new SecretsManagerSecretSource(client, { maxAgeSeconds: 60 });
      const before = sm.calls();
      expect(await source.getJson('klaxon/pagerduty')).toEqual({ ops: KEY });
      expect(await source.getJson('klaxon/pagerduty')).toEqual({ ops: KEY });
      expect(sm.calls() - before).toBe(1);
    } finally {
      await sm?.stop();
    }
  });
});
