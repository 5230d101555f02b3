import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeManager } from '@rooms-kit/core';
import { CloseCode } from '@rooms-kit/protocol/server';
import pino from 'pino';
import type { Logger } from 'pino';
import { tokenVerifierFor } from './auth.js';
import type { GatewayConfig } from './config.js';
import { FanoutDelivery } from './delivery/fanout-delivery.js';
import { FlushScheduler } from './delivery/flush-scheduler.js';
import { IntervalBatcher } from './delivery/interval-batcher.js';
import { GatewayStats } from './gateway-stats.js';
import { createGatewayRouter, createHttpServer } from './http/index.js';
import { OriginPolicy } from './http/origin-policy.js';
import { GatewayMetrics } from './metrics.js';
import { createBackend } from './cluster/backend-factory.js';
import type { ClientSession } from './session/client-session.js';
import { RequestDispatcher } from './session/request-dispatcher.js';
import { SessionHost } from './session/session-host.js';
import { SessionRegistry } from './session/session-registry.js';
import { WebSocketEndpoint } from './transports/websocket/websocket-endpoint.js';
import type { Admission } from './transports/websocket/websocket-endpoint.js';

/** Options of a {@link Gateway} beyond its configuration. */
export interface GatewayOptions {
  /** The logger; default a pino logger at `config.logLevel`. */
  logger?: Logger;
}

type GatewayState = 'new' | 'starting' | 'serving' | 'draining' | 'closed';

/** How often a drain in Redis mode checks whether its suspended sessions were resumed elsewhere or expired. */
const DRAIN_POLL_MS = 100;

/**
 * Gateway: one node of the rooms service, composed of an HTTP server (health, readiness, metrics, admin API), the
 * WebSocket endpoint of docs/protocol.md on `/v1` (`transports/websocket/`: upgrades elsewhere are 404, auth at the
 * upgrade with HS256 JWTs when `ROOMS_JWT_SECRET` is set), a `NodeManager` kernel (embedded, or on Redis with
 * `ROOMS_REDIS_URL`), the client sessions of its connections (`session/`) and the fan-out delivery that writes
 * events to them (`delivery/`).
 *
 * `start()` resolves with the bound port; `drain()` stops taking new groups and connections and closes every client
 * with 1001; `close()` (idempotent) stops everything it started: connections, timers, server and node.
 */
