/**
 * The inhibit stage (docs/design.md, "The notification pipeline": inhibit; docs/routing.md,
 * "Inhibition"): whether a firing alert is muted by a firing source alert of an inhibit rule
 * (`inhibition.ts`: Alertmanager's semantics). A muted firing reaches no receiver: it is recorded
 * as held on the alert record with the inhibiting fingerprints, and released (notified then, if it
 * still fires and nothing else mutes it) when a source resolves. A resolution is never inhibited:
 * it goes where its firing went, and a firing that was never notified has no resolution to send.
 *
 * The `inhibit-sync` stage (an effect, before commit) keeps the inhibit items in step: it
 * registers sources and muted targets, removes sources that resolved and sends the releases.
 */
import { decision, effect, next } from '../../pipeline/stage.ts';
import { noted, type DispatchContext, type DispatchDecision } from '../context.ts';
import { InhibitionChangedError, type DispatchPorts } from '../ports.ts';
import { decideInhibition, inhibitorsIn, inhibitSides, INHIBIT_REASON_TEXT, planInhibitWrites, type InhibitDecision } from './inhibition.ts';
import type { ReleaseMessage } from './release.ts';

export * from './inhibit-rules.ts';
export * from './inhibition.ts';
export * from './release.ts';

/** The inhibit decision of a transition: none for a resolution. */
export function inhibitionOf(ctx: Pick<DispatchContext, 'transition' | 'labels' | 'routes' | 'inhibitItems'>): InhibitDecision {
  if (ctx.transition.kind === 'resolved') return { reason: 'resolution', muted: false, inhibitedBy: [], keys: [] };
  return decideInhibition(ctx.transition.fingerprint, ctx.labels, ctx.routes.inhibitRules ?? [], ctx.inhibitItems);
}

/** The inhibit stage: a muted firing keeps its route (recorded) but reaches no receiver. */
export const inhibitStage = decision<DispatchContext, DispatchDecision>('inhibit', (ctx) => {
  const d = inhibitionOf(ctx);
  const text = d.muted ? `${INHIBIT_REASON_TEXT[d.reason]} (${d.inhibitedBy.join(', ')})` : INHIBIT_REASON_TEXT[d.reason];
  return next(noted(ctx, { stage: 'inhibit', reason: d.reason, text }, { inhibition: d, ...(d.muted ? { receivers: [] } : {}) }));
});

/**
 * inhibit-sync (acts, after publish and before commit, so a crash in between is redone by the
 * redelivered transition; every write is idempotent): sources register and leave; a leaving source
 * releases the targets its item lists; a muted target registers where its inhibitors are and checks,
 * in the same atomic write, that one is still there (a source that left between our read and our
 * registration would never release us: {@link InhibitionChangedError}, decided again).
 */
export const inhibitSyncStage = effect<DispatchContext, DispatchPorts, DispatchDecision>('inhibit-sync', async (ctx, ports) => {
  const rules = ctx.routes.inhibitRules ?? [];
  const previous = ctx.record?.held?.inhibitKeys ?? [];
  if (rules.length === 0 && previous.length === 0) return next(ctx);
  const t = ctx.transition;
  const w = planInhibitWrites(t.kind, t.firedAtMs, ctx.labels, rules, ctx.inhibition, previous);
  if (w.addSources.length + w.removeSources.length + w.addTargets.length + w.removeTargets.length === 0) return next(ctx);
  const store = ports.inhibitions;
  if (!store) throw new Error('the routes config has inhibit_rules but dispatch was given no InhibitionStore');
  for (const { key, source } of w.addSources) await store.addSource(key, t.fingerprint, source);
  const releases: ReleaseMessage[] = [];
  for (const key of w.removeSources) {
    const targets = await store.removeSource(key, t.fingerprint);
    for (const [fp, firedAtMs] of targets) {
      if (fp !== t.fingerprint) releases.push({ version: 1, kind: 'release', fingerprint: fp, firedAtMs, cause: 'inhibition-ended', by: t.fingerprint, atMs: t.resolvedAtMs ?? t.atMs });
    }
  }
  if (releases.length > 0) {
    if (!ports.releases) throw new Error('the routes config has inhibit_rules but dispatch was given no ReleasePublisher');
    await ports.releases.publish(releases);
  }
  if (w.addTargets.length > 0) {
    const sides = new Map(inhibitSides(rules, ctx.labels).map((s) => [s.key, s]));
    let still = false;
    for (const key of w.addTargets) {
      const item = await store.addTarget(key, t.fingerprint, t.firedAtMs);
      if (inhibitorsIn(item, t.fingerprint, sides.get(key) ?? { isSource: false }).length > 0) still = true;
    }
    if (!still) throw new InhibitionChangedError(`alert ${t.fingerprint}: its inhibiting sources resolved while it was being held`);
  }
  for (const key of w.removeTargets) await store.removeTarget(key, t.fingerprint);
  return next(ctx);
});
