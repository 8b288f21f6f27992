/**
 * Grouping end to end in local mode (docs/routing.md, "Grouping"): the real evaluator, dispatch,
 * flush-groups and Slack functions, the emulators, and the local Slack with its posting limit
 * (about one message a second per channel). Each scenario has its own cluster, route and Slack
 * channel (bot-token mode):
 *  - a storm: 500 series of one rule go down together and reach Slack as one grouped message,
 *    updated a few times while dispatch takes the rest in, where ungrouped they would be 500
 *    messages drained at Slack's pace (about one a second: minutes);
 *  - 20 alerts of one group make ONE message, updated in place as they resolve, the changes
 *    replied in its thread, ending resolved;
 *  - a group that keeps firing is notified again each repeat_interval (reason repeat).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPipeline } from '../../local/start.ts';
import type { ReceivedRequest } from '../../local/receivers/http-receiver.ts';
import { startScriptedPipeline } from '../support/scripted-pipeline.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - { id: node_down, metric: node_up, condition: '< 1', severity: critical }
`;
// Slack only (the receivers name no email or PagerDuty): every notification is in the Slack receiver.
// The storm's group_wait and group_interval leave dispatch time to take 500 alerts in on a busy
// two-core machine (it takes them at a few dozen a second there); the others are short.
const ROUTES = `receivers:
  - { name: storm, slack: { channel: C0STORM } }
  - { name: twenty, slack: { channel: C0TWENTY } }
  - { name: repeat, slack: { channel: C0REPEAT } }
routes:
  - matchers: ['cluster="storm"']
    receivers: [storm]
    group_by: [alertname, cluster]
    group_wait: 5s
    group_interval: 10s
    repeat_interval: 1h
  - matchers: ['cluster="twenty"']
    receivers: [twenty]
    group_by: [alertname, cluster]
    group_wait: 2s
    group_interval: 2s
    repeat_interval: 1h
  - matchers: ['cluster="repeat"']
    receivers: [repeat]
    group_by: [alertname, cluster]
    group_wait: 1s
    group_interval: 2s
    repeat_interval: 6s
`;

const STORM = 500;
const TWENTY = 20;

let pipeline: LocalPipeline;

/** `count` series of node_up in a cluster at the pipeline's time, as one array record (a scrape). */
const scrape = (cluster: string, count: number, value: number, from = 0): string =>
  JSON.stringify(
    Array.from({ length: count }, (_, i) => ({ name: 'node_up', value, timestamp: pipeline.clock.now(), labels: { cluster, instance: `${cluster}-${String(from + i).padStart(3, '0')}` } })),
  );

interface SlackCall {
  readonly method: 'chat.postMessage' | 'chat.update';
  readonly status: number;
  readonly atMs: number;
  readonly body: { channel: string; ts?: string; thread_ts?: string; text?: string; attachments?: { blocks?: unknown[] }[] };
}

/** What the local Slack received on one channel, oldest first (its `/_received` record). */
async function slackCalls(channel: string): Promise<SlackCall[]> {
  const res = await fetch(`${pipeline.endpoints.slack}/_received`);
  const all = (await res.json()) as ReceivedRequest[];
  return all
    .filter((r) => r.path.startsWith('/api/') && (r.json as { channel?: string } | undefined)?.channel === channel)
    .map((r) => ({ method: r.path.slice('/api/'.length) as SlackCall['method'], status: r.status, atMs: r.atMs, body: r.json as SlackCall['body'] }));
}

const ok = (cs: SlackCall[]): SlackCall[] => cs.filter((c) => c.status === 200);
/** New messages in the channel (not thread replies). */
const posts = (cs: SlackCall[]): SlackCall[] => ok(cs).filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
const replies = (cs: SlackCall[]): SlackCall[] => ok(cs).filter((c) => c.method === 'chat.postMessage' && c.body.thread_ts);
const updates = (cs: SlackCall[]): SlackCall[] => ok(cs).filter((c) => c.method === 'chat.update');
/** The group's message as it stands: the last update, or the post. */
const current = (cs: SlackCall[]): SlackCall | undefined => updates(cs).at(-1) ?? posts(cs).at(-1);
/** Everything a call shows (fallback text and blocks). */
const shown = (c: SlackCall | undefined): string => JSON.stringify([c?.body.text, c?.body.attachments]);


