import { describe, expect, it } from 'vitest';
import { DEFAULT_EMAIL_COLOURS, renderEmail } from '../../shared/core/format/email.ts';
import { HOSTILE, hostileJob, job, resolvedOf } from '../integration/deliver-fixtures.ts';

const opts = { productName: 'Klaxon', dashboardUrl: 'https://grafana.example.com/home' };

describe('email format', () => {
  it('has the subject [SEVERITY] name — instance, an HTML table layout with inline CSS, and a text part', () => {
    const e = renderEmail(job('email', { fireCount: 2 }), opts);
    expect(e.subject).toBe('[CRITICAL] High CPU — web-1');
    expect(e.html).toContain('<table role="presentation"');
    expect(e.html).toContain(`background:${DEFAULT_EMAIL_COLOURS.severity.critical}`);
    expect(e.html).not.toContain('<style');
    expect(e.html).toContain('href="https://runbooks.example.com/cpu"');
    expect(e.text).toContain('Value: 97.25');
    expect(e.text).toContain('Condition: avg_over_time(5m) > 90');
    expect(e.text).toContain('Runbook: https://runbooks.example.com/cpu');
    expect(e.text).toContain('Fire count: 2');
  });

  it('uses the configured product name and colours', () => {
    const colours = { ...DEFAULT_EMAIL_COLOURS, severity: { ...DEFAULT_EMAIL_COLOURS.severity, critical: '#123456' } };
    const e = renderEmail(job('email'), { productName: 'Acme Alerts', colours });
    expect(e.html).toContain('background:#123456');
    expect(e.html).toContain('Acme Alerts');
  });

  it('renders resolved emails', () => {
    const e = renderEmail(resolvedOf(job('email')), opts);
    expect(e.subject).toBe('[RESOLVED] [CRITICAL] High CPU — web-1');
    expect(e.html).toContain(DEFAULT_EMAIL_COLOURS.severity.resolved);
    expect(e.text).toContain('Resolved: ');
  });

  it('links source URLs from labels ending in _url, http(s) only', () => {
    const e = renderEmail(job('email', { t: { labels: { instance: 'w', log_url: 'https://airflow.example.com/log?dag=a&task=b', bad_url: 'javascript:alert(1)' } } }), opts);
    expect(e.html).toContain('href="https://airflow.example.com/log?dag=a&amp;task=b"');
    // Shown as a label value (text), never as a link.
    expect(e.html).not.toMatch(/href="javascript:/);
    expect([...e.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).not.toContain('javascript:alert(1)');
    expect(e.text).toContain('log: https://airflow.example.com/log?dag=a&task=b');
  });

  it('escapes everything from alerts: no script, no attribute break-out, no javascript: link', () => {
    const e = renderEmail(hostileJob('email'), opts);
    expect(e.html).not.toContain('<script');
    expect(e.html).not.toContain('<img');
    expect(e.html).not.toContain('<b>bold');
    expect(e.html).not.toMatch(/href="javascript:/i);
    expect(e.html).toContain('&lt;script&gt;');
    expect(e.html).toContain('&quot;&#39;&gt;&lt;b&gt;');
    // Every href is an http(s) URL.
    for (const m of e.html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^https?:\/\//);
  });

  it('keeps the subject on one line (no header injection) and bounded', () => {
    const e = renderEmail(hostileJob('email'), opts);
    expect(e.subject).not.toMatch(/[\r\n]/);
    expect(e.subject.length).toBeLessThanOrEqual(200);
    expect(e.subject.startsWith('[CRITICAL] ')).toBe(true);
    expect(HOSTILE.newline).toMatch(/\n/);
  });

  it('stays far below Gmail’s ~100 KB clipping with huge values', () => {
    const e = renderEmail(hostileJob('email'), opts);
    expect(Buffer.byteLength(e.html)).toBeLessThan(300_000);
  });
});
