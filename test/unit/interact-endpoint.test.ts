/**
 * The interactions endpoint's handler (functions/interactions/app.ts) with stand-ins for its
 * ports (in-memory replay guard, queue and responder; the real ones run in
 * test/integration/interactions.test.ts): what each request is answered, what is queued, what is
 * counted; and the 3-second answer with a slow back end, driven by an AbortController the test
 * holds (no wall-clock timing).
 */
import { describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { createInteractionsHandler, INTERACTION_PATHS, TRY_AGAIN_TEXT, type InteractionsDeps } from '../../functions/interactions/app.ts';
import { pagerDutySignature, slackSignature } from '../../shared/core/interact/verify.ts';
import { alertButtonValue, SLACK_ACTION_IDS } from '../../shared/core/format/slack.ts';
import type { InteractionQueue, ReplayGuard, SlackResponder } from '../../shared/core/interact/ports.ts';
import type { InteractionWork } from '../../shared/core/interact/work.ts';
import { METRIC } from '../../shared/core/model/metrics.ts';

const SLACK_SECRET = 'slack-signing-secret';
const PD_SECRET = 'pagerduty-webhook-secret';
const WALL_MS = 1_800_000_000_000;
const EVENT_MS = 1_700_000_000_000;

/** Stand-in replay guard: a map (the DynamoDB one is tested against DynamoDB Local). */
class MapReplayGuard implements ReplayGuard {
  readonly keys = new Map<string, number>();
  claim(key: string, expiresAtMs: number): Promise<boolean> {
    if (this.keys.has(key)) return Promise.resolve(false);
    this.keys.set(key, expiresAtMs);
    return Promise.resolve(true);
  }
  release(key: string): Promise<void> {
    this.keys.delete(key);
    return Promise.resolve();
  }
}

/** Stand-in queue: records the work. */
class ListQueue implements InteractionQueue {
  readonly work: InteractionWork[] = [];
  enqueue(work: InteractionWork): Promise<void> {
    this.work.push(work);
    return Promise.resolve();
  }
}

/** Stand-in for a queue that never answers until the request is aborted (a slow back end). */
class HangingQueue implements InteractionQueue {
  started!: () => void;
  readonly running = new Promise<void>((r) => (this.started = r));
  aborted = false;
  enqueue(_work: InteractionWork, signal?: AbortSignal): Promise<void> {
    this.started();
    return new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => {
        this.aborted = true;
        reject(new Error('aborted'));
      });
    });
  }
}

/** Records metrics as `name` or `name|dim=value`. */
function recordingMetrics(): { metrics: Metrics; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  const metrics = {
    addMetric: (name: string, _unit: unknown, n: number) => add(name, n),
    singleMetric: () => {
      const dims: string[] = [];
      const single = {
        addDimension: (k: string, v: string) => (dims.push(`${k}=${v}`), single),
        addMetric: (name: string, _u: unknown, n: number) => add(`${name}|${dims.join(',')}`, n),
      };
      return single;
    },
  } as unknown as Metrics;
  return { metrics, counts };
}

function setup(over: Partial<InteractionsDeps> = {}) {
  const replay = new MapReplayGuard();
  const queue = new ListQueue();
  const told: { url: string; text: string }[] = [];
  const responder: SlackResponder = { ephemeral: (url, text) => (told.push({ url, text }), Promise.resolve(true)) };
  const { metrics, counts } = recordingMetrics();
  const deps: InteractionsDeps = {
    slackSigningSecret: () => Promise.resolve(SLACK_SECRET),
    pagerDutyWebhookSecret: () => Promise.resolve(PD_SECRET),
    replay,
    queue,
    responder,
    clock: { now: () => EVENT_MS },
    wallClock: { now: () => WALL_MS },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
    ...over,
  };
  return { handler: createInteractionsHandler(deps), replay, queue, told, counts };
}

