import type { Clock } from '../../src/index.js';

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

/** Lets every promise chain queued so far run to its end (a macrotask runs only after the microtask queue drained). */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * VirtualClock: the kernel's `Clock` and `Now` on a virtual time line that moves only in `advance`, one per property
 * run. Unlike `vi.useFakeTimers()` it leaves the global timers alone (fast-check and the microtask flushes keep
 * working) and two runs never share a timer. Timers fire in due order (ties in the order they were set), each at its
 * own instant (`now` is its due time while it runs), and the promise chains a timer starts run to their end before the
 * next timer fires: a grace that ends in a discard finishes before a later expiry starts.
 */
export class VirtualClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 1_000_000) {
    this.time = start;
  }

  /** The current virtual time, epoch ms (the kernel's and the store's `now`). */
  readonly now = (): number => this.time;

  /** Timers set and neither fired nor cleared. */
  get pending(): number {
    return this.timers.size;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.time + Math.max(0, ms), fn: () => fn() });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** Moves the time `ms` forward, firing every timer due by then (also those set by timers that fired). */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.timers.delete(next.id);
      this.time = next.due;
      next.fn();
      await drainMicrotasks();
    }
    this.time = target;
    await drainMicrotasks();
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers.values()) if (!best || timer.due < best.due) best = timer;
    return best;
  }
}
