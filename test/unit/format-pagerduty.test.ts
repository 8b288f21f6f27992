import { describe, expect, it } from 'vitest';
import { PAGERDUTY_SEVERITY, renderPagerDutyEvent, type PagerDutyTrigger } from '../../shared/core/format/pagerduty.ts';
import { pagerDutyEventErrors } from '../../local/receivers/pagerduty.ts';
import { hostileJob, job, resolvedOf } from '../integration/deliver-fixtures.ts';

const KEY = 'R0UT1NGKEY0000000000000000000001';
const opts = { productName: 'Klaxon' };

describe('pagerduty format', () => {
  it('triggers with dedup_key = fingerprint, source, component/group/class from labels, details and links', () => {
    const j = job('pagerduty', { t: { labels: { alertname: 'High CPU', instance: 'web-1', service: 'checkout', job: 'node', log_url: 'https://logs.example.com/x' } } });
    const e = renderPagerDutyEvent(j, KEY, opts) as PagerDutyTrigger;
    expect(e).toMatchObject({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: j.transition.fingerprint,
      payload: { source: 'web-1', severity: 'critical', component: 'checkout', group: 'node', class: 'High CPU', summary: '[CRITICAL] High CPU — web-1: CPU above 90% for 5 minutes' },
    });
    expect(e.payload.custom_details).toMatchObject({ value: '97.25', condition: 'avg_over_time(5m) > 90', fire_count: 1 });
    expect(e.links?.map((l) => l.href)).toEqual(['https://runbooks.example.com/cpu', 'https://grafana.example.com/d/cpu', 'https://logs.example.com/x']);
    expect(pagerDutyEventErrors(e, JSON.stringify(e).length)).toEqual([]);
  });

  it.each([
    // [klaxon severity, PagerDuty severity]
    ['critical', 'critical'],
    ['high', 'error'],
    ['medium', 'warning'],
    ['low', 'info'],
  ] as const)('maps %s to %s', (ours, theirs) => {
    expect(PAGERDUTY_SEVERITY[ours]).toBe(theirs);
    expect((renderPagerDutyEvent(job('pagerduty', { severity: ours }), KEY, opts) as PagerDutyTrigger).payload.severity).toBe(theirs);
  });

  it('resolves by dedup_key on resolution', () => {
    const j = resolvedOf(job('pagerduty'));
    expect(renderPagerDutyEvent(j, KEY, opts)).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: j.transition.fingerprint });
  });

  it('keeps the summary within 1,024 characters on one line, and the event valid, with hostile labels', () => {
    const e = renderPagerDutyEvent(hostileJob('pagerduty'), KEY, opts) as PagerDutyTrigger;
    expect(e.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(e.payload.summary).not.toMatch(/[\r\n]/);
    expect(e.links?.some((l) => l.href.startsWith('javascript:'))).toBe(false);
    expect(pagerDutyEventErrors(e, JSON.stringify(e).length)).toEqual([]);
  });
});
