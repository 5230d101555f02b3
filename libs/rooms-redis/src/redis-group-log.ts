import { GapRecoverer, RoomsError, WatchTable } from '@rooms-kit/core';
import type {
  DiscardReason,
  GroupId,
  GroupLog,
  GroupMessage,
  GroupSnapshot,
  GroupSpec,
  GroupWatch,
  JoinOutcome,
  LeaveReason,
  MemberInfo,
  NodeId,
  ReassertedGroup,
  RecoverySource,
  ReplicaEvent,
  SessionId,
} from '@rooms-kit/core';
import { toStoreError } from './errors.js';
import { decodeEvent } from './event-codec.js';
import { asStrings } from './replies.js';
import type { RedisRuntime, Running } from './redis-runtime.js';

/**
 * RedisGroupLog: the group log on Redis (one server, or Redis Cluster through sharded pub/sub). Keeps every guarantee
 * of `GroupLog`:
 * - Atomicity: each change is one Lua script on the group's hash-tagged keys (`rooms:{g:<id>}:…`), which also
 *   publishes the change's event on the group's channel, so channel order is version order.
 * - Order: per watched group, events are delivered once and in `v` order (see `WatchTable`): a group's channel is
 *   subscribed (and acknowledged) before its snapshot is read; events the snapshot reflects are dropped; events after
 *   it are delivered on a later macrotask than the call that returned the snapshot. A gap (a lost message) is
 *   recovered from the store (`GapRecoverer`): missed messages from the history stream, membership from the snapshot.
 *   An event the store does not reflect (above the snapshot read after it arrived) is dropped; recoveries of one group
 *   in a row back off.
 * - Failure: see `RedisRuntime.call`; a command that timed out may still have been applied by Redis (its event then
 *   arrives as usual).
 * Offsets never go back, also across a loss of Redis data (`reassert` keeps the highest offset and version, and writes
 * back the messages acknowledged to the node's senders that it never saw published).
 */
export class RedisGroupLog implements GroupLog {
  private readonly table: WatchTable;
  private readonly recoverer: GapRecoverer;
  /** Where events go: the node's handler once started. */
  private deliverTo: ((event: ReplicaEvent) => void) | null = null;

  constructor(private readonly runtime: RedisRuntime) {
    const { logger } = runtime;
    this.table = new WatchTable({
      deliver: (event) => this.deliverTo?.(event),
      recover: (watch) => void this.recoverer.recover(watch),
      discarded: (watch) => this.unsubscribe(watch.channel),
      dropped: (watch, event) =>
        logger.warn({ group: watch.group, v: event.v, type: event.type, have: watch.lastV }, 'dropped a replica event the store does not reflect (forged, or a write lost in a failover)'),
    });
    this.recoverer = new GapRecoverer({ table: this.table, self: runtime.nodeId, logger, source: () => this.recoverySource() });
  }

  async createGroup(spec: GroupSpec, first: MemberInfo | null): Promise<GroupSnapshot> {
    const run = this.runtime.require();
    const { watch } = this.ensureWatch(spec.id);
    this.table.hold(watch);
    let snapshot: GroupSnapshot | null = null;
    const indexFirst = first !== null && !run.groups.otherSlotsInScripts;
    try {
      await watch.subscribed;
      if (indexFirst) await this.indexBefore(run, first.node, spec.id);
      snapshot = await run.groups.create(spec, first);
      if (indexFirst) run.index.after(first.node, spec.id);
      if (run.link.cluster) await this.updateGroupSet(run, 'SADD', spec.id);
      return snapshot;
    } catch (error) {
      if (indexFirst && !snapshot) run.index.prune(first.node, spec.id);
      if (!watch.established) this.dropUnusedWatch(watch);
      throw toStoreError(error);
    } finally {
      this.table.release(watch, snapshot);
    }
  }

  async watch(group: GroupId): Promise<GroupSnapshot | null> {
    const run = this.runtime.require();
    const { watch } = this.ensureWatch(group);
    this.table.hold(watch);
    let snapshot: GroupSnapshot | null = null;
    try {
      await watch.subscribed;
      snapshot = await run.groups.read(group);
      if (!snapshot) this.dropUnusedWatch(watch);
      return snapshot;
    } catch (error) {
      if (!watch.established) this.dropUnusedWatch(watch);
      throw toStoreError(error);
    } finally {
      this.table.release(watch, snapshot);
    }
  }

