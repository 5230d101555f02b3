import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';
import { rejectUpgrade } from '../upgrade-response.js';
import { PerAddressConnectionCap } from './connection-caps.js';

/** What answers the server's requests and upgrades: the gateway's {@link HttpRouter} fits. */
export interface HttpServerHandlers {
  readonly handleRequest: RequestListener;
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** The part of the configuration the HTTP server reads. */
export type HttpServerConfig = Pick<GatewayConfig, 'headersTimeoutMs' | 'maxConnections' | 'maxConnectionsPerIp'>;

/**
 * How long a request may take to arrive once its first byte came (node's `requestTimeout`). It bounds receiving the
 * request only: once a request is read, its response (a stream, a long poll) may last as long as it needs.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** How long an idle keep-alive connection stays open after its last response. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * How often node looks for requests past their headers or request timeout: a slowloris socket is closed at most this
 * long after its headers timeout (node's default, 30 s, let such sockets live 82–90 s).
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

/** The status a client error from node's HTTP parser is answered with. */
function statusOfClientError(error: NodeJS.ErrnoException): number {
  if (error.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * The gateway's HTTP server over `handlers`: requests and upgrades go to them; the headers of a request must arrive
 * within `headersTimeoutMs` and the whole request within {@link REQUEST_TIMEOUT_MS}, else it is answered 408 and its
 * socket closed (checked every {@link CONNECTIONS_CHECKING_INTERVAL_MS}); an idle keep-alive connection closes after
 * {@link KEEP_ALIVE_TIMEOUT_MS}. Beyond `maxConnections` open sockets (node's `server.maxConnections`) or
 * `maxConnectionsPerIp` from one address, a new socket is closed at once. A request node's parser refuses (a
 * malformed request line or method, headers too large) is answered with a bare 400 (431 for headers too large) and
 * its socket closed; these client errors are logged at debug level only.
 */
export function createHttpServer(handlers: HttpServerHandlers, config: HttpServerConfig, logger: Logger): Server {
  const server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      // node refuses a request timeout shorter than the headers timeout.
      requestTimeout: Math.max(REQUEST_TIMEOUT_MS, config.headersTimeoutMs),
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    },
    handlers.handleRequest,
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = config.maxConnections;
  server.on('connection', new PerAddressConnectionCap(config.maxConnectionsPerIp, logger).admit);
  server.on('drop', (data?: { remoteAddress?: string }) => logger.debug({ address: data?.remoteAddress }, 'connection refused: ROOMS_MAX_CONNECTIONS reached'));
  server.on('upgrade', handlers.handleUpgrade);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    logger.debug({ err: error }, 'http client error');
    // Answer only where no response of this connection has begun: bytes in the middle of one would corrupt it.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    rejectUpgrade(socket, statusOfClientError(error));
  });
  return server;
}
