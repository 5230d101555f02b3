import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { PerAddressConnectionCap } from '../src/http/connection-caps.js';
import { createHttpServer } from '../src/http/http-server.js';
import type { HttpServerConfig } from '../src/http/http-server.js';
import { closeLoggedGateways, startLoggedGateway } from './support/captured-logs.js';
import { closedWith, destroySockets, exchange, getOn, openSocket, SOCKET_WAIT_MS, statusOf } from './support/raw-socket.js';

const servers: Server[] = [];

afterEach(async () => {
  destroySockets();
  await closeLoggedGateways();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

/** Starts {@link createHttpServer} on 127.0.0.1 with `handleRequest` (default: 200 "ok") and the given config. */
async function startServer(config: Partial<HttpServerConfig>, handleRequest?: Parameters<typeof createHttpServer>[0]['handleRequest']): Promise<{ server: Server; port: number }> {
  const defaults = loadConfig({});
  const server = createHttpServer(
    {
      handleRequest: handleRequest ?? ((_req, res) => res.end('ok')),
      handleUpgrade: (_req, socket) => socket.destroy(),
    },
    { headersTimeoutMs: defaults.headersTimeoutMs, maxConnections: defaults.maxConnections, maxConnectionsPerIp: defaults.maxConnectionsPerIp, ...config },
    pino({ level: 'silent' }),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Resolves once a new socket to `port` is served (a GET answered 200), retrying while the server still counts a closed one. */
async function eventuallyServed(port: number): Promise<void> {
  const deadline = Date.now() + SOCKET_WAIT_MS;
  for (;;) {
    if (statusOf(await getOn(await openSocket(port), '/healthz')) === 200) return;
    if (Date.now() > deadline) throw new Error('no new socket was served');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Connection caps and timeouts of the HTTP server', () => {
  it('closes a slowloris socket (a header line now and then, never the end) soon after ROOMS_HEADERS_TIMEOUT_MS, with 408', async () => {
    const { port, logs } = await startLoggedGateway({ ROOMS_HEADERS_TIMEOUT_MS: '1000' });
    const socket = await openSocket(port);
    const closed = closedWith(socket, 'the slowloris socket to be closed');
    socket.write('GET /healthz HTTP/1.1\r\nHost: test\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Drip: 1\r\n'), 200);
    try {
      expect(statusOf(await closed)).toBe(408);
    } finally {
      clearInterval(drip);
    }
    expect(logs.errors()).toEqual([]);
  }, SOCKET_WAIT_MS + 10_000);

  it('does not cut a response that outlives the headers timeout (requestTimeout bounds receiving the request only)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { port } = await startServer({ headersTimeoutMs: 200 }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      void held.then(() => res.end('last'));
    });
    const socket = await openSocket(port);
    const answer = getOn(socket, '/stream');
    // Well past the headers timeout and several connection checks (every second), the response is still open.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(socket.destroyed).toBe(false);
    release();
    expect(await answer).toMatch(/first .*last/s);
  });

  it('closes a 4th socket from one address at once with ROOMS_MAX_CONNECTIONS_PER_IP=3; a socket freed lets a new one in', async () => {
    const { port, logs } = await startLoggedGateway({ ROOMS_MAX_CONNECTIONS_PER_IP: '3' });
    const held = [await openSocket(port), await openSocket(port), await openSocket(port)];
    // Each of the three is served (a request on it is answered): the server counted them.
    const upgrade = 'GET /v1 HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const switched = new Promise<string>((resolve) => held[0]!.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    held[0]!.write(upgrade);
    expect(statusOf(await switched)).toBe(101);
    const fourth = await openSocket(port);
    expect(await closedWith(fourth, 'the 4th socket to be closed')).toBe('');
    // A WebSocket counts like any connection; an HTTP socket that closes frees its place.
    expect(statusOf(await getOn(held[1]!, '/healthz'))).toBe(200);
    await eventuallyServed(port);
    expect(logs.withMessage('connection refused: per-address cap reached').length).toBeGreaterThanOrEqual(1);
    expect(logs.errors()).toEqual([]);
  }, SOCKET_WAIT_MS + 10_000);

  it('closes sockets beyond ROOMS_MAX_CONNECTIONS at once; a socket freed lets a new one in', async () => {
    const { port } = await startLoggedGateway({ ROOMS_MAX_CONNECTIONS: '3' });
    const held = [await openSocket(port), await openSocket(port), await openSocket(port)];
    expect(statusOf(await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n'))).toBe(0);
    expect(statusOf(await getOn(held[0]!, '/healthz'))).toBe(200);
    await eventuallyServed(port);
  }, SOCKET_WAIT_MS + 10_000);

  it('counts sockets per address in a Map that forgets an address at 0 (PerAddressConnectionCap on a real server)', async () => {
    const cap = new PerAddressConnectionCap(2, pino({ level: 'silent' }));
    const { server, port } = await startServer({});
    server.on('connection', cap.admit);
    const first = await openSocket(port);
    const second = await openSocket(port);
    await expect.poll(() => cap.countOf('127.0.0.1'), { timeout: SOCKET_WAIT_MS }).toBe(2);
    expect(cap.addresses).toBe(1);
    first.destroy();
    second.destroy();
    await expect.poll(() => cap.addresses, { timeout: SOCKET_WAIT_MS }).toBe(0);
    expect(cap.countOf('127.0.0.1')).toBe(0);
  });
});