  async unwatch(group: GroupId): Promise<void> {
    const watch = this.table.get(group);
    if (!watch) return;
    this.table.remove(watch);
    await this.unsubscribe(watch.channel);
  }

  async snapshot(group: GroupId): Promise<GroupSnapshot | null> {
    return this.runtime.call((run) => run.groups.read(group));
  }

  async listGroups(): Promise<GroupId[]> {
    return this.runtime.call(async (run) => asStrings(await run.link.commands.call('SMEMBERS', this.runtime.keys.groups)));
  }

  async join(group: GroupId, member: MemberInfo): Promise<JoinOutcome> {
    return this.runtime.call(async (run) => {
      // On single Redis the script keeps the node's index itself.
      if (run.groups.otherSlotsInScripts) return run.groups.join(group, member);
      await this.indexBefore(run, member.node, group);
      let outcome: JoinOutcome;
      try {
        outcome = await run.groups.join(group, member);
      } catch (error) {
        if (error instanceof RoomsError) run.index.prune(member.node, group);
        throw error;
      }
      if (!outcome.already) run.index.after(member.node, group);
      return outcome;
    });
  }

  async leave(group: GroupId, member: SessionId, reason: LeaveReason, data?: unknown): Promise<number | null> {
    return this.runtime.call(async (run) => {
      const result = await run.groups.leave(group, member, reason, data);
      if (!result) return null;
      if (result.nodeEmptied) run.index.prune(result.node, group);
      return result.v;
    });
  }

  async rejoin(group: GroupId, member: MemberInfo): Promise<number | null> {
    return this.runtime.call(async (run) => {
      const indexed = run.groups.otherSlotsInScripts;
      if (!indexed) await this.indexBefore(run, member.node, group);
      const result = await run.groups.rejoin(group, member);
      if (!result) {
        if (!indexed) run.index.prune(member.node, group);
        return null;
      }
      if (!indexed) run.index.after(member.node, group);
      if (result.previousNode !== null && result.previousEmptied) run.index.prune(result.previousNode, group);
      return result.v;
    });
  }

