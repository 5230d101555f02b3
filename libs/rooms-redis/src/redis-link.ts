import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { Logger, NodeId } from '@rooms-kit/core';
import { keySlot } from './key-slot.js';
import type { RedisCaller } from './script-runner.js';
import type { RedisTarget } from './redis-url.js';
import { StallProbe } from './stall-probe.js';

/** What the link reports to its owner. */
export interface RedisLinkListener {
  /** A message on a subscribed channel (group channels and control channels alike). */
  onMessage(channel: string, message: string): void;
  /** A connection was lost: calls fail fast until `onUp`. */
  onDown(): void;
  /** Every connection is ready again and every channel is subscribed again. */
  onUp(): void;
}

/** Options of a `RedisLink`. */
export interface RedisLinkOptions {
  nodeId: NodeId;
  commandTimeoutMs: number;
  logger: Logger;
  /** The PING that tells a stalled Redis (see `StallProbe`): how often, and how long it may stay unanswered. */
  stallProbe: { intervalMs: number; timeoutMs: number };
  /** Every channel to subscribe again after a reconnect: group channels (`sharded` on Redis Cluster) and control ones. */
  channels(): { group: string[]; control: string[] };
}

/** Most channels per SUBSCRIBE command when subscribing again after a reconnect. */
const RESUBSCRIBE_BATCH = 500;

/** How long after a failed confirmation of the sharded subscriptions (Redis Cluster) it is tried again. */
const CONFIRM_RETRY_MS = 200;

/**
 * RedisLink: the connections of one backend and their health. On single Redis: a command connection and a
 * subscriber connection; on Redis Cluster: one ioredis `Cluster` for commands, with sharded subscribers (SSUBSCRIBE,
 * one per shard) for group channels and a classic subscriber for control channels.
 *
 * Calls fail fast while a connection is down (no offline queue, in-flight commands rejected on a close, a command
 * timeout), and commands are never resent after a reconnect (a change must not be applied twice or late).
 * `onUp` is reported only after the subscriber connection has subscribed every channel again. On Redis Cluster,
 * ioredis replaces a lost sharded subscriber by itself and subscribes its channels again without waiting for the
 * acknowledgements: a lost one (`-subscriber`, or the subscriber group's `-node`) is reported down, and up again only
 * after `subscribersReady` and an acknowledged command behind those subscriptions on every shard holding a group
 * channel (SUNSUBSCRIBE of a probe channel in one of its slots, answered with the connection's subscription count,
 * which must not be 0). The classic subscriber of the control channels is left to ioredis.
 *
 * A Redis that stops answering with its connections open (SIGSTOP) is told by a `StallProbe` on the command
 * connection (one PING per `stallProbe.intervalMs`): unanswered for `stallProbe.timeoutMs`, the link reports down,
 * and up again at the next answer. One warn line per change.
 */
export class RedisLink {
  readonly cluster: boolean;
  /** The command connection (single Redis) or the cluster client. */
  readonly commands: RedisCaller;
  private readonly redis: Redis | Cluster;
  private readonly subscriber: Redis | null;
  private readonly listener: RedisLinkListener;
  private readonly options: RedisLinkOptions;
  private started = false;
  private closed = false;
  private up = false;
  private commandsReady = false;
  private subscriberReady = false;
  private subscriberEpoch = 0;
  /** Redis Cluster: ioredis said its sharded subscribers are back (`subscribersReady`) since the last loss. */
  private shardsSignalled = false;
  private confirming = false;
  private confirmTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly probe: StallProbe;

