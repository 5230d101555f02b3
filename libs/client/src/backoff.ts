/** Reconnect settings: whether to reconnect after a drop, and the bounds of the exponential backoff. */
export interface BackoffOptions {
  /** First delay, ms; every later attempt doubles it. */
  minDelayMs: number;
  /** Largest delay, ms. */
  maxDelayMs: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): `minDelayMs * 2^attempt`, capped at `maxDelayMs`,
 * then shortened by a random up to 25% (so that clients dropped together do not all come back at once), never below
 * `minDelayMs`. `random` returns a number in [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { minDelayMs, maxDelayMs } = options;
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.max(minDelayMs, Math.round(ceiling * (1 - 0.25 * random())));
}
