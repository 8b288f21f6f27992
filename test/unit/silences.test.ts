/**
 * Silences (docs/routing.md, "Silences"; docs/design.md, "The notification pipeline": silence):
 * Alertmanager's matcher syntax, validation, the silence decision, query and import, as tables;
 * then the silence stage in the composed dispatch pipeline on in-memory ports with a hand-moved
 * clock: muted, recorded with the silence ids, notified when the silence ends, and a resolution of
 * a firing never notified not sent.
 */
import { describe, expect, it } from 'vitest';
import {
  buildSilence,
  decideDedup,
  recheckTransition,
  type AlertRecord,
  type DedupReason,
  CachedSilences,
  CollectingJobPublisher,
  decideSilence,
  DEFAULT_DISPATCH_CONFIG,
  dispatchTransition,
  expireSilences,
  fixedRoutes,
  InMemoryAlertStore,
  InMemoryMutedAlertIndex,
  InMemorySilenceStore,
  InvalidSilenceError,
  parseSilenceImport,
  querySilences,
  recheckMutedAlerts,
  silenceState,
  toAlertmanagerJson,
  validateSilence,
  type CompiledSilence,
  type DispatchPorts,
  type Silence,
  type SilenceMatcher,
  type SilenceReason,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { formatAlertmanagerMatcher, parseAlertmanagerMatcher, parseAlertmanagerMatchers } from '../../shared/core/matchers/alertmanager.ts';
import { matches, MatcherSyntaxError } from '../../shared/core/matchers/index.ts';
import type { AlertTransition, Labels } from '../../shared/core/model/index.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = 1_700_000_000_000;

function silence(matchers: readonly SilenceMatcher[], over: Partial<Silence> = {}): Silence {
  return { id: 's1', matchers, startsAtMs: NOW - HOUR, endsAtMs: NOW + HOUR, createdBy: 'ana', comment: 'maintenance', updatedAtMs: NOW - HOUR, ...over };
}
const eq = (name: string, value: string): SilenceMatcher => ({ name, op: '=', value });

describe('Alertmanager matcher syntax', () => {
  it.each([
    // [text, name, op, value]
    ['team="db"', 'team', '=', 'db'], // quoted
    ['team=db', 'team', '=', 'db'], // unquoted
    [' team = "db" ', 'team', '=', 'db'], // spaces around the parts
    ['env!="prod"', 'env', '!=', 'prod'],
    ['host=~"db\\.example"', 'host', '=~', 'db\\.example'], // a spurious escape is kept: the regex has an escaped dot
    ['host!~"web-.*"', 'host', '!~', 'web-.*'],
    ['msg="say \\"hi\\""', 'msg', '=', 'say "hi"'], // \" is a quote
    ['path="C:\\\\temp"', 'path', '=', 'C:\\temp'], // \\ is one backslash
    ['text="a\\nb"', 'text', '=', 'a\nb'], // \n is a newline
    ['text="a\\tb"', 'text', '=', 'a\\tb'], // \t is not an escape Alertmanager knows: kept
    ['trail=abc\\', 'trail', '=', 'abc\\'], // a final backslash is literal
    ['team=""', 'team', '=', ''], // the empty value
  ] as const)('%s → %s %s %j', (text, name, op, value) => {
    const m = parseAlertmanagerMatcher(text);
    expect({ name: m.name, op: m.op, value: m.value }).toEqual({ name, op, value });
  });

  it.each([
    // [text, what the message says]
    ['team', 'expected name="value"'], // no operator
    ['="db"', 'expected name="value"'], // no name
    ['1team="db"', 'expected name="value"'], // a name cannot start with a digit
    ['team="d"b"', 'unescaped double quote'], // a quote inside the value
    ['team="db', 'not closed'], // an opening quote not closed
    ['team=db"', 'unescaped double quote'], // a closing quote without an opening one
    ['team:x="db"', 'invalid label name'], // Alertmanager's parser reads colons; a silence's label name refuses them
    ['host=~"(?<=x)db"', 'lookbehind is not supported'], // RE2 lacks lookbehind
    ['host=~"db("', 'missing closing )'], // a regex that does not compile
  ])('refuses %s: %s', (text, message) => {
    expect(() => parseAlertmanagerMatcher(text)).toThrow(MatcherSyntaxError);
    expect(() => parseAlertmanagerMatcher(text)).toThrow(message);
  });

  it('anchors regexes fully: =~"db\\.example" matches db.example and not dbXexample or db.example.org', () => {
    const m = parseAlertmanagerMatcher('host=~"db\\.example"');
    expect(matches(m, { host: 'db.example' })).toBe(true);
    expect(matches(m, { host: 'dbXexample' })).toBe(false);
    expect(matches(m, { host: 'db.example.org' })).toBe(false);
  });

  it('reads a list with commas inside quotes, braces optional', () => {
    expect(parseAlertmanagerMatchers('{team="db,ops", env=~"prod|staging"}').map((m) => m.text)).toEqual(['team="db,ops"', 'env=~"prod|staging"']);
    expect(parseAlertmanagerMatchers('a=1,b!=2').map((m) => m.text)).toEqual(['a="1"', 'b!="2"']);
  });

  it.each([['db'], ['db\\.example'], ['say "hi"'], ['a\nb'], ['C:\\temp'], ['x\\']])('writes %j back so that it reads the same', (value) => {
    expect(parseAlertmanagerMatcher(formatAlertmanagerMatcher({ name: 'v', op: '=', value })).value).toBe(value);
  });
});

describe('silence validation', () => {
  it.each([
    // [what is wrong, the silence, the field named]
    ['no matchers', silence([]), 'matchers'],
    ['only matchers that match the empty string', silence([eq('team', ''), { name: 'env', op: '=~', value: '.*' }, { name: 'x', op: '!=', value: 'y' }]), 'matchers'],
    ['a regex that fails to compile', silence([eq('team', 'db'), { name: 'host', op: '=~', value: 'db(' }]), 'matchers[1]'],
    ['a bad label name', silence([eq('1team', 'db')]), 'matchers[0]'],
    ['an unknown operator', silence([{ name: 'team', op: '==' as never, value: 'db' }]), 'matchers[0]'],
    ['endsAt before startsAt', silence([eq('team', 'db')], { startsAtMs: NOW, endsAtMs: NOW - 1 }), 'endsAt'],
    ['a start that is not a time', silence([eq('team', 'db')], { startsAtMs: Number.NaN }), 'startsAt'],
    ['no id', silence([eq('team', 'db')], { id: ' ' }), 'id'],
  ])('refuses %s, naming %s', (_what, s, field) => {
    try {
      validateSilence(s);
      expect.unreachable('validated');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidSilenceError);
      expect((err as InvalidSilenceError).field).toBe(field);
      expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
    }
  });

  it.each([
    // [a valid silence's matchers]
    [[eq('team', 'db')]],
    [[eq('team', ''), eq('env', 'prod')]], // one matcher that does not match "" is enough
    [[{ name: 'host', op: '=~', value: 'db\\..*' } as SilenceMatcher]],
    [[{ name: 'env', op: '!=', value: '' } as SilenceMatcher]], // env!="" does not match a missing label
  ])('accepts %j', (ms) => {
    expect(validateSilence(silence(ms)).compiled).toHaveLength(ms.length);
  });

  it('builds a silence from amtool-style input, or names the field', () => {
    const s = buildSilence({ matchers: ['team="db"', 'host=~"db\\.example"'], durationMs: 2 * HOUR, createdBy: 'ana', comment: 'upgrade' }, 'id1', NOW);
    expect(s).toEqual({ id: 'id1', matchers: [eq('team', 'db'), { name: 'host', op: '=~', value: 'db\\.example' }], startsAtMs: NOW, endsAtMs: NOW + 2 * HOUR, createdBy: 'ana', comment: 'upgrade', updatedAtMs: NOW });
    const field = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        return (err as InvalidSilenceError).field;
      }
      return 'none';
    };
    expect(field(() => buildSilence({ matchers: ['team="db"', 'bad'], durationMs: HOUR, createdBy: 'a', comment: 'c' }, 'x', NOW))).toBe('matchers[1]');
    expect(field(() => buildSilence({ matchers: ['team="db"'], startsAtMs: NOW, endsAtMs: NOW - MIN, createdBy: 'a', comment: 'c' }, 'x', NOW))).toBe('endsAt');
    expect(field(() => buildSilence({ matchers: ['team="db"'], endsAtMs: NOW - MIN, startsAtMs: NOW - HOUR, createdBy: 'a', comment: 'c' }, 'x', NOW))).toBe('endsAt');
    expect(field(() => buildSilence({ matchers: ['team="db"'], durationMs: HOUR, createdBy: 'a', comment: ' ' }, 'x', NOW))).toBe('comment');
    expect(field(() => buildSilence({ matchers: ['team=~".*"'], durationMs: HOUR, createdBy: 'a', comment: 'c' }, 'x', NOW))).toBe('matchers');
  });
});

