/** Something with outbound frames to write. */
export interface Flushable {
  /** Set by the scheduler while the flushable waits for the next flush; owned by the scheduler. */
  dirty: boolean;
  /** Writes everything queued. Must not throw. */
  flush(): void;
}

/**
 * Flushes every session outbox that got frames, once per event-loop turn: the first `markDirty` of a turn schedules
 * one `setImmediate`, which writes each dirty outbox's queue to its transport in one corked batch. So a burst of
 * events costs one socket write per connection, not one per event.
 */
export class FlushScheduler {
  private dirty: Flushable[] = [];
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;

  /** Schedules `target` for the next flush (once, however often it is marked). */
  markDirty(target: Flushable): void {
    if (target.dirty || this.closed) return;
    target.dirty = true;
    this.dirty.push(target);
    this.immediate ??= setImmediate(this.flushAll);
  }

  /** Stops flushing; pending flushes are dropped. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    for (const target of this.dirty) target.dirty = false;
    this.dirty = [];
  }

  private readonly flushAll = (): void => {
    this.immediate = null;
    const batch = this.dirty;
    this.dirty = [];
    for (const target of batch) {
      target.dirty = false;
      target.flush();
    }
  };
}