  constructor(target: RedisTarget, options: RedisLinkOptions, listener: RedisLinkListener) {
    this.options = options;
    this.listener = listener;
    const common: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1000, options.commandTimeoutMs * 2),
      retryStrategy: (times) => Math.min(50 * times, 500),
    };
    if (target.mode === 'single') {
      this.cluster = false;
      this.redis = new Redis(target.url, { ...common, connectionName: `rooms:${options.nodeId}:cmd` });
      this.subscriber = new Redis(target.url, { ...common, connectionName: `rooms:${options.nodeId}:sub` });
      this.watchSingle(this.redis, 'commands');
      this.watchSingle(this.subscriber, 'subscriber');
      this.subscriber.on('message', (channel: string, message: string) => this.message(channel, message));
    } else {
      this.cluster = true;
      const { enableOfflineQueue: _offline, retryStrategy: _retry, ...redisOptions } = common;
      if (target.username) redisOptions.username = target.username;
      if (target.password) redisOptions.password = target.password;
      if (target.tls) redisOptions.tls = {};
      const clusterOptions: ClusterOptions = {
        lazyConnect: true,
        enableOfflineQueue: false,
        shardedSubscribers: true,
        clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
        redisOptions: { ...redisOptions, autoResubscribe: true, connectionName: `rooms:${options.nodeId}` },
      };
      const cluster = new Cluster(target.nodes, clusterOptions);
      this.redis = cluster;
      this.subscriber = null;
      cluster.on('smessage', (channel: string, message: string) => this.message(channel, message));
      cluster.on('message', (channel: string, message: string) => this.message(channel, message));
      cluster.on('error', (error: unknown) => this.options.logger.debug({ err: error }, 'redis cluster error'));
      cluster.on('ready', () => {
        this.probe.reset();
        this.commandsReady = true;
        this.confirmShards();
        this.maybeUp();
      });
      for (const event of ['close', 'end', 'reconnecting']) cluster.on(event, () => this.lost('commands'));
      // The subscriber group's `-node` carries the node key (the command pool's does not): a sharded subscriber ended.
      cluster.on('-node', (_redis: unknown, nodeKey?: string) => {
        if (nodeKey !== undefined) this.lost('subscriber');
      });
      cluster.on('-subscriber', () => this.lost('subscriber'));
      cluster.on('subscribersReady', () => {
        this.shardsSignalled = true;
        this.confirmShards();
      });
    }
    this.commands = this.redis as unknown as RedisCaller;
    this.probe = new StallProbe({
      ...options.stallProbe,
      ping: () => this.redis.ping(),
      onStall: (stalled) => this.stallChanged(stalled),
    });
  }

  /** True while every connection is ready. */
  get available(): boolean {
    return this.up;
  }

  /** Connects; resolves once every connection is ready. Rejects (and disconnects) when Redis cannot be reached. */
  async connect(): Promise<void> {
    try {
      await Promise.all([this.redis.connect(), this.subscriber?.connect()]);
    } catch (error) {
      this.disconnectAll();
      throw error;
    }
    this.commandsReady = true;
    this.subscriberReady = true;
    this.up = true;
    this.started = true;
    this.probe.start();
  }

  /** Subscribes to a group channel (SSUBSCRIBE on Redis Cluster); resolves once acknowledged. */
  async subscribeGroup(channel: string): Promise<void> {
    if (this.cluster) await (this.redis as Cluster).ssubscribe(channel);
    else await (this.subscriber as Redis).subscribe(channel);
  }

  /** Unsubscribes from a group channel. */
  async unsubscribeGroup(channel: string): Promise<void> {
    if (this.cluster) await (this.redis as Cluster).sunsubscribe(channel);
    else await (this.subscriber as Redis).unsubscribe(channel);
  }

  /** Subscribes to a control channel (classic pub/sub, also on Redis Cluster). */
  async subscribeControl(channel: string): Promise<void> {
    await (this.cluster ? (this.redis as Cluster) : (this.subscriber as Redis)).subscribe(channel);
  }

  /** Closes every connection (QUIT when possible) and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.probe.stop();
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = null;
    const clients: Array<Redis | Cluster> = [this.redis];
    if (this.subscriber) clients.push(this.subscriber);
    await Promise.all(
      clients.map(async (client) => {
        if (client.status === 'ready') await client.quit().catch(() => undefined);
      }),
    );
    this.disconnectAll();
  }

  private disconnectAll(): void {
    this.redis.disconnect();
    this.subscriber?.disconnect();
  }

  private watchSingle(client: Redis, role: 'commands' | 'subscriber'): void {
    client.on('error', (error: unknown) => this.options.logger.debug({ err: error, role }, 'redis connection error'));
    client.on('close', () => this.lost(role));
    client.on('ready', () => {
      if (!this.started || this.closed) return;
      if (role === 'commands') {
        // A connection that just became ready has answered: a stall seen before it is over.
        this.probe.reset();
        this.commandsReady = true;
        this.maybeUp();
      } else {
        void this.resubscribe();
      }
    });
  }

  private async resubscribe(): Promise<void> {
    const epoch = ++this.subscriberEpoch;
    const subscriber = this.subscriber as Redis;
    const { group, control } = this.options.channels();
    const channels = [...control, ...group];
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) await subscriber.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'subscribing again after a reconnect failed; retried on the next one');
      return;
    }
    if (epoch !== this.subscriberEpoch || subscriber.status !== 'ready' || this.closed) return;
    this.subscriberReady = true;
    this.maybeUp();
  }

  private lost(role: 'commands' | 'subscriber'): void {
    if (!this.started || this.closed) return;
    if (role === 'commands') this.commandsReady = false;
    else {
      this.subscriberReady = false;
      this.subscriberEpoch++;
      this.shardsSignalled = false;
    }
    if (this.up) {
      this.up = false;
      this.listener.onDown();
    }
  }

  /**
   * Redis Cluster, after `subscribersReady`: confirms that every shard holding one of the group channels has
   * subscribed them again (see the class doc), then reports up; tried again shortly after a failure.
   */
  private confirmShards(): void {
    if (!this.cluster || this.closed || !this.started || this.subscriberReady || !this.commandsReady || !this.shardsSignalled || this.confirming) return;
    this.confirming = true;
    const epoch = this.subscriberEpoch;
    const settle = (confirmed: boolean): void => {
      this.confirming = false;
      if (this.closed || epoch !== this.subscriberEpoch) return;
      if (confirmed) {
        this.subscriberReady = true;
        this.maybeUp();
      } else {
        this.confirmTimer ??= setTimeout(() => {
          this.confirmTimer = null;
          this.confirmShards();
        }, CONFIRM_RETRY_MS);
      }
    };
    this.probeShards().then(settle, (error: unknown) => {
      this.options.logger.debug({ err: error }, 'confirming the sharded subscriptions failed; tried again');
      settle(false);
    });
  }

  /** One probe per shard holding group channels; true when each answered with a subscription count above 0. */
  private async probeShards(): Promise<boolean> {
    const cluster = this.redis as Cluster;
    const probes = new Map<string, string>();
    for (const channel of this.options.channels().group) {
      const slot = keySlot(channel);
      const shard = cluster.slots[slot]?.[0] ?? `slot:${slot}`;
      // Same hash tag, so same slot and same sharded subscriber; nothing is ever published on it.
      if (!probes.has(shard)) probes.set(shard, `${channel}:probe`);
    }
    const counts = await Promise.all([...probes.values()].map((probe) => cluster.sunsubscribe(probe)));
    return counts.every((count) => Number(count) > 0);
  }

  /** The stall probe's report: down while Redis does not answer, up again (when every connection is ready) after. */
  private stallChanged(stalled: boolean): void {
    if (!this.started || this.closed) return;
    const { logger, stallProbe } = this.options;
    if (stalled) {
      logger.warn({ timeoutMs: stallProbe.timeoutMs }, 'Redis does not answer PING: the shared store counts as unreachable until it does');
      if (this.up) {
        this.up = false;
        this.listener.onDown();
      }
    } else {
      logger.warn({}, 'Redis answers PING again');
      this.maybeUp();
    }
  }

  private maybeUp(): void {
    if (this.up || this.closed || !this.started || !this.commandsReady || !this.subscriberReady || this.probe.isStalled) return;
    this.up = true;
    this.listener.onUp();
  }

  private message(channel: string, message: string): void {
    if (this.closed) return;
    this.listener.onMessage(channel, message);
  }
}
