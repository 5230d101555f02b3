import { RoomsError, silentLogger } from '@rooms-kit/core';
import type {
  GroupId,
  GroupMessage,
  GroupSnapshot,
  GroupSpec,
  JoinOutcome,
  LeaveReason,
  Logger,
  MemberInfo,
  NodeId,
  ReplicaEvent,
  ReplicaHandler,
  Replicator,
  SessionId,
  SessionRecord,
} from '@rooms-kit/core';
import { toStoreError, withDeadline } from './errors.js';
import { decodeControl, decodeEvent } from './event-codec.js';
import { recoveryDelayMs, recoveryEvents } from './gap-recovery.js';
import { GroupStore } from './group-store.js';
import type { GroupWatch } from './group-watch.js';
import { RedisKeys } from './keys.js';
import { NodeLiveness } from './liveness.js';
import { cleanUpDeadNode } from './node-cleanup.js';
import { NodeIndex } from './node-index.js';
import type { RedisReplicatorOptions, ResolvedOptions } from './options.js';
import { resolveOptions } from './options.js';
import { RedisLink } from './redis-link.js';
import { parseRedisUrl } from './redis-url.js';
import { asStrings } from './replies.js';
import { ScriptRunner } from './script-runner.js';
import { scriptSources } from './scripts.js';
import { SessionStore } from './session-store.js';
import { WatchTable } from './watch-table.js';

/** The parts that exist between `start` and `close`. */
interface Running {
  link: RedisLink;
  groups: GroupStore;
  sessions: SessionStore;
  index: NodeIndex;
  liveness: NodeLiveness;
  runner: ScriptRunner;
}

/**
 * RedisReplicator: the kernel's replication port on Redis (one server, or Redis Cluster through sharded pub/sub).
 * Keeps every guarantee of `Replicator`:
 * - Atomicity: each change is one Lua script on the group's hash-tagged keys (`rooms:{g:<id>}:…`), which also
 *   publishes the change's event on the group's channel, so channel order is version order.
 * - Order: per watched group, events are delivered once and in `v` order (see `WatchTable`): a group's channel is
 *   subscribed (and acknowledged) before its snapshot is read; events the snapshot reflects are dropped; events after
 *   it are delivered on a later macrotask than the call that returned the snapshot. A gap (a lost message) is
 *   recovered from the store: missed messages from the history stream, membership from the snapshot.
 * - Failure: no offline queue and a command timeout, so while Redis is unreachable every call rejects at once (or
 *   after at most `commandTimeoutMs`) with `UNAVAILABLE`, also while only the subscriber is down (an event could not
 *   arrive); nothing is resent after a reconnect. After a reconnect it
 *   subscribes every channel again, then reports `onAvailability(true)` and `onReconnected()`. A command that timed
 *   out may still have been applied by Redis (its event then arrives as usual).
 * - Liveness: a key per node that lives two checks less than `nodeTtlMs`, refreshed every quarter of it; every node checks the others every
 *   `livenessCheckMs`; one survivor (lock) removes a dead node's members with `left` reason `node-down`, reports the
 *   groups that left empty to its kernel (`onOrphans`) and makes its sessions resumable for their window; every
 *   survivor gets `onNodeDown`. A node that finds its own key expired (it stalled) gets `onReconnected` once the
 *   cleanup after it is over, and re-asserts.
 * - Gaps: an event the store does not reflect (above the snapshot read after it arrived) is dropped; recoveries of one
 *   group in a row back off.
 * Offsets never go back, also across a loss of Redis data (`reassert` keeps the highest offset and version).
 */
export class RedisReplicator implements Replicator {
  readonly nodeId: NodeId;
  private readonly options: ResolvedOptions;
  private readonly logger: Logger;
  private readonly keys: RedisKeys;
  private readonly table: WatchTable;
  private handler: ReplicaHandler | null = null;
  private running: Running | null = null;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Pending `pause`s (recovery backoff), ended by `close`. */
  private readonly pauses = new Set<() => void>();

  constructor(options: RedisReplicatorOptions) {
    this.options = resolveOptions(options);
    this.nodeId = this.options.nodeId;
    this.logger = options.logger ?? silentLogger;
    this.keys = new RedisKeys(this.options.keyPrefix);
    this.table = new WatchTable({
      deliver: (event) => this.deliver(event),
      recover: (watch) => void this.recover(watch),
      discarded: (watch) => this.unsubscribe(watch.channel),
      dropped: (watch, event) =>
        this.logger.warn({ group: watch.group, v: event.v, type: event.type, have: watch.lastV }, 'dropped a replica event the store does not reflect (forged, or a write lost in a failover)'),
    });
  }

