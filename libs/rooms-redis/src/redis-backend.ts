import { LivenessPolicy, RoomsError, silentLogger } from '@rooms-kit/core';
import type { Backend, BackendHandler, NodeId } from '@rooms-kit/core';
import { toStoreError, withDeadline } from './errors.js';
import { GroupStore } from './group-store.js';
import { RedisKeys } from './keys.js';
import { NodeLiveness } from './liveness.js';
import { cleanUpDeadNode } from './node-cleanup.js';
import { NodeIndex } from './node-index.js';
import type { RedisBackendOptions } from './options.js';
import { resolveOptions } from './options.js';
import { RedisClusterBus } from './redis-cluster-bus.js';
import { RedisGroupLog } from './redis-group-log.js';
import { RedisLink } from './redis-link.js';
import type { Running } from './redis-runtime.js';
import { RedisRuntime } from './redis-runtime.js';
import { RedisSessionStore } from './redis-session-store.js';
import { parseRedisUrl } from './redis-url.js';
import { Pause } from './pause.js';
import { ScriptRunner } from './script-runner.js';
import { scriptSources } from './scripts.js';
import { SessionRecords } from './session-records.js';

/** First pause between two start attempts while waiting for Redis (`waitForStore`); doubles up to the max. */
const START_RETRY_MIN_MS = 100;
/** Longest pause between two start attempts while waiting for Redis. */
const START_RETRY_MAX_MS = 1000;

/**
 * RedisBackend: the kernel's backend on Redis, one server or Redis Cluster: the group log (`RedisGroupLog`), the
 * session store (`RedisSessionStore`) and the cluster bus (`RedisClusterBus`) over one pair of connections
 * (`RedisLink`), with this node's liveness (`NodeLiveness`). This class runs their lifecycle:
 * - Failure: no offline queue and a command timeout, so while Redis is unreachable every call rejects at once (or
 *   after at most `commandTimeoutMs`) with `UNAVAILABLE`, also while only the subscriber is down (an event could not
 *   arrive); nothing is resent after a reconnect. After a reconnect it subscribes every channel again, then reports
 *   `onAvailability(true)` and `onReconnected()`.
 * - Liveness: a key per node that lives two checks less than `nodeTtlMs`, refreshed every quarter of it; every node
 *   checks the others every `livenessCheckMs` (see `LivenessPolicy`); one survivor (lock) removes a dead node's
 *   members with `left` reason `node-down`, reports the groups that left empty to its kernel (`onOrphans`) and makes
 *   its sessions resumable for their window; every survivor gets `onNodeDown`. A node that finds its own key expired
 *   (it stalled) gets `onReconnected` once the cleanup after it is over, and re-asserts.
 */
export class RedisBackend implements Backend {
  readonly nodeId: NodeId;
  readonly groups: RedisGroupLog;
  readonly sessions: RedisSessionStore;
  readonly bus: RedisClusterBus;
  private readonly runtime: RedisRuntime;
  private handler: BackendHandler | null = null;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** The pause between two start attempts while waiting for Redis (`waitForStore`); `close()` ends it. */
  private readonly startPause = new Pause();

  constructor(options: RedisBackendOptions) {
    const resolved = resolveOptions(options);
    this.nodeId = resolved.nodeId;
    this.runtime = new RedisRuntime(resolved, new RedisKeys(resolved.keyPrefix), options.logger ?? silentLogger);
    this.groups = new RedisGroupLog(this.runtime);
    this.sessions = new RedisSessionStore(this.runtime);
    this.bus = new RedisClusterBus(this.runtime);
  }

  /**
   * Connects (rejects `UNAVAILABLE` when Redis cannot be reached, or with `waitForStore` waits for it: see
   * `RedisBackendOptions.waitForStore`), subscribes this node's control channel and starts the liveness.
   */
  start(handler: BackendHandler): Promise<void> {
    if (this.closing) return Promise.reject(new RoomsError('UNAVAILABLE', 'the backend is closed'));
    this.starting ??= this.open(handler);
    return this.starting;
  }

