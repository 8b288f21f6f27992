/**
 * The silence stage (docs/design.md, "The notification pipeline": silence): whether an active
 * silence mutes a firing (`silence.ts`, Alertmanager semantics). A muted firing is recorded (the
 * alert record keeps the silence ids and the firing, to be decided again when the silence ends:
 * `recheck.ts`) and reaches no channel; a resolution is never muted here, it goes where its
 * firing was notified.
 */
import { decision, next } from '../../pipeline/stage.ts';
import { noted, type DispatchContext, type DispatchDecision } from '../context.ts';
import { decideSilence, SILENCE_REASON_TEXT } from './silence.ts';

export * from './cache.ts';
export * from './in-memory.ts';
export * from './manage.ts';
export * from './ports.ts';
export * from './recheck.ts';
export * from './silence.ts';

/** The silence stage. */
export const silenceStage = decision<DispatchContext, DispatchDecision>('silence', (ctx) => {
  const d = decideSilence(ctx.transition.kind, ctx.labels, ctx.silences, ctx.nowMs);
  const note = { stage: 'silence', reason: d.reason, text: SILENCE_REASON_TEXT[d.reason] };
  if (d.verdict === 'notify') return next(noted(ctx, note));
  return next(noted(ctx, { ...note, subject: d.silencedBy.join(',') }, { muted: [...ctx.muted, { stage: 'silence', by: d.silencedBy, untilMs: d.recheckAtMs }] }));
});
