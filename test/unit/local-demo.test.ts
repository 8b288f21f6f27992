import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseJobEvent } from '../../shared/core/events/event.ts';
import { wantsAck } from '../../local/demo/oncall.ts';
import { CYCLE_MS, demoRecordsAt, SCRAPE_MS, slackOutageAt, type DemoRecord } from '../../local/demo/scenario.ts';
import { DemoStream } from '../../local/demo/stream.ts';
import { demoLogLines } from '../../local/demo/logs.ts';
import { LOCAL_LOG_GROUP } from '../../local/config/index.ts';
import { createVirtualClock } from '../../local/runtime/clock.ts';

const START = 1_800_000_000_000;
const at = (s: number): DemoRecord[] => demoRecordsAt(START + s * 1000, START);
const value = (recs: DemoRecord[], name: string, label?: [string, string]): number | undefined => {
  for (const r of recs) if (r.kind === 'sample' && r.sample.name === name && (!label || r.sample.labels[label[0]] === label[1])) return r.sample.value;
  return undefined;
};

describe('demo scenario', () => {
  it.each([
    // before the spike
    [20, 'cpu_usage_percent', ['instance', 'web-1'], (v: number) => v < 45],
    // during the spike
    [60, 'cpu_usage_percent', ['instance', 'web-1'], (v: number) => v > 90],
    // recovered
    [130, 'cpu_usage_percent', ['instance', 'web-1'], (v: number) => v < 45],
    // web-3 and web-2 spike later, overlapping the Slack outage (100 s to 190 s)
    [90, 'cpu_usage_percent', ['instance', 'web-3'], (v: number) => v > 90],
    [150, 'cpu_usage_percent', ['instance', 'web-3'], (v: number) => v < 45],
    [90, 'cpu_usage_percent', ['instance', 'web-2'], (v: number) => v < 45],
    [130, 'cpu_usage_percent', ['instance', 'web-2'], (v: number) => v > 90],
    [180, 'cpu_usage_percent', ['instance', 'web-2'], (v: number) => v < 45],
    // the disk is filling past 90 %
    [150, 'disk_used_percent', undefined, (v: number) => v > 90],
    // and cleaned
    [210, 'disk_used_percent', undefined, (v: number) => v < 50],
    // the error rate is high in odd half-minutes
    [40, 'http_error_rate_percent', undefined, (v: number) => v > 5],
    [70, 'http_error_rate_percent', undefined, (v: number) => v < 1],
  ] as const)('at %d s %s%s fits', (s, name, label, ok) => {
    const v = value(at(s), name, label as [string, string] | undefined);
    expect(v).toEqual(expect.any(Number)); // the scenario sends this series at this second
    expect(ok(v!)).toBe(true);
  });

  it('stops the heartbeat from 90 s to 200 s', () => {
    expect(value(at(80), 'heartbeat')).toBe(1);
    expect(value(at(90), 'heartbeat')).toBeUndefined();
    expect(value(at(190), 'heartbeat')).toBeUndefined();
    expect(value(at(200), 'heartbeat')).toBe(1);
  });

  it('sends a malformed record twice a cycle, and stamps samples with event time', () => {
    let malformed = 0;
    for (let s = 0; s < CYCLE_MS / 1000; s += SCRAPE_MS / 1000) {
      for (const r of at(s)) {
        if (r.kind === 'malformed') malformed++;
        else if (r.kind === 'sample') expect(r.sample.timestamp).toBe(START + s * 1000);
        else expect(r.event.timestamp).toBe(START + s * 1000);
      }
    }
    expect(malformed).toBe(2);
  });

  it('tells the Airflow story: retries, a final failure, the same failure in 4 tasks of 3 DAGs, a timeout, then the successes; every event valid', () => {
    const events: { s: number; e: Record<string, unknown> }[] = [];
    for (let s = 0; s < CYCLE_MS / 1000; s += SCRAPE_MS / 1000) for (const r of at(s)) if (r.kind === 'event') events.push({ s, e: r.event });
    const story = events.map(({ s, e }) => `${s}:${String(e.kind)}:${String(e.service)}.${String(e.task)}${e.try !== undefined ? `#${String(e.try)}/${String(e.maxTries)}` : ''}`);
    expect(story).toEqual([
      '20:error:etl_daily.load_orders#1/3',
      '50:error:etl_daily.load_orders#2/3',
      '80:error:etl_daily.load_orders#3/3',
      '90:error:etl_daily.load_customers#1/1',
      '100:error:finance.export_ledger#1/1',
      '110:error:ml_features.build_features#1/1',
      '120:error:reporting.refresh_dashboard#2/2',
      '230:success:etl_daily.load_orders',
      '230:success:etl_daily.load_customers',
      '230:success:finance.export_ledger',
      '230:success:ml_features.build_features',
    ]);
    // Every event is valid as the evaluator validates it.
    for (const { e } of events) expect(parseJobEvent(e), JSON.stringify(e)).toMatchObject({ ok: true });
    // Four tasks of three DAGs fail for good with AccessDenied, and all four succeed later.
    const finals = events.filter(({ e }) => e.kind === 'error' && e.try === e.maxTries && String((e.error as { message: string }).message).includes('AccessDenied'));
    expect(new Set(finals.map(({ e }) => `${String(e.service)}.${String(e.task)}`)).size).toBe(4);
    expect(new Set(finals.map(({ e }) => e.service)).size).toBe(3);
    expect(events.filter(({ e }) => e.kind === 'success').map(({ s }) => s)).toEqual([230, 230, 230, 230]);
  });

  it('has a Slack outage from 100 s to 190 s, every cycle', () => {
    expect([99, 100, 189, 190].map((s) => slackOutageAt(START + s * 1000, START))).toEqual([false, true, true, false]);
    expect(slackOutageAt(START + CYCLE_MS + 150_000, START)).toBe(true);
  });
});

describe('DemoStream', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits scrapes N times faster at speed N and turns the outage on', async () => {
    // Fake timers drive both the stream's setTimeout and the virtual clock's wall time.
    vi.useFakeTimers({ now: 0 });
    const clock = createVirtualClock({ speed: 200, startMs: START, wall: () => Date.now() });
    const sent: number[] = [];
    const outage: boolean[] = [];
    const demo = new DemoStream({ clock, send: (_v, ts) => sent.push(ts), setSlackOutage: async (on) => void outage.push(on) });
    demo.start();
    // 600 ms of wall time = 120 s of event time at speed 200: the scrapes at 0, 10, ..., 120 s.
    await vi.advanceTimersByTimeAsync(600);
    await demo.stop();
    expect([...new Set(sent)]).toEqual(Array.from({ length: 120_000 / SCRAPE_MS + 1 }, (_, i) => START + i * SCRAPE_MS));
    // The outage starts at 100 s, and stop() ends it so the receiver is left healthy.
    expect(outage).toEqual([true, false]);
  });
});

