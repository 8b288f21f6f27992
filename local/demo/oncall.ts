/**
 * The demo's on-call person (issue 12; docs/incidents.md): a stand-in for someone reading Slack,
 * named as such. Each second it looks at the alert records, and 30 s (event time) after the demo's
 * CPU alert on web-1 fires, it clicks that message's Acknowledge button in the local Slack
 * (`_click`: a correctly signed interactivity payload to the local interactions endpoint, the same
 * path as a click in Slack). The reporting DAG's recurring timeout is left unacknowledged, so its
 * escalation policy emails the next level (demo routes: `reporting-oncall`).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../shared/core/model/index.ts';
import { SLACK_ACTION_IDS } from '../../shared/core/format/slack.ts';

/** Who the demo's on-call is in Slack. */
export const DEMO_ONCALL = { id: 'U0DEMO0001', name: 'demo-oncall' } as const;
/** How long after the firing the demo's on-call acknowledges (event time). */
export const DEMO_ACK_AFTER_MS = 30_000;

/** Options of {@link DemoOncall}. */
export interface DemoOncallOptions {
  readonly dynamodb: DynamoDBClient;
  readonly alertsTable: string;
  readonly clock: Clock;
  readonly click: (req: { fingerprint: string; action_id: string; user: { id: string; name: string } }) => Promise<{ status: number; body: string }>;
  readonly onAck?: (fingerprint: string) => void;
  readonly onError?: (err: unknown) => void;
}

/** Which record the demo's on-call acknowledges: web-1's firing CPU alert, not acknowledged, fired 30 s ago. */
export function wantsAck(r: Record<string, unknown>, nowMs: number): boolean {
  const labels = (r.labels ?? {}) as Record<string, string>;
  return r.ruleId === 'cpu_high' && labels.instance === 'web-1' && r.state === 'firing' && r.ack === undefined && typeof r.startsAtMs === 'number' && r.startsAtMs + DEMO_ACK_AFTER_MS <= nowMs;
}

/** The demo's on-call. */
export class DemoOncall {
  private timer: NodeJS.Timeout | undefined;
  private readonly clicked = new Set<string>();
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly o: DemoOncallOptions) {
    this.doc = DynamoDBDocumentClient.from(o.dynamodb);
  }

  start(): void {
    const tick = (): void => {
      this.check()
        .catch((err: unknown) => this.o.onError?.(err))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, 1000).unref();
        });
    };
    this.timer = setTimeout(tick, 1000).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    const res = await this.doc.send(new ScanCommand({ TableName: this.o.alertsTable, FilterExpression: 'ruleId = :r', ExpressionAttributeValues: { ':r': 'cpu_high' } }));
    for (const r of res.Items ?? []) {
      const key = `${String(r.fingerprint)}:${String(r.startsAtMs)}`;
      if (this.clicked.has(key) || !wantsAck(r, this.o.clock.now())) continue;
      this.clicked.add(key);
      const out = await this.o.click({ fingerprint: String(r.fingerprint), action_id: SLACK_ACTION_IDS.acknowledge, user: { ...DEMO_ONCALL } });
      if (out.status === 200) this.o.onAck?.(String(r.fingerprint));
      else this.o.onError?.(new Error(`the demo's Acknowledge click answered ${out.status}: ${out.body.slice(0, 200)}`));
    }
  }
}
