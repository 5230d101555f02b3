import { INVALID_REQUEST_WINDOW_MS, MAX_INVALID_REQUESTS } from '@rooms-kit/contract';

/** The default clock, one function for every instance (a default written inline would be a closure each). */
const monotonicNow = (): number => performance.now();

/**
 * Counts a connection's invalid requests (`BAD_REQUEST` / `UNKNOWN_OP` decode failures) in a sliding window and
 * says when the client crossed the line (docs/protocol.md: more than `MAX_INVALID_REQUESTS` (20) within
 * `INVALID_REQUEST_WINDOW_MS` (10 seconds), both from the contract). `now` is injectable.
 */
export class ViolationCounter {
  private readonly times: number[] = [];

  constructor(private readonly now: () => number = monotonicNow) {}

  /** Records one invalid request; true when the client is now over the limit. */
  record(): boolean {
    const now = this.now();
    this.times.push(now);
    while (this.times.length > 0 && (this.times[0] ?? now) <= now - INVALID_REQUEST_WINDOW_MS) this.times.shift();
    return this.times.length > MAX_INVALID_REQUESTS;
  }
}
