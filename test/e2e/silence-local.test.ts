/**
 * A silence end to end in local mode (docs/routing.md, "Silences"): the real handlers and
 * emulators; a silence added with `klaxon silence add` mutes an alert as it fires (recorded with
 * the silence id, shown by `klaxon alerts list`, nothing delivered); `klaxon silence expire`
 * ends it, the timers' next run re-checks the alert, and it is notified then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPipeline } from '../../local/start.ts';
import { createLocalLog } from '../../local/runtime/log.ts';
import { run as silenceCli } from '../../cli/silence.ts';
import { run as alertsCli, type AlertRow } from '../../cli/alerts.ts';
import { captureIo } from '../support/cli-io.ts';
import { endpoints } from '../support/aws.ts';
import { startScriptedPipeline } from '../support/scripted-pipeline.ts';
import { waitFor } from '../support/wait.ts';

const RULES = `rules:
  - id: e2e_silenced_disk
    name: Disk full (silenced)
    metric: disk_used_percent
    condition: '> 90'
    for: 20s
    severity: critical
`;

const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;
const sample = (s: number, value: number): string =>
  JSON.stringify({ name: 'disk_used_percent', value, timestamp: T0 + s * 1000, labels: { instance: 'db-silenced', mount: '/data' } });
// pending at 10 s, firing at 30 s; it keeps firing.
const SCRIPT = [sample(0, 50), sample(10, 95), sample(20, 96), sample(30, 97), sample(40, 97)];

let pipeline: LocalPipeline;

async function cli(run: typeof silenceCli, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await run([...args, '--prefix', pipeline.prefix, '--endpoint', endpoints().dynamodb], c.io, {});
  return { code, out: c.out(), err: c.err() };
}

const slackAbout = async (): Promise<unknown[]> => (await pipeline.observer.snapshot()).received.slack.filter((m) => JSON.stringify(m.payload).includes('db-silenced'));

beforeAll(async () => {
  pipeline = await startScriptedPipeline('silence', { rules: RULES, routes: 'routes: []\n' }, {
    log: createLocalLog({ json: true, out: { write: () => true } as unknown as NodeJS.WritableStream }),
  });
}, 90_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('a silence in local mode', () => {
  it('mutes the demo alert while it lasts and notifies it when the silence is expired', async () => {
    const added = await cli(silenceCli, ['add', '--duration', '2h', '--comment', 'e2e maintenance', '--author', 'e2e', 'instance="db-silenced"']);
    expect(added.code).toBe(0);
    const id = added.out.trim();

    for (const r of SCRIPT) pipeline.send(r);
    await pipeline.drain();
    const rows = await waitFor(
      'the alert recorded as silenced',
      async () => (await cli(alertsCli, ['list', '--format', 'json'])).out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AlertRow),
      (rs) => rs.some((r) => r.labels.instance === 'db-silenced' && r.silencedBy.includes(id)),
    );
    expect(rows.find((r) => r.labels.instance === 'db-silenced')).toMatchObject({ state: 'firing', silencedBy: [id] });
    // Dispatch publishes before it commits: a record committed as muted had no job.
    expect(await slackAbout()).toEqual([]);

    expect((await cli(silenceCli, ['expire', id])).code).toBe(0);
    // The alert is due once dispatch's silence cache has forgotten the silence (10 s); the timers
    // run each minute in local mode too: here they are run until it is notified.
    const got = await waitFor(
      'the Slack message once the silence is expired',
      async () => {
        await pipeline.runTimers();
        return slackAbout();
      },
      (ms) => ms.length >= 1,
      { everyMs: 1000, timeoutMs: 60_000 },
    );
    expect(got).toHaveLength(1);
    const after = (await cli(alertsCli, ['list', '--format', 'json'])).out.trim().split('\n').map((l) => JSON.parse(l) as AlertRow);
    expect(after.find((r) => r.labels.instance === 'db-silenced')?.silencedBy).toEqual([]);
  }, 90_000);
});
