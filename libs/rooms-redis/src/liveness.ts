import type { LivenessPolicy, Logger, NodeId } from '@rooms-kit/core';
import { Departures } from './departures.js';
import type { RedisKeys } from './keys.js';
import { asStrings } from './replies.js';
import type { RedisCaller } from './script-runner.js';
import { StoreMarker } from './store-marker.js';

/** Options of `NodeLiveness`. */
export interface NodeLivenessOptions {
  /** When a node counts as alive or dead, and the periods (heartbeat, check, record lifetime, retention). */
  policy: LivenessPolicy;
  keys: RedisKeys;
  redis: RedisCaller;
  logger: Logger;
  /**
   * Called once per node gone (every survivor calls its own): found dead (logged as a warning), or left cleanly (its
   * `stop` announced the departure: logged as "node left" at info). Both are cleaned up after the same way.
   */
  onNodeDown(node: NodeId): void;
  /** Cleans up after a dead node; called on every check while it is still listed (a lock makes one survivor do it). */
  cleanUp(node: NodeId): Promise<void>;
  /**
   * This node's own key had expired while the node kept running (a stall longer than its key's life: a long GC or VM
   * pause, CPU starvation, or Redis itself stalled): the others may have found it dead and removed its members. Called
   * once no survivor is cleaning up after it any more, so that the node re-asserts its members and sessions after the
   * cleanup, not under it.
   */
  onExpired(): void;
}

/**
 * NodeLiveness: this node's heartbeat and its view of the others, on Redis; what the readings mean is the
 * `LivenessPolicy`'s. Every `heartbeatMs` it sets its key (`rooms:node:<id>`, PX `recordLifetimeMs`, reading the
 * previous value in the same step) and adds itself to the set of known nodes; every `checkMs` it reads the known
 * nodes, whose keys still exist and the recently dead (`deadnodes`), and reports and cleans up what the policy says.
 *
 * A heartbeat that finds its own key gone (or a check that misses it) means this node was taken for dead while it
 * kept running: it waits until no survivor holds its cleanup lock (the cleaner stops when it sees the key back), then
 * reports `onExpired`. Redis failures skip a round (logged); nothing here throws.
 *
 * Every check reads the store's incarnation marker (`StoreMarker`) before and after its reads: a marker missing or
 * replaced means the store lost its data (every key at once, for nodes that never died): the check judges nobody
 * and the policy awaits the nodes it knew for a TTL (`LivenessPolicy.storeReplaced`). This node's own key lost that
 * way is no stall: it re-asserts (`onExpired`) without the stall warning.
 */
export class NodeLiveness {
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private checkTimer: ReturnType<typeof setInterval> | null = null;
  private readonly cleaning = new Set<NodeId>();
  private checking = false;
  private stopped = false;
  /** Waiting for the cleanup after this node's own expiry to end (see `expired`). */
  private rejoining = false;
  private rejoinTimer: ReturnType<typeof setTimeout> | null = null;
  /** Counts `reconnected` calls: an expiry seen by a beat sent before the last one is the reconnect's business. */
  private reconnects = 0;
  /** The notices of nodes that stopped cleanly (this one's is written by `stop`). */
  private readonly departures: Departures;
  /** The store's incarnation marker, and the value this node last read (null before its first read). */
  private readonly marker: StoreMarker;
  private seenMarker: string | null = null;

  constructor(private readonly options: NodeLivenessOptions) {
    this.departures = new Departures(options.redis, options.keys, options.policy.deadRetentionMs);
    this.marker = new StoreMarker(options.redis, options.keys);
  }

  /** Ids of the nodes alive at the last check, this one first. */
  liveNodes(): NodeId[] {
    return this.options.policy.liveNodes();
  }

  /** A node found without its key between checks (by the cluster bus): out of the live view until the next check. */
  gone(node: NodeId): void {
    this.options.policy.gone(node);
  }