  /** Connects (rejects `UNAVAILABLE` when Redis cannot be reached), subscribes this node's control channel and starts the liveness. */
  start(handler: ReplicaHandler): Promise<void> {
    if (this.closing) return Promise.reject(new RoomsError('UNAVAILABLE', 'the replicator is closed'));
    this.starting ??= this.open(handler);
    return this.starting;
  }

  /**
   * Stops the timers, removes this node's liveness key (the survivors then remove its members with `node-down`, as
   * for a crash, and its sessions become resumable elsewhere) and quits both connections, which ends every
   * subscription. Idempotent; every call after it rejects `UNAVAILABLE`.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async createGroup(spec: GroupSpec, first: MemberInfo | null): Promise<GroupSnapshot> {
    const run = this.require();
    const channel = this.keys.group(spec.id).channel;
    const { watch } = this.ensureWatch(spec.id, channel);
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
    const run = this.require();
    const { watch } = this.ensureWatch(group, this.keys.group(group).channel);
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
    return this.call((run) => run.groups.read(group));
  }

  async listGroups(): Promise<GroupId[]> {
    return this.call(async (run) => asStrings(await run.link.commands.call('SMEMBERS', this.keys.groups)));
  }

  async join(group: GroupId, member: MemberInfo): Promise<JoinOutcome> {
    return this.call(async (run) => {
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
    return this.call(async (run) => {
      const result = await run.groups.leave(group, member, reason, data);
      if (!result) return null;
      if (result.nodeEmptied) run.index.prune(result.node, group);
      return result.v;
    });
  }

  async rejoin(group: GroupId, member: MemberInfo): Promise<number | null> {
    return this.call(async (run) => {
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

  async publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean): Promise<{ offset: number; size: number }> {
    return this.call((run) => run.groups.publish(group, from, data, self));
  }

  async discard(group: GroupId, options: { ifEmpty: boolean; reason: 'empty' | 'admin' }): Promise<boolean> {
    return this.call(async (run) => {
      const result = await run.groups.discard(group, options.ifEmpty, options.reason);
      if (!result) return false;
      for (const node of result.nodes) run.index.prune(node, group);
      if (run.link.cluster) await this.updateGroupSet(run, 'SREM', group);
      return true;
    });
  }

  async history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    return this.call(async (run) => {
      const from = Number.isFinite(since) ? Math.max(0, Math.floor(since)) : 0;
      const { messages, complete } = await run.groups.history(group, from);
      return { messages: messages.map(({ self: _self, ...message }) => message), complete };
    });
  }

  /** Stores the record unless another node than `record.node` holds the session now (it was taken: see `SessionStore.save`). */
  async saveSession(record: SessionRecord): Promise<void> {
    await this.call((run) => run.sessions.save(record), true);
  }

  async takeSession(session: SessionId, tokenHash: string, options: { newTokenHash?: string; expectedUser?: string | null } = {}): Promise<SessionRecord | null> {
    return this.call((run) => run.sessions.take(session, tokenHash, options), true);
  }

  async kickSession(session: SessionId): Promise<boolean> {
    return this.call((run) => run.sessions.kick(session), true);
  }

  async dropSession(session: SessionId, ifNode?: NodeId): Promise<boolean> {
    return this.call((run) => run.sessions.drop(session, ifNode));
  }

  liveNodes(): NodeId[] {
    return this.running?.liveness.liveNodes() ?? [this.nodeId];
  }

