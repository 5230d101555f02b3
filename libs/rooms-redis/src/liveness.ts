import type { Logger, NodeId } from '@rooms-kit/core';
import type { RedisKeys } from './keys.js';
import { asStrings } from './replies.js';
import type { RedisCaller } from './script-runner.js';

/**
 * How long a heartbeat keeps a node's key: two checks less than the node TTL, so that survivors (checking every
 * `checkMs`) see a dead node within `nodeTtlMs` of its last heartbeat, not up to a check later. A live node refreshes
 * its key every quarter TTL, so at the defaults (3000 / 300) a heartbeat may be ~1.6 s late before it counts as dead.
 */
export function keyLifetimeMs(nodeTtlMs: number, checkMs: number): number {
  return Math.max(nodeTtlMs - 2 * checkMs, Math.ceil(nodeTtlMs / 2));
}

/** Every how many checks a node trims the list of recently dead nodes. */
const PRUNE_EVERY = 50;

/** Options of `NodeLiveness`. */
export interface NodeLivenessOptions {
  nodeId: NodeId;
  /** A node without a heartbeat for this long is dead (its key lives `keyLifetimeMs` of it). */
  nodeTtlMs: number;
  /** How often this node refreshes its key. */
  heartbeatMs: number;
  /** How often this node checks the others. */
  checkMs: number;
  keys: RedisKeys;
  redis: RedisCaller;
  logger: Logger;
  /** How long a cleaned-up node stays listed as recently dead (for survivors that had not seen it dead yet). */
  deadRetentionMs: number;
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
 * NodeLiveness: this node's heartbeat and its view of the others. Every `heartbeatMs` it sets its key
 * (`rooms:node:<id>`, PX `keyLifetimeMs`, reading the previous value in the same step) and adds itself to the set of
 * known nodes; every `checkMs` it reads the known nodes and whose keys still exist. A node whose key expired is dead:
 * `onNodeDown` once (also when another survivor already cleaned it up: recently dead nodes stay listed for
 * `deadRetentionMs`), and `cleanUp` until the cleanup removes it from the known set.
 *
 * A heartbeat that finds its own key gone (or a check that misses it) means this node was taken for dead while it
 * kept running: it waits until no survivor holds its cleanup lock (the cleaner stops when it sees the key back), then
 * reports `onExpired`. Meanwhile, and for `nodeTtlMs` after, it declares no other node dead: when Redis itself
 * stalled, every key expired at once and the others need a heartbeat to come back. Redis failures skip a round
 * (logged); nothing here throws.
 */
export class NodeLiveness {
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private checkTimer: ReturnType<typeof setInterval> | null = null;
  private live: NodeId[];
  private readonly reportedDown = new Set<NodeId>();
  private readonly cleaning = new Set<NodeId>();
  private checking = false;
  private stopped = false;
  private checks = 0;
  /** Until then no node is declared dead (see `reconnected`). */
  private quietUntil = 0;
  /** Waiting for the cleanup after this node's own expiry to end (see `expired`). */
  private rejoining = false;
  private rejoinTimer: ReturnType<typeof setTimeout> | null = null;
  /** Counts `reconnected` calls: an expiry seen by a beat sent before the last one is the reconnect's business. */
  private reconnects = 0;

  constructor(private readonly options: NodeLivenessOptions) {
    this.live = [options.nodeId];
  }

  /** Ids of the nodes alive at the last check, this one first. */
  liveNodes(): NodeId[] {
    return [...this.live];
  }

  /** Beats once (rejects when Redis cannot be reached), then starts the timers. */
  async start(): Promise<void> {
    await this.beat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatMs);
    this.checkTimer = setInterval(() => void this.check(), this.options.checkMs);
    void this.check();
  }

  /**
   * After this node's connection came back: beats at once, and declares no node dead for `nodeTtlMs`. Keys may have
   * expired while Redis was unreachable for everybody (or lost with a restart); the other nodes need one heartbeat
   * period to refresh theirs, and must not be cleaned up as dead meanwhile.
   */
  reconnected(): void {
    this.reconnects++;
    this.quietUntil = Date.now() + this.options.nodeTtlMs;
    this.beat().catch((error: unknown) => this.options.logger.debug({ err: error }, 'heartbeat after reconnect failed'));
  }