describe('silence state', () => {
  it.each([
    // [now relative to the silence, state]
    [NOW - 2 * HOUR, 'pending'], // before startsAt
    [NOW - HOUR, 'active'], // at startsAt: active (startsAt <= now)
    [NOW, 'active'],
    [NOW + HOUR - 1, 'active'],
    [NOW + HOUR, 'expired'], // at endsAt: expired (now < endsAt is active)
  ] as const)('at %d: %s', (at, state) => {
    expect(silenceState(silence([eq('a', 'b')]), at)).toBe(state);
  });
});

describe('the silence decision', () => {
  const compiled = (s: Silence): CompiledSilence => validateSilence(s);
  const db = compiled(silence([eq('team', 'db')], { id: 'db' }));
  const dbLater = compiled(silence([eq('team', 'db')], { id: 'db-later', endsAtMs: NOW + 3 * HOUR }));
  const pending = compiled(silence([eq('team', 'db')], { id: 'pending', startsAtMs: NOW + MIN }));
  const expired = compiled(silence([eq('team', 'db')], { id: 'expired', endsAtMs: NOW }));
  const regex = compiled(silence([{ name: 'host', op: '=~', value: 'db\\.example' }], { id: 'regex' }));
  const missing = compiled(silence([eq('team', 'db'), eq('env', '')], { id: 'no-env' }));
  const critical = compiled(silence([eq('severity', 'critical')], { id: 'crit' }));

  it.each<[string, 'firing' | 'resolved', Labels, CompiledSilence[], SilenceReason, string[], number | undefined]>([
    // [why, kind, labels, silences, reason, silencedBy, recheckAtMs]
    ['an active silence that matches mutes', 'firing', { team: 'db' }, [db], 'silenced', ['db'], NOW + HOUR],
    ['every matching silence is named; re-checked at the earliest end', 'firing', { team: 'db' }, [dbLater, db], 'silenced', ['db', 'db-later'], NOW + HOUR],
    ['one matcher that fails: not silenced', 'firing', { team: 'web' }, [db], 'not-silenced', [], undefined],
    ['a pending silence does not mute yet', 'firing', { team: 'db' }, [pending], 'not-silenced', [], undefined],
    ['an expired silence (now = endsAt) does not mute', 'firing', { team: 'db' }, [expired], 'not-silenced', [], undefined],
    ['a regex is anchored: db.example.org is not silenced', 'firing', { host: 'db.example.org' }, [regex], 'not-silenced', [], undefined],
    ['an escaped dot is a dot: dbXexample is not silenced', 'firing', { host: 'dbXexample' }, [regex], 'not-silenced', [], undefined],
    ['the regex matches db.example', 'firing', { host: 'db.example' }, [regex], 'silenced', ['regex'], NOW + HOUR],
    ['a missing label is "": env="" matches an alert without env', 'firing', { team: 'db' }, [missing], 'silenced', ['no-env'], NOW + HOUR],
    ['env="" does not match env=prod', 'firing', { team: 'db', env: 'prod' }, [missing], 'not-silenced', [], undefined],
    ['severity is a label silences match', 'firing', { team: 'db', severity: 'critical' }, [critical], 'silenced', ['crit'], NOW + HOUR],
    ['a resolution is never muted here (it goes where its firing went)', 'resolved', { team: 'db' }, [db], 'resolution', [], undefined],
    ['no silences', 'firing', { team: 'db' }, [], 'not-silenced', [], undefined],
  ])('%s', (_why, kind, labels, silences, reason, silencedBy, recheckAtMs) => {
    const d = decideSilence(kind, labels, silences, NOW);
    expect(d.reason).toBe(reason);
    expect(d.verdict === 'mute' ? d.silencedBy : []).toEqual(silencedBy);
    expect(d.verdict === 'mute' ? d.recheckAtMs : undefined).toBe(recheckAtMs);
  });
});

