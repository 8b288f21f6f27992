/**
 * A rule deleted from the rule source, against DynamoDB Local and fauxqs: the timers function
 * resolves the alerts of that rule that were firing (once, with the firing's fingerprint), dispatch
 * records them resolved and sends the resolution where the firing went; pending series of the rule
 * resolve nothing; and a rules-source outage is never mistaken for a deletion.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { createEvaluatorHandler } from '../../functions/evaluator/app.ts';
import { createTimersHandler } from '../../functions/timers/app.ts';
import { createDispatchHandler } from '../../functions/dispatch/app.ts';
import { CachedRules, RulesUnavailableError, type RuleSource } from '../../shared/adapters/rules/index.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { SqsDeadLetterSender, SqsJobPublisher } from '../../shared/adapters/sqs/job-publisher.ts';
import { staticRoutesSource } from '../../shared/adapters/routes/routes-source.ts';
import { physicalKey } from '../../shared/adapters/dynamodb/series-state-store.ts';
import { DEFAULT_DISPATCH_CONFIG } from '../../shared/core/dispatch/context.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { parseTransition } from '../../shared/core/dispatch/transition-schema.ts';
import type { AlertTransition, NotificationJob } from '../../shared/core/model/index.ts';
import { METRICS_NAMESPACE } from '../../shared/core/model/metrics.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import { LOCAL_REGION, sqsClient } from '../support/aws.ts';
import { capturedMetrics, evalHarness, plumbed } from './eval-helpers/harness.ts';
import { drainQueue } from './eval-helpers/queue.ts';
import { mskEvent, sample } from './eval-helpers/msk.ts';

const T0 = 1_795_300_000_000;
const CPU = `
  - id: cpu_high
    name: High CPU
    metric: cpu_usage_percent
    condition: '> 80'
    for: 1m
    severity: high
    labels: { team: db }
    annotations: { summary: 'CPU {{ $value }}' }
`;
const DISK = `
  - id: disk_full
    metric: disk_used_percent
    condition: '> 90'
    severity: medium
`;

/** A rule source whose text a test edits, and which it can take down (the source is unreachable). */
function editableSource(text: string): RuleSource & { text: string; down: boolean } {
  const src = {
    name: 'editable',
    text,
    down: false,
    async fetch() {
      if (src.down) throw new Error('rules source unreachable');
      return [{ origin: 'rules.yaml', kind: 'document' as const, text: src.text }];
    },
  };
  return src;
}

/** Evaluator and timers on one editable rule source (rules cached for 1 s of the test clock). */
async function setup() {
  const source = editableSource(`rules:${CPU}${DISK}`);
  const h = await evalHarness(`rules:${CPU}${DISK}`, { start: T0 });
  const rules = new CachedRules({ source, ttlMs: 1_000, clock: h.clock });
  const evaluator = plumbed(createEvaluatorHandler({ ...h.deps, rules }), h.deps);
  const timersDeps = {
    rules,
    states: h.states,
    publisher: h.deps.publisher,
    budget: h.budget,
    clock: h.clock,
    logger: new Logger({ serviceName: 'timers', logLevel: 'SILENT' }),
    metrics: capturedMetrics('timers').metrics,
    staleAfterMs: 300_000,
  };
  const timers = plumbed(createTimersHandler(timersDeps), timersDeps);
  return { h, source, rules, evaluator, timers, timersDeps };
}

const CPU_KEY = 'cpu_high#cpu_usage_percent{instance="db-1"}';

