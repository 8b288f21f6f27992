/**
 * The one shape every notification stage has, and the runner that composes a declared list of
 * them (docs/design.md, "The notification pipeline"). Dispatch and the channel functions each
 * declare their pipeline as one list of stages, read top to bottom.
 *
 * A stage either decides (pure: context in, context out, no I/O: its decision function has
 * `it.each` tables) or acts (calls ports: reads, sends, writes). Each returns the context for the
 * next stage, or stops the pipeline with its result: a duplicate transition stops at `dedup`, a
 * held notification at the channel's `gate`.
 *
 * No long-lived timers or in-process retry loops (those are Alertmanager's, not ours): in Lambda,
 * SQS redelivery is the retry loop and DynamoDB holds the timers' state.
 */

/** What a stage returns: the context for the next stage, or the pipeline's result (it stops here). */
export type StageStep<C, R> = { readonly next: C } | { readonly stop: R };

/** A stage that decides: pure, synchronous, no ports. */
export interface DecisionStage<C, R> {
  readonly kind: 'decision';
  /** The stage's name, as docs/design.md lists it. */
  readonly name: string;
  decide(ctx: C): StageStep<C, R>;
}

/** A stage that acts on the world through its ports (reads, sends, writes). */
export interface EffectStage<C, P, R> {
  readonly kind: 'effect';
  /** The stage's name, as docs/design.md lists it. */
  readonly name: string;
  run(ctx: C, ports: P): Promise<StageStep<C, R>>;
}

/** One stage of a pipeline. */
export type Stage<C, P, R> = DecisionStage<C, R> | EffectStage<C, P, R>;

/** Declares a deciding stage (keeps the list readable: `decision('route', decideRouteStep)`). */
export function decision<C, R>(name: string, decide: (ctx: C) => StageStep<C, R>): DecisionStage<C, R> {
  return { kind: 'decision', name, decide };
}

/** Declares an acting stage. */
export function effect<C, P, R>(name: string, run: (ctx: C, ports: P) => Promise<StageStep<C, R>>): EffectStage<C, P, R> {
  return { kind: 'effect', name, run };
}

/** Continues with `ctx`. */
export const next = <C>(ctx: C): { readonly next: C } => ({ next: ctx });
/** Stops the pipeline with `result`. */
export const stop = <R>(result: R): { readonly stop: R } => ({ stop: result });

/**
 * Runs every stage in order; the first that stops gives the result, otherwise `end` makes it from
 * the last context. Errors propagate: the caller applies the one failure policy
 * (shared/core/errors `failureAction`).
 */
export async function runStages<C, P, R>(stages: readonly Stage<C, P, R>[], ctx: C, ports: P, end: (ctx: C) => R): Promise<R> {
  let cur = ctx;
  for (const s of stages) {
    const step = s.kind === 'decision' ? s.decide(cur) : await s.run(cur, ports);
    if ('stop' in step) return step.stop;
    cur = step.next;
  }
  return end(cur);
}

/**
 * Runs only the deciding stages, in order, skipping the acting ones: what the pipeline would do
 * for inputs already read, without doing it. For a pipeline whose effects only read its inputs
 * before the decisions and write its outputs after them (dispatch), this is the whole decision;
 * tests and simulations use it.
 */
export function runDecisions<C, R>(stages: readonly Stage<C, never, R>[], ctx: C, end: (ctx: C) => R): R {
  let cur = ctx;
  for (const s of stages) {
    if (s.kind !== 'decision') continue;
    const step = s.decide(cur);
    if ('stop' in step) return step.stop;
    cur = step.next;
  }
  return end(cur);
}

/** The names of a pipeline's stages, in order (logs, docs tests). */
export function stageNames(stages: readonly { readonly name: string }[]): string[] {
  return stages.map((s) => s.name);
}