describe('silence query (amtool filter) and import/export', () => {
  const all = [
    silence([eq('team', 'db'), eq('env', 'prod')], { id: 'a' }),
    silence([eq('team', 'web')], { id: 'b', endsAtMs: NOW + 2 * HOUR }),
    silence([eq('team', 'db')], { id: 'old', endsAtMs: NOW - MIN }),
    silence([{ name: 'host', op: '=~', value: 'db-.*' }], { id: 'c', startsAtMs: NOW + HOUR, endsAtMs: NOW + 3 * HOUR }),
  ];
  it.each([
    // [filter, expired, ids]
    [[], false, ['a', 'b', 'c']], // active and pending, by end
    [[], true, ['old']], // only expired ones
    [['team="db"'], false, ['a']],
    [['team="db"'], true, ['old']],
    [['team=~"d.*"'], false, ['a']],
    [['env="prod"', 'team="db"'], false, ['a']],
    [['env=""'], false, ['b', 'c']], // name="" takes silences without that name
    [['host="db-.*"'], false, ['c']], // a filter reads the silence's matcher value as written
  ] as const)('%j expired=%s → %j', (filter, expired, ids) => {
    expect(querySilences(all, filter, { expired }, NOW).map((s) => s.id)).toEqual(ids);
  });

  it('round-trips through Alertmanager JSON, and refuses a bad file naming the item and field (nothing returned)', () => {
    const json = JSON.parse(JSON.stringify(all.map((s) => toAlertmanagerJson(s, NOW)))) as unknown;
    expect(parseSilenceImport(json, () => 'new', NOW).map(({ updatedAtMs: _u, ...s }) => s)).toEqual(all.map(({ updatedAtMs: _u, ...s }) => s));
    expect(toAlertmanagerJson(all[3]!, NOW)).toMatchObject({ matchers: [{ name: 'host', value: 'db-.*', isRegex: true, isEqual: true }], status: { state: 'pending' } });
    const bad = [
      { matchers: ['team="db"'], startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-01-02T00:00:00Z', createdBy: 'a', comment: 'ok' },
      { matchers: ['team="db"'], startsAt: '2026-01-02T00:00:00Z', endsAt: '2026-01-01T00:00:00Z', createdBy: 'a', comment: 'backwards' },
    ];
    expect(() => parseSilenceImport(bad, () => 'x', NOW)).toThrow('[1].endsAt: ');
    expect(() => parseSilenceImport([{ ...bad[0], matchers: ['team=~"("'] }], () => 'x', NOW)).toThrow('[0].matchers[0]: ');
    expect(() => parseSilenceImport({}, () => 'x', NOW)).toThrow(InvalidSilenceError);
    expect(parseSilenceImport([bad[0]], () => 'generated', NOW)[0]!.id).toBe('generated');
  });
});

describe('silences in the dispatch pipeline (in-memory ports, hand-moved clock)', () => {
  const routes = compileRoutes(
    { receivers: [{ name: 'db', slack: { channel: 'C0DB' }, pagerduty: { routingKey: 'db' } }], routes: [{ matchers: ['team="db"'], receivers: ['db'] }] },
    'routes.yaml',
    { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'primary' },
  );
  const options = { config: DEFAULT_DISPATCH_CONFIG };

  function activation(firedAtMs: number, over: Partial<AlertTransition> = {}): { firing: AlertTransition; resolved: AlertTransition } {
    const base = {
      version: 1 as const,
      fingerprint: 'fp1',
      ruleId: 'cpu',
      ruleName: 'CPU high',
      severity: 'high' as const,
      labels: { alertname: 'cpu', team: 'db', instance: 'db-1' },
      annotations: {},
      value: 95,
      condition: '> 80',
      activeAtMs: firedAtMs - MIN,
      firedAtMs,
      emittedAtMs: firedAtMs,
      ...over,
    };
    return {
      firing: { ...base, transitionId: `f-${firedAtMs}`, kind: 'firing', atMs: firedAtMs },
      resolved: { ...base, transitionId: `r-${firedAtMs}`, kind: 'resolved', atMs: firedAtMs + 10 * MIN, resolvedAtMs: firedAtMs + 10 * MIN },
    };
  }

  function setup(silences: Silence[]) {
    const clock = new ManualClock(NOW);
    const store = new InMemoryAlertStore();
    const silenceStore = new InMemorySilenceStore(silences);
    const cache = new CachedSilences(silenceStore, clock, 10_000);
    const jobs = new CollectingJobPublisher();
    const ports: DispatchPorts = { alerts: store, jobs, routes: fixedRoutes(routes), silences: cache, clock };
    const muted = new InMemoryMutedAlertIndex(store);
    // What the timers function does each minute, with dispatch taking what it publishes.
    const sweep = async (): Promise<number> => {
      const sent: AlertTransition[] = [];
      const n = await recheckMutedAlerts({ muted, publisher: { publish: async (ts) => void sent.push(...ts) } }, clock.now());
      for (const t of sent) await dispatchTransition(ports, t, options);
      return n;
    };
    return { clock, store, silenceStore, cache, jobs, ports, muted, sweep };
  }
  const where = (p: { jobs: CollectingJobPublisher }): string[] => p.jobs.published.map((j) => `${j.transition.kind}:${j.channel}`);

  it('mutes a firing under an active silence, records the silence ids, and notifies it when the silence ends', async () => {
    const p = setup([silence([eq('team', 'db')], { id: 'maint', startsAtMs: NOW - MIN, endsAtMs: NOW + 30 * MIN })]);
    const a = activation(NOW - 5 * MIN);
    const d = await dispatchTransition(p.ports, a.firing, options);
    expect(d.jobs).toEqual([]);
    expect(d.silencedBy).toEqual(['maint']);
    expect(d.unrouted).toBe(false);
    expect(d.trail.find((n) => n.stage === 'silence')).toMatchObject({ reason: 'silenced', subject: 'maint' });
    expect(d.trail.find((n) => n.stage === 'channels')?.reason).toBe('muted');
    expect(p.store.peek('fp1')).toMatchObject({ state: 'firing', fireCount: 1, muted: { silencedBy: ['maint'], recheckAtMs: NOW + 30 * MIN } });

    // Before the end: the sweep finds nothing due.
    p.clock.set(NOW + 29 * MIN);
    expect(await p.sweep()).toBe(0);
    // At the end: re-checked and notified now, on dispatch's clock.
    p.clock.set(NOW + 30 * MIN);
    expect(await p.sweep()).toBe(1);
    expect(where(p)).toEqual(['firing:slack']);
    const r = p.store.peek('fp1')!;
    expect(r.muted).toBeUndefined();
    expect(r.fireCount).toBe(1); // a re-check is not another firing
    expect(r.deliveries['db|slack']?.lastSentAtMs).toBe(NOW + 30 * MIN);
    // Its resolution goes where the firing went.
    await dispatchTransition(p.ports, a.resolved, options);
    expect(where(p)).toEqual(['firing:slack', 'resolved:slack']);
    // Nothing more is due.
    p.clock.set(NOW + 2 * HOUR);
    expect(await p.sweep()).toBe(0);
  });

  it('does not send the resolution of a firing a silence kept from being notified, and never re-checks it', async () => {
    const p = setup([silence([eq('instance', 'db-1')], { id: 'maint' })]);
    const a = activation(NOW - 5 * MIN);
    await dispatchTransition(p.ports, a.firing, options);
    const d = await dispatchTransition(p.ports, a.resolved, options);
    expect(d.jobs).toEqual([]);
    expect(d.trail.find((n) => n.stage === 'channels')?.reason).toBe('firing-not-notified');
    expect(p.store.peek('fp1')).toMatchObject({ state: 'resolved' });
    expect(p.store.peek('fp1')!.muted).toBeUndefined();
    p.clock.set(NOW + 2 * HOUR);
    expect(await p.sweep()).toBe(0);
    expect(p.jobs.published).toEqual([]);
  });

  it('sends the resolution of a firing notified before the silence (the incident is closed)', async () => {
    const p = setup([]);
    const a = activation(NOW - 5 * MIN);
    await dispatchTransition(p.ports, a.firing, options);
    await p.silenceStore.create(silence([eq('team', 'db')], { id: 'later' }));
    p.clock.set(NOW + 20_000); // past the cache lifetime
    const d = await dispatchTransition(p.ports, a.resolved, options);
    expect(d.trail.find((n) => n.stage === 'silence')?.reason).toBe('resolution');
    expect(where(p)).toEqual(['firing:slack', 'resolved:slack']);
  });

  it('mutes again at the re-check when another silence still holds, until the last one ends', async () => {
    const p = setup([
      silence([eq('team', 'db')], { id: 'short', startsAtMs: NOW - MIN, endsAtMs: NOW + 10 * MIN }),
      silence([eq('instance', 'db-1')], { id: 'long', startsAtMs: NOW - MIN, endsAtMs: NOW + 40 * MIN }),
    ]);
    await dispatchTransition(p.ports, activation(NOW - 5 * MIN).firing, options);
    expect(p.store.peek('fp1')!.muted).toMatchObject({ silencedBy: ['long', 'short'], recheckAtMs: NOW + 10 * MIN });
    p.clock.set(NOW + 10 * MIN);
    expect(await p.sweep()).toBe(1);
    expect(p.jobs.published).toEqual([]);
    expect(p.store.peek('fp1')!.muted).toMatchObject({ silencedBy: ['long'], recheckAtMs: NOW + 40 * MIN });
    p.clock.set(NOW + 40 * MIN);
    expect(await p.sweep()).toBe(1);
    expect(where(p)).toEqual(['firing:slack']);
  });

  it('notifies at the next sweep when the silence is expired early (expire makes its muted alerts due)', async () => {
    const p = setup([silence([eq('team', 'db')], { id: 'maint', startsAtMs: NOW - MIN, endsAtMs: NOW + 2 * HOUR })]);
    await dispatchTransition(p.ports, activation(NOW - 5 * MIN).firing, options);
    p.clock.set(NOW + 5 * MIN);
    await expireSilences({ silences: p.silenceStore, muted: p.muted }, ['maint'], p.clock.now());
    // Due once every dispatch instance's cache has forgotten the silence (10 s), not before.
    p.clock.set(NOW + 5 * MIN + 9_999);
    expect(await p.sweep()).toBe(0);
    p.clock.set(NOW + 5 * MIN + 10_000);
    expect(await p.sweep()).toBe(1);
    expect(where(p)).toEqual(['firing:slack']);
  });

  it('a silence takes effect within the cache lifetime, and the store is listed once per lifetime', async () => {
    const p = setup([]);
    await p.silenceStore.create(silence([eq('team', 'db')], { id: 'new' }));
    // The empty list was not read yet: the first transition reads the store.
    await dispatchTransition(p.ports, activation(NOW - 5 * MIN, { fingerprint: 'a' }).firing, options);
    await dispatchTransition(p.ports, activation(NOW - 4 * MIN, { fingerprint: 'b' }).firing, options);
    expect(p.silenceStore.lists).toBe(1);
    expect(p.jobs.published).toEqual([]);
  });
});

describe('dedup of a re-check (the firing a silence muted, published again by the timers)', () => {
  const fired = 10_000_000;
  const t: AlertTransition = {
    version: 1,
    transitionId: 'f1',
    kind: 'firing',
    fingerprint: 'fp',
    ruleId: 'r',
    ruleName: 'r',
    severity: 'high',
    labels: {},
    annotations: {},
    value: 1,
    condition: '> 0',
    atMs: fired,
    activeAtMs: fired - MIN,
    firedAtMs: fired,
    emittedAtMs: fired,
  };
  const record = (over: Partial<AlertRecord>): AlertRecord => ({
    fingerprint: 'fp',
    version: 1,
    state: 'firing',
    ruleId: 'r',
    ruleName: 'r',
    severity: 'high',
    effectiveSeverity: 'high',
    labels: {},
    annotations: {},
    activeAtMs: fired - MIN,
    startsAtMs: fired,
    fireCount: 1,
    fireTimesMs: [fired],
    lastTransition: { id: 'f1', kind: 'firing', atMs: fired },
    recentTransitionIds: ['f1'],
    deliveries: {},
    updatedAtMs: NOW,
    ...over,
  });
  const muted = { silencedBy: ['s'], recheckAtMs: NOW, transition: t };
  const recheck = recheckTransition(record({ muted }), NOW)!;

  it.each<[string, AlertRecord, AlertTransition, DedupReason]>([
    // [why, record, transition, reason]
    ['the muted firing, re-checked: decided again', record({ muted }), recheck, 'muted-recheck'],
    ['the same re-check delivered twice: a duplicate', record({ muted, recentTransitionIds: ['f1', recheck.transitionId] }), recheck, 'duplicate-transition'],
    ['a firing already notified (no longer muted): stale', record({}), recheck, 'already-firing'],
    [
      'a re-check behind the resolution of its activation: stale',
      record({ state: 'resolved', endsAtMs: fired + MIN, lastTransition: { id: 'r1', kind: 'resolved', atMs: fired + MIN } }),
      recheck,
      'older-than-record',
    ],
  ])('%s', (_why, r, tr, reason) => {
    expect(decideDedup(r, tr).reason).toBe(reason);
  });

  it('gives a re-check an id of its own, stable for one re-check time, and none to a record not muted', () => {
    expect(recheck.transitionId).toBe(`f1:recheck:${NOW}`);
    expect(recheckTransition(record({ muted }), NOW + 5)!.transitionId).toBe(recheck.transitionId);
    expect(recheckTransition(record({}), NOW)).toBeUndefined();
  });
});
