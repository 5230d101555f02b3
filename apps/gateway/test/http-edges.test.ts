import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeLoggedGateways, startLoggedGateway } from './support/captured-logs.js';
import { bodyOf, closedWith, destroySockets, exchange, getOn, openSocket, SOCKET_WAIT_MS, statusOf } from './support/raw-socket.js';

afterEach(async () => {
  destroySockets();
  await closeLoggedGateways();
});

const ADMIN = 'an-admin-token-of-at-least-32-bytes!';
const UPGRADE_HEADERS = 'Host: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const upgradeOf = (target: string): string => `GET ${target} HTTP/1.1\r\n${UPGRADE_HEADERS}`;
const plainGet = (target: string, headers = ''): string => `GET ${target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n${headers}\r\n`;
const BAD_REQUEST_BODY = { error: { code: 'BAD_REQUEST', message: 'malformed request target', temporary: false } };

/** Targets the WHATWG URL parser refuses, or with a malformed percent-encoding in the path. */
const MALFORMED_TARGETS = ['http://[x/v1', 'http://[x]/v1', 'http://a:b/v1', 'http://%zz/v1', '/v1/%zz', '/%zz', '/v1%E0%A4%A', '/healthz%'];

describe('HTTP edges: what a hostile client can send gets a 4xx and no error-level log', () => {
  it('answers an upgrade with a malformed target with a bare 400 (was 404/500 and a stack at error level)', async () => {
    const { port, logs } = await startLoggedGateway();
    for (const target of MALFORMED_TARGETS) {
      const raw = await exchange(port, upgradeOf(target));
      expect({ target, status: statusOf(raw) }).toEqual({ target, status: 400 });
    }
    expect(logs.errors()).toEqual([]);
    expect(logs.withMessage('upgrade refused: malformed target').length).toBe(MALFORMED_TARGETS.length);
  });

  it('answers a plain request with a malformed target with 400 and a BAD_REQUEST JSON body', async () => {
    const { port, logs } = await startLoggedGateway();
    for (const target of MALFORMED_TARGETS) {
      const raw = await exchange(port, plainGet(target));
      expect({ target, status: statusOf(raw), body: JSON.parse(bodyOf(raw)) as unknown }).toEqual({ target, status: 400, body: BAD_REQUEST_BODY });
    }
    expect(logs.errors()).toEqual([]);
  });

  it('answers what node\'s parser refuses (odd methods, bad request lines, huge headers, bare CR) with a bare 4xx, not a silent reset', async () => {
    const { port, logs } = await startLoggedGateway();
    const cases: Array<[string, string, number]> = [
      ['an unknown method', 'FOO / HTTP/1.1\r\nHost: test\r\n\r\n', 400],
      ['a target that is not a path', 'GET x HTTP/1.1\r\nHost: test\r\n\r\n', 400],
      ['a query without a path', 'GET ?a HTTP/1.1\r\nHost: test\r\n\r\n', 400],
      ['a space in the target', 'GET /a b/c HTTP/1.1\r\nHost: test\r\n\r\n', 400],
      ['headers over 16 KiB', plainGet('/healthz', `X-Big: ${'y'.repeat(20_000)}\r\n`), 431],
      ['a request line over 16 KiB', plainGet(`/${'a'.repeat(20_000)}`), 431],
      ['a bare CR in a header', 'GET /healthz HTTP/1.1\r\nHost: test\rX: y\r\n\r\n', 400],
      ['garbage', '\u0000\u0001\u0002 HTTP/1.1\r\n\r\n', 400],
    ];
    for (const [label, text, status] of cases) {
      const raw = await exchange(port, text);
      expect({ label, status: statusOf(raw) }).toEqual({ label, status });
    }
    expect(logs.errors()).toEqual([]);
  });

  it('answers absurd but well-formed requests with 404 or 405, never 500', async () => {
    const { port, logs } = await startLoggedGateway({ ROOMS_ADMIN_TOKEN: ADMIN });
    const auth = `Authorization: Bearer ${ADMIN}\r\n`;
    const cases: Array<[string, string, number]> = [
      ['PROPFIND', 'PROPFIND / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n', 404],
      ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n', 404],
      ['GET *', plainGet('*'), 404],
      ['an absolute target', plainGet('http://elsewhere.example/healthz'), 200],
      ['a doubled slash', plainGet('//healthz'), 404],
      ['a 12 KiB path of escapes', plainGet(`/v1/${'%41'.repeat(4000)}`), 404],
      ['an admin id of 12 KiB', plainGet(`/admin/groups/${'a'.repeat(12_000)}`, auth), 400],
      ['an admin id with NUL', plainGet('/admin/groups/%00', auth), 400],
      ['an admin id that is a bad escape', plainGet('/admin/groups/%E0%A4%A', auth), 400],
      ['an admin PATCH', `PATCH /admin/groups/x HTTP/1.1\r\nHost: test\r\nConnection: close\r\n${auth}\r\n`, 405],
      ['an upgrade of *', upgradeOf('*'), 404],
    ];
    for (const [label, text, status] of cases) {
      const raw = await exchange(port, text);
      expect({ label, status: statusOf(raw) }).toEqual({ label, status });
    }
    expect(logs.errors()).toEqual([]);
  });

  it('logs a client aborting an admin announce body at debug level only, and keeps serving (was INTERNAL at error level)', async () => {
    const { gateway, port, logs } = await startLoggedGateway({ ROOMS_ADMIN_TOKEN: ADMIN, ROOMS_STATIC_GROUPS: 'lobby' });
    // White-box: the HTTP server is private; the test only waits for it to take the request.
    const server = (gateway as unknown as { server: Server }).server;
    const received = new Promise<void>((resolve) => server.once('request', () => resolve()));
    const socket = await openSocket(port);
    const closed = closedWith(socket);
    socket.write(`POST /admin/groups/lobby/announce HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"text":"h`);
    // Once the gateway's handler is reading the body (it started in the same 'request' event), the client goes away.
    await received;
    socket.destroy();
    await closed;
    await expect.poll(() => logs.withMessage('http request aborted by the client').length, { timeout: SOCKET_WAIT_MS }).toBe(1);
    expect(logs.errors()).toEqual([]);
    const healthy = await getOn(await openSocket(port), '/healthz');
    expect(statusOf(healthy)).toBe(200);
  }, SOCKET_WAIT_MS + 10_000);
});
