import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  formatDuration,
  formatIssue,
  humanize,
  humanizeDuration,
  mergeRuleSets,
  parseDuration,
  parseRule,
  parseRules,
  RuleIndex,
  RulesValidationError,
  TemplateSyntaxError,
  type RuleIssue,
} from '../../shared/core/rules/index.ts';
import { rulesJsonSchemaText, SCHEMA_PATH } from '../../scripts/gen-schema.ts';
import { billionLaughs } from '../support/billion-laughs.ts';

const VALID = `
rules:
  - id: cpu_high
    name: High CPU usage
    metric: cpu_usage_percent
    matchers: ['environment="production"', 'instance=~"web-.*"']
    aggregate: { fn: avg, window: 5m }
    condition: '> 80'
    clearCondition: '< 70'
    for: 5m
    keepFiringFor: 2m
    severity: high
    labels: { team: platform }
    annotations: { summary: 'CPU {{ $value }}% on {{ $labels.instance }}' }
    runbookUrl: https://wiki.example.com/runbooks/high-cpu
    dashboardUrl: https://grafana.example.com/d/cpu
    throttle: { high: 10m, critical: 0 }
    escalation: { count: 3, window: 1h }
`;

function issuesOf(fn: () => unknown): RuleIssue[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof RulesValidationError) return [...e.issues];
    throw e;
  }
  throw new Error('expected a RulesValidationError');
}

const base = { id: 'r1', metric: 'm', severity: 'high', condition: '> 1' };

