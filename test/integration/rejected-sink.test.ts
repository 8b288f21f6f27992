/**
 * The rejected sink against fauxqs: batches in flight at once are bounded, the caller's time budget
 * (an AbortSignal) stops the sending and names exactly the records not sent, and the evaluator then
 * redelivers only their partitions. The budget is spent on cue (a middleware aborts after the nth
 * response), not by sleeping, so the tests are deterministic.
 */
import { describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RejectedRecord } from '../../shared/core/model/index.ts';
import { RejectedSendError, SqsRejectedSink } from '../../shared/adapters/sqs/rejected-sink.ts';
import { createEvaluatorHandler } from '../../functions/evaluator/app.ts';
import { provisionFresh } from '../support/aws.ts';
import { throttlingError } from './eval-helpers/clients.ts';
import { drainQueue } from './eval-helpers/queue.ts';
import { evalHarness } from './eval-helpers/harness.ts';
import { mskEvent } from './eval-helpers/msk.ts';

/** `n` rejected records, 10 per partition (so one SendMessageBatch per partition, in order). */
function rejectedRecords(n: number): RejectedRecord[] {
  return Array.from({ length: n }, (_, i) => ({ source: { topic: 'metrics', partition: Math.floor(i / 10), offset: i, timestampMs: 1 }, reason: `[0].value: bad ${i}`, raw: '{}', rawTruncated: false }));
}

/** Tracks SendMessageBatch requests in flight, and runs `onResponse(n)` after the nth response. */
function watchSends(sqs: SQSClient, onResponse: (n: number) => void = () => undefined): { maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  let responses = 0;
  (sqs.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if (context.commandName !== 'SendMessageBatchCommand') return await next(args);
      max = Math.max(max, ++inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
        onResponse(++responses);
      }
    },
    { step: 'initialize', name: `watch-${Math.random()}` },
  );
  return { maxInFlight: () => max };
}

describe('rejected sink', () => {
  it('sends batches concurrently, at most `concurrency` in flight, and all arrive', async () => {
    const p = await provisionFresh();
    const watch = watchSends(p.sqs);
    const sink = new SqsRejectedSink({ client: p.sqs, queueUrl: p.queues.rejected.url, concurrency: 4 });
    await sink.send(rejectedRecords(100));
    expect(watch.maxInFlight()).toBe(4);
    const got = await drainQueue<{ offset: number }>(p.sqs, p.queues.rejected.url);
    expect(got.map((m) => m.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('stops when the time budget is spent and names exactly the records not sent', async () => {
    const p = await provisionFresh();
    const budget = new AbortController();
    // The budget runs out once two batches are acknowledged (one at a time: deterministic order).
    watchSends(p.sqs, (n) => n === 2 && budget.abort(new Error('budget spent')));
    const sink = new SqsRejectedSink({ client: p.sqs, queueUrl: p.queues.rejected.url, concurrency: 1 });
    const records = rejectedRecords(50);
    const err = await sink.send(records, { signal: budget.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RejectedSendError);
    const e = err as RejectedSendError;
    expect(e.transient).toBe(true);
    expect(e.message).toBe('30 of 50 rejected records not sent to the rejected queue: time budget spent');
    expect([...new Set(e.unsent.map((r) => r.source.partition))]).toEqual([2, 3, 4]);
    const got = await drainQueue<{ partition: number }>(p.sqs, p.queues.rejected.url);
    expect(got).toHaveLength(20);
    expect(new Set(got.map((m) => m.partition))).toEqual(new Set([0, 1]));
  });

  it('the evaluator redelivers only the partitions whose rejected records were not sent', async () => {
    const h = await evalHarness('rules: []');
    // fauxqs cannot throttle on demand: this middleware refuses (as SQS throttling would) every
    // batch carrying a record of partition 2, and nothing else.
    (h.p.sqs.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
      (next: (args: { input: { Entries?: { MessageBody?: string }[] } }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: { Entries?: { MessageBody?: string }[] } }) => {
        if (context.commandName === 'SendMessageBatchCommand' && args.input.Entries?.some((x) => x.MessageBody?.includes('"partition":2'))) throw throttlingError();
        return await next(args);
      },
      { step: 'initialize', name: 'throttle-partition-2' },
    );
    const evaluator = createEvaluatorHandler(h.deps);
    const res = await evaluator(
      mskEvent([
        // 10 rejected samples: exactly the first SendMessageBatch, which goes through
        { partition: 1, offset: 10, raw: '[1,2,3,4,5,6,7,8,9,10]' },
        { partition: 2, offset: 20, raw: 'not json either' },
        { partition: 3, offset: 30, value: { name: 'm', value: 1 } },
      ]),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'metrics-2', offset: 20 } }]);
    expect((await h.rejected()).map((m) => m.partition)).toEqual(Array.from({ length: 10 }, () => 1));
  });
});
