/**
 * Inhibition (docs/routing.md, "Inhibition"): the pure decision against Alertmanager 0.25's
 * semantics (equal labels, missing labels, self-inhibition, two-sided matches), the config's
 * validation, the writes each transition plans, and the pipeline on in-memory ports: a critical
 * alert mutes the high and medium alerts of its cluster and alertname, which are notified when it
 * resolves, through release messages.
 */
import { describe, expect, it } from 'vitest';
import {
  CollectingJobPublisher,
  CollectingReleasePublisher,
  decideInhibition,
  DEFAULT_DISPATCH_CONFIG,
  dispatchRelease,
  dispatchTransition,
  fixedRoutes,
  inhibitSides,
  InMemoryAlertStore,
  InMemoryInhibitionStore,
  planInhibitWrites,
  RoutesConfigError,
  toReleaseMessage,
  InvalidReleaseError,
  type DispatchPorts,
  type InhibitItem,
  type InhibitReason,
  type InhibitRule,
  type ReleaseMessage,
} from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import type { AlertTransition, Labels, NotificationJob, Severity } from '../../shared/core/model/index.ts';
import { withSeverityLabel } from '../../shared/core/model/severity.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';

const MIN = 60_000;
const NOW = 1_700_000_000_000;

/** Compiles inhibit rules as a routes file would hold them. */
function rulesOf(inhibit_rules: unknown[]): readonly InhibitRule[] {
  return compileRoutes({ inhibit_rules }, 'routes.yaml').inhibitRules ?? [];
}

const CANONICAL = rulesOf([{ source_matchers: ['severity="critical"'], target_matchers: ['severity=~"high|medium"'], equal: ['cluster', 'alertname'] }]);

/** The items as the firing `sources` would have written them (each registers where it matches the source side). */
function itemsFrom(rules: readonly InhibitRule[], sources: readonly { fp: string; labels: Labels }[]): Map<string, InhibitItem> {
  const items = new Map<string, { key: string; sources: Map<string, { firedAtMs: number; twoSided: boolean }>; targets: Map<string, number> }>();
  for (const s of sources) {
    for (const side of inhibitSides(rules, s.labels)) {
      if (!side.isSource) continue;
      const it = items.get(side.key) ?? { key: side.key, sources: new Map(), targets: new Map() };
      it.sources.set(s.fp, { firedAtMs: 1, twoSided: side.isTarget });
      items.set(side.key, it);
    }
  }
  return items;
}

