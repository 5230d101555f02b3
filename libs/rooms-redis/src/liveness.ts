import type { LivenessPolicy, Logger, NodeId } from '@rooms-kit/core';
import type { RedisKeys } from './keys.js';
import { asStrings } from './replies.js';
import type { RedisCaller } from './script-runner.js';

/** Options of `NodeLiveness`. */
export interface NodeLivenessOptions {
  /** When a node counts as alive or dead, and the periods (heartbeat, check, record lifetime, retention). */
  policy: LivenessPolicy;
  keys: RedisKeys;
  redis: RedisCaller;
  logger: Logger;
  /** Called once per dead node found (every survivor calls its own). */
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

  constructor(private readonly options: NodeLivenessOptions) {}

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
      (kept) => {
        if (!kept && !this.stopped && epoch === this.reconnects) this.expired(epoch);
      },
      (error: unknown) => this.options.logger.debug({ err: error }, 'heartbeat failed'),
    );
  }

  /** This node's key had expired: no death is declared for a while; `onExpired` once no cleanup of this node runs. */
  private expired(epoch: number): void {
    const { policy, redis, keys, logger } = this.options;
    const giveUpAt = policy.selfExpired();
    if (this.rejoining) return;
    this.rejoining = true;
    logger.warn({ node: policy.nodeId }, "this node's liveness key had expired (a stall longer than the node TTL): others may have removed its members");
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
      const known = asStrings(await redis.call('SMEMBERS', keys.nodes)).filter((id) => id !== policy.nodeId);
      const [self, ...exists] = await Promise.all([policy.nodeId, ...known].map((id) => redis.call('EXISTS', keys.node(id))));
      const recentlyCleaned = asStrings(await redis.call('ZRANGE', keys.deadNodes, policy.retainedSince(at), '+inf', 'BYSCORE'));
      if (this.stopped) return;
      const others = known.map((node, i) => ({ node, present: exists[i] === 1 }));
      const verdict = policy.assess({ at, selfPresent: self === 1, others, recentlyCleaned });
      if (verdict.selfMissing) {
        // Our own key is gone too: we stalled, or Redis did (then every key expired at once). Nobody was judged.
        this.heartbeat();
        return;
      }
      for (const id of verdict.down) {
        logger.info({ node: id }, 'node found dead');
        this.options.onNodeDown(id);
      }
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

  /** Stops the timers. With `removeKey`, deletes this node's key so the others find it gone at their next check. */
  async stop(removeKey: boolean): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer);
    this.heartbeatTimer = null;
    this.checkTimer = null;
    this.rejoinTimer = null;
    if (removeKey) await this.options.redis.call('DEL', this.options.keys.node(this.options.policy.nodeId));
  }
}