beforeAll(async () => {
  pipeline = await startScriptedPipeline('group', { rules: RULES, routes: ROUTES });
  // The 20 and the repeated group together; the storm later, alone (behind it, the others' alerts
  // would reach dispatch long after they started, and a group whose first alert started more than
  // group_wait ago is flushed at once).
  pipeline.send(scrape('twenty', TWENTY, 0));
  pipeline.send(scrape('repeat', 2, 0));
  await pipeline.drain();
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('grouping in local mode', () => {
  it('makes one message of 20 alerts, updated in place as they resolve, ending resolved', async () => {
    await waitFor('the group of 20 on Slack', () => slackCalls('C0TWENTY'), (cs) => shown(current(cs)).includes(`[FIRING:${TWENTY}]`), { timeoutMs: 20_000 });

    // Half resolve, then the rest.
    pipeline.send(scrape('twenty', TWENTY / 2, 1));
    await pipeline.drain();
    await waitFor('the reply for 10 resolved', () => slackCalls('C0TWENTY'), (cs) => replies(cs).some((r) => shown(r).includes('Resolved:')), { timeoutMs: 20_000 });
    pipeline.send(scrape('twenty', TWENTY / 2, 1, TWENTY / 2));
    await pipeline.drain();
    const calls = await waitFor('the group resolved', () => slackCalls('C0TWENTY'), (cs) => current(cs)?.body.text?.startsWith('[RESOLVED]') === true, { timeoutMs: 20_000 });

    // One message; every later notification is a reply in its thread and an update of it.
    expect(posts(calls)).toHaveLength(1);
    const ts = updates(calls)[0]!.body.ts;
    expect(ts).toBeTruthy();
    expect(new Set([...updates(calls).map((u) => u.body.ts), ...replies(calls).map((r) => r.body.thread_ts)])).toEqual(new Set([ts]));
    expect(replies(calls).length).toBe(updates(calls).length);
    expect(shown(replies(calls).at(-1))).toContain(`All ${TWENTY / 2} alerts of this group resolved`);
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
  }, 60_000);

  it('repeats a group that keeps firing every repeat_interval', async () => {
    const calls = await waitFor('a repeat notification', () => slackCalls('C0REPEAT'), (cs) => replies(cs).some((r) => shown(r).includes('Still firing')), { timeoutMs: 30_000 });
    expect(posts(calls)).toHaveLength(1);
    expect(shown(current(calls))).toContain('[FIRING:2]');
    const repeat = replies(calls).find((r) => shown(r).includes('Still firing'))!;
    expect(repeat.body.thread_ts).toBe(updates(calls)[0]!.body.ts);
  }, 60_000);

  it('sends a storm of 500 alerts to Slack as one grouped message, updated a few times, none rate-limited', async () => {
    const sentAtMs = Date.now();
    for (let k = 0; k < STORM / 100; k++) pipeline.send(scrape('storm', 100, 0, k * 100));
    await pipeline.drain();
    const calls = await waitFor('the storm on Slack', () => slackCalls('C0STORM'), (cs) => shown(current(cs)).includes(`[FIRING:${STORM}]`), { timeoutMs: 45_000 });
    const allInMs = current(calls)!.atMs - sentAtMs;

    expect(posts(calls)).toHaveLength(1);
    // The first notification at group_wait, then one per group_interval while dispatch takes the rest in.
    expect(posts(calls).length + replies(calls).length).toBeLessThanOrEqual(4);
    expect(shown(current(calls))).toMatch(/and \d+ more firing/);
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    console.log(`storm: ${STORM} alerts on Slack in ${allInMs} ms, ${posts(calls).length} post(s) + ${replies(calls).length} update(s)`);
    expect(allInMs).toBeLessThan(45_000);
  }, 60_000);
});
