/**
 * Runs the demo scenario on the runtime's virtual clock: every scrape interval of event time it
 * puts the scenario's records on the local topic, and it switches the Slack outage on and off.
 */
import type { VirtualClock } from '../runtime/clock.ts';
import { demoRecordsAt, SCRAPE_MS, slackOutageAt, type DemoRecord } from './scenario.ts';

/** Options of {@link DemoStream}. */
export interface DemoStreamOptions {
  readonly clock: VirtualClock;
  /** Puts one record value on the topic. */
  readonly send: (value: string, timestampMs: number) => void;
  /** Turns the Slack outage on or off (the Slack receiver's failure schedule). */
  readonly setSlackOutage?: (on: boolean) => Promise<void>;
  readonly onRecord?: (record: DemoRecord) => void;
  readonly onError?: (err: unknown) => void;
}

/** The demo metric stream. */
export class DemoStream {
  private timer: NodeJS.Timeout | undefined;
  private readonly startMs: number;
  private nextMs: number;
  private outage = false;
  /** Records sent so far. */
  sent = 0;

  constructor(private readonly opts: DemoStreamOptions) {
    this.startMs = Math.floor(opts.clock.now() / SCRAPE_MS) * SCRAPE_MS;
    this.nextMs = this.startMs;
  }

  /** Starts emitting (the first scrape at once). */
  start(): void {
    const tick = (): void => {
      const now = this.opts.clock.now();
      while (this.nextMs <= now) {
        this.emit(this.nextMs);
        this.nextMs += SCRAPE_MS;
      }
      this.timer = setTimeout(tick, Math.max(10, this.opts.clock.wallDelay(this.nextMs - this.opts.clock.now())));
    };
    tick();
  }

  /** Stops emitting (and ends the outage, so the receivers are left healthy). */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.outage) await this.opts.setSlackOutage?.(false).catch(() => undefined);
  }

  private emit(atMs: number): void {
    for (const r of demoRecordsAt(atMs, this.startMs)) {
      this.opts.send(r.kind === 'sample' ? JSON.stringify(r.sample) : r.kind === 'event' ? JSON.stringify(r.event) : r.value, atMs);
      this.sent++;
      this.opts.onRecord?.(r);
    }
    const outage = slackOutageAt(atMs, this.startMs);
    if (outage !== this.outage && this.opts.setSlackOutage) {
      this.outage = outage;
      this.opts.setSlackOutage(outage).catch((err: unknown) => this.opts.onError?.(err));
    }
  }
}
