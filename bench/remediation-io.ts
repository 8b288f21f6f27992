/**
 * Auto-remediation's DynamoDB cost (issue 13): the remediate work (shared/core/remediate/run.ts)
 * on the real `remediations` table (DynamoRemediationStore) in DynamoDB Local, metered as the
 * other sections are (shared/adapters/dynamodb/capacity.ts; the transaction's write units computed
 * from item sizes by AWS's rules, since DynamoDB Local misreports them). The action itself is the
 * recording executor: what it costs is the action's own price, not Klaxon's.
 *
 * Scenario: 20 alerts each ask for a remediation of their own target (run: the attempt and the
 * target's run in one transaction, then the outcome in one conditional PutItem); then 20 more on
 * the same targets within the cooldown (refused: the refusal alone, one conditional PutItem).
 */
import { meterCapacity } from '../shared/adapters/dynamodb/capacity.ts';
import { DynamoRemediationStore } from '../shared/adapters/remediate/store.ts';
import { CollectingScheduler, RecordingExecutor } from '../shared/core/remediate/in-memory.ts';
import type { RemediationRequest } from '../shared/core/remediate/messages.ts';
import type { RemediationPorts } from '../shared/core/remediate/ports.ts';
import { handleRemediationMessage } from '../shared/core/remediate/run.ts';
import { parseRemediationActions } from '../shared/core/remediate/spec.ts';
import { withLocalAws } from './eval-io.ts';

const ALERTS = 20;
const MIN = 60_000;

/** What the section reports, per remediation. */
export interface RemediationIoFigures {
  readonly run: { readonly requests: number; readonly writeUnits: number; readonly readUnits: number; readonly requestsByCommand: Record<string, number> };
  readonly refused: { readonly requests: number; readonly writeUnits: number; readonly readUnits: number };
}

/** Runs the scenario. */
export async function benchRemediationIo(): Promise<RemediationIoFigures> {
  return await withLocalAws(`remio${process.pid}`, async ({ dynamodb, p }) => {
    const meter = meterCapacity(dynamodb);
    const t0 = Date.now();
    let now = t0;
    const config = parseRemediationActions({ actions: { 'restart-consumer': { ssmAutomation: { document: 'Klaxon-RestartConsumer' } } } });
    const ports: RemediationPorts = {
      store: new DynamoRemediationStore(dynamodb, p.tables.remediations!),
      executor: new RecordingExecutor(),
      notes: { publish: () => Promise.resolve() },
      scheduler: new CollectingScheduler(),
      alerts: { get: () => Promise.resolve(undefined) },
      clock: { now: () => now },
    };
    const request = (i: number, round: number): RemediationRequest => ({
      version: 1,
      kind: 'request',
      requestId: `bench-${round}-${i}`,
      fingerprint: `fp-${round}-${i}`,
      firedAtMs: now,
      ruleId: 'consumer-lag',
      severity: 'critical',
      labels: { service: `svc-${i}`, alertname: 'consumer-lag' },
      spec: { action: 'restart-consumer', parameters: { Service: '{{ $labels.service }}' }, cooldownMs: 30 * MIN, maxAttempts: 2, attemptsWindowMs: 24 * 60 * MIN, dryRun: false },
      atMs: now,
    });
    const measure = async (round: number, expect: string) => {
      meter.reset();
      for (let i = 0; i < ALERTS; i++) {
        const out = await handleRemediationMessage(ports, config, request(i, round));
        if (!('status' in out) || out.status !== expect) throw new Error(`bench remediation ${round}/${i}: expected ${expect}, got ${JSON.stringify(out)}`);
      }
      const t = meter.totals();
      // The meter's own DescribeTable (the table's shape for the transaction's units) is not the work's.
      const own = [...meter.requests].filter(([k]) => k !== 'DescribeTableCommand').sort(([a], [b]) => a.localeCompare(b));
      const requests = own.reduce((a, [, v]) => a + v, 0);
      return {
        requests: requests / ALERTS,
        writeUnits: (t.write.measured + t.write.computed) / ALERTS,
        readUnits: (t.read.measured + t.read.computed) / ALERTS,
        requestsByCommand: Object.fromEntries(own.map(([k, v]) => [k, v / ALERTS])),
      };
    };
    const run = await measure(0, 'succeeded');
    now += 5 * MIN;
    const refused = await measure(1, 'refused');
    return { run, refused: { requests: refused.requests, writeUnits: refused.writeUnits, readUnits: refused.readUnits } };
  });
}