describe('parseRules', () => {
  it('normalises the issue example', () => {
    const [r] = parseRules(VALID, 'rules.yaml');
    expect(r).toMatchObject({
      id: 'cpu_high',
      name: 'High CPU usage',
      source: 'rules.yaml',
      kind: 'aggregate',
      aggregate: { fn: 'avg', windowMs: 300_000 },
      condition: { op: '>', threshold: 80 },
      clearCondition: { op: '<', threshold: 70 },
      windowMs: 300_000,
      forMs: 300_000,
      keepFiringForMs: 120_000,
      severity: 'high',
      labels: { team: 'platform' },
      dashboardUrl: 'https://grafana.example.com/d/cpu',
      policy: { throttleMs: { high: 600_000, critical: 0 }, escalation: { count: 3, windowMs: 3_600_000 } },
      conditionText: 'avg_over_time(cpu_usage_percent{environment="production", instance=~"web-.*"}[5m]) > 80',
    });
    expect(r!.matchers.map((m) => m.text)).toEqual(['environment="production"', 'instance=~"web-.*"']);
  });

  it('accepts labels.severity that repeats the severity, and keeps it in the alert labels (its identity is unchanged)', () => {
    const [rule] = parseRules(JSON.stringify({ rules: [{ ...base, labels: { severity: 'high', team: 'db' } }] }), 'f.yaml');
    expect(rule).toMatchObject({ severity: 'high', labels: { severity: 'high', team: 'db' } });
  });

  it('accepts JSON too', () => {
    expect(parseRules(JSON.stringify({ rules: [base] }), 'rules.json')).toHaveLength(1);
  });

  it.each([
    // unknown severity
    [{ ...base, severity: 'urgent' }, 'severity', /Invalid option/],
    // a typo in a field name
    [{ ...base, treshold: 1 }, '', /Unrecognized key/],
    // bad duration
    [{ ...base, for: '5 minutes' }, 'for', /expected a duration/],
    // bad condition
    [{ ...base, condition: '>> 1' }, 'condition', /expected a comparison/],
    // bad matcher
    [{ ...base, matchers: ['instance=~"("'] }, 'matchers[0]', /invalid regular expression/],
    // a regex RE2 cannot run (a backreference)
    [{ ...base, matchers: ['instance=~"(a)\\\\1"'] }, 'matchers[0]', /instance=~"\(a\)\\\\1": invalid escape sequence: `\\1` \(backreferences are not supported in RE2 syntax\)/],
    // $value in a label changes alert identity
    [{ ...base, labels: { v: '{{ $value }}' } }, 'labels.v', /templating \$value into a label/],
    // unsupported template function
    [{ ...base, annotations: { s: '{{ $value | title }}' } }, 'annotations.s', /unsupported template function/],
    // quantile without q
    [{ ...base, aggregate: { fn: 'quantile', window: '5m' } }, 'aggregate.q', /required for fn: quantile/],
    // q out of range
    [{ ...base, aggregate: { fn: 'quantile', window: '5m', q: 1.5 } }, 'aggregate.q', /<=1/],
    // absence rules need `for` and no condition
    [{ id: 'a', metric: 'm', severity: 'low', absent: {} }, 'for', /positive `for`/],
    [{ ...base, absent: {}, for: '5m' }, 'condition', /take no condition/],
    // two kinds at once
    [{ ...base, aggregate: { fn: 'avg', window: '5m' }, anomaly: { window: '1h' } }, 'anomaly', /at most one of/],
    // overlapping hysteresis would flap
    [{ ...base, condition: '> 80', clearCondition: '< 90' }, 'clearCondition', /overlaps/],
    // reserved label
    [{ ...base, labels: { alertname: 'x' } }, 'labels.alertname', /reserved/],
    // labels.severity (Prometheus style) that disagrees with the rule's severity
    [{ ...base, labels: { severity: 'critical' } }, 'labels.severity', /"critical" conflicts with severity: high/],
    // labels.severity that is not a severity at all (Prometheus's "warning")
    [{ ...base, labels: { severity: 'warning' } }, 'labels.severity', /must be the rule's severity, one of critical, high, medium, low/],
    // labels.severity as a template: the severity must be known when the rule loads
    [{ ...base, labels: { severity: '{{ $labels.sev }}' } }, 'labels.severity', /a literal, not a template/],
    // missing condition
    [{ id: 'c', metric: 'm', severity: 'low' }, 'condition', /required/],
    // an expected absence series the matchers exclude
    [{ id: 'a', metric: 'm', severity: 'low', absent: { expected: [{ job: 'x' }] }, for: '1m', matchers: ['job="y"'] }, 'absent.expected[0]', /does not match/],
  ])('rejects %j at %s', (rule, path, message) => {
    const issues = issuesOf(() => parseRules(JSON.stringify({ rules: [rule] }), 'f.yaml'));
    expect(issues).toHaveLength(1);
    const prefix = path ? `rules[0].${path}` : 'rules[0]';
    expect(issues[0]).toMatchObject({ source: 'f.yaml', path: prefix });
    expect(issues[0]!.message).toMatch(message);
    if (typeof (rule as { id?: string }).id === 'string') expect(issues[0]!.ruleId).toBe((rule as { id: string }).id);
  });

  it('reports every problem of every rule, naming file, rule and field', () => {
    const text = JSON.stringify({ rules: [{ ...base, for: 'x' }, { ...base, id: 'r2', severity: 'urgent' }, base] });
    const issues = issuesOf(() => parseRules(text, 'team.yaml'));
    expect(issues.map(formatIssue)).toEqual([
      'team.yaml: rule r1: rules[0].for: expected a duration like 30s, 5m or 1h30m (units w d h m s ms, largest first)',
      expect.stringMatching(/^team\.yaml: rule r2: rules\[1\]\.severity: /),
      'team.yaml: rule r1: rules[2].id: duplicate rule id (first defined at rules[0])',
    ]);
  });

  // A second rule with its own problem rides along in every row: a bad duration must be reported
  // on its field without hiding the rest of the file (it used to throw out of validation).
  const other = { ...base, id: 'r2', condition: 'above 80' };
  const otherIssue = "f.yaml: rule r2: rules[1].condition: expected a comparison like '> 80' (operators > >= < <= == !=)";
  const DURATION_LIKE = 'expected a duration like 30s, 5m or 1h30m (units w d h m s ms, largest first)';
  const TOO_LARGE = 'duration "99999999999999999w" is too large';
  it.each([
    // an empty `for` matched the all-optional duration pattern, then parseDuration threw
    [{ ...base, for: '' }, 'for', DURATION_LIKE],
    // the same for every duration field
    [{ ...base, keepFiringFor: '' }, 'keepFiringFor', DURATION_LIKE],
    [{ ...base, aggregate: { fn: 'avg', window: '' } }, 'aggregate.window', DURATION_LIKE],
    [{ ...base, anomaly: { window: '' } }, 'anomaly.window', DURATION_LIKE],
    [{ ...base, throttle: { high: '' } }, 'throttle.high', DURATION_LIKE],
    [{ ...base, escalation: { count: 2, window: '' } }, 'escalation.window', DURATION_LIKE],
    // duration-shaped but past Number.MAX_SAFE_INTEGER milliseconds: reported once, on its field
    [{ ...base, for: '99999999999999999w' }, 'for', TOO_LARGE],
    [{ id: 'r1', metric: 'm', severity: 'high', absent: {}, for: '99999999999999999w' }, 'for', TOO_LARGE],
    [{ ...base, aggregate: { fn: 'avg', window: '99999999999999999w' } }, 'aggregate.window', TOO_LARGE],
    [{ ...base, throttle: { critical: '99999999999999999w' } }, 'throttle.critical', TOO_LARGE],
    [{ ...base, escalation: { count: 2, window: '99999999999999999w' } }, 'escalation.window', TOO_LARGE],
  ])('reports %j at %s and still lists the other rule’s problem', (rule, path, message) => {
    const issues = issuesOf(() => parseRules(JSON.stringify({ rules: [rule, other] }), 'f.yaml'));
    expect(issues.map(formatIssue)).toEqual([`f.yaml: rule r1: rules[0].${path}: ${message}`, otherIssue]);
  });

  it('reports YAML syntax errors with the line', () => {
    const issues = issuesOf(() => parseRules('rules:\n  - id: a\n   metric: [', 'bad.yaml'));
    expect(issues[0]!.source).toBe('bad.yaml');
    expect(issues[0]!.path).toMatch(/^line \d+$/);
  });

  it.each([
    // 10 aliases of 10 aliases...: "billion laughs"; the yaml package refuses past maxAliasCount with a ReferenceError
    ['a billion-laughs document', billionLaughs(5)],
    // a flat document with 101 aliases of one anchor: just past the limit
    ['101 aliases of one anchor', `a: &a x\nb: [${Array.from({ length: 101 }, () => '*a').join(', ')}]\nrules: []\n`],
  ])('reports %s as a problem of the file, not a stack trace', (_name, text) => {
    expect(issuesOf(() => parseRules(text, 'laughs.yaml')).map(formatIssue)).toEqual([
      'laughs.yaml: too many YAML alias expansions (more than 100): the document expands like a billion-laughs attack',
    ]);
  });

  it('rejects a document without rules', () => {
    expect(issuesOf(() => parseRules('foo: 1', 'x.yaml'))[0]).toMatchObject({ path: 'rules' });
  });

  it('rejects an id defined in two sources', () => {
    const a = parseRules(JSON.stringify({ rules: [base] }), 'a.yaml');
    const b = parseRules(JSON.stringify({ rules: [base] }), 'b.yaml');
    expect(issuesOf(() => mergeRuleSets([a, b]))[0]).toMatchObject({ source: 'b.yaml', ruleId: 'r1', message: 'duplicate rule id (also defined in a.yaml)' });
  });
});

describe('parseRule (one item)', () => {
  it('names the source and paths without the file prefix', () => {
    const issues = issuesOf(() => parseRule({ ...base, for: 'soon' }, 'dynamodb:rules/r1'));
    expect(issues).toEqual([{ source: 'dynamodb:rules/r1', ruleId: 'r1', path: 'for', message: expect.stringMatching(/duration/) }]);
  });
});

describe('durations', () => {
  it.each([
    ['0', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1w2d', 9 * 86_400_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['5', '1m1h', '-5m', '1.5h', ''])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
  it('formats back', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });
});

describe('templates', () => {
  const ctx = { value: 93.456, labels: { instance: 'web-1', 'odd': 'x' } };
  it.each([
    ['CPU {{ $value }}% on {{ $labels.instance }}', 'CPU 93.456% on web-1'],
    ['{{ $value | printf "%.1f" }}', '93.5'],
    ['{{ printf "%.2f" $value }}', '93.46'],
    ['{{ $labels["odd"] }}', 'x'],
    ['{{ $labels.missing }}|', '|'],
    ['{{ .Value }}', '93.456'],
    ['no template', 'no template'],
  ])('%s → %s', (text, out) => {
    expect(compileTemplate(text).render(ctx)).toBe(out);
  });
  it.each([
    [1234567, '1.235M'],
    [0.005, '5m'],
    [0, '0'],
  ])('humanize(%d) = %s', (v, out) => {
    expect(humanize(v)).toBe(out);
  });
  it('humanizeDuration', () => {
    expect(humanizeDuration(93784)).toBe('1d 2h 3m 4s');
    expect(humanizeDuration(0.25)).toBe('250ms');
  });
  it.each(['{{ $value | upper }}', '{{ .Foo }}', '{{ $value', '{{ printf "%x %y" $value }}'])('rejects %s', (text) => {
    expect(() => compileTemplate(text)).toThrow(TemplateSyntaxError);
  });
});

describe('RuleIndex', () => {
  it('returns the rules of the sample metric whose matchers accept its labels', () => {
    const rules = parseRules(
      JSON.stringify({
        rules: [
          { ...base, id: 'a', matchers: ['env="prod"'] },
          { ...base, id: 'b' },
          { ...base, id: 'c', metric: 'other' },
          { ...base, id: 'd', matchers: ['env=~"prod|staging"', 'team!="x"'] },
        ],
      }),
      'f',
    );
    const index = new RuleIndex(rules);
    const ids = (labels: Record<string, string>, name = 'm') => index.rulesFor({ name, value: 1, timestampMs: 0, labels }).map((r) => r.id);
    expect(ids({ env: 'prod' })).toEqual(['a', 'b', 'd']);
    expect(ids({ env: 'production' })).toEqual(['b']);
    expect(ids({ env: 'staging', team: 'x' })).toEqual(['b']);
    expect(ids({}, 'unknown')).toEqual([]);
  });
});

describe('JSON Schema', () => {
  it('docs/rules.schema.json is what scripts/gen-schema.ts generates (run `npm run schema`)', async () => {
    expect(await readFile(SCHEMA_PATH, 'utf8')).toBe(rulesJsonSchemaText());
  });
  it('describes rule fields for editors', () => {
    const schema = JSON.parse(rulesJsonSchemaText()) as { properties: { rules: { items: { required: string[]; properties: Record<string, unknown> } } } };
    expect(schema.properties.rules.items.required).toEqual(expect.arrayContaining(['id', 'metric', 'severity']));
    expect(Object.keys(schema.properties.rules.items.properties)).toEqual(expect.arrayContaining(['aggregate', 'anomaly', 'absent', 'keepFiringFor', 'throttle']));
  });
});
