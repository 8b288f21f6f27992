/**
 * The channel pipeline (docs/design.md, "The channel pipeline"): its new pure decisions as tables,
 * then the composed pipeline on the in-memory ports with a scripted destination and a clock moved
 * by hand (the same runs against DynamoDB Local and the local receivers are test/integration/deliver*).
 */
import { describe, expect, it } from 'vitest';
import { CLOSED, DEFAULT_BREAKER_CONFIG, type BreakerGate, type BreakerState } from '../../shared/core/breaker/index.ts';
import {
  CollectingChannelQueue,
  CollectingLog,
  decideBatchItem,
  decideBreakerUpdate,
  decideProbeTaken,
  decideRecordError,
  DEFAULT_RETRY_CONFIG,
  deliverBatch,
  DELIVERY_PIPELINE,
  heldUntilAfter,
  InMemoryBreakerStore,
  InMemoryDeliveryMetrics,
  InMemoryNotificationStore,
  OVER_BUDGET_DELAY_MS,
  type AfterSend,
  type BreakerUpdate,
  type ChannelMessage,
  type DeliveryDeps,
  type Notifier,
  type SendResult,
} from '../../shared/core/deliver/index.ts';
import { PermanentError, TransientError } from '../../shared/core/errors/index.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';
import { stageNames } from '../../shared/core/pipeline/stage.ts';
import { job, T0, TestClock } from '../integration/deliver-fixtures.ts';

const NOW = T0;
const open: BreakerState = { state: 'open', failures: 0, successes: 0, openedAtMs: NOW, reopenAtMs: NOW + 60_000, version: 3 };
const failing: BreakerState = { ...CLOSED, failures: 2, version: 2 };
const delivered: AfterSend = { action: 'delivered' };
const serverRetry: AfterSend = { action: 'retry', reason: 'server', delayMs: 30_000, countsAsBreakerFailure: true, detail: '500' };
const ourRetry: AfterSend = { action: 'retry', reason: 'other', delayMs: 30_000, countsAsBreakerFailure: false, detail: 'DynamoDB throttled' };
const deadLetter: AfterSend = { action: 'dead-letter', reason: 'client', detail: '400' };
const bug: AfterSend = { action: 'fail-batch', detail: 'TypeError' };

describe('channel decisions', () => {
  it.each<[string, AfterSend, boolean, BreakerState, BreakerUpdate]>([
    // the common case: a delivery through a closed breaker with no failures writes nothing
    ['delivered, closed and clean', delivered, false, CLOSED, 'none'],
    // a delivery resets counted failures
    ['delivered after failures', delivered, false, failing, 'success'],
    // a successful probe counts towards closing a half-open breaker
    ['delivered as the probe', delivered, true, open, 'success'],
    // the destination failed: a failure for its breaker
    ['the destination failed', serverRetry, false, CLOSED, 'failure'],
    // our own transient failure (DynamoDB, secrets) is not the destination's: nothing...
    ['our failure', ourRetry, false, CLOSED, 'none'],
    // ...except handing back the probe it ended
    ['our failure during the probe', ourRetry, true, open, 'release-probe'],
    // a permanent refusal is no verdict on the destination's health
    ['dead-lettered', deadLetter, false, CLOSED, 'none'],
    ['dead-lettered probe', deadLetter, true, open, 'release-probe'],
    // a bug hands the probe back before the invocation fails
    ['a bug during the probe', bug, true, open, 'release-probe'],
    ['a bug', bug, false, failing, 'none'],
  ])('breaker update: %s', (_name, after, probe, atGate, expected) => {
    expect(decideBreakerUpdate(after, probe, atGate)).toBe(expected);
  });

  it.each<[string, BreakerGate, number]>([
    // another instance holds the probe lease: wait until it ends
    ['the lease is held', { allow: false, retryAtMs: NOW + 30_000, why: 'probe-in-flight' }, NOW + 30_000],
    // the breaker opened again meanwhile: wait until it reopens
    ['opened again', { allow: false, retryAtMs: NOW + 60_000, why: 'open' }, NOW + 60_000],
    // the lease was let go meanwhile: come back in a second
    ['let go', { allow: true, probe: true }, NOW + 1000],
  ])('probe taken by another instance: %s', (_name, again, until) => {
    expect(decideProbeTaken(again, NOW)).toEqual({ action: 'hold', reason: 'probe-in-flight', untilMs: until });
  });

  it.each<[string, SendResult | undefined, AfterSend, number | undefined]>([
    // a 429 with Retry-After holds the destination for the rest of the batch
    ['429 with Retry-After', { ok: false, retryable: true, reason: 'rate-limited', retryAfterMs: 20_000, detail: '429' }, { ...serverRetry, reason: 'rate-limited' }, NOW + 20_000],
    // a 503 without one does not
    ['503', { ok: false, retryable: true, reason: 'server', detail: '503' }, serverRetry, undefined],
    // a permanent refusal with Retry-After (odd, but possible) is dead-lettered: no hold
    ['400 with Retry-After', { ok: false, retryable: false, reason: 'client', retryAfterMs: 20_000, detail: '400' }, deadLetter, undefined],
    // a thrown error has no answer to read
    ['thrown', undefined, ourRetry, undefined],
    // delivered
    ['delivered', { ok: true }, delivered, undefined],
  ])('Retry-After for the rest of the batch: %s', (_name, result, after, expected) => {
    expect(heldUntilAfter(result, after, NOW)).toBe(expected);
  });

  it.each<[string, number | undefined, number, number, ReturnType<typeof decideBatchItem>]>([
    // an ordinary message
    ['process', undefined, 10, 1000, { action: 'process' }],
    // an earlier message of its group failed with a 30 s delay: wait behind it, as long
    ['group blocked', 30_000, 10, 1000, { action: 'hand-back', reason: 'group-blocked', delayMs: 30_000 }],
    // the budget is spent
    ['over budget', undefined, 1001, 1000, { action: 'hand-back', reason: 'over-budget', delayMs: OVER_BUDGET_DELAY_MS }],
    // exactly at the budget: still processed
    ['at the budget', undefined, 1000, 1000, { action: 'process' }],
  ])('batch item: %s', (_name, groupDelay, elapsed, budget, expected) => {
    expect(decideBatchItem(groupDelay, elapsed, budget)).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    // a transient error of ours (throttling, a conflict): the message comes back after the first backoff step
    ['transient', new TransientError('throttled'), 'retry'],
    // a permanent error of the item: dead-lettered with why
    ['permanent', new PermanentError('cannot ever work'), 'dead-letter'],
    // anything else is a bug: the invocation fails
    ['a bug', new TypeError('x is undefined'), 'fail-batch'],
  ])('an error outside a send: %s', (_name, err, action) => {
    const d = decideRecordError(err, () => false, DEFAULT_RETRY_CONFIG);
    expect(d.action).toBe(action);
    if (d.action === 'retry') expect(d.delayMs).toBe(DEFAULT_RETRY_CONFIG.baseMs);
  });
});

