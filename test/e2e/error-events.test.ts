/**
 * Error events end to end in local mode, with the demo stream (local/demo/scenario.ts) at speed 8:
 * its Airflow tasks fail, retry and recover. The real evaluator classifies and fingerprints them
 * (the demo's events configuration), dispatch groups them by category and error, flush-groups
 * and the Slack function post one summary message to the data channel, and the successes resolve
 * the alerts: the console's snapshot shows the classified alerts with their reasons, the summary
 * notification, and the auto-resolution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalPipeline } from '../../local/start.ts';
import type { LocalLog } from '../../local/runtime/log.ts';
import type { ReceivedRequest } from '../../local/receivers/http-receiver.ts';
import type { ErrorAlertView } from '../../local/console/observer.ts';
import { endpoints } from '../support/aws.ts';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.ts';
import { DEMO_ONCALL } from '../../local/demo/oncall.ts';
import { waitFor } from '../support/wait.ts';

let pipeline: LocalPipeline;
const log: LocalLog = { info() {}, warn() {}, error() {}, rejected() {}, transition() {}, delivery() {} };

/** What the local Slack received for the demo's data channel (bot token), 200s only. */
async function dataChannel(): Promise<{ method: string; text: string }[]> {
  const all = (await (await fetch(`${pipeline.endpoints.slack}/_received`)).json()) as ReceivedRequest[];
  return all
    .filter((r) => r.path.startsWith('/api/') && r.status === 200 && (r.json as { channel?: string } | undefined)?.channel === '#data-alerts')
    .map((r) => ({ method: r.path.slice('/api/'.length), text: String((r.json as { text?: string }).text ?? '') }));
}

const errorAlerts = async (): Promise<readonly ErrorAlertView[]> => (await pipeline.observer.snapshot()).errorAlerts;

beforeAll(async () => {
  pipeline = await startLocal({ endpoints: endpoints(), source: { kind: 'demo' }, speed: 8, consolePort: false, handlerLogLevel: 'ERROR', prefix: `errev${process.pid}`, log });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('error events in local mode (the demo)', () => {
  it('classifies the failures with their reasons, sends one summary for 4 tasks of 3 DAGs, and resolves them when the tasks succeed', async () => {
    // Classified, with the rule and its reason; the retried failures fired the same alert at low first.
    const classified = await waitFor(
      'the demo failures classified',
      errorAlerts,
      (xs) => xs.filter((x) => x.rule === 'credentials').length >= 4 && xs.some((x) => x.rule === 'timeout'),
      { timeoutMs: 90_000, everyMs: 500 },
    );
    const orders = classified.find((x) => x.task === 'etl_daily.load_orders')!;
    expect(orders).toMatchObject({ error: 'ClientError', severity: 'high', reason: expect.stringContaining('credential or permission error') });
    expect(orders.count).toBeGreaterThanOrEqual(3);
    expect(classified.find((x) => x.task === 'reporting.refresh_dashboard')).toMatchObject({ error: 'AirflowTaskTimeout', rule: 'timeout', severity: 'medium' });

    // One summary message for the four tasks (posted, then updated in place), not four.
    const calls = await waitFor('the summary on Slack', dataChannel, (cs) => cs.some((c) => c.text.includes('ClientError in 4 tasks of 3 DAGs')), { timeoutMs: 90_000, everyMs: 500 });
    const summaries = calls.filter((c) => c.text.includes('ClientError in'));
    expect(summaries.filter((c) => c.method === 'chat.postMessage').length).toBeLessThanOrEqual(2);

    // The tasks succeed at 230 s of the cycle: resolved by their success, and the group message says so.
    const resolved = await waitFor(
      'the auto-resolution',
      errorAlerts,
      (xs) => xs.filter((x) => x.rule === 'credentials' && x.status === 'resolved' && x.resolvedBy === 'success').length >= 4,
      { timeoutMs: 120_000, everyMs: 500 },
    );
    expect(resolved.filter((x) => x.status === 'resolved').every((x) => (x.resolvedAtMs ?? 0) >= x.lastSeenMs)).toBe(true);
    await waitFor('the group resolved on Slack', dataChannel, (cs) => cs.some((c) => c.text.startsWith('[RESOLVED]') && c.text.includes('ClientError in 4 tasks of 3 DAGs')), { timeoutMs: 120_000, everyMs: 500 });
  }, 300_000);
});

describe('incident handling in the demo', () => {
  it("the on-call acknowledges web-1's CPU alert from Slack; the unacknowledged reporting failure escalates to its owner", async () => {
    const alerts = new DynamoAlertStore(pipeline.clients.dynamodb, pipeline.provisioned.tables.alerts);
    const scan = async () => {
      const { DynamoDBDocumentClient, ScanCommand } = await import('@aws-sdk/lib-dynamodb');
      const r = await DynamoDBDocumentClient.from(pipeline.clients.dynamodb).send(new ScanCommand({ TableName: pipeline.provisioned.tables.alerts }));
      return (r.Items ?? []) as { fingerprint: string; ruleId?: string; labels?: Record<string, string>; ack?: { by: string; source: string } }[];
    };
    const acked = await waitFor('the CPU alert acknowledged by the demo on-call', scan, (items) => items.some((i) => i.ruleId === 'cpu_high' && i.labels?.instance === 'web-1' && i.ack !== undefined), { timeoutMs: 120_000, everyMs: 500 });
    const rec = await alerts.get(acked.find((i) => i.ruleId === 'cpu_high' && i.ack)!.fingerprint);
    expect(rec!.ack).toMatchObject({ by: expect.stringContaining(DEMO_ONCALL.id), source: 'slack' });
    // The reporting DAG's timeout nobody acknowledged: its escalation policy emails the owner, marked escalated.
    const store = await waitFor(
      'the escalated email to the reporting lead',
      async () => (await (await fetch(`${pipeline.endpoints.ses}/store`)).json()) as { emails: { subject: string; destination: { to: string[] } }[] },
      (st) => st.emails.some((e) => e.destination.to.includes('reporting-lead@example.com') && e.subject.startsWith('[ESCALATED]')),
      { timeoutMs: 120_000, everyMs: 500 },
    );
    expect(store.emails.find((e) => e.destination.to.includes('reporting-lead@example.com'))!.subject).toMatch(/^\[ESCALATED\] \[MEDIUM\] AirflowTaskTimeout in reporting\.refresh_dashboard/);
  }, 300_000);
});
