import type { Clock } from '../clock.js';
import type { DeliveryEvent } from '../delivery.js';
import type { Logger } from '../logger.js';
import type { StoreSettlement } from '../node/node-lifecycle.js';
import type { GroupLog } from '../port/group-log.js';
import type { NodeId } from '../types.js';
import type { LocalGroup } from './local-group.js';
import type { ReplicaApplier, ReplicaHost } from './replica-applier.js';

/** How long an operation waits for the event of its own change before it resyncs the replica instead. */
export const EVENT_WAIT_MS = 5000;

/** How long after a failed resync (the store did not answer) it is tried again; the replica holds its events meanwhile. */
export const RESYNC_RETRY_MS = 1000;

/** Options of a `ReplicaResync`. */
export interface ReplicaResyncOptions {
  nodeId: NodeId;
  /** Where snapshots (a re-watch) and missed messages (the history) are read. */
  groups: Pick<GroupLog, 'watch' | 'history'>;
  /** Which replica is current (a replica replaced or forgotten meanwhile is left alone). */
  host: Pick<ReplicaHost, 'watched'>;
  /** Applies the differences it finds, with the events local members get for them, then the events it held. */
  applier: Pick<ReplicaApplier, 'applyJoined' | 'applyLeft' | 'applyDiscarded' | 'deliver' | 'releaseHeld'>;
  /**
   * A resync reads the store only once it is settled: a store back without this node's re-assert (a Redis restarted
   * empty) would show a live group as gone.
   */
  store: Pick<StoreSettlement, 'whenStoreSettled'>;
  /** Timers of the bounded wait in `settle` and of the retries. */
  clock: Clock;
  logger: Logger;
}

/**
 * ReplicaResync: brings a replica in line with the store when events may have been missed: after the store came
 * back, after a discard that found the group not empty, when an operation's own event does not arrive in time
 * (`settle`), and when a message skipped offsets (`ReplicaApplier`'s `gapFound`). Members get the `joined`/`left`
 * events of the differences and, in order, the messages they missed, before any later event: the replica holds the
 * events that arrive meanwhile (`LocalGroup.held`) and applies them after the missed messages, so a live member sees
 * every offset once, in order. One resync per replica at a time; `close` ends the retries.
 */
export class ReplicaResync {
  /** Per replica, the resync waiting to read (for the one before it, or for the store): later requests share it. */
  private readonly queued = new Map<LocalGroup, Promise<void>>();
  /** Per replica, the resync reading the store. */
  private readonly reading = new Map<LocalGroup, Promise<void>>();
  /** Per replica, the timer of the retry after a failure. */
  private readonly retries = new Map<LocalGroup, unknown>();
  private closed = false;

  constructor(private readonly options: ReplicaResyncOptions) {}

  /**
   * Re-reads the group's snapshot (watching it again) and applies what the replica missed, then the events held
   * meanwhile. Waits until the store is settled; a request while a resync reads gets one more after it, and requests
   * made before that one reads share it. Rejects with the store's error when the read fails: the replica then keeps
   * holding its events and the resync is tried again after `RESYNC_RETRY_MS`.
   */
  resync(local: LocalGroup): Promise<void> {
    if (this.closed) return Promise.resolve();
    const queued = this.queued.get(local);
    if (queued) return queued;
    const run = this.queue(local, this.reading.get(local));
    this.queued.set(local, run);
    return run;
  }

  /**
   * Waits until the event `v` of this node's own change was applied; when it does not come within
   * `EVENT_WAIT_MS` (an event lost on the way), resyncs the replica from the store instead of waiting forever.
   */
  async settle(local: LocalGroup, v: number): Promise<void> {
    if (local.v >= v) return;
    const { clock } = this.options;
    let timer: unknown = null;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(true), EVENT_WAIT_MS);
    });
    const late = await Promise.race([local.applied(v).then(() => false), timedOut]);
    clock.clearTimeout(timer);
    if (late && this.options.host.watched.get(local.id) === local) {
      this.options.logger.warn({ group: local.id, v }, 'own event did not arrive; resyncing the replica');
      await this.resync(local);
    }
  }

  /** Ends the retries; later requests do nothing. Idempotent. */
  close(): void {
    this.closed = true;
    for (const timer of this.retries.values()) this.options.clock.clearTimeout(timer);
    this.retries.clear();
  }

  private async queue(local: LocalGroup, before: Promise<void> | undefined): Promise<void> {
    await before?.catch(() => undefined);
    await this.options.store.whenStoreSettled();
    if (this.closed) {
      this.queued.delete(local);
      return;
    }
    const reading = this.read(local);
    this.reading.set(local, reading);
    this.queued.delete(local);
    try {
      await reading;
    } finally {
      if (this.reading.get(local) === reading) this.reading.delete(local);
    }
  }

  private async read(local: LocalGroup): Promise<void> {
    const { applier } = this.options;
    if (!this.isCurrent(local)) return;
    // Events from now on wait behind what the replica missed.
    local.held ??= [];
    try {
      const snapshot = await this.options.groups.watch(local.id);
      if (!this.isCurrent(local)) return;
      if (!snapshot) {
        // Gone: what was held (its `discarded` among them, maybe) goes first.
        applier.releaseHeld(local);
        if (this.isCurrent(local)) applier.applyDiscarded(local, 'empty');
        return;
      }
      const fresh = new Map(snapshot.members.map((m) => [m.id, m]));
      for (const member of [...local.members.values()]) {
        if (!fresh.has(member.id)) applier.applyLeft(local, member, member.node === this.options.nodeId ? 'disconnect' : 'node-down', undefined);
      }
      for (const member of fresh.values()) if (!local.members.has(member.id)) applier.applyJoined(local, member);
      local.spec = snapshot.spec;
      if (snapshot.offset > local.offset) await this.deliverMissed(local, snapshot.offset);
      if (!this.isCurrent(local)) return;
      local.offset = Math.max(local.offset, snapshot.offset);
      local.v = Math.max(local.v, snapshot.v);
      applier.releaseHeld(local);
      local.release();
    } catch (error) {
      this.options.logger.warn({ err: error, group: local.id }, 'resync failed; the group holds its events until it is tried again');
      this.retryLater(local);
      throw error;
    }
  }

  /** Delivers, in order, the messages after the replica's offset and up to `upTo`, read from the history. */
  private async deliverMissed(local: LocalGroup, upTo: number): Promise<void> {
    const from = local.offset;
    const history = await this.options.groups.history(local.id, from);
    if (!this.isCurrent(local)) return;
    if (!history.complete) this.options.logger.warn({ group: local.id, from, upTo }, 'history no longer holds every missed message');
    for (const message of history.messages) {
      if (message.offset <= local.offset || message.offset > upTo) continue;
      local.offset = message.offset;
      const event: DeliveryEvent = { ev: 'message', group: local.id, from: message.from, data: message.data, offset: message.offset };
      this.options.applier.deliver(local, event, message.self === true ? null : message.from);
    }
  }

  private retryLater(local: LocalGroup): void {
    if (this.closed || this.retries.has(local) || !this.isCurrent(local)) return;
    const timer = this.options.clock.setTimeout(() => {
      this.retries.delete(local);
      this.resync(local).catch(() => undefined);
    }, RESYNC_RETRY_MS);
    this.retries.set(local, timer);
  }

  private isCurrent(local: LocalGroup): boolean {
    return this.options.host.watched.get(local.id) === local;
  }
}