export class Gateway {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly stats = new GatewayStats();
  readonly metrics: GatewayMetrics;
  private readonly server: Server;
  private readonly websocket: WebSocketEndpoint;
  private readonly scheduler = new FlushScheduler();
  private readonly batcher = new IntervalBatcher();
  /** The client sessions by id: whose connection gets a session's events, and which one the kernel's ends reach. */
  private readonly registry = new SessionRegistry<ClientSession>();
  private readonly delivery = new FanoutDelivery(this.stats, this.registry);
  /** The sessions of live connections (from `start()` on). */
  private sessions: SessionHost | null = null;
  private nodeManager: NodeManager | null = null;
  private state: GatewayState = 'new';
  private boundPort = 0;
  private draining: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  /** Ends the drain's current wait early (close() during a drain). */
  private wakeDrain: (() => void) | null = null;
  private resolveClosing!: () => void;
  /** Resolves when close() begins: a drain still waiting gives up then. */
  private readonly closeBegun = new Promise<void>((resolve) => (this.resolveClosing = resolve));

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    this.config = config;
    this.logger = options.logger ?? pino({ level: config.logLevel, base: { node: config.nodeId } });
    this.metrics = new GatewayMetrics({
      stats: this.stats,
      connections: () => this.connectionCount,
      pendingOutboundBytes: () => this.pendingOutboundBytes,
      node: () => this.nodeManager,
    });
    this.websocket = new WebSocketEndpoint({
      maxPayload: config.maxPayload,
      verifier: tokenVerifierFor(config),
      origins: new OriginPolicy(config.corsOrigins),
      logger: this.logger,
      admission: () => this.admission(),
      open: (transport, identity, request) => void this.sessions?.open(transport, identity, request),
    });
    const router = createGatewayRouter({
      ready: () => this.ready,
      metrics: this.metrics,
      logger: this.logger,
      websocket: this.websocket.upgrade,
      admin:
        config.adminToken === null
          ? null
          : { token: config.adminToken, maxPayload: config.maxPayload, node: () => this.node, onPublish: () => this.stats.messagesIn++, logger: this.logger },
    });
    this.server = createHttpServer(router, config, this.logger);
  }

  /** The node's kernel (after `start()` began). */
  get node(): NodeManager {
    if (this.nodeManager === null) throw new Error('the gateway is not started');
    return this.nodeManager;
  }

  /** The port the server listens on (0 before `start()` resolved). */
  get port(): number {
    return this.boundPort;
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.sessions?.count ?? 0;
  }

  /**
   * Bytes waiting to reach clients, over every open connection: queued, held for an interval, parked behind a
   * replay, and in socket buffers (what `ROOMS_MAX_OUTBOUND_BYTES` bounds per connection). Computed on each call.
   */
  get pendingOutboundBytes(): number {
    return this.sessions?.pendingBytes ?? 0;
  }

  /** True while serving: started, not draining, and the shared store reachable (`/readyz`). */
  get ready(): boolean {
    return this.state === 'serving' && this.nodeManager !== null && this.nodeManager.available;
  }

  /** Listens (`PORT` 0 picks a free port), starts the node, then serves. Resolves with the bound port. */
  async start(): Promise<number> {
    if (this.state !== 'new') throw new Error('a Gateway starts once');
    this.state = 'starting';
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.config.port, this.config.host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
      this.boundPort = (this.server.address() as AddressInfo).port;
      const backend = createBackend(this.config, this.logger);
      const node = new NodeManager({
        delivery: this.delivery,
        backend,
        nodeId: this.config.nodeId,
        emptyGraceMs: this.config.emptyGraceMs,
        resumeWindowMs: this.config.resumeWindowMs,
        nodeTtlMs: this.config.nodeTtlMs,
        staticGroups: this.config.staticGroups,
        maxPayloadBytes: this.config.maxPayload,
        maxGroupsPerSession: this.config.maxGroupsPerSession,
        maxCreatedGroupsPerSession: this.config.maxCreatedGroupsPerSession,
        maxGroups: this.config.maxGroups,
        maxMemberDataBytes: this.config.maxMemberDataBytes,
        maxMetaBytes: this.config.maxMetaBytes,
        onSessionEnded: (session, reason) => this.registry.sessionEnded(session, reason),
        logger: this.logger,
      });
      this.nodeManager = node;
      await node.start();
    } catch (error) {
      await this.close();
      throw error;
    }
    if (this.state !== 'starting') throw new Error('the gateway was closed while starting');
    this.sessions = new SessionHost({
      node: this.node,
      registry: this.registry,
      delivery: this.delivery,
      dispatcher: new RequestDispatcher(this.node, () => this.stats.messagesIn++),
      scheduler: this.scheduler,
      batcher: this.batcher,
      stats: this.stats,
      logger: this.logger,
      config: this.config,
    });
    this.state = 'serving';
    this.logger.info({ port: this.boundPort, host: this.config.host, redis: this.config.redisUrl !== null }, 'gateway serving');
    return this.boundPort;
  }

  /**
   * Drains the node (SIGTERM): no new groups (`NODE_DRAINING`), no new connections, `/readyz` 503, and every client
   * closed with 1001. Embedded, nobody could resume those sessions elsewhere, so they end at once (members get `left`
   * with reason `disconnect`). On Redis they are suspended, resumable on other nodes; the drain then waits, at most
   * the resume window, until each was resumed elsewhere or expired, unless `awaitResumes` is false (a stop of the
   * whole cluster, where nobody could resume them: the sessions stay resumable through the store once this node is
   * gone). Idempotent (the first call's options hold). Settles at once when `close()` runs meanwhile. Before the
   * node started (waiting for Redis, say) there is nothing to drain.
   */
  drain(options: { awaitResumes?: boolean } = {}): Promise<void> {
    this.draining ??= this.runDrain(options.awaitResumes ?? true);
    return this.draining;
  }

  /** Stops everything: connections (dropped), timers, the server and the node. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async runDrain(awaitResumes: boolean): Promise<void> {
    if (this.state !== 'serving') return;
    this.state = 'draining';
    this.node.drain();
    const embedded = this.config.redisUrl === null;
    this.logger.info({ connections: this.connectionCount }, 'draining');
    const closed = this.sessions?.closeAll(CloseCode.GOING_AWAY, embedded ? 'end' : 'suspend', 'server shutting down') ?? [];
    await Promise.race([Promise.all(closed.map((session) => session.settled)), this.closeBegun]);
    if (embedded || !awaitResumes) return;
    const sessions = closed.map((session) => session.session).filter((session) => session !== '');
    const deadline = Date.now() + this.config.resumeWindowMs;
    while (this.state === 'draining' && Date.now() < deadline && sessions.some((session) => this.node.hasSession(session))) {
      await new Promise<void>((resolve) => {
        this.wakeDrain = resolve;
        this.drainTimer = setTimeout(resolve, DRAIN_POLL_MS);
      });
      this.wakeDrain = null;
      this.drainTimer = null;
    }
  }

  private async shutdown(): Promise<void> {
    this.state = 'closed';
    this.resolveClosing();
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.wakeDrain?.();
    this.sessions?.close();
    // Also the sockets of connections that ended but whose close handshake is still running.
    this.websocket.close();
    this.scheduler.close();
    this.batcher.close();
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    try {
      await this.nodeManager?.close();
    } catch (error) {
      this.logger.warn({ err: error }, 'closing the node failed');
    }
    this.metrics.close();
  }

  private admission(): Admission {
    if (this.state === 'serving' && this.sessions !== null) return 'serving';
    return this.state === 'closed' ? 'closed' : 'unavailable';
  }
}

/** Creates a {@link Gateway} for `config` and starts it; resolves once it serves. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const gateway = new Gateway(config, options);
  await gateway.start();
  return gateway;
}
