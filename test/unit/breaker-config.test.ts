import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../shared/core/breaker/index.ts';
import { ChannelConfigError, emailConfig, pagerDutyConfig, slackConfig } from '../../shared/config/channels.ts';

const base = { DELIVERY_TABLE: 'd', ALERTS_TABLE: 'a', QUEUE_URL: 'q', DEAD_LETTER_QUEUE_URL: 'dlq' };

describe('channel configuration (BREAKER_CONFIG and friends)', () => {
  it('uses the issue’s breaker defaults when BREAKER_CONFIG is empty', () => {
    const c = slackConfig({ ...base, SLACK_SECRET_NAME: 's', BREAKER_CONFIG: '' });
    expect(c.breaker).toEqual(DEFAULT_BREAKER_CONFIG);
    expect(c.productName).toBe('Klaxon');
  });

  it('overrides only the breaker and retry tunables given', () => {
    const c = pagerDutyConfig({ ...base, PAGERDUTY_SECRET_NAME: 'p', BREAKER_CONFIG: '{"failureThreshold":3,"maxBackoffMs":600000}' });
    expect(c.breaker).toEqual({ ...DEFAULT_BREAKER_CONFIG, failureThreshold: 3 });
    expect(c.retry.maxBackoffMs).toBe(600_000);
  });

  it.each([
    // [description, env, text the error must contain]
    ['a missing secret name', { ...base }, 'SLACK_SECRET_NAME'],
    ['BREAKER_CONFIG that is not JSON', { ...base, SLACK_SECRET_NAME: 's', BREAKER_CONFIG: '{' }, 'BREAKER_CONFIG: must be JSON'],
    ['an unknown BREAKER_CONFIG key', { ...base, SLACK_SECRET_NAME: 's', BREAKER_CONFIG: '{"threshold":3}' }, 'BREAKER_CONFIG'],
    ['a non-http SLACK_API_URL', { ...base, SLACK_SECRET_NAME: 's', SLACK_API_URL: 'ftp://x' }, 'SLACK_API_URL'],
  ])('fails at init naming the variable: %s', (_d, env, text) => {
    expect(() => slackConfig(env)).toThrow(ChannelConfigError);
    expect(() => slackConfig(env)).toThrow(text);
  });

  it('reads the SES sender, optional configuration set and colour overrides', () => {
    const c = emailConfig({ ...base, SES_SENDER: 'klaxon@example.com', SES_CONFIGURATION_SET: '', EMAIL_COLOURS: '{"severity":{"critical":"#000000"}}' });
    expect(c.sender).toBe('klaxon@example.com');
    expect(c.configurationSet).toBeUndefined();
    expect(c.colours.severity.critical).toBe('#000000');
    expect(c.colours.severity.high).toBe('#E65100');
  });
});