describe('deleted rule', () => {
  it('resolves a firing alert of a deleted rule once, with its fingerprint, and dispatch records it resolved', async () => {
    const { h, source, evaluator, timers } = await setup();
    // db-1 fires (for: 1m); db-2 only goes pending.
    await evaluator(
      mskEvent([
        { partition: 0, offset: 1, value: sample('cpu_usage_percent', 95, T0, { instance: 'db-1' }) },
        { partition: 0, offset: 2, value: sample('cpu_usage_percent', 95, T0 + 60_000, { instance: 'db-1' }) },
        { partition: 0, offset: 3, value: sample('cpu_usage_percent', 95, T0 + 60_000, { instance: 'db-2' }) },
      ]),
    );
    const reader = sqsClient();
    const firingMsgs = await receiveAll(reader, h.p.queues.alertEvents.url);
    const firing = firingMsgs.map((m) => JSON.parse(m.Body!) as AlertTransition);
    expect(firing.map((t) => [t.kind, t.labels.instance])).toEqual([['firing', 'db-1']]);

    // Dispatch takes the firing: slack + pagerduty jobs for team db.
    const dispatch = createDispatchHandler(dispatchDeps(h.p));
    expect(await dispatch({ Records: firingMsgs.map((m) => toSqsRecord(m, h.p.queues.alertEvents.arn, LOCAL_REGION)) })).toEqual({ batchItemFailures: [] });
    const firingJobs = await drainQueue<NotificationJob>(reader, h.p.queues.slack.url);
    expect(firingJobs.map((j) => j.transition.kind)).toEqual(['firing']);

    // The rule is deleted from the source; the timers' cache picks it up after its lifetime.
    source.text = `rules:${DISK}`;
    // Before the items are due (db-2's `for` ends at T0 + 120 s, db-1's sample leaves the 5 min
    // lookback at T0 + 360 s) nothing is read, nothing resolves.
    h.clock.set(T0 + 100_000);
    expect((await timers()).transitions).toEqual([]);

    h.clock.set(T0 + 400_000);
    const run = await timers();
    expect(run.deletedRuleResolutions).toBe(1);
    expect(run.deleted).toBe(2); // db-1 (resolved) and db-2 (pending: deleted silently)
    const resolvedMsgs = await receiveAll(reader, h.p.queues.alertEvents.url);
    expect(resolvedMsgs).toHaveLength(1);
    const resolved = parseTransition(resolvedMsgs[0]!.Body!); // passes dispatch's schema
    expect(resolved).toMatchObject({
      kind: 'resolved',
      fingerprint: firing[0]!.fingerprint,
      ruleId: 'cpu_high',
      ruleName: 'High CPU',
      severity: 'high',
      labels: firing[0]!.labels,
      annotations: { summary: 'rule cpu_high was deleted' },
      activeAtMs: firing[0]!.activeAtMs,
      firedAtMs: firing[0]!.firedAtMs,
      atMs: T0 + 400_000,
      resolvedAtMs: T0 + 400_000,
    });
    expect((await h.states.getMany([CPU_KEY])).size).toBe(0);

    expect(await dispatch({ Records: resolvedMsgs.map((m) => toSqsRecord(m, h.p.queues.alertEvents.arn, LOCAL_REGION)) })).toEqual({ batchItemFailures: [] });
    const record = await h.p.dynamodb.send(new GetItemCommand({ TableName: h.p.tables.alerts, Key: { fingerprint: { S: resolved.fingerprint } } }));
    expect(record.Item?.state?.S).toBe('resolved');
    const resolutionJobs = await drainQueue<NotificationJob>(reader, h.p.queues.slack.url);
    expect(resolutionJobs.map((j) => [j.transition.kind, j.transition.transitionId])).toEqual([['resolved', resolved.transitionId]]);

    // A second run: the item is gone, nothing is resolved again.
    h.clock.set(T0 + 460_000);
    const again = await timers();
    expect(again.transitions).toEqual([]);
    expect(await receiveAll(reader, h.p.queues.alertEvents.url)).toEqual([]);
  });

  it('emits nothing for a pending series of a deleted rule', async () => {
    const { h, source, evaluator, timers } = await setup();
    await evaluator(mskEvent([{ partition: 0, offset: 1, value: sample('cpu_usage_percent', 95, T0, { instance: 'db-1' }) }]));
    expect((await h.states.getMany([CPU_KEY])).get(CPU_KEY)?.state).toMatchObject({ state: 'pending' });
    expect((await h.states.getMany([CPU_KEY])).get(CPU_KEY)?.state.alert).toBeUndefined();
    source.text = `rules:${DISK}`;
    h.clock.set(T0 + 400_000);
    const run = await timers();
    expect(run).toMatchObject({ deleted: 1, deletedRuleResolutions: 0, transitions: [] });
    expect(await h.transitions()).toEqual([]);
  });

  it('deletes a firing item stored without an alert identity (written before it was kept) without a resolution', async () => {
    const { h, source, evaluator, timers } = await setup();
    await evaluator(mskEvent([{ partition: 0, offset: 1, value: sample('disk_used_percent', 99, T0, { mount: '/data' }) }]));
    expect((await h.transitions()).map((t) => t.kind)).toEqual(['firing']);
    // Rewrite the item as an older version of the evaluator stored it: no `alert` in the state.
    const key = 'disk_full#disk_used_percent{mount="/data"}';
    const item = (await h.p.dynamodb.send(new GetItemCommand({ TableName: h.p.tables.state, Key: { pk: { S: physicalKey(key) } } }))).Item!;
    const state = JSON.parse(item.state!.S!) as Record<string, unknown>;
    expect(state.alert).toMatchObject({ severity: 'medium', labels: { alertname: 'disk_full', mount: '/data' } });
    delete state.alert;
    await h.p.dynamodb.send(new PutItemCommand({ TableName: h.p.tables.state, Item: { ...item, state: { S: JSON.stringify(state) } } }));

    source.text = `rules:${CPU}`;
    h.clock.set(T0 + 400_000);
    const run = await timers();
    expect(run).toMatchObject({ deleted: 1, deletedRuleResolutions: 0, transitions: [] });
    expect((await h.states.getMany([key])).size).toBe(0);
  });

  it('resolves nothing when the rules source is unreachable, cached or not', async () => {
    const { h, source, evaluator, timers, timersDeps } = await setup();
    await evaluator(
      mskEvent([
        { partition: 0, offset: 1, value: sample('cpu_usage_percent', 95, T0, { instance: 'db-1' }) },
        { partition: 0, offset: 2, value: sample('cpu_usage_percent', 95, T0 + 60_000, { instance: 'db-1' }) },
      ]),
    );
    const [firing] = await h.transitions();
    expect(firing?.kind).toBe('firing');
    h.clock.set(T0 + 100_000);
    await timers(); // this container has loaded the rules once

    // Outage: the warm container keeps its cached rules; the alert resolves by staleness, as usual
    // (its rule still exists), not as a deletion.
    source.down = true;
    // A cold container with no cached rules fails the run instead of seeing "no rules".
    h.clock.set(T0 + 400_000);
    const cold = createTimersHandler({ ...timersDeps, rules: new CachedRules({ source, ttlMs: 1_000, clock: h.clock }) });
    await expect(cold()).rejects.toBeInstanceOf(RulesUnavailableError);
    expect(await h.transitions()).toHaveLength(1);
    expect((await h.states.getMany([CPU_KEY])).get(CPU_KEY)?.state).toMatchObject({ state: 'firing' });

    const warm = await timers();
    expect(warm.deletedRuleResolutions).toBe(0);
    // the last sample (T0 + 60 s) is in the lookback through T0 + 360 s: resolved 1 ms later
    expect(warm.transitions.map((t) => [t.kind, t.fingerprint, t.atMs])).toEqual([['resolved', firing!.fingerprint, T0 + 360_001]]);
    expect(warm.transitions[0]!.annotations.summary).not.toMatch(/deleted/);
  });
});