function slackBody(actionId: string = SLACK_ACTION_IDS.acknowledge): string {
  const payload = {
    type: 'block_actions',
    user: { id: 'U0ALICE', username: 'alice' },
    channel: { id: 'C0OPS' },
    response_url: 'https://hooks.slack.com/actions/T1/1/abc',
    actions: [{ action_id: actionId, value: alertButtonValue('f'.repeat(64), 1000), type: 'button', action_ts: '1800000000.000001' }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function slackEvent(body: string, o: { ts?: number; secret?: string; base64?: boolean; headers?: Record<string, string>; method?: string } = {}): LambdaFunctionURLEvent {
  const ts = String(o.ts ?? WALL_MS / 1000);
  return {
    rawPath: INTERACTION_PATHS.slack,
    requestContext: { http: { method: o.method ?? 'POST' } },
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(o.secret ?? SLACK_SECRET, ts, body), ...o.headers },
    body: o.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: o.base64 ?? false,
  } as unknown as LambdaFunctionURLEvent;
}

const pdBody = (type = 'incident.acknowledged') =>
  JSON.stringify({ event: { id: 'E1', event_type: type, occurred_at: '2027-01-15T08:00:00Z', agent: { summary: 'Bob' }, data: { incident_key: 'f'.repeat(64) } } });

function pdEvent(body: string, o: { signature?: string | null; webhookId?: string } = {}): LambdaFunctionURLEvent {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-webhook-id': o.webhookId ?? 'W1' };
  if (o.signature !== null) headers['x-pagerduty-signature'] = o.signature ?? pagerDutySignature(PD_SECRET, body);
  return { rawPath: INTERACTION_PATHS.pagerduty, requestContext: { http: { method: 'POST' } }, headers, body, isBase64Encoded: false } as unknown as LambdaFunctionURLEvent;
}

describe('Slack interactivity requests', () => {
  it('queues a signed click and answers 200 with an empty body; the work is stamped in event time', async () => {
    const s = setup();
    const res = await s.handler(slackEvent(slackBody()));
    expect(res).toMatchObject({ statusCode: 200, body: '' });
    expect(s.queue.work).toHaveLength(1);
    expect(s.queue.work[0]).toMatchObject({ kind: 'slack-action', action: 'acknowledge', user: { id: 'U0ALICE' }, receivedAtMs: EVENT_MS });
    expect(s.counts.get(`${METRIC.interactionsAccepted}|source=slack`)).toBe(1);
  });

  it('decodes a base64 body as Lambda gives it (the signature is over the exact bytes)', async () => {
    const s = setup();
    expect((await s.handler(slackEvent(slackBody(), { base64: true }))).statusCode).toBe(200);
    expect(s.queue.work).toHaveLength(1);
  });

  it.each<[string, () => LambdaFunctionURLEvent, number, string]>([
    // Signed with another secret.
    ['forged', () => slackEvent(slackBody(), { secret: 'not-the-secret' }), 401, 'bad-signature'],
    // Older than 5 minutes by the wall clock.
    ['stale', () => slackEvent(slackBody(), { ts: WALL_MS / 1000 - 301 }), 401, 'stale'],
    // No signature.
    ['unsigned', () => slackEvent(slackBody(), { headers: { 'x-slack-signature': '' } }), 401, 'missing-headers'],
    // Over the bound.
    ['too large', () => slackEvent(`payload=${'a'.repeat(300_000)}`), 413, 'too-large'],
  ])('refuses a %s request, counts it, queues nothing', async (_n, event, status, reason) => {
    const s = setup();
    const res = await s.handler(event());
    expect(res.statusCode).toBe(status);
    expect(s.queue.work).toHaveLength(0);
    expect(s.counts.get(METRIC.interactionsRefused)).toBe(1);
    expect(s.counts.get(`${METRIC.interactionsRefused}|reason=${reason}`)).toBe(1);
  });

  it('refuses a replay (the same signed request again) and counts it; the first one stands', async () => {
    const s = setup();
    const e = slackEvent(slackBody());
    expect((await s.handler(e)).statusCode).toBe(200);
    expect((await s.handler(e)).statusCode).toBe(401);
    expect(s.queue.work).toHaveLength(1);
    expect(s.counts.get(`${METRIC.interactionsRefused}|reason=replayed`)).toBe(1);
  });

  it('answers 200 and queues nothing for a signed payload that is not a Klaxon button (a Runbook link)', async () => {
    const s = setup();
    expect((await s.handler(slackEvent(slackBody(SLACK_ACTION_IDS.runbook)))).statusCode).toBe(200);
    expect(s.queue.work).toHaveLength(0);
    expect(s.replay.keys.size).toBe(0);
  });

  it('answers 503 when the signing secret cannot be read (nothing can be verified)', async () => {
    const s = setup({ slackSigningSecret: () => Promise.reject(new Error('Secrets Manager down')) });
    expect((await s.handler(slackEvent(slackBody()))).statusCode).toBe(503);
  });

  it.each([
    ['an unknown path', { rawPath: '/other' }, 404],
    ['GET', { requestContext: { http: { method: 'GET' } } }, 405],
  ])('answers %s with %d', async (_n, over, status) => {
    const s = setup();
    expect((await s.handler({ ...slackEvent(slackBody()), ...over } as LambdaFunctionURLEvent)).statusCode).toBe(status);
  });

  it('never throws: a failing port is an answer', async () => {
    const s = setup({ replay: { claim: () => Promise.reject(new Error('DynamoDB down')), release: () => Promise.resolve() } });
    const res = await s.handler(slackEvent(slackBody()));
    expect(res.statusCode).toBe(200);
    expect(s.told.map((t) => t.text)).toEqual([TRY_AGAIN_TEXT]);
  });
});

describe('the answer with a slow back end', () => {
  it('Slack: gives up enqueueing when the budget ends, answers 200, tells the person to try again, releases the claim', async () => {
    const budget = new AbortController();
    const queue = new HangingQueue();
    const s = setup({ queue, budget: () => budget.signal });
    const answering = s.handler(slackEvent(slackBody()));
    // The handler is waiting on the queue: the budget runs out (the test's clock, not the wall's).
    await queue.running;
    budget.abort();
    const res = await answering;
    expect(res).toMatchObject({ statusCode: 200, body: '' });
    expect(queue.aborted).toBe(true);
    expect(s.told).toEqual([{ url: 'https://hooks.slack.com/actions/T1/1/abc', text: TRY_AGAIN_TEXT }]);
    // The person's retry is a new click; and this one's claim is gone, so nothing is refused.
    expect(s.replay.keys.size).toBe(0);
    expect(s.counts.get(`${METRIC.interactionsDropped}|source=slack`)).toBe(1);
  });

  it('gives up even when the back end ignores the abort (the budget races it)', async () => {
    const budget = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const deaf: InteractionQueue = { enqueue: () => (started(), new Promise<void>(() => undefined)) };
    const s = setup({ queue: deaf, budget: () => budget.signal });
    const answering = s.handler(slackEvent(slackBody()));
    await running;
    budget.abort();
    expect((await answering).statusCode).toBe(200);
  });

  it('PagerDuty: answers 503 so PagerDuty retries, and releases the claim so the retry is not a replay', async () => {
    const budget = new AbortController();
    const queue = new HangingQueue();
    const s = setup({ queue, budget: () => budget.signal });
    const answering = s.handler(pdEvent(pdBody()));
    await queue.running;
    budget.abort();
    expect((await answering).statusCode).toBe(503);
    expect(s.replay.keys.size).toBe(0);
  });
});

describe('PagerDuty webhooks', () => {
  it('queues a signed event and answers 2xx', async () => {
    const s = setup();
    expect((await s.handler(pdEvent(pdBody()))).statusCode).toBe(200);
    expect(s.queue.work[0]).toMatchObject({ kind: 'pagerduty-event', eventType: 'incident.acknowledged', eventId: 'E1', agent: 'Bob' });
  });

  it.each<[string, () => LambdaFunctionURLEvent, number, string]>([
    // go-pagerduty's advice: 400 for a missing header or body, 403 for a bad signature.
    ['no signature', () => pdEvent(pdBody(), { signature: null }), 400, 'missing-headers'],
    ['a bad signature', () => pdEvent(pdBody(), { signature: pagerDutySignature('other', pdBody()) }), 403, 'bad-signature'],
  ])('refuses %s with %d', async (_n, event, status, reason) => {
    const s = setup();
    expect((await s.handler(event())).statusCode).toBe(status);
    expect(s.queue.work).toHaveLength(0);
    expect(s.counts.get(`${METRIC.interactionsRefused}|reason=${reason}`)).toBe(1);
  });

  it('answers a replayed delivery (same X-Webhook-Id) 2xx without queueing it again, and counts it', async () => {
    const s = setup();
    await s.handler(pdEvent(pdBody(), { webhookId: 'W7' }));
    const again = await s.handler(pdEvent(pdBody(), { webhookId: 'W7' }));
    expect(again.statusCode).toBe(200);
    expect(s.queue.work).toHaveLength(1);
    expect(s.counts.get(`${METRIC.interactionsRefused}|reason=replayed`)).toBe(1);
  });

  it('answers 2xx and queues nothing for an event it does not apply', async () => {
    const s = setup();
    expect((await s.handler(pdEvent(pdBody('incident.priority_updated')))).statusCode).toBe(200);
    expect(s.queue.work).toHaveLength(0);
  });
});
