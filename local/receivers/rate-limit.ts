/**
 * Token buckets, as the real services limit posting, so that a storm in local mode meets the limits
 * it meets in production:
 * - Slack: "Posting messages — 1 per second — short bursts >1 allowed", per webhook and per channel
 *   for chat.postMessage (https://docs.slack.dev/apis/web-api/rate-limits): a bucket of
 *   {@link SLACK_BURST} that refills one message a second; over it, 429 with `Retry-After` in whole
 *   seconds (what Slack sends and what its clients honour);
 * - PagerDuty Events API v2: about 120 events a minute per routing key: a bucket of
 *   {@link PAGERDUTY_PER_MINUTE} that refills two a second; over it, 429 (PagerDuty's body).
 * Time comes from the receiver's clock (tests inject one).
 */

/** Messages Slack lets through at once before the one-a-second rate bites (a short burst). */
export const SLACK_BURST = 3;
/** Slack's posting rate per webhook or channel, messages per second. */
export const SLACK_PER_SECOND = 1;
/** PagerDuty Events API v2: events per minute per routing key. */
export const PAGERDUTY_PER_MINUTE = 120;

/** A limit: bucket size and refill rate. */
export interface RateLimit {
  readonly burst: number;
  readonly perSecond: number;
}

/** Per-key token buckets. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: { now(): number },
  ) {}

  /** Takes a token for `key`: 0 when allowed, else the whole seconds until one is available (≥ 1). */
  take(key: string): number {
    const now = this.clock.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
  }
}