/** A destination that answers what the test scripts (default: accepted), counting sends. */
class ScriptedNotifier implements Notifier<string> {
  readonly channel = 'slack' as const;
  readonly sent: string[] = [];
  answers: ((job: NotificationJob) => SendResult | Error)[] = [];
  render(j: NotificationJob): string {
    if (j.transition.annotations.summary === 'render-bug') throw new Error('template blew up');
    return j.idempotencyKey;
  }
  async send(j: NotificationJob): Promise<SendResult> {
    const answer = this.answers.shift()?.(j) ?? { ok: true };
    if (answer instanceof Error) throw answer;
    if (answer.ok) this.sent.push(j.idempotencyKey);
    return answer;
  }
}

function harness() {
  const clock = new TestClock(NOW);
  let elapsed = 0;
  const deps = {
    channel: 'slack' as const,
    notifier: new ScriptedNotifier(),
    notifications: new InMemoryNotificationStore(60_000),
    breakers: new InMemoryBreakerStore(),
    queue: new CollectingChannelQueue(),
    metrics: new InMemoryDeliveryMetrics(),
    logger: new CollectingLog(),
    clock,
    breaker: DEFAULT_BREAKER_CONFIG,
    retry: DEFAULT_RETRY_CONFIG,
    isTransient: () => false,
    batchBudgetMs: 10_000,
    stopwatch: () => elapsed,
  } satisfies DeliveryDeps<string>;
  return { deps, clock, spend: (ms: number) => void (elapsed += ms) };
}

let msgSeq = 0;
const message = (j: NotificationJob | string, receiveCount = 1): ChannelMessage => {
  const body = typeof j === 'string' ? j : JSON.stringify(j);
  const id = `m${(msgSeq += 1)}`;
  return { id, receiptHandle: `rh-${id}`, body, receiveCount, ...(typeof j === 'string' ? {} : { groupId: j.transition.fingerprint }) };
};
const fail503 = (): SendResult => ({ ok: false, retryable: true, reason: 'server', detail: 'slack 503' });

