import type { Clock } from '../clock.js';
import type { DeliveryEvent } from '../delivery.js';
import type { Logger } from '../logger.js';
import type { StoreSettlement } from '../node/node-lifecycle.js';
import type { ClusterBus } from '../port/cluster-bus.js';
import type { GroupLog } from '../port/group-log.js';
import type { NodeId } from '../types.js';
import type { LocalGroup } from './local-group.js';
import type { ReplicaApplier, ReplicaHost } from './replica-applier.js';
import type { NodeVerdicts } from './node-verdicts.js';

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
  applier: Pick<ReplicaApplier, 'applyJoined' | 'applyLeft' | 'applyDiscarded' | 'deliver' | 'releaseHeld' | 'catchUp'>;
  /**
   * A resync reads the store only once it is settled: a store back without this node's re-assert (a Redis restarted
   * empty) would show a live group as gone.
   */
  store: Pick<StoreSettlement, 'whenStoreSettled'>;
  /** Which nodes the cluster's liveness still counts as alive (after a store loss, also those it awaits). */
  bus: Pick<ClusterBus, 'liveNodes'>;
  /** The nodes the liveness reported dead: a member's node neither live nor reported dead is given its time too. */
  verdicts: Pick<NodeVerdicts, 'isDown'>;
  /**
   * How long members of a live node that the store no longer has are kept before the group is read again to confirm
   * they are gone: the node TTL, the time a node has to show it is alive (and so to re-assert after a store loss).
   */
  confirmMs: number;
  /** Timers of the bounded wait in `settle`, of the retries and of the confirmation reads. */
  clock: Clock;
  logger: Logger;
}

/**
 * How many confirmation reads a replica may make while a live node's members stay missing from the store: every read
 * before the last keeps them again (their node may be slow to re-assert on a loaded machine), the last removes them.
 * So such a member is removed at most `CONFIRMATION_ROUNDS × confirmMs` after the first read that missed it.
 */
export const CONFIRMATION_ROUNDS = 4;

/**
 * A replica's confirmation read, numbered from 1: waiting on its timer, or due (the next read is that confirmation;
 * the read of round `CONFIRMATION_ROUNDS` applies the store's members in full).
 */
type Confirmation = { readonly round: number; readonly timer: unknown } | { readonly round: number; readonly due: true };

/**
 * ReplicaResync: brings a replica in line with the store when events may have been missed: after the store came
 * back, after a discard that found the group not empty, when an operation's own event does not arrive in time
 * (`settle`), and when a message skipped offsets (`ReplicaApplier`'s `gapFound`). Members get the `joined`/`left`
 * events of the differences and, in order, the messages they missed, before any later event: the replica holds the
 * events that arrive meanwhile (`LocalGroup.held`) and applies them after the missed messages, so a live member sees
 * every offset once, in order. One resync per replica at a time; `close` ends the retries and confirmation reads.
 *
 * Members of another node that is not known to be dead (live in `ClusterBus.liveNodes`, or never reported dead: a node
 * that started just before a store loss may not be in the list yet) and missing from the store are not removed at
 * once: after a store loss every node re-asserts its members in its own time, and a read before a node did would tell
 * everyone its members left (then rejoined). They are kept, and the group is read again `confirmMs` later, and again
 * while they stay missing and their node not reported dead, up to `CONFIRMATION_ROUNDS` reads; a member whose node
 * is reported dead meanwhile is removed at the next read, and the last read removes (`left` node-down) every member still missing: one that
 * really left while this node missed its event is gone after at most `CONFIRMATION_ROUNDS × confirmMs` (no ghost).
 * Members of this node and of nodes reported dead are removed at once.
 */
export class ReplicaResync {
  /** Per replica, the resync waiting to read (for the one before it, or for the store): later requests share it. */
  private readonly queued = new Map<LocalGroup, Promise<void>>();
  /** Per replica, the resync reading the store. */
  private readonly reading = new Map<LocalGroup, Promise<void>>();
  /** Per replica, the timer of the retry after a failure. */
  private readonly retries = new Map<LocalGroup, unknown>();
  /** Per replica that kept members of live nodes missing from the store, its confirmation read. */
  private readonly confirmations = new Map<LocalGroup, Confirmation>();
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
   * First applies the events received before the replica was adopted (`ReplicaApplier.catchUp`): `settle(local,
   * local.v)` right after a watch brings a replica adopted a moment ago up to date (a discard among them forgets it).
   */
  async settle(local: LocalGroup, v: number): Promise<void> {
    this.options.applier.catchUp(local);
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

  /** Ends the retries and the confirmation reads; later requests do nothing. Idempotent. */
  close(): void {
    this.closed = true;
    for (const timer of this.retries.values()) this.options.clock.clearTimeout(timer);
    this.retries.clear();
    for (const confirmation of this.confirmations.values()) if (!('due' in confirmation)) this.options.clock.clearTimeout(confirmation.timer);
    this.confirmations.clear();
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
      // Read before the snapshot: a confirmation that falls due during the read gets a read of its own.
      const pending = this.confirmations.get(local);
      const round = pending !== undefined && 'due' in pending ? pending.round : 0;
      const snapshot = await this.options.groups.watch(local.id);
      if (round > 0) this.confirmations.delete(local);
      if (!this.isCurrent(local)) return;
      if (!snapshot) {
        // Gone: what was held (its `discarded` among them, maybe) goes first.
        applier.releaseHeld(local);
        if (this.isCurrent(local)) applier.applyDiscarded(local, 'empty');
        return;
      }
      const fresh = new Map(snapshot.members.map((m) => [m.id, m]));
      const live = new Set(this.options.bus.liveNodes());
      const lastRound = round >= CONFIRMATION_ROUNDS;
      let kept = false;
      for (const member of [...local.members.values()]) {
        if (fresh.has(member.id)) continue;
        if (member.node === this.options.nodeId) {
          applier.applyLeft(local, member, 'disconnect', undefined);
        } else if (!lastRound && !this.options.verdicts.isDown(member.node, live)) {
          // Its node may not have re-asserted it yet (a store loss): confirmed by a later read.
          kept = true;
        } else {
          applier.applyLeft(local, member, 'node-down', undefined);
        }
      }
      if (kept) this.confirmLater(local, round + 1);
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

  /**
   * Reads the group again `confirmMs` from now as confirmation `round` (one confirmation per replica: one already
   * waiting covers this one too).
   */
  private confirmLater(local: LocalGroup, round: number): void {
    if (this.closed || this.confirmations.has(local)) return;
    const timer = this.options.clock.setTimeout(() => {
      if (!this.isCurrent(local)) {
        this.confirmations.delete(local);
        return;
      }
      this.confirmations.set(local, { round, due: true });
      // A failure is logged by the resync, which tries again by itself (still due).
      this.resync(local).catch(() => undefined);
    }, this.options.confirmMs);
    this.confirmations.set(local, { round, timer });
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