describe('inhibit: the decision (Alertmanager 0.25 semantics)', () => {
  const a = (fp: string, labels: Labels): { fp: string; labels: Labels } => ({ fp, labels });
  it.each<[string, readonly InhibitRule[], { fp: string; labels: Labels }, { fp: string; labels: Labels }[], InhibitReason, string[]]>([
    // the canonical use: a critical alert mutes the high alert of the same cluster and alertname
    ['critical mutes high, same cluster and alertname', CANONICAL, a('t', { alertname: 'Down', cluster: 'eu', severity: 'high' }), [a('s', { alertname: 'Down', cluster: 'eu', severity: 'critical' })], 'inhibited', ['s']],
    // ... and the medium one
    ['critical mutes medium', CANONICAL, a('t', { alertname: 'Down', cluster: 'eu', severity: 'medium' }), [a('s', { alertname: 'Down', cluster: 'eu', severity: 'critical' })], 'inhibited', ['s']],
    // low is not a target of the canonical rule
    ['low is not a target', CANONICAL, a('t', { alertname: 'Down', cluster: 'eu', severity: 'low' }), [a('s', { alertname: 'Down', cluster: 'eu', severity: 'critical' })], 'not-a-target', []],
    // another cluster: equal fails
    ['another cluster is not muted', CANONICAL, a('t', { alertname: 'Down', cluster: 'us', severity: 'high' }), [a('s', { alertname: 'Down', cluster: 'eu', severity: 'critical' })], 'no-firing-source', []],
    // another alertname: equal fails
    ['another alertname is not muted', CANONICAL, a('t', { alertname: 'Slow', cluster: 'eu', severity: 'high' }), [a('s', { alertname: 'Down', cluster: 'eu', severity: 'critical' })], 'no-firing-source', []],
    // a label missing on both sides is equal ("" = "")
    ['cluster missing on both sides counts as equal', CANONICAL, a('t', { alertname: 'Down', severity: 'high' }), [a('s', { alertname: 'Down', severity: 'critical' })], 'inhibited', ['s']],
    // missing on one side only: not equal
    ['cluster missing on the target only', CANONICAL, a('t', { alertname: 'Down', severity: 'high' }), [a('s', { alertname: 'Down', cluster: 'eu', severity: 'critical' })], 'no-firing-source', []],
    // missing on the source only: not equal
    ['cluster missing on the source only', CANONICAL, a('t', { alertname: 'Down', cluster: 'eu', severity: 'high' }), [a('s', { alertname: 'Down', severity: 'critical' })], 'no-firing-source', []],
    // an empty value and a missing label are the same in Alertmanager
    ['cluster="" equals a missing cluster', CANONICAL, a('t', { alertname: 'Down', cluster: '', severity: 'high' }), [a('s', { alertname: 'Down', severity: 'critical' })], 'inhibited', ['s']],
    // no equal labels: any firing source mutes every target
    ['no equal: any source mutes', rulesOf([{ source_matchers: ['alertname="ClusterDown"'], target_matchers: ['alertname!="ClusterDown"'] }]), a('t', { alertname: 'X', cluster: 'us' }), [a('s', { alertname: 'ClusterDown', cluster: 'eu' })], 'inhibited', ['s']],
    // several sources: every inhibiting fingerprint, sorted
    ['two sources, both listed', CANONICAL, a('t', { alertname: 'Down', cluster: 'eu', severity: 'high' }), [a('s2', { alertname: 'Down', cluster: 'eu', severity: 'critical', instance: 'b' }), a('s1', { alertname: 'Down', cluster: 'eu', severity: 'critical', instance: 'a' })], 'inhibited', ['s1', 's2']],
    // no source firing at all
    ['no source firing', CANONICAL, a('t', { alertname: 'Down', cluster: 'eu', severity: 'high' }), [], 'no-firing-source', []],
    // an alert never inhibits itself: it matches both sides and is the only one
    ['never itself', rulesOf([{ source_matchers: ['team="db"'], target_matchers: ['team="db"'], equal: ['cluster'] }]), a('x', { team: 'db', cluster: 'eu' }), [a('x', { team: 'db', cluster: 'eu' })], 'only-itself', []],
    // two alerts matching both sides do not mute each other (Alertmanager's excludeTwoSidedMatch)
    ['two-sided alerts do not mute each other', rulesOf([{ source_matchers: ['team="db"'], target_matchers: ['team="db"'], equal: ['cluster'] }]), a('x', { team: 'db', cluster: 'eu' }), [a('y', { team: 'db', cluster: 'eu' })], 'only-itself', []],
    // a two-sided target is muted by a one-sided source
    ['a two-sided target is muted by a source that is not two-sided', rulesOf([{ source_matchers: ['team="db"'], target_matchers: ['tier="backend"'], equal: ['cluster'] }]), a('x', { team: 'db', tier: 'backend', cluster: 'eu' }), [a('y', { team: 'db', cluster: 'eu' })], 'inhibited', ['y']],
    // a one-sided target is muted by a two-sided source
    ['a one-sided target is muted by a two-sided source', rulesOf([{ source_matchers: ['team="db"'], target_matchers: ['tier="backend"'], equal: ['cluster'] }]), a('x', { tier: 'backend', cluster: 'eu' }), [a('y', { team: 'db', tier: 'backend', cluster: 'eu' })], 'inhibited', ['y']],
    // regex matchers are fully anchored: severity=~"high" does not take "highest"
    ['anchored regex target', CANONICAL, a('t', { alertname: 'Down', cluster: 'eu', severity: 'highest' }), [a('s', { alertname: 'Down', cluster: 'eu', severity: 'critical' })], 'not-a-target', []],
    // a second rule that mutes through another equal set
    [
      'the second of two rules mutes',
      rulesOf([
        { source_matchers: ['severity="critical"'], target_matchers: ['severity="high"'], equal: ['cluster'] },
        { source_matchers: ['alertname="NodeDown"'], target_matchers: ['alertname!="NodeDown"'], equal: ['node'] },
      ]),
      a('t', { alertname: 'DiskFull', cluster: 'eu', node: 'n1', severity: 'high' }),
      [a('s', { alertname: 'NodeDown', cluster: 'us', node: 'n1', severity: 'critical' })],
      'inhibited',
      ['s'],
    ],
  ])('%s', (_name, rules, target, sources, reason, by) => {
    const d = decideInhibition(target.fp, target.labels, rules, itemsFrom(rules, sources));
    expect(d.reason).toBe(reason);
    expect(d.muted).toBe(reason === 'inhibited');
    expect(d.inhibitedBy).toEqual(by);
  });
});