  /**
   * Stops the timers, rejects pending bus sends, removes this node's liveness key (the survivors then remove its
   * members with `node-down`, as for a crash, and its sessions become resumable elsewhere) and quits both connections,
   * which ends every subscription. Idempotent; every call after it rejects `UNAVAILABLE`.
   */
  close(): Promise<void> {
    this.runtime.closing = true;
    this.startPause.cancel();
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * Starts (`attempt`); with `waitForStore`, an attempt that failed because Redis could not be reached is tried
   * again after a pause until one succeeds or `close()` is called. The handler hears `onAvailability(false)` once
   * when the wait begins and `onAvailability(true)` once it is over (before `start()` resolves); one warn line each.
   */
  private async open(handler: BackendHandler): Promise<void> {
    const { options, logger } = this.runtime;
    let waiting = false;
    for (let failures = 0; ; failures++) {
      try {
        await this.attempt(handler);
      } catch (error) {
        const retry = options.waitForStore && !this.closing && error instanceof RoomsError && error.code === 'UNAVAILABLE';
        if (!retry) {
          this.starting = null;
          throw error;
        }
        if (!waiting) {
          waiting = true;
          // The reason without a stack (an expected condition, not a bug), and not the URL (it may hold a password).
          logger.warn({ reason: error.message }, 'Redis cannot be reached at start: waiting for it');
          this.notifyStart(handler, false);
        }
        await this.startPause.wait(Math.min(START_RETRY_MIN_MS * 2 ** failures, START_RETRY_MAX_MS));
        continue;
      }
      if (waiting) {
        logger.warn({}, 'Redis reached: starting');
        this.notifyStart(handler, true);
      }
      return;
    }
  }

  private notifyStart(handler: BackendHandler, available: boolean): void {
    this.notify('onAvailability', () => handler.onAvailability(available));
  }

  private async attempt(handler: BackendHandler): Promise<void> {
    const { options, keys, logger } = this.runtime;
    const link = new RedisLink(
      parseRedisUrl(options.url),
      {
        nodeId: this.nodeId,
        commandTimeoutMs: options.commandTimeoutMs,
        stallProbe: options.stallProbe,
        logger,
        channels: () => ({ group: this.groups.channels(), control: [keys.control(this.nodeId)] }),
      },
      {
        onMessage: (channel, message) => (channel === keys.control(this.nodeId) ? this.bus.receive(message) : this.groups.receive(channel, message)),
        onDown: () => this.onDown(),
        onUp: () => this.onUp(),
      },
    );
    const runner = new ScriptRunner(link.commands, scriptSources(link.cluster ? 'SPUBLISH' : 'PUBLISH'));
    const history = { maxCount: options.historySize, maxBytes: options.historyMaxBytes };
    const groups = new GroupStore(runner, keys, !link.cluster, this.nodeId, history, logger);
    const sessions = new SessionRecords(this.nodeId, link.commands, runner, keys, options.now, link.cluster, logger);
    const policy = new LivenessPolicy({ nodeId: this.nodeId, nodeTtlMs: options.nodeTtlMs, checkMs: options.livenessCheckMs, now: options.now });
    const liveness = new NodeLiveness({
      policy,
      keys,
      redis: link.commands,
      logger,
      onNodeDown: (node) => this.notify('onNodeDown', () => this.handler?.onNodeDown(node)),
      cleanUp: async (node) => {
        await cleanUpDeadNode(
          {
            self: this.nodeId,
            redis: link.commands,
            runner,
            groups,
            keys,
            now: options.now,
            // About the node TTL, so a cleaner that dies is replaced about a TTL later; renewed before every batch.
            lockMs: Math.max(options.nodeTtlMs, 2 * options.commandTimeoutMs),
            logger,
            onOrphans: (orphans) => this.notify('onOrphans', () => this.handler?.onOrphans(orphans)),
          },
          node,
        );
      },
      onExpired: () => this.onExpired(),
    });
    const running: Running = { link, groups, sessions, index: new NodeIndex(link.commands, keys, logger), liveness, runner };
    // Requests may arrive as soon as the liveness key exists, before `start` resolves.
    this.bus.attach(handler);
    try {
      await withDeadline(Math.max(2000, 2 * options.commandTimeoutMs), async () => {
        await link.connect();
        await link.subscribeControl(keys.control(this.nodeId));
        await liveness.start();
      });
    } catch (error) {
      this.bus.attach(null);
      await liveness.stop(false);
      await link.close();
      throw toStoreError(error);
    }
    if (this.closing) {
      this.bus.attach(null);
      await liveness.stop(true).catch(() => undefined);
      await link.close();
      throw new RoomsError('UNAVAILABLE', 'the backend was closed while starting');
    }
    this.handler = handler;
    this.groups.attach((event) => this.notify('onEvent', () => this.handler?.onEvent(event)));
    this.runtime.running = running;
  }

  private async shutdown(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const run = this.runtime.running;
    this.runtime.running = null;
    this.handler = null;
    this.groups.close();
    this.bus.close();
    if (!run) return;
    await run.liveness.stop(run.link.available).catch((error: unknown) => this.runtime.logger.debug({ err: error }, 'removing the liveness key failed'));
    await run.link.close();
  }

  private onDown(): void {
    this.groups.markStale();
    this.notify('onAvailability', () => this.handler?.onAvailability(false));
  }

  /**
   * This node's liveness key had expired while it ran (see `NodeLiveness`): the others may have removed its members
   * and marked its sessions dead. The kernel re-asserts them as after a reconnect (while a connection is down, the
   * reconnect that follows does it).
   */
  private onExpired(): void {
    if (!this.runtime.running?.link.available) return;
    this.notify('onReconnected', () => this.handler?.onReconnected());
  }

  private onUp(): void {
    const run = this.runtime.running;
    if (!run) return;
    this.groups.markStale();
    // Beat at once (after a restart without persistence this node's key is gone), and give the others time to.
    run.liveness.reconnected();
    this.notify('onAvailability', () => this.handler?.onAvailability(true));
    this.notify('onReconnected', () => this.handler?.onReconnected());
  }

  private notify(what: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.runtime.logger.error({ err: error, handler: what }, 'backend handler threw');
    }
  }
}
