/** More than this many invalid requests within {@link VIOLATION_WINDOW_MS} close the connection with 4000. */
export const MAX_VIOLATIONS = 20;
/** The sliding window of {@link MAX_VIOLATIONS}. */
export const VIOLATION_WINDOW_MS = 10_000;

/** The default clock, one function for every instance (a default written inline would be a closure each). */
const monotonicNow = (): number => performance.now();

/**
 * Counts a connection's invalid requests (`BAD_REQUEST` / `UNKNOWN_OP` decode failures) in a sliding window and
 * says when the client crossed the line (PROTOCOL.md: more than 20 within 10 seconds). `now` is injectable.
 */
export class ViolationCounter {
  private readonly times: number[] = [];

  constructor(private readonly now: () => number = monotonicNow) {}

  /** Records one invalid request; true when the client is now over the limit. */
  record(): boolean {
    const now = this.now();
    this.times.push(now);
    while (this.times.length > 0 && (this.times[0] ?? now) <= now - VIOLATION_WINDOW_MS) this.times.shift();
    return this.times.length > MAX_VIOLATIONS;
  }
}