  /** Refreshes this node's key and membership of the known set. Resolves whether the key was still there. */
  async beat(): Promise<boolean> {
    const { redis, keys, nodeId, nodeTtlMs } = this.options;
    // The key first: a node listed in the set without its key would be taken for dead.
    const previous = await redis.call('SET', keys.node(nodeId), String(Date.now()), 'PX', keyLifetimeMs(nodeTtlMs, this.options.checkMs), 'GET');
    await redis.call('SADD', keys.nodes, nodeId);
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
    this.quietUntil = Date.now() + this.options.nodeTtlMs;
    if (this.rejoining) return;
    this.rejoining = true;
    this.options.logger.warn({ node: this.options.nodeId }, "this node's liveness key had expired (a stall longer than the node TTL): others may have removed its members");
    const giveUpAt = Date.now() + 3 * this.options.nodeTtlMs;
    const attempt = (): void => {
      this.rejoinTimer = null;
      if (this.stopped) return;
      if (epoch !== this.reconnects) {
        this.rejoining = false;
        return;
      }
      this.options.redis.call('EXISTS', this.options.keys.cleanupLock(this.options.nodeId)).then(
        (locked) => {
          if (this.stopped) return;
          if (locked === 1 && Date.now() < giveUpAt) {
            this.rejoinTimer = setTimeout(attempt, this.options.checkMs);
            return;
          }
          this.rejoining = false;
          // A reconnect reported meanwhile made the node re-assert already.
          if (epoch === this.reconnects) this.options.onExpired();
        },
        (error: unknown) => {
          this.options.logger.debug({ err: error }, 'reading the cleanup lock failed; retried');
          if (!this.stopped) this.rejoinTimer = setTimeout(attempt, this.options.checkMs);
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
      const { redis, keys, nodeId } = this.options;
      const now = Date.now();
      const known = asStrings(await redis.call('SMEMBERS', keys.nodes)).filter((id) => id !== nodeId);
      const [self, ...exists] = await Promise.all([nodeId, ...known].map((id) => redis.call('EXISTS', keys.node(id))));
      const cleaned = asStrings(await redis.call('ZRANGE', keys.deadNodes, now - this.options.deadRetentionMs, '+inf', 'BYSCORE'));
      if (this.stopped) return;
      if (self !== 1) {
        // Our own key is gone too: we stalled, or Redis did (then every key expired at once). Judge nobody on this.
        this.quietUntil = Math.max(this.quietUntil, Date.now() + this.options.nodeTtlMs);
        this.heartbeat();
        return;
      }
      const live = [nodeId];
      const dead: NodeId[] = [];
      known.forEach((id, i) => (exists[i] === 1 ? live.push(id) : dead.push(id)));
      this.live = [nodeId, ...live.slice(1).sort()];
      if (now < this.quietUntil) return;
      const down = new Set([...dead, ...cleaned.filter((id) => id !== nodeId && !live.includes(id))]);
      for (const id of [...this.reportedDown]) if (!down.has(id)) this.reportedDown.delete(id);
      for (const id of down) {
        if (this.reportedDown.has(id)) continue;
        this.reportedDown.add(id);
        this.options.logger.info({ node: id }, 'node found dead');
        this.options.onNodeDown(id);
      }
      // Trimming the list of the dead is everybody's chore, now and then.
      if (++this.checks % PRUNE_EVERY === 0) await redis.call('ZREMRANGEBYSCORE', keys.deadNodes, '-inf', now - this.options.deadRetentionMs);
      for (const id of dead) {
        if (!this.cleaning.has(id)) {
          this.cleaning.add(id);
          void this.options
            .cleanUp(id)
            .catch((error: unknown) => this.options.logger.warn({ err: error, node: id }, 'cleanup after a dead node failed; retried'))
            .finally(() => this.cleaning.delete(id));
        }
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
    if (removeKey) await this.options.redis.call('DEL', this.options.keys.node(this.options.nodeId));
  }
}
