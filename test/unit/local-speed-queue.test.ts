import { describe, expect, it } from 'vitest';
import { speedScaledQueue } from '../../local/runtime/functions.ts';

/** A queue port with private state, like SqsChannelQueue. */
class RecordingQueue {
  readonly #holds: { receiptHandle: string; seconds: number }[] = [];
  readonly #dead: string[] = [];
  async changeVisibility(entries: readonly { readonly receiptHandle: string; readonly seconds: number }[]): Promise<void> {
    this.#holds.push(...entries);
  }
  async deadLetter(body: string): Promise<void> {
    this.#dead.push(body);
  }
  holds(): { receiptHandle: string; seconds: number }[] {
    return this.#holds;
  }
  dead(): string[] {
    return this.#dead;
  }
}

describe('speedScaledQueue (local mode, --speed)', () => {
  it('holds messages N times shorter in real time at speed N', async () => {
    const q = new RecordingQueue();
    await speedScaledQueue(q, 5).changeVisibility([{ receiptHandle: 'a', seconds: 60 }, { receiptHandle: 'b', seconds: 30 }]);
    expect(q.holds()).toEqual([{ receiptHandle: 'a', seconds: 12 }, { receiptHandle: 'b', seconds: 6 }]);
  });

  it('runs the adapter’s other methods on the adapter itself (private fields)', async () => {
    const q = new RecordingQueue();
    await speedScaledQueue(q, 5).deadLetter('job');
    expect(q.dead()).toEqual(['job']);
  });
});