describe('inhibit: the writes a transition plans', () => {
  const high = withSeverityLabel({ alertname: 'Down', cluster: 'eu' }, 'high');
  const critical = withSeverityLabel({ alertname: 'Down', cluster: 'eu' }, 'critical');
  const key = inhibitSides(CANONICAL, critical)[0]!.key;
  it.each<[string, 'firing' | 'resolved', Labels, boolean, string[], { addSources: number; removeSources: number; addTargets: number; removeTargets: number }]>([
    // a source registers when it fires
    ['a firing source registers', 'firing', critical, false, [], { addSources: 1, removeSources: 0, addTargets: 0, removeTargets: 0 }],
    // and leaves when it resolves (its targets are released)
    ['a resolving source leaves', 'resolved', critical, false, [], { addSources: 0, removeSources: 1, addTargets: 0, removeTargets: 0 }],
    // a muted target registers where its inhibitors are
    ['a muted target registers', 'firing', high, true, [], { addSources: 0, removeSources: 0, addTargets: 1, removeTargets: 0 }],
    // a target no longer muted leaves the items it waited on
    ['a released target leaves', 'firing', high, false, [key], { addSources: 0, removeSources: 0, addTargets: 0, removeTargets: 1 }],
    // a held target that resolves leaves too
    ['a resolving held target leaves', 'resolved', high, false, [key], { addSources: 0, removeSources: 0, addTargets: 0, removeTargets: 1 }],
    // an alert no rule concerns writes nothing
    ['no rule, no write', 'firing', { alertname: 'Down', severity: 'low' }, false, [], { addSources: 0, removeSources: 0, addTargets: 0, removeTargets: 0 }],
  ])('%s', (_name, kind, labels, muted, previous, counts) => {
    const decision = muted ? { reason: 'inhibited' as const, muted: true, inhibitedBy: ['s'], keys: [key] } : undefined;
    const w = planInhibitWrites(kind, 1, labels, CANONICAL, decision, previous);
    expect({ addSources: w.addSources.length, removeSources: w.removeSources.length, addTargets: w.addTargets.length, removeTargets: w.removeTargets.length }).toEqual(counts);
  });
});

describe('inhibit_rules: validation', () => {
  it.each<[string, unknown, string]>([
    // an unknown operator
    ['a bad source matcher', [{ source_matchers: ['severity=="critical"'] }], 'inhibit_rules[0].source_matchers[0]: invalid matcher'],
    // RE2 lacks lookaround
    ['a regex RE2 cannot compile', [{ target_matchers: ['a=~"(?=x)"'] }], 'inhibit_rules[0].target_matchers[0]: invalid regular expression'],
    // equal names labels
    ['a label name that is not one', [{ equal: ['cluster', 'not-a-label'] }], 'inhibit_rules[0].equal[1]: not a label name'],
    // listed twice
    ['a label listed twice', [{}, { equal: ['cluster', 'cluster'] }], 'inhibit_rules[1].equal[1]: label "cluster" listed twice'],
    // Alertmanager's deprecated forms are refused by name
    ['the deprecated source_match', [{ source_match: { severity: 'critical' } }], 'inhibit_rules[0]: Unrecognized key: "source_match"'],
    // equal must be a list
    ['equal as a string', [{ equal: 'cluster' }], 'inhibit_rules[0].equal: Invalid input'],
  ])('%s', (_name, inhibit_rules, message) => {
    expect(() => compileRoutes({ inhibit_rules }, 'routes.yaml')).toThrow(RoutesConfigError);
    try {
      compileRoutes({ inhibit_rules }, 'routes.yaml');
    } catch (err) {
      expect((err as Error).message).toContain('routes.yaml: invalid routes config');
      expect((err as Error).message).toContain(message);
    }
  });

  it('keys a rule by its content, not its position', () => {
    const one = rulesOf([{ source_matchers: ['a="1"'], equal: ['x'] }]);
    const two = rulesOf([{ source_matchers: ['b="2"'] }, { source_matchers: ['a="1"'], equal: ['x'] }]);
    expect(two[1]!.id).toBe(one[0]!.id);
    expect(two[1]!.path).toBe('inhibit_rules[1]');
  });

  it.each<[string, unknown]>([
    ['no version', { kind: 'release', fingerprint: 'x', firedAtMs: 1, cause: 'inhibition-ended', by: 's', atMs: 2 }],
    ['an unknown cause', { version: 1, kind: 'release', fingerprint: 'x', firedAtMs: 1, cause: 'whatever', by: 's', atMs: 2 }],
  ])('refuses a release message with %s', (_name, doc) => {
    expect(() => toReleaseMessage(doc)).toThrow(InvalidReleaseError);
  });
});

