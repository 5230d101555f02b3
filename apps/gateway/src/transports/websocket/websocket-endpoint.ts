import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode } from '@rooms-kit/protocol/server';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Identity, TokenVerifier } from '../../auth.js';
import { AuthError } from '../../auth.js';
import type { OriginPolicy } from '../../http/origin-policy.js';
import type { SessionRequest } from '../../session/session-host.js';
import { rejectUpgrade } from '../../upgrade-response.js';
import type { Transport } from '../transport.js';
import { SocketRouter } from './socket-router.js';
import { WebSocketTransport } from './websocket-transport.js';

/**
 * Whether the gateway takes connections: `serving`; `unavailable` while starting or draining (upgrades get 503, a
 * socket upgraded meanwhile is closed with 1001); `closed` once shut down (such a socket is dropped at once).
 */
export type Admission = 'serving' | 'unavailable' | 'closed';

/** What the WebSocket endpoint needs from the gateway. */
export interface WebSocketEndpointOptions {
  /** `ROOMS_MAX_PAYLOAD`: a bigger frame makes `ws` close with 1009. */
  maxPayload: number;
  /** Checks the `token` query parameter (null: auth off, every connection anonymous). */
  verifier: TokenVerifier | null;
  /** `ROOMS_CORS_ORIGINS`: an upgrade whose `Origin` it does not allow gets 403. */
  origins: OriginPolicy;
  logger: Logger;
  admission(): Admission;
  /** Opens the client session the new connection carries (new, or the resume its query asks for). */
  open(transport: Transport, identity: Identity, request: SessionRequest): void;
}

/** The identity of every connection when auth is off: one shared object (never mutated), not one per connection. */
const ANONYMOUS: Identity = Object.freeze({});

/**
 * The WebSocket endpoint (`/v1`): checks an upgrade routed to it (`Origin`, `format`, token, whether the gateway serves) and
 * answers a refusal with a bare HTTP status (403, 404, 400, 401, 503); an accepted socket becomes a {@link WebSocketTransport}
 * carrying a new client session. Owns the `ws` server (no client tracking, no compression, no automatic pong) and the socket router
 * that gives every socket the same listeners. `close()` drops every socket still open, also those still closing.
 */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;
  private readonly router = new SocketRouter();

  constructor(private readonly options: WebSocketEndpointOptions) {
    // autoPong off: a client's ping takes a rate-limit token like any frame, and only one let through gets its pong.
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload, clientTracking: false, autoPong: false });
  }

  /**
   * Handles one HTTP upgrade request (the server's `upgrade` event). Never throws: an unexpected failure is logged
   * and answered 500.
   */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // An error before `ws` owns the socket (a client that vanished mid-handshake) must not crash the process.
    socket.on('error', this.onUpgradeSocketError);
    this.check(req, socket, head).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'upgrade failed');
      rejectUpgrade(socket, 500);
    });
  };

  /** Drops every socket not closed yet (their sessions see the close) and stops the `ws` server. Idempotent. */
  close(): void {
    this.router.terminateAll();
    this.wss.close();
  }

  /** One listener for every upgraded socket (it stays on the socket for its life: no closure per connection). */
  private readonly onUpgradeSocketError = (error: Error): void => this.options.logger.debug({ err: error }, 'upgrade socket error');

  private async check(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // First: a page of a disallowed origin is refused whatever else its request carries, before its token is read.
    if (!this.options.origins.allows(req.headers.origin)) {
      this.options.logger.debug({ origin: req.headers.origin }, 'upgrade refused: origin not allowed');
      return rejectUpgrade(socket, 403);
    }
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (this.options.admission() !== 'serving') return rejectUpgrade(socket, 503);
    const format = url.searchParams.get('format');
    if (format !== null && format !== 'json') return rejectUpgrade(socket, 400);
    let identity: Identity = ANONYMOUS;
    const verifier = this.options.verifier;
    if (verifier !== null) {
      try {
        identity = await verifier.verify(url.searchParams.get('token'));
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        this.options.logger.debug({ err: error }, 'upgrade refused: bad token');
        return rejectUpgrade(socket, 401);
      }
      if (this.options.admission() !== 'serving') return rejectUpgrade(socket, 503);
    }
    if (socket.destroyed) return;
    const request: SessionRequest = { session: url.searchParams.get('session'), resume: url.searchParams.get('resume') };
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, identity, request));
  }

  private accept(ws: WebSocket, socket: Duplex, identity: Identity, request: SessionRequest): void {
    const admission = this.options.admission();
    if (admission !== 'serving') {
      // After close() nothing would end this socket's close handshake: drop it at once.
      if (admission === 'closed') ws.terminate();
      else ws.close(CloseCode.GOING_AWAY, 'server shutting down');
      return;
    }
    const transport = new WebSocketTransport(ws, socket);
    this.router.attach(ws, transport);
    this.options.open(transport, identity, request);
  }
}
