import type { GroupSnapshot, ReplicaEvent } from '../port/group-log.js';
import type { GroupId } from '../types.js';
import { GroupWatch } from './group-watch.js';

/** What the table needs from the backend that feeds it. */
export interface WatchTableHooks {
  /** Hands an event to the kernel (already in order, once). */
  deliver(event: ReplicaEvent): void;
  /** A gap appeared in `watch` (a lost message): recover it; the watch is held until `release`. */
  recover(watch: GroupWatch): void;
  /** The group was discarded: the watch is gone, unsubscribe its channel. */
  discarded(watch: GroupWatch): void;
  /** An event the store does not reflect (see `recovered`) was dropped. */
  dropped(watch: GroupWatch, event: ReplicaEvent): void;
}

/** How the table defers work to a later macrotask (default `nextMacrotask`; injectable for tests). */
export type Schedule = (fn: () => void) => void;

/** The timers of the runtime, with the `setImmediate` some have (Node, Bun, Deno) and others (browsers) lack. */
const runtimeTimers = globalThis as typeof globalThis & { setImmediate?: (fn: () => void) => unknown };

/**
 * The default `Schedule`: the runtime's `setImmediate` where it has one (right after pending I/O, no clamping), else
 * a zero-delay timer. Looked up on every call, so fake timers installed after the table was built still drive it.
 */
export const nextMacrotask: Schedule = (fn) => {
  if (typeof runtimeTimers.setImmediate === 'function') runtimeTimers.setImmediate(fn);
  else setTimeout(fn, 0);
};

/**
 * WatchTable: the groups this node watches and the sequencing of their events. Per group it delivers each event
 * once and in `v` order: events at or below the last delivered version are dropped; events that arrive while a
 * snapshot is being read are queued and delivered after the snapshot (those it already reflects are dropped); a gap
 * (a version skipped) holds the group and asks the backend to recover it (`recovered` ends the recovery). Queued
 * events are flushed on a later macrotask, so the caller that received a snapshot has adopted it before the events
 * after it arrive.
 */
export class WatchTable {
  private readonly byGroup = new Map<GroupId, GroupWatch>();
  private readonly byChannel = new Map<string, GroupWatch>();

  constructor(
    private readonly hooks: WatchTableHooks,
    private readonly schedule: Schedule = nextMacrotask,
  ) {}

  /** The watch of a group, if any. */
  get(group: GroupId): GroupWatch | undefined {
    return this.byGroup.get(group);
  }

  /** The watch of a group, created when missing (`created` tells which). */
  ensure(group: GroupId, channel: string): { watch: GroupWatch; created: boolean } {
    const known = this.byGroup.get(group);
    if (known) return { watch: known, created: false };
    const watch = new GroupWatch(group, channel);
    this.byGroup.set(group, watch);
    this.byChannel.set(channel, watch);
    return { watch, created: true };
  }

  /** Forgets a watch (its queued events are dropped). */
  remove(watch: GroupWatch): void {
    if (this.byGroup.get(watch.group) !== watch) return;
    this.byGroup.delete(watch.group);
    this.byChannel.delete(watch.channel);
    watch.queue = [];
  }

  /** True while `watch` is the table's watch of its group. */
  has(watch: GroupWatch): boolean {
    return this.byGroup.get(watch.group) === watch;
  }

  /** Every watch. */
  all(): GroupWatch[] {
    return [...this.byGroup.values()];
  }

  /** Number of watched groups. */
  get size(): number {
    return this.byGroup.size;
  }

  /** Holds a watch: events are queued until the matching `release`. */
  hold(watch: GroupWatch): void {
    watch.holds++;
  }

  /**
   * Ends a hold. With a snapshot (just handed to the kernel) the watch takes its state, so queued events it already
   * reflects are dropped. When the last hold ends, queued events are flushed on a later macrotask.
   */
  release(watch: GroupWatch, snapshot: GroupSnapshot | null): void {
    if (snapshot) watch.reset(snapshot);
    watch.holds = Math.max(0, watch.holds - 1);
    if (watch.holds === 0 && watch.queue.length > 0 && !watch.flushPending && this.has(watch)) {
      watch.flushPending = true;
      this.schedule(() => this.flush(watch));
    }
  }

  /** Marks every watch stale (the connection came back: see `GroupWatch.stale`). */
  markStale(): void {
    for (const watch of this.byGroup.values()) watch.stale = true;
  }

  /** Routes an event received on `channel`. Events of channels nobody watches are dropped. */
  receive(channel: string, event: ReplicaEvent): void {
    const watch = this.byChannel.get(channel);
    if (!watch || event.group !== watch.group) return;
    if (watch.holds > 0 || watch.flushPending || watch.queue.length > 0) {
      watch.queue.push(event);
      return;
    }
    this.offer(watch, event);
  }

  /** Delivers synthesized events (gap recovery) as if received in order. */
  deliverRecovered(watch: GroupWatch, events: ReplicaEvent[]): void {
    for (const event of events) {
      if (!this.has(watch)) return;
      this.apply(watch, event);
    }
  }

  /**
   * Ends a recovery that `hooks.recover` started, and releases its hold. `events` bring the watch to `snapshot` (see
   * `recoveryEvents`); null when the recovery failed (the watch turns stale: gaps are tolerated until the next
   * snapshot). Of the queued events, the first `receivedBefore` arrived before the snapshot was read: one of those with
   * a version above the snapshot's is in no store (a forged message, or a write lost in a failover), and waiting for
   * it would recover again and again: it is dropped (`hooks.dropped`). Later ones may be newer changes and stay.
   */
  recovered(watch: GroupWatch, snapshot: GroupSnapshot | null, events: ReplicaEvent[] | null, receivedBefore: number): void {
    let completed = false;
    try {
      if (events === null || !this.has(watch)) return;
      this.deliverRecovered(watch, events);
      if (snapshot && this.has(watch)) {
        const early = watch.queue.slice(0, receivedBefore);
        const unreflected = early.filter((event) => event.v > snapshot.v);
        if (unreflected.length > 0) {
          watch.queue = [...early.filter((event) => event.v <= snapshot.v), ...watch.queue.slice(receivedBefore)];
          for (const event of unreflected) this.hooks.dropped(watch, event);
        }
      }
      completed = true;
    } finally {
      // A failed recovery (or a throw above) delivers what arrived, tolerating gaps until the next snapshot.
      if (!completed) watch.stale = true;
      this.release(watch, completed ? snapshot : null);
    }
  }

  private flush(watch: GroupWatch): void {
    watch.flushPending = false;
    while (watch.holds === 0 && watch.queue.length > 0 && this.has(watch)) {
      const event = watch.queue.shift() as ReplicaEvent;
      this.offer(watch, event);
    }
  }

  /** Delivers `event` if it is the next one; queues it and starts a recovery on a gap. */
  private offer(watch: GroupWatch, event: ReplicaEvent): void {
    if (event.v <= watch.lastV) return;
    if (event.v > watch.lastV + 1 && !watch.stale) {
      watch.queue.unshift(event);
      this.hold(watch);
      watch.recoveries++;
      this.hooks.recover(watch);
      return;
    }
    // An event in order: the channel works, so the next gap is recovered at once again.
    watch.recoveries = 0;
    this.apply(watch, event);
  }

  private apply(watch: GroupWatch, event: ReplicaEvent): void {
    watch.advance(event);
    this.hooks.deliver(event);
    if (event.type === 'discarded') {
      this.remove(watch);
      this.hooks.discarded(watch);
    }
  }
}
