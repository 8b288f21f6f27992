import { describe, expect, it } from 'vitest';
import { DispatchConfigError, readDispatchSettings } from '../../shared/config/dispatch.ts';

const base = {
  ALERTS_TABLE: 'alerts',
  DELIVERY_TABLE: 'delivery',
  DEAD_LETTER_QUEUE_URL: 'http://q/alert-events-dlq.fifo',
  SLACK_QUEUE_URL: 'http://q/slack.fifo',
  EMAIL_QUEUE_URL: 'http://q/email.fifo',
  PAGERDUTY_QUEUE_URL: 'http://q/pagerduty.fifo',
  WEBHOOK_QUEUE_URL: 'http://q/webhook.fifo',
};

describe('dispatch config', () => {
  it('reads the topology variables, with the default windows and routes', () => {
    const s = readDispatchSettings({ ...base, ROUTES_SSM_PARAMETER: '', DEFAULT_EMAIL_RECIPIENTS: 'a@x.io, b@x.io', THROTTLE_WINDOWS: '' });
    expect(s.queueUrls).toEqual({ slack: base.SLACK_QUEUE_URL, email: base.EMAIL_QUEUE_URL, pagerduty: base.PAGERDUTY_QUEUE_URL, webhook: base.WEBHOOK_QUEUE_URL });
    expect(s.routes).toEqual({ kind: 'defaults' });
    expect(s.defaultReceiver.emailRecipients).toEqual(['a@x.io', 'b@x.io']);
    expect(s.decision.throttleWindows).toEqual({ critical: 0, high: 300_000, medium: 900_000, low: 3_600_000 });
  });

  it('overrides throttle windows from THROTTLE_WINDOWS (durations or milliseconds)', () => {
    const s = readDispatchSettings({ ...base, THROTTLE_WINDOWS: '{"high":"10m","low":7200000,"critical":"30s"}' });
    expect(s.decision.throttleWindows).toEqual({ critical: 30_000, high: 600_000, medium: 900_000, low: 7_200_000 });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    // a required variable missing
    ['missing table', { ALERTS_TABLE: '' }, /ALERTS_TABLE: must be set/],
    // THROTTLE_WINDOWS not JSON
    ['windows not JSON', { THROTTLE_WINDOWS: 'high=5m' }, /THROTTLE_WINDOWS: must be JSON/],
    // THROTTLE_WINDOWS with a bad duration
    ['bad duration', { THROTTLE_WINDOWS: '{"high":"5 minutes"}' }, /THROTTLE_WINDOWS: high: '5 minutes' is not a duration/],
    // THROTTLE_WINDOWS with an unknown severity
    ['unknown severity', { THROTTLE_WINDOWS: '{"urgent":"5m"}' }, /THROTTLE_WINDOWS: .*urgent/],
    // a bad recipient
    ['bad recipient', { DEFAULT_EMAIL_RECIPIENTS: 'oncall' }, /DEFAULT_EMAIL_RECIPIENTS: 'oncall' is not an email address/],
    // more recipients than SES takes in one message
    ['51 recipients', { DEFAULT_EMAIL_RECIPIENTS: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`).join(',') }, /DEFAULT_EMAIL_RECIPIENTS: 51 recipients: at most 50/],
  ])('fails with a message naming the variable: %s', (_name, over, re) => {
    expect(() => readDispatchSettings({ ...base, ...over })).toThrow(DispatchConfigError);
    expect(() => readDispatchSettings({ ...base, ...over })).toThrow(re);
  });

  it('prefers ROUTES_FILE over the SSM parameter', () => {
    expect(readDispatchSettings({ ...base, ROUTES_FILE: 'r.yaml', ROUTES_SSM_PARAMETER: '/klaxon/routes' }).routes).toEqual({ kind: 'file', path: 'r.yaml' });
    expect(readDispatchSettings({ ...base, ROUTES_SSM_PARAMETER: '/klaxon/routes' }).routes).toEqual({ kind: 'ssm', name: '/klaxon/routes' });
  });
});
