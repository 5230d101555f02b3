/** Options of a `StallProbe`. */
export interface StallProbeOptions {
  /** How often a PING is sent (at most one outstanding). */
  intervalMs: number;
  /** How long Redis may go without answering a PING before it counts as stalled. */
  timeoutMs: number;
  /** Sends one PING; resolves when answered (a rejection, a command timeout say, is not an answer). */
  ping(): Promise<unknown>;
  /** Redis stopped answering (`true`), or answered again after that (`false`). Called once per change. */
  onStall(stalled: boolean): void;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

/**
 * StallProbe: notices a Redis that no longer answers while its connections stay open (a SIGSTOP, a long fork, a
 * network that drops packets without resetting), which no connection event reports. Every `intervalMs` it sends one
 * PING (none while one is outstanding); when no PING was answered for `timeoutMs` it reports `onStall(true)`, and
 * `onStall(false)` at the next answer. Costs one PING per interval. `reset()` (a connection just became ready, which
 * is an answer) clears the stall without reporting; `stop()` ends it (idempotent). A stall of this process itself
 * (a tick that comes more than `intervalMs + timeoutMs` late) restarts the timeout instead of counting against Redis.
 */
export class StallProbe {
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastAnswer = 0;
  private lastTick = 0;
  private pending = false;
  private stalled = false;
  private readonly now: () => number;

  constructor(private readonly options: StallProbeOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** True from a report of a stall until the next answer (or `reset()`). */
  get isStalled(): boolean {
    return this.stalled;
  }

  /** Starts probing; the start counts as an answer. */
  start(): void {
    if (this.timer !== null) return;
    this.lastAnswer = this.now();
    this.lastTick = this.lastAnswer;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
  }

  /** A connection just became ready: counts as an answer and clears a stall without reporting it. */
  reset(): void {
    this.lastAnswer = this.now();
    this.stalled = false;
  }

  /** Stops probing. Idempotent. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = this.now();
    // A tick far later than due means this process did not run (it was stopped, or its event loop blocked): the
    // answers may be waiting unread in the socket. Redis gets a fresh timeout rather than being taken for stalled.
    if (now - this.lastTick > this.options.intervalMs + this.options.timeoutMs) this.lastAnswer = now;
    this.lastTick = now;
    if (!this.stalled && now - this.lastAnswer >= this.options.timeoutMs) {
      this.stalled = true;
      this.options.onStall(true);
    }
    if (this.pending) return;
    this.pending = true;
    this.options.ping().then(
      () => {
        this.pending = false;
        if (this.timer === null) return;
        this.lastAnswer = this.now();
        if (this.stalled) {
          this.stalled = false;
          this.options.onStall(false);
        }
      },
      () => {
        // Not an answer. A closed connection is reported by the link's own events; a timeout counts towards a stall.
        this.pending = false;
      },
    );
  }
}