describe("the demo's on-call", () => {
  const T = 1_796_000_000_000;
  const rec = (over: Record<string, unknown> = {}) => ({ ruleId: 'cpu_high', labels: { instance: 'web-1' }, state: 'firing', startsAtMs: T, ...over });
  it.each<[string, Record<string, unknown>, number, boolean]>([
    // 30 s after web-1's CPU alert fired, unacknowledged: acknowledge it.
    ['web-1 firing for 30 s', rec(), T + 30_000, true],
    ['web-1 firing for 29 s', rec(), T + 29_000, false],
    ['already acknowledged', rec({ ack: { by: 'x', atMs: T, source: 'slack' } }), T + 60_000, false],
    ['resolved', rec({ state: 'resolved' }), T + 60_000, false],
    // Another host's or rule's alert is left to escalate.
    ['web-2', rec({ labels: { instance: 'web-2' } }), T + 60_000, false],
    ['another rule', rec({ ruleId: 'disk_full' }), T + 60_000, false],
  ])('%s: %s', (_what, r, now, expected) => {
    expect(wantsAck(r, now)).toBe(expected);
  });
});

describe("the demo's application logs (for the local stand-in for Logs Insights)", () => {
  const start = 1_800_000_000_000;
  it.each([
    // a query whose range starts before the demo did (an alert in its first minutes): negative steps
    ['before the start', start - 5 * 60_000, start + 60_000],
    // a range inside the demo
    ['inside', start + CYCLE_MS, start + CYCLE_MS + 5 * 60_000],
  ])('%s: every line is a string within the range, ERROR lines while the error rate is high', (_c, from, to) => {
    const lines = demoLogLines(LOCAL_LOG_GROUP, from, to, start);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(typeof l.message).toBe('string');
      expect(l.atMs).toBeGreaterThanOrEqual(from);
      expect(l.atMs).toBeLessThanOrEqual(to);
    }
    expect(lines.some((l) => l.message.startsWith('ERROR'))).toBe(true);
  });

  it('another log group has no lines', () => {
    expect(demoLogLines('/other', start, start + 60_000, start)).toEqual([]);
  });
});
