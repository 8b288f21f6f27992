/**
 * Notification jobs for the delivery tests (unit and integration): a realistic firing job with
 * overridable parts, and a hostile one (HTML, mrkdwn control sequences, huge values, 60 labels).
 */
import type { AlertTransition, Destination, NotificationJob, Severity } from '../../shared/core/model/index.ts';

/** A simulated clock the tests advance by hand. */
export class TestClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Start of the tests' simulated time. */
export const T0 = Date.UTC(2026, 10, 22, 5, 0, 0);

let seq = 0;

/** A firing transition. */
export function transition(over: Partial<AlertTransition> = {}): AlertTransition {
  const n = ++seq;
  return {
    version: 1,
    transitionId: `tr-${n}`,
    kind: 'firing',
    fingerprint: `fp-${n}`,
    ruleId: 'cpu-high',
    ruleName: 'High CPU',
    severity: 'critical',
    labels: { alertname: 'High CPU', instance: 'web-1', job: 'node', team: 'ops' },
    annotations: { summary: 'CPU above 90% for 5 minutes', description: 'web-1 is saturated' },
    value: 97.25,
    condition: 'avg_over_time(5m) > 90',
    atMs: T0,
    activeAtMs: T0 - 300_000,
    firedAtMs: T0,
    runbookUrl: 'https://runbooks.example.com/cpu',
    dashboardUrl: 'https://grafana.example.com/d/cpu',
    emittedAtMs: T0,
    ...over,
  };
}

/** A job for a channel (destination defaults per channel). */
export function job(channel: 'slack' | 'email' | 'pagerduty', over: Partial<NotificationJob> & { t?: Partial<AlertTransition> } = {}): NotificationJob {
  const { t, ...rest } = over;
  const tr = transition(t);
  const destination: Destination =
    channel === 'slack' ? { kind: 'slack', webhookKey: 'ops' } : channel === 'email' ? { kind: 'email', to: ['oncall@example.com'] } : { kind: 'pagerduty', routingKeyName: 'ops' };
  const destinationId = channel === 'slack' ? 'slack:webhook:ops' : channel === 'email' ? 'email:oncall' : 'pagerduty:ops';
  return {
    version: 1,
    idempotencyKey: `${tr.transitionId}:default:${channel}`,
    channel,
    receiver: 'default',
    destination,
    destinationId,
    transition: tr,
    severity: tr.severity as Severity,
    fireCount: 1,
    ...rest,
  };
}

/** The resolution of a firing job (same fingerprint). */
export function resolvedOf(j: NotificationJob, atMs = j.transition.atMs + 600_000): NotificationJob {
  const t: AlertTransition = { ...j.transition, kind: 'resolved', transitionId: `${j.transition.transitionId}-r`, atMs, resolvedAtMs: atMs, emittedAtMs: atMs };
  return { ...j, transition: t, idempotencyKey: `${t.transitionId}:${j.receiver}:${j.channel}` };
}

/** Strings an attacker (or a careless exporter) could put in labels. */
export const HOSTILE = {
  html: '<script>alert("x")</script><img src=x onerror=alert(1)>',
  mrkdwn: '<!channel> <!here> <@U123> <http://evil.example|click me> & more',
  quotes: `"'><b>bold</b>`,
  jsUrl: 'javascript:alert(document.cookie)',
  huge: 'x'.repeat(10_000),
  newline: 'line1\r\nBcc: victim@example.com\nline3',
};

/** A job whose every alert-controlled string is hostile, with 60 labels. */
export function hostileJob(channel: 'slack' | 'email' | 'pagerduty'): NotificationJob {
  const labels: Record<string, string> = {
    alertname: HOSTILE.html,
    instance: HOSTILE.mrkdwn + HOSTILE.newline,
    log_url: HOSTILE.jsUrl,
    source_url: 'https://logs.example.com/?q=a&b="c"',
    huge: HOSTILE.huge,
    quotes: HOSTILE.quotes,
  };
  for (let i = 0; labels && Object.keys(labels).length < 60; i++) labels[`label_${String(i).padStart(2, '0')}`] = `${HOSTILE.mrkdwn} ${i}`;
  return job(channel, {
    t: {
      ruleName: `${HOSTILE.html}${HOSTILE.huge}`,
      labels,
      annotations: { summary: `${HOSTILE.mrkdwn} ${HOSTILE.html} ${HOSTILE.huge}`, description: HOSTILE.quotes },
      condition: `${HOSTILE.mrkdwn}${HOSTILE.huge}`,
      runbookUrl: HOSTILE.jsUrl,
      dashboardUrl: `https://grafana.example.com/${'d'.repeat(4000)}`,
      fingerprint: `fp-${HOSTILE.mrkdwn}`,
    },
    escalation: { from: 'high', reason: `${HOSTILE.mrkdwn} fired 3 times in 1h` },
    suppressed: { count: 7, sinceMs: T0 - 3_600_000 },
  });
}
