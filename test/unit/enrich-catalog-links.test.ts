import { describe, expect, it } from 'vitest';
import { CatalogError, catalogFromText, matchCatalog } from '../../shared/core/enrich/catalog.ts';
import { buildLink, buildLinks, linkTemplateProblem, linkTimeRange } from '../../shared/core/enrich/links.ts';
import { buildLogsQuery, quoteLogsValue, redactLogLine } from '../../shared/core/enrich/logs.ts';

const CATALOG = `
entries:
  - match: {}
    team: platform
  - match: { service: checkout }
    owner: Alice
    team: payments
    on_call: "@payments-oncall"
    runbook: https://runbooks.example.com/checkout
    links:
      - { text: Service page, url: "https://backstage.example.com/catalog/{{labels.service}}" }
  - match: { service: checkout, instance: canary-1 }
    owner: Bob
  - match: { instance: canary-1 }
    owner: Carol
  - match: { service: search }
    owner: Dana
`;

describe('catalog matching: the most specific entry wins, fields fall through to the next', () => {
  const cat = catalogFromText(CATALOG, 'test');
  it.each([
    // exact service entry beats the default; the default's team is not used because checkout names one
    [{ service: 'checkout', instance: 'web-1' }, { owner: 'Alice', team: 'payments', onCall: '@payments-oncall' }],
    // two labels beat one: Bob; runbook and on-call fall through from the service entry
    [{ service: 'checkout', instance: 'canary-1' }, { owner: 'Bob', team: 'payments', onCall: '@payments-oncall', runbook: 'https://runbooks.example.com/checkout' }],
    // equally specific single-label entries: document order (the instance entry comes before search's)
    [{ service: 'search', instance: 'canary-1' }, { owner: 'Carol', team: 'platform' }],
    // only the default matches
    [{ service: 'unknown' }, { team: 'platform' }],
    // a value must match exactly: case and whitespace count
    [{ service: 'Checkout ' }, { team: 'platform' }],
  ])('%j → %j', (labels, expected) => {
    expect(matchCatalog(cat, labels)).toMatchObject(expected);
  });

  it('collects link templates of every matching entry, most specific first', () => {
    expect(matchCatalog(cat, { service: 'checkout', instance: 'canary-1' })?.links.map((l) => l.text)).toEqual(['Service page']);
  });

  it('nothing matches an empty catalog', () => {
    expect(matchCatalog(catalogFromText('entries: []', 't'), { service: 'x' })).toBeUndefined();
  });
});

describe('catalog validation names the entry and the field', () => {
  it.each([
    // a runbook that is not http(s)
    ['entries:\n  - match: { service: a }\n    runbook: "javascript:alert(1)"', 'entries[0] (service=a).runbook: must be an absolute http(s) URL'],
    // a typo in a field name is refused, not ignored
    ['entries:\n  - match: { service: a }\n    ownr: x', 'entries[0] (service=a)'],
    // a link template whose host is a placeholder
    ['entries:\n  - match: { service: b }\n    links: [{ text: x, url: "https://{{labels.host}}/x" }]', 'entries[0] (service=b).links.0.url: the host must be literal'],
    // not YAML
    ['entries: [', 'not valid YAML'],
    // the wrong top-level shape
    ['- a\n- b', 'document'],
  ])('%s', (text, problem) => {
    expect(() => catalogFromText(text, 'ssm:/klaxon/catalog')).toThrow(CatalogError);
    expect(() => catalogFromText(text, 'ssm:/klaxon/catalog')).toThrow(problem);
  });
});

