/**
 * The timer source of the kernel (xstate's `Clock` shape). The default uses the global `setTimeout`, so
 * `vi.useFakeTimers()` drives every lifecycle timer in tests.
 */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A source of wall-clock time in epoch ms (injectable for tests). */
export type Now = () => number;