  /** Beats once (rejects when Redis cannot be reached), then starts the timers. */
  async start(): Promise<void> {
    await this.beat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.policy.heartbeatMs);
    this.checkTimer = setInterval(() => void this.check(), this.options.policy.checkMs);
    void this.check();
  }

  /**
   * After this node's connection came back: beats at once, and declares no node dead for a TTL. Keys may have
   * expired while Redis was unreachable for everybody (or lost with a restart); the other nodes need one heartbeat
   * period to refresh theirs, and must not be cleaned up as dead meanwhile.
   */
  reconnected(): void {
    this.reconnects++;
    this.options.policy.holdVerdicts();
    this.beat().catch((error: unknown) => this.options.logger.debug({ err: error }, 'heartbeat after reconnect failed'));
  }

  /** Refreshes this node's key and membership of the known set. Resolves whether the key was still there. */
  async beat(): Promise<boolean> {
    const { redis, keys, policy } = this.options;
    // The key first: a node listed in the set without its key would be taken for dead.
    const previous = await redis.call('SET', keys.node(policy.nodeId), String(policy.time()), 'PX', policy.recordLifetimeMs, 'GET');
    await redis.call('SADD', keys.nodes, policy.nodeId);
    return previous !== null;
  }

  /** A periodic beat (or one a check asked for): a key found gone means this node was taken for dead. */
  private heartbeat(): void {
    const epoch = this.reconnects;
    this.beat().then(
      async (kept) => {
        if (kept || this.stopped || epoch !== this.reconnects) return;
        // Lost with the store's data, or expired while this node stalled: only the second may have cost it members.
        const storeLost = await this.storeChanged().catch(() => false);
        if (!this.stopped && epoch === this.reconnects) this.expired(epoch, storeLost || this.options.policy.storeRecentlyReplaced());
      },
      (error: unknown) => this.options.logger.debug({ err: error }, 'heartbeat failed'),
    );
  }

  /**
   * Reads the store's marker (writing one when missing) and compares it with the one seen last: a change means the
   * store lost its data since, and the policy is told (`storeReplaced`). Resolves whether it changed.
   */
  private async storeChanged(): Promise<boolean> {
    const seen = this.seenMarker;
    const current = await this.marker.ensure();
    // Another read got there first and did what was due (`storeRecentlyReplaced` tells the heartbeat).
    if (this.seenMarker !== seen) return false;
    this.seenMarker = current;
    if (seen === null || seen === current) return false;
    this.options.logger.warn({}, 'the shared store came back without its data: no node is judged dead for a node TTL');
    this.options.policy.storeReplaced();
    return true;
  }

  /**
   * This node's key had expired (`storeLost`: it was lost with the store's data): no death is declared for a while;
   * `onExpired` once no cleanup of this node runs.
   */
  private expired(epoch: number, storeLost: boolean): void {
    const { policy, redis, keys, logger } = this.options;
    const giveUpAt = policy.selfExpired();
    if (this.rejoining) return;
    this.rejoining = true;
    if (storeLost) logger.info({ node: policy.nodeId }, "this node's liveness key was lost with the store's data: it re-asserts its members");
    else logger.warn({ node: policy.nodeId }, "this node's liveness key had expired (a stall longer than the node TTL): others may have removed its members");
    const attempt = (): void => {
      this.rejoinTimer = null;
      if (this.stopped) return;
      if (epoch !== this.reconnects) {
        this.rejoining = false;
        return;
      }
      redis.call('EXISTS', keys.cleanupLock(policy.nodeId)).then(
        (locked) => {
          if (this.stopped) return;
          if (locked === 1 && policy.before(giveUpAt)) {
            this.rejoinTimer = setTimeout(attempt, policy.checkMs);
            return;
          }
          this.rejoining = false;
          // A reconnect reported meanwhile made the node re-assert already.
          if (epoch === this.reconnects) this.options.onExpired();
        },
        (error: unknown) => {
          logger.debug({ err: error }, 'reading the cleanup lock failed; retried');
          if (!this.stopped) this.rejoinTimer = setTimeout(attempt, policy.checkMs);
        },
      );
    };
    attempt();
  }

  /** Reads which nodes are alive; reports and cleans up the dead ones. */
  async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const { redis, keys, policy, logger } = this.options;
      const at = policy.time();
      // The marker around the reads: a store that lost its data before or during them makes them judge nobody.
      if (await this.storeChanged()) return;
      const marker = this.seenMarker;
      const known = asStrings(await redis.call('SMEMBERS', keys.nodes)).filter((id) => id !== policy.nodeId);
      const [self, ...exists] = await Promise.all([policy.nodeId, ...known].map((id) => redis.call('EXISTS', keys.node(id))));
      const recentlyCleaned = asStrings(await redis.call('ZRANGE', keys.deadNodes, policy.retainedSince(at), '+inf', 'BYSCORE'));
      if (this.stopped) return;
      if ((await this.marker.read()) !== marker) {
        // Lost while reading: the next check sees the new marker (or writes it) and holds verdicts.
        return;
      }
      const others = known.map((node, i) => ({ node, present: exists[i] === 1 }));
      const verdict = policy.assess({ at, selfPresent: self === 1, others, recentlyCleaned });
      if (verdict.selfMissing) {
        // Our own key is gone too: we stalled, or Redis did (then every key expired at once). Nobody was judged.
        this.heartbeat();
        return;
      }
      for (const id of verdict.down) await this.report(id);
      if (verdict.prune) await redis.call('ZREMRANGEBYSCORE', keys.deadNodes, '-inf', policy.retainedSince(at));
      for (const id of verdict.dead) {
        if (this.cleaning.has(id)) continue;
        this.cleaning.add(id);
        void this.options
          .cleanUp(id)
          .catch((error: unknown) => logger.warn({ err: error, node: id }, 'cleanup after a dead node failed; retried'))
          .finally(() => this.cleaning.delete(id));
      }
    } catch (error) {
      this.options.logger.debug({ err: error }, 'liveness check failed');
    } finally {
      this.checking = false;
    }
  }

  /**
   * A node whose key is gone: a departure (it announced itself) is logged at info, a crash or a stall as a warning;
   * both are reported (`onNodeDown`: the node is gone either way) and cleaned up after (see `check`).
   */
  private async report(node: NodeId): Promise<void> {
    const { logger } = this.options;
    if (await this.departures.left(node).catch(() => false)) logger.info({ node }, 'node left');
    else logger.warn({ node }, 'node found dead');
    this.options.onNodeDown(node);
  }

  /**
   * Stops the timers. With `removeKey` (a clean stop), announces the departure and then deletes this node's key, so
   * the others find it gone at their next check and log it as left, not dead.
   */
  async stop(removeKey: boolean): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer);
    this.heartbeatTimer = null;
    this.checkTimer = null;
    this.rejoinTimer = null;
    if (!removeKey) return;
    const self = this.options.policy.nodeId;
    // The notice first: a survivor that sees the key gone must find the notice (a failure leaves the node "dead").
    await this.departures.announce(self).catch((error: unknown) => this.options.logger.debug({ err: error }, 'announcing the departure failed'));
    await this.options.redis.call('DEL', this.options.keys.node(self));
  }
}