  async publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean, json?: string): Promise<{ offset: number; size: number }> {
    return this.runtime.call((run) => run.groups.publish(group, from, data, self, json));
  }

  async discard(group: GroupId, options: { ifEmpty: boolean; reason: DiscardReason }): Promise<boolean> {
    return this.runtime.call(async (run) => {
      const result = await run.groups.discard(group, options.ifEmpty, options.reason);
      if (!result) return false;
      for (const node of result.nodes) run.index.prune(node, group);
      if (run.link.cluster) await this.updateGroupSet(run, 'SREM', group);
      return true;
    });
  }

  async history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    return this.runtime.call(async (run) => {
      const from = Number.isFinite(since) ? Math.max(0, Math.floor(since)) : 0;
      const { messages, complete } = await run.groups.history(group, from);
      return { messages: messages.map(({ self, ...message }): GroupMessage => (self ? { ...message, self } : message)), complete };
    });
  }

  async reassert(groups: ReassertedGroup[]): Promise<void> {
    const run = this.runtime.require();
    const self = this.runtime.nodeId;
    for (const given of groups) {
      const group = given.spec.id;
      const { watch, created } = this.ensureWatch(group);
      this.table.hold(watch);
      let snapshot: GroupSnapshot | null = null;
      try {
        await watch.subscribed;
        const mine = given.members.some((m) => m.node === self);
        if (mine) await this.indexBefore(run, self, group);
        const result = await run.groups.reassert(given, self);
        if (mine) run.index.after(self, group);
        if (result.created && run.link.cluster) await this.updateGroupSet(run, 'SADD', group);
        // A watch this call created starts after the members' events, as `createGroup` does; an existing one keeps going.
        if (created) {
          snapshot = await run.groups.read(group);
          if (!snapshot) this.dropUnusedWatch(watch);
        }
        // After that snapshot: the messages written back reach this node as events too, as they reach the others.
        if (given.messages && given.messages.length > 0 && (snapshot || !created)) await run.groups.restore(group, given.messages);
      } catch (error) {
        if (!watch.established) this.dropUnusedWatch(watch);
        throw toStoreError(error);
      } finally {
        this.table.release(watch, snapshot);
      }
    }
  }

  // ---- what the backend tells the group log ---------------------------------------------------------------------

  /** Starts handing events to `deliver` (the node's handler). */
  attach(deliver: (event: ReplicaEvent) => void): void {
    this.deliverTo = deliver;
  }

  /** Every group channel to subscribe again after a reconnect. */
  channels(): string[] {
    return this.table.all().map((w) => w.channel);
  }

  /** A message on a group channel: decoded (a malformed one is logged and dropped) and sequenced. */
  receive(channel: string, message: string): void {
    const event = decodeEvent(message);
    if (!event) {
      this.runtime.logger.warn({ channel, message: message.slice(0, 200) }, 'malformed replica event dropped');
      return;
    }
    this.table.receive(channel, event);
  }

  /** A connection was lost or came back: events may have been lost, so gaps wait for the next snapshot. */
  markStale(): void {
    this.table.markStale();
  }

  /** Forgets every watch and ends the recoveries' waits; nothing is delivered any more. */
  close(): void {
    this.deliverTo = null;
    this.recoverer.close();
    for (const watch of this.table.all()) this.table.remove(watch);
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /** The store as a recovery reads it, while running. */
  private recoverySource(): RecoverySource | null {
    const run = this.runtime.running;
    if (!run) return null;
    return {
      read: (group) => run.groups.read(group),
      messages: async (group, since, until) => (await run.groups.history(group, since, until)).messages,
    };
  }

  /**
   * On Redis Cluster the set of group ids is in another slot than the group, so it follows the change with a command
   * of its own (awaited, so a listing after the change sees it); the change itself succeeded, so a failure here is
   * logged, not reported (a re-assert adds it again).
   */
  private async updateGroupSet(run: Running, command: 'SADD' | 'SREM', group: GroupId): Promise<void> {
    await run.link.commands.call(command, this.runtime.keys.groups, group).catch((error: unknown) => this.runtime.logger.warn({ err: error, group }, 'updating the set of groups failed'));
  }

  /** Adds a group to a node's index before the change that adds the node's member (see `NodeIndex`). */
  private async indexBefore(run: Running, node: NodeId, group: GroupId): Promise<void> {
    const added = run.index.add(node, group);
    // One connection keeps the order on single Redis: the script is queued behind it, no round trip to wait for.
    if (run.link.cluster) await added;
    else added.catch((error: unknown) => this.runtime.logger.debug({ err: error, group }, 'node index add failed'));
  }

  private ensureWatch(group: GroupId): { watch: GroupWatch; created: boolean } {
    const channel = this.runtime.keys.group(group).channel;
    const result = this.table.ensure(group, channel);
    if (result.created) {
      const run = this.runtime.require();
      result.watch.subscribed = run.link.subscribeGroup(channel);
      // Callers await it; this handler only keeps an early failure from being reported as unhandled.
      result.watch.subscribed.catch(() => undefined);
    }
    return result;
  }

  /** Forgets a watch nobody else is using (a failed or empty watch), unsubscribing its channel. */
  private dropUnusedWatch(watch: GroupWatch): void {
    if (watch.holds > 1 || !this.table.has(watch)) return;
    this.table.remove(watch);
    void this.unsubscribe(watch.channel);
  }

  private async unsubscribe(channel: string): Promise<void> {
    // A new watch of the same group may have subscribed the channel again in the meantime.
    const group = this.runtime.keys.groupOfChannel(channel);
    if (group !== null && this.table.get(group)) return;
    try {
      await this.runtime.running?.link.unsubscribeGroup(channel);
    } catch (error) {
      this.runtime.logger.debug({ err: error, channel }, 'unsubscribe failed (the channel is not subscribed again after a reconnect)');
    }
  }
}
