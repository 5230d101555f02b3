import type { OutboundFrame } from '../transports/outbound-frame.js';

/** A session's outbox that holds frames of buffered (`interval`) groups. */
export interface IntervalHolder {
  /**
   * Moves the frames held for `group` into the outbound queue as one array frame. `reuse` is the batch built for the
   * previous holder: when it packs exactly the same frames, the holder queues it instead of encoding its own.
   */
  releaseHeld(group: string, reuse: OutboundFrame | null): OutboundFrame | null;
}

interface GroupTimer {
  timer: NodeJS.Timeout;
  holders: Set<IntervalHolder>;
}

/**
 * Runs the outbound buffering of groups created with `interval`: when a session first holds a frame of such a
 * group, a timer of the group's interval is armed; when it fires, every session holding frames of the group sends
 * them as ONE JSON-array frame. Sessions holding the same frames share one encoded batch. No timer runs for an
 * idle group.
 */
export class IntervalBatcher {
  private readonly groups = new Map<string, GroupTimer>();
  private closed = false;

  /** Notes that `holder` holds frames of `group`, arming the group's timer if needed. */
  add(group: string, intervalMs: number, holder: IntervalHolder): void {
    if (this.closed) return;
    let entry = this.groups.get(group);
    if (!entry) {
      entry = { timer: setTimeout(() => this.fire(group), intervalMs), holders: new Set() };
      this.groups.set(group, entry);
    }
    entry.holders.add(holder);
  }

  /** Clears every timer; held frames are dropped. Idempotent. */
  close(): void {
    this.closed = true;
    for (const entry of this.groups.values()) clearTimeout(entry.timer);
    this.groups.clear();
  }

  private fire(group: string): void {
    const entry = this.groups.get(group);
    if (!entry) return;
    this.groups.delete(group);
    let previous: OutboundFrame | null = null;
    for (const holder of entry.holders) previous = holder.releaseHeld(group, previous) ?? previous;
  }
}
