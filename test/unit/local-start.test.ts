import { describe, expect, it } from 'vitest';
import { parseStartArgs } from '../../local/start.ts';
import { createLocalLog, formatLabels } from '../../local/runtime/log.ts';
import { functionEnv } from '../../local/runtime/functions.ts';
import { localConfigValues } from '../../local/config/index.ts';
import { FUNCTIONS, QUEUES, type FunctionName } from '../../infra/topology.ts';
import type { Provisioned } from '../../local/provision.ts';

describe('npm start arguments', () => {
  it.each([
    // no arguments: the demo at speed 1
    [[], { source: { kind: 'demo' }, speed: 1, json: false }],
    // replay from stdin, faster, JSON logs, fixed port
    [['--samples', '-', '--speed', '10', '--json', '--port', '9000'], { source: { kind: 'samples', file: '-' }, speed: 10, json: true, consolePort: 9000 }],
    // a real Kafka topic
    [['--kafka', 'b1:9092, b2:9092', '--topic', 'metrics'], { source: { kind: 'kafka', brokers: ['b1:9092', 'b2:9092'], topic: 'metrics' }, speed: 1, json: false }],
    // own rules read from the file by the functions, handler logs at WARN
    [['--rules', 'r.yaml', '--rules-source', 'file', '--log-level', 'warn'], { rulesFile: 'r.yaml', rulesSource: 'file', source: { kind: 'demo' }, speed: 1, json: false, handlerLogLevel: 'WARN' }],
  ])('%j', (argv, expected) => {
    expect(parseStartArgs(argv)).toEqual(expected);
  });

  it.each([
    [['--speed', '0'], /--speed/],
    [['--speed', 'fast'], /--speed/],
    [['--port', '70000'], /--port/],
    [['--kafka', 'b:9092'], /--kafka needs --topic/],
    [['--kafka', 'b:9092', '--topic', 't', '--samples', 'f'], /alternatives/],
    [['--rules-source', 'ssm'], /--rules-source/],
    [['--log-level', 'loud'], /--log-level/],
    [['--nope'], /Unknown option/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseStartArgs(argv)).toThrow(message);
  });
});

describe('local log', () => {
  const capture = (json: boolean) => {
    const lines: string[] = [];
    const log = createLocalLog({ json, colour: false, now: () => Date.UTC(2026, 0, 1, 10, 2, 14), out: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream });
    return { lines, log };
  };
  const transition = { atMs: Date.UTC(2026, 0, 1, 10, 1, 10), ruleId: 'cpu_high', labels: { alertname: 'cpu_high', instance: 'web-1', env: 'prod' }, kind: 'firing', severity: 'high', value: 95.2 };

  it('writes one readable line per transition: time, event time, rule, labels, from -> to', () => {
    const { lines, log } = capture(false);
    log.transition(transition);
    expect(lines).toEqual(['10:02:14 transition 10:01:10 cpu_high {env="prod", instance="web-1"} pending -> firing [high] value=95.2\n']);
  });

  it('shows a value as the notifications do (6 significant digits), not as a raw float', () => {
    const { lines, log } = capture(false);
    log.transition({ ...transition, value: 94.49333333333333 });
    expect(lines[0]).toContain('value=94.4933\n');
  });

  it('writes one readable line per delivery attempt with its outcome', () => {
    const { lines, log } = capture(false);
    log.delivery({ channel: 'slack', ruleId: 'cpu_high', kind: 'resolved', labels: { instance: 'web-1' }, outcome: 'retry', destinationId: 'slack:webhook:ops', receiveCount: 3 });
    expect(lines).toEqual(['10:02:14 delivery   slack     cpu_high {instance="web-1"} resolved -> slack:webhook:ops retry (receive 3)\n']);
  });

  it('writes JSON lines with --json', () => {
    const { lines, log } = capture(true);
    log.transition({ ...transition, kind: 'resolved' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'transition', rule: 'cpu_high', from: 'firing', to: 'resolved', eventTime: '2026-01-01T10:01:10.000Z' });
  });

  it('formats labels sorted, without alertname', () => {
    expect(formatLabels({ b: '2', alertname: 'x', a: '1' })).toBe('{a="1", b="2"}');
  });
});

describe('function environment', () => {
  const provisioned = {
    tables: { rules: 'p-rules', state: 'p-state', alerts: 'p-alerts', delivery: 'p-delivery', samples: 'p-samples', silences: 'p-silences', groups: 'p-groups' },
    queues: Object.fromEntries(
      Object.keys(QUEUES).map((q) => [q, { url: `u/${q}`, arn: `a/${q}`, name: q, ...(q === 'rejected' ? {} : { dlq: { url: `u/${q}-dlq`, arn: `a/${q}-dlq`, name: `${q}-dlq` } }) }]),
    ),
  } as unknown as Provisioned;
  const config = localConfigValues({ rulesSource: 'dynamodb', consoleUrl: 'http://127.0.0.1:8787', routesParameter: '' });

  it.each(Object.keys(FUNCTIONS) as FunctionName[])('gives %s exactly the variables the topology lists', (fn) => {
    const env = functionEnv(fn, provisioned, config);
    expect(Object.keys(env).sort()).toEqual(Object.keys(FUNCTIONS[fn].env).sort());
  });

  it('renders tables, queue URLs, dead-letter queue URLs and config values', () => {
    expect(functionEnv('deliverSlack', provisioned, config)).toMatchObject({
      DELIVERY_TABLE: 'p-delivery',
      QUEUE_URL: 'u/slack',
      DEAD_LETTER_QUEUE_URL: 'u/slack-dlq',
      DASHBOARD_URL: 'http://127.0.0.1:8787',
    });
    expect(functionEnv('evaluator', provisioned, config)).toMatchObject({ RULES_SOURCE: 'dynamodb', REJECTED_QUEUE_URL: 'u/rejected', SAMPLE_LOG_TABLE: 'p-samples' });
    expect(functionEnv('timers', provisioned, config)).not.toHaveProperty('SAMPLE_LOG_TABLE');
  });
});
