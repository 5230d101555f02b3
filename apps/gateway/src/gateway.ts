import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { NodeManager } from '@rooms-kit/core';
import { CloseCode, PROTOCOL_PATH } from '@rooms-kit/protocol';
import pino from 'pino';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { AdminApi } from './admin-api.js';
import type { Identity } from './auth.js';
import { AuthError, TokenVerifier } from './auth.js';
import type { GatewayConfig } from './config.js';
import { Connection } from './connection.js';
import type { ConnectionServices, SessionEndReason } from './connection.js';
import { FanoutDelivery } from './fanout-delivery.js';
import { FlushScheduler } from './flush-scheduler.js';
import { GatewayStats } from './gateway-stats.js';
import { createHttpHandler } from './http-routes.js';
import { IntervalBatcher } from './interval-batcher.js';
import { GatewayMetrics } from './metrics.js';
import { createReplicator } from './replicator-factory.js';
import { RequestDispatcher } from './request-dispatcher.js';
import { SocketRouter } from './socket-router.js';
import { rejectUpgrade } from './upgrade-response.js';

/** Options of a {@link Gateway} beyond its configuration. */
export interface GatewayOptions {
  /** The logger; default a pino logger at `config.logLevel`. */
  logger?: Logger;
}

type GatewayState = 'new' | 'starting' | 'serving' | 'draining' | 'closed';

/** How often a drain in Redis mode checks whether its suspended sessions were resumed elsewhere or expired. */
const DRAIN_POLL_MS = 100;
/** Longest session id a resume may name (ids we issue are 22 characters). */
const MAX_SESSION_ID_LENGTH = 128;
/** The identity of every connection when auth is off: one shared object (never mutated), not one per connection. */
const ANONYMOUS: Identity = Object.freeze({});