describe('links from URL templates', () => {
  const ctx = { labels: { service: 'checkout', instance: 'web-1' }, fingerprint: 'fp1', alertname: 'HighCPU', fromMs: 1000, toMs: 2000 };
  it.each([
    // Grafana with var- parameters and the time range
    ['https://grafana.example.com/d/svc?var-service={{labels.service}}&from={{from}}&to={{to}}', ctx.labels, 'https://grafana.example.com/d/svc?var-service=checkout&from=1000&to=2000'],
    // a hostile value cannot add parameters, a fragment, or a path
    ['https://g.example.com/d?var-s={{labels.service}}', { service: 'a&to=0#x/../y' }, 'https://g.example.com/d?var-s=a%26to%3D0%23x%2F..%2Fy'],
    // a value cannot become a javascript: URL either: it is encoded in place
    ['https://g.example.com/{{labels.service}}', { service: 'javascript:alert(1)' }, 'https://g.example.com/javascript%3Aalert(1)'],
    // a missing label gives no link rather than a half-filled one
    ['https://g.example.com/d?var-s={{labels.team}}', ctx.labels, undefined],
    // an empty label value likewise
    ['https://g.example.com/d?var-s={{labels.service}}', { service: '' }, undefined],
    // a result over 2,000 characters is dropped
    ['https://g.example.com/d?x={{labels.service}}', { service: 'y'.repeat(2100) }, undefined],
    // the fingerprint and alert name placeholders
    ['https://x.example.com/a/{{alertname}}/{{fingerprint}}', ctx.labels, 'https://x.example.com/a/HighCPU/fp1'],
  ])('%s with %j', (url, labels, expected) => {
    expect(buildLink({ text: 'L', url }, { ...ctx, labels })?.url).toBe(expected);
  });

  it.each([
    // the scheme must be http(s)
    ['ftp://x.example.com/', 'must start with http'],
    ['javascript:alert(1)', 'must start with http'],
    // no placeholder in the host
    ['https://{{labels.host}}.example.com/', 'host must be literal'],
    // unknown placeholder names are refused
    ['https://x.example.com/{{env.SECRET}}', 'unknown placeholder'],
    // a stray brace
    ['https://x.example.com/{{labels.a}', 'unbalanced'],
  ])('template %s is refused: %s', (url, problem) => {
    expect(linkTemplateProblem(url)).toContain(problem);
  });

  it('drops repeated URLs', () => {
    expect(buildLinks([{ text: 'a', url: 'https://x.example.com/1' }, { text: 'b', url: 'https://x.example.com/1' }], ctx)).toHaveLength(1);
  });

  it.each([
    // firing: start − window … now
    [{ kind: 'firing', firedAtMs: 10_000_000 }, 10_500_000, { fromMs: 9_100_000, toMs: 10_500_000 }],
    // resolved long ago: resolution + window
    [{ kind: 'resolved', firedAtMs: 10_000_000, resolvedAtMs: 10_200_000 }, 20_000_000, { fromMs: 9_100_000, toMs: 11_100_000 }],
    // resolved just now: never past now
    [{ kind: 'resolved', firedAtMs: 10_000_000, resolvedAtMs: 10_200_000 }, 10_300_000, { fromMs: 9_100_000, toMs: 10_300_000 }],
  ])('time range of %j at %d', (t, now, expected) => {
    expect(linkTimeRange(t, now, 900_000)).toEqual(expected);
  });
});

describe('Logs Insights query: label values quoted, never raw', () => {
  const cfg = { logGroups: ['/app/checkout'], query: 'fields @timestamp, @message | filter service = {{labels.service}} | filter @message like /ERROR/ | sort @timestamp desc', limit: 5, lookbackMs: 600_000, bucketMs: 300_000, maxInFlight: 5, pollMs: 500, slotLeaseMs: 120_000 };
  it.each([
    // an ordinary value
    ['checkout', '"checkout"'],
    // instance-like values with dots, colons, dashes
    ['10.0.0.1:9100', '"10.0.0.1:9100"'],
    // a quote would end the literal and let the rest become query: refused
    ['x" | stats count(*) by @logStream | filter "a', undefined],
    // a backslash could escape the closing quote: refused
    ['x\\', undefined],
    // a newline or pipe-free but control characters: refused
    ['a\nb', undefined],
    // backticks: refused
    ['`x`', undefined],
    // over 200 characters: refused
    ['a'.repeat(201), undefined],
  ])('%j → %s', (value, quoted) => {
    expect(quoteLogsValue(value)).toBe(quoted);
  });

  it('builds the bounded query with the time range around the alert', () => {
    const q = buildLogsQuery(cfg, { service: 'checkout' }, 10_000_000, 10_000_500);
    expect(q).toEqual({ ok: true, query: { logGroups: ['/app/checkout'], queryString: 'fields @timestamp, @message | filter service = "checkout" | filter @message like /ERROR/ | sort @timestamp desc\n| limit 5', startMs: 9_400_000, endMs: 10_001_500, limit: 5 } });
  });

  it.each([
    // a value that cannot be quoted
    [{ service: 'a"b' }],
    // the label is missing
    [{ instance: 'x' }],
  ])('no query for %j: not-queryable', (labels) => {
    expect(buildLogsQuery(cfg, labels, 0, 0)).toEqual({ ok: false, reason: 'not-queryable' });
  });
});

describe('log lines are redacted before they reach a message', () => {
  it.each([
    // key=value in free text
    ['ERROR POST /pay 502 token=s3cr3t', 'ERROR POST /pay 502 token=***'],
    // JSON fields
    ['{"api_key":"AKIA123","user":"bob"}', '{"api_key":"***","user":"bob"}'],
    // a colon and spaces
    ['password: hunter2 retrying', 'password: *** retrying'],
    // a secret in a URL query (redact.ts's rule, once)
    ['GET https://x.example.com/a?access_token=abc&x=1', 'GET https://x.example.com/a?access_token=***&x=1'],
    // a Bearer credential (the scheme word goes too: the name says auth)
    ['Authorization: Bearer eyJhbGci.payload.sig', 'Authorization: *** ***'],
    // nothing secret: unchanged
    ['ERROR inventory reservation failed: connection reset', 'ERROR inventory reservation failed: connection reset'],
  ])('%s', (line, expected) => {
    expect(redactLogLine(line)).toBe(expected);
  });
});
