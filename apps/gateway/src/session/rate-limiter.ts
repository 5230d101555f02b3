/** What {@link RateLimiter.take} decided for one frame. */
export type RateDecision = 'allow' | 'refuse' | 'close';

/**
 * How long a client may stay over the limit before it is closed with 4029; also the longest gap between two
 * refusals of one run of refusals.
 */
export const REFUSAL_GRACE_MS = 1000;

/** The default clock, one function for every instance (a default written inline would be a closure each). */
const monotonicNow = (): number => performance.now();

/**
 * A token bucket per connection (docs/protocol.md "Limits"): `rate` frames per second with a burst of twice that
 * (at least one frame, so a rate below 0.5 still lets a frame through now and then).
 * Every frame takes a token; a frame that finds none is refused (`RATE_LIMITED`, not executed). Refusals less than
 * a second apart form one run, and a client whose run of refusals has lasted a second is to be closed (`close`):
 * a client sending faster than the limit gets a frame through now and then as tokens trickle in, but it is still
 * over the limit, so allowed frames do not end the run. `rate` 0 turns the limit off. `now` is injectable.
 */
export class RateLimiter {
  private readonly capacity: number;
  private tokens: number;
  private last: number;
  private runStart: number | null = null;
  private lastRefusal = 0;

  constructor(
    private readonly rate: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.capacity = Math.max(1, rate * 2);
    this.tokens = this.capacity;
    this.last = now();
  }

  /** Takes a token for one frame. */
  take(): RateDecision {
    if (this.rate === 0) return 'allow';
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'allow';
    }
    if (this.runStart === null || now - this.lastRefusal >= REFUSAL_GRACE_MS) this.runStart = now;
    this.lastRefusal = now;
    return now - this.runStart >= REFUSAL_GRACE_MS ? 'close' : 'refuse';
  }
}