  async reassert(groups: GroupSnapshot[]): Promise<void> {
    const run = this.require();
    for (const given of groups) {
      const group = given.spec.id;
      const { watch, created } = this.ensureWatch(group, this.keys.group(group).channel);
      this.table.hold(watch);
      let snapshot: GroupSnapshot | null = null;
      try {
        await watch.subscribed;
        const mine = given.members.some((m) => m.node === this.nodeId);
        if (mine) await this.indexBefore(run, this.nodeId, group);
        const result = await run.groups.reassert(given, this.nodeId);
        if (mine) run.index.after(this.nodeId, group);
        if (result.created && run.link.cluster) await this.updateGroupSet(run, 'SADD', group);
        // A watch this call created starts after its own events, as `createGroup` does; an existing one keeps going.
        if (created) {
          snapshot = await run.groups.read(group);
          if (!snapshot) this.dropUnusedWatch(watch);
        }
      } catch (error) {
        if (!watch.established) this.dropUnusedWatch(watch);
        throw toStoreError(error);
      } finally {
        this.table.release(watch, snapshot);
      }
    }
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  private async open(handler: ReplicaHandler): Promise<void> {
    const target = parseRedisUrl(this.options.url);
    const link = new RedisLink(
      target,
      {
        nodeId: this.nodeId,
        commandTimeoutMs: this.options.commandTimeoutMs,
        logger: this.logger,
        channels: () => ({ group: this.table.all().map((w) => w.channel), control: [this.keys.control(this.nodeId)] }),
      },
      {
        onMessage: (channel, message) => this.onMessage(channel, message),
        onDown: () => this.onDown(),
        onUp: () => this.onUp(),
      },
    );
    const runner = new ScriptRunner(link.commands, scriptSources(link.cluster ? 'SPUBLISH' : 'PUBLISH'));
    const groups = new GroupStore(runner, this.keys, !link.cluster, this.nodeId, this.options.historySize, this.logger);
    const now = this.options.now;
    const sessions = new SessionStore(this.nodeId, link.commands, runner, this.keys, now, link.cluster, this.logger);
    const liveness = new NodeLiveness({
      nodeId: this.nodeId,
      nodeTtlMs: this.options.nodeTtlMs,
      heartbeatMs: this.options.heartbeatMs,
      checkMs: this.options.livenessCheckMs,
      deadRetentionMs: Math.max(60_000, 10 * this.options.nodeTtlMs),
      keys: this.keys,
      redis: link.commands,
      logger: this.logger,
      onNodeDown: (node) => this.notify('onNodeDown', () => handler.onNodeDown(node)),
      cleanUp: async (node) => {
        await cleanUpDeadNode(
          {
            self: this.nodeId,
            redis: link.commands,
            runner,
            groups,
            keys: this.keys,
            now,
            // About the node TTL, so a cleaner that dies is replaced about a TTL later; renewed before every batch.
            lockMs: Math.max(this.options.nodeTtlMs, 2 * this.options.commandTimeoutMs),
            logger: this.logger,
            onOrphans: (orphans) => this.notify('onOrphans', () => this.handler?.onOrphans(orphans)),
          },
          node,
        );
      },
      onExpired: () => this.onExpired(),
    });
    const running: Running = { link, groups, sessions, index: new NodeIndex(link.commands, this.keys, this.logger), liveness, runner };
    try {
      await withDeadline(Math.max(2000, 2 * this.options.commandTimeoutMs), async () => {
        await link.connect();
        await link.subscribeControl(this.keys.control(this.nodeId));
        await liveness.start();
      });
    } catch (error) {
      await liveness.stop(false);
      await link.close();
      this.starting = null;
      throw toStoreError(error);
    }
    if (this.closing) {
      await liveness.stop(true).catch(() => undefined);
      await link.close();
      throw new RoomsError('UNAVAILABLE', 'the replicator was closed while starting');
    }
    this.handler = handler;
    this.running = running;
  }

  private async shutdown(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const run = this.running;
    this.running = null;
    this.handler = null;
    for (const done of [...this.pauses]) done();
    this.pauses.clear();
    if (!run) return;
    for (const watch of this.table.all()) this.table.remove(watch);
    await run.liveness.stop(run.link.available).catch((error: unknown) => this.logger.debug({ err: error }, 'removing the liveness key failed'));
    await run.link.close();
  }

  private require(): Running {
    if (!this.running) throw new RoomsError('UNAVAILABLE', this.closing ? 'the replicator is closed' : 'the replicator is not started');
    return this.running;
  }

  /**
   * Runs a store operation, mapping failures; `deadline` bounds operations of several round trips. Rejects
   * `UNAVAILABLE` at once while any connection is down, the subscriber too: a change applied then would publish an
   * event this node cannot receive, and the kernel would wait for it.
   */
  private async call<T>(work: (run: Running) => Promise<T>, deadline = false): Promise<T> {
    const run = this.require();
    if (!run.link.available) throw new RoomsError('UNAVAILABLE', 'the connection to the shared store is down');
    if (deadline) return withDeadline(this.options.commandTimeoutMs, () => work(run));
    try {
      return await work(run);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /**
   * On Redis Cluster the set of group ids is in another slot than the group, so it follows the change with a command
   * of its own (awaited, so a listing after the change sees it); the change itself succeeded, so a failure here is
   * logged, not reported (a re-assert adds it again).
   */
  private async updateGroupSet(run: Running, command: 'SADD' | 'SREM', group: GroupId): Promise<void> {
    await run.link.commands.call(command, this.keys.groups, group).catch((error: unknown) => this.logger.warn({ err: error, group }, 'updating the set of groups failed'));
  }

  /** Adds a group to a node's index before the change that adds the node's member (see `NodeIndex`). */
  private async indexBefore(run: Running, node: NodeId, group: GroupId): Promise<void> {
    const added = run.index.add(node, group);
    // One connection keeps the order on single Redis: the script is queued behind it, no round trip to wait for.
    if (run.link.cluster) await added;
    else added.catch((error: unknown) => this.logger.debug({ err: error, group }, 'node index add failed'));
  }

  private ensureWatch(group: GroupId, channel: string): { watch: GroupWatch; created: boolean } {
    const result = this.table.ensure(group, channel);
    if (result.created) {
      const run = this.require();
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
    const group = this.keys.groupOfChannel(channel);
    if (group !== null && this.table.get(group)) return;
    try {
      await this.running?.link.unsubscribeGroup(channel);
    } catch (error) {
      this.logger.debug({ err: error, channel }, 'unsubscribe failed (the channel is not subscribed again after a reconnect)');
    }
  }

  /**
   * Recovers a gap of `watch` from the store (see `WatchTable.recovered`): the snapshot, and the missed messages from
   * the history. Repeated recoveries of one group without an event in order between them wait longer and longer
   * (`recoveryDelayMs`), so an event that never fits cannot make this node hammer Redis. Never rejects: a failure is
   * logged and leaves the watch stale, and the hold is always released.
   */
  private async recover(watch: GroupWatch): Promise<void> {
    let handedBack = false;
    try {
      const delay = recoveryDelayMs(watch.recoveries);
      if (delay > 0) await this.pause(delay);
      const run = this.running;
      // Events queued so far arrived before the snapshot is read (see `WatchTable.recovered`).
      const receivedBefore = watch.queue.length;
      let snapshot: GroupSnapshot | null = null;
      let events: ReplicaEvent[] | null = null;
      this.logger.warn({ group: watch.group, have: watch.lastV, attempt: watch.recoveries }, 'replica event gap: recovering from the store');
      try {
        if (run && this.table.has(watch)) {
          snapshot = await run.groups.read(watch.group);
          const messages = snapshot && snapshot.offset > watch.offset ? (await run.groups.history(watch.group, watch.offset, snapshot.offset)).messages : [];
          events = recoveryEvents(watch, snapshot, messages, this.nodeId);
        }
      } catch (error) {
        this.logger.warn({ err: error, group: watch.group }, 'gap recovery failed; delivering what arrived');
      }
      handedBack = true;
      this.table.recovered(watch, snapshot, events, receivedBefore);
    } catch (error) {
      this.logger.error({ err: error, group: watch.group }, 'gap recovery threw');
      // `recovered` always releases the hold; before it, release it here (as a failed recovery) so the group goes on.
      if (!handedBack) {
        try {
          this.table.recovered(watch, null, null, 0);
        } catch (again) {
          this.logger.error({ err: again, group: watch.group }, 'releasing a failed gap recovery threw');
        }
      }
    }
  }

  /** Resolves after `ms`, or at once when the replicator closes. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pauses.delete(done);
        resolve();
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.pauses.add(done);
    });
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.keys.control(this.nodeId)) {
      const control = decodeControl(message);
      if (!control) this.logger.warn({ channel }, 'malformed control message dropped');
      else if (control.type === 'taken') this.notify('onSessionTaken', () => this.handler?.onSessionTaken(control.session));
      else this.notify('onSessionKicked', () => this.handler?.onSessionKicked(control.session));
      return;
    }
    const event = decodeEvent(message);
    if (!event) {
      this.logger.warn({ channel, message: message.slice(0, 200) }, 'malformed replica event dropped');
      return;
    }
    this.table.receive(channel, event);
  }

  private deliver(event: ReplicaEvent): void {
    this.notify('onEvent', () => this.handler?.onEvent(event));
  }

  private onDown(): void {
    this.table.markStale();
    this.notify('onAvailability', () => this.handler?.onAvailability(false));
  }

  /**
   * This node's liveness key had expired while it ran (see `NodeLiveness`): the others may have removed its members
   * and marked its sessions dead. The kernel re-asserts them as after a reconnect (while a connection is down, the
   * reconnect that follows does it).
   */
  private onExpired(): void {
    if (!this.running?.link.available) return;
    this.notify('onReconnected', () => this.handler?.onReconnected());
  }

  private onUp(): void {
    const run = this.running;
    if (!run) return;
    this.table.markStale();
    // Beat at once (after a restart without persistence this node's key is gone), and give the others time to.
    run.liveness.reconnected();
    this.notify('onAvailability', () => this.handler?.onAvailability(true));
    this.notify('onReconnected', () => this.handler?.onReconnected());
  }

  private notify(what: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.error({ err: error, handler: what }, 'replica handler threw');
    }
  }
}