/** Receives and deletes what is on a queue, keeping the raw messages (for Lambda's SQS event). */
async function receiveAll(sqs: ReturnType<typeof sqsClient>, url: string) {
  const out = [];
  for (let empty = 0; empty < 2; ) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }));
    const ms = r.Messages ?? [];
    if (ms.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    out.push(...ms);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: ms.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return out;
}

function dispatchDeps(p: Awaited<ReturnType<typeof evalHarness>>['p']) {
  const routes = compileRoutes(
    { receivers: [{ name: 'db', slack: { channel: 'C0DB' } }], routes: [{ matchers: ['team="db"'], receivers: ['db'] }] },
    'test routes',
    { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'default' },
  );
  return {
    store: new DynamoAlertStore(p.dynamodb, p.tables.alerts),
    publisher: new SqsJobPublisher(p.sqs, { slack: p.queues.slack.url, email: p.queues.email.url, pagerduty: p.queues.pagerduty.url, webhook: p.queues.webhook.url }),
    deadLetter: new SqsDeadLetterSender(p.sqs, p.queues.alertEvents.dlq!.url),
    routes: staticRoutesSource(routes),
    config: DEFAULT_DISPATCH_CONFIG,
    clock: { now: () => T0 + 500_000 },
    logger: new Logger({ serviceName: 'dispatch', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'dispatch' }),
  };
}
