import { describe, expect, it } from 'vitest';
import { expandSeriesValues, parseRuleTestFile, parseSeriesSelector, runRuleTests, RuleTestSpecError } from '../../shared/core/promtool/index.ts';
import { parseRules } from '../../shared/core/rules/index.ts';

describe('series notation', () => {
  it.each([
    // a+bxn: n+1 samples
    ['0+10x5', [0, 10, 20, 30, 40, 50]],
    // a-bxn
    ['1-2x4', [1, -1, -3, -5, -7]],
    // negative start
    ['-2+4x3', [-2, 2, 6, 10]],
    // axn repeats a n+1 times
    ['5x2', [5, 5, 5]],
    // _ is a missing sample, _xn n missing ones, stale a staleness marker
    ['1 _x3 stale', [1, 'missing', 'missing', 'missing', 'stale']],
    ['1 _ 2', [1, 'missing', 2]],
    // exponents and Inf
    ['1e3 Inf -Inf', [1000, Infinity, -Infinity]],
  ])('%s', (text, expected) => {
    expect(expandSeriesValues(text)).toEqual(expected);
  });

  it('rejects unknown tokens', () => {
    expect(() => expandSeriesValues('1 two')).toThrow(RuleTestSpecError);
  });

  it('parses series selectors', () => {
    expect(parseSeriesSelector('up{job="api", instance="a\\"b"}')).toEqual({ metric: 'up', labels: { job: 'api', instance: 'a"b' } });
    expect(parseSeriesSelector('up')).toEqual({ metric: 'up', labels: {} });
    expect(() => parseSeriesSelector('up{job=api}')).toThrow(RuleTestSpecError);
  });
});

const RULES = parseRules(
  `
rules:
  - id: InstanceDown
    name: Instance down
    metric: up
    condition: '== 0'
    for: 5m
    severity: critical
    labels: { page: 'yes' }
    annotations: { summary: 'Instance {{ $labels.instance }} down' }
`,
  'rules.yaml',
);

function spec(tests: unknown[]) {
  return parseRuleTestFile({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }, 'test.yaml');
}

describe('runRuleTests', () => {
  it.each([
    // T1: pending until 4m, firing at 5m; 4m59s compares with the 4m state
    ['4m', []],
    ['4m59s', []],
    ['5m', [{ exp_labels: { instance: 'a', job: 'api', page: 'yes' }, exp_annotations: { summary: 'Instance a down' } }]],
  ])('T1 at %s', async (evalTime, exp) => {
    const s = spec([{ interval: '1m', input_series: [{ series: 'up{job="api", instance="a"}', values: '0x15' }], alert_rule_test: [{ eval_time: evalTime, alertname: 'InstanceDown', exp_alerts: exp }] }]);
    expect((await runRuleTests(s, RULES)).failures).toEqual([]);
  });

  it('matches alertname against the rule name too', async () => {
    const s = spec([{ input_series: [{ series: 'up{instance="a"}', values: '0x6' }], alert_rule_test: [{ eval_time: '6m', alertname: 'Instance down', exp_alerts: [{ exp_labels: { instance: 'a', page: 'yes' }, exp_annotations: { summary: 'Instance a down' } }] }] }]);
    expect(await runRuleTests(s, RULES)).toMatchObject({ tests: 1, cases: 1, failures: [] });
  });

  it('explains a failure with expected and got', async () => {
    const s = spec([
      {
        name: 'wrong',
        input_series: [{ series: 'up{instance="a"}', values: '0x6' }, { series: 'up{instance="b"}', values: '1x6' }],
        alert_rule_test: [{ eval_time: '6m', alertname: 'InstanceDown', exp_alerts: [{ exp_labels: { instance: 'b', page: 'yes' }, exp_annotations: { summary: 'Instance b down' } }] }],
      },
    ]);
    const [f] = (await runRuleTests(s, RULES)).failures;
    expect(f).toMatchObject({ test: 'wrong', alertname: 'InstanceDown', evalTime: '6m' });
    expect(f!.message).toBe(
      [
        'alertname InstanceDown, time 6m: expected 1 firing alert(s), got 1',
        '  - expected: labels {instance="b", page="yes"} annotations {summary="Instance b down"}',
        '  + got:      labels {instance="a", page="yes"} annotations {summary="Instance a down"}',
      ].join('\n'),
    );
  });

  it('fails for an unknown alertname and for promql_expr_test', async () => {
    const s = spec([{ input_series: [], alert_rule_test: [{ eval_time: '1m', alertname: 'Nope', exp_alerts: [] }], promql_expr_test: [{ expr: 'up' }] }]);
    expect((await runRuleTests(s, RULES)).failures.map((f) => f.message)).toEqual([
      'promql_expr_test is not supported: Klaxon rules are not PromQL (use alert_rule_test)',
      'no rule has id or name "Nope"',
    ]);
  });

  it('treats missing samples as gaps (T2: interrupted for)', async () => {
    const s = spec([
      {
        input_series: [{ series: 'up{instance="a"}', values: '0 0 0 0 1 0 0 0 0 0 0' }],
        alert_rule_test: [
          { eval_time: '9m', alertname: 'InstanceDown', exp_alerts: [] },
          { eval_time: '10m', alertname: 'InstanceDown', exp_alerts: [{ exp_labels: { instance: 'a', page: 'yes' }, exp_annotations: { summary: 'Instance a down' } }] },
        ],
      },
    ]);
    expect((await runRuleTests(s, RULES)).failures).toEqual([]);
  });

  it('counts the silence of an expected absence series from the test start', async () => {
    const rules = parseRules("rules:\n  - id: hb\n    metric: heartbeat\n    absent: { expected: [ { job: x } ] }\n    for: 3m\n    severity: high\n", 'r.yaml');
    const s = spec([
      {
        input_series: [],
        alert_rule_test: [
          { eval_time: '2m', alertname: 'hb', exp_alerts: [] },
          { eval_time: '3m', alertname: 'hb', exp_alerts: [{ exp_labels: { job: 'x' } }] },
        ],
      },
    ]);
    expect((await runRuleTests(s, rules)).failures).toEqual([]);
  });

  it('rejects a malformed test file', () => {
    expect(() => parseRuleTestFile({ tests: [] }, 't.yaml')).toThrow(/t\.yaml: rule_files/);
  });
});
