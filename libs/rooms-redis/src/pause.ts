/**
 * Pause: one cancellable wait at a time. `wait(ms)` resolves after `ms`, or at once when `cancel()` is called
 * (meanwhile or before: a cancelled pause never waits again). Holds no timer once settled.
 */
export class Pause {
  private cancelled = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private wake: (() => void) | null = null;

  /** Resolves after `ms`, or at once once cancelled. */
  wait(ms: number): Promise<void> {
    if (this.cancelled) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => this.settle(), ms);
    });
  }

  /** Ends the current wait and every later one. Idempotent. */
  cancel(): void {
    this.cancelled = true;
    this.settle();
  }

  private settle(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
