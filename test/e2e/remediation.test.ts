/**
 * Auto-remediation end to end in local mode (issue 13; docs/remediation.md): the real evaluator,
 * dispatch, remediate, Slack, interactions endpoint and worker functions, the emulators, the local
 * Slack and the local remediation target.
 *
 *  1. `disk_full` fires; its rule's remediation runs by itself: a signed webhook to the target
 *     ("restarted log-rotator-db-1") and the outcome in the alert's Slack thread; the alert still
 *     fires (only its metric resolves it);
 *  2. `cpu_high` fires; its remediation needs approval: Approve / Reject appear in its thread,
 *     nothing runs; the console's click (the local Slack's `_click`, as the console does it) on
 *     Approve runs it, the approver in the thread and the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPipeline } from '../../local/start.ts';
import type { ReceivedRequest } from '../../local/receivers/http-receiver.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DynamoRemediationStore } from '../../shared/adapters/remediate/store.ts';
import { SLACK_REMEDIATION_ACTION_IDS } from '../../shared/core/format/slack.ts';
import { startScriptedPipeline } from '../support/scripted-pipeline.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - id: disk_full
    metric: disk_used_percent
    condition: '> 90'
    severity: critical
    labels: { team: storage }
    remediation:
      action: restart-log-rotator
      parameters: { Service: 'log-rotator-{{ $labels.instance }}' }
  - id: cpu_high
    metric: cpu_usage_percent
    condition: '> 80'
    severity: high
    labels: { team: platform }
    remediation:
      action: restart-web
      parameters: { Service: '{{ $labels.instance }}' }
      approval: { required: true, timeout: 10m }
`;
const ROUTES = `receiver: ops
receivers:
  - name: ops
    slack: { channel: C0OPS }
`;
const USER = { id: 'U0E2E', name: 'e2e-oncall' } as const;

let pipeline: LocalPipeline;

interface SlackPost {
  readonly thread_ts?: string;
  readonly text?: string;
  readonly attachments?: { blocks?: { type: string; elements?: { action_id: string; value?: string }[] }[] }[];
}

async function posts(): Promise<SlackPost[]> {
  const r = (await (await fetch(`${pipeline.endpoints.slack}/_received`)).json()) as ReceivedRequest[];
  return r.filter((x) => x.path === '/api/chat.postMessage' && x.status === 200).map((x) => x.json as SlackPost);
}

const buttonsOf = (p: SlackPost): string[] => (p.attachments ?? []).flatMap((a) => a.blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []).map((e) => e.action_id) : []));

beforeAll(async () => {
  pipeline = await startScriptedPipeline('remediation', { rules: RULES, routes: ROUTES });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('auto-remediation (local mode)', () => {
  it('runs the remediate function', () => {
    expect(pipeline.functions).toEqual(expect.arrayContaining(['remediate', 'dispatch', 'interactions', 'interactionsWorker']));
  });

  it('the automatic remediation runs by itself, its outcome in the Slack thread; the alert keeps firing', async () => {
    pipeline.send(JSON.stringify({ name: 'disk_used_percent', value: 97, timestamp: pipeline.clock.now(), labels: { instance: 'db-1', mount: '/data' } }));
    await pipeline.drain();
    await waitFor('the target restarted the log rotator', () => Promise.resolve(pipeline.remediation.target.restarts()), (r) => r.length > 0, { timeoutMs: 60_000 });
    expect(pipeline.remediation.target.restarts().map((r) => r.text)).toEqual(['restarted log-rotator-db-1']);
    const note = await waitFor('the outcome in the thread', async () => (await posts()).find((p) => p.thread_ts && /Remediation restart-log-rotator on Service=log-rotator-db-1 ran/.test(p.text ?? '')), (p) => p !== undefined, { timeoutMs: 60_000 });
    expect(note!.thread_ts).toBeDefined();
    const alerts = new DynamoAlertStore(pipeline.clients.dynamodb, pipeline.provisioned.tables.alerts);
    const store = new DynamoRemediationStore(pipeline.clients.dynamodb, pipeline.provisioned.tables.remediations);
    const attempts = await waitFor('the audit record', async () => {
      const all = await Promise.all((await pipeline.observer.snapshot()).alerts.map((a) => store.attemptsOf(String(a.fingerprint))));
      return all.flat();
    }, (a) => a.some((x) => x.status === 'succeeded'));
    const fp = attempts.find((x) => x.action === 'restart-log-rotator')!.fingerprint;
    expect((await alerts.get(fp))!.state).toBe('firing');
  }, 120_000);

  it('the approval remediation waits for a click; Approve (as the console clicks it) runs it with the approver recorded', async () => {
    pipeline.send(JSON.stringify({ name: 'cpu_usage_percent', value: 95, timestamp: pipeline.clock.now(), labels: { instance: 'web-1' } }));
    await pipeline.drain();
    const ask = await waitFor('the approval request in the thread', async () => (await posts()).find((p) => buttonsOf(p).includes(SLACK_REMEDIATION_ACTION_IDS.approve)), (p) => p !== undefined, { timeoutMs: 60_000 });
    expect(buttonsOf(ask!)).toEqual([SLACK_REMEDIATION_ACTION_IDS.approve, SLACK_REMEDIATION_ACTION_IDS.reject]);
    expect(pipeline.remediation.target.restarts().map((r) => r.text)).not.toContain('restarted web-1');
    const snapshot = await waitFor('the console offers Approve', () => pipeline.observer.snapshot(), (s) => s.alerts.some((a) => a.pendingApproval === true));
    const fp = String(snapshot.alerts.find((a) => a.pendingApproval === true)!.fingerprint);
    const click = await pipeline.receivers.slack.click({ fingerprint: fp, action_id: SLACK_REMEDIATION_ACTION_IDS.approve, user: USER });
    expect(click.status).toBe(200);
    await waitFor('the target restarted web-1', () => Promise.resolve(pipeline.remediation.target.restarts().map((r) => r.text)), (t) => t.includes('restarted web-1'), { timeoutMs: 60_000 });
    await waitFor('the outcome with the approver in the thread', async () => (await posts()).find((p) => p.thread_ts && /ran \(approved by (<|&lt;)@U0E2E(>|&gt;) \(e2e-oncall\)\)/.test(p.text ?? '')), (p) => p !== undefined, { timeoutMs: 60_000 });
    const store = new DynamoRemediationStore(pipeline.clients.dynamodb, pipeline.provisioned.tables.remediations);
    expect(await store.attemptsOf(fp)).toEqual([expect.objectContaining({ status: 'succeeded', approver: '<@U0E2E> (e2e-oncall)', action: 'restart-web', target: 'Service=web-1' })]);
  }, 120_000);
});