describe('inhibition in the dispatch pipeline (in-memory ports)', () => {
  const routes = compileRoutes(
    {
      receivers: [{ name: 'ops', slack: { channel: 'C0OPS' }, email: { to: ['ops@example.com'] }, pagerduty: { routingKey: 'ops' } }],
      receiver: 'ops',
      inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity=~"high|medium"'], equal: ['cluster', 'alertname'] }],
    },
    'routes.yaml',
  );
  const options = { config: DEFAULT_DISPATCH_CONFIG };

  function ports(): DispatchPorts & { alerts: InMemoryAlertStore; jobs: CollectingJobPublisher; inhibitions: InMemoryInhibitionStore; releases: CollectingReleasePublisher; clock: ManualClock } {
    return {
      alerts: new InMemoryAlertStore(),
      jobs: new CollectingJobPublisher(),
      routes: fixedRoutes(routes),
      clock: new ManualClock(NOW),
      inhibitions: new InMemoryInhibitionStore(),
      releases: new CollectingReleasePublisher(),
    };
  }

  function alert(fp: string, severity: Severity, labels: Labels, firedAtMs: number): { firing: AlertTransition; resolved: AlertTransition } {
    const base = { version: 1 as const, fingerprint: fp, ruleId: fp, ruleName: fp, severity, labels, annotations: {}, value: 1, condition: '> 0', activeAtMs: firedAtMs - MIN, firedAtMs, emittedAtMs: firedAtMs };
    return {
      firing: { ...base, transitionId: `f-${fp}-${firedAtMs}`, kind: 'firing', atMs: firedAtMs },
      resolved: { ...base, transitionId: `r-${fp}-${firedAtMs}`, kind: 'resolved', atMs: firedAtMs + 5 * MIN, resolvedAtMs: firedAtMs + 5 * MIN },
    };
  }
  const sent = (js: readonly NotificationJob[]): string[] => [...new Set(js.map((j) => `${j.transition.kind}:${j.transition.fingerprint}`))];

  /** Delivers the releases the pipeline put on the queue, as dispatch receives them. */
  async function deliverReleases(p: ReturnType<typeof ports>): Promise<ReleaseMessage[]> {
    const rs = p.releases.take();
    for (const r of rs) await dispatchRelease(p, r, options);
    return rs;
  }

  const T = 10_000_000;
  const labels = { alertname: 'Down', cluster: 'eu' };

  it('a critical alert mutes its high and medium alerts, which are notified when it resolves', async () => {
    const p = ports();
    const crit = alert('crit', 'critical', labels, T);
    const high = alert('high', 'high', labels, T + MIN);
    const medium = alert('medium', 'medium', labels, T + MIN);
    const other = alert('other', 'high', { alertname: 'Down', cluster: 'us' }, T + MIN);

    await dispatchTransition(p, crit.firing, options);
    const h = await dispatchTransition(p, high.firing, options);
    const m = await dispatchTransition(p, medium.firing, options);
    await dispatchTransition(p, other.firing, options);
    expect(h.inhibitedBy).toEqual(['crit']);
    expect(m.inhibitedBy).toEqual(['crit']);
    expect(h.trail.find((n) => n.stage === 'inhibit')?.reason).toBe('inhibited');
    expect(sent(p.jobs.published)).toEqual(['firing:crit', 'firing:other']);
    // held on the record, with who inhibits it
    expect(p.alerts.peek('high')?.held?.inhibitedBy).toEqual(['crit']);
    expect(h.unrouted).toBe(false);

    p.clock.advance(5 * MIN);
    await dispatchTransition(p, crit.resolved, options);
    expect(sent(p.jobs.published)).toEqual(['firing:crit', 'firing:other', 'resolved:crit']);
    const releases = await deliverReleases(p);
    expect(releases.map((r) => r.fingerprint).sort()).toEqual(['high', 'medium']);
    expect(sent(p.jobs.published)).toEqual(['firing:crit', 'firing:other', 'resolved:crit', 'firing:high', 'firing:medium']);
    const highJobs = p.jobs.published.filter((j) => j.transition.fingerprint === 'high');
    expect(highJobs.map((j) => j.channel).sort()).toEqual(['email', 'slack']);
    // notified with the held transition's own idempotency keys, once; counted once
    expect(highJobs[0]!.idempotencyKey).toBe(`${high.firing.transitionId}:ops:${highJobs[0]!.channel}`);
    expect(highJobs[0]!.fireCount).toBe(1);
    expect(p.alerts.peek('high')?.held).toBeUndefined();

    // a second delivery of a release does nothing
    expect(await dispatchRelease(p, releases[0]!, options)).toBeUndefined();
    // their resolutions go where their firings went
    await dispatchTransition(p, high.resolved, options);
    expect(sent(p.jobs.published).at(-1)).toBe('resolved:high');
  });

  it('a held target that resolves before its source sends nothing, and is not released', async () => {
    const p = ports();
    const crit = alert('crit', 'critical', labels, T);
    const high = alert('high', 'high', labels, T + MIN);
    await dispatchTransition(p, crit.firing, options);
    await dispatchTransition(p, high.firing, options);
    const r = await dispatchTransition(p, high.resolved, options);
    expect(r.jobs).toEqual([]);
    await dispatchTransition(p, crit.resolved, options);
    expect(p.releases.published).toEqual([]); // it left the item when it resolved
    expect(sent(p.jobs.published)).toEqual(['firing:crit', 'resolved:crit']);
  });

  it('a released target still muted by another source stays held until that one resolves', async () => {
    const p = ports();
    const c1 = alert('c1', 'critical', { ...labels, instance: 'a' }, T);
    const c2 = alert('c2', 'critical', { ...labels, instance: 'b' }, T);
    const high = alert('high', 'high', labels, T + MIN);
    await dispatchTransition(p, c1.firing, options);
    await dispatchTransition(p, c2.firing, options);
    const h = await dispatchTransition(p, high.firing, options);
    expect(h.inhibitedBy).toEqual(['c1', 'c2']);
    await dispatchTransition(p, c1.resolved, options);
    await deliverReleases(p);
    expect(p.alerts.peek('high')?.held?.inhibitedBy).toEqual(['c2']);
    expect(sent(p.jobs.published)).not.toContain('firing:high');
    await dispatchTransition(p, c2.resolved, options);
    await deliverReleases(p);
    expect(sent(p.jobs.published)).toContain('firing:high');
  });

  it('a target that fired before its source was notified; inhibition does not recall it', async () => {
    const p = ports();
    await dispatchTransition(p, alert('high', 'high', labels, T).firing, options);
    await dispatchTransition(p, alert('crit', 'critical', labels, T + MIN).firing, options);
    expect(sent(p.jobs.published)).toEqual(['firing:high', 'firing:crit']);
  });

  it('decides again when the source left between the read and the registration', async () => {
    const p = ports();
    const crit = alert('crit', 'critical', labels, T);
    await dispatchTransition(p, crit.firing, options);
    // The source resolves right after the target read the item (simulated by a store that removes it then).
    const inner = p.inhibitions;
    let raced = false;
    const racing: typeof inner = Object.assign(Object.create(Object.getPrototypeOf(inner) as object) as InMemoryInhibitionStore, inner, {
      addTarget: async (key: string, fp: string, at: number) => {
        if (!raced) {
          raced = true;
          await inner.removeSource(key, 'crit');
        }
        return await inner.addTarget(key, fp, at);
      },
    });
    const d = await dispatchTransition({ ...p, inhibitions: racing }, alert('high', 'high', labels, T + MIN).firing, options);
    expect(raced).toBe(true);
    expect(d.inhibitedBy).toBeUndefined();
    expect(sent(p.jobs.published)).toEqual(['firing:crit', 'firing:high']);
  });

  it('costs an alert no inhibit rule concerns nothing more', async () => {
    const p = ports();
    await dispatchTransition(p, alert('low', 'low', { alertname: 'Other' }, T).firing, options);
    expect(p.inhibitions.reads + p.inhibitions.writes).toBe(0);
  });
});