describe('the channel pipeline on in-memory ports', () => {
  it('is declared in this order (docs/design.md, "The channel pipeline")', () => {
    expect(stageNames(DELIVERY_PIPELINE)).toEqual(['gate', 'claim', 'probe', 'send', 'settle']);
  });

  it('delivers with two writes (claim, then sent) and nothing on a clean breaker; a redelivered job is not sent again', async () => {
    const { deps } = harness();
    const j = job('slack');
    expect(await deliverBatch(deps, [message(j)])).toEqual({ failures: [] });
    expect(deps.notifier.sent).toEqual([j.idempotencyKey]);
    expect(deps.notifications.requests).toBe(2);
    expect(deps.breakers.writes).toBe(0);
    expect(await deliverBatch(deps, [message(j)])).toEqual({ failures: [] });
    expect(deps.notifier.sent).toHaveLength(1);
    expect(deps.metrics.count('NotificationsSent')).toBe(1);
  });

  it('opens the breaker after 5 failures and then holds messages without claiming them, until the probe closes it', async () => {
    const { deps, clock } = harness();
    deps.notifier.answers = Array.from({ length: 5 }, () => fail503);
    const jobs = Array.from({ length: 6 }, () => job('slack'));
    const r = await deliverBatch(deps, jobs.map((j) => message(j)));
    expect(r.failures).toHaveLength(6);
    expect((await deps.breakers.current('slack:webhook:ops')).state).toBe('open');
    // The sixth was held at the gate: no claim, no send, a visibility of the time to reopen.
    expect(deps.notifications.items.has(jobs[5]!.idempotencyKey)).toBe(false);
    expect(r.failures[5]!.delayMs).toBe(60_000);
    // After the open time, one probe at a time: two successes close it.
    clock.advance(60_000);
    await deliverBatch(deps, [message(jobs[0]!, 2)]);
    expect((await deps.breakers.current('slack:webhook:ops')).state).toBe('half-open');
    await deliverBatch(deps, [message(jobs[1]!, 2)]);
    expect((await deps.breakers.current('slack:webhook:ops')).state).toBe('closed');
    expect(deps.notifier.sent).toEqual([jobs[0]!.idempotencyKey, jobs[1]!.idempotencyKey]);
  });

  it('honours a Retry-After for the rest of the batch: later jobs to the destination wait without being sent', async () => {
    const { deps } = harness();
    deps.notifier.answers = [() => ({ ok: false, retryable: true, reason: 'rate-limited', retryAfterMs: 20_000, detail: 'slack 429' })];
    const other = job('slack', { destinationId: 'slack:webhook:other' });
    const r = await deliverBatch(deps, [message(job('slack')), message(job('slack')), message(other)]);
    expect(r.failures.map((f) => f.delayMs)).toEqual([20_000, 20_000]);
    expect(deps.notifier.sent).toEqual([other.idempotencyKey]);
  });

  it('keeps FIFO order per alert: after a failed message, the later ones of the same alert wait behind it unsent', async () => {
    const { deps } = harness();
    deps.notifier.answers = [fail503];
    const firing = job('slack');
    const resolution: NotificationJob = { ...firing, idempotencyKey: `${firing.idempotencyKey}-r`, transition: { ...firing.transition, kind: 'resolved', transitionId: 'x' } };
    const r = await deliverBatch(deps, [message(firing), message(resolution)]);
    expect(r.failures.map((f) => f.delayMs)).toEqual([30_000, 30_000]);
    expect(deps.notifier.sent).toEqual([]);
  });

  it('dead-letters a job that cannot be rendered, with the reason, and never counts it against the breaker', async () => {
    const { deps } = harness();
    const j = job('slack', { t: { annotations: { summary: 'render-bug' } } });
    expect(await deliverBatch(deps, [message(j)])).toEqual({ failures: [] });
    expect(deps.queue.deadLetters.map((d) => d.meta.reason)).toEqual(['render']);
    expect(deps.breakers.writes).toBe(0);
    expect(deps.notifications.items.get(j.idempotencyKey)?.status).toBe('failed');
    expect(deps.metrics.count('NotificationsDeadLettered')).toBe(1);
  });

  it('dead-letters a body that is not a job, and fails the invocation on a bug after handing its claim back', async () => {
    const { deps } = harness();
    expect(await deliverBatch(deps, [message('{not json')])).toEqual({ failures: [] });
    expect(deps.queue.deadLetters[0]!.meta).toMatchObject({ reason: 'client', detail: 'message body is not JSON' });
    const j = job('slack');
    deps.notifier.answers = [() => new TypeError('undefined is not a function')];
    const r = await deliverBatch(deps, [message(j), message(job('slack'))]);
    expect(r.fatal?.err).toBeInstanceOf(TypeError);
    expect(deps.notifications.items.get(j.idempotencyKey)?.status).toBe('retrying');
  });

  it('hands the rest of the batch back once its time budget is spent', async () => {
    const { deps, spend } = harness();
    const jobs = [job('slack'), job('slack'), job('slack')];
    deps.notifier.answers = [(j) => (spend(10_001), { ok: true, detail: j.idempotencyKey })];
    const r = await deliverBatch(deps, jobs.map((j) => message(j)));
    expect(deps.notifier.sent).toEqual([jobs[0]!.idempotencyKey]);
    expect(r.failures.map((f) => f.delayMs)).toEqual([OVER_BUDGET_DELAY_MS, OVER_BUDGET_DELAY_MS]);
  });
});