/**
 * Gateway: one node of the rooms service. An HTTP server (health, readiness, metrics, admin API) with the
 * WebSocket endpoint of PROTOCOL.md on `/v1` (upgrades elsewhere are 404), a `NodeManager` kernel (embedded, or on
 * Redis with `ROOMS_REDIS_URL`), auth at the upgrade (HS256 JWT when `ROOMS_JWT_SECRET` is set), heartbeats, and the
 * fan-out delivery that writes events to connections.
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
  private readonly wss: WebSocketServer;
  private readonly verifier: TokenVerifier | null;
  private readonly scheduler = new FlushScheduler();
  private readonly batcher = new IntervalBatcher();
  private readonly delivery = new FanoutDelivery(this.stats);
  private readonly connections = new Set<Connection>();
  /**
   * Every accepted WebSocket until its socket closed (also those closing after their connection ended), its events
   * routed to its connection through listeners shared by all sockets.
   */
  private readonly sockets = new SocketRouter();
  /** The connection holding each session with the kernel here (until its session was settled). */
  private readonly holders = new Map<string, Connection>();
  private services: ConnectionServices | null = null;
  private nodeManager: NodeManager | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
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
    this.verifier = config.jwtSecret !== null ? new TokenVerifier(config.jwtSecret) : null;
    this.metrics = new GatewayMetrics({
      stats: this.stats,
      connections: () => this.connections.size,
      pendingOutboundBytes: () => this.pendingOutboundBytes,
      node: () => this.nodeManager,
    });
    const admin =
      config.adminToken === null
        ? null
        : new AdminApi({
            token: config.adminToken,
            maxPayload: config.maxPayload,
            node: () => this.node,
            onPublish: () => this.stats.messagesIn++,
            logger: this.logger,
          });
    this.server = createServer(createHttpHandler({ ready: () => this.ready, metrics: this.metrics, admin, logger: this.logger }));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_error, socket) => socket.destroy());
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: config.maxPayload, clientTracking: false });
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
    return this.connections.size;
  }

  /**
   * Bytes waiting to reach clients, over every open connection: queued, held for an interval, parked behind a
   * replay, and in socket buffers (what `ROOMS_MAX_OUTBOUND_BYTES` bounds per connection). Computed on each call.
   */
  get pendingOutboundBytes(): number {
    let bytes = 0;
    for (const connection of this.connections) bytes += connection.pendingBytes;
    return bytes;
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
      const replicator = createReplicator(this.config, this.logger);
      const node = new NodeManager({
        delivery: this.delivery,
        replicator,
        nodeId: this.config.nodeId,
        emptyGraceMs: this.config.emptyGraceMs,
        resumeWindowMs: this.config.resumeWindowMs,
        staticGroups: this.config.staticGroups,
        maxPayloadBytes: this.config.maxPayload,
        maxGroupsPerSession: this.config.maxGroupsPerSession,
        onSessionEnded: (session, reason) => this.onSessionEnded(session, reason),
        logger: this.logger,
      });
      this.nodeManager = node;
      await node.start();
    } catch (error) {
      await this.close();
      throw error;
    }
    if (this.state !== 'starting') throw new Error('the gateway was closed while starting');
    this.services = {
      node: this.node,
      delivery: this.delivery,
      dispatcher: new RequestDispatcher(this.node, () => this.stats.messagesIn++),
      scheduler: this.scheduler,
      batcher: this.batcher,
      stats: this.stats,
      logger: this.logger,
      config: this.config,
      onEnded: (connection) => this.connections.delete(connection),
      onHolding: (connection) => this.holders.set(connection.session, connection),
      onReleased: (connection) => {
        if (this.holders.get(connection.session) === connection) this.holders.delete(connection.session);
      },
    };
    this.heartbeat = setInterval(() => this.beat(), this.config.heartbeatMs);
    this.state = 'serving';
    this.logger.info({ port: this.boundPort, host: this.config.host, redis: this.config.redisUrl !== null }, 'gateway serving');
    return this.boundPort;
  }

  /**
   * Drains the node (SIGTERM): no new groups (`NODE_DRAINING`), no new connections, `/readyz` 503, and every client
   * closed with 1001. Embedded, nobody could resume those sessions elsewhere, so they end at once (members get `left`
   * with reason `disconnect`). On Redis they are suspended, resumable on other nodes; the drain then waits, at most
   * the resume window, until each was resumed elsewhere or expired. Idempotent. Settles at once when `close()`
   * runs meanwhile.
   */
  drain(): Promise<void> {
    this.draining ??= this.runDrain();
    return this.draining;
  }

  /** Stops everything: connections (dropped), timers, the server and the node. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async runDrain(): Promise<void> {
    if (this.state !== 'serving') return;
    this.state = 'draining';
    this.node.drain();
    const embedded = this.config.redisUrl === null;
    const connections = [...this.connections];
    this.logger.info({ connections: connections.length }, 'draining');
    for (const connection of connections) connection.close(CloseCode.GOING_AWAY, embedded ? 'end' : 'suspend', 'server shutting down');
    await Promise.race([Promise.all(connections.map((connection) => connection.settled)), this.closeBegun]);
    if (embedded) return;
    const sessions = connections.map((connection) => connection.session).filter((session) => session !== '');
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
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.wakeDrain?.();
    for (const connection of [...this.connections]) connection.terminate('forget');
    this.connections.clear();
    // Sockets of connections that ended but whose close handshake is still running.
    this.sockets.terminateAll();
    this.holders.clear();
    this.scheduler.close();
    this.batcher.close();
    this.wss.close();
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

  private beat(): void {
    for (const connection of this.connections) connection.heartbeat();
  }

  /**
   * The kernel ended a session this node holds: resumed elsewhere (`taken`: drop its connection) or kicked (here or
   * from another node: close it with 4003). Neither suspends nor ends the session from here.
   */
  private onSessionEnded(session: string, reason: SessionEndReason): void {
    this.holders.get(session)?.sessionEnded(reason);
  }

  // ---- upgrades ------------------------------------------------------------------------------------------------

  /** One listener for every upgraded socket (it stays on the socket for its life: no closure per connection). */
  private readonly onUpgradeSocketError = (error: Error): void => this.logger.debug({ err: error }, 'upgrade socket error');

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // An error before `ws` owns the socket (a client that vanished mid-handshake) must not crash the process.
    socket.on('error', this.onUpgradeSocketError);
    this.upgrade(req, socket, head).catch((error: unknown) => {
      this.logger.error({ err: error }, 'upgrade failed');
      rejectUpgrade(socket, 500);
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname !== PROTOCOL_PATH) return rejectUpgrade(socket, 404);
    if (this.state !== 'serving') return rejectUpgrade(socket, 503);
    const format = url.searchParams.get('format');
    if (format !== null && format !== 'json') return rejectUpgrade(socket, 400);
    let identity: Identity = ANONYMOUS;
    if (this.verifier !== null) {
      try {
        identity = await this.verifier.verify(url.searchParams.get('token'));
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        this.logger.debug({ err: error }, 'upgrade refused: bad token');
        return rejectUpgrade(socket, 401);
      }
      if (this.state !== 'serving') return rejectUpgrade(socket, 503);
    }
    if (socket.destroyed) return;
    const session = url.searchParams.get('session');
    const resume = url.searchParams.get('resume');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, identity, session, resume));
  }

  private accept(ws: WebSocket, socket: Duplex, identity: Identity, session: string | null, resume: string | null): void {
    if (this.services === null || this.state !== 'serving') {
      // After close() nothing would end this socket's close handshake: drop it at once.
      if (this.state === 'closed') ws.terminate();
      else ws.close(CloseCode.GOING_AWAY, 'server shutting down');
      return;
    }
    this.stats.connectionsOpened++;
    const connection = new Connection(ws, socket, identity, this.services);
    this.sockets.attach(ws, connection);
    this.connections.add(connection);
    if (session === null && resume === null) {
      connection.startNew();
    } else if (session !== null && resume !== null && session !== '' && session.length <= MAX_SESSION_ID_LENGTH) {
      connection.startResume(session, resume);
    } else {
      connection.close(CloseCode.RESUME_FAILED, 'forget', 'resume needs session and resume');
    }
  }
}

/** Creates a {@link Gateway} for `config` and starts it; resolves once it serves. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const gateway = new Gateway(config, options);
  await gateway.start();
  return gateway;
}
